package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.config.Transport;
import io.shardlink.testing.ShardFiles;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** 1,000 blob reads in flight at once on one node, each verified (CRC on the wire, content here). */
class ConcurrentReadsTest {
    static final int READS = 1000;

    /** Needle n of volume v: words of ShardFiles.word(v * 1_000_003 + n, pos). */
    static final BlobSource SOURCE = (vol, needle, off, len, dst) -> {
        if (needle < 0) {
            throw new BlobNotFoundException("volume " + vol + " has no needle " + needle);
        }
        long seed = vol * 1_000_003 + needle;
        long needleSize = 64 * 1024;
        int n = (int) Math.max(0, Math.min(len, needleSize - off));
        for (int i = 0; i < n; i++) {
            long pos = off + i;
            dst.put((byte) (ShardFiles.word(seed, pos & ~7L) >>> (8 * (7 - (pos & 7)))));
        }
        return n;
    };

    static void verify(ReadResult r, long vol, long needle, long off) {
        long seed = vol * 1_000_003 + needle;
        ByteBuffer d = r.data();
        for (int i = 0; i < r.length(); i++) {
            long pos = off + i;
            byte want = (byte) (ShardFiles.word(seed, pos & ~7L) >>> (8 * (7 - (pos & 7))));
            if (d.get(d.position() + i) != want) {
                throw new AssertionError("read " + vol + "/" + needle + " byte " + i + " wrong");
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void thousandConcurrentReadsAreAllVerified() throws Exception {
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("reads-server").build());
             ShardlinkNode client = ShardlinkNode.start(TestNodes.config("reads-client").build())) {
            server.blobSource(SOURCE);
            Peer p = client.connect(server.localAddress());
            long t0 = System.nanoTime();
            List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
            for (int i = 0; i < READS; i++) {
                int len = 1 + (i * 37) % 8192;
                fs.add(p.read(i % 7, i, i % 100, len));
            }
            CompletableFuture.allOf(fs.toArray(new CompletableFuture[0])).get(90, TimeUnit.SECONDS);
            double secs = (System.nanoTime() - t0) / 1e9;
            for (int i = 0; i < READS; i++) {
                ReadResult r = fs.get(i).get();
                assertThat(r.length()).isEqualTo(1 + (i * 37) % 8192);
                assertThat(r.transport()).isEqualTo(Transport.QUIC);
                verify(r, i % 7, i, i % 100);
            }
            var m = client.metrics();
            System.out.printf("%d concurrent reads in %.2f s (%.0f reads/s); latency %s%n", READS, secs, READS / secs,
                    m.readLatency());
            assertThat(m.readLatency().count()).isEqualTo(READS);

            // in-place variant, short read at the needle's end, not-found, oversized
            ByteBuffer dst = ByteBuffer.allocateDirect(100);
            ReadResult in = p.read(3, 9, 64 * 1024 - 40, dst).get(10, TimeUnit.SECONDS);
            assertThat(in.length()).isEqualTo(40);
            assertThat(dst.position()).isEqualTo(40);
            verify(in, 3, 9, 64 * 1024 - 40);
            assertThatThrownBy(() -> p.read(1, -5, 0, 10).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("volume 1 needle -5").hasMessageContaining("NOT_FOUND")
                    .satisfies(e -> assertThat(((ShardlinkException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
            assertThatThrownBy(() -> p.read(1, 1, 0, (4 << 20) + 1).get()).cause()
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSendSize");
        }
    }
}
