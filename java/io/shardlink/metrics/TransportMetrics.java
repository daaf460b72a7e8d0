package io.shardlink.metrics;

import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Counters of one scope (a node, or one peer with its node as parent: every record goes to both).
 * Recording allocates nothing on the data path (LongAdders indexed by enum ordinals); fallbacks, which are
 * rare, are kept by cause in a map.
 */
public final class TransportMetrics {
    private final String scope;
    private final TransportMetrics parent;
    private final LongAdder[] bytes = adders(Transport.values().length * Direction.values().length);
    private final LongAdder[] ops = adders(Transport.values().length * Direction.values().length);
    private final LongAdder[] completions = adders(CompletionStatus.values().length);
    private final ConcurrentHashMap<String, LongAdder> fallbacks = new ConcurrentHashMap<>();
    private final LongAdder pathRetries = new LongAdder();
    private final LongAdder pathRecoveries = new LongAdder();
    private final LatencyHistogram readLatency = new LatencyHistogram();
    private final LatencyHistogram servedReadLatency = new LatencyHistogram();
    private final ConcurrentHashMap<String, TransportMetrics> peers = new ConcurrentHashMap<>();
    private volatile Supplier<PeerState> state;

    /** A node scope. */
    public TransportMetrics(String scope) {
        this(scope, null);
    }

    private TransportMetrics(String scope, TransportMetrics parent) {
        this.scope = scope;
        this.parent = parent;
    }

    /** The per-peer child scope (created once per peer id; records also go to this node scope). */
    public TransportMetrics peer(String peerId, Supplier<PeerState> stateSupplier) {
        TransportMetrics m = peers.computeIfAbsent(peerId, id -> new TransportMetrics(id, this));
        m.state = stateSupplier;
        return m;
    }

    /** Forgets a peer scope (its counts stay in the node totals). */
    public void removePeer(String peerId) {
        peers.remove(peerId);
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** Direction.values() clones its array on every call: counted once (record runs for every operation). */
    private static final int DIRECTIONS = Direction.values().length;

    private static int idx(Transport t, Direction d) {
        return t.ordinal() * DIRECTIONS + d.ordinal();
    }

    /** One operation moving {@code n} bytes (a chunk, a read answer, a control frame). */
    public void record(Transport t, Direction d, long n) {
        int i = idx(t, d);
        bytes[i].add(n);
        ops[i].increment();
        if (parent != null) {
            parent.record(t, d, n);
        }
    }

    public void completion(CompletionStatus s) {
        completions[s.ordinal()].increment();
        if (parent != null) {
            parent.completion(s);
        }
    }

    /** A fallback's key: the cause's simple class name and its message (the first 120 characters). */
    public static String causeKey(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + (m.length() > 120 ? m.substring(0, 120) : m));
    }

    /**
     * Counts one operation (a copy or a read) that moved from RDMA to QUIC, by cause; call it once per move,
     * where the operation moves (not when the path fails: that is the peer's FAILED state).
     */
    public void fallback(String cause) {
        fallbacks.computeIfAbsent(cause, k -> new LongAdder()).increment();
        if (parent != null) {
            parent.fallback(cause);
        }
    }

    /** One retry of a FAILED peer's RDMA bring-up was started (see {@code ShardlinkConfig#rdmaRetryInitial}). */
    public void pathRetry() {
        pathRetries.increment();
        if (parent != null) {
            parent.pathRetry();
        }
    }

    /** A retried RDMA bring-up reached CONNECTED: new work goes over RDMA again. */
    public void pathRecovered() {
        pathRecoveries.increment();
        if (parent != null) {
            parent.pathRecovered();
        }
    }

    public void readLatency(long nanos) {
        readLatency.record(nanos);
        if (parent != null) {
            parent.readLatency(nanos);
        }
    }

    /** One blob read this node served: from its request's arrival to its answer handed to the transport. */
    public void servedReadLatency(long nanos) {
        servedReadLatency.record(nanos);
        if (parent != null) {
            parent.servedReadLatency(nanos);
        }
    }

    public MetricsSnapshot snapshot() {
        Map<Transport, Map<Direction, Long>> b = new EnumMap<>(Transport.class);
        Map<Transport, Map<Direction, Long>> o = new EnumMap<>(Transport.class);
        for (Transport t : Transport.values()) {
            Map<Direction, Long> bd = new EnumMap<>(Direction.class);
            Map<Direction, Long> od = new EnumMap<>(Direction.class);
            for (Direction d : Direction.values()) {
                bd.put(d, bytes[idx(t, d)].sum());
                od.put(d, ops[idx(t, d)].sum());
            }
            b.put(t, bd);
            o.put(t, od);
        }
        Map<CompletionStatus, Long> c = new EnumMap<>(CompletionStatus.class);
        for (CompletionStatus s : CompletionStatus.values()) {
            c.put(s, completions[s.ordinal()].sum());
        }
        Map<String, Long> f = new java.util.TreeMap<>();
        fallbacks.forEach((k, v) -> f.put(k, v.sum()));
        Map<PeerState, Long> byState = new EnumMap<>(PeerState.class);
        for (PeerState s : PeerState.values()) {
            byState.put(s, 0L);
        }
        Map<String, MetricsSnapshot> p = new java.util.TreeMap<>();
        for (Map.Entry<String, TransportMetrics> e : peers.entrySet()) {
            MetricsSnapshot ps = e.getValue().snapshot();
            p.put(e.getKey(), ps);
            if (ps.state() != null) {
                byState.merge(ps.state(), 1L, Long::sum);
            }
        }
        Supplier<PeerState> st = state;
        return new MetricsSnapshot(scope, st == null ? null : st.get(), b, o, c, f, byState,
                readLatency.snapshot(), servedReadLatency.snapshot(), p, pathRetries.sum(), pathRecoveries.sum());
    }
}
