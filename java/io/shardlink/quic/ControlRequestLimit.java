package io.shardlink.quic;

import java.util.concurrent.TimeUnit;

/**
 * The per-peer bound on control requests (maxControlRequestsPerSecondPerPeer): a token bucket that holds at most
 * {@code perSecond} tokens and refills at {@code perSecond} a second, so a peer may send a burst of that many and
 * then that many a second. Confined to the connection's event loop (no locking); allocates nothing.
 */
final class ControlRequestLimit {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final int perSecond;
    /** Nanoseconds of refill per token. */
    private final long nanosPerToken;
    /** The time at which the bucket would be full again; tokens = (now - (full - capacity time)) / nanosPerToken. */
    private long emptyAt;
    private long refusedSinceLog;
    private long lastLog;

    ControlRequestLimit(int perSecond, long now) {
        if (perSecond < 1) {
            throw new IllegalArgumentException("perSecond must be at least 1, got " + perSecond);
        }
        this.perSecond = perSecond;
        this.nanosPerToken = Math.max(1, SECOND / perSecond);
        this.emptyAt = now - (long) perSecond * nanosPerToken; // full
        this.lastLog = now - SECOND;
    }

    int perSecond() {
        return perSecond;
    }

    /** Takes one token at {@code now} (System.nanoTime()); false if the bucket is empty (the request is refused). */
    boolean tryAcquire(long now) {
        long floor = now - (long) perSecond * nanosPerToken; // never more than a full bucket
        long at = Math.max(emptyAt, floor);
        if (now - at < nanosPerToken) {
            refusedSinceLog++;
            return false;
        }
        emptyAt = at + nanosPerToken;
        return true;
    }

    /** Refusals since the last call that returned non-zero, at most one non-zero answer a second (for the log). */
    long refusedToLog(long now) {
        if (refusedSinceLog == 0 || now - lastLog < SECOND) {
            return 0;
        }
        long n = refusedSinceLog;
        refusedSinceLog = 0;
        lastLog = now;
        return n;
    }
}
