package io.shardlink.api;

import static io.shardlink.api.SharedReadStreamsTest.verify;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.testing.TestNodes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where QUIC shared-stream reads are served: on the connection's I/O thread for a {@link BlobSource#nonBlocking()}
 * source (no reader-thread hop), on the reader threads for any other; and a "non-blocking" source that turns out
 * slow (two reads in a row over 5 ms) sends the connection's reads to the reader threads. Each read records the
 * thread that served it; every answer's bytes are verified.
 */
class ReadsOnEventLoopTest {
    /** The thread names that served each needle (event loop threads are "...-io-N", readers "...-reader-N"). */
    private final List<String> servedOn = java.util.Collections.synchronizedList(new ArrayList<>());

    private int recording(long vol, long needle, long off, int len, java.nio.ByteBuffer dst) throws IOException {
        servedOn.add(Thread.currentThread().getName());
        if (needle >= 1000) { // the slow ones
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }
        return SharedReadStreamsTest.blob(vol, needle, off, len, dst);
    }

    private static long count(List<String> names, String part) {
        synchronized (names) {
            return names.stream().filter(n -> n.contains(part)).count();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void nonBlockingSourceIsServedOnTheIoThreadOthersOnTheReaders() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("evl-server").build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("evl-client").build())) {
            server.blobSource(BlobSource.nonBlocking(this::recording));
            Peer p = client.connect(server.localAddress());
            PeerSession sp = (PeerSession) server.peers().get(0);
            for (int i = 0; i < 50; i++) { // warm (a cold read on a busy machine can be slow enough for the guard)
                verify(p.read(1, i, 0, 100).get(30, TimeUnit.SECONDS), 1, i, 100);
            }
            Thread.sleep(1100); // past any back-off the warm-up caused
            servedOn.clear();
            long slow0 = sp.quicConnection().slowInPlaceReads();
            List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                fs.add(p.read(2, i, i % 100, 1 + (i * 53) % 4096));
            }
            for (int i = 0; i < 300; i++) {
                verify(fs.get(i).get(30, TimeUnit.SECONDS), 2, i, i % 100, 1 + (i * 53) % 4096);
            }
            assertThat(servedOn).hasSize(300);
            long onIo = count(servedOn, "evl-server-io-");
            if (sp.quicConnection().slowInPlaceReads() == slow0) {
                assertThat(onIo).as("served on the I/O thread: " + servedOn).isEqualTo(300);
            } else { // the guard saw two slow reads (a preempted thread): the reads after them went to the readers
                assertThat(onIo + count(servedOn, "evl-server-reader-")).isEqualTo(300);
                assertThat(onIo).as("served on the I/O thread before the guard: " + servedOn).isPositive();
            }

            servedOn.clear();
            server.blobSource(this::recording); // not declared non-blocking
            for (int i = 0; i < 50; i++) {
                verify(p.read(3, i, 0, 512).get(30, TimeUnit.SECONDS), 3, i, 512);
            }
            assertThat(count(servedOn, "evl-server-reader-")).as("served on the readers: " + servedOn).isEqualTo(50);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aSlowNonBlockingSourceMovesTheConnectionsReadsToTheReaders() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("slow-server").build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("slow-client").build())) {
            server.blobSource(BlobSource.nonBlocking(this::recording));
            Peer p = client.connect(server.localAddress());
            verify(p.read(1, 1, 0, 100).get(30, TimeUnit.SECONDS), 1, 1, 100);
            PeerSession sp = (PeerSession) server.peers().get(0);
            assertThat(sp.quicConnection().slowInPlaceReads()).isZero();
            // two slow reads in a row on the I/O thread (20 ms each, one after the other)
            verify(p.read(1, 1000, 0, 100).get(30, TimeUnit.SECONDS), 1, 1000, 100);
            verify(p.read(1, 1001, 0, 100).get(30, TimeUnit.SECONDS), 1, 1001, 100);
            assertThat(sp.quicConnection().slowInPlaceReads()).isEqualTo(1);
            servedOn.clear();
            // within the next second the reads go to the reader threads, slow or not, and still succeed
            long t0 = System.nanoTime();
            verify(p.read(1, 1002, 0, 100).get(30, TimeUnit.SECONDS), 1, 1002, 100);
            verify(p.read(1, 2, 0, 100).get(30, TimeUnit.SECONDS), 1, 2, 100);
            if (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(900)) {
                assertThat(count(servedOn, "slow-server-reader-")).as(servedOn.toString()).isEqualTo(2);
            }
            // after the back-off a fast read is served on the I/O thread again
            Thread.sleep(1100);
            servedOn.clear();
            verify(p.read(1, 3, 0, 100).get(30, TimeUnit.SECONDS), 1, 3, 100);
            assertThat(count(servedOn, "slow-server-io-")).as(servedOn.toString()).isEqualTo(1);
        }
    }
}
