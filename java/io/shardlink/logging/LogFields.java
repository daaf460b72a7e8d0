package io.shardlink.logging;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The structured fields of one log event (node, peer, event, bytes, transport, cause, ...), passed as a
 * parameter of a log call so that {@link JsonLogFormatter} writes them as JSON members:
 * <pre>{@code
 * LOG.log(Level.WARNING, "RDMA path to " + peer + " failed; data moves over QUIC",
 *         LogFields.of("node", node, "peer", peer).with("event", "peer.state").with("cause", cause));
 * }</pre>
 * Text formatters ignore it (the message says the same in words; it must not contain {@code {0}}).
 * Values: strings, numbers, booleans, enums (written by name), throwables (their message), or null.
 */
public final class LogFields {
    private final Map<String, Object> fields;

    private LogFields(Map<String, Object> fields) {
        this.fields = fields;
    }

    /** The node and the peer an event concerns (either may be null). */
    public static LogFields of(String node, String peer) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("node", node);
        m.put("peer", peer);
        return new LogFields(m);
    }

    /** A copy with one more field (replacing one of the same name). */
    public LogFields with(String name, Object value) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>(fields);
        m.put(name, value instanceof Throwable t ? describe(t) : value instanceof Enum<?> e ? e.name() : value);
        return new LogFields(m);
    }

    public Map<String, Object> asMap() {
        return Collections.unmodifiableMap(fields);
    }

    /** The first LogFields among a log record's parameters, or null. */
    public static LogFields in(Object[] params) {
        if (params != null) {
            for (Object p : params) {
                if (p instanceof LogFields f) {
                    return f;
                }
            }
        }
        return null;
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }

    @Override
    public String toString() {
        return fields.toString();
    }
}
