package io.shardlink.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * A sink that blocks once for longer than requestTimeout (6 s against 3 s; with the default 30 s that is a 30 s
 * fsync stall) must not fail the copy: ShardSink promises that blocking is fine and the sender is throttled.
 * The busy receiver re-sends its last ACK while the sink call runs, so the sender sees it alive (liveness, not
 * progress) and only a dead or silent peer times out. Over QUIC on the host; every byte verified.
 */
class BusySinkTest {
    static final int CHUNK = 1 << 20;
    static final int SIZE = 12 * CHUNK + 777;

    static ShardlinkConfig config(String id) throws Exception {
        return TestNodes.config(id).maxSendSize(CHUNK).numMemoryRegions(4)
                .requestTimeout(Duration.ofSeconds(3)).build();
    }

    @ParameterizedTest(name = "stall in {0}")
    @ValueSource(strings = {"onChunk", "onComplete"})
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aSinkThatStallsLongerThanRequestTimeoutDoesNotFailTheCopy(String where) throws Exception {
        byte[] shard = new byte[SIZE];
        new Random(3).nextBytes(shard);
        AtomicBoolean stalled = new AtomicBoolean();
        FailoverTest.RecordingSink[] sink = new FailoverTest.RecordingSink[1];
        try (ShardlinkNode a = ShardlinkNode.start(config("busy-a"), null);
             ShardlinkNode b = ShardlinkNode.start(config("busy-b"), null)) {
            b.onShardCopy((peer, id, total) -> {
                sink[0] = new FailoverTest.RecordingSink(total) {
                    @Override
                    public void onChunk(long offset, ByteBuffer payload) {
                        if (where.equals("onChunk") && offset == 3L * CHUNK) {
                            stall(stalled);
                        }
                        super.onChunk(offset, payload);
                    }

                    @Override
                    public void onComplete() {
                        if (where.equals("onComplete")) {
                            stall(stalled);
                        }
                        super.onComplete();
                    }
                };
                return sink[0];
            });
            Peer p = a.connect(b.localAddress());
            long t0 = System.nanoTime();
            CopyResult r = p.copyShard(1, ByteBuffer.wrap(shard), CopyProgressListener.NONE).get(60, TimeUnit.SECONDS);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(stalled).as("the sink stalled").isTrue();
            assertThat(ms).as("the copy waited out the stall").isGreaterThanOrEqualTo(6000);
            assertThat(r.bytes()).isEqualTo(SIZE);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            assertThat(sink[0].problems).isEmpty();
            assertThat(sink[0].completed).isTrue();
            assertThat(sink[0].data).isEqualTo(shard);
            assertThat(a.metrics().totalFallbacks()).isZero();
        }
    }

    static void stall(AtomicBoolean stalled) {
        if (stalled.compareAndSet(false, true)) {
            try {
                Thread.sleep(6000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
