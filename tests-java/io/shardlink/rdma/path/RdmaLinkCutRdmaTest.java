package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.state.PeerState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Cutting the veth link under a copy (VM: {@code ip link set vb down}): the RDMA path fails with its cause, the
 * peer goes FAILED, and the copy finishes over QUIC with every byte delivered exactly once, in order. The link is
 * always restored and the rxe ports are ACTIVE again afterwards.
 */
@Tag("rdma")
class RdmaLinkCutRdmaTest {
    private static String ip(String... args) throws IOException, InterruptedException {
        return RdmaPathTestSupport.ip(args);
    }

    private static boolean ready(String device) {
        return RdmaPathTestSupport.portReady(device);
    }

    @Test
    void cuttingTheLinkMidCopyFailsThePathAndTheCopyFinishesOverQuic() throws Exception {
        String a = RdmaPathTestSupport.deviceA();
        String b = RdmaPathTestSupport.deviceB();
        RdmaPathTestSupport.requireRdma(a, b);
        String link = System.getenv("SHARDLINK_RXE_CUT_LINK");
        if (link == null || link.isBlank()) {
            if (RdmaPathTestSupport.REQUIRED) {
                fail("SHARDLINK_REQUIRE_RDMA=1 but SHARDLINK_RXE_CUT_LINK (the netdev to cut) is not set");
            }
            assumeTrue(false, "SHARDLINK_RXE_CUT_LINK is not set");
        }
        ip("link", "show", link); // exists, and we may run ip

        // short QP retries so that the cut surfaces as "retry exceeded" within about a second
        RdmaPathOptions fast = RdmaPathOptions.defaults().withQpTimeout(14).withRetryCount(3);
        RdmaDataPathProvider pa = new RdmaDataPathProvider(fast);
        RdmaDataPathProvider pb = new RdmaDataPathProvider(fast);
        int size = 24 * MiB + 333;
        byte[] data = RdmaPathTestSupport.pattern(11, size);
        AtomicBoolean cutStarted = new AtomicBoolean();
        CompletableFuture<Void> cut = new CompletableFuture<>();
        List<String> fallbacks = new CopyOnWriteArrayList<>();
        // no RDMA retry during this test: it looks at what the cut leaves (RdmaRecoveryRdmaTest covers recovery)
        Duration noRetry = Duration.ofMinutes(10);
        try (ShardlinkNode na = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("cut-a", a)
                     .rdmaRetry(noRetry, noRetry, noRetry).build(), pa);
             ShardlinkNode nb = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("cut-b", b)
                     .rdmaRetry(noRetry, noRetry, noRetry).build(), pb)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            // hold the receiver once 8 MiB arrived, until the link is down: the cut lands mid-copy for sure
            sinks.gate = new CountDownLatch(1);
            sinks.gateAfter = 8L * MiB;
            nb.onShardCopy(sinks);
            nb.blobSource((v, n, off, len, dst) -> {
                for (int i = 0; i < len; i++) {
                    dst.put(RdmaPathTestSupport.blobByte(v, n, off + i));
                }
                return len;
            });
            Peer p = na.connect(nb.localAddress());
            assertThat(p.read(1, 2, 3, 4096).get(60, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            Peer back = RdmaPathTestSupport.onlyPeer(nb);
            RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, Duration.ofSeconds(30));
            CountDownLatch gate = sinks.gate;
            CompletableFuture<CopyResult> f = p.copyShard(1, ByteBuffer.wrap(data), new CopyProgressListener() {
                @Override
                public void onProgress(long acked, long total, Transport t) {
                    if (acked >= 8L * MiB && cutStarted.compareAndSet(false, true)) {
                        // not on the transport thread that reports progress
                        CompletableFuture.runAsync(() -> {
                            try {
                                ip("link", "set", link, "down");
                                System.out.println("cut " + link + " after " + acked + " bytes acknowledged over " + t);
                                cut.complete(null);
                            } catch (Exception e) {
                                cut.completeExceptionally(e);
                            } finally {
                                gate.countDown();
                            }
                        });
                    }
                }

                @Override
                public void onFallback(Transport from, Transport to, long offset, Throwable cause) {
                    fallbacks.add(from + "->" + to + " at " + offset + ": " + cause);
                }
            });
            CopyResult r = f.get(240, TimeUnit.SECONDS);
            cut.get(10, TimeUnit.SECONDS);
            System.out.println("copy across the cut: " + r);
            System.out.println("fallbacks: " + fallbacks);
            System.out.println("A " + pa.stats());
            System.out.println("B " + pb.stats());
            assertThat(r.transports()).containsExactly(Transport.RDMA, Transport.QUIC);
            assertThat(r.fallbacks()).isEqualTo(1);
            RdmaPathTestSupport.Sinks.Received got = sinks.get(1);
            assertThat(got.problems).as("chunks in order, none twice").isEmpty();
            assertThat(got.bytes).isEqualTo(size);
            assertThat(got.chunks).as("every chunk delivered exactly once").isEqualTo((size + MiB - 1) / MiB);
            assertThat(got.data).isEqualTo(data);

            // the path failed with its cause on both ends
            assertThat(p.state()).isEqualTo(PeerState.FAILED);
            assertThat(p.lastCause()).isNotNull();
            System.out.println("A's peer failed: " + p.lastCause());
            RdmaPathTestSupport.awaitState(back, PeerState.FAILED, Duration.ofSeconds(30));
            System.out.println("B's peer failed: " + back.lastCause());
            assertThat(String.valueOf(p.lastCause()) + back.lastCause()).containsAnyOf("retry", "status");
            assertThat(na.metrics().bytes(Transport.RDMA, Direction.SENT)).isGreaterThanOrEqualTo(8L * MiB);
            assertThat(na.metrics().bytes(Transport.QUIC, Direction.SENT)).isGreaterThan(0);
            // one fallback = one operation moved to QUIC: the one copy in flight at the cut (the path failure is
            // the peer's FAILED state, not a fallback; the reads before the cut finished on RDMA, the one after goes
            // over QUIC from the start)
            assertThat(na.metrics().totalFallbacks()).isEqualTo(1);
            System.out.println("A's fallbacks by cause: " + na.metrics().fallbacks());

            // the failed endpoints are torn down: no ring stays exposed, no poller runs
            RdmaPathTestSupport.awaitTrue(() -> pa.liveEndpoints() == 0 && pb.liveEndpoints() == 0,
                    Duration.ofSeconds(30), "both RDMA endpoints to be torn down");
            assertThat(pb.stats().liveRings()).isZero();
            assertThat(pa.stats().livePollers()).isZero();
            assertThat(pb.stats().livePollers()).isZero();

            // new work goes over QUIC
            io.shardlink.api.ReadResult rr = p.read(1, 2, 3, 4096).get(60, TimeUnit.SECONDS);
            assertThat(rr.transport()).isEqualTo(Transport.QUIC);
            assertThat(rr.data().get(rr.data().position() + 4095)).isEqualTo(RdmaPathTestSupport.blobByte(1, 2,
                    3 + 4095));
            CopyResult again = p.copyShard(2, ByteBuffer.wrap(data, 0, 3 * MiB), CopyProgressListener.NONE)
                    .get(120, TimeUnit.SECONDS);
            assertThat(again.transports()).containsExactly(Transport.QUIC);
        } finally {
            if (cutStarted.get()) {
                try {
                    cut.get(30, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // restore regardless
                }
            }
            ip("link", "set", link, "up");
            RdmaPathTestSupport.awaitTrue(() -> ready(a) && ready(b), Duration.ofSeconds(90),
                    "rxe ports " + a + " and " + b + " to be ACTIVE with a GID again after " + link + " came back up");
        }
    }
}
