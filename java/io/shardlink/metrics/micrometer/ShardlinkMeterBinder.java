package io.shardlink.metrics.micrometer;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.rdma.path.ZeroCopyStats;
import io.shardlink.state.PeerState;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Registers a node's meters, and its peers', in a Micrometer {@link MeterRegistry}: the same names and labels as
 * {@code shardlink serve}'s {@code /metrics} (Micrometer names {@code shardlink.bytes} with base unit bytes,
 * {@code shardlink.read.latency} a timer, ... which a Prometheus registry renders as {@code shardlink_bytes_total},
 * {@code shardlink_read_latency_seconds}, ...). Every meter reads the node's lock-free counters when the registry
 * asks (function counters, gauges, a function timer): nothing is added to the data path.
 *
 * <p>Node meters: {@code shardlink.info} (node, rdma), {@code shardlink.bytes} and {@code shardlink.operations}
 * (transport, direction), {@code shardlink.completions} (status), {@code shardlink.fallbacks},
 * {@code shardlink.fallbacks.by.cause} (cause), {@code shardlink.rdma.retries}, {@code shardlink.rdma.recoveries}, {@code shardlink.peers} (state), {@code shardlink.read.latency}
 * (count and total time; the log2 buckets are in {@code /metrics} only: Micrometer has no function histogram).
 * Peer meters, tagged peer and address: {@code shardlink.peer.state} (state), {@code shardlink.peer.bytes} and
 * {@code shardlink.peer.operations} (transport, direction), {@code shardlink.peer.completions} (status).
 * Zero-copy serving over RDMA ({@link ZeroCopyStats}): {@code shardlink.rdma.read.answers} and
 * {@code shardlink.rdma.read.answer} (bytes; payload zero_copy/copied), {@code shardlink.rdma.zero.copy.fallbacks}
 * (reason), {@code shardlink.rdma.file.window.events} (event), gauges {@code shardlink.rdma.file.windows} and
 * {@code shardlink.rdma.file.window.pinned.bytes}.
 *
 * <p>Peers and fallback causes come and go, so a daemon thread ({@code shardlink-meters-NODE}) re-reads them every
 * {@code refresh} (10 s by default) and at every peer state change, adding and removing meters; like Micrometer's
 * Kafka binder, close the binder (before or with the node) to stop it and remove every meter it registered.
 * Micrometer is an optional dependency of shardlink: only servers that use this class need it on the classpath.
 */
public final class ShardlinkMeterBinder implements MeterBinder, AutoCloseable {
    private final ShardlinkNode node;
    private final Duration refresh;
    private final Duration snapshotMaxAge;
    private final Object lock = new Object();
    /** Meters of the current peers and causes, by a key naming what they show; guarded by lock. */
    private final Map<String, List<Meter>> dynamic = new HashMap<>();
    /**
     * Each peer's Memo, by the same key as its meters in {@link #dynamic}. Micrometer's function meters hold their
     * state object only weakly: without this strong reference a GC collects a peer's Memo and its counters read 0.
     */
    private final Map<String, Memo> peerMemos = new HashMap<>();
    private final List<Meter> fixed = new ArrayList<>();
    private volatile Memo node0;
    /** Held strongly for the same reason as peerMemos: the zero-copy meters' state object. */
    private volatile ZeroCopyMemo zeroCopy;
    private MeterRegistry registry;
    private ScheduledExecutorService refresher;
    private boolean closed;

    /** A binder with a 10 s peer refresh; counters are read at most once a second per scope. */
    public ShardlinkMeterBinder(ShardlinkNode node) {
        this(node, Duration.ofSeconds(10), Duration.ofSeconds(1));
    }

