package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static io.shardlink.rdma.path.FaultMatrixSupport.firstAt;
import static io.shardlink.rdma.path.FaultMatrixSupport.record;
import static io.shardlink.rdma.path.FaultMatrixSupport.serveBlobs;
import static io.shardlink.rdma.path.FaultMatrixSupport.verify;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.state.PeerState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Recovery of the RDMA path on real rxe (VM): the veth link is cut ({@code ip link set vb down}) for ~2 s under a
 * copy and a burst of reads, then brought back. The copy finishes (over QUIC once the path failed) with every byte
 * exactly once; the peer goes FAILED -> DISCONNECTED -> CONNECTED on both nodes; later copies and reads go over RDMA
 * again (by the metrics); the old endpoints are gone (one endpoint per side, rings 0) and after the peer closes the
 * rdma resource counts are back to their values before it connected. And a link that stays down: the peer stays
 * FAILED on QUIC, keeps serving, and its retries are spaced by the backoff.
 */
@Tag("rdma")
class RdmaRecoveryRdmaTest {
    /** Recovery bound after the link is back: the port needs its GID again, then at most one backoff wait (8 s). */
    static final Duration RECOVERY_BOUND = Duration.ofSeconds(45);

    private static String cutLink() throws Exception {
        String link = System.getenv("SHARDLINK_RXE_CUT_LINK");
        if (link == null || link.isBlank()) {
            if (RdmaPathTestSupport.REQUIRED) {
                fail("SHARDLINK_REQUIRE_RDMA=1 but SHARDLINK_RXE_CUT_LINK (the netdev to cut) is not set");
            }
            assumeTrue(false, "SHARDLINK_RXE_CUT_LINK is not set");
        }
        RdmaPathTestSupport.ip("link", "show", link);
        return link;
    }

    private static void restore(String link, String a, String b) throws Exception {
        RdmaPathTestSupport.ip("link", "set", link, "up");
        RdmaPathTestSupport.awaitTrue(() -> RdmaPathTestSupport.portReady(a) && RdmaPathTestSupport.portReady(b),
                Duration.ofSeconds(90), "rxe ports " + a + " and " + b + " to be ACTIVE with a GID again");
    }

    @Test
    void linkDownTwoSecondsUnderACopyAndReadsRecoversToRdma() throws Exception {
        String a = RdmaPathTestSupport.deviceA();
        String b = RdmaPathTestSupport.deviceB();
        RdmaPathTestSupport.requireRdma(a, b);
        String link = cutLink();
        // short QP retries: the cut surfaces as "retry exceeded" within about a second
        RdmaPathOptions fast = RdmaPathOptions.defaults().withQpTimeout(14).withRetryCount(3);
        RdmaDataPathProvider pa = new RdmaDataPathProvider(fast);
        RdmaDataPathProvider pb = new RdmaDataPathProvider(fast);
        int size = 16 * MiB + 333;
        byte[] data = RdmaPathTestSupport.pattern(21, size);
        AtomicBoolean cutStarted = new AtomicBoolean();
        CompletableFuture<long[]> cut = new CompletableFuture<>(); // {down at, up at}
        try (ShardlinkNode na = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("rec-a", a)
                     .rdmaRetry(Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofSeconds(30)).build(), pa);
             ShardlinkNode nb = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("rec-b", b)
                     .rdmaRetry(Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofSeconds(30)).build(), pb)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            sinks.gate = new CountDownLatch(1); // the receiver holds at 4 MiB until the link is down: a mid-copy cut
            sinks.gateAfter = 4L * MiB;
            nb.onShardCopy(sinks);
            serveBlobs(nb);
            Peer p = na.connect(nb.localAddress());
            List<FaultMatrixSupport.Moved> movesA = record(p);
            assertThat(p.read(1, 2, 3, 4096).get(60, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);
            Peer back = RdmaPathTestSupport.onlyPeer(nb);
            List<FaultMatrixSupport.Moved> movesB = record(back);
            RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, Duration.ofSeconds(30));

            CountDownLatch gate = sinks.gate;
            CompletableFuture<CopyResult> copy = p.copyShard(1, ByteBuffer.wrap(data), new CopyProgressListener() {
                @Override
                public void onProgress(long acked, long total, Transport t) {
                    if (acked >= 4L * MiB && cutStarted.compareAndSet(false, true)) {
                        CompletableFuture.runAsync(() -> {
                            long down = 0;
                            try {
                                RdmaPathTestSupport.ip("link", "set", link, "down");
                                down = System.nanoTime();
                                gate.countDown();
                                Thread.sleep(2000);
                                RdmaPathTestSupport.ip("link", "set", link, "up");
                                cut.complete(new long[] {down, System.nanoTime()});
                            } catch (Exception e) {
                                cut.completeExceptionally(e);
                            } finally {
                                gate.countDown();
                            }
                        });
                    }
                }
            });
            // a burst of reads across the cut, each verified; which transport answered each
            Map<Transport, Integer> readsBy = new EnumMap<>(Transport.class);
            int n = 0;
            while (!copy.isDone() || !cut.isDone()) {
                long off = 17L * n;
                ReadResult r = p.read(5, n, off, 4096).get(60, TimeUnit.SECONDS);
                verify(r, 5, n, off, 4096);
                readsBy.merge(r.transport(), 1, Integer::sum);
                n++;
            }
            CopyResult r = copy.get(240, TimeUnit.SECONDS);
            long[] downUp = cut.get(30, TimeUnit.SECONDS);
            System.out.println("copy across the cut: " + r + "; " + n + " reads across it by transport " + readsBy);
            assertThat(r.transports()).as("the copy fell back and finished on QUIC").containsExactly(Transport.RDMA,
                    Transport.QUIC);
            RdmaPathTestSupport.Sinks.Received got = sinks.get(1);
            assertThat(got.problems).as("chunks in order, none twice").isEmpty();
            assertThat(got.chunks).as("every chunk delivered exactly once").isEqualTo((size + MiB - 1) / MiB);
            assertThat(got.data).isEqualTo(data);

