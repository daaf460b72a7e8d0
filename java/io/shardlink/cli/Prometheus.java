package io.shardlink.cli;

import io.shardlink.api.Peer;
import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.LatencyHistogram;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.rdma.path.ZeroCopyStats;
import io.shardlink.state.PeerState;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Prometheus text exposition format (version 0.0.4) of a node's {@link MetricsSnapshot}. */
final class Prometheus {
    /** Histogram buckets exposed: upper bounds 2^10 ns (~1 us) .. 2^36 ns (~69 s), plus +Inf. */
    private static final int FIRST_BUCKET = 9;
    private static final int LAST_BUCKET = 35;

    private Prometheus() {}

    static String format(String nodeId, MetricsSnapshot m, List<Peer> peers, boolean rdmaUsable, ZeroCopyStats z) {
        StringBuilder sb = new StringBuilder(4096);
        header(sb, "shardlink_info", "gauge", "This node: id and whether RDMA can be used here.");
        sb.append("shardlink_info{node=\"").append(esc(nodeId)).append("\",rdma=\"")
                .append(rdmaUsable ? "available" : "unavailable").append("\"} 1\n");

        header(sb, "shardlink_bytes_total", "counter", "Payload bytes moved, by transport and direction.");
        for (Transport t : Transport.values()) {
            for (Direction d : Direction.values()) {
                sb.append("shardlink_bytes_total{transport=\"").append(lc(t)).append("\",direction=\"").append(lc(d))
                        .append("\"} ").append(m.bytes(t, d)).append('\n');
            }
        }
        header(sb, "shardlink_operations_total", "counter", "Data operations (chunks, reads), by transport and direction.");
        for (Transport t : Transport.values()) {
            for (Direction d : Direction.values()) {
                sb.append("shardlink_operations_total{transport=\"").append(lc(t)).append("\",direction=\"")
                        .append(lc(d)).append("\"} ").append(m.ops(t, d)).append('\n');
            }
        }
        header(sb, "shardlink_completions_total", "counter", "Copies and reads ended, by status.");
        for (CompletionStatus s : CompletionStatus.values()) {
            sb.append("shardlink_completions_total{status=\"").append(lc(s)).append("\"} ").append(m.completions(s))
                    .append('\n');
        }
        header(sb, "shardlink_fallbacks_total", "counter", "Moves from RDMA to QUIC.");
        sb.append("shardlink_fallbacks_total ").append(m.totalFallbacks()).append('\n');
        header(sb, "shardlink_rdma_retries_total", "counter", "RDMA bring-up retries after a path FAILED.");
        sb.append("shardlink_rdma_retries_total ").append(m.pathRetries()).append('\n');
        header(sb, "shardlink_rdma_recoveries_total", "counter", "Retried RDMA bring-ups that reached CONNECTED.");
        sb.append("shardlink_rdma_recoveries_total ").append(m.pathRecoveries()).append('\n');
        header(sb, "shardlink_fallbacks_by_cause_total", "counter", "Moves from RDMA to QUIC, by cause.");
        for (Map.Entry<String, Long> e : m.fallbacks().entrySet()) {
            sb.append("shardlink_fallbacks_by_cause_total{cause=\"").append(esc(e.getKey())).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        header(sb, "shardlink_peers", "gauge", "Peers by RDMA data-path state.");
        for (PeerState s : PeerState.values()) {
            sb.append("shardlink_peers{state=\"").append(lc(s)).append("\"} ").append(m.peersIn(s)).append('\n');
        }
        header(sb, "shardlink_peer_state", "gauge", "1 for each connected peer's current RDMA data-path state.");
        for (Peer p : peers) {
            sb.append("shardlink_peer_state{peer=\"").append(esc(p.nodeId())).append("\",address=\"")
                    .append(esc(Units.hostPort(p.remoteAddress()))).append("\",state=\"").append(lc(p.state()))
                    .append("\"} 1\n");
        }
        peerCounters(sb, peers);
        zeroCopy(sb, z);
        LatencyHistogram.Snapshot h = m.readLatency();
        header(sb, "shardlink_read_latency_seconds", "histogram", "Blob read latency (log2 buckets).");
        long[] b = h.buckets();
        long cum = 0;
        for (int i = 0; i < FIRST_BUCKET; i++) {
            cum += b[i];
        }
        for (int i = FIRST_BUCKET; i <= LAST_BUCKET; i++) {
            cum += b[i];
            sb.append("shardlink_read_latency_seconds_bucket{le=\"")
                    .append(String.format(Locale.ROOT, "%.9g", (1L << (i + 1)) / 1e9)).append("\"} ").append(cum)
                    .append('\n');
        }
        sb.append("shardlink_read_latency_seconds_bucket{le=\"+Inf\"} ").append(h.count()).append('\n');
        sb.append("shardlink_read_latency_seconds_sum ")
                .append(String.format(Locale.ROOT, "%.9f", h.meanNanos() * h.count() / 1e9)).append('\n');
        sb.append("shardlink_read_latency_seconds_count ").append(h.count()).append('\n');
        return sb.toString();
    }

    /** Each peer's own counters, labelled peer and address (a peer's counts are also in the node's). */
    private static void peerCounters(StringBuilder sb, List<Peer> peers) {
        MetricsSnapshot[] ms = new MetricsSnapshot[peers.size()];
        String[] labels = new String[peers.size()];
        for (int i = 0; i < ms.length; i++) {
            Peer p = peers.get(i);
            ms[i] = p.metrics();
            labels[i] = "peer=\"" + esc(p.nodeId()) + "\",address=\"" + esc(Units.hostPort(p.remoteAddress())) + "\"";
        }
        header(sb, "shardlink_peer_bytes_total", "counter", "Payload bytes moved with one peer, by transport and direction.");
        for (int i = 0; i < ms.length; i++) {
            for (Transport t : Transport.values()) {
                for (Direction d : Direction.values()) {
                    sb.append("shardlink_peer_bytes_total{").append(labels[i]).append(",transport=\"").append(lc(t))
                            .append("\",direction=\"").append(lc(d)).append("\"} ").append(ms[i].bytes(t, d)).append('\n');
                }
            }
        }
        header(sb, "shardlink_peer_operations_total", "counter",
                "Data operations with one peer, by transport and direction.");
        for (int i = 0; i < ms.length; i++) {
            for (Transport t : Transport.values()) {
                for (Direction d : Direction.values()) {
                    sb.append("shardlink_peer_operations_total{").append(labels[i]).append(",transport=\"").append(lc(t))
                            .append("\",direction=\"").append(lc(d)).append("\"} ").append(ms[i].ops(t, d)).append('\n');
                }
            }
        }
        header(sb, "shardlink_peer_completions_total", "counter", "Copies and reads with one peer ended, by status.");
        for (int i = 0; i < ms.length; i++) {
            for (CompletionStatus s : CompletionStatus.values()) {
                sb.append("shardlink_peer_completions_total{").append(labels[i]).append(",status=\"").append(lc(s))
                        .append("\"} ").append(ms[i].completions(s)).append('\n');
            }
        }
    }

    /** How this node's RDMA path served reads: from registered file windows (zero-copy) or copied, and why not. */
    private static void zeroCopy(StringBuilder sb, ZeroCopyStats z) {
        header(sb, "shardlink_rdma_read_answers_total", "counter",
                "Read answers this node sent over RDMA, by payload: zero_copy (from a file window) or copied.");
        sb.append("shardlink_rdma_read_answers_total{payload=\"zero_copy\"} ").append(z.zeroCopyReads()).append('\n');
        sb.append("shardlink_rdma_read_answers_total{payload=\"copied\"} ").append(z.copiedReads()).append('\n');
        header(sb, "shardlink_rdma_read_answer_bytes_total", "counter",
                "Payload bytes of the read answers this node sent over RDMA, by payload: zero_copy or copied.");
        sb.append("shardlink_rdma_read_answer_bytes_total{payload=\"zero_copy\"} ").append(z.zeroCopyBytes())
                .append('\n');
        sb.append("shardlink_rdma_read_answer_bytes_total{payload=\"copied\"} ").append(z.copiedBytes()).append('\n');
        header(sb, "shardlink_rdma_zero_copy_fallbacks_total", "counter",
                "RDMA read answers copied instead of sent zero-copy, by reason.");
        sb.append("shardlink_rdma_zero_copy_fallbacks_total{reason=\"no_room\"} ").append(z.fallbackNoRoom())
                .append('\n');
        sb.append("shardlink_rdma_zero_copy_fallbacks_total{reason=\"crosses_window\"} ")
                .append(z.fallbackCrossesWindow()).append('\n');
        sb.append("shardlink_rdma_zero_copy_fallbacks_total{reason=\"registration\"} ")
                .append(z.fallbackRegistration()).append('\n');
        header(sb, "shardlink_rdma_file_window_events_total", "counter",
                "Zero-copy file windows registered, evicted, remapped (file grew) and private (kernel before 6.2).");
        sb.append("shardlink_rdma_file_window_events_total{event=\"registered\"} ").append(z.windowsRegistered())
                .append('\n');
        sb.append("shardlink_rdma_file_window_events_total{event=\"evicted\"} ").append(z.windowsEvicted())
                .append('\n');
        sb.append("shardlink_rdma_file_window_events_total{event=\"remapped\"} ").append(z.windowsRemapped())
                .append('\n');
        sb.append("shardlink_rdma_file_window_events_total{event=\"private\"} ").append(z.windowsPrivate())
                .append('\n');
        header(sb, "shardlink_rdma_file_windows", "gauge", "Zero-copy file windows registered now.");
        sb.append("shardlink_rdma_file_windows ").append(z.liveWindows()).append('\n');
        header(sb, "shardlink_rdma_file_window_pinned_bytes", "gauge",
                "Bytes the zero-copy file windows pin now (also in the node's pinned budget).");
        sb.append("shardlink_rdma_file_window_pinned_bytes ").append(z.windowPinnedBytes()).append('\n');
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String lc(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
