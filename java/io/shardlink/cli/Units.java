package io.shardlink.cli;

import java.net.InetSocketAddress;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parsing and printing of sizes, addresses and rates. */
final class Units {
    private Units() {}

    /** "256m", "16MiB", "4k", "1g", "1048576": binary multiples. */
    static long parseSize(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT).replace("_", "");
        if (t.endsWith("ib")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        long mul = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> mul = 1L << 10;
                case 'm' -> mul = 1L << 20;
                case 'g' -> mul = 1L << 30;
                case 't' -> mul = 1L << 40;
                default -> mul = 1;
            }
        }
        if (mul != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, mul);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new TypeConversionException("'" + s + "' is not a size (examples: 4096, 4k, 16m, 1g)");
        }
    }

    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return parseSize(value);
        }
    }

    static final class IntSizeConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            long v = parseSize(value);
            if (v > Integer.MAX_VALUE) {
                throw new TypeConversionException("'" + value + "' is too large (at most 2 GiB - 1)");
            }
            return (int) v;
        }
    }

    /**
     * "host:port", "[v6]:port" or ":port" / "port" (127.0.0.1). A link-local IPv6 address needs its scope, the
     * interface it is on: "[fe80::1%eth1]:7400" (or a numeric scope, "%2").
     */
    static InetSocketAddress parseAddress(String s) {
        String host;
        String port;
        if (s.startsWith("[")) {
            int e = s.indexOf("]:");
            if (e < 0) {
                throw new TypeConversionException("'" + s + "' is not an address (use [v6-address]:port)");
            }
            host = s.substring(1, e);
            port = s.substring(e + 2);
        } else {
            int c = s.lastIndexOf(':');
            host = c <= 0 ? "127.0.0.1" : s.substring(0, c);
            port = c < 0 ? s : s.substring(c + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is not an address (use host:port, e.g. 127.0.0.1:7400)");
        }
        if (p < 0 || p > 65535) {
            throw new TypeConversionException("port " + p + " of '" + s + "' is out of range 0..65535");
        }
        InetSocketAddress a = new InetSocketAddress(host, p);
        if (a.isUnresolved()) {
            int pct = host.indexOf('%');
            if (pct > 0 && host.indexOf(':') >= 0) {
                // Java resolves a named scope only through an interface that has a link-local address
                throw new TypeConversionException("cannot use '" + host + "': no interface '" + host.substring(pct + 1)
                        + "' with an IPv6 link-local address here");
            }
            throw new TypeConversionException("cannot resolve host '" + host + "'");
        }
        return a;
    }

    static final class AddressConverter implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            return parseAddress(value);
        }
    }

    static String hostPort(InetSocketAddress a) {
        String h = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /** 268435456 -> "256.0 MiB". */
    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        }
        if (n >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        return n + " B";
    }

    /** MB/s (10^6 bytes per second). */
    static double mbPerSecond(long bytes, long nanos) {
        return nanos <= 0 ? 0 : bytes / 1e6 / (nanos / 1e9);
    }

    static String micros(long nanos) {
        double us = nanos / 1e3;
        return us >= 10_000 ? String.format(Locale.ROOT, "%.1f ms", us / 1e3)
                : String.format(Locale.ROOT, "%.0f us", us);
    }
}
