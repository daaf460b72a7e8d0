package io.shardlink.json;

import java.util.Locale;

/**
 * A minimal streaming JSON writer (RFC 8259) for the few documents shardlink emits (the status page's
 * {@code /status.json}, JSON log lines): no dependency, no reflection, commas placed automatically.
 * Non-finite doubles are written as {@code null}.
 */
public final class JsonWriter {
    private final StringBuilder sb;
    // one bit per open container: whether something was written in it already (depth up to 64)
    private long needComma;
    private int depth;
    private boolean afterName;

    public JsonWriter() {
        this(new StringBuilder(256));
    }

    public JsonWriter(StringBuilder sb) {
        this.sb = sb;
    }

    public JsonWriter beginObject() {
        open('{');
        return this;
    }

    public JsonWriter endObject() {
        return close('}');
    }

    public JsonWriter beginArray() {
        open('[');
        return this;
    }

    public JsonWriter endArray() {
        return close(']');
    }

    /** The next member's name (inside an object). */
    public JsonWriter name(String name) {
        separate();
        quote(sb, name);
        sb.append(':');
        afterName = true;
        return this;
    }

    public JsonWriter value(String v) {
        separate();
        if (v == null) {
            sb.append("null");
        } else {
            quote(sb, v);
        }
        return this;
    }

    public JsonWriter value(long v) {
        separate();
        sb.append(v);
        return this;
    }

    public JsonWriter value(double v) {
        separate();
        if (Double.isFinite(v)) {
            sb.append(Double.toString(v)); // JSON number syntax (1.5, 1.0E-5)
        } else {
            sb.append("null");
        }
        return this;
    }

    public JsonWriter value(boolean v) {
        separate();
        sb.append(v);
        return this;
    }

    public JsonWriter nullValue() {
        separate();
        sb.append("null");
        return this;
    }

    /** name + value shorthands. */
    public JsonWriter field(String name, String v) {
        return name(name).value(v);
    }

    public JsonWriter field(String name, long v) {
        return name(name).value(v);
    }

    public JsonWriter field(String name, double v) {
        return name(name).value(v);
    }

    public JsonWriter field(String name, boolean v) {
        return name(name).value(v);
    }

    @Override
    public String toString() {
        return sb.toString();
    }

    private void open(char c) {
        separate();
        if (depth >= 63) {
            throw new IllegalStateException("JSON nested too deeply");
        }
        sb.append(c);
        depth++;
        needComma &= ~(1L << depth);
    }

    private JsonWriter close(char c) {
        if (depth == 0) {
            throw new IllegalStateException("nothing open to close with " + c);
        }
        depth--;
        sb.append(c);
        needComma |= 1L << depth;
        return this;
    }

    private void separate() {
        if (afterName) {
            afterName = false;
            return;
        }
        if ((needComma & (1L << depth)) != 0) {
            sb.append(',');
        }
        needComma |= 1L << depth;
    }

    /** Appends {@code s} as a JSON string literal (quotes, backslashes and control characters escaped). */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
