package io.shardlink.cli;

import picocli.CommandLine.Option;

/** Options every command has. */
public final class CommonOptions {
    @Option(names = {"-v", "--verbose"}, description = "Log more and print stack traces with errors.")
    void verbose(boolean v) {
        Main.setVerbose(v);
    }
}
