package io.shardlink.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the frame header decoders (stream: {@link FrameCodec#decodeHeader}; slot: {@link FrameCodec#decodeFrame})
 * with random bytes and with mutated valid headers. Each input either decodes (and then re-encodes to the same
 * bytes, with the reader index exactly past the header / a payload slice inside the slot) or fails with a
 * {@link FrameException} of one of the documented codes. Never another exception, never a read outside the input
 * (the input is an exact-size slice of a larger buffer: a read past it would throw IndexOutOfBounds).
 */
class FrameDecodingFuzzTest {
    static final FrameLimits LIMITS = FrameLimits.of(1 << 20);
    static final Set<ErrorCode> HEADER_ERRORS = EnumSet.of(ErrorCode.TRUNCATED, ErrorCode.BAD_MAGIC,
            ErrorCode.BAD_VERSION, ErrorCode.BAD_TYPE, ErrorCode.BAD_HEADER, ErrorCode.TOO_LARGE);

    @Provide
    Arbitrary<byte[]> validHeaders() {
        Arbitrary<FrameType> types = Arbitraries.of(FrameType.values());
        Arbitrary<Integer> flags = Arbitraries.integers().between(0, FrameHeader.KNOWN_FLAGS);
        Arbitrary<Long> longs = Arbitraries.longs();
        return Combinators.combine(types, flags, Arbitraries.integers().between(0, 1 << 16), longs, longs, longs,
                Arbitraries.integers()).as((t, f, len, id, obj, off, arg) -> {
                    // only a READ_REQ may carry FLAG_COOKIE (and its cookie word) or FLAG_SHARED_STREAM; elsewhere
                    // either flag makes the header invalid
                    int valid = t == FrameType.READ_REQ ? f
                            : f & ~(FrameHeader.FLAG_COOKIE | FrameHeader.FLAG_SHARED_STREAM);
                    FrameHeader h = new FrameHeader(t).flags(valid).length(Math.min(len, LIMITS.maxPayload(t)))
                            .crc32c(arg * 31).id(id).object(obj).aux(id ^ off).offset(off).arg(arg);
                    ByteBuf b = Unpooled.buffer(FrameCodec.HEADER_SIZE);
                    FrameCodec.encodeHeader(h, b);
                    byte[] out = new byte[FrameCodec.HEADER_SIZE];
                    b.readBytes(out);
                    return out;
                });
    }

    @Provide
    Arbitrary<byte[]> mutatedHeaders() {
        return Combinators.combine(validHeaders(), Arbitraries.integers().between(0, FrameCodec.HEADER_SIZE + 8),
                Arbitraries.integers().between(0, 6), Arbitraries.longs()).as((h, cut, flips, seed) -> {
                    java.util.Random r = new java.util.Random(seed);
                    byte[] m = Arrays.copyOf(h, cut); // truncated, or padded with zeros past the header
                    for (int i = 0; i < flips && m.length > 0; i++) {
                        int at = r.nextInt(m.length);
                        m[at] = r.nextBoolean() ? (byte) (m[at] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
                    }
                    return m;
                });
    }

    /** {@code bytes} as an exact-size slice in the middle of a larger buffer full of 0x5A. */
    static ByteBuf exactSlice(byte[] bytes, int lead) {
        ByteBuf big = Unpooled.buffer(lead + bytes.length + 64);
        big.writeZero(lead + bytes.length + 64);
        for (int i = 0; i < big.capacity(); i++) {
            big.setByte(i, 0x5A);
        }
        big.setBytes(lead, bytes);
        return big.slice(lead, bytes.length);
    }

    static void checkStreamDecode(byte[] input, int lead) {
        ByteBuf in = exactSlice(input, lead);
        FrameHeader h;
        try {
            h = FrameCodec.decodeHeader(in, new FrameHeader(), LIMITS);
        } catch (FrameException e) {
            assertThat(HEADER_ERRORS).as("documented header error for %s", e.getMessage()).contains(e.code());
            assertThat(in.readerIndex()).as("a refused header consumes nothing").isZero();
            return;
        } catch (RuntimeException e) {
            fail("decodeHeader threw " + e + " for " + Arrays.toString(input), e);
            return;
        }
        assertThat(input.length).isGreaterThanOrEqualTo(FrameCodec.HEADER_SIZE);
        assertThat(in.readerIndex()).isEqualTo(FrameCodec.HEADER_SIZE);
        assertThat(Integer.toUnsignedLong(h.length())).isLessThanOrEqualTo(LIMITS.maxPayload(h.type()));
        ByteBuf again = Unpooled.buffer(FrameCodec.HEADER_SIZE);
        FrameCodec.encodeHeader(h, again);
        byte[] re = new byte[FrameCodec.HEADER_SIZE];
        again.readBytes(re);
        assertThat(re).as("a decoded header re-encodes to its bytes").isEqualTo(Arrays.copyOf(input,
                FrameCodec.HEADER_SIZE));
    }

    static void checkSlotDecode(byte[] input, int lead) {
        ByteBuffer big = ByteBuffer.allocate(lead + input.length + 64);
        Arrays.fill(big.array(), (byte) 0x5A);
        big.position(lead);
        big.put(input);
        big.position(lead).limit(lead + input.length);
        FrameHeader h = new FrameHeader();
        ByteBuffer payload;
        try {
            payload = FrameCodec.decodeFrame(big, h, LIMITS);
        } catch (FrameException e) {
            assertThat(HEADER_ERRORS).as("documented frame error for %s", e.getMessage()).contains(e.code());
            return;
        } catch (RuntimeException e) {
            fail("decodeFrame threw " + e + " for " + Arrays.toString(input), e);
            return;
        }
        assertThat(big.position()).as("the slot's position is left unchanged").isEqualTo(lead);
        assertThat(payload.remaining()).isEqualTo(h.length());
        assertThat(FrameCodec.HEADER_SIZE + h.length()).as("payload inside the slot").isLessThanOrEqualTo(input.length);
        byte[] p = new byte[payload.remaining()];
        payload.get(p);
        assertThat(p).isEqualTo(Arrays.copyOfRange(input, FrameCodec.HEADER_SIZE, FrameCodec.HEADER_SIZE + h.length()));
    }

    @Property(tries = 3000)
    void randomBytesDecodeOrFailWithADocumentedCode(@ForAll @Size(max = 200) byte[] input,
                                                    @ForAll @IntRange(min = 0, max = 16) int lead) {
        checkStreamDecode(input, lead);
        checkSlotDecode(input, lead);
    }

    @Property(tries = 3000)
    void randomBytesBehindAValidMagicAndVersion(@ForAll @Size(min = 0, max = 120) byte[] tail,
                                                @ForAll @IntRange(min = 0, max = 8) int lead) {
        // random bytes get past the magic check almost never: fuzz the fields behind it too
        byte[] input = new byte[6 + tail.length];
        ByteBuffer.wrap(input).putInt(FrameCodec.MAGIC).put((byte) FrameCodec.VERSION);
        input[5] = tail.length > 0 ? tail[0] : 0;
        System.arraycopy(tail, 0, input, 6, tail.length);
        checkStreamDecode(input, lead);
        checkSlotDecode(input, lead);
    }

    @Property(tries = 5000)
    void mutatedValidHeadersDecodeOrFailWithADocumentedCode(@ForAll("mutatedHeaders") byte[] input,
                                                            @ForAll @IntRange(min = 0, max = 8) int lead) {
        checkStreamDecode(input, lead);
        checkSlotDecode(input, lead);
    }

    @Property(tries = 1000)
    void validHeadersAlwaysDecode(@ForAll("validHeaders") byte[] input) {
        FrameHeader h = FrameCodec.decodeHeader(exactSlice(input, 3), new FrameHeader(), LIMITS);
        assertThat(h.type()).isNotNull();
    }
}
