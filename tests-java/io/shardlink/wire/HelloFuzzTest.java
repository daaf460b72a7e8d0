package io.shardlink.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes {@link Hello#decode}: random and mutated HELLO payloads decode (and re-encode to the same bytes) or
 * fail with {@link FrameException} PROTOCOL ("malformed HELLO: ..."). Never another exception, and never a read
 * past the payload: every field is length-checked before it is read, so the decoder's catch-all for an
 * IndexOutOfBoundsException ("malformed HELLO: truncated", exactly) must never be what answers.
 */
class HelloFuzzTest {
    @Provide
    Arbitrary<byte[]> validHellos() {
        Arbitrary<String> ids = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(40);
        Arbitrary<byte[]> endpoints = Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
        return Combinators.combine(ids, Arbitraries.integers().between(0, 3), Arbitraries.integers(),
                Arbitraries.integers().between(1, 1 << 26), Arbitraries.integers().between(1, 1024), endpoints)
                .as((id, v, caps, max, regions, ep) -> {
                    ByteBuf b = Unpooled.buffer();
                    new Hello(id, v, caps, max, regions, ep).encode(b);
                    byte[] out = new byte[b.readableBytes()];
                    b.readBytes(out);
                    return out;
                });
    }

    @Provide
    Arbitrary<byte[]> mutatedHellos() {
        return Combinators.combine(validHellos(), Arbitraries.integers().between(0, 8), Arbitraries.longs())
                .as((h, flips, seed) -> {
                    Random r = new Random(seed);
                    byte[] m = r.nextInt(3) == 0 ? Arrays.copyOf(h, r.nextInt(h.length + 9)) : h.clone();
                    for (int i = 0; i < flips && m.length > 0; i++) {
                        int at = r.nextInt(m.length);
                        m[at] = r.nextBoolean() ? (byte) (m[at] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
                    }
                    return m;
                });
    }

    static void check(byte[] input, int lead) {
        ByteBuf in = FrameDecodingFuzzTest.exactSlice(input, lead);
        Hello h;
        try {
            h = Hello.decode(in);
        } catch (FrameException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.PROTOCOL);
            assertThat(e.getMessage()).startsWith("malformed HELLO: ")
                    .as("a length check answered, not an over-read").isNotEqualTo("malformed HELLO: truncated");
            return;
        } catch (RuntimeException e) {
            fail("Hello.decode threw " + e + " for " + Arrays.toString(input), e);
            return;
        }
        assertThat(in.isReadable()).as("the whole payload consumed").isFalse();
        assertThat(h.maxSendSize()).isPositive();
        assertThat(h.numMemoryRegions()).isPositive();
        assertThat(h.endpoint().length).isLessThanOrEqualTo(Hello.MAX_ENDPOINT);
        ByteBuf again = Unpooled.buffer();
        h.encode(again);
        byte[] re = new byte[again.readableBytes()];
        again.readBytes(re);
        if (h.nodeId().equals(new String(h.nodeId().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8)) && !h.nodeId().contains("\uFFFD")) {
            assertThat(re).as("a decoded HELLO re-encodes to its bytes").isEqualTo(input);
        }
    }

    @Property(tries = 3000)
    void randomPayloads(@ForAll @Size(max = 300) byte[] input, @ForAll @IntRange(min = 0, max = 9) int lead) {
        check(input, lead);
    }

    @Property(tries = 5000)
    void mutatedPayloads(@ForAll("mutatedHellos") byte[] input, @ForAll @IntRange(min = 0, max = 9) int lead) {
        check(input, lead);
    }

    @Property(tries = 500)
    void validPayloadsRoundTrip(@ForAll("validHellos") byte[] input) {
        check(input, 1);
        assertThat(Hello.decode(Unpooled.wrappedBuffer(input)).nodeId()).isNotEmpty();
    }
}
