package io.shardlink.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * Latency histogram with fixed log2 buckets: bucket {@code i} counts values in [2^i, 2^(i+1)) nanoseconds
 * (bucket 0 also takes 0). {@link #record(long)} allocates nothing.
 */
public final class LatencyHistogram {
    public static final int BUCKETS = 64;
    private final LongAdder[] counts = new LongAdder[BUCKETS];
    private final LongAdder sum = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = new LongAdder();
        }
    }

    public static int bucketOf(long nanos) {
        return nanos <= 1 ? 0 : 63 - Long.numberOfLeadingZeros(nanos);
    }

    public void record(long nanos) {
        long v = Math.max(0, nanos);
        counts[bucketOf(v)].increment();
        sum.add(v);
    }

    public Snapshot snapshot() {
        long[] c = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            c[i] = counts[i].sum();
        }
        return new Snapshot(c, sum.sum());
    }

    /** Immutable view of a histogram. */
    public static final class Snapshot {
        private final long[] counts;
        private final long count;
        private final long sumNanos;

        Snapshot(long[] counts, long sumNanos) {
            this.counts = counts;
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            this.count = n;
            this.sumNanos = sumNanos;
        }

        public long count() {
            return count;
        }

        public long bucket(int i) {
            return counts[i];
        }

        public long[] buckets() {
            return counts.clone();
        }

        public double meanNanos() {
            return count == 0 ? 0 : (double) sumNanos / count;
        }

        /** Upper bound (exclusive, nanos) of the bucket holding quantile q (0..1); 0 when empty. */
        public long quantileUpperBoundNanos(double q) {
            if (count == 0) {
                return 0;
            }
            long rank = (long) Math.ceil(q * count);
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += counts[i];
                if (seen >= Math.max(1, rank)) {
                    return i >= 62 ? Long.MAX_VALUE : 1L << (i + 1);
                }
            }
            return Long.MAX_VALUE;
        }

        @Override
        public String toString() {
            return "n=" + count + String.format(", mean=%.1fus, p50<%dus, p99<%dus", meanNanos() / 1e3,
                    quantileUpperBoundNanos(0.5) / 1000, quantileUpperBoundNanos(0.99) / 1000);
        }
    }
}
