package io.shardlink.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.metrics.Direction;
import io.shardlink.state.PeerState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Recovery of a FAILED path (host side, with {@link RecoveringProvider} standing in for RDMA over QUIC): the
 * connecting node retries the bring-up with backoff, the peer goes FAILED -> DISCONNECTED -> CONNECTED on both
 * ends, new work goes over the recovered path, a copy that fell back finishes on QUIC, the failed endpoints are
 * closed, and a path that cannot come back stays FAILED with retries spaced by the backoff.
 */
class PathRecoveryTest {
    static final int CHUNK = FailoverTest.CHUNK;

    static ShardlinkConfig.Builder config(String id, long initialMs, long maxMs) throws Exception {
        return FailoverTest.config(id).rdmaRetry(Duration.ofMillis(initialMs), Duration.ofMillis(maxMs),
                Duration.ofSeconds(5));
    }

    static void blobs(ShardlinkNode n) {
        n.blobSource((v, needle, off, len, dst) -> {
            for (int i = 0; i < len; i++) {
                dst.put((byte) (v * 7 + needle * 13 + off + i));
            }
            return len;
        });
    }

    static void await(BooleanSupplier cond, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    static void checkRead(ReadResult r, long v, long needle, long off) {
        ByteBuffer d = r.data();
        for (int i = 0; i < r.length(); i++) {
            assertThat(d.get(d.position() + i)).isEqualTo((byte) (v * 7 + needle * 13 + off + i));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFailedPathIsRetriedAndNewWorkGoesBackToIt() throws Exception {
        RecoveringProvider pa = new RecoveringProvider();
        RecoveringProvider pb = new RecoveringProvider();
        byte[] shard = new byte[12 * CHUNK + 777];
        new Random(11).nextBytes(shard);
        List<FailoverTest.RecordingSink> sinks = new CopyOnWriteArrayList<>();
        List<String> ta = new CopyOnWriteArrayList<>();
        List<String> tb = new CopyOnWriteArrayList<>();
        try (ShardlinkNode a = ShardlinkNode.start(config("rec-a", 100, 800).build(), pa);
             ShardlinkNode b = ShardlinkNode.start(config("rec-b", 100, 800).build(), pb)) {
            b.onShardCopy((peer, id, total) -> {
                FailoverTest.RecordingSink s = new FailoverTest.RecordingSink(total);
                sinks.add(s);
                return s;
            });
            blobs(b);
            a.addPeerStateListener((peer, from, to, cause) -> ta.add(from + "->" + to));
            List<String> bFailures = new CopyOnWriteArrayList<>();
            b.addPeerStateListener((peer, from, to, cause) -> {
                tb.add(from + "->" + to);
                if (to == PeerState.FAILED) {
                    bFailures.add(String.valueOf(cause));
                }
            });
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(p.read(1, 2, 0, 4096).get(10, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);

            // the path fails under a copy (after 3 chunks acknowledged): the copy moves to QUIC and stays there,
            // even though the path comes back while it still runs
            AtomicBoolean cut = new AtomicBoolean();
            CopyResult r = p.copyShard(1, ByteBuffer.wrap(shard), new CopyProgressListener() {
                @Override
                public void onProgress(long acked, long total, Transport t) {
                    if (acked >= 3L * CHUNK && cut.compareAndSet(false, true)) {
                        pa.failAll("QP error mid-copy");
                    }
                }
            }).get(30, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.RDMA, Transport.QUIC);
            assertThat(sinks.get(0).problems).isEmpty();
            assertThat(sinks.get(0).data).isEqualTo(shard);
            assertThat(sinks.get(0).chunks).as("every chunk exactly once").isEqualTo((shard.length + CHUNK - 1) / CHUNK);

            await(() -> p.state() == PeerState.CONNECTED && ta.size() >= 4, Duration.ofSeconds(10),
                    "A's peer to recover (transitions " + ta + ")");
            Peer back = b.peers().get(0);
            await(() -> back.state() == PeerState.CONNECTED && tb.size() >= 4, Duration.ofSeconds(10),
                    "B's peer to recover (transitions " + tb + ")");
            assertThat(ta).containsExactly("DISCONNECTED->CONNECTED", "CONNECTED->FAILED", "FAILED->DISCONNECTED",
                    "DISCONNECTED->CONNECTED");
            // B never saw its own path fail: the retry told it (its old path is failed and torn down first)
            assertThat(tb).containsExactly("DISCONNECTED->CONNECTED", "CONNECTED->FAILED", "FAILED->DISCONNECTED",
                    "DISCONNECTED->CONNECTED");
            assertThat(bFailures).singleElement().asString().contains("RDMA retry 1 from rec-a to rec-b")
                    .contains("restarts the bring-up");
            assertThat(a.metrics().pathRetries()).isEqualTo(1);
            assertThat(a.metrics().pathRecoveries()).isEqualTo(1);
            assertThat(p.metrics().pathRecoveries()).isEqualTo(1);
            // the failed endpoints are closed: one live endpoint per side, for the new path
            assertThat(pa.prepared.get()).isEqualTo(2);
            assertThat(pa.liveEndpoints()).isEqualTo(1);
            assertThat(pb.prepared.get()).isEqualTo(2);
            assertThat(pb.liveEndpoints()).isEqualTo(1);

            // new work goes over the recovered path
            long rdmaBefore = a.metrics().bytes(Transport.RDMA, Direction.SENT);
            long quicBefore = a.metrics().bytes(Transport.QUIC, Direction.SENT);
            CopyResult again = p.copyShard(2, ByteBuffer.wrap(shard, 0, 4 * CHUNK), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS);
            assertThat(again.transports()).containsExactly(Transport.RDMA);
            assertThat(a.metrics().bytes(Transport.RDMA, Direction.SENT) - rdmaBefore).isEqualTo(4L * CHUNK);
            assertThat(a.metrics().bytes(Transport.QUIC, Direction.SENT)).isEqualTo(quicBefore);
            ReadResult rr = p.read(3, 4, 5, 1000).get(10, TimeUnit.SECONDS);
            assertThat(rr.transport()).isEqualTo(Transport.RDMA);
            checkRead(rr, 3, 4, 5);
            assertThat(sinks.get(1).data).isEqualTo(java.util.Arrays.copyOf(shard, 4 * CHUNK));
        }
        assertThat(pa.liveEndpoints()).as("A's endpoints after close").isZero();
        assertThat(pb.liveEndpoints()).as("B's endpoints after close").isZero();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aPathThatCannotComeBackStaysFailedOnQuicWithRetriesSpacedByTheBackoff() throws Exception {
        RecoveringProvider pa = new RecoveringProvider();
        RecoveringProvider pb = new RecoveringProvider();
        List<String> ta = new CopyOnWriteArrayList<>();
        try (ShardlinkNode a = ShardlinkNode.start(config("down-a", 50, 400).build(), pa);
             ShardlinkNode b = ShardlinkNode.start(config("down-b", 50, 400).build(), pb)) {
            blobs(b);
            b.onShardCopy((peer, id, total) -> new FailoverTest.RecordingSink(total));
            a.addPeerStateListener((peer, from, to, cause) -> ta.add(from + "->" + to));
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            int preparedBefore = pa.prepareAttempts.size();
            pa.portDown = true; // the link is down for good: every retry is refused before it builds anything
            pb.portDown = true;
            long t0 = System.nanoTime();
            pa.failAll("link down");
            // keeps serving over QUIC meanwhile
            long end = t0 + TimeUnit.MILLISECONDS.toNanos(2500);
            int reads = 0;
            while (System.nanoTime() < end) {
                ReadResult rr = p.read(1, 1, reads, 512).get(10, TimeUnit.SECONDS);
                assertThat(rr.transport()).isEqualTo(Transport.QUIC);
                checkRead(rr, 1, 1, reads);
                reads++;
                Thread.sleep(20);
            }
            assertThat(p.copyShard(9, ByteBuffer.allocate(3 * CHUNK), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS).transports()).containsExactly(Transport.QUIC);
            assertThat(p.state()).isEqualTo(PeerState.FAILED);
            assertThat(ta).as("refused retries change no state").containsExactly("DISCONNECTED->CONNECTED",
                    "CONNECTED->FAILED");

            List<Long> at = new ArrayList<>(pa.prepareAttempts.subList(preparedBefore, pa.prepareAttempts.size()));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("retries while the link was down: " + at.size() + " in " + elapsedMs + " ms");
            // 50, 100, 200, 400, 400, ... ms: never sooner than the backoff allows
            long prev = t0;
            long wait = 50;
            for (long t : at) {
                assertThat(TimeUnit.NANOSECONDS.toMillis(t - prev)).as("wait before a retry (expected >= " + wait
                        + " ms)").isGreaterThanOrEqualTo(wait - 2);
                prev = t;
                wait = Math.min(400, wait * 2);
            }
            long bound = 4 + Math.max(0, elapsedMs - 750) / 400 + 1;
            assertThat((long) at.size()).as("retries bounded by the backoff").isBetween(3L, bound);
            // counted as it starts, before its prepare: one more may have begun since the copy above
            assertThat(a.metrics().pathRetries()).isBetween((long) at.size(), at.size() + 1L);
            assertThat(pa.liveEndpoints()).as("nothing built while the port is down").isZero();

            // the link comes back: the next retry (at most 400 ms away) recovers
            pa.portDown = false;
            pb.portDown = false;
            await(() -> p.state() == PeerState.CONNECTED, Duration.ofSeconds(10), "recovery once the port is up");
            assertThat(p.read(1, 1, 0, 512).get(10, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFlappingPathBacksOffAndAStablePathResetsTheBackoff() throws Exception {
        RecoveringProvider pa = new RecoveringProvider();
        RecoveringProvider pb = new RecoveringProvider();
        List<long[]> moves = new CopyOnWriteArrayList<>(); // {to.ordinal, nanoTime}
        ShardlinkConfig.Builder ca = FailoverTest.config("flap-a").rdmaRetry(Duration.ofMillis(50),
                Duration.ofMillis(400), Duration.ofMillis(1500));
        try (ShardlinkNode a = ShardlinkNode.start(ca.build(), pa);
             ShardlinkNode b = ShardlinkNode.start(config("flap-b", 50, 400).build(), pb)) {
            a.addPeerStateListener((peer, from, to, cause) -> moves.add(new long[] {to.ordinal(), System.nanoTime()}));
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            // the link flaps: every recovered path fails at once (well inside the 1.5 s stable period)
            List<Long> waits = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                int before = moves.size();
                long failedAt = System.nanoTime(); // the retry is scheduled after this
                pa.failAll("flap " + i);
                await(() -> p.state() == PeerState.CONNECTED && moves.size() >= before + 3, Duration.ofSeconds(10),
                        "recovery " + i);
                waits.add(TimeUnit.NANOSECONDS.toMillis(moves.get(before + 1)[1] - failedAt));
            }
            System.out.println("waits before each retry of a flapping path (ms): " + waits);
            long[] expected = {50, 100, 200, 400, 400};
            for (int i = 0; i < expected.length; i++) {
                assertThat(waits.get(i)).as("wait " + i + " of " + waits).isGreaterThanOrEqualTo(expected[i] - 2);
            }
            assertThat(waits.get(3)).as("the flapping path waits longer and longer: " + waits)
                    .isGreaterThan(waits.get(0));
            // up for longer than the stable period: the next failure is a new incident, first wait again
            Thread.sleep(1700);
            int before = moves.size();
            long failedAt = System.nanoTime();
            pa.failAll("after a stable period");
            await(() -> p.state() == PeerState.CONNECTED && moves.size() >= before + 3, Duration.ofSeconds(10),
                    "recovery after the stable period");
            long wait = TimeUnit.NANOSECONDS.toMillis(moves.get(before + 1)[1] - failedAt);
            System.out.println("wait after a stable period: " + wait + " ms");
            assertThat(wait).as("reset to the first wait (50 ms), not the cap (400 ms)").isBetween(48L, 390L);
            assertThat(a.metrics().pathRecoveries()).isEqualTo(6);
            assertThat(pa.liveEndpoints()).isEqualTo(1);
            assertThat(pb.liveEndpoints()).isEqualTo(1);
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void quicOnlyNeverTries() throws Exception {
        RecoveringProvider pa = new RecoveringProvider();
        RecoveringProvider pb = new RecoveringProvider();
        try (ShardlinkNode a = ShardlinkNode.start(config("qo-a", 20, 20).transportMode(TransportMode.QUIC_ONLY)
                .build(), pa);
             ShardlinkNode b = ShardlinkNode.start(config("qo-b", 20, 20).build(), pb)) {
            blobs(b);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.UNAVAILABLE);
            assertThat(p.read(1, 1, 0, 100).get(10, TimeUnit.SECONDS).transport()).isEqualTo(Transport.QUIC);
            Thread.sleep(300); // 15 backoff periods
            assertThat(pa.prepareAttempts).isEmpty();
            assertThat(a.metrics().pathRetries()).isZero();
            assertThat(p.state()).isEqualTo(PeerState.UNAVAILABLE);
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void rdmaOnlyFailsFastWhileDownAndRecovers() throws Exception {
        RecoveringProvider pa = new RecoveringProvider();
        RecoveringProvider pb = new RecoveringProvider();
        try (ShardlinkNode a = ShardlinkNode.start(config("ro-a", 300, 300).transportMode(TransportMode.RDMA_ONLY)
                .build(), pa);
             ShardlinkNode b = ShardlinkNode.start(config("ro-b", 300, 300).build(), pb)) {
            blobs(b);
            b.onShardCopy((peer, id, total) -> new FailoverTest.RecordingSink(total));
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            pa.failAll("QP error");
            assertThat(p.state()).isIn(PeerState.FAILED, PeerState.DISCONNECTED);
            CompletableFuture<CopyResult> f = p.copyShard(1, ByteBuffer.allocate(100), CopyProgressListener.NONE);
            assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                    .hasMessageContaining("RDMA_ONLY");
            await(() -> p.state() == PeerState.CONNECTED, Duration.ofSeconds(10), "RDMA_ONLY peer to recover");
            assertThat(p.copyShard(2, ByteBuffer.allocate(2 * CHUNK), CopyProgressListener.NONE)
                    .get(10, TimeUnit.SECONDS).transports()).containsExactly(Transport.RDMA);
        }
    }
}
