package io.shardlink.status;

import io.shardlink.api.CopyInFlight;
import io.shardlink.api.Peer;
import io.shardlink.config.Transport;
import io.shardlink.json.JsonWriter;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.rdma.path.ZeroCopyStats;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The document behind {@code GET /status.json} (the README's "Status page" section lists its fields): the
 * node, its totals, its connected peers, the copies in flight and the sampled history. Names are snake_case,
 * byte counts are integers, rates are bytes per second, latencies microseconds.
 */
public final class StatusJson {
    private StatusJson() {}

    public static String render(NodeInfo node, MetricsSnapshot m, ZeroCopyStats z, List<Peer> peers,
                                List<CopyInFlight> copies, StatusHistory.Samples h, long intervalMillis) {
        JsonWriter w = new JsonWriter(new StringBuilder(8192));
        w.beginObject();
        w.field("time", System.currentTimeMillis());
        w.name("node").beginObject()
                .field("id", node.id())
                .field("listen", node.listen())
                .field("transport_mode", node.transportMode())
                .name("rdma").beginObject()
                .field("available", node.rdmaAvailable())
                .field("reason", node.rdmaReason())
                .field("device", node.device())
                .field("port", node.port())
                .field("gid_index", node.gidIndex())
                .field("gid", node.gid())
                .endObject()
                .endObject();

        w.name("totals").beginObject();
        bytesByTransport(w, m);
        w.name("completions").beginObject();
        for (CompletionStatus s : CompletionStatus.values()) {
            w.field(lc(s), m.completions(s));
        }
        w.endObject();
        w.field("fallbacks", m.totalFallbacks());
        w.field("reads", m.readLatency().count());
        w.field("served_reads", m.servedReadLatency().count());
        w.endObject();

        // RDMA read answers sent from registered file windows or copied (all 0 without RDMA or file-backed reads)
        w.name("zero_copy").beginObject()
                .field("reads", z.zeroCopyReads()).field("bytes", z.zeroCopyBytes())
                .field("copied_reads", z.copiedReads()).field("copied_bytes", z.copiedBytes())
                .name("fallbacks").beginObject()
                .field("no_room", z.fallbackNoRoom()).field("crosses_window", z.fallbackCrossesWindow())
                .field("registration", z.fallbackRegistration()).field("last_reason", z.lastRefusal())
                .endObject()
                .name("windows").beginObject()
                .field("registered", z.windowsRegistered()).field("evicted", z.windowsEvicted())
                .field("remapped", z.windowsRemapped()).field("private", z.windowsPrivate())
                .field("live", z.liveWindows()).field("pinned_bytes", z.windowPinnedBytes())
                .field("window_bytes", z.windowBytes()).field("limit_bytes", z.windowLimit())
                .endObject()
                .endObject();

        w.name("peers").beginArray();
        peers = new java.util.ArrayList<>(peers);
        peers.sort(Comparator.comparing(Peer::nodeId));
        for (Peer p : peers) {
            MetricsSnapshot pm = p.metrics();
            w.beginObject().field("id", p.nodeId()).field("address", hostPort(p.remoteAddress()))
                    .field("state", p.state().name());
            Throwable c = p.lastCause();
            w.field("last_cause", c == null ? null : describe(c));
            w.name("transports").beginArray();
            for (Transport t : Transport.values()) {
                if (pm.bytes(t, Direction.SENT) + pm.bytes(t, Direction.RECEIVED) > 0) {
                    w.value(t.name());
                }
            }
            w.endArray();
            long in = 0;
            long out = 0;
            for (Transport t : Transport.values()) {
                in += pm.bytes(t, Direction.RECEIVED);
                out += pm.bytes(t, Direction.SENT);
            }
            w.field("bytes_in", in).field("bytes_out", out);
            bytesByTransport(w, pm);
            w.field("fallbacks", pm.totalFallbacks());
            w.endObject();
        }
        w.endArray();

        w.name("copies").beginArray();
        copies = new java.util.ArrayList<>(copies);
        copies.sort(Comparator.comparingLong(CopyInFlight::startedMillis).thenComparing(CopyInFlight::peer)
                .thenComparingLong(CopyInFlight::transferId));
        for (CopyInFlight c : copies) {
            w.beginObject().field("peer", c.peer()).field("shard", c.shardId()).field("transfer", c.transferId())
                    .field("direction", lc(c.direction())).field("bytes_done", c.bytesDone())
                    .field("total_bytes", c.totalBytes())
                    .field("transport", c.transport() == null ? null : c.transport().name())
                    .field("started", c.startedMillis()).endObject();
        }
        w.endArray();

        w.name("history").beginObject().field("interval_ms", intervalMillis);
        w.name("time").beginArray();
        for (long t : h.timeMillis()) {
            w.value(t);
        }
        w.endArray();
        w.name("bytes_per_second").beginObject();
        for (Transport t : Transport.values()) {
            for (Direction d : Direction.values()) {
                w.name(lc(t) + "_" + lc(d)).beginArray();
                for (double v : h.bytesPerSecond()[StatusHistory.Samples.series(t, d)]) {
                    w.value(Math.round(v));
                }
                w.endArray();
            }
        }
        w.endObject();
        numbers(w.name("read_p50_us"), h.readP50Micros());
        numbers(w.name("read_p99_us"), h.readP99Micros());
        counts(w.name("reads"), h.reads());
        numbers(w.name("served_read_p50_us"), h.servedP50Micros());
        numbers(w.name("served_read_p99_us"), h.servedP99Micros());
        counts(w.name("served_reads"), h.served());
        w.endObject();

        w.endObject();
        return w.toString();
    }

    private static void bytesByTransport(JsonWriter w, MetricsSnapshot m) {
        w.name("bytes").beginObject();
        for (Transport t : Transport.values()) {
            w.name(lc(t)).beginObject();
            for (Direction d : Direction.values()) {
                w.field(lc(d), m.bytes(t, d));
            }
            w.endObject();
        }
        w.endObject();
    }

    private static void numbers(JsonWriter w, double[] a) {
        w.beginArray();
        for (double v : a) {
            if (Double.isNaN(v)) {
                w.nullValue(); // no reads in that interval: a gap in the plot
            } else {
                w.value(v);
            }
        }
        w.endArray();
    }

    private static void counts(JsonWriter w, long[] a) {
        w.beginArray();
        for (long v : a) {
            w.value(v);
        }
        w.endArray();
    }

    static String hostPort(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        String h = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    private static String lc(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
