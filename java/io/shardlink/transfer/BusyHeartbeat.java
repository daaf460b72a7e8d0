package io.shardlink.transfer;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a copy's sender informed while the receiver's sink is busy (a blocking call may take longer than
 * the sender's requestTimeout: an fsync stall, a slow disk): while a sink call runs, an unchanged ACK (same
 * next expected offset, same credits) goes back every {@code interval}. The sender counts any ACK as a sign
 * of life, so only a dead or silent receiver times out; credits and offsets do not move, so the sender is
 * still throttled (liveness is not progress).
 */
final class BusyHeartbeat implements AutoCloseable {
    private static final BusyHeartbeat NONE = new BusyHeartbeat(null);
    private final ScheduledFuture<?> task;

    private BusyHeartbeat(ScheduledFuture<?> task) {
        this.task = task;
    }

    /** Starts sending {@code ack} every {@code interval} until closed; nothing without a ticker. */
    static BusyHeartbeat start(ScheduledExecutorService ticker, Duration interval, Runnable ack) {
        if (ticker == null || interval == null || interval.isZero() || interval.isNegative()) {
            return NONE;
        }
        long nanos = interval.toNanos();
        try {
            return new BusyHeartbeat(ticker.scheduleAtFixedRate(() -> {
                try {
                    ack.run();
                } catch (RuntimeException e) {
                    // the channel is gone: the copy fails by its own path; a heartbeat is best effort
                }
            }, nanos, nanos, TimeUnit.NANOSECONDS));
        } catch (RejectedExecutionException e) {
            return NONE; // closing
        }
    }

    @Override
    public void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
