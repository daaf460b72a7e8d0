package io.shardlink.metrics;

import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import java.util.Map;

/**
 * Immutable counters of a node or a peer at one instant: bytes and operations by transport and direction,
 * completions by status, fallbacks by cause, peers by state (node scope), the read-latency histogram, and,
 * for a node, one snapshot per peer.
 */
public final class MetricsSnapshot {
    private final String scope;
    private final PeerState state;
    private final Map<Transport, Map<Direction, Long>> bytes;
    private final Map<Transport, Map<Direction, Long>> ops;
    private final Map<CompletionStatus, Long> completions;
    private final Map<String, Long> fallbacks;
    private final Map<PeerState, Long> peersByState;
    private final LatencyHistogram.Snapshot readLatency;
    private final LatencyHistogram.Snapshot servedReadLatency;
    private final Map<String, MetricsSnapshot> peers;
    private final long pathRetries;
    private final long pathRecoveries;

    MetricsSnapshot(String scope, PeerState state, Map<Transport, Map<Direction, Long>> bytes,
                    Map<Transport, Map<Direction, Long>> ops, Map<CompletionStatus, Long> completions,
                    Map<String, Long> fallbacks, Map<PeerState, Long> peersByState,
                    LatencyHistogram.Snapshot readLatency, LatencyHistogram.Snapshot servedReadLatency,
                    Map<String, MetricsSnapshot> peers, long pathRetries, long pathRecoveries) {
        this.pathRetries = pathRetries;
        this.pathRecoveries = pathRecoveries;
        this.scope = scope;
        this.state = state;
        this.bytes = deepCopy(bytes);
        this.ops = deepCopy(ops);
        this.completions = Map.copyOf(completions);
        this.fallbacks = Map.copyOf(fallbacks);
        this.peersByState = Map.copyOf(peersByState);
        this.readLatency = readLatency;
        this.servedReadLatency = servedReadLatency;
        this.peers = Map.copyOf(peers);
    }

    private static Map<Transport, Map<Direction, Long>> deepCopy(Map<Transport, Map<Direction, Long>> m) {
        java.util.EnumMap<Transport, Map<Direction, Long>> c = new java.util.EnumMap<>(Transport.class);
        m.forEach((k, v) -> c.put(k, Map.copyOf(v)));
        return java.util.Collections.unmodifiableMap(c);
    }

    /** Node id or peer id. */
    public String scope() { return scope; }
    /** The peer's state (peer scope), or null for a node. */
    public PeerState state() { return state; }
    public long bytes(Transport t, Direction d) { return bytes.get(t).get(d); }
    public long ops(Transport t, Direction d) { return ops.get(t).get(d); }
    public long completions(CompletionStatus s) { return completions.get(s); }
    /**
     * Fallbacks, by cause. One fallback is one operation that moved from RDMA to QUIC: a copy whose RDMA path
     * failed under it or declined it (keys {@code "<ExceptionClass>: <message>"} and
     * {@code "declined: <reason>"}), or a read asked again over QUIC after its RDMA path broke
     * ({@code "read: <ExceptionClass>: <message>"}). A copy counts once per move (normally once). A path
     * failure itself is not a fallback: it shows as the peer's FAILED state and {@code lastCause()}, so a
     * failure with three copies in flight counts 3, and one with none in flight counts 0; work started on a
     * FAILED peer goes over QUIC from the start and counts nothing.
     */
    public Map<String, Long> fallbacks() { return fallbacks; }
    public long totalFallbacks() { return fallbacks.values().stream().mapToLong(Long::longValue).sum(); }
    public long peersIn(PeerState s) { return peersByState.getOrDefault(s, 0L); }
    public Map<PeerState, Long> peersByState() { return peersByState; }
    /** Latency of the blob reads this node made (request sent to answer verified). */
    public LatencyHistogram.Snapshot readLatency() { return readLatency; }
    /** Latency of the blob reads this node served (request arrived to answer handed to the transport). */
    public LatencyHistogram.Snapshot servedReadLatency() { return servedReadLatency; }
    public Map<String, MetricsSnapshot> peers() { return peers; }
    /** RDMA bring-up retries started after a path FAILED (each moved the peer FAILED -> DISCONNECTED). */
    public long pathRetries() { return pathRetries; }
    /** Retried RDMA bring-ups that reached CONNECTED (the peer's new work went back to RDMA). */
    public long pathRecoveries() { return pathRecoveries; }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("metrics[").append(scope);
        if (state != null) {
            sb.append(" ").append(state);
        }
        sb.append("]");
        for (Transport t : Transport.values()) {
            sb.append(' ').append(t).append(": sent ").append(bytes(t, Direction.SENT)).append("B/")
                    .append(ops(t, Direction.SENT)).append("ops, recv ").append(bytes(t, Direction.RECEIVED))
                    .append("B/").append(ops(t, Direction.RECEIVED)).append("ops;");
        }
        sb.append(" completions ").append(completions).append("; fallbacks ").append(fallbacks);
        if (pathRetries > 0) {
            sb.append("; RDMA retries ").append(pathRetries).append(", recovered ").append(pathRecoveries);
        }
        if (state == null) {
            sb.append("; peers ").append(peersByState);
        }
        sb.append("; reads ").append(readLatency);
        return sb.toString();
    }
}
