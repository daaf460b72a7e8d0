package io.shardlink.rdma.path;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verbs-level counters of one node's RDMA path (the transport-level bytes/ops/completions/fallbacks are in the
 * node's {@code TransportMetrics}, recorded by the copy and read logic with transport RDMA). Recording allocates
 * nothing except for an error status seen for the first time.
 */
public final class RdmaPathStats {
    final LongAdder writesPosted = new LongAdder();
    final LongAdder writeBytes = new LongAdder();
    final LongAdder sendsPosted = new LongAdder();
    final LongAdder sendBytes = new LongAdder();
    final LongAdder recvCompletions = new LongAdder();
    final LongAdder recvBytes = new LongAdder();
    final LongAdder okCompletions = new LongAdder();
    final LongAdder flushedCompletions = new LongAdder();
    final ConcurrentHashMap<String, LongAdder> errorCompletions = new ConcurrentHashMap<>();
    final LongAdder pathFailures = new LongAdder();
    final LongAdder ringsGranted = new LongAdder();
    final LongAdder ringsDeclined = new LongAdder();
    /** Of ringsDeclined: because the peer already held maxRingsPerPeer rings here. */
    final LongAdder ringsOverLimit = new LongAdder();
    /** Rings revoked because nothing happened on them for ringIdleTimeout. */
    final LongAdder ringsRevokedIdle = new LongAdder();
    final LongAdder sendBacklogged = new LongAdder();
    final LongAdder inlineSends = new LongAdder();
    final LongAdder splitChunks = new LongAdder();
    final LongAdder staleCompletions = new LongAdder();
    /** Memory windows bound (one per ring granted and one per peer's read reply ring). */
    final LongAdder windowsBound = new LongAdder();
    final AtomicInteger liveWindows = new AtomicInteger();
    final AtomicInteger liveRings = new AtomicInteger();
    final AtomicInteger liveRegions = new AtomicInteger();
    final AtomicInteger liveEndpoints = new AtomicInteger();
    final AtomicInteger livePollers = new AtomicInteger();

    void error(String status) {
        errorCompletions.computeIfAbsent(status, k -> new LongAdder()).increment();
    }

    /** An immutable view. */
    public record Snapshot(long writesPosted, long writeBytes, long sendsPosted, long sendBytes, long recvCompletions,
                           long recvBytes, long okCompletions, long flushedCompletions,
                           Map<String, Long> errorCompletions, long pathFailures, long ringsGranted,
                           long ringsDeclined, long sendBacklogged, int liveRings, int liveRegions,
                           int liveEndpoints, int livePollers, long pinnedBytes, long pinnedBudget,
                           long inlineSends, long staleCompletions, long splitChunks, long ringsOverLimit,
                           long ringsRevokedIdle, long windowsBound, int liveWindows) {
        @Override
        public String toString() {
            return "rdma[writes " + writesPosted + " (" + writeBytes + " B), sends " + sendsPosted + " (" + sendBytes
                    + " B), receives " + recvCompletions + " (" + recvBytes + " B), completions ok " + okCompletions
                    + " flushed " + flushedCompletions + " errors " + errorCompletions + ", path failures "
                    + pathFailures + ", rings granted " + ringsGranted + " declined " + ringsDeclined + " (over the per-peer "
                    + "limit " + ringsOverLimit + ") revoked idle " + ringsRevokedIdle + " live "
                    + liveRings + ", regions " + liveRegions + ", memory windows " + liveWindows + " (bound " + windowsBound
                    + "), endpoints " + liveEndpoints + ", pollers "
                    + livePollers + ", pinned " + PinnedBudget.mib(pinnedBytes) + " of "
                    + PinnedBudget.mib(pinnedBudget) + ", inline sends " + inlineSends + ", completions of destroyed queue pairs "
                    + staleCompletions + ", chunks split into several WRITEs " + splitChunks + "]";
        }
    }

    Snapshot snapshot(long pinned, long budget) {
        Map<String, Long> errors = new TreeMap<>();
        errorCompletions.forEach((k, v) -> errors.put(k, v.sum()));
        return new Snapshot(writesPosted.sum(), writeBytes.sum(), sendsPosted.sum(), sendBytes.sum(),
                recvCompletions.sum(), recvBytes.sum(), okCompletions.sum(), flushedCompletions.sum(), Map.copyOf(errors),
                pathFailures.sum(), ringsGranted.sum(), ringsDeclined.sum(), sendBacklogged.sum(), liveRings.get(),
                liveRegions.get(), liveEndpoints.get(), livePollers.get(), pinned, budget, inlineSends.sum(),
                staleCompletions.sum(), splitChunks.sum(), ringsOverLimit.sum(),
                ringsRevokedIdle.sum(), windowsBound.sum(), liveWindows.get());
    }
}
