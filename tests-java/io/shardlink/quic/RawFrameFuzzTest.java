package io.shardlink.quic;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import io.shardlink.wire.Hello;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A raw QUIC client (authenticated, past HELLO) sends 10,000 random or mutated frames on data streams at a
 * live node, 1-3 per stream (none starting with HELLO: that makes a second control stream, which closes the
 * connection by design), while another peer's 48 MiB copy to the same node runs: that copy completes with
 * every byte verified, the raw connection survives (data-stream errors are local to their stream), every
 * answer the node sends is a well-formed frame, and afterwards the node still copies and reads for others
 * and has no chunk buffer left lent out. Seeded (-Dshardlink.fuzzSeed) so a failure can be replayed.
 */
class RawFrameFuzzTest {
    static final int FRAMES = Integer.getInteger("shardlink.fuzzFrames", 10_000);
    static final long SEED = Long.getLong("shardlink.fuzzSeed", 1111);

    /** A plausible frame of a random type (valid header, random fields), or fully random bytes. */
    static byte[] frame(Random r) {
        FrameType[] types = FrameType.values();
        if (r.nextInt(10) == 0) {
            byte[] junk = new byte[r.nextInt(200)];
            r.nextBytes(junk);
            return junk;
        }
        FrameType t = types[r.nextInt(types.length)];
        byte[] payload = new byte[t == FrameType.HELLO ? 0 : r.nextInt(4) == 0 ? r.nextInt(3000) : r.nextInt(16)];
        r.nextBytes(payload);
        if (t == FrameType.HELLO) {
            ByteBuf h = Unpooled.buffer();
            new Hello("fuzz-" + r.nextInt(100), FrameCodec.VERSION, r.nextInt(2), 1 + r.nextInt(8 << 20),
                    1 + r.nextInt(64), new byte[r.nextInt(50)]).encode(h);
            payload = new byte[h.readableBytes()];
            h.readBytes(payload);
        }
        long id = r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(50);
        FrameHeader h = new FrameHeader(t).id(id).object(r.nextInt(8)).aux(r.nextInt(4) == 0 ? r.nextLong()
                : r.nextInt(1 << 20)).offset(r.nextInt(4) == 0 ? r.nextLong() : r.nextInt(1 << 20))
                .arg(r.nextInt(4) == 0 ? r.nextInt() : r.nextInt(4096))
                .flags(r.nextInt(FrameHeader.KNOWN_FLAGS + 1));
        ByteBuf out = Unpooled.buffer();
        FrameCodec.encodeFrame(h, Unpooled.wrappedBuffer(payload), out);
        byte[] f = new byte[out.readableBytes()];
        out.readBytes(f);
        // mutate half of them: bit flips, random bytes, truncation, or a wrong length/CRC
        if (r.nextBoolean() && f.length > 0) {
            int flips = 1 + r.nextInt(4);
            for (int i = 0; i < flips; i++) {
                int at = r.nextInt(r.nextBoolean() ? Math.min(f.length, FrameCodec.HEADER_SIZE) : f.length);
                f[at] = r.nextBoolean() ? (byte) (f[at] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
            }
            if (r.nextInt(5) == 0) {
                f = java.util.Arrays.copyOf(f, r.nextInt(f.length + 1));
            }
        }
        return f;
    }

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void tenThousandRandomOrMutatedFramesWhileAnotherPeersCopyCompletesVerified() throws Exception {
        Random r = new Random(SEED);
        int size = 48 << 20;
        byte[] shard = new byte[size];
        new Random(SEED + 1).nextBytes(shard);
        CRC32C want = new CRC32C();
        want.update(shard);
        CRC32C got = new CRC32C();
        AtomicLong goodBytes = new AtomicLong();
        AtomicInteger rawStreams = new AtomicInteger();
        AtomicInteger answers = new AtomicInteger();
        AtomicInteger badAnswers = new AtomicInteger();
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("fuzz-victim").build());
             ShardlinkNode good = ShardlinkNode.start(TestNodes.config("fuzz-good").build());
             RawQuicClient raw = new RawQuicClient(TestNodes.config("fuzz-raw").build(), server.localAddress())) {
            server.onShardCopy((peer, shard1, total) -> new ShardSink() {
                final boolean fromGood = peer.equals("fuzz-good");

                public void onChunk(long o, ByteBuffer p) {
                    if (fromGood) {
                        goodBytes.addAndGet(p.remaining());
                        got.update(p);
                    }
                }
                public void onComplete() {}
                public void onAbort(Throwable t) {}
            });
            server.blobSource((v, n, o, l, d) -> {
                int k = Math.min(l, d.remaining());
                d.put(new byte[k]);
                return k;
            });
            Peer peer = good.connect(server.localAddress());
            CompletableFuture<CopyResult> goodCopy = peer.copyShard(1, ByteBuffer.wrap(shard), CopyProgressListener.NONE);

            raw.hello("fuzz-raw");
            Semaphore inFlight = new Semaphore(200); // stay well inside the node's stream limit
            int sent = 0;
            while (sent < FRAMES) {
                inFlight.acquire();
                RawQuicClient.RawStream s = raw.openStream();
                rawStreams.incrementAndGet();
                QuicStreamChannel ch = s.ch;
                ch.closeFuture().addListener(x -> {
                    answers.addAndGet(countAnswers(s, badAnswers));
                    inFlight.release();
                });
                int n = Math.min(FRAMES - sent, 1 + r.nextInt(3));
                ByteBuf batch = Unpooled.buffer();
                for (int i = 0; i < n; i++) {
                    batch.writeBytes(frame(r));
                }
                if (batch.readableBytes() > 5 && batch.getByte(5) == FrameType.HELLO.code()) {
                    // a stream that starts with HELLO is a control stream: its end closes the connection by
                    // design (MisbehavingPeerTest covers that); keep the fuzz on data streams
                    batch.setByte(5, 2 + r.nextInt(20));
                }
                sent += n;
                ch.writeAndFlush(batch);
                ch.shutdownOutput();
                // a stream the node keeps open (a valid COPY_BEGIN waits for DATA) is reset after a while
                ch.eventLoop().schedule(() -> ch.close(), 2, TimeUnit.SECONDS);
            }
            assertThat(inFlight.tryAcquire(200, 60, TimeUnit.SECONDS)).as("every raw stream ended").isTrue();

            CopyResult c = goodCopy.get(300, TimeUnit.SECONDS);
            assertThat(c.bytes()).isEqualTo(size);
            assertThat(goodBytes.get()).isEqualTo(size);
            assertThat(got.getValue()).as("the good peer's bytes, verified").isEqualTo(want.getValue());
            assertThat(raw.isOpen()).as("data-stream garbage does not close the raw connection").isTrue();
            assertThat(badAnswers.get()).as("answers that were not well-formed frames").isZero();
            assertThat(answers.get()).as("the node answered (ERRORs, ACKs, READ_RESPs)").isPositive();

            // the node still serves everyone
            assertThat(peer.copyShard(2, ByteBuffer.wrap(shard, 0, 1 << 20), CopyProgressListener.NONE)
                    .get(60, TimeUnit.SECONDS).bytes()).isEqualTo(1 << 20);
            assertThat(peer.read(1, 1, 0, 100).get(30, TimeUnit.SECONDS).length()).isEqualTo(100);
            long end = System.currentTimeMillis() + 10_000;
            while (server.outstandingBuffers() > 0 && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertThat(server.outstandingBuffers()).isZero();
            System.out.printf("RawFrameFuzzTest: seed %d, %d frames on %d streams, %d answer frames%n", SEED, FRAMES,
                    rawStreams.get(), answers.get());
        }
    }

    /** Frames the node sent on a raw stream; a stream whose bytes do not decode as frames counts as bad. */
    static int countAnswers(RawQuicClient.RawStream s, AtomicInteger bad) {
        try {
            return s.frames(null).size();
        } catch (RuntimeException e) {
            bad.incrementAndGet();
            return 0;
        }
    }
}
