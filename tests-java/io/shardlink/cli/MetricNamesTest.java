package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.metrics.micrometer.ShardlinkMeterBinder;
import io.shardlink.rdma.path.ZeroCopyStats;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * /metrics and the Micrometer binder show the same metrics: every family of the Prometheus text is a meter of the
 * binder (Micrometer's Prometheus naming: dots to underscores, counters + _total, base unit bytes, timers in
 * _seconds) with the same label names, and the other way round.
 */
class MetricNamesTest {
    @Test
    void prometheusTextAndMicrometerBinderHaveTheSameNamesAndLabels() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShardlinkNode receiver = ShardlinkNode.start(TestNodes.config("names-receiver").build());
             ShardlinkNode sender = ShardlinkNode.start(TestNodes.config("names-sender").build());
             ShardlinkMeterBinder binder = new ShardlinkMeterBinder(sender, Duration.ofSeconds(60), Duration.ZERO)) {
            receiver.onShardCopy((peer, shard, total) -> new VerifyingSink(total, false));
            receiver.blobSource((vol, needle, off, len, dst) -> {
                dst.position(dst.position() + len);
                return len;
            });
            Peer peer = sender.connect(receiver.localAddress());
            peer.copyShard(1, ByteBuffer.allocateDirect(1 << 20), CopyProgressListener.NONE).get(60, TimeUnit.SECONDS);
            peer.read(1, 1, 0, 100).get(30, TimeUnit.SECONDS);
            binder.bindTo(registry); // binds with the peer already there

            String text = Prometheus.format(sender.nodeId(), sender.metrics(), sender.peers(),
                    sender.rdmaUnavailableReason() == null, ZeroCopyStats.of(sender));
            Map<String, Set<String>> fromText = families(text);
            Map<String, Set<String>> fromMicrometer = new TreeMap<>();
            for (Meter m : registry.getMeters()) {
                Meter.Id id = m.getId();
                String name = id.getName().replace('.', '_');
                switch (id.getType()) {
                    case COUNTER -> name = ("bytes".equals(id.getBaseUnit()) && !name.endsWith("_bytes")
                            ? name + "_bytes" : name) + "_total";
                    case TIMER -> name = name + "_seconds";
                    default -> { }
                }
                fromMicrometer.computeIfAbsent(name, k -> new TreeSet<>())
                        .addAll(id.getTags().stream().map(Tag::getKey).collect(Collectors.toSet()));
            }
            assertThat(fromMicrometer).as("Micrometer meters vs /metrics families").isEqualTo(fromText);
            promtoolAgrees(text);
            assertThat(fromText).containsKeys("shardlink_bytes_total", "shardlink_read_latency_seconds",
                    "shardlink_peer_bytes_total", "shardlink_peer_state", "shardlink_info",
                    "shardlink_rdma_read_answers_total", "shardlink_rdma_read_answer_bytes_total",
                    "shardlink_rdma_zero_copy_fallbacks_total", "shardlink_rdma_file_window_events_total",
                    "shardlink_rdma_file_windows", "shardlink_rdma_file_window_pinned_bytes");
        }
    }

    @Test
    void zeroCopyCountersAreExportedWithTheirValues() throws Exception {
        ZeroCopyStats z = new ZeroCopyStats(101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 12, 113, 65536,
                1 << 20, "no room");
        String text = Prometheus.format("zc", new TransportMetrics("zc").snapshot(), List.of(), true, z);
        // the zero-copy families only (the path's retries and recoveries are shardlink_rdma_* too)
        assertThat(text.lines().filter(l -> l.startsWith("shardlink_rdma_read_answer")
                || l.startsWith("shardlink_rdma_zero_copy_") || l.startsWith("shardlink_rdma_file_window"))).containsExactly(
                "shardlink_rdma_read_answers_total{payload=\"zero_copy\"} 101",
                "shardlink_rdma_read_answers_total{payload=\"copied\"} 103",
                "shardlink_rdma_read_answer_bytes_total{payload=\"zero_copy\"} 102",
                "shardlink_rdma_read_answer_bytes_total{payload=\"copied\"} 104",
                "shardlink_rdma_zero_copy_fallbacks_total{reason=\"no_room\"} 105",
                "shardlink_rdma_zero_copy_fallbacks_total{reason=\"crosses_window\"} 106",
                "shardlink_rdma_zero_copy_fallbacks_total{reason=\"registration\"} 107",
                "shardlink_rdma_file_window_events_total{event=\"registered\"} 108",
                "shardlink_rdma_file_window_events_total{event=\"evicted\"} 109",
                "shardlink_rdma_file_window_events_total{event=\"remapped\"} 110",
                "shardlink_rdma_file_window_events_total{event=\"private\"} 111",
                "shardlink_rdma_file_windows 12",
                "shardlink_rdma_file_window_pinned_bytes 113");
        promtoolAgrees(text);
    }

    /**
     * {@code promtool check metrics} (Debian package prometheus; ci/install-deps.sh installs it) finds nothing to
     * complain about, with a peer present (ci/smoke-cli.sh checks a live serve's too, but its clients are gone by
     * the time it scrapes).
     */
    private static void promtoolAgrees(String text) throws Exception {
        java.nio.file.Path promtool = java.util.Arrays.stream(System.getenv("PATH").split(":"))
                .map(d -> java.nio.file.Path.of(d, "promtool")).filter(java.nio.file.Files::isExecutable).findFirst()
                .orElse(null);
        if (promtool == null) {
            System.err.println("MetricNamesTest: promtool not installed, /metrics lint not run here (ci/install-deps.sh)");
            return;
        }
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String said = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(said).as("promtool check metrics on:\n" + text).isEmpty();
        assertThat(p.exitValue()).as(said).isZero();
    }

    /** Family name to label names, for every family with samples (histogram samples fold into their family). */
    private static Map<String, Set<String>> families(String text) {
        Map<String, Set<String>> out = new TreeMap<>();
        String family = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                family = line.split(" ")[2];
                continue;
            }
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Set<String> labels = out.computeIfAbsent(family, k -> new TreeSet<>());
            int b = line.indexOf('{');
            if (b >= 0) {
                for (String kv : line.substring(b + 1, line.indexOf('}')).split(",(?=[a-z_]+=\")")) {
                    String k = kv.substring(0, kv.indexOf('='));
                    if (!k.equals("le")) {
                        labels.add(k);
                    }
                }
            }
        }
        return out;
    }
}
