package io.shardlink.status;

import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.LatencyHistogram;
import io.shardlink.metrics.MetricsSnapshot;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The last minutes of a node's throughput (per transport and direction) and blob read latency (p50/p99, of
 * the reads it made and of those it served), one
 * sample per interval, computed from the differences between successive {@link MetricsSnapshot}s: the
 * counters are cumulative, so a page loaded at any time gets the whole window at once. Latencies come from
 * the log2 histogram, so p50/p99 are bucket upper bounds (within a factor of 2).
 */
public final class StatusHistory implements AutoCloseable {
    static final int SERIES = Transport.values().length * Direction.values().length;

    private final Supplier<MetricsSnapshot> metrics;
    private final long intervalMillis;
    private final int capacity;
    private final ScheduledExecutorService timer;
    // guarded by this: a ring of samples
    private final long[] time;
    private final double[][] rates;
    // [made, served][k]: p50 and p99 in microseconds, and reads counted in the interval
    private final double[][] p50;
    private final double[][] p99;
    private final long[][] reads;
    private int head;
    private int size;
    private MetricsSnapshot last;
    private long lastNanos;

    /** Starts sampling {@code metrics} every {@code intervalMillis}, keeping {@code capacity} samples. */
    public static StatusHistory start(Supplier<MetricsSnapshot> metrics, long intervalMillis, int capacity) {
        StatusHistory h = new StatusHistory(metrics, intervalMillis, capacity, true);
        h.sample();
        h.timer.scheduleAtFixedRate(h::sampleQuietly, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        return h;
    }

    /** Without a timer: the caller calls {@link #sample()} (tests). */
    static StatusHistory manual(Supplier<MetricsSnapshot> metrics, long intervalMillis, int capacity) {
        return new StatusHistory(metrics, intervalMillis, capacity, false);
    }

    private StatusHistory(Supplier<MetricsSnapshot> metrics, long intervalMillis, int capacity, boolean timed) {
        this.metrics = metrics;
        this.intervalMillis = intervalMillis;
        this.capacity = capacity;
        this.time = new long[capacity];
        this.rates = new double[SERIES][capacity];
        this.p50 = new double[2][capacity];
        this.p99 = new double[2][capacity];
        this.reads = new long[2][capacity];
        this.timer = timed ? Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shardlink-status-sampler");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    public long intervalMillis() {
        return intervalMillis;
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            // a failed sample leaves a gap; the next one measures from the last good snapshot
            System.getLogger(StatusHistory.class.getName()).log(System.Logger.Level.DEBUG, "status sample failed", e);
        }
    }

    /** Takes one sample: the rates since the previous one (the first call only sets the baseline). */
    synchronized void sample() {
        MetricsSnapshot now = metrics.get();
        long nanos = System.nanoTime();
        MetricsSnapshot prev = last;
        last = now;
        long dtNanos = nanos - lastNanos;
        lastNanos = nanos;
        if (prev == null || dtNanos <= 0) {
            return;
        }
        int i = (head + size) % capacity;
        if (size == capacity) {
            head = (head + 1) % capacity;
        } else {
            size++;
        }
        time[i] = System.currentTimeMillis();
        int s = 0;
        for (Transport t : Transport.values()) {
            for (Direction d : Direction.values()) {
                rates[s++][i] = (now.bytes(t, d) - prev.bytes(t, d)) * 1e9 / dtNanos;
            }
        }
        latency(i, 0, now.readLatency(), prev.readLatency());
        latency(i, 1, now.servedReadLatency(), prev.servedReadLatency());
    }

    private void latency(int i, int which, LatencyHistogram.Snapshot now, LatencyHistogram.Snapshot prev) {
        long[] a = now.buckets();
        long[] b = prev.buckets();
        long n = 0;
        for (int k = 0; k < a.length; k++) {
            a[k] -= b[k];
            n += a[k];
        }
        reads[which][i] = n;
        p50[which][i] = n == 0 ? Double.NaN : quantileUpperBoundNanos(a, n, 0.50) / 1e3;
        p99[which][i] = n == 0 ? Double.NaN : quantileUpperBoundNanos(a, n, 0.99) / 1e3;
    }

    /** Upper bound (ns) of the log2 bucket holding quantile q of the counts in {@code buckets}. */
    static long quantileUpperBoundNanos(long[] buckets, long count, double q) {
        long rank = Math.max(1, (long) Math.ceil(q * count));
        long seen = 0;
        for (int k = 0; k < buckets.length; k++) {
            seen += buckets[k];
            if (seen >= rank) {
                return k >= 62 ? Long.MAX_VALUE : 1L << (k + 1);
            }
        }
        return Long.MAX_VALUE;
    }

    /** The samples, oldest first, as fresh arrays. */
    public synchronized Samples samples() {
        long[] t = new long[size];
        double[][] r = new double[SERIES][size];
        double[][] q50 = new double[2][size];
        double[][] q99 = new double[2][size];
        long[][] n = new long[2][size];
        for (int k = 0; k < size; k++) {
            int i = (head + k) % capacity;
            t[k] = time[i];
            for (int s = 0; s < SERIES; s++) {
                r[s][k] = rates[s][i];
            }
            for (int w = 0; w < 2; w++) {
                q50[w][k] = p50[w][i];
                q99[w][k] = p99[w][i];
                n[w][k] = reads[w][i];
            }
        }
        return new Samples(t, r, q50[0], q99[0], n[0], q50[1], q99[1], n[1]);
    }

    /**
     * Samples oldest first: {@code timeMillis[k]} (epoch ms at the end of interval k);
     * {@code bytesPerSecond[series(t, d)][k]}; latency p50/p99 in microseconds (NaN: none in that interval)
     * and counts of the blob reads this node made ({@code read*}) and served ({@code served*}).
     */
    public record Samples(long[] timeMillis, double[][] bytesPerSecond, double[] readP50Micros,
                          double[] readP99Micros, long[] reads, double[] servedP50Micros, double[] servedP99Micros,
                          long[] served) {
        public static int series(Transport t, Direction d) {
            return t.ordinal() * Direction.values().length + d.ordinal();
        }

        public int size() {
            return timeMillis.length;
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            try {
                timer.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
