package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.testing.QuicStreamCounts;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * QUIC reads pipelined on shared read streams (HELLO CAP_READ_STREAMS, READ_REQ FLAG_SHARED_STREAM): many reads
 * in flight on one connection without a stream each, answered out of order and matched by request id, bounded
 * per peer on the serving node, per-request errors local, older peers served stream-per-read. Every answer's
 * bytes are verified against the generator ({@link #blob}), distinct per volume and needle.
 */
class SharedReadStreamsTest {

    /** Byte {@code pos} of needle {@code needle} of volume {@code vol}: distinct for every (vol, needle) here. */
    static byte blobByte(long vol, long needle, long pos) {
        long x = vol * 0x9E3779B97F4A7C15L ^ needle * 0xC2B2AE3D27D4EB4FL ^ pos * 0x165667B19E3779F9L;
        x ^= x >>> 29;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 32;
        return (byte) x;
    }

    /** The blob source of these tests: needle < 0 is not found. */
    static int blob(long vol, long needle, long off, int len, java.nio.ByteBuffer dst) throws BlobNotFoundException {
        if (needle < 0) {
            throw new BlobNotFoundException("volume " + vol + " has no needle " + needle);
        }
        for (int i = 0; i < len; i++) {
            dst.put(blobByte(vol, needle, off + i));
        }
        return len;
    }

    /** The answer is exactly needle {@code needle}'s bytes at {@code off} (so a swapped answer fails). */
    static void verify(ReadResult r, long vol, long needle, long off, int len) {
        assertThat(r.length()).as("length of read " + vol + "/" + needle).isEqualTo(len);
        assertThat(r.volumeId()).isEqualTo(vol);
        assertThat(r.needleId()).isEqualTo(needle);
        java.nio.ByteBuffer d = r.data();
        for (int i = 0; i < len; i++) {
            if (d.get(d.position() + i) != blobByte(vol, needle, off + i)) {
                throw new AssertionError("read " + vol + "/" + needle + " byte " + i + " wrong");
            }
        }
    }

    static void verify(ReadResult r, long vol, long needle, int len) {
        verify(r, vol, needle, 0, len);
    }

    /** A blob source whose reads of {@code gated} needles (all when null) wait for {@code gate}. */
    static BlobSource gated(CountDownLatch gate, Set<Long> gatedNeedles) {
        return (vol, needle, off, len, dst) -> {
            if (gatedNeedles == null || gatedNeedles.contains(needle)) {
                try {
                    if (!gate.await(60, TimeUnit.SECONDS)) {
                        throw new IOException("gate never opened");
                    }
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            return blob(vol, needle, off, len, dst);
        };
    }

    /** Reads enough to open every shared read stream (they open on first use), so counts taken after are steady. */
    static void warmUp(Peer p) throws Exception {
        for (int i = 1; i <= 6; i++) { // none of them a needle the error test refuses (7, 11)
            verify(p.read(1, i, 0, 100).get(10, TimeUnit.SECONDS), 1, i, 100);
        }
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void fifteenHundredReadsInFlightOnOneConnectionWithoutAStreamEach() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("shr-server").build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("shr-client").build())) {
            CountDownLatch gate = new CountDownLatch(1);
            server.blobSource(SharedReadStreamsTest::blob);
            client.connect(server.localAddress());
            PeerSession p = (PeerSession) client.peers().get(0);
            PeerSession sp = (PeerSession) server.peers().get(0);
            warmUp(p);
            server.blobSource(gated(gate, null));
            long credit0 = QuicStreamCounts.creditLeft(p.quicConnection().channel());
            int reads = 1500;
            List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
            for (int i = 0; i < reads; i++) {
                fs.add(p.read(i % 5, i, i % 64, 1 + (i * 37) % 4096));
            }
            // every read reached the server and waits there at once: 1,500 in flight on one connection
            await(() -> sp.quicConnection().peerReadsInFlight() == reads, "1500 reads in flight on the server");
            assertThat(client.openQuicStreams()).as("per-read streams on the client").isZero();
            assertThat(server.openQuicStreams()).as("per-read streams on the server").isZero();
            gate.countDown();
            for (int i = 0; i < reads; i++) {
                ReadResult r = fs.get(i).get(60, TimeUnit.SECONDS);
                assertThat(r.transport()).isEqualTo(Transport.QUIC);
                verify(r, i % 5, i, i % 64, 1 + (i * 37) % 4096);
            }
            // the reads used the configured shared streams, not one stream each: the stream credit is untouched
            assertThat(p.quicConnection().openSharedReadStreams()).isEqualTo(client.config().quicReadStreams());
            assertThat(QuicStreamCounts.creditLeft(p.quicConnection().channel())).isEqualTo(credit0);
            await(() -> sp.quicConnection().peerReadsInFlight() == 0, "in-flight count back to 0");
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void answersOutOfOrderReachTheirOwnCallers() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("ooo-server").build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("ooo-client").build())) {
            CountDownLatch gate = new CountDownLatch(1);
            Set<Long> slow = Set.of(3L, 50L, 97L, 150L, 199L); // fewer than the reader threads
            server.blobSource(gated(gate, slow));
            Peer p = client.connect(server.localAddress());
            List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                fs.add(p.read(7, i, 0, 4096));
            }
            // every fast read is answered while the slow ones, sent earlier on the same streams, still wait
            for (int i = 0; i < 200; i++) {
                if (!slow.contains((long) i)) {
                    verify(fs.get(i).get(30, TimeUnit.SECONDS), 7, i, 4096);
                }
            }
            for (long s : slow) {
                assertThat(fs.get((int) s)).as("slow read " + s).isNotDone();
            }
            gate.countDown();
            for (long s : slow) {
                verify(fs.get((int) s).get(30, TimeUnit.SECONDS), 7, s, 4096);
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void readsPastThePerPeerLimitGetAClearErrorAndTheConnectionGoesOn() throws Exception {
        int limit = 64;
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("lim-server").maxInFlightReadsPerPeer(limit)
                .build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("lim-client").build())) {
            CountDownLatch gate = new CountDownLatch(1);
            server.blobSource(gated(gate, Set.of()));
            client.connect(server.localAddress());
            PeerSession p = (PeerSession) client.peers().get(0);
            PeerSession sp = (PeerSession) server.peers().get(0);
            verify(p.read(1, 1, 0, 4096).get(10, TimeUnit.SECONDS), 1, 1, 4096);
            server.blobSource(gated(gate, null));
            List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
            for (int i = 0; i < limit; i++) {
                fs.add(p.read(2, i, 0, 4096));
            }
            await(() -> sp.quicConnection().peerReadsInFlight() == limit, limit + " reads in flight on the server");
            List<CompletableFuture<ReadResult>> over = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                over.add(p.read(3, i, 0, 4096));
            }
            for (CompletableFuture<ReadResult> o : over) {
                assertThatThrownBy(() -> o.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(ShardlinkException.class)
                        .hasMessageContaining("TOO_MANY_READS").hasMessageContaining("maxInFlightReadsPerPeer = 64")
                        .hasMessageContaining("lim-client")
                        .satisfies(e -> assertThat(((ShardlinkException) e).code()).isEqualTo(ErrorCode.TOO_MANY_READS));
            }
            assertThat(fs).allSatisfy(f -> assertThat(f).isNotDone());
            assertThat(server.metrics().peers().get("lim-client").completions(CompletionStatus.OVER_LIMIT))
                    .isEqualTo(10);
            gate.countDown();
            for (int i = 0; i < limit; i++) {
                verify(fs.get(i).get(30, TimeUnit.SECONDS), 2, i, 4096);
            }
            // the same streams serve on: bursts up to the limit all pass
            for (int round = 0; round < 5; round++) {
                List<CompletableFuture<ReadResult>> more = new ArrayList<>();
                for (int i = 0; i < limit; i++) {
                    more.add(p.read(4, round * 100 + i, 0, 1024));
                }
                for (int i = 0; i < limit; i++) {
                    verify(more.get(i).get(30, TimeUnit.SECONDS), 4, round * 100 + i, 1024);
                }
            }
            assertThat(p.quicConnection().openSharedReadStreams()).isEqualTo(client.config().quicReadStreams());
            assertThat(server.metrics().completions(CompletionStatus.OVER_LIMIT)).isEqualTo(10);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void perRequestErrorsLeaveTheSharedStreamServing() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("err-server").build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("err-client").build())) {
            server.blobSource((vol, needle, off, len, dst) -> {
                if (needle % 7 == 0) {
                    throw new BlobNotFoundException("volume " + vol + " has no needle " + needle);
                }
                if (needle % 11 == 0) {
                    throw new BlobChecksumException("needle " + needle + " stored CRC 0x1 != 0x2");
                }
                return blob(vol, needle, off, len, dst);
            });
            client.connect(server.localAddress());
            PeerSession p = (PeerSession) client.peers().get(0);
            warmUp(p);
            int netty0 = QuicStreamCounts.nettyStreams(p.quicConnection().channel());
            long credit0 = QuicStreamCounts.creditLeft(p.quicConnection().channel());
            for (int round = 0; round < 3; round++) {
                List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
                for (int i = 1; i <= 400; i++) {
                    fs.add(p.read(5, i, 0, 2048));
                }
                for (int i = 1; i <= 400; i++) {
                    CompletableFuture<ReadResult> f = fs.get(i - 1);
                    ErrorCode want = i % 7 == 0 ? ErrorCode.NOT_FOUND : i % 11 == 0 ? ErrorCode.CHECKSUM_MISMATCH : null;
                    if (want == null) {
                        verify(f.get(30, TimeUnit.SECONDS), 5, i, 2048);
                    } else {
                        int n = i;
                        assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).cause()
                                .isInstanceOf(ShardlinkException.class)
                                .hasMessageContaining("needle " + n)
                                .satisfies(e -> assertThat(((ShardlinkException) e).code()).isEqualTo(want));
                    }
                }
            }
            // the same stream channels carried all of it: none reopened, no stream credit spent
            assertThat(QuicStreamCounts.nettyStreams(p.quicConnection().channel())).isEqualTo(netty0);
            assertThat(QuicStreamCounts.creditLeft(p.quicConnection().channel())).isEqualTo(credit0);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aPeerWithoutTheCapabilityIsServedAStreamPerRead() throws Exception {
        // old server (no CAP_READ_STREAMS) with a new client, and an old client with a new server
        for (int[] streams : new int[][] {{0, 2}, {2, 0}}) {
            try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("cap-server").quicReadStreams(streams[0])
                    .build());
                 ShardlinkNode client = ShardlinkNode.start(TestNodes.config("cap-client")
                         .quicReadStreams(streams[1]).build())) {
                server.blobSource(SharedReadStreamsTest::blob);
                client.connect(server.localAddress());
            PeerSession p = (PeerSession) client.peers().get(0);
                long credit0 = QuicStreamCounts.creditLeft(p.quicConnection().channel());
                List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    fs.add(p.read(6, i, 0, 4096));
                }
                for (int i = 0; i < 300; i++) {
                    verify(fs.get(i).get(30, TimeUnit.SECONDS), 6, i, 4096);
                }
                assertThatThrownBy(() -> p.read(6, -1, 0, 10).get(30, TimeUnit.SECONDS)).cause()
                        .satisfies(e -> assertThat(((ShardlinkException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
                assertThat(p.quicConnection().openSharedReadStreams()).as("shared streams with " + streams[0] + "/"
                        + streams[1]).isZero();
                // a stream per read: the stream credit was spent (and comes back as they end)
                assertThat(QuicStreamCounts.creditLeft(p.quicConnection().channel())).isLessThan(credit0);
                await(() -> client.openQuicStreams() == 0 && server.openQuicStreams() == 0, "per-read streams ended");
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closingANodeMidBurstFailsPendingReadsClearlyAndLeavesNoStreams() throws Exception {
        for (boolean closeClient : new boolean[] {true, false}) {
            CountDownLatch gate = new CountDownLatch(1);
            ShardlinkNode server = ShardlinkNode.start(TestNodes.config("mid-server").build());
            ShardlinkNode client = ShardlinkNode.start(TestNodes.config("mid-client").build());
            try {
                server.blobSource(gated(gate, null));
                client.connect(server.localAddress());
            PeerSession p = (PeerSession) client.peers().get(0);
                PeerSession sp = (PeerSession) server.peers().get(0);
                List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    fs.add(p.read(8, i, 0, 4096));
                }
                await(() -> sp.quicConnection().peerReadsInFlight() == 500, "500 reads in flight");
                ShardlinkNode closing = closeClient ? client : server;
                ShardlinkNode other = closeClient ? server : client;
                Thread closer = new Thread(closing::close);
                closer.start();
                for (CompletableFuture<ReadResult> f : fs) {
                    assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                            .cause().isInstanceOf(ShardlinkClosedException.class)
                            .hasMessageContaining("mid-server").hasMessageContaining("closed");
                }
                gate.countDown(); // the server's late answers meet a closed connection: dropped
                closer.join(30_000);
                await(() -> other.openQuicStreams() == 0 && other.openQuicReadStreams() == 0
                        && other.peers().isEmpty(), "streams of " + (closeClient ? "server" : "client") + " ended");
                await(() -> sp.quicConnection().peerReadsInFlight() == 0, "server's in-flight count drained");
                assertThat(closing.openQuicStreams()).isZero();
                assertThat(closing.openQuicReadStreams()).isZero();
            } finally {
                gate.countDown();
                client.close();
                server.close();
            }
        }
    }
}
