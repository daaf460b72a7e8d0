package io.shardlink.cli;

import io.shardlink.logging.JsonLogFormatter;
import io.shardlink.logging.LogFields;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Level;

/**
 * {@code --log-format}: how the CLI writes its log lines. In {@code json}, every line on stderr (log records
 * of shardlink and Netty, progress, warnings, the error that ends a command) and serve's event lines on
 * stdout are one JSON object each ({@link JsonLogFormatter}); in {@code text} (the default) they are the
 * usual words. Command results on stdout (copy's summary, probe's report, bench's table) are not logs and
 * stay as they are.
 */
final class CliLog {
    enum Format { TEXT, JSON }

    private static volatile Format format = Format.TEXT;
    private static volatile String node;
    private static volatile JsonLogFormatter formatter;

    private CliLog() {}

    /** Called by the option and by Main before each run (each in-process run starts as text). */
    static void format(Format f) {
        if (f == format && (f == Format.TEXT || formatter != null)) {
            return;
        }
        format = f;
        if (f == Format.JSON) {
            formatter = JsonLogFormatter.install(null);
        } else if (formatter != null) {
            formatter = null;
            Main.textLogging();
        }
    }

    static boolean json() {
        return format == Format.JSON;
    }

    /** Before each in-process run: the format the arguments ask for, no node yet. */
    static void reset(String... args) {
        node = null;
        format(scan(args));
    }

    /** The node this process runs: named by log lines that name no node. */
    static void node(String id) {
        node = id;
        JsonLogFormatter f = formatter;
        if (f != null) {
            f.setDefaultNode(id);
        }
    }

    /**
     * Writes one log line to {@code w}: {@code text} as it is in text mode, or, in JSON mode, a JSON object with
     * {@code message} and {@code fields} (which may be null).
     */
    static void line(PrintWriter w, Level level, String logger, String text, String message, LogFields fields) {
        synchronized (w) {
            if (json()) {
                w.println(JsonLogFormatter.line(Instant.now(), JsonLogFormatter.levelName(level), logger, message,
                        fields == null ? Map.of() : fields.asMap(), node, null));
            } else {
                w.println(text);
            }
            w.flush();
        }
    }

    /** --verbose's stack trace: as it is in text mode, as one JSON line (its "exception" member) in JSON mode. */
    static void stackTrace(PrintWriter w, Throwable t) {
        synchronized (w) {
            if (json()) {
                java.io.StringWriter sw = new java.io.StringWriter();
                t.printStackTrace(new PrintWriter(sw));
                w.println(JsonLogFormatter.line(Instant.now(), "ERROR", "io.shardlink.cli", String.valueOf(t),
                        Map.of("event", "stack_trace"), node, sw.toString()));
            } else {
                t.printStackTrace(w);
            }
            w.flush();
        }
    }

    /** Scans raw arguments for {@code --log-format json} (so a usage error is reported in the asked format). */
    static Format scan(String... args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--log-format") && i + 1 < args.length) {
                return parse(args[i + 1]);
            }
            if (a.startsWith("--log-format=")) {
                return parse(a.substring("--log-format=".length()));
            }
        }
        return Format.TEXT;
    }

    private static Format parse(String v) {
        return v.equalsIgnoreCase("json") ? Format.JSON : Format.TEXT;
    }
}
