package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import io.shardlink.testing.SoakLoad;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, in the rxe VM: 20,000 reads and 1,000 copies on ONE peer connection (after a warm-up), every one
 * asserted to have gone over RDMA and verified; afterwards no copy ring is left granted, pinned bytes within a few pool buffers of
 * the warm-up, threads and direct memory within bounds of their warm baseline; after the nodes close nothing is
 * pinned, no node thread is left and the devices' QP/CQ/MR/PD counts ({@code rdma resource}) are back to where they
 * were before the nodes started. Sizes: -Dshardlink.soak.rdmaReads / .rdmaCopies.
 */
@Tag("rdma")
class RdmaSoakRdmaTest {
    static final int READS = Integer.getInteger("shardlink.soak.rdmaReads", 20_000);
    static final int COPIES = Integer.getInteger("shardlink.soak.rdmaCopies", 1_000);
    static final int WARMUP_READS = 2_000;
    static final int WARMUP_COPIES = 50;
    /** Threads may grow this much over the warm baseline (pools start threads lazily; not per operation). */
    static final int THREAD_BOUND = 8;
    /** Direct memory may grow this much over the warm baseline (pool arenas filling; not per operation). */
    static final long DIRECT_BOUND = 16L << 20;
    /**
     * Pinned bytes may grow this much over the warm baseline: the chunk pool registers a buffer when more chunks
     * overlap than they did in the warm-up (seen: one 1 MiB buffer after 30,000 reads), bounded by the pool and the
     * pinned budget, never per operation.
     */
    static final long PINNED_SLACK = 4L << 20;

    @BeforeEach
    void rdma() {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
    }

    @Test
    void readsAndCopiesOverRdmaLeaveNoDeviceObjects() throws Exception {
        Map<String, Long> before = rdmaResources();
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("soak-a",
                RdmaPathTestSupport.deviceA()).build(), pa);
        ShardlinkNode b = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("soak-b",
                RdmaPathTestSupport.deviceB()).build(), pb);
        try (a; b) {
            b.blobSource(SoakLoad::blob);
            b.onShardCopy((peer, shard, total) -> SoakLoad.DISCARD);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).as("peer state (last cause: %s)", p.lastCause()).isEqualTo(PeerState.CONNECTED);
            SoakLoad.run(p, WARMUP_READS, 4096, 16, WARMUP_COPIES, 64 * 1024, 2, Transport.RDMA); // JIT, pools, threads
            RdmaPathTestSupport.awaitTrue(() -> pb.stats().liveRings() == 0, Duration.ofSeconds(30),
                    "B's copy rings released after the warm-up (" + pb.stats() + ")");
            settle();
            int threadsA = a.liveThreads();
            int threadsB = b.liveThreads();
            long direct0 = SoakLoad.directMemory();
            long pinnedA = pa.stats().pinnedBytes();
            long pinnedB = pb.stats().pinnedBytes();

            long t0 = System.nanoTime();
            SoakLoad.run(p, READS, 4096, 16, COPIES, 64 * 1024, 2, Transport.RDMA);
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("RDMA soak: %d verified 4 KiB reads and %d 64 KiB copies on one connection in %.1f s"
                    + " (%.0f reads/s), all over RDMA%n", READS, COPIES, secs, READS / secs);
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(p.reconnects()).isZero();
            assertThat(p.metrics().fallbacks()).as("fallbacks to QUIC").isEmpty();
            SoakLoad.verify(p.read(1, 1, 0, 4096).get(60, TimeUnit.SECONDS), 1, 1, 4096);

            // back to the warm baseline: no ring left granted, pinned memory as before, threads and direct memory
            // within the soak tests' bounds (pools and arenas fill once; nothing grows per operation)
            RdmaPathTestSupport.awaitTrue(() -> pb.stats().liveRings() == 0, Duration.ofSeconds(30),
                    "B's copy rings released (" + pb.stats() + ")");
            settle();
            System.out.printf("RDMA soak: threads A %d -> %d, B %d -> %d; direct memory %d KiB -> %d KiB; pinned A %d"
                    + " -> %d, B %d -> %d bytes%n", threadsA, a.liveThreads(), threadsB, b.liveThreads(),
                    direct0 >> 10, SoakLoad.directMemory() >> 10, pinnedA, pa.stats().pinnedBytes(), pinnedB,
                    pb.stats().pinnedBytes());
            for (RdmaDataPathProvider pp : new RdmaDataPathProvider[] {pa, pb}) {
                RdmaPathStats.Snapshot st = pp.stats();
                long base = pp == pa ? pinnedA : pinnedB;
                assertThat(st.pinnedBytes()).as("pinned bytes (%s)", st).isLessThanOrEqualTo(base + PINNED_SLACK)
                        .isLessThanOrEqualTo(st.pinnedBudget());
            }
            assertThat(a.liveThreads()).as("threads of A").isLessThanOrEqualTo(threadsA + THREAD_BOUND);
            assertThat(b.liveThreads()).as("threads of B").isLessThanOrEqualTo(threadsB + THREAD_BOUND);
            assertThat(SoakLoad.directMemory()).as("direct memory").isLessThanOrEqualTo(direct0 + DIRECT_BOUND);
        }
        assertThat(pa.stats().pinnedBytes()).as("A's pinned bytes after close").isZero();
        assertThat(pb.stats().pinnedBytes()).as("B's pinned bytes after close").isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((a.liveThreads() != 0 || b.liveThreads() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(a.liveThreads()).as("threads of A after close").isZero();
        assertThat(b.liveThreads()).as("threads of B after close").isZero();
        // device objects are released when the nodes close (the provider's close waits for its pollers)
        Map<String, Long> after = rdmaResources();
        while (!after.equals(before) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            after = rdmaResources();
        }
        System.out.println("rdma resource before " + before + ", after " + after);
        assertThat(after).as("rdma resource counts after the nodes closed").isEqualTo(before);
    }

    /** Lets pooled work finish and the collector free what the load dropped, before a baseline is read. */
    private static void settle() throws InterruptedException {
        Thread.sleep(500);
        System.gc();
        Thread.sleep(200);
    }

    /** "dev qp" -> count (and cq, mr, pd) of every device, from {@code rdma resource show}. */
    static Map<String, Long> rdmaResources() throws IOException, InterruptedException {
        Process pr = new ProcessBuilder("rdma", "resource", "show").redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(pr.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(pr.exitValue()).as("rdma resource show: %s", out).isZero();
        Map<String, Long> m = new TreeMap<>();
        Pattern line = Pattern.compile("^\\d+: (\\S+): (.*)$", Pattern.MULTILINE);
        Pattern kv = Pattern.compile("\\b(qp|cq|mr|pd) (\\d+)");
        Matcher l = line.matcher(out);
        while (l.find()) {
            Matcher k = kv.matcher(l.group(2));
            while (k.find()) {
                m.put(l.group(1) + " " + k.group(1), Long.parseLong(k.group(2)));
            }
        }
        assertThat(m).as("rdma resource show: %s", out).isNotEmpty();
        return m;
    }
}
