package io.shardlink.cli;

import picocli.CommandLine.Option;

/** Options every command has. */
public final class CommonOptions {
    @Option(names = {"-v", "--verbose"}, description = "Log more and print stack traces with errors.")
    void verbose(boolean v) {
        Main.setVerbose(v);
    }

    @Option(names = "--log-format", paramLabel = "text|json",
            description = "Log lines as text (default) or as one JSON object per line (time, level, logger, message, "
                    + "node, peer and the event's fields), on stderr and for serve also on stdout.")
    void logFormat(String f) {
        switch (f.toLowerCase(java.util.Locale.ROOT)) {
            case "text" -> CliLog.format(CliLog.Format.TEXT);
            case "json" -> CliLog.format(CliLog.Format.JSON);
            default -> throw new picocli.CommandLine.TypeConversionException("'" + f + "' is not a log format (text or json)");
        }
    }
}
