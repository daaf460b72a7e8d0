package io.shardlink.state;

import java.time.Duration;
import java.util.Objects;

/**
 * When to try the RDMA bring-up again after the path to a peer failed: capped exponential backoff that does not
 * thrash on a flapping link. Each failure (of the path, or of a retry) waits twice as long as the one before, up
 * to {@code max}; a path that stayed CONNECTED for at least {@code stablePeriod} before it failed starts again from
 * {@code initial}, while one that fails soon after coming up keeps growing the wait. Times are
 * {@link System#nanoTime()} values passed in, so tests drive the clock. Not thread-safe: one peer's event loop
 * owns it.
 */
public final class RetryBackoff {
    /** The knobs: first wait, cap, and how long a path must stay up for the backoff to reset. */
    public record Policy(Duration initial, Duration max, Duration stablePeriod) {
        public Policy {
            Objects.requireNonNull(initial, "initial");
            Objects.requireNonNull(max, "max");
            Objects.requireNonNull(stablePeriod, "stablePeriod");
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0 || stablePeriod.isNegative()) {
                throw new IllegalArgumentException("RDMA retry backoff needs 0 < initial <= max and stablePeriod >= 0, "
                        + "got initial " + initial + ", max " + max + ", stablePeriod " + stablePeriod);
            }
        }
    }

    private final long initialNanos;
    private final long maxNanos;
    private final long stableNanos;
    private long nextNanos;
    private int failuresInARow;
    private long connectedAt;
    private boolean connected;

    public RetryBackoff(Policy policy) {
        this.initialNanos = policy.initial().toNanos();
        this.maxNanos = policy.max().toNanos();
        this.stableNanos = policy.stablePeriod().toNanos();
        this.nextNanos = initialNanos;
    }

    /** The path (or an attempt to bring it up) failed at {@code now}: returns how long to wait before the next try. */
    public long onFailure(long now) {
        if (connected && now - connectedAt >= stableNanos) {
            // it was up long enough: this is a new incident, not the same flapping one
            nextNanos = initialNanos;
            failuresInARow = 0;
        }
        connected = false;
        long wait = nextNanos;
        nextNanos = nextNanos > maxNanos / 2 ? maxNanos : Math.min(maxNanos, nextNanos * 2);
        failuresInARow++;
        return wait;
    }

    /** The path came up at {@code now}. */
    public void onConnected(long now) {
        connected = true;
        connectedAt = now;
    }

    /** Failures since the backoff last reset (the number of waits handed out in this incident). */
    public int failuresInARow() {
        return failuresInARow;
    }

    /** The wait the next failure would get (unless the path stays up for the stable period first). */
    public long nextWaitNanos() {
        return nextNanos;
    }
}
