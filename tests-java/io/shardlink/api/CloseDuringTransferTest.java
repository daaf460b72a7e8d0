package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.concurrent.ShardlinkThreadFactory;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Closing a node or a peer during copies and reads: clear failures, and no thread or buffer left behind. */
class CloseDuringTransferTest {
    static ShardSinkFactory slowSinks(AtomicInteger aborts, CountDownLatch firstChunk) {
        return slowSinks(aborts, new java.util.concurrent.CopyOnWriteArrayList<>(), firstChunk);
    }

    static ShardSinkFactory slowSinks(AtomicInteger aborts, List<Throwable> abortCauses, CountDownLatch firstChunk) {
        return (peer, shard, total) -> new ShardSink() {
            public void onChunk(long o, ByteBuffer p) throws java.io.IOException {
                firstChunk.countDown();
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
            public void onComplete() {}
            public void onAbort(Throwable t) {
                abortCauses.add(t);
                aborts.incrementAndGet();
            }
        };
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void closingTheSendingNodeFailsEverythingAndLeavesNothing() throws Exception {
        AtomicInteger aborts = new AtomicInteger();
        List<Throwable> abortCauses = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch releaseReads = new CountDownLatch(1);
        ShardlinkNode b = ShardlinkNode.start(TestNodes.config("close-b").build());
        ShardlinkNode a = ShardlinkNode.start(TestNodes.config("close-a").build());
        try {
            // the test expects all three receivers' sinks to be aborted, so all three must be open first
            CountDownLatch opened = new CountDownLatch(3);
            ShardSinkFactory slow = slowSinks(aborts, abortCauses, started);
            b.onShardCopy((peer, shard, total) -> {
                ShardSink sink = slow.open(peer, shard, total);
                opened.countDown();
                return sink;
            });
            b.blobSource((v, n, o, l, d) -> {
                try {
                    releaseReads.await(30, TimeUnit.SECONDS); // reads stay in flight until the end
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                d.put(new byte[l]);
                return l;
            });
            Peer p = a.connect(b.localAddress());
            List<CompletableFuture<CopyResult>> copies = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                copies.add(p.copyShard(i, ByteBuffer.allocateDirect(64 << 20), CopyProgressListener.NONE));
            }
            List<CompletableFuture<ReadResult>> reads = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                reads.add(p.read(1, i, 0, 1000));
            }
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(opened.await(30, TimeUnit.SECONDS)).as("all three incoming copies opened a sink").isTrue();
            assertThat(a.liveThreads()).isPositive();
            assertThat(a.outstandingBuffers()).isPositive();

            a.close();

            for (CompletableFuture<CopyResult> c : copies) {
                assertThatThrownBy(() -> c.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOf(ShardlinkClosedException.class)
                        .hasMessageContaining("from close-a to close-b").hasMessageContaining("node close-a closed");
            }
            for (CompletableFuture<ReadResult> r : reads) {
                assertThatThrownBy(() -> r.get(10, TimeUnit.SECONDS)).cause()
                        .isInstanceOf(ShardlinkClosedException.class);
            }
            assertThat(ShardlinkThreadFactory.liveThreads("close-a")).as("threads of the closed node").isZero();
            assertThat(a.outstandingBuffers()).as("chunk buffers of the closed node").isZero();
            assertThatThrownBy(() -> p.copyShard(9, ByteBuffer.allocate(10), CopyProgressListener.NONE).get())
                    .cause().isInstanceOf(ShardlinkClosedException.class);

            // the receiving node learns of the close from A's CONNECTION_CLOSE (not from its own close, nor its
            // 60 s idle timeout): its incoming copies are aborted with a cause naming the peer, and the peer is gone
            long end = System.currentTimeMillis() + 10_000;
            while ((aborts.get() < 3 || !b.peers().isEmpty()) && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertThat(aborts.get()).as("receiver aborts seen before its own close").isEqualTo(3);
            assertThat(abortCauses).hasSize(3).allSatisfy(c -> assertThat(c).hasMessageContaining("close-a")
                    .hasMessageContaining("node close-a closed"));
            assertThat(b.peers()).as("B's peers once A closed").isEmpty();
            releaseReads.countDown();
            b.close();
            assertThat(aborts.get()).isEqualTo(3);
        } finally {
            releaseReads.countDown();
            a.close();
            b.close();
        }
        assertThat(ShardlinkThreadFactory.liveThreads("close-b")).isZero();
        assertThat(b.outstandingBuffers()).isZero();
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void closingOnePeerFailsItsCopyAndTheNodeGoesOn() throws Exception {
        AtomicInteger aborts = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(1);
        try (ShardlinkNode b = ShardlinkNode.start(TestNodes.config("pclose-b").build());
             ShardlinkNode a = ShardlinkNode.start(TestNodes.config("pclose-a").build())) {
            b.onShardCopy(slowSinks(aborts, started));
            Peer p = a.connect(b.localAddress());
            CompletableFuture<CopyResult> c = p.copyShard(1, ByteBuffer.allocateDirect(64 << 20),
                    CopyProgressListener.NONE);
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            p.close();
            assertThatThrownBy(() -> c.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(ShardlinkClosedException.class)
                    .hasMessageContaining("closed by pclose-a");
            long end = System.currentTimeMillis() + 10_000;
            while (a.outstandingBuffers() > 0 && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertThat(a.outstandingBuffers()).isZero();
            Peer again = a.connect(b.localAddress());
            b.onShardCopy((peer, s, t) -> new ShardSink() {
                public void onChunk(long o, ByteBuffer x) {}
                public void onComplete() {}
                public void onAbort(Throwable t2) {}
            });
            assertThat(again.copyShard(2, ByteBuffer.allocate(5 << 20), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS).bytes()).isEqualTo(5 << 20);
        }
    }
}
