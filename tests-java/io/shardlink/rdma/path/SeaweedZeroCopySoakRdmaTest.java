package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.seaweedfs.SeaweedVolumes;
import io.shardlink.state.PeerState;
import io.shardlink.testing.SeaweedFixtures.Needle;
import io.shardlink.testing.SeaweedFixtures;
import io.shardlink.testing.SoakLoad;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soak of zero-copy serving, in the rxe VM: 20,000 verified needle reads of the SeaweedFS fixtures (volumes 1 and 2,
 * in file order, round and round, 8 in flight) on ONE peer connection, served by B from 256 KiB file windows through
 * a 1 MiB window budget, so windows are evicted and registered again all through the run. Every byte is compared
 * with the test's own parse of the fixtures; every read went over RDMA; every answer was zero-copy except the
 * counted fallbacks (needles across a window boundary are predicted from the parse and counted exactly). After the
 * soak B's threads and direct memory are within bounds of their warm baseline; after the nodes close no window is
 * live, nothing is pinned, no node thread is left and {@code rdma resource} counts are back to their baseline.
 * Size: -Dshardlink.soak.zeroCopyReads.
 */
@Tag("rdma")
class SeaweedZeroCopySoakRdmaTest {
    static final int READS = Integer.getInteger("shardlink.soak.zeroCopyReads", 20_000);
    static final int WARMUP = 500;
    static final int DEPTH = 8;
    static final long WINDOW = 256 * 1024;
    static final long WINDOW_LIMIT = 4 * WINDOW;
    private static final int CHUNK = RdmaPathTestSupport.MiB; // the VM nodes' maxSendSize
    /** Threads may grow this much over the warm baseline (pools start lazily; not per operation). */
    static final int THREAD_BOUND = 8;
    /** Direct memory may grow this much over the warm baseline (not per operation). */
    static final long DIRECT_BOUND = 16L << 20;

    @TempDir
    Path tmp;

    /** One read of the soak: a needle's first min(size, CHUNK) bytes, and whether it spans two windows. */
    record Read(Needle needle, int length, boolean crossesWindow) {
        static Read of(Needle n) {
            int len = Math.min(n.data().length, CHUNK);
            long start = n.position() + 20; // header (cookie, id, size) + DataSize: the data's offset in the .dat
            return new Read(n, len, start / WINDOW != (start + len - 1) / WINDOW);
        }
    }

