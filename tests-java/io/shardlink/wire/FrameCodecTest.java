package io.shardlink.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    static final FrameLimits LIMITS = FrameLimits.of(4 << 20);

    static FrameHeader sample(FrameType t) {
        return new FrameHeader(t).flags(FrameHeader.FLAG_LAST).id(0x0102030405060708L).object(77).aux(1L << 40)
                .offset(123456789L).arg(16);
    }

    @Test
    void headerLayoutIsBigEndianAndDocumented() {
        ByteBuf b = Unpooled.buffer();
        FrameHeader h = sample(FrameType.DATA).length(3).crc32c(0xCAFEBABE);
        FrameCodec.encodeHeader(h, b);
        assertThat(b.readableBytes()).isEqualTo(56);
        assertThat(b.getInt(0)).isEqualTo(0x534C4E4B);
        assertThat(b.toString(0, 4, StandardCharsets.US_ASCII)).isEqualTo("SLNK");
        assertThat(b.getByte(4)).isEqualTo((byte) 1);
        assertThat(b.getByte(5)).isEqualTo((byte) FrameType.DATA.code());
        assertThat(b.getShort(6)).isEqualTo((short) FrameHeader.FLAG_LAST);
        assertThat(b.getInt(8)).isEqualTo(3);
        assertThat(b.getInt(12)).isEqualTo(0xCAFEBABE);
        assertThat(b.getByte(16)).isEqualTo((byte) 0x01); // big-endian id
        assertThat(b.getLong(24)).isEqualTo(77);
        assertThat(b.getLong(32)).isEqualTo(1L << 40);
        assertThat(b.getLong(40)).isEqualTo(123456789L);
        assertThat(b.getInt(48)).isEqualTo(16);
        assertThat(b.getInt(52)).isZero();
    }

    @Test
    void everyTypeRoundTripsThroughByteBufAndByteBuffer() {
        for (FrameType t : FrameType.values()) {
            byte[] payload = ("payload of " + t).getBytes(StandardCharsets.UTF_8);
            ByteBuf out = Unpooled.buffer();
            FrameHeader h = sample(t);
            FrameCodec.encodeFrame(h, Unpooled.wrappedBuffer(payload), out);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            assertThat(h.crc32c()).isEqualTo((int) crc.getValue());

            FrameHeader d = FrameCodec.decodeHeader(out.duplicate(), new FrameHeader(), LIMITS);
            assertThat(d.toString()).isEqualTo(h.toString());
            assertThat(d.type()).isEqualTo(t);

            ByteBuffer slot = ByteBuffer.allocateDirect(200);
            slot.put(out.nioBuffer()).flip();
            FrameHeader d2 = new FrameHeader();
            ByteBuffer p = FrameCodec.decodeFrame(slot, d2, LIMITS);
            assertThat(d2.toString()).isEqualTo(h.toString());
            FrameCodec.verifyCrc(d2, p);
            byte[] got = new byte[p.remaining()];
            p.get(got);
            assertThat(got).isEqualTo(payload);
            assertThat(slot.position()).isZero();
        }
    }

    @Test
    void encodeToByteBufferMatchesByteBuf() {
        FrameHeader h = sample(FrameType.ACK);
        ByteBuffer bb = ByteBuffer.allocate(56).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        FrameCodec.encodeHeader(h, bb);
        ByteBuf b = Unpooled.buffer();
        FrameCodec.encodeHeader(h, b);
        assertThat(bb.array()).isEqualTo(java.util.Arrays.copyOf(b.array(), 56));
        assertThat(bb.position()).isEqualTo(56);
    }

    private static ByteBuf frame(FrameType t, int len) {
        ByteBuf b = Unpooled.buffer();
        FrameCodec.encodeFrame(sample(t), Unpooled.wrappedBuffer(new byte[len]), b);
        return b;
    }

    private static void rejects(ByteBuf b, ErrorCode code, String... fragments) {
        var a = assertThatThrownBy(() -> FrameCodec.decodeHeader(b, new FrameHeader(), LIMITS))
                .isInstanceOf(FrameException.class)
                .satisfies(e -> assertThat(((FrameException) e).code()).isEqualTo(code));
        for (String f : fragments) {
            a.hasMessageContaining(f);
        }
        ByteBuffer slot = ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(b));
        assertThatThrownBy(() -> FrameCodec.decodeFrame(slot, new FrameHeader(), LIMITS))
                .isInstanceOf(FrameException.class)
                .satisfies(e -> assertThat(((FrameException) e).code()).isEqualTo(code));
    }

    @Test
    void badMagic() {
        ByteBuf b = frame(FrameType.DATA, 8);
        b.setInt(0, 0x47455420); // "GET "
        rejects(b, ErrorCode.BAD_MAGIC, "bad magic 0x47455420", "not a shardlink frame");
    }

    @Test
    void badVersion() {
        ByteBuf b = frame(FrameType.DATA, 8);
        b.setByte(4, 9);
        rejects(b, ErrorCode.BAD_VERSION, "unsupported protocol version 9");
    }

    @Test
    void badType() {
        ByteBuf b = frame(FrameType.DATA, 8);
        b.setByte(5, 200);
        rejects(b, ErrorCode.BAD_TYPE, "unknown frame type 200");
        b.setByte(5, 0);
        rejects(b, ErrorCode.BAD_TYPE, "unknown frame type 0");
    }

    @Test
    void unknownFlagsAndReservedBits() {
        ByteBuf b = frame(FrameType.DATA, 8);
        b.setShort(6, 0x8000);
        rejects(b, ErrorCode.BAD_HEADER, "unknown flags 0x8000");
        ByteBuf c = frame(FrameType.DATA, 8);
        c.setInt(52, 1);
        rejects(c, ErrorCode.BAD_HEADER, "reserved");
    }

    @Test
    void sharedStreamFlagOnlyOnReadReq() {
        ByteBuf ok = Unpooled.buffer();
        FrameCodec.encodeHeader(new FrameHeader(FrameType.READ_REQ).id(7).arg(4096).cookie(0x1234)
                .addFlag(FrameHeader.FLAG_SHARED_STREAM), ok);
        FrameHeader h = FrameCodec.decodeHeader(ok, new FrameHeader(), LIMITS);
        assertThat(h.hasFlag(FrameHeader.FLAG_SHARED_STREAM)).isTrue();
        assertThat(h.cookie()).isEqualTo(0x1234);
        ByteBuf b = frame(FrameType.READ_RESP, 8);
        b.setShort(6, FrameHeader.FLAG_SHARED_STREAM);
        rejects(b, ErrorCode.BAD_HEADER, "READ_RESP frame has FLAG_SHARED_STREAM");
    }

    @Test
    void truncatedHeader() {
        ByteBuf b = frame(FrameType.ACK, 0).slice(0, 30);
        rejects(b, ErrorCode.TRUNCATED, "truncated frame header: 30 bytes");
    }

    @Test
    void truncatedPayloadInASlot() {
        ByteBuf b = frame(FrameType.DATA, 100);
        ByteBuffer slot = ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(b, 0, 56 + 40));
        assertThatThrownBy(() -> FrameCodec.decodeFrame(slot, new FrameHeader(), LIMITS))
                .isInstanceOf(FrameException.class).hasMessageContaining("announces 100 payload bytes, only 40");
    }

    @Test
    void lengthOverMaxSendSizeIsRefusedBeforeThePayload() {
        ByteBuf b = Unpooled.buffer();
        FrameCodec.encodeHeader(sample(FrameType.DATA).length((4 << 20) + 1), b); // header only: nothing buffered
        rejects(b, ErrorCode.TOO_LARGE, "4194305 exceeds the limit of 4194304", "maxSendSize");
        ByteBuf neg = Unpooled.buffer();
        FrameCodec.encodeHeader(sample(FrameType.DATA).length(-1), neg);
        rejects(neg, ErrorCode.TOO_LARGE, "4294967295");
    }

    @Test
    void controlFramesHaveASmallerLimit() {
        ByteBuf b = Unpooled.buffer();
        FrameCodec.encodeHeader(sample(FrameType.HELLO).length(1 << 20), b);
        rejects(b, ErrorCode.TOO_LARGE, "control frames");
    }

    @Test
    void offsetOutOfBounds() {
        FrameHeader h = sample(FrameType.DATA).offset(1000).length(100);
        assertThatThrownBy(() -> FrameCodec.checkChunkBounds(h, 1050)).isInstanceOf(FrameException.class)
                .hasMessageContaining("ends at 1100, past the announced total of 1050 bytes")
                .satisfies(e -> assertThat(((FrameException) e).code()).isEqualTo(ErrorCode.OUT_OF_BOUNDS));
        assertThatThrownBy(() -> FrameCodec.checkChunkBounds(sample(FrameType.DATA).offset(-5).length(1), 100))
                .isInstanceOf(FrameException.class);
        assertThatThrownBy(() -> FrameCodec.checkChunkBounds(sample(FrameType.DATA).offset(Long.MAX_VALUE).length(10),
                Long.MAX_VALUE)).isInstanceOf(FrameException.class);
        FrameCodec.checkChunkBounds(sample(FrameType.DATA).offset(950).length(100), 1050);
    }

    @Test
    void crcMismatch() {
        ByteBuf b = frame(FrameType.DATA, 64);
        b.setByte(56 + 10, 1); // corrupt the payload
        FrameHeader h = FrameCodec.decodeHeader(b, new FrameHeader(), LIMITS);
        assertThatThrownBy(() -> FrameCodec.verifyCrc(h, b)).isInstanceOf(FrameException.class)
                .hasMessageContaining("CRC32C mismatch in DATA frame")
                .satisfies(e -> assertThat(((FrameException) e).code()).isEqualTo(ErrorCode.CRC_MISMATCH));
    }

    @Test
    void errorFramesCarryCodeAndMessage() {
        ByteBuf b = Unpooled.buffer();
        FrameCodec.encodeError(5, 64, ErrorCode.CRC_MISMATCH, "bad chunk", b);
        FrameHeader h = FrameCodec.decodeHeader(b, new FrameHeader(), LIMITS);
        assertThat(h.type()).isEqualTo(FrameType.ERROR);
        assertThat(h.errorCode()).isEqualTo(ErrorCode.CRC_MISMATCH);
        FrameCodec.verifyCrc(h, b);
        assertThat(FrameCodec.errorMessage(b)).isEqualTo("bad chunk");
        ByteBuf big = Unpooled.buffer();
        FrameCodec.encodeError(1, 0, ErrorCode.INTERNAL, "x".repeat(10_000), big);
        assertThat(big.readableBytes()).isEqualTo(56 + FrameCodec.MAX_ERROR_MESSAGE);
    }

    @Test
    void helloRoundTripAndMalformedHello() {
        Hello h = new Hello("node-a", 1, Hello.CAP_RDMA, 4 << 20, 16, new byte[] {1, 2, 3});
        ByteBuf b = Unpooled.buffer();
        h.encode(b);
        assertThat(Hello.decode(b.duplicate())).isEqualTo(h);
        assertThat(Hello.decode(b.duplicate()).rdmaCapable()).isTrue();
        assertThatThrownBy(() -> Hello.decode(b.slice(0, 10))).isInstanceOf(FrameException.class)
                .hasMessageContaining("malformed HELLO");
        ByteBuf huge = Unpooled.buffer();
        new Hello("n", 1, 0, 1, 1, new byte[0]).encode(huge);
        huge.setInt(huge.writerIndex() - 4, Integer.MAX_VALUE); // endpoint length
        assertThatThrownBy(() -> Hello.decode(huge)).isInstanceOf(FrameException.class)
                .hasMessageContaining("endpoint length");
    }
}
