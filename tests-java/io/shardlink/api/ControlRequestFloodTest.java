package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.quic.RawQuicClient;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A hostile (or buggy) authenticated peer floods a node's control stream with RESUME and PATH_CTL requests (QUIC,
 * real nodes): past maxControlRequestsPerSecondPerPeer each request is answered with ERROR TOO_MANY_REQUESTS naming
 * the limit and counted OVER_LIMIT for that peer; its connection stays up and is served again once it slows down,
 * while another peer's copies and reads on the same node complete verified.
 */
class ControlRequestFloodTest {
    private static final int LIMIT = 50;
    private static final int REQUESTS = 5000;

    private static byte[] shard(long s, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (s * 13 + i * 5 + (i >>> 10));
        }
        return b;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void controlRequestsPastThePerPeerLimitAreRefusedClearlyWhileAnotherPeerCopiesAndReads() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("cr-server")
                .maxControlRequestsPerSecondPerPeer(LIMIT).build());
             ShardlinkNode good = ShardlinkNode.start(TestNodes.config("cr-good").build());
             RawQuicClient raw = new RawQuicClient(TestNodes.config("cr-flooder").build(), server.localAddress())) {
            Map<String, byte[]> done = new ConcurrentHashMap<>();
            server.onShardCopy((peer, shard, total) -> new ShardSink() {
                final ByteBuffer got = ByteBuffer.allocate((int) total);

                public void onChunk(long off, ByteBuffer p) {
                    got.position((int) off);
                    got.put(p);
                }

                public void onComplete() {
                    done.put(peer + "/" + shard, got.array());
                }

                public void onAbort(Throwable t) {}
            });
            server.blobSource(SharedReadStreamsTest::blob);
            Peer g = good.connect(server.localAddress());
            RawQuicClient.RawStream ctl = raw.hello("cr-flooder");
            int len = 3 * good.config().maxSendSize() + 777;

            // the flood: RESUME and PATH_CTL requests, 100 to a write, while the good peer copies and reads
            long start = System.nanoTime();
            CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
                for (int i = 1; i <= REQUESTS; i += 100) {
                    ByteBuf batch = Unpooled.buffer();
                    for (int k = i; k < i + 100; k++) {
                        FrameHeader h = k % 2 == 0 ? new FrameHeader(FrameType.RESUME).id(k)
                                : new FrameHeader(FrameType.PATH_CTL).id(k);
                        FrameCodec.encodeFrame(h, k % 2 == 0 ? null : Unpooled.wrappedBuffer(new byte[] {0x7f}),
                                batch);
                    }
                    ctl.write(batch);
                }
            });
            List<CompletableFuture<CopyResult>> copies = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                copies.add(g.copyShard(300 + s, ByteBuffer.wrap(shard(300 + s, len)), CopyProgressListener.NONE));
            }
            for (int i = 0; i < 50; i++) {
                SharedReadStreamsTest.verify(g.read(5, i, 0, 2048).get(30, TimeUnit.SECONDS), 5, i, 2048);
            }
            for (int s = 0; s < 2; s++) {
                CopyResult r = copies.get(s).get(60, TimeUnit.SECONDS);
                assertThat(r.bytes()).isEqualTo(len);
                assertThat(r.transports()).containsOnly(Transport.QUIC);
                assertThat(done.get("cr-good/" + (300 + s))).isEqualTo(shard(300 + s, len));
            }
            flood.get(60, TimeUnit.SECONDS);

            // every request gets exactly one answer: its reply, or an ERROR
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ctl.frames(null).size() < REQUESTS + 1 && System.nanoTime() < deadline) { // + the HELLO
                Thread.sleep(20);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            List<String> messages = new ArrayList<>();
            List<FrameHeader> answers = ctl.frames(messages);
            assertThat(answers.remove(0).type()).isEqualTo(FrameType.HELLO);
            assertThat(answers).hasSize(REQUESTS);
            List<FrameHeader> refused = answers.stream().filter(h -> h.type() == FrameType.ERROR
                    && h.errorCode() == ErrorCode.TOO_MANY_REQUESTS).toList();
            long served = REQUESTS - refused.size();
            assertThat(served).as("served within the limit: a burst of %d, then %d a second for %.1f s", LIMIT, LIMIT,
                    seconds).isBetween((long) LIMIT, (long) (LIMIT + LIMIT * Math.ceil(seconds)) + 1);
            assertThat(refused).allSatisfy(h -> assertThat(h.aux()).isIn((long) FrameType.RESUME.code(),
                    (long) FrameType.PATH_CTL.code()));
            assertThat(refused.stream().filter(h -> h.aux() == FrameType.PATH_CTL.code()).count())
                    .as("PATH_CTL requests refused too").isPositive();
            assertThat(messages.stream().filter(m -> m.contains("maxControlRequestsPerSecondPerPeer = " + LIMIT))
                    .count()).isEqualTo(refused.size());
            assertThat(messages).anySatisfy(m -> assertThat(m).contains("cr-flooder").contains("cr-server")
                    .contains("the connection stays up"));

            assertThat(server.metrics().peers().get("cr-flooder").completions(CompletionStatus.OVER_LIMIT))
                    .isEqualTo(refused.size());
            assertThat(server.metrics().peers().get("cr-good").completions(CompletionStatus.OVER_LIMIT)).isZero();

            // the flooder's connection is still up, and served again once it slows down
            assertThat(raw.isOpen()).isTrue();
            Thread.sleep(1100);
            ByteBuf one = Unpooled.buffer();
            FrameCodec.encodeFrame(new FrameHeader(FrameType.RESUME).id(REQUESTS + 2), null, one);
            ctl.write(one);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ctl.frames(null).size() < REQUESTS + 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            List<FrameHeader> after = ctl.frames(null);
            assertThat(after).hasSize(REQUESTS + 2);
            FrameHeader last = after.get(REQUESTS + 1);
            assertThat(last.id()).isEqualTo(REQUESTS + 2);
            assertThat(last.type() == FrameType.ERROR && last.errorCode() == ErrorCode.TOO_MANY_REQUESTS)
                    .as("served after a quiet second: " + last).isFalse();
            // and the good peer still copies
            CopyResult again = g.copyShard(400, ByteBuffer.wrap(shard(400, len)), CopyProgressListener.NONE)
                    .get(60, TimeUnit.SECONDS);
            assertThat(again.bytes()).isEqualTo(len);
            assertThat(done.get("cr-good/400")).isEqualTo(shard(400, len));
            System.out.printf("ControlRequestFloodTest: %d requests in %.2f s, %d served, %d refused%n", REQUESTS,
                    seconds, served, refused.size());
        }
    }
}
