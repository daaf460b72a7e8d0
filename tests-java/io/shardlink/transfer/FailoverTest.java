package io.shardlink.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Failover mid-copy: the "RDMA" path (a deterministic fault injector) fails after N chunks; the driver marks
 * the peer FAILED, asks the receiver with RESUME where to go on, and finishes over QUIC. The sink must see
 * every byte exactly once, in order, verified.
 */
class FailoverTest {
    static final int CHUNK = 1 << 20;
    static final int SIZE = 24 * CHUNK + 12345;

    /** Records every chunk; fails the test on a gap, overlap or duplicate. */
    static class RecordingSink implements ShardSink {
        final byte[] data;
        long next;
        int chunks;
        final AtomicBoolean completed = new AtomicBoolean();
        final List<String> problems = new CopyOnWriteArrayList<>();

        RecordingSink(long total) {
            data = new byte[(int) total];
        }

        @Override
        public void onChunk(long offset, ByteBuffer payload) {
            if (offset != next) {
                problems.add("chunk at " + offset + " but next is " + next);
            }
            int n = payload.remaining();
            payload.get(data, (int) offset, n);
            next = offset + n;
            chunks++;
        }

        @Override
        public void onComplete() {
            completed.set(true);
        }

        @Override
        public void onAbort(Throwable cause) {
            problems.add("aborted: " + cause);
        }
    }

    static ShardlinkConfig.Builder config(String id) throws Exception {
        // no RDMA retry within a test: these look at the state a failure leaves (PathRecoveryTest covers retries)
        return TestNodes.config(id).maxSendSize(CHUNK).numMemoryRegions(4).qpDepth(4).pinnedMemoryBudget(64L << 20)
                .rdmaRetry(Duration.ofMinutes(10), Duration.ofMinutes(10), Duration.ofMinutes(10));
    }

    @ParameterizedTest(name = "deliverFailingChunk={0}")
    @ValueSource(booleans = {true, false})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void rdmaFailureMidCopyResumesOverQuicExactlyOnceInOrder(boolean deliverFailingChunk) throws Exception {
        FaultInjectingProvider senderPath = new FaultInjectingProvider(7, deliverFailingChunk);
        byte[] shard = new byte[SIZE];
        new Random(7).nextBytes(shard);
        List<RecordingSink> sinks = new CopyOnWriteArrayList<>();
        List<String> transitions = new CopyOnWriteArrayList<>();
        try (ShardlinkNode a = ShardlinkNode.start(config("fo-a").build(), senderPath);
             ShardlinkNode b = ShardlinkNode.start(config("fo-b").build(), new FaultInjectingProvider(1000, true))) {
            b.onShardCopy((peer, id, total) -> {
                RecordingSink s = new RecordingSink(total);
                sinks.add(s);
                return s;
            });
            a.addPeerStateListener((peer, from, to, cause) -> transitions.add(from + "->" + to));
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            List<String> fallbacks = new CopyOnWriteArrayList<>();
            CopyResult r = p.copyShard(3, ByteBuffer.wrap(shard), new CopyProgressListener() {
                @Override
                public void onProgress(long acked, long total, Transport t) {}

                @Override
                public void onFallback(Transport from, Transport to, long resumeOffset, Throwable cause) {
                    fallbacks.add(from + "->" + to + "@" + resumeOffset);
                }
            }).get(45, TimeUnit.SECONDS);

            assertThat(r.transports()).containsExactly(Transport.RDMA, Transport.QUIC);
            assertThat(r.fallbacks()).isEqualTo(1);
            assertThat(r.fallbackCauses().get(0)).contains("injected: QP entered the error state");
            assertThat(r.bytes()).isEqualTo(SIZE);
            assertThat(fallbacks).hasSize(1);
            long resumeAt = Long.parseLong(fallbacks.get(0).substring(fallbacks.get(0).indexOf('@') + 1));
            assertThat(resumeAt % CHUNK).isZero();
            assertThat(resumeAt).isBetween(0L, 8L * CHUNK);

            assertThat(p.state()).isEqualTo(PeerState.FAILED);
            assertThat(p.lastCause()).hasMessageContaining("injected");
            assertThat(transitions).containsExactly("DISCONNECTED->CONNECTED", "CONNECTED->FAILED");
            // one copy moved to QUIC = one fallback (the peer's path failure is its FAILED state, not a fallback)
            assertThat(a.metrics().totalFallbacks()).isEqualTo(1);
            assertThat(a.metrics().fallbacks()).hasSize(1);
            assertThat(a.metrics().fallbacks().keySet().iterator().next())
                    .startsWith("IOException: injected: QP entered the error state");
            assertThat(p.metrics().totalFallbacks()).isEqualTo(1);

            assertThat(sinks).hasSize(1);
            RecordingSink s = sinks.get(0);
            assertThat(s.problems).isEmpty();
            assertThat(s.completed).isTrue();
            assertThat(s.next).isEqualTo(SIZE);
            assertThat(s.chunks).as("every chunk delivered exactly once").isEqualTo((SIZE + CHUNK - 1) / CHUNK);
            assertThat(s.data).isEqualTo(shard);
            assertThat(a.outstandingBuffers()).isZero();

            // the next copy goes straight over QUIC (peer FAILED)
            CopyResult again = p.copyShard(4, ByteBuffer.wrap(shard, 0, 5000), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS);
            assertThat(again.transports()).containsExactly(Transport.QUIC);
            assertThat(a.metrics().totalFallbacks()).as("a copy started over QUIC is no fallback").isEqualTo(1);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void rdmaOnlyModeFailsTheCopyWithTheCause() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(config("ro-a").transportMode(TransportMode.RDMA_ONLY).build(),
                new FaultInjectingProvider(2, true));
             ShardlinkNode b = ShardlinkNode.start(config("ro-b").build(), new FaultInjectingProvider(1000, true))) {
            b.onShardCopy((peer, id, total) -> new RecordingSink(total));
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThatThrownBy(() -> p.copyShard(1, ByteBuffer.allocate(SIZE), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("copy of shard 1")
                    .hasMessageContaining("to ro-b failed on its RDMA path")
                    .hasMessageContaining("RDMA_ONLY".equals("x") ? "" : "transport mode allows no fallback");
            assertThat(p.state()).isEqualTo(PeerState.FAILED);
            assertThat(a.metrics().totalFallbacks()).as("nothing moved to QUIC").isZero();
            assertThatThrownBy(() -> p.copyShard(2, ByteBuffer.allocate(10), CopyProgressListener.NONE).get())
                    .cause().hasMessageContaining("RDMA_ONLY");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void peerWithoutRdmaIsUnavailableAndUsesQuic() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(config("un-a").build(), new FaultInjectingProvider(1, true));
             ShardlinkNode b = ShardlinkNode.start(config("un-b").build(), null)) {
            b.onShardCopy((peer, id, total) -> new RecordingSink(total));
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.UNAVAILABLE);
            assertThat(p.lastCause()).hasMessageContaining("un-b has no RDMA path");
            assertThat(p.copyShard(1, ByteBuffer.allocate(3 * CHUNK), CopyProgressListener.NONE).get(30, TimeUnit.SECONDS)
                    .transports()).containsExactly(Transport.QUIC);
        }
    }
}
