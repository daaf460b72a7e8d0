package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.testing.QuicStreamCounts;
import io.shardlink.testing.SoakLoad;
import io.shardlink.testing.TestNodes;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Production volume on ONE peer connection (issue 12): 200,000 verified 4 KiB reads and 10,000 small copies,
 * mixed, up to 16 reads and 4 copies in flight at once, over QUIC. Afterwards the connection still serves,
 * no QUIC stream is open on either node (ours and Netty's), the nodes' threads are back to their warm
 * baseline, no pooled buffer is lent, and direct memory (BufferPoolMXBean "direct" plus Netty's own
 * counter) is within {@link #DIRECT_BOUND} of the warm baseline. Sizes: -Dshardlink.soak.reads / .copies.
 * Tagged "soak": ci/test.sh runs it in its own stage (see the pom's surefire excludedGroups).
 */
@Tag("soak")
class QuicSoakTest {
    static final int READS = Integer.getInteger("shardlink.soak.reads", 200_000);
    static final int COPIES = Integer.getInteger("shardlink.soak.copies", 10_000);
    static final int READ_DEPTH = 16;
    static final int COPY_DEPTH = 4;
    static final int COPY_SIZE = 16 * 1024;
    /** Direct memory may grow this much over the warm baseline (pool arenas filling; not per operation). */
    static final long DIRECT_BOUND = 64L << 20;

    @Test
    void readsAndCopiesAtVolumeOnOneConnection() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("soak-a").build());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("soak-b").build())) {
            b.blobSource(SoakLoad::blob);
            b.onShardCopy((peer, shard, total) -> SoakLoad.DISCARD);
            Peer p = a.connect(b.localAddress());
            PeerSession ab = (PeerSession) a.peers().get(0);
            PeerSession ba = (PeerSession) b.peers().get(0);

            run(p, 2_000, 100); // warm-up: JIT, pools, threads
            settle(a, b);
            int threadsA = a.liveThreads();
            int threadsB = b.liveThreads();
            long direct0 = directMemory();

            long t0 = System.nanoTime();
            run(p, READS, COPIES);
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("soak: %d verified 4 KiB reads and %d copies of %d bytes on one connection in %.1f s "
                    + "(%.0f reads/s)%n", READS, COPIES, COPY_SIZE, secs, READS / secs);

            // the same connection still serves
            assertThat(p.reconnects()).isZero();
            assertThat(a.peers()).containsExactly(ab);
            SoakLoad.verify(p.read(1, 1, 0, 4096).get(30, TimeUnit.SECONDS), 1, 1, 4096);
            assertThat(p.copyShard(1, ByteBuffer.allocate(COPY_SIZE), null).get(30, TimeUnit.SECONDS).bytes())
                    .isEqualTo(COPY_SIZE);

            settle(a, b);
            assertThat(a.openQuicStreams()).as("QUIC streams open on a").isZero();
            assertThat(b.openQuicStreams()).as("QUIC streams open on b").isZero();
            assertThat(QuicStreamCounts.nettyStreams(ab.quicConnection().channel())).isEqualTo(1);
            assertThat(QuicStreamCounts.nettyStreams(ba.quicConnection().channel())).isEqualTo(1);
            assertThat(a.liveThreads()).as("threads of a").isLessThanOrEqualTo(threadsA);
            assertThat(b.liveThreads()).as("threads of b").isLessThanOrEqualTo(threadsB);
            assertThat(a.outstandingBuffers()).isZero();
            assertThat(b.outstandingBuffers()).isZero();
            long direct = directMemory();
            System.out.printf("soak: direct memory %d KiB after warm-up, %d KiB after the soak (bound +%d MiB)%n",
                    direct0 >> 10, direct >> 10, DIRECT_BOUND >> 20);
            assertThat(direct).as("direct memory").isLessThanOrEqualTo(direct0 + DIRECT_BOUND);
        }
    }

    static void run(Peer p, int reads, int copies) throws Exception {
        SoakLoad.run(p, reads, 4096, READ_DEPTH, copies, COPY_SIZE, COPY_DEPTH, Transport.QUIC);
    }

    /** Waits (up to 10 s) for the streams of the last operations to end on both nodes. */
    static void settle(ShardlinkNode a, ShardlinkNode b) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((a.openQuicStreams() != 0 || b.openQuicStreams() != 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        System.gc();
        Thread.sleep(200);
    }

    /** JDK direct buffers plus Netty's own (Netty allocates without a Cleaner, outside BufferPoolMXBean). */
    static long directMemory() {
        long jdk = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                jdk = pool.getMemoryUsed();
            }
        }
        long netty = io.netty.util.internal.PlatformDependent.usedDirectMemory();
        return jdk + Math.max(0, netty);
    }
}
