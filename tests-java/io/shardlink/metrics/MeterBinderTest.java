package io.shardlink.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.FileShardSink;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.metrics.micrometer.ShardlinkMeterBinder;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Micrometer binder shows a node's and its peers' counters and read timer, and moves with real traffic. */
class MeterBinderTest {
    private static final int SHARD = 3 << 20;
    private static final int READS = 200;

    @Test
    void countersAndReadTimerMoveWithACopyAndReads(@TempDir Path dir) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShardlinkNode receiver = ShardlinkNode.start(TestNodes.config("mb-receiver").build());
             ShardlinkNode sender = ShardlinkNode.start(TestNodes.config("mb-sender").build());
             ShardlinkMeterBinder binder = new ShardlinkMeterBinder(sender, Duration.ofMillis(200), Duration.ZERO)) {
            receiver.onShardCopy(FileShardSink.inDirectory(dir));
            receiver.blobSource((vol, needle, off, len, dst) -> {
                for (int i = 0; i < len; i++) {
                    dst.put((byte) (needle + off + i));
                }
                return len;
            });
            binder.bindTo(registry);
            assertThat(registry.get("shardlink.info").tags("node", "mb-sender").gauge().value()).isEqualTo(1.0);
            Peer peer = sender.connect(receiver.localAddress());

            CopyResult copy = peer.copyShard(1, ByteBuffer.allocateDirect(SHARD), CopyProgressListener.NONE)
                    .get(60, TimeUnit.SECONDS);
            assertThat(copy.bytes()).isEqualTo(SHARD);
            String transport = copy.transports().get(0).name().toLowerCase(Locale.ROOT);
            for (int i = 0; i < READS; i++) {
                ReadResult r = peer.read(7, i, 0, 512).get(30, TimeUnit.SECONDS);
                assertThat(r.length()).isEqualTo(512);
                assertThat(r.data().get(r.data().position() + 5)).isEqualTo((byte) (i + 5));
            }

            double sent = counter(registry, "shardlink.bytes", "transport", transport, "direction", "sent");
            assertThat(sent).isGreaterThanOrEqualTo(SHARD);
            assertThat(counter(registry, "shardlink.bytes", "transport", transport, "direction", "received"))
                    .isGreaterThanOrEqualTo(READS * 512);
            // the copy's chunks go out; each read's answer comes in
            assertThat(counter(registry, "shardlink.operations", "transport", transport, "direction", "sent"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(counter(registry, "shardlink.operations", "transport", transport, "direction", "received"))
                    .isGreaterThanOrEqualTo(READS);
            assertThat(counter(registry, "shardlink.completions", "status", "ok")).isEqualTo(READS + 1);
            assertThat(counter(registry, "shardlink.completions", "status", "failed")).isZero();
            assertThat(registry.get("shardlink.bytes").tags("transport", transport, "direction", "sent")
                    .functionCounter().getId().getBaseUnit()).isEqualTo("bytes");

            FunctionTimer reads = registry.get("shardlink.read.latency").functionTimer();
            assertThat(reads.count()).isEqualTo(READS);
            assertThat(reads.totalTime(TimeUnit.NANOSECONDS)).isPositive();
            assertThat(reads.mean(TimeUnit.SECONDS)).isPositive().isLessThan(30);

            // the peer: its own meters, tagged with its id and address; its state as a label
            String address = "127.0.0.1:" + receiver.localAddress().getPort();
            awaitPeerMeters(registry, address);
            // function meters hold their state weakly: the peer's counters must survive a collection
            System.gc();
            assertThat(registry.get("shardlink.peer.bytes").tags("peer", "mb-receiver", "address", address,
                    "transport", transport, "direction", "sent").functionCounter().count()).isGreaterThanOrEqualTo(SHARD);
            assertThat(registry.get("shardlink.peer.completions").tags("peer", "mb-receiver", "status", "ok")
                    .functionCounter().count()).isEqualTo(READS + 1);
            Gauge state = registry.get("shardlink.peer.state").tags("peer", "mb-receiver").gauge();
            assertThat(state.getId().getTag("state")).isEqualTo(peer.state().name().toLowerCase(Locale.ROOT));
            assertThat(registry.get("shardlink.peers").tags("state", state.getId().getTag("state")).gauge().value())
                    .isEqualTo(1.0);
            if (copy.transports().equals(java.util.List.of(Transport.QUIC))) {
                assertThat(counter(registry, "shardlink.bytes", "transport", "rdma", "direction", "sent")).isZero();
            }

            // the peer goes away: its meters go too, the node's stay
            peer.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (registry.find("shardlink.peer.bytes").meters().size() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(registry.find("shardlink.peer.bytes").meters()).isEmpty();
            assertThat(registry.find("shardlink.peer.state").meters()).isEmpty();
            assertThat(counter(registry, "shardlink.bytes", "transport", transport, "direction", "sent")).isEqualTo(sent);

            binder.close();
            assertThat(registry.getMeters().stream().map(Meter::getId).map(Meter.Id::getName)
                    .filter(n -> n.startsWith("shardlink."))).isEmpty();
            assertThat(Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().startsWith("shardlink-meters-"))).isEmpty();
        }
    }

    private static double counter(SimpleMeterRegistry r, String name, String... tags) {
        FunctionCounter c = r.get(name).tags(tags).functionCounter();
        return c.count();
    }

    private static void awaitPeerMeters(SimpleMeterRegistry r, String address) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (r.find("shardlink.peer.bytes").tag("address", address).meters().isEmpty()
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }
}
