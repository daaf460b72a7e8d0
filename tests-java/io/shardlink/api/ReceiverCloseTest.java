package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Closing the RECEIVING node mid-copy (and with reads in flight) fails the sender's copies and reads with a
 * {@link ShardlinkClosedException} that says that node closed, whichever way the sender learns of it first:
 * the reset of the copy's QUIC stream (it said only {@code QuicStreamResetException: STREAM_RESET}), the
 * connection's CONNECTION_CLOSE, an ERROR [SHUTTING_DOWN] from B's receiver, or the reset of a read's stream.
 */
class ReceiverCloseTest {
    /** B's close as the sender may learn it: a stream reset, CONNECTION_CLOSE, or an ERROR frame from B's receiver. */
    static final String SAYS_B_CLOSED = "(?s).*(rclose-b closed|node rclose-b is closing).*";

    @RepeatedTest(3)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closingTheReceivingNodeMidCopySaysThatNodeClosed() throws Exception {
        AtomicInteger aborts = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch readsArrived = new CountDownLatch(5);
        ShardlinkNode a = ShardlinkNode.start(TestNodes.config("rclose-a").build());
        ShardlinkNode b = ShardlinkNode.start(TestNodes.config("rclose-b").build());
        try {
            b.onShardCopy(CloseDuringTransferTest.slowSinks(aborts, started));
            b.blobSource((v, n, o, l, d) -> {
                readsArrived.countDown();
                try {
                    Thread.sleep(20_000); // still in flight when B closes (its close interrupts this)
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
                d.put(new byte[l]);
                return l;
            });
            Peer p = a.connect(b.localAddress());
            List<CompletableFuture<CopyResult>> copies = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                copies.add(p.copyShard(i, ByteBuffer.allocateDirect(64 << 20), CopyProgressListener.NONE));
            }
            List<CompletableFuture<ReadResult>> reads = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                reads.add(p.read(1, i, 0, 1000));
            }
            assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(readsArrived.await(30, TimeUnit.SECONDS)).isTrue();

            b.close();

            for (CompletableFuture<CopyResult> c : copies) {
                assertThatThrownBy(() -> c.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOf(ShardlinkClosedException.class)
                        .hasMessageContaining("from rclose-a to rclose-b")
                        .hasMessageMatching(SAYS_B_CLOSED);
            }
            for (CompletableFuture<ReadResult> r : reads) {
                assertThatThrownBy(() -> r.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOf(ShardlinkClosedException.class)
                        .hasMessageMatching(SAYS_B_CLOSED);
            }
            assertThat(a.outstandingBuffers()).isZero();
        } finally {
            b.close();
            a.close();
        }
    }
}
