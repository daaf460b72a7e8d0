package io.shardlink.cli;

import java.io.PrintWriter;
import java.util.List;
import io.shardlink.cli.bench.CpuMeter;
import java.util.Locale;

/** One benchmark case: printed as one JSON object per line (--json) or a table row. */
record BenchResult(String transport, String op, long size, long count, long bytes, double seconds, double mbPerS,
                   double p50Us, double p99Us, double p999Us, int depth, CpuMeter.Usage cpu) {

    static BenchResult of(String transport, String op, long size, Stats s, long wallNanos) {
        return of(transport, op, size, s, wallNanos, 1);
    }

    /** {@code depth}: operations kept in flight (reads/s = count / seconds). */
    static BenchResult of(String transport, String op, long size, Stats s, long wallNanos, int depth) {
        long bytes = size * s.count();
        return new BenchResult(transport, op, size, s.count(), bytes, wallNanos / 1e9,
                Units.mbPerSecond(bytes, wallNanos), s.percentile(0.50) / 1e3, s.percentile(0.99) / 1e3,
                s.percentile(0.999) / 1e3, depth, null);
    }

    /** With the CPU and allocation per operation of the measured window (bench --cpu; extra JSON fields). */
    BenchResult withCpu(CpuMeter.Usage usage) {
        return new BenchResult(transport, op, size, count, bytes, seconds, mbPerS, p50Us, p99Us, p999Us, depth, usage);
    }

    double opsPerS() {
        return seconds <= 0 ? 0 : count / seconds;
    }

    String json() {
        return String.format(Locale.ROOT, "{\"transport\":\"%s\",\"op\":\"%s\",\"size\":%d,\"count\":%d,\"bytes\":%d,"
                        + "\"seconds\":%.6f,\"mb_per_s\":%.2f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
                        + "\"depth\":%d,\"ops_per_s\":%.1f%s}",
                transport, op, size, count, bytes, seconds, mbPerS, p50Us, p99Us, p999Us, depth, opsPerS(),
                cpu == null ? "" : cpu.jsonFields());
    }

    static void header(PrintWriter out) {
        out.println(String.format(Locale.ROOT, "%-9s %-5s %10s %7s %11s %9s %9s %10s %10s %10s %5s %9s", "transport",
                "op", "size", "count", "bytes", "seconds", "MB/s", "p50 us", "p99 us", "p999 us", "depth", "ops/s"));
    }

    void row(PrintWriter out) {
        out.println(String.format(Locale.ROOT, "%-9s %-5s %10s %7d %11s %9.3f %9.1f %10.1f %10.1f %10.1f %5d %9.0f",
                transport, op, Units.bytes(size), count, Units.bytes(bytes), seconds, mbPerS, p50Us, p99Us, p999Us,
                depth, opsPerS()));
        if (cpu != null) {
            out.println(String.format(Locale.ROOT, "  per op: process CPU %.1f us, Java threads' CPU %.1f us, %.0f heap "
                    + "bytes allocated; JIT %d ms in the window", cpu.processCpuUs(), cpu.threadCpuUs(), cpu.allocBytes(),
                    cpu.jitMillis()));
        }
    }

    static void print(PrintWriter out, List<BenchResult> results, boolean json) {
        if (!json) {
            header(out);
        }
        for (BenchResult r : results) {
            if (json) {
                out.println(r.json());
            } else {
                r.row(out);
            }
        }
        out.flush();
    }
}
