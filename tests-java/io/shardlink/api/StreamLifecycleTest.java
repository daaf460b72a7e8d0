package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.config.Transport;
import io.shardlink.testing.QuicStreamCounts;
import io.shardlink.testing.SoakLoad;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 12: every QUIC stream ends fully on both nodes, on every outcome, so the peer's stream credit comes
 * back and one connection carries any number of operations. The nodes grant only 64 streams, and one
 * connection carries 40x that many operations, both ways: reads answered, reads answered NOT_FOUND, reads
 * that time out (the client gives up before the answer), copies, copies the receiver refuses, and bursts of
 * concurrent reads. Afterwards no stream is open on either node (ours, Netty's, quiche's credit) and the
 * connection still serves. Before the fix the connection died at operation 63.
 */
class StreamLifecycleTest {
    static final int MAX_STREAMS = 64;
    static final int ROUNDS = 110;

    /** readStreams 0: a stream per read (as towards an older peer); 2: reads on shared read streams. */
    @ParameterizedTest(name = "quicReadStreams={0}")
    @ValueSource(ints = {0, 2})
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void streamsEndOnEveryOutcomeAndTheConnectionOutlivesItsStreamLimit(int readStreams) throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(node("life-a", readStreams));
             ShardlinkNode b = ShardlinkNode.start(node("life-b", readStreams))) {
            for (ShardlinkNode n : List.of(a, b)) {
                n.blobSource((vol, needle, off, len, dst) -> {
                    if (needle == SLOW_NEEDLE) {
                        try {
                            SLOW.tryAcquire(20, TimeUnit.SECONDS); // answers after the client's timeout
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                    return SoakLoad.blob(vol, needle, off, len, dst);
                });
                n.onShardCopy((peer, shard, total) -> {
                    if (shard % 5 == 4) {
                        throw new IOException("shard " + shard + " refused");
                    }
                    return SoakLoad.DISCARD;
                });
            }
            a.connect(b.localAddress());
            PeerSession ab = (PeerSession) a.peers().get(0);
            PeerSession ba = (PeerSession) b.peers().get(0);
            int ops = 0;
            int timeouts = 0;
            for (int round = 0; round < ROUNDS; round++) {
                final int rd = round;
                for (PeerSession p : List.of(ab, ba)) {
                    // answered reads, verified
                    for (int i = 0; i < 4; i++) {
                        ReadResult r = p.read(round, i, 0, 4096).get(20, TimeUnit.SECONDS);
                        SoakLoad.verify(r, round, i, 4096);
                        ops++;
                    }
                    // NOT_FOUND
                    assertThatThrownBy(() -> p.read(rd, -1, 0, 10).get(20, TimeUnit.SECONDS))
                            .cause().isInstanceOf(ShardlinkException.class)
                            .satisfies(e -> assertThat(((ShardlinkException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
                    ops++;
                    // a copy, and every fifth one refused by the receiver
                    long shard = round * 10L + (p == ab ? 0 : 5) + round % 5;
                    ByteBuffer data = ByteBuffer.allocate(1000 + round);
                    CompletableFuture<CopyResult> c = p.copyShard(shard, data, null);
                    if (shard % 5 == 4) {
                        assertThatThrownBy(() -> c.get(20, TimeUnit.SECONDS)).hasMessageContaining("refused");
                    } else {
                        assertThat(c.get(20, TimeUnit.SECONDS).bytes()).isEqualTo(1000 + round);
                    }
                    ops++;
                }
                if (round % 100 == 7) {
                    // a read whose answer comes after the client gave up (requestTimeout): its stream is reset
                    assertThatThrownBy(() -> ab.read(1, SLOW_NEEDLE, 0, 100).get(20, TimeUnit.SECONDS))
                            .hasMessageContaining("timed out");
                    SLOW.release();
                    timeouts++;
                    ops++;
                }
                if (round % 20 == 3) {
                    // a burst of concurrent reads (under the stream limit)
                    List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
                    for (int i = 0; i < 40; i++) {
                        fs.add(ab.read(round, 100 + i, 0, 512));
                    }
                    for (int i = 0; i < 40; i++) {
                        SoakLoad.verify(fs.get(i).get(20, TimeUnit.SECONDS), round, 100 + i, 512);
                    }
                    ops += 40;
                }
            }
            assertThat(ops).isGreaterThan(15 * MAX_STREAMS);
            assertThat(timeouts).isPositive();

            // still serves, over QUIC
            ReadResult last = ab.read(9, 9, 0, 4096).get(20, TimeUnit.SECONDS);
            SoakLoad.verify(last, 9, 9, 4096);
            assertThat(last.transport()).isEqualTo(Transport.QUIC);
            assertThat(ba.copyShard(1, ByteBuffer.allocate(10_000), null).get(20, TimeUnit.SECONDS).bytes())
                    .isEqualTo(10_000);

            // no per-operation stream left open: ours, Netty's (the control stream and the shared read streams
            // only: readStreams each way), quiche's credit back in full
            int fixed = 1 + 2 * readStreams;
            assertThat(ab.quicConnection().openSharedReadStreams()).isEqualTo(2 * readStreams);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((a.openQuicStreams() != 0 || b.openQuicStreams() != 0
                    || QuicStreamCounts.nettyStreams(ab.quicConnection().channel()) != fixed
                    || QuicStreamCounts.nettyStreams(ba.quicConnection().channel()) != fixed)
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(a.openQuicStreams()).as("streams open on a").isZero();
            assertThat(b.openQuicStreams()).as("streams open on b").isZero();
            assertThat(QuicStreamCounts.nettyStreams(ab.quicConnection().channel())).as("Netty streams on a")
                    .isEqualTo(fixed);
            assertThat(QuicStreamCounts.nettyStreams(ba.quicConnection().channel())).as("Netty streams on b")
                    .isEqualTo(fixed);
            // quiche raises the limit once half of it is used: at least half of it is always there
            assertThat(QuicStreamCounts.creditLeft(ab.quicConnection().channel())).isGreaterThanOrEqualTo(MAX_STREAMS / 2);
            assertThat(QuicStreamCounts.creditLeft(ba.quicConnection().channel())).isGreaterThanOrEqualTo(MAX_STREAMS / 2);
            System.out.printf("%d operations on one connection with a %d-stream limit%n", ops, MAX_STREAMS);
        }
    }

    static final long SLOW_NEEDLE = 777_777;
    static final java.util.concurrent.Semaphore SLOW = new java.util.concurrent.Semaphore(0);

    static io.shardlink.config.ShardlinkConfig node(String id, int readStreams) throws Exception {
        return TestNodes.config(id).quicMaxStreams(MAX_STREAMS).quicReadStreams(readStreams).requestTimeout(Duration.ofSeconds(2))
                .connectTimeout(Duration.ofSeconds(10)).build();
    }
}