    @Test
    void twentyThousandZeroCopyReadsThroughChurningWindowsOnOneConnection() throws Exception {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
        Map<String, Long> before = RdmaSoakRdmaTest.rdmaResources();
        Path dir = SeaweedFixtures.copyAll(tmp.resolve("vols"), true);
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        List<Read> cycle = new ArrayList<>();
        for (long vol : new long[] {SeaweedFixtures.HEALTHY, SeaweedFixtures.EC}) {
            want.get(vol).values().stream().filter(Needle::checksumOk).filter(n -> n.data().length > 0)
                    .sorted(Comparator.comparingLong(Needle::position)).map(Read::of).forEach(cycle::add);
        }
        assertThat(cycle).hasSizeGreaterThan(300);

        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider().fileWindows(WINDOW, WINDOW_LIMIT);
        ShardlinkNode a = RdmaPathTestSupport.start(
                SeaweedZeroCopyRdmaTest.config("zs-a", RdmaPathTestSupport.deviceA()), pa);
        ShardlinkNode b = RdmaPathTestSupport.start(
                SeaweedZeroCopyRdmaTest.config("zs-b", RdmaPathTestSupport.deviceB()), pb);
        long expectCrossing = 0;
        long expectBytes = 0;
        try (a; b; SeaweedVolumes volumes = SeaweedVolumes.open(dir)) {
            b.blobSource(volumes);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).as("A's peer after connect (last cause: %s)", p.lastCause())
                    .isEqualTo(PeerState.CONNECTED);
            run(p, cycle, 0, WARMUP); // JIT, pools, threads
            settle();
            int threadsB = b.liveThreads();
            long direct0 = SoakLoad.directMemory();

            long t0 = System.nanoTime();
            run(p, cycle, WARMUP, READS);
            double secs = (System.nanoTime() - t0) / 1e9;
            for (int i = 0; i < WARMUP + READS; i++) {
                Read r = cycle.get(i % cycle.size());
                expectCrossing += r.crossesWindow() ? 1 : 0;
                expectBytes += r.length();
            }
            ZeroCopyStats s = pb.zeroCopyStats();
            System.out.printf("zero-copy soak: %d verified needle reads (%d MB) on one connection in %.1f s (%.0f reads/s);"
                    + " %s%n", READS, expectBytes >> 20, secs, READS / secs, s);

            int reads = WARMUP + READS;
            assertThat(s.zeroCopyReads() + s.copiedReads()).as("answers").isEqualTo(reads);
            assertThat(s.zeroCopyBytes() + s.copiedBytes()).as("payload bytes").isEqualTo(expectBytes);
            assertThat(s.fallbackCrossesWindow()).as("reads across a window boundary").isEqualTo(expectCrossing);
            assertThat(s.fallbackRegistration()).as("registrations refused (last: %s)", s.lastRefusal()).isZero();
            assertThat(s.copiedReads()).as("copied answers are exactly the counted fallbacks")
                    .isEqualTo(s.fallbackCrossesWindow() + s.fallbackNoRoom());
            assertThat(s.zeroCopyReads()).as("zero-copy answers")
                    .isEqualTo(reads - s.fallbackCrossesWindow() - s.fallbackNoRoom());
            // in file order with 8 in flight, at most two windows are busy at once: a window always has room
            assertThat(s.fallbackNoRoom()).as("no-room fallbacks").isLessThan(reads / 100);
            assertThat(s.windowsEvicted()).as("windows evicted").isPositive();
            assertThat(s.windowsRegistered()).as("windows registered again after eviction")
                    .isGreaterThan(s.windowsEvicted());
            assertThat(s.windowPinnedBytes()).isLessThanOrEqualTo(WINDOW_LIMIT);
            assertThat(s.liveWindows()).isLessThanOrEqualTo((int) (WINDOW_LIMIT / WINDOW));

            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(p.reconnects()).isZero();
            assertThat(p.metrics().fallbacks()).isEmpty();
            settle();
            System.out.printf("zero-copy soak: threads of B %d -> %d, direct memory %d KiB -> %d KiB%n", threadsB,
                    b.liveThreads(), direct0 >> 10, SoakLoad.directMemory() >> 10);
            assertThat(b.liveThreads()).as("threads of B").isLessThanOrEqualTo(threadsB + THREAD_BOUND);
            assertThat(SoakLoad.directMemory()).as("direct memory").isLessThanOrEqualTo(direct0 + DIRECT_BOUND);
        }
        assertThat(pb.zeroCopyStats().liveWindows()).isZero();
        assertThat(pb.zeroCopyStats().windowPinnedBytes()).isZero();
        assertThat(pb.stats().liveRegions()).isZero();
        assertThat(pb.stats().pinnedBytes()).isZero();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((a.liveThreads() != 0 || b.liveThreads() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(a.liveThreads()).as("threads of A after close").isZero();
        assertThat(b.liveThreads()).as("threads of B after close").isZero();
        Map<String, Long> after = RdmaSoakRdmaTest.rdmaResources();
        while (!after.equals(before) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            after = RdmaSoakRdmaTest.rdmaResources();
        }
        System.out.println("rdma resource before " + before + ", after " + after);
        assertThat(after).as("rdma resource counts after the nodes closed").isEqualTo(before);
    }

    /** Reads {@code cycle[from..from+count)} (mod its size), DEPTH in flight, each verified; throws on the first failure. */
    private static void run(Peer p, List<Read> cycle, int from, int count) throws Exception {
        Semaphore slots = new Semaphore(DEPTH);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong verified = new AtomicLong();
        for (int i = from; i < from + count && failure.get() == null; i++) {
            Read rd = cycle.get(i % cycle.size());
            Needle n = rd.needle();
            slots.acquire();
            p.read(n.volumeId(), n.id(), n.cookieValue(), 0, rd.length()).whenComplete((r, e) -> {
                try {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else if (r.transport() != Transport.RDMA) {
                        failure.compareAndSet(null, new AssertionError("needle " + Long.toHexString(n.id())
                                + " went over " + r.transport()));
                    } else if (r.length() != rd.length() || r.blobFlags() != n.flags()
                            || r.data().slice(r.data().position(), r.length())
                                    .mismatch(ByteBuffer.wrap(n.data(), 0, rd.length())) != -1) {
                        failure.compareAndSet(null, new AssertionError("needle " + Long.toHexString(n.id())
                                + " of volume " + n.volumeId() + ": " + r.length() + " bytes differ from the parse"));
                    } else {
                        verified.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    slots.release();
                }
            });
        }
        slots.acquire(DEPTH);
        if (failure.get() != null) {
            throw new AssertionError("zero-copy soak failed after " + verified.get() + " reads", failure.get());
        }
        assertThat(verified.get()).as("verified reads").isEqualTo(count);
    }

    private static void settle() throws InterruptedException {
        System.gc();
        Thread.sleep(200);
    }
}
