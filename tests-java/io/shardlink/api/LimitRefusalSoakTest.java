package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.quic.QuicConnection;
import io.shardlink.testing.SoakLoad;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The limit paths at volume, on ONE peer connection (QUIC, real nodes): thousands of copies refused with
 * TOO_MANY_COPIES, thousands of reads refused with TOO_MANY_READS and thousands of control requests refused with
 * TOO_MANY_REQUESTS. Each refusal is counted OVER_LIMIT exactly once; afterwards the held copy and reads complete
 * verified, the connection still serves, no QUIC stream is left open, no pooled buffer is lent, and the nodes'
 * threads and direct memory are back within the bounds of {@link QuicSoakTest} of their warm baseline.
 * Sizes: -Dshardlink.soak.limitCopies / .limitReads / .limitControl.
 */
class LimitRefusalSoakTest {
    static final int COPIES = Integer.getInteger("shardlink.soak.limitCopies", 2_000);
    static final int READS = Integer.getInteger("shardlink.soak.limitReads", 5_000);
    static final int CONTROL = Integer.getInteger("shardlink.soak.limitControl", 10_000);
    static final int CONTROL_LIMIT = 100;
    static final int DEPTH = 16;

    private static byte[] shard(long s, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (s * 17 + i * 3 + (i >>> 8));
        }
        return b;
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void thousandsOfRefusalsOnOneConnectionLeaveNothingBehind() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("soak-lim-server").maxIncomingCopiesPerPeer(1)
                .maxInFlightReadsPerPeer(4).maxControlRequestsPerSecondPerPeer(CONTROL_LIMIT).build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("soak-lim-client").build())) {
            CountDownLatch copyGate = new CountDownLatch(1);
            List<byte[]> received = new java.util.concurrent.CopyOnWriteArrayList<>();
            server.onShardCopy((peer, shardId, total) ->
                    new GatedSink(total, shardId == 1 ? copyGate : null, 120, received::add));
            server.blobSource(SharedReadStreamsTest::blob);
            Peer p = client.connect(server.localAddress());
            PeerSession ps = (PeerSession) client.peers().get(0);
            QuicConnection conn = ps.quicConnection();
            int small = 8 * 1024 + 5;

            // warm-up at the soak's concurrency (the client's copy threads grow with copies in flight, and idle out
            // only after 30 s), then the baseline
            for (int round = 0; round < 2; round++) {
                List<CompletableFuture<CopyResult>> warm = new ArrayList<>();
                for (int k = 0; k <= DEPTH; k++) {
                    warm.add(p.copyShard(100 + round * 50 + k, ByteBuffer.wrap(shard(9, small)),
                            CopyProgressListener.NONE));
                }
                for (CompletableFuture<CopyResult> w : warm) {
                    try {
                        w.get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        assertThat(((ShardlinkException) e.getCause()).code()).isEqualTo(ErrorCode.TOO_MANY_COPIES);
                    }
                }
            }
            for (int i = 0; i < 20; i++) {
                SharedReadStreamsTest.verify(p.read(1, i, 0, 4096).get(10, TimeUnit.SECONDS), 1, i, 4096);
            }
            QuicSoakTest.settle(client, server);
            int threadsServer = server.liveThreads();
            int threadsClient = client.liveThreads();
            long direct0 = SoakLoad.directMemory();
            long over0 = server.metrics().peers().get("soak-lim-client").completions(CompletionStatus.OVER_LIMIT);
            long t0 = System.nanoTime();

            // copies: one held open (the limit), every other one refused
            CompletableFuture<CopyResult> held = p.copyShard(1, ByteBuffer.wrap(shard(1, small)),
                    CopyProgressListener.NONE);
            SharedReadStreamsTest.await(() -> server.copiesInFlight().size() == 1, "the held copy open");
            int copyRefusals = 0;
            for (int done = 0; done < COPIES; done += DEPTH) {
                List<CompletableFuture<CopyResult>> batch = new ArrayList<>();
                for (int k = 0; k < DEPTH && done + k < COPIES; k++) {
                    long id = 1000 + done + k;
                    batch.add(p.copyShard(id, ByteBuffer.wrap(shard(id, small)), CopyProgressListener.NONE));
                }
                for (CompletableFuture<CopyResult> c : batch) {
                    copyRefusals += refusedWith(c, ErrorCode.TOO_MANY_COPIES);
                }
            }
            assertThat(copyRefusals).isEqualTo(COPIES);
            long copyMs = (System.nanoTime() - t0) / 1_000_000;

            // reads: four held in flight (the limit), every other one refused
            CountDownLatch readGate = new CountDownLatch(1);
            server.blobSource(SharedReadStreamsTest.gated(readGate, null));
            List<CompletableFuture<ReadResult>> heldReads = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                heldReads.add(p.read(2, i, 0, 4096));
            }
            SharedReadStreamsTest.await(() -> ((PeerSession) server.peers().get(0)).quicConnection()
                    .peerReadsInFlight() == 4, "4 reads held on the server");
            long t1 = System.nanoTime();
            int readRefusals = 0;
            for (int done = 0; done < READS; done += 4 * DEPTH) {
                List<CompletableFuture<ReadResult>> batch = new ArrayList<>();
                for (int k = 0; k < 4 * DEPTH && done + k < READS; k++) {
                    batch.add(p.read(3, done + k, 0, 512));
                }
                for (CompletableFuture<ReadResult> r : batch) {
                    readRefusals += refusedWith(r, ErrorCode.TOO_MANY_READS);
                }
            }
            assertThat(readRefusals).isEqualTo(READS);
            long readMs = (System.nanoTime() - t1) / 1_000_000;

            // control requests: RESUMEs as fast as the connection takes them, past CONTROL_LIMIT a second
            long t2 = System.nanoTime();
            int controlRefusals = 0;
            int served = 0;
            for (int done = 0; done < CONTROL; done += 4 * DEPTH) {
                List<CompletableFuture<Long>> batch = new ArrayList<>();
                for (int k = 0; k < 4 * DEPTH && done + k < CONTROL; k++) {
                    batch.add(conn.resume(1_000_000L + done + k));
                }
                for (CompletableFuture<Long> r : batch) {
                    try {
                        r.get(30, TimeUnit.SECONDS);
                        served++;
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof FrameException fe && fe.code() == ErrorCode.TOO_MANY_REQUESTS) {
                            assertThat(fe.getMessage()).contains("maxControlRequestsPerSecondPerPeer = "
                                    + CONTROL_LIMIT);
                            controlRefusals++;
                        } else {
                            served++; // answered (an unknown transfer's ERROR is an answer)
                        }
                    }
                }
            }
            double controlSeconds = (System.nanoTime() - t2) / 1e9;
            assertThat(controlRefusals + served).isEqualTo(CONTROL);
            assertThat(served).as("served: a burst, then the rate, for %.1f s", controlSeconds)
                    .isLessThanOrEqualTo((int) (CONTROL_LIMIT * (2 + Math.ceil(controlSeconds))));
            assertThat(controlRefusals).isGreaterThan(CONTROL / 2);

            long overLimit = server.metrics().peers().get("soak-lim-client").completions(CompletionStatus.OVER_LIMIT)
                    - over0;
            // keep-alive PINGs may also have been refused during the control flood: at most one per interval
            assertThat(overLimit).as("every refusal counted once").isBetween(
                    (long) copyRefusals + readRefusals + controlRefusals,
                    (long) copyRefusals + readRefusals + controlRefusals + 2);

            // what was held completes verified; the connection serves on
            copyGate.countDown();
            readGate.countDown();
            assertThat(held.get(60, TimeUnit.SECONDS).bytes()).isEqualTo(small);
            for (int i = 0; i < 4; i++) {
                SharedReadStreamsTest.verify(heldReads.get(i).get(30, TimeUnit.SECONDS), 2, i, 4096);
            }
            Thread.sleep(1100); // a quiet second: the control budget is back
            CopyResult after = p.copyShard(2, ByteBuffer.wrap(shard(2, small)), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS);
            assertThat(after.transports()).containsOnly(Transport.QUIC);
            assertThat(received).anySatisfy(b -> assertThat(b).isEqualTo(shard(2, small)));
            assertThat(received).anySatisfy(b -> assertThat(b).isEqualTo(shard(1, small)));
            for (int i = 0; i < 20; i++) {
                SharedReadStreamsTest.verify(p.read(4, i, 0, 4096).get(10, TimeUnit.SECONDS), 4, i, 4096);
            }
            try {
                conn.resume(5).get(10, TimeUnit.SECONDS); // answered: an offset, or the unknown transfer's ERROR
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(FrameException.class);
                assertThat(((FrameException) e.getCause()).code()).isNotEqualTo(ErrorCode.TOO_MANY_REQUESTS);
            }
            assertThat(ps.quicConnection()).as("the same connection throughout").isSameAs(conn);
            assertThat(conn.isOpen()).isTrue();

            QuicSoakTest.settle(client, server);
            assertThat(server.openQuicStreams()).isZero();
            assertThat(client.openQuicStreams()).isZero();
            assertThat(server.outstandingBuffers()).isZero();
            assertThat(client.outstandingBuffers()).isZero();
            assertThat(server.copiesInFlight()).isEmpty();
            assertThat(server.liveThreads()).as("server threads").isLessThanOrEqualTo(threadsServer
                    + QuicSoakTest.THREAD_BOUND);
            assertThat(client.liveThreads()).as("client threads").isLessThanOrEqualTo(threadsClient
                    + QuicSoakTest.THREAD_BOUND);
            long direct = SoakLoad.directMemory();
            assertThat(direct).as("direct memory").isLessThanOrEqualTo(direct0 + QuicSoakTest.DIRECT_BOUND);
            System.out.printf("limit soak: %d copies refused in %d ms, %d reads refused in %d ms, %d of %d control "
                            + "requests refused in %.1f s; threads server %d -> %d, client %d -> %d; "
                            + "direct %d -> %d KiB%n",
                    copyRefusals, copyMs, readRefusals, readMs, controlRefusals, CONTROL, controlSeconds,
                    threadsServer, server.liveThreads(), threadsClient, client.liveThreads(), direct0 >> 10,
                    direct >> 10);
        }
    }

    /** 1 if {@code f} failed with a ShardlinkException of {@code code}; anything else fails the test. */
    private static int refusedWith(CompletableFuture<?> f, ErrorCode code) throws Exception {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ShardlinkException.class);
            assertThat(((ShardlinkException) e.getCause()).code()).isEqualTo(code);
            return 1;
        }
        throw new AssertionError("expected a refusal with " + code);
    }
}
