package io.shardlink.cli;

import java.util.concurrent.locks.LockSupport;

/**
 * serve's {@code --ingest-limit}: a cap on the bytes per second all incoming copies together write to the
 * store, so a rebalancing burst leaves disk bandwidth to blob reads. A chunk waits in its sink until its
 * turn; the sender then sees ACKs (and its window) at that rate, so nothing piles up in memory.
 */
final class IngestLimit {
    private final double nanosPerByte;
    private long next; // guarded by this: when the next byte may be written (System.nanoTime)

    IngestLimit(long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("ingest limit must be > 0 bytes/s, not " + bytesPerSecond);
        }
        this.nanosPerByte = 1e9 / bytesPerSecond;
    }

    /** Blocks until {@code n} more bytes fit in the rate. */
    void acquire(long n) throws java.io.InterruptedIOException {
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            if (next < now) {
                next = now;
            }
            wait = next - now;
            next += (long) (n * nanosPerByte);
        }
        long until = System.nanoTime() + wait;
        while (wait > 0) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new java.io.InterruptedIOException("interrupted while waiting for the ingest limit");
            }
            wait = until - System.nanoTime();
        }
    }
}
