package io.shardlink.transfer;

import java.util.concurrent.TimeUnit;

/**
 * Guards an I/O thread (a QUIC connection's event loop, an RDMA completion poller) that serves reads of a
 * {@code BlobSource} declared non-blocking in place: a source that blocks anyway stalls everything that thread serves,
 * so two in-place reads in a row slower than the threshold send later reads to the reader threads for
 * {@link #BACKOFF_NANOS}, then they try in place again. Two in a row, not one: a fast read is now and then preempted.
 * Recorded from the one serving thread; {@link #allowsInPlace} may be read from any.
 */
public final class SlowSourceGuard {
    /** How long reads stay off the I/O thread after two slow ones in a row. */
    public static final long BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final long slowNanos;
    private int slowInARow;
    /** In-place reads resume at this System.nanoTime() (0: never backed off). */
    private volatile long offUntil;

    /** {@code slowNanos}: an in-place read slower than this counts as slow. */
    public SlowSourceGuard(long slowNanos) {
        this.slowNanos = slowNanos;
    }

    /** Whether a read arriving at {@code now} (System.nanoTime()) may be served in place. */
    public boolean allowsInPlace(long now) {
        long until = offUntil;
        return until == 0 || now - until >= 0;
    }

    /**
     * Records one read served in place that took {@code tookNanos}, ending at {@code now}; true when it was the
     * second slow one in a row and later reads go off the I/O thread for {@link #BACKOFF_NANOS}.
     */
    public boolean record(long tookNanos, long now) {
        slowInARow = tookNanos > slowNanos ? slowInARow + 1 : 0;
        if (slowInARow < 2) {
            return false;
        }
        slowInARow = 0;
        long until = now + BACKOFF_NANOS;
        offUntil = until == 0 ? 1 : until;
        return true;
    }
}
