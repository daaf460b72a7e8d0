package io.shardlink.quic;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A raw client sends malformed, corrupt and oversized frames; each gets a precise ERROR on its stream, and
 * another peer's copy to the same node keeps working meanwhile.
 */
class MisbehavingPeerTest {
    static ByteBuf frame(FrameHeader h, byte[] payload) {
        ByteBuf b = Unpooled.buffer();
        FrameCodec.encodeFrame(h, Unpooled.wrappedBuffer(payload), b);
        return b;
    }

    static ByteBuf begin(long id, long total) {
        return frame(new FrameHeader(FrameType.COPY_BEGIN).id(id).object(5).aux(total), new byte[0]);
    }

    static ByteBuf data(long id, long off, byte[] p) {
        return frame(new FrameHeader(FrameType.DATA).id(id).object(5).offset(off), p);
    }

    record Case(String name, ErrorCode code, String fragment, Consumer<RawQuicClient.RawStream> send) {}

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void malformedFramesGetClearErrorsWhileAnotherPeerCopies() throws Exception {
        AtomicInteger aborted = new AtomicInteger();
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("victim").build());
             ShardlinkNode good = ShardlinkNode.start(TestNodes.config("good-peer").build());
             RawQuicClient raw = new RawQuicClient(TestNodes.config("raw-peer").build(), server.localAddress())) {
            server.onShardCopy((peer, shard, total) -> new ShardSink() {
                public void onChunk(long o, ByteBuffer p) {}
                public void onComplete() {}
                public void onAbort(Throwable t) {
                    aborted.incrementAndGet();
                }
            });
            // a streaming copy from a well-behaved peer runs during the whole abuse
            Peer peer = good.connect(server.localAddress());
            ByteBuffer shard = ByteBuffer.allocateDirect(48 << 20);
            CompletableFuture<CopyResult> goodCopy = peer.copyShard(1, shard, CopyProgressListener.NONE);

            // before HELLO: data streams are refused
            RawQuicClient.RawStream early = raw.openStream();
            early.write(begin(1, 10));
            assertThat(early.awaitFrames(10_000, 1)).extracting(FrameHeader::type).containsExactly(FrameType.ERROR);
            assertThat(early.errorMessages().get(0)).contains("before the HELLO exchange");

            raw.hello("raw-peer");
            byte[] eight = new byte[8];
            List<Case> cases = List.of(
                    new Case("bad magic", ErrorCode.BAD_MAGIC, "bad magic", s -> {
                        ByteBuf b = begin(2, 10);
                        b.setInt(0, 0x12345678);
                        s.write(b);
                    }),
                    new Case("bad version", ErrorCode.BAD_VERSION, "unsupported protocol version 7", s -> {
                        ByteBuf b = begin(3, 10);
                        b.setByte(4, 7);
                        s.write(b);
                    }),
                    new Case("bad type", ErrorCode.BAD_TYPE, "unknown frame type 99", s -> {
                        ByteBuf b = begin(4, 10);
                        b.setByte(5, 99);
                        s.write(b);
                    }),
                    new Case("truncated header", ErrorCode.TRUNCATED, "stream ended inside a frame", s -> {
                        s.write(begin(5, 10).slice(0, 20).copy());
                        s.finish();
                    }),
                    new Case("oversized length", ErrorCode.TOO_LARGE, "exceeds the limit of 4194304", s -> {
                        s.write(begin(6, 100 << 20));
                        ByteBuf h = Unpooled.buffer();
                        FrameCodec.encodeHeader(new FrameHeader(FrameType.DATA).id(6).object(5).length(64 << 20), h);
                        s.write(h); // header only: the node must refuse without waiting for 64 MiB
                    }),
                    new Case("offset out of bounds", ErrorCode.OUT_OF_BOUNDS, "past the announced total of 10", s -> {
                        s.write(begin(7, 10));
                        s.write(data(7, 0, new byte[16]));
                    }),
                    new Case("crc mismatch", ErrorCode.CRC_MISMATCH, "CRC32C mismatch", s -> {
                        s.write(begin(8, 100));
                        ByteBuf d = data(8, 0, eight);
                        d.setByte(FrameCodec.HEADER_SIZE + 3, 42); // corrupt after the CRC was computed
                        s.write(d);
                    }),
                    new Case("out of order", ErrorCode.OUT_OF_ORDER, "next expected is 0", s -> {
                        s.write(begin(9, 100));
                        s.write(data(9, 8, eight));
                    }),
                    new Case("data without begin", ErrorCode.PROTOCOL, "must start with HELLO, COPY_BEGIN or READ_REQ",
                            s -> s.write(data(10, 0, eight))),
                    new Case("oversized read", ErrorCode.TOO_LARGE, "maxSendSize", s -> s.write(frame(
                            new FrameHeader(FrameType.READ_REQ).id(11).arg((4 << 20) + 1), new byte[0]))));
            for (Case c : cases) {
                RawQuicClient.RawStream s = raw.openStream();
                c.send.accept(s);
                List<FrameHeader> got = s.awaitFrames(10_000, 2);
                FrameHeader err = got.stream().filter(h -> h.type() == FrameType.ERROR).findFirst()
                        .orElseThrow(() -> new AssertionError(c.name + ": no ERROR, got " + got));
                assertThat(err.errorCode()).as(c.name).isEqualTo(c.code);
                assertThat(String.join(" | ", s.errorMessages())).as(c.name).contains(c.fragment);
            }
            assertThat(raw.isOpen()).as("data-stream errors do not close the connection").isTrue();

            CopyResult r = goodCopy.get(60, TimeUnit.SECONDS);
            assertThat(r.bytes()).isEqualTo(48 << 20);
            // transfers the raw peer started and broke were aborted (sink onAbort), none left behind
            assertThat(aborted.get()).isGreaterThanOrEqualTo(3);

            // a protocol violation on the control stream (a second HELLO): ERROR, then the node closes that
            // connection only; the good peer goes on copying
            RawQuicClient.RawStream again = raw.openStream();
            ByteBuf p = Unpooled.buffer();
            new io.shardlink.wire.Hello("raw-peer", FrameCodec.VERSION, 0, 4 << 20, 16, new byte[0]).encode(p);
            ByteBuf f = Unpooled.buffer();
            FrameCodec.encodeFrame(new FrameHeader(FrameType.HELLO), p, f);
            again.write(f);
            assertThat(again.awaitFrames(10_000, 1)).extracting(FrameHeader::errorCode).containsExactly(ErrorCode.PROTOCOL);
            assertThat(again.errorMessages().get(0)).contains("second HELLO");
            long end = System.currentTimeMillis() + 10_000;
            while (raw.isOpen() && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertThat(raw.isOpen()).as("connection closed after a control-plane violation").isFalse();
            assertThat(peer.copyShard(2, ByteBuffer.allocate(1000), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS).bytes()).isEqualTo(1000);
        }
    }
}
