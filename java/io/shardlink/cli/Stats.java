package io.shardlink.cli;

import java.util.Arrays;

/** Exact percentiles (nearest rank) of recorded durations. */
final class Stats {
    private long[] values;
    private int n;

    Stats(int expected) {
        values = new long[Math.max(1, expected)];
    }

    void add(long nanos) {
        if (n == values.length) {
            values = Arrays.copyOf(values, n * 2);
        }
        values[n++] = nanos;
    }

    int count() {
        return n;
    }

    long sum() {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += values[i];
        }
        return s;
    }

    /** Nearest-rank percentile, q in (0, 1]; 0 when empty. */
    long percentile(double q) {
        if (n == 0) {
            return 0;
        }
        long[] sorted = Arrays.copyOf(values, n);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * n);
        return sorted[Math.min(n, Math.max(1, rank)) - 1];
    }
}
