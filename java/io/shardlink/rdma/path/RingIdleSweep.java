package io.shardlink.rdma.path;

import java.time.Duration;

/**
 * When a poller looks for idle receive rings, and which rings are idle, on a clock the caller passes
 * (System.nanoTime in the poller, a driven clock in tests). A sweep is due every quarter of the timeout (at
 * least 10 ms, at most 1 s apart), so a ring is revoked between {@code timeout} and {@code timeout + period}
 * (plus the poller's wake-up interval) after its last activity.
 */
final class RingIdleSweep {
    static final long MIN_PERIOD_NANOS = 10_000_000L;
    static final long MAX_PERIOD_NANOS = 1_000_000_000L;

    private final long timeoutNanos;
    private final long periodNanos;
    private long next;

    RingIdleSweep(Duration timeout, long now) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("ring idle timeout must be positive, got " + timeout);
        }
        this.timeoutNanos = timeout.toNanos();
        this.periodNanos = Math.max(MIN_PERIOD_NANOS, Math.min(timeoutNanos / 4, MAX_PERIOD_NANOS));
        this.next = now + periodNanos;
    }

    /** Whether a sweep is due at {@code now}; if so, the next one is due a period later. */
    boolean due(long now) {
        if (now - next < 0) {
            return false;
        }
        next = now + periodNanos;
        return true;
    }

    /** Whether a ring last active at {@code lastActivity} is idle past the timeout at {@code now}. */
    boolean idle(long lastActivity, long now) {
        return now - lastActivity > timeoutNanos;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    long periodNanos() {
        return periodNanos;
    }
}
