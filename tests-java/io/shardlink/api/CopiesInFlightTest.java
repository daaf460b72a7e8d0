package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ShardlinkNode.copiesInFlight() (what a status page shows): both ends list a copy while it runs, with the
 * bytes done growing chunk by chunk and the transport carrying it, and forget it once it ends; reads the node
 * serves are timed on its side (servedReadLatency).
 */
class CopiesInFlightTest {
    @Test
    @Timeout(60)
    void bothEndsListTheCopyWithItsProgressUntilItEnds() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("inflight-a").build());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("inflight-b").build())) {
            Semaphore chunks = new Semaphore(0); // the sink takes a chunk only when the test lets it
            b.onShardCopy((peer, shard, total) -> new ShardSink() {
                public void onChunk(long off, ByteBuffer p) throws java.io.IOException {
                    try {
                        if (!chunks.tryAcquire(30, TimeUnit.SECONDS)) {
                            throw new java.io.IOException("test never released the chunk at " + off);
                        }
                    } catch (InterruptedException e) {
                        throw new java.io.InterruptedIOException();
                    }
                }
                public void onComplete() {}
                public void onAbort(Throwable t) {}
            });
            b.blobSource((v, n, off, len, dst) -> {
                dst.position(dst.position() + len);
                return len;
            });
            assertThat(a.copiesInFlight()).isEmpty();
            Peer p = a.connect(b.localAddress());
            int chunk = a.config().maxSendSize();
            byte[] data = new byte[3 * chunk + 1000];
            CompletableFuture<CopyResult> f = p.copyShard(9, ByteBuffer.wrap(data), CopyProgressListener.NONE);

            CopyInFlight in = awaitCopy(b, 0);
            assertThat(in.peer()).isEqualTo("inflight-a");
            assertThat(in.shardId()).isEqualTo(9);
            assertThat(in.direction()).isEqualTo(Direction.RECEIVED);
            assertThat(in.totalBytes()).isEqualTo(data.length);
            assertThat(in.bytesDone()).isZero();
            assertThat(in.startedMillis()).isLessThanOrEqualTo(System.currentTimeMillis());

            chunks.release(1);
            in = awaitCopy(b, chunk);
            assertThat(in.bytesDone()).isEqualTo(chunk);
            assertThat(in.transport()).isEqualTo(Transport.QUIC);
            CopyInFlight out = awaitCopy(a, chunk);
            assertThat(out.direction()).isEqualTo(Direction.SENT);
            assertThat(out.peer()).isEqualTo("inflight-b");
            assertThat(out.transferId()).isEqualTo(in.transferId());
            assertThat(out.bytesDone()).isEqualTo(chunk); // acknowledged
            assertThat(out.transport()).isEqualTo(Transport.QUIC);

            chunks.release(2);
            assertThat(awaitCopy(b, 3L * chunk).bytesDone()).isEqualTo(3L * chunk);
            chunks.release(1);
            assertThat(f.get(30, TimeUnit.SECONDS).bytes()).isEqualTo(data.length);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((!a.copiesInFlight().isEmpty() || !b.copiesInFlight().isEmpty()) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(a.copiesInFlight()).isEmpty();
            assertThat(b.copiesInFlight()).isEmpty();

            for (int i = 0; i < 5; i++) {
                p.read(1, 2, 0, 100).get(10, TimeUnit.SECONDS);
            }
            assertThat(a.metrics().readLatency().count()).isEqualTo(5);
            assertThat(a.metrics().servedReadLatency().count()).isZero();
            // the server times a read up to handing its answer to the transport: it may count just after the
            // reader has the answer
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (b.metrics().servedReadLatency().count() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(b.metrics().servedReadLatency().count()).isEqualTo(5);
            assertThat(b.metrics().readLatency().count()).isZero();
        }
    }

    /** Waits until {@code n} lists exactly one copy with at least {@code done} bytes done. */
    private static CopyInFlight awaitCopy(ShardlinkNode n, long done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<CopyInFlight> l = n.copiesInFlight();
        while (System.nanoTime() < deadline) {
            l = n.copiesInFlight();
            if (l.size() == 1 && l.get(0).bytesDone() >= done) {
                return l.get(0);
            }
            Thread.sleep(5);
        }
        throw new AssertionError(n.nodeId() + ": no copy with " + done + " bytes done; copies " + l);
    }
}
