package io.shardlink.logging;

import io.shardlink.json.JsonWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A {@link java.util.logging} formatter writing one JSON object per line, for log pipelines (Loki,
 * Elasticsearch...):
 * <pre>{"time":"2026-01-02T03:04:05.678Z","level":"WARN","logger":"io.shardlink.api.PeerSession",
 * "message":"...","node":"a","peer":"b","event":"peer.state","from":"CONNECTED","to":"FAILED","cause":"..."}</pre>
 * {@code time} (UTC, ISO-8601), {@code level} (ERROR, WARN, INFO, DEBUG, TRACE), {@code logger},
 * {@code message}, {@code node} and {@code peer} (null when the event has none) are always there; the event's
 * own fields ({@link LogFields}: event, bytes, transport, cause, ...) follow; {@code exception} holds a
 * thrown exception's stack trace. shardlink logs through {@link System.Logger}, which goes to
 * java.util.logging unless the application installs another backend, so a library user gets these lines with
 * {@code java.util.logging.ConsoleHandler.formatter = io.shardlink.logging.JsonLogFormatter} in the
 * logging.properties named by {@code -Djava.util.logging.config.file}, or with {@link #install(String)}.
 */
public class JsonLogFormatter extends Formatter {
    private volatile String defaultNode;

    public JsonLogFormatter() {
        this(LogManager.getLogManager().getProperty(JsonLogFormatter.class.getName() + ".node"));
    }

    /** {@code defaultNode}: the node named by events that name none (the process's own node), or null. */
    public JsonLogFormatter(String defaultNode) {
        this.defaultNode = defaultNode;
    }

    public void setDefaultNode(String node) {
        this.defaultNode = node;
    }

    /**
     * Makes every handler of the root logger write JSON lines (adding a console handler on stderr if there is
     * none) and returns the formatter. {@code defaultNode} may be null.
     */
    public static JsonLogFormatter install(String defaultNode) {
        JsonLogFormatter f = new JsonLogFormatter(defaultNode);
        Logger root = Logger.getLogger("");
        Handler[] hs = root.getHandlers();
        if (hs.length == 0) {
            ConsoleHandler h = new ConsoleHandler();
            h.setLevel(Level.ALL);
            root.addHandler(h);
            hs = root.getHandlers();
        }
        for (Handler h : hs) {
            h.setFormatter(f);
        }
        return f;
    }

    @Override
    public String format(LogRecord r) {
        LogFields f = LogFields.in(r.getParameters());
        String thrown = null;
        if (r.getThrown() != null) {
            StringWriter sw = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(sw));
            thrown = sw.toString();
        }
        return line(r.getInstant(), levelName(r.getLevel()), r.getLoggerName(), formatMessage(r),
                f == null ? Map.of() : f.asMap(), defaultNode, thrown) + System.lineSeparator();
    }

    /** One JSON log line (without its newline): shared with the CLI's event lines so both look alike. */
    public static String line(Instant time, String level, String logger, String message, Map<String, Object> fields,
                              String defaultNode, String exception) {
        JsonWriter w = new JsonWriter();
        w.beginObject()
                .field("time", DateTimeFormatter.ISO_INSTANT.format(time.truncatedTo(java.time.temporal.ChronoUnit.MILLIS)))
                .field("level", level)
                .field("logger", logger)
                .field("message", message);
        Object node = fields.get("node");
        w.field("node", node != null ? String.valueOf(node) : defaultNode);
        Object peer = fields.get("peer");
        w.field("peer", peer == null ? null : String.valueOf(peer));
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            String k = e.getKey();
            if (k.equals("node") || k.equals("peer") || k.equals("time") || k.equals("level") || k.equals("logger")
                    || k.equals("message")) {
                continue;
            }
            w.name(k);
            Object v = e.getValue();
            if (v == null) {
                w.nullValue();
            } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
                w.value(((Number) v).longValue());
            } else if (v instanceof Number n) {
                w.value(n.doubleValue());
            } else if (v instanceof Boolean b) {
                w.value(b.booleanValue());
            } else {
                w.value(String.valueOf(v));
            }
        }
        if (exception != null) {
            w.field("exception", exception);
        }
        return w.endObject().toString();
    }

    /** JUL levels as log pipelines name them. */
    public static String levelName(Level l) {
        int v = l.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        } else if (v >= Level.WARNING.intValue()) {
            return "WARN";
        } else if (v >= Level.INFO.intValue()) {
            return "INFO";
        } else if (v >= Level.FINE.intValue()) {
            return "DEBUG";
        }
        return "TRACE";
    }
}