    /**
     * @param refresh        how often peers and fallback causes are re-read (they also are at each peer state change)
     * @param snapshotMaxAge how long one reading of a scope's counters serves every meter of that scope (a registry
     *                       reads dozens of meters in one scrape); {@code Duration.ZERO} reads them every time
     */
    public ShardlinkMeterBinder(ShardlinkNode node, Duration refresh, Duration snapshotMaxAge) {
        this.node = Objects.requireNonNull(node, "node");
        this.refresh = Objects.requireNonNull(refresh, "refresh");
        this.snapshotMaxAge = Objects.requireNonNull(snapshotMaxAge, "snapshotMaxAge");
        if (refresh.isNegative() || refresh.isZero() || snapshotMaxAge.isNegative()) {
            throw new IllegalArgumentException("refresh must be > 0 and snapshotMaxAge >= 0, got " + refresh + ", "
                    + snapshotMaxAge);
        }
    }

    @Override
    public void bindTo(MeterRegistry r) {
        synchronized (lock) {
            if (closed || registry != null) {
                throw new IllegalStateException(closed ? "binder closed" : "binder already bound to a registry");
            }
            registry = r;
            node0 = new Memo(node::metrics);
            bindNode(r);
            refreshLocked();
            String name = "shardlink-meters-" + node.nodeId();
            refresher = Executors.newSingleThreadScheduledExecutor(t -> {
                Thread th = new Thread(t, name);
                th.setDaemon(true);
                return th;
            });
            long ms = refresh.toMillis();
            refresher.scheduleWithFixedDelay(this::refresh, ms, ms, TimeUnit.MILLISECONDS);
        }
        node.addPeerStateListener((peer, from, to, cause) -> {
            ScheduledExecutorService s = refresher;
            if (s != null && !s.isShutdown()) {
                try {
                    s.execute(this::refresh);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closed meanwhile: nothing to refresh
                }
            }
        });
    }

    private void bindNode(MeterRegistry r) {
        Memo m = node0;
        boolean rdma = node.rdmaUnavailableReason() == null;
        fixed.add(Gauge.builder("shardlink.info", () -> 1)
                .description("This node: id and whether RDMA can be used here.")
                .tags("node", node.nodeId(), "rdma", rdma ? "available" : "unavailable").register(r));
        for (Transport t : Transport.values()) {
            for (Direction d : Direction.values()) {
                Tags tags = Tags.of("transport", lc(t), "direction", lc(d));
                fixed.add(counter(r, "shardlink.bytes", "Payload bytes moved, by transport and direction.",
                        BaseUnits.BYTES, tags, m, s -> s.bytes(t, d)));
                fixed.add(counter(r, "shardlink.operations", "Data operations (chunks, reads), by transport and direction.",
                        null, tags, m, s -> s.ops(t, d)));
            }
        }
        for (CompletionStatus st : CompletionStatus.values()) {
            fixed.add(counter(r, "shardlink.completions", "Copies and reads ended, by status.", null,
                    Tags.of("status", lc(st)), m, s -> s.completions(st)));
        }
        fixed.add(counter(r, "shardlink.fallbacks", "Moves from RDMA to QUIC.", null, Tags.empty(), m,
                MetricsSnapshot::totalFallbacks));
        fixed.add(counter(r, "shardlink.rdma.retries", "RDMA bring-up retries after a path FAILED.", null,
                Tags.empty(), m, MetricsSnapshot::pathRetries));
        fixed.add(counter(r, "shardlink.rdma.recoveries", "Retried RDMA bring-ups that reached CONNECTED.", null,
                Tags.empty(), m, MetricsSnapshot::pathRecoveries));
        for (PeerState ps : PeerState.values()) {
            fixed.add(Gauge.builder("shardlink.peers", m, x -> x.get().peersIn(ps))
                    .description("Peers by RDMA data-path state.").tags("state", lc(ps)).register(r));
        }
        fixed.add(FunctionTimer.builder("shardlink.read.latency", m, x -> x.get().readLatency().count(),
                        x -> x.get().readLatency().meanNanos() * x.get().readLatency().count(), TimeUnit.NANOSECONDS)
                .description("Blob read latency.").register(r));
        bindZeroCopy(r);
    }