            // FAILED -> DISCONNECTED -> CONNECTED on both ends, within the bound after the link came back
            RdmaPathTestSupport.awaitTrue(() -> firstAt(movesA, PeerState.DISCONNECTED, PeerState.CONNECTED,
                    downUp[0]) > 0, RECOVERY_BOUND.plusSeconds(5), "A's peer to recover (moves " + movesA + ")");
            RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, Duration.ofSeconds(30));
            long failedA = firstAt(movesA, PeerState.CONNECTED, PeerState.FAILED, 0);
            long retriedA = firstAt(movesA, PeerState.FAILED, PeerState.DISCONNECTED, failedA);
            long upA = firstAt(movesA, PeerState.DISCONNECTED, PeerState.CONNECTED, retriedA);
            assertThat(failedA).as("A went FAILED").isPositive();
            assertThat(retriedA).as("A went FAILED -> DISCONNECTED").isPositive();
            assertThat(upA).as("A went DISCONNECTED -> CONNECTED after the retry").isPositive();
            assertThat(firstAt(movesB, PeerState.FAILED, PeerState.DISCONNECTED, 0)).as("B retried").isPositive();
            long detectMs = TimeUnit.NANOSECONDS.toMillis(failedA - downUp[0]);
            long recoverMs = TimeUnit.NANOSECONDS.toMillis(upA - downUp[1]);
            FaultMatrixSupport.report("link down 2 s then up: link down at 0 ms, up at " + TimeUnit.NANOSECONDS.toMillis(downUp[1] - downUp[0])
                    + " ms; A FAILED after " + detectMs + " ms; A CONNECTED again " + recoverMs
                    + " ms after the link came up; moves A " + movesA.stream().map(m -> m.from() + "->" + m.to()).toList()
                    + ", B " + movesB.stream().map(m -> m.from() + "->" + m.to()).toList());
            assertThat(Duration.ofMillis(recoverMs)).isLessThanOrEqualTo(RECOVERY_BOUND);
            assertThat(na.metrics().pathRecoveries()).isGreaterThanOrEqualTo(1);
            System.out.println("A metrics: retries " + na.metrics().pathRetries() + ", recoveries "
                    + na.metrics().pathRecoveries());

            // new work goes over RDMA again, by the metrics of who moved the bytes
            long rdmaSent = na.metrics().bytes(Transport.RDMA, Direction.SENT);
            long quicSent = na.metrics().bytes(Transport.QUIC, Direction.SENT);
            long rdmaRecv = na.metrics().bytes(Transport.RDMA, Direction.RECEIVED);
            CopyResult again = p.copyShard(2, ByteBuffer.wrap(data, 0, 3 * MiB), CopyProgressListener.NONE)
                    .get(120, TimeUnit.SECONDS);
            assertThat(again.transports()).containsExactly(Transport.RDMA);
            for (int i = 0; i < 20; i++) {
                ReadResult rr = p.read(6, i, 3L * i, 4096).get(60, TimeUnit.SECONDS);
                assertThat(rr.transport()).isEqualTo(Transport.RDMA);
                verify(rr, 6, i, 3L * i, 4096);
            }
            assertThat(na.metrics().bytes(Transport.RDMA, Direction.SENT) - rdmaSent).isEqualTo(3L * MiB);
            assertThat(na.metrics().bytes(Transport.RDMA, Direction.RECEIVED) - rdmaRecv).isEqualTo(20L * 4096);
            assertThat(na.metrics().bytes(Transport.QUIC, Direction.SENT)).as("nothing more over QUIC")
                    .isEqualTo(quicSent);
            assertThat(sinks.get(2).data).isEqualTo(java.util.Arrays.copyOf(data, 3 * MiB));

            // the failed path is gone: one endpoint per side, no ring left granted
            RdmaPathTestSupport.awaitTrue(() -> pa.liveEndpoints() == 1 && pb.liveEndpoints() == 1
                    && pb.stats().liveRings() == 0, Duration.ofSeconds(30), "one endpoint per side, no rings (A "
                    + pa.stats() + ", B " + pb.stats() + ")");
            // the node-wide registrations (chunk pool, read staging) grow lazily and stay: what the peer holds is
            // its one endpoint's control buffer and reply ring, and those must be all that close() frees
            RdmaPathStats.Snapshot liveA = pa.stats();
            RdmaPathStats.Snapshot liveB = pb.stats();
            System.out.println("A " + liveA);
            System.out.println("B " + liveB);
            p.close();
            RdmaPathTestSupport.awaitTrue(() -> pa.liveEndpoints() == 0 && pb.liveEndpoints() == 0,
                    Duration.ofSeconds(30), "the endpoints to be torn down after close");
            RdmaPathStats.Snapshot endA = pa.stats();
            RdmaPathStats.Snapshot endB = pb.stats();
            System.out.println("after close: A " + endA + "; B " + endB);
            assertThat(endA.liveRegions()).as("A frees exactly its endpoint's 2 regions").isEqualTo(liveA.liveRegions() - 2);
            assertThat(endB.liveRegions()).as("B frees exactly its endpoint's 2 regions").isEqualTo(liveB.liveRegions() - 2);
            assertThat(endA.liveRings() + endB.liveRings()).isZero();
            assertThat(endA.livePollers() + endB.livePollers()).isZero();
            assertThat(endA.pinnedBytes()).isLessThan(liveA.pinnedBytes());
            assertThat(endB.pinnedBytes()).isLessThan(liveB.pinnedBytes());
        } finally {
            if (cutStarted.get()) {
                try {
                    cut.get(30, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // restore regardless
                }
            }
            restore(link, a, b);
        }
    }

    @Test
    void linkDownForGoodStaysOnQuicAndRetriesAreSpacedByTheBackoff() throws Exception {
        String a = RdmaPathTestSupport.deviceA();
        String b = RdmaPathTestSupport.deviceB();
        RdmaPathTestSupport.requireRdma(a, b);
        String link = cutLink();
        RdmaPathOptions fast = RdmaPathOptions.defaults().withQpTimeout(14).withRetryCount(3);
        RdmaDataPathProvider pa = new RdmaDataPathProvider(fast);
        RdmaDataPathProvider pb = new RdmaDataPathProvider(fast);
        boolean cutDone = false;
        try (ShardlinkNode na = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("gone-a", a)
                     .rdmaRetry(Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(30)).build(), pa);
             ShardlinkNode nb = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("gone-b", b)
                     .rdmaRetry(Duration.ofMillis(500), Duration.ofSeconds(4), Duration.ofSeconds(30)).build(), pb)) {
            serveBlobs(nb);
            Peer p = na.connect(nb.localAddress());
            List<FaultMatrixSupport.Moved> moves = record(p);
            assertThat(p.read(1, 1, 0, 4096).get(60, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);
            RdmaPathTestSupport.ip("link", "set", link, "down");
            cutDone = true;
            long down = System.nanoTime();
            // the next RDMA read meets the cut: it is asked again over QUIC, and the path FAILS
            ReadResult first = p.read(1, 2, 0, 4096).get(120, TimeUnit.SECONDS);
            verify(first, 1, 2, 0, 4096);
            RdmaPathTestSupport.awaitState(p, PeerState.FAILED, Duration.ofSeconds(60));
            long failed = System.nanoTime();
            long retriesAtFail = na.metrics().pathRetries();
            // keeps serving over QUIC for 12 s while every retry is refused (the port is down)
            List<Transport> transports = new ArrayList<>();
            AtomicLong i = new AtomicLong();
            while (System.nanoTime() - failed < TimeUnit.SECONDS.toNanos(12)) {
                long k = i.incrementAndGet();
                ReadResult r = p.read(2, k, k, 4096).get(60, TimeUnit.SECONDS);
                verify(r, 2, k, k, 4096);
                transports.add(r.transport());
                Thread.sleep(50);
            }
            long retries = na.metrics().pathRetries() - retriesAtFail;
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failed);
            FaultMatrixSupport.report("link down for good: detected after " + TimeUnit.NANOSECONDS.toMillis(failed - down)
                    + " ms; " + transports.size() + " reads over " + new java.util.HashSet<>(transports) + "; "
                    + retries + " retries in " + elapsedMs + " ms; moves "
                    + moves.stream().map(m -> m.from() + "->" + m.to()).toList() + "; A " + pa.stats());
            assertThat(transports).isNotEmpty().containsOnly(Transport.QUIC);
            assertThat(p.state()).isEqualTo(PeerState.FAILED);
            // 0.5 + 1 + 2 + 4 + 4 ... s: in 12 s at most 5 retries (one more for the scheduler's slack)
            assertThat(retries).as("retries spaced by the backoff").isBetween(2L, 6L);
            assertThat(moves.stream().filter(m -> m.to() == PeerState.CONNECTED).count())
                    .as("no false recovery while the link is down").isZero();
            assertThat(pa.liveEndpoints()).as("refused retries build nothing").isZero();
            assertThat(pb.liveEndpoints()).isZero();
        } finally {
            if (cutDone) {
                restore(link, a, b);
            }
        }
    }
}
