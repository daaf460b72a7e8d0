package io.shardlink.api;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The reads a peer session has in flight, and their timeouts. A timer per read ({@code orTimeout}) put a task
 * into the JDK's shared delay queue and took it out again on every read, and woke its thread each time (the
 * new read's timer was the earliest): measurable CPU per read. Instead one periodic sweep on the connection's
 * event loop times out the reads past their deadline; a read times out between its deadline and one sweep
 * period later (period: requestTimeout / 8, within 10 ms..1 s).
 */
final class ReadDeadlines {
    private final Set<ReadCall> inFlight = ConcurrentHashMap.newKeySet();
    private final long periodMillis;
    private volatile ScheduledFuture<?> sweep;

    ReadDeadlines(long requestTimeoutMillis) {
        this.periodMillis = Math.max(10, Math.min(1000, requestTimeoutMillis / 8));
    }

    /** Starts sweeping on {@code loop} (the connection's event loop; the sweep ends with it or {@link #stop}). */
    void start(EventExecutor loop) {
        try {
            sweep = loop.scheduleAtFixedRate(this::sweep, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the node is closing: its close fails the reads in flight
        }
    }

    void stop() {
        ScheduledFuture<?> s = sweep;
        if (s != null) {
            s.cancel(false);
        }
    }

    /** Tracks {@code call} until its result completes. */
    void add(ReadCall call) {
        inFlight.add(call);
        call.result.whenComplete((r, e) -> inFlight.remove(call));
    }

    private void sweep() {
        if (inFlight.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        for (ReadCall c : inFlight) {
            if (now - c.deadline >= 0) {
                c.timeOut();
            }
        }
    }

    /** Fails every read in flight (the session closes). */
    void failAll(Consumer<ReadCall> fail) {
        List<ReadCall> all = new ArrayList<>(inFlight);
        all.forEach(fail);
    }

    int size() {
        return inFlight.size();
    }
}