    /** The node's zero-copy serving counters (all 0 unless its RDMA path serves file-backed reads). */
    private void bindZeroCopy(MeterRegistry r) {
        ZeroCopyMemo z = new ZeroCopyMemo();
        zeroCopy = z;
        zcCounters(r, "shardlink.rdma.read.answers", "Read answers this node sent over RDMA, by payload: zero_copy "
                + "(from a file window) or copied.", null, z, "payload", new String[] {"zero_copy", "copied"},
                ZeroCopyStats::zeroCopyReads, ZeroCopyStats::copiedReads);
        zcCounters(r, "shardlink.rdma.read.answer", "Payload bytes of the read answers this node sent over RDMA, by "
                + "payload: zero_copy or copied.", BaseUnits.BYTES, z, "payload", new String[] {"zero_copy", "copied"},
                ZeroCopyStats::zeroCopyBytes, ZeroCopyStats::copiedBytes);
        zcCounters(r, "shardlink.rdma.zero.copy.fallbacks", "RDMA read answers copied instead of sent zero-copy, by "
                + "reason.", null, z, "reason", new String[] {"no_room", "crosses_window", "registration"},
                ZeroCopyStats::fallbackNoRoom, ZeroCopyStats::fallbackCrossesWindow, ZeroCopyStats::fallbackRegistration);
        zcCounters(r, "shardlink.rdma.file.window.events", "Zero-copy file windows registered, evicted, remapped (file "
                + "grew) and private (kernel before 6.2).", null, z, "event",
                new String[] {"registered", "evicted", "remapped", "private"}, ZeroCopyStats::windowsRegistered,
                ZeroCopyStats::windowsEvicted, ZeroCopyStats::windowsRemapped, ZeroCopyStats::windowsPrivate);
        fixed.add(Gauge.builder("shardlink.rdma.file.windows", z, x -> x.get().liveWindows())
                .description("Zero-copy file windows registered now.").register(r));
        fixed.add(Gauge.builder("shardlink.rdma.file.window.pinned.bytes", z, x -> x.get().windowPinnedBytes())
                .description("Bytes the zero-copy file windows pin now (also in the node's pinned budget).")
                .register(r));
    }

    /** One counter per {@code values[i]} of tag {@code key}, reading {@code f[i]}. */
    @SafeVarargs
    private void zcCounters(MeterRegistry r, String name, String help, String unit, ZeroCopyMemo z, String key,
                            String[] values, ToDoubleFunction<ZeroCopyStats>... f) {
        for (int i = 0; i < values.length; i++) {
            ToDoubleFunction<ZeroCopyStats> fi = f[i];
            FunctionCounter.Builder<ZeroCopyMemo> b = FunctionCounter.builder(name, z, x -> fi.applyAsDouble(x.get()))
                    .description(help).tags(key, values[i]);
            fixed.add((unit != null ? b.baseUnit(unit) : b).register(r));
        }
    }

    /** Re-reads peers and fallback causes: registers meters for new ones, removes those of gone ones. */
    private void refresh() {
        try {
            synchronized (lock) {
                if (!closed) {
                    refreshLocked();
                }
            }
        } catch (RuntimeException e) {
            // a registry that refuses a meter must not kill the refresher; the next round tries again
        }
    }

