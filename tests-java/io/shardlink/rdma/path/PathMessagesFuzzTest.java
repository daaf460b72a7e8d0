package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the RDMA path's control plane decoders (host-only, no device): PATH_CTL messages
 * ({@link PathMessages#decode}: RING_REQ, RING_GRANT = the ring descriptor, RING_DECLINE, PATH_READY,
 * PATH_DOWN, OK, REFUSED) and the endpoint blob in HELLO ({@link PathMessages#decodeEndpoint}). Random and
 * mutated inputs decode (and re-encode to the same bytes) or fail with IllegalArgumentException, the
 * documented failure; never another exception.
 */
class PathMessagesFuzzTest {
    @Provide
    Arbitrary<byte[]> validMessages() {
        Arbitrary<Long> l = Arbitraries.longs();
        Arbitrary<Integer> i = Arbitraries.integers();
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(50);
        return Arbitraries.oneOf(
                Combinators.combine(l, l, l, i).as(PathMessages::ringRequest),
                Combinators.combine(l, Arbitraries.integers().between(0, 65535), Arbitraries.integers().between(0, 255),
                        l, i, i, i).as((t, r, g, a, k, s, n) -> PathMessages.ringGrant(
                                new PathMessages.RingGrant(t, r, g, a, k, s, n))),
                Combinators.combine(l, text).as(PathMessages::ringDecline),
                Arbitraries.just(PathMessages.pathReady()),
                Arbitraries.just(PathMessages.ok()),
                text.map(PathMessages::pathDown),
                text.map(PathMessages::refused));
    }

    @Provide
    Arbitrary<byte[]> validEndpoints() {
        return Combinators.combine(Arbitraries.bytes().array(byte[].class).ofSize(PathMessages.QP_ENDPOINT_SIZE),
                Arbitraries.longs(), Arbitraries.integers(), Arbitraries.integers().between(1, Imm.MAX_PAGES),
                Arbitraries.integers().between(1, 1 << 22)).as(PathMessages::endpoint);
    }

    static Arbitrary<byte[]> mutate(Arbitrary<byte[]> valid) {
        return Combinators.combine(valid, Arbitraries.integers().between(0, 6), Arbitraries.longs()).as((v, flips, seed) -> {
            Random r = new Random(seed);
            byte[] m = r.nextInt(3) == 0 ? Arrays.copyOf(v, r.nextInt(v.length + 9)) : v.clone();
            for (int k = 0; k < flips && m.length > 0; k++) {
                int at = r.nextInt(m.length);
                m[at] = r.nextBoolean() ? (byte) (m[at] ^ (1 << r.nextInt(8))) : (byte) r.nextInt(256);
            }
            return m;
        });
    }

    @Provide
    Arbitrary<byte[]> mutatedMessages() {
        return mutate(validMessages());
    }

    @Provide
    Arbitrary<byte[]> mutatedEndpoints() {
        return mutate(validEndpoints());
    }

    static void checkMessage(byte[] m) {
        PathMessages.Message msg;
        try {
            msg = PathMessages.decode(m);
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).isNotBlank();
            return;
        } catch (RuntimeException e) {
            fail("PathMessages.decode threw " + e + " for " + Arrays.toString(m), e);
            return;
        }
        byte[] re = switch (msg.type()) {
            case PathMessages.RING_REQ -> PathMessages.ringRequest(msg.request().transferId(), msg.request().shardId(),
                    msg.request().totalLength(), msg.request().chunkSize());
            case PathMessages.RING_GRANT -> PathMessages.ringGrant(msg.grant());
            case PathMessages.PATH_READY -> PathMessages.pathReady();
            case PathMessages.OK -> PathMessages.ok();
            default -> null; // text messages: UTF-8 replacement makes re-encoding lossy
        };
        if (re != null) {
            assertThat(re).as("a decoded %s re-encodes to its bytes", msg.type()).isEqualTo(m);
        }
        if (msg.grant() != null) {
            assertThat(msg.grant().ring()).isBetween(0, 65535);
            assertThat(msg.grant().generation()).isBetween(0, 255);
        }
    }

    static void checkEndpoint(byte[] blob) {
        PathMessages.Endpoint e;
        try {
            e = PathMessages.decodeEndpoint(blob);
        } catch (IllegalArgumentException ex) {
            assertThat(ex.getMessage()).startsWith("RDMA endpoint blob");
            return;
        } catch (RuntimeException ex) {
            fail("decodeEndpoint threw " + ex + " for " + Arrays.toString(blob), ex);
            return;
        }
        assertThat(e.replyRingPages()).isBetween(1, Imm.MAX_PAGES);
        assertThat(e.pageSize()).isPositive();
        assertThat(PathMessages.endpoint(e.qp(), e.replyRingAddress(), e.replyRingRkey(), e.replyRingPages(),
                e.pageSize())).isEqualTo(blob);
    }

    @Property(tries = 3000)
    void randomMessages(@ForAll @Size(max = 80) byte[] m) {
        checkMessage(m);
    }

    @Property(tries = 5000)
    void mutatedMessages(@ForAll("mutatedMessages") byte[] m) {
        checkMessage(m);
    }

    @Property(tries = 2000)
    void randomEndpointBlobs(@ForAll @Size(max = 100) byte[] blob) {
        checkEndpoint(blob);
    }

    @Property(tries = 3000)
    void mutatedEndpointBlobs(@ForAll("mutatedEndpoints") byte[] blob) {
        checkEndpoint(blob);
    }
}
