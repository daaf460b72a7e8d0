package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.state.PeerState;
import io.shardlink.testing.ShardFiles;
import io.shardlink.testing.TestNodes;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes on 127.0.0.1 copy a 1 GiB file shard over QUIC (no RDMA here: peers are UNAVAILABLE). The
 * surefire JVM runs with -Xmx256m, so the copy must stream through pooled direct buffers; the heap is
 * sampled during the copy and must stay flat.
 */
class LargeFileCopyTest {
    static final long SIZE = Long.getLong("shardlink.test.copySize", 1L << 30);

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void copiesOneGibFileShardOverQuicWithFlatHeap() throws Exception {
        long maxHeap = Runtime.getRuntime().maxMemory();
        assertThat(maxHeap).as("surefire argLine must give the test JVM a small heap (-Xmx256m)")
                .isLessThanOrEqualTo(300L << 20);
        Path src = tmp.resolve("shard.src");
        long t0 = System.nanoTime();
        long srcCrc = ShardFiles.write(src, 42, SIZE);
        System.out.printf("generated %d MiB in %.1fs%n", SIZE >> 20, (System.nanoTime() - t0) / 1e9);
        Path dstDir = Files.createDirectories(tmp.resolve("recv"));

        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("big-a").build());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("big-b").build())) {
            b.onShardCopy(FileShardSink.inDirectory(dstDir));
            Peer peer = a.connect(b.localAddress());
            assertThat(peer.state()).isEqualTo(PeerState.UNAVAILABLE);

            MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
            System.gc();
            long heapBefore = mem.getHeapMemoryUsage().getUsed();
            AtomicLong lastProgress = new AtomicLong();
            AtomicLong maxHeapSeen = new AtomicLong();
            CopyResult r;
            try (FileChannel ch = FileChannel.open(src, StandardOpenOption.READ)) {
                var f = peer.copyShard(99, ch, 0, SIZE, (acked, total, t) -> lastProgress.set(acked));
                while (!f.isDone()) {
                    maxHeapSeen.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max);
                    Thread.sleep(50);
                }
                r = f.get();
            }
            System.gc();
            long heapAfter = mem.getHeapMemoryUsage().getUsed();
            System.out.printf("QUIC copy of %d MiB: %.1f s, %.0f MB/s, %d chunks; heap before %d MiB, max seen %d MiB,"
                            + " after GC %d MiB (max %d MiB)%n", SIZE >> 20, r.duration().toNanos() / 1e9,
                    r.megabytesPerSecond(), r.chunks(), heapBefore >> 20, maxHeapSeen.get() >> 20, heapAfter >> 20,
                    maxHeap >> 20);

            assertThat(r.bytes()).isEqualTo(SIZE);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            assertThat(r.fallbacks()).isZero();
            assertThat(r.chunks()).isEqualTo((SIZE + a.config().maxSendSize() - 1) / a.config().maxSendSize());
            assertThat(lastProgress.get()).isEqualTo(SIZE);
            assertThat(heapAfter - heapBefore).as("heap growth after the copy").isLessThan(32L << 20);
            assertThat(a.metrics().bytes(Transport.QUIC, Direction.SENT)).isEqualTo(SIZE);
            assertThat(b.metrics().bytes(Transport.QUIC, Direction.RECEIVED)).isEqualTo(SIZE);
            assertThat(a.outstandingBuffers()).isZero();

            Path dst = dstDir.resolve("shard-99");
            assertThat(Files.size(dst)).isEqualTo(SIZE);
            assertThat(ShardFiles.crc(dst)).isEqualTo(srcCrc);
            ShardFiles.checkSamples(dst, 42, SIZE, 1000);
        }
    }
}