    private void refreshLocked() {
        MeterRegistry r = registry;
        // what should exist now, by key; a peer's state is a label, so a new state is a new key (the old one goes)
        Map<String, Supplier<List<Meter>>> wanted = new HashMap<>();
        for (String cause : node0.get().fallbacks().keySet()) {
            wanted.put("cause\0" + cause, () -> List.of(counter(r, "shardlink.fallbacks.by.cause",
                    "Moves from RDMA to QUIC, by cause.", null, Tags.of("cause", cause), node0,
                    s -> s.fallbacks().getOrDefault(cause, 0L))));
        }
        for (Peer p : node.peers()) {
            String address = hostPort(p.remoteAddress());
            Tags peerTags = Tags.of("peer", p.nodeId(), "address", address);
            PeerState state = p.state();
            wanted.put("state\0" + p.nodeId() + "\0" + address + "\0" + state, () -> List.of(
                    Gauge.builder("shardlink.peer.state", () -> 1)
                            .description("1 for each connected peer's current RDMA data-path state.")
                            .tags(peerTags.and("state", lc(state))).register(r)));
            String key = "peer\0" + p.nodeId() + "\0" + address;
            wanted.put(key, () -> peerMeters(r, key, p, peerTags));
        }
        dynamic.entrySet().removeIf(e -> {
            if (wanted.containsKey(e.getKey())) {
                return false;
            }
            e.getValue().forEach(r::remove);
            peerMemos.remove(e.getKey());
            return true;
        });
        wanted.forEach((key, make) -> dynamic.computeIfAbsent(key, k -> make.get()));
    }

    private List<Meter> peerMeters(MeterRegistry r, String key, Peer p, Tags peerTags) {
        Memo m = new Memo(p::metrics);
        peerMemos.put(key, m);
        List<Meter> out = new ArrayList<>();
        for (Transport t : Transport.values()) {
            for (Direction d : Direction.values()) {
                Tags tags = peerTags.and("transport", lc(t), "direction", lc(d));
                out.add(counter(r, "shardlink.peer.bytes", "Payload bytes moved with one peer, by transport and "
                        + "direction.", BaseUnits.BYTES, tags, m, s -> s.bytes(t, d)));
                out.add(counter(r, "shardlink.peer.operations", "Data operations with one peer, by transport and "
                        + "direction.", null, tags, m, s -> s.ops(t, d)));
            }
        }
        for (CompletionStatus st : CompletionStatus.values()) {
            out.add(counter(r, "shardlink.peer.completions", "Copies and reads with one peer ended, by status.",
                    null, peerTags.and("status", lc(st)), m, s -> s.completions(st)));
        }
        return List.copyOf(out);
    }

    private static FunctionCounter counter(MeterRegistry r, String name, String help, String unit, Tags tags, Memo m,
                                           ToDoubleFunction<MetricsSnapshot> f) {
        FunctionCounter.Builder<Memo> b = FunctionCounter.builder(name, m, x -> f.applyAsDouble(x.get()))
                .description(help).tags(tags);
        return (unit != null ? b.baseUnit(unit) : b).register(r);
    }

    /** Stops the refresher and removes every meter this binder registered. Idempotent. */
    @Override
    public void close() {
        ScheduledExecutorService s;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            s = refresher;
            if (registry != null) {
                fixed.forEach(registry::remove);
                dynamic.values().forEach(ms -> ms.forEach(registry::remove));
            }
            fixed.clear();
            dynamic.clear();
            peerMemos.clear();
        }
        if (s != null) {
            s.shutdownNow();
            try {
                s.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String lc(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String hostPort(InetSocketAddress a) {
        if (a == null) {
            return "";
        }
        String h = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    /** The node's zero-copy statistics, re-read when older than snapshotMaxAge. */
    private final class ZeroCopyMemo {
        private volatile ZeroCopyStats last;
        private volatile long at;

        ZeroCopyStats get() {
            long now = System.nanoTime();
            ZeroCopyStats s = last;
            if (s == null || now - at >= snapshotMaxAge.toNanos()) {
                s = ZeroCopyStats.of(node);
                last = s;
                at = now;
            }
            return s;
        }
    }

    /** One scope's snapshot, re-read when older than snapshotMaxAge. */
    private final class Memo {
        private final Supplier<MetricsSnapshot> source;
        private volatile MetricsSnapshot last;
        private volatile long at;

        Memo(Supplier<MetricsSnapshot> source) {
            this.source = source;
        }

        MetricsSnapshot get() {
            long now = System.nanoTime();
            MetricsSnapshot s = last;
            if (s == null || now - at >= snapshotMaxAge.toNanos()) {
                s = source.get();
                last = s;
                at = now;
            }
            return s;
        }
    }
}
