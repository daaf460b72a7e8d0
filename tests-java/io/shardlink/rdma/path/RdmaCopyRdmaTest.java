package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.state.PeerState;
import io.shardlink.wire.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two nodes in one JVM, node A on rxea and node B on rxeb (the bytes cross the VM's veth pair), QUIC on
 * 127.0.0.1: shard copies and blob reads really go over RDMA, verified byte for byte, with the metrics and
 * registrations that prove it. Run in the rxe VM (ci/rxe-vm.sh); skipped elsewhere.
 */
@Tag("rdma")
class RdmaCopyRdmaTest {
    @BeforeEach
    void rdma() {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
    }

    private static int serve(long volume, long needle, long offset, int length, ByteBuffer dst) {
        for (int i = 0; i < length; i++) {
            dst.put(RdmaPathTestSupport.blobByte(volume, needle, offset + i));
        }
        return length;
    }

    private static Thread pollerOf(ShardlinkNode n) {
        String prefix = "shardlink-" + n.nodeId() + "-rdma-";
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no RDMA poller thread of " + n.nodeId()));
    }

    private static ShardlinkConfig config(String id, String device) throws Exception {
        return RdmaPathTestSupport.vmConfig(id, device).build();
    }

    @Test
    void shardCopiesGoOverRdmaByteForByte(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        ShardlinkNode a = RdmaPathTestSupport.start(config("copy-a", RdmaPathTestSupport.deviceA()), pa);
        ShardlinkNode b = RdmaPathTestSupport.start(config("copy-b", RdmaPathTestSupport.deviceB()), pb);
        try (a; b) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            b.onShardCopy(sinks);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).as("A's peer after connect (last cause: %s)", p.lastCause())
                    .isEqualTo(PeerState.CONNECTED);
            Peer back = RdmaPathTestSupport.onlyPeer(b);
            RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, Duration.ofSeconds(30));

            // a file, by FileChannel (also warms the path up for the measurement below)
            int fsize = 8 * MiB + 7;
            byte[] fdata = RdmaPathTestSupport.pattern(2, fsize);
            Path f = tmp.resolve("shard-2");
            Files.write(f, fdata);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                CopyResult fr = p.copyShard(2, ch, 0, fsize, CopyProgressListener.NONE).get(300, TimeUnit.SECONDS);
                assertThat(fr.transports()).containsExactly(Transport.RDMA);
            }
            assertThat(sinks.get(2).data).isEqualTo(fdata);

            // ~32 MiB from memory, with the completion pollers' allocations measured
            int size = 32 * MiB + 12345;
            byte[] data = RdmaPathTestSupport.pattern(1, size);
            Thread pollA = pollerOf(a);
            Thread pollB = pollerOf(b);
            com.sun.management.ThreadMXBean mx =
                    (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long allocA = mx.getThreadAllocatedBytes(pollA.getId());
            long allocB = mx.getThreadAllocatedBytes(pollB.getId());
            long okA = pa.stats().okCompletions();
            long okB = pb.stats().okCompletions();
            long t0 = System.nanoTime();
            CopyResult r = p.copyShard(1, ByteBuffer.wrap(data), CopyProgressListener.NONE).get(300, TimeUnit.SECONDS);
            double secs = (System.nanoTime() - t0) / 1e9;
            long perA = (mx.getThreadAllocatedBytes(pollA.getId()) - allocA)
                    / Math.max(1, pa.stats().okCompletions() - okA);
            long perB = (mx.getThreadAllocatedBytes(pollB.getId()) - allocB)
                    / Math.max(1, pb.stats().okCompletions() - okB);
            System.out.printf("RDMA copy of %d bytes from %s to %s: %.2f s, %.1f MB/s, %d chunks; poller allocation "
                    + "per completion: sender %d B, receiver %d B%n", size, a.nodeId(), b.nodeId(), secs,
                    size / 1e6 / secs, r.chunks(), perA, perB);
            assertThat(r.transports()).containsExactly(Transport.RDMA);
            assertThat(r.fallbacks()).isZero();
            RdmaPathTestSupport.Sinks.Received got = sinks.get(1);
            assertThat(got.problems).isEmpty();
            assertThat(got.bytes).isEqualTo(size);
            assertThat(got.chunks).isEqualTo((size + MiB - 1) / MiB);
            assertThat(got.done.getCount()).isZero();
            assertThat(got.data).isEqualTo(data);
            // the sender's poller (WRITE completions, ACK receives) allocates nothing per completion; the receiver's
            // allocates only the Frame it hands to the copy receiver per chunk (a few small objects)
            assertThat(perA).as("sender poller bytes allocated per completion").isLessThan(64);
            assertThat(perB).as("receiver poller bytes allocated per completion").isLessThan(1024);

            MetricsSnapshot ma = a.metrics();
            MetricsSnapshot mb = b.metrics();
            System.out.println(ma);
            System.out.println(mb);
            System.out.println("A " + pa.stats());
            System.out.println("B " + pb.stats());
            assertThat(ma.bytes(Transport.RDMA, Direction.SENT)).isGreaterThanOrEqualTo(size + fsize);
            assertThat(ma.bytes(Transport.QUIC, Direction.SENT)).isZero();
            assertThat(mb.bytes(Transport.RDMA, Direction.RECEIVED)).isGreaterThanOrEqualTo(size + fsize);
            assertThat(mb.bytes(Transport.QUIC, Direction.RECEIVED)).isZero();
            assertThat(ma.completions(CompletionStatus.OK)).isEqualTo(2);
            assertThat(ma.totalFallbacks()).isZero();
            // verbs level: the chunks were RDMA WRITEs from A, and B's rings are gone with their transfers
            assertThat(pa.stats().writeBytes()).isGreaterThanOrEqualTo(size + fsize);
            assertThat(pa.stats().errorCompletions()).isEmpty();
            assertThat(pb.stats().ringsGranted()).isEqualTo(2);
            RdmaPathTestSupport.awaitTrue(() -> pb.stats().liveRings() == 0, Duration.ofSeconds(10),
                    "B to deregister the receive rings of finished copies");
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
        }
        assertThat(a.liveThreads()).isZero();
        assertThat(b.liveThreads()).isZero();
        assertThat(pa.stats().liveRegions()).isZero();
        assertThat(pb.stats().liveRegions()).isZero();
        assertThat(pa.stats().liveEndpoints()).isZero();
        assertThat(pa.stats().pinnedBytes()).isZero();
        assertThat(pb.stats().pinnedBytes()).isZero();
    }

    @Test
    void blobReadsGoOverRdma() throws Exception {
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        try (ShardlinkNode a = RdmaPathTestSupport.start(config("read-a", RdmaPathTestSupport.deviceA()), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(config("read-b", RdmaPathTestSupport.deviceB()), pb)) {
            long needleSize = 3 * MiB;
            b.blobSource((v, n, off, len, dst) -> {
                if (n == 404) {
                    throw new io.shardlink.api.BlobNotFoundException("no needle " + n + " in volume " + v);
                }
                int k = (int) Math.max(0, Math.min(len, needleSize - off));
                for (int i = 0; i < k; i++) {
                    dst.put(RdmaPathTestSupport.blobByte(v, n, off + i));
                }
                return k;
            });
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);

            // 200 reads of 0..1 MiB, 20 in flight at a time
            java.util.Random rnd = new java.util.Random(7);
            long bytes = 0;
            for (int batch = 0; batch < 10; batch++) {
                List<long[]> asked = new ArrayList<>();
                List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    long needle = rnd.nextInt(1000);
                    int len = i == 0 ? MiB : i == 1 ? 0 : rnd.nextInt(i < 10 ? 8192 : MiB);
                    long off = rnd.nextInt((int) needleSize - len + 1);
                    asked.add(new long[] {needle, off, len});
                    fs.add(p.read(batch, needle, off, len));
                }
                for (int i = 0; i < fs.size(); i++) {
                    ReadResult rr = fs.get(i).get(120, TimeUnit.SECONDS);
                    long[] q = asked.get(i);
                    assertThat(rr.transport()).isEqualTo(Transport.RDMA);
                    assertThat(rr.length()).isEqualTo((int) q[2]);
                    ByteBuffer d = rr.data();
                    for (int k = 0; k < rr.length(); k++) {
                        if (d.get(d.position() + k) != RdmaPathTestSupport.blobByte(batch, q[0], q[1] + k)) {
                            throw new AssertionError("read " + i + " of batch " + batch + " differs at byte " + k);
                        }
                    }
                    bytes += rr.length();
                }
            }
            // a short answer at the needle's end, and errors come back over RDMA too
            ReadResult tail = p.read(1, 1, needleSize - 100, 4096).get(60, TimeUnit.SECONDS);
            assertThat(tail.length()).isEqualTo(100);
            assertThatThrownBy(() -> p.read(1, 404, 0, 10).get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("NOT_FOUND")
                    .hasMessageContaining("no needle 404");

            // 1,000 reads in flight at once: more than the reply ring holds, so most wait their turn
            List<CompletableFuture<ReadResult>> many = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                many.add(p.read(2, 1000 + i, i, 1000));
            }
            for (int i = 0; i < many.size(); i++) {
                ReadResult rr = many.get(i).get(300, TimeUnit.SECONDS);
                assertThat(rr.transport()).isEqualTo(Transport.RDMA);
                assertThat(rr.length()).isEqualTo(1000);
                assertThat(rr.data().get(rr.data().position() + 999)).isEqualTo(RdmaPathTestSupport.blobByte(2,
                        1000 + i, i + 999));
            }
            MetricsSnapshot ma = a.metrics();
            System.out.println(ma);
            System.out.println("A " + pa.stats());
            System.out.println("B " + pb.stats());
            assertThat(ma.bytes(Transport.RDMA, Direction.RECEIVED)).isGreaterThanOrEqualTo(bytes + 100 + 1_000_000);
            assertThat(ma.ops(Transport.RDMA, Direction.RECEIVED)).isGreaterThanOrEqualTo(1201);
            assertThat(ma.bytes(Transport.QUIC, Direction.RECEIVED)).isZero();
            assertThat(b.metrics().bytes(Transport.RDMA, Direction.SENT)).isGreaterThanOrEqualTo(bytes);
            assertThat(pb.stats().writesPosted()).isGreaterThanOrEqualTo(1202);
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
        }
        assertThat(pa.stats().liveRegions()).isZero();
        assertThat(pb.stats().liveRegions()).isZero();
    }

    @Test
    void rdmaOnlyPeersReachConnectedSeenByStateListeners() throws Exception {
        List<String> seenA = new CopyOnWriteArrayList<>();
        List<String> seenB = new CopyOnWriteArrayList<>();
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        try (ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("only-a",
                RdmaPathTestSupport.deviceA()).transportMode(TransportMode.RDMA_ONLY).build(), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("only-b",
                     RdmaPathTestSupport.deviceB()).transportMode(TransportMode.RDMA_ONLY).build(), pb)) {
            a.addPeerStateListener((peer, from, to, cause) -> seenA.add(from + "->" + to));
            b.addPeerStateListener((peer, from, to, cause) -> seenB.add(from + "->" + to));
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            b.onShardCopy(sinks);
            b.blobSource(RdmaCopyRdmaTest::serve);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            RdmaPathTestSupport.awaitState(RdmaPathTestSupport.onlyPeer(b), PeerState.CONNECTED, Duration.ofSeconds(30));
            // listeners run after the state is set: B's may still be on its way when state() already says CONNECTED
            RdmaPathTestSupport.awaitTrue(() -> !seenB.isEmpty(), Duration.ofSeconds(30), "B's listener to see CONNECTED");
            assertThat(seenA).containsExactly("DISCONNECTED->CONNECTED");
            assertThat(seenB).containsExactly("DISCONNECTED->CONNECTED");
            byte[] data = RdmaPathTestSupport.pattern(9, 4 * MiB + 1);
            CopyResult r = p.copyShard(3, ByteBuffer.wrap(data), CopyProgressListener.NONE).get(120, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.RDMA);
            assertThat(sinks.get(3).data).isEqualTo(data);
            ReadResult rr = p.read(1, 2, 3, 4096).get(60, TimeUnit.SECONDS);
            assertThat(rr.transport()).isEqualTo(Transport.RDMA);
        }
        // orderly close: CONNECTED -> DISCONNECTED (when B closed first, A's I/O thread may still be finishing it)
        RdmaPathTestSupport.awaitTrue(() -> seenA.size() >= 2, Duration.ofSeconds(30), "A's peer to be closed");
        assertThat(seenA).containsExactly("DISCONNECTED->CONNECTED", "CONNECTED->DISCONNECTED");
    }

    @Test
    void aFullPinnedBudgetSendsTheCopyOverQuicWithAReason() throws Exception {
        // B's 16 MiB budget fits its fixed per-peer buffers (with an 8 MiB read reply ring) but no 8 MiB receive
        // ring on top
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider(RdmaPathOptions.defaults().withReadRingBytes(8L * MiB));
        ShardlinkConfig cb = RdmaPathTestSupport.vmConfig("budget-b", RdmaPathTestSupport.deviceB())
                .pinnedMemoryBudget(16L * MiB).build();
        try (ShardlinkNode a = RdmaPathTestSupport.start(config("budget-a", RdmaPathTestSupport.deviceA()), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(cb, pb)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            b.onShardCopy(sinks);
            b.blobSource(RdmaCopyRdmaTest::serve);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            byte[] data = RdmaPathTestSupport.pattern(4, 3 * MiB);
            CopyResult r = p.copyShard(5, ByteBuffer.wrap(data), CopyProgressListener.NONE).get(120, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            assertThat(r.fallbackCauses()).singleElement().asString().contains("pinned-memory budget");
            assertThat(sinks.get(5).data).isEqualTo(data);
            assertThat(p.state()).as("a declined ring leaves the path up").isEqualTo(PeerState.CONNECTED);
            assertThat(pb.stats().ringsDeclined()).isEqualTo(1);
            assertThat(pb.stats().pinnedBytes()).isLessThanOrEqualTo(16L * MiB);
            // reads still go over RDMA
            assertThat(p.read(1, 1, 0, 100).get(60, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);
        }
    }
}
