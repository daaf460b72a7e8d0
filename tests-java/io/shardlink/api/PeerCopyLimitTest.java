package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A hostile (or buggy) authenticated peer floods a node with shard copies (QUIC path, real nodes): past
 * maxIncomingCopiesPerPeer each new copy is refused with ERROR TOO_MANY_COPIES and counted OVER_LIMIT for that
 * peer, while another peer's copies and reads on the same node complete verified, and the flooder's own
 * connection still serves copies within its limit afterwards.
 */
class PeerCopyLimitTest {
    // each held copy blocks one of the node's 4 worker threads in its sink: 2 leave room for the other peer
    private static final int LIMIT = 2;
    private static final int OVER = 6;

    /** Byte i of shard s: distinct per shard, so a mixed-up delivery fails the check. */
    private static byte[] shard(long s, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (s * 31 + i * 7 + (i >>> 9));
        }
        return b;
    }

    private static long crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return c.getValue();
    }

    /** Collects each copy's bytes; the flooder's sinks hold their first chunk until {@code gate} opens. */
    private static ShardSinkFactory sinks(String gatedPeer, CountDownLatch gate, Map<String, byte[]> done) {
        return (peer, shard, total) -> new GatedSink(total, peer.equals(gatedPeer) ? gate : null, 60,
                bytes -> done.put(peer + "/" + shard, bytes));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void copiesPastThePerPeerLimitAreRefusedClearlyWhileAnotherPeerCopiesAndReads() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("cl-server").maxIncomingCopiesPerPeer(LIMIT)
                .build());
             ShardlinkNode flooder = ShardlinkNode.start(TestNodes.config("cl-flooder").build());
             ShardlinkNode good = ShardlinkNode.start(TestNodes.config("cl-good").build())) {
            CountDownLatch gate = new CountDownLatch(1);
            Map<String, byte[]> done = new ConcurrentHashMap<>();
            server.onShardCopy(sinks("cl-flooder", gate, done));
            server.blobSource(SharedReadStreamsTest::blob);
            Peer f = flooder.connect(server.localAddress());
            Peer g = good.connect(server.localAddress());
            int len = 3 * flooder.config().maxSendSize() + 777;
            // held copies are one small chunk each: the limit, not QUIC flow control, is what refuses the rest
            int small = 64 * 1024 + 777;

            List<CompletableFuture<CopyResult>> held = new ArrayList<>();
            for (int s = 0; s < LIMIT; s++) {
                held.add(f.copyShard(100 + s, ByteBuffer.wrap(shard(100 + s, small)), CopyProgressListener.NONE));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (server.copiesInFlight().size() < LIMIT && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(server.copiesInFlight()).hasSize(LIMIT);

            for (int s = 0; s < OVER; s++) {
                CompletableFuture<CopyResult> c = f.copyShard(200 + s, ByteBuffer.wrap(shard(200 + s, small)),
                        CopyProgressListener.NONE);
                Throwable t = null;
                try {
                    c.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    t = e.getCause();
                }
                assertThat(t).as("copy " + s + " past the limit").isInstanceOf(ShardlinkException.class)
                        .hasMessageContaining("TOO_MANY_COPIES")
                        .hasMessageContaining("maxIncomingCopiesPerPeer = " + LIMIT)
                        .hasMessageContaining("cl-flooder");
                assertThat(((ShardlinkException) t).code()).isEqualTo(ErrorCode.TOO_MANY_COPIES);
            }
            assertThat(held).allSatisfy(h -> assertThat(h).isNotDone());
            assertThat(server.copiesInFlight()).hasSize(LIMIT);

            // the other peer is unaffected: LIMIT copies of its own at once, and reads, all verified
            List<CompletableFuture<CopyResult>> gc = new ArrayList<>();
            for (int s = 0; s < LIMIT; s++) {
                gc.add(g.copyShard(300 + s, ByteBuffer.wrap(shard(300 + s, len)), CopyProgressListener.NONE));
            }
            for (int s = 0; s < LIMIT; s++) {
                CopyResult r = gc.get(s).get(30, TimeUnit.SECONDS);
                assertThat(r.bytes()).isEqualTo(len);
                assertThat(r.transports()).containsOnly(Transport.QUIC);
                assertThat(crc(done.get("cl-good/" + (300 + s)))).isEqualTo(crc(shard(300 + s, len)));
                assertThat(Arrays.equals(done.get("cl-good/" + (300 + s)), shard(300 + s, len))).isTrue();
            }
            for (int i = 0; i < 50; i++) {
                SharedReadStreamsTest.verify(g.read(5, i, 0, 2048).get(10, TimeUnit.SECONDS), 5, i, 2048);
            }

            assertThat(server.metrics().peers().get("cl-flooder").completions(CompletionStatus.OVER_LIMIT))
                    .isEqualTo(OVER);
            assertThat(server.metrics().peers().get("cl-good").completions(CompletionStatus.OVER_LIMIT)).isZero();
            assertThat(server.metrics().completions(CompletionStatus.OVER_LIMIT)).isEqualTo(OVER);

            // the flooder's held copies finish once the sink moves, and its connection serves copies within
            // the limit afterwards
            gate.countDown();
            for (int s = 0; s < LIMIT; s++) {
                assertThat(held.get(s).get(30, TimeUnit.SECONDS).bytes()).isEqualTo(small);
                assertThat(done.get("cl-flooder/" + (100 + s))).isEqualTo(shard(100 + s, small));
            }
            for (int round = 0; round < 2; round++) {
                List<CompletableFuture<CopyResult>> again = new ArrayList<>();
                for (int s = 0; s < LIMIT; s++) {
                    long id = 400 + round * 10 + s;
                    again.add(f.copyShard(id, ByteBuffer.wrap(shard(id, len)), CopyProgressListener.NONE));
                }
                for (int s = 0; s < LIMIT; s++) {
                    long id = 400 + round * 10 + s;
                    assertThat(again.get(s).get(30, TimeUnit.SECONDS).bytes()).isEqualTo(len);
                    assertThat(done.get("cl-flooder/" + id)).isEqualTo(shard(id, len));
                }
            }
            SharedReadStreamsTest.verify(f.read(6, 1, 0, 512).get(10, TimeUnit.SECONDS), 6, 1, 512);
            assertThat(server.metrics().completions(CompletionStatus.OVER_LIMIT)).isEqualTo(OVER);
        }
    }
}
