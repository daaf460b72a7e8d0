package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void copyAndReadOverQuic() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("smoke-a").build());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("smoke-b").build())) {
            java.util.List<ByteBuffer> got = new java.util.concurrent.CopyOnWriteArrayList<>();
            b.onShardCopy((peer, shard, total) -> new ShardSink() {
                public void onChunk(long off, ByteBuffer p) {
                    ByteBuffer c = ByteBuffer.allocate(p.remaining());
                    c.put(p).flip();
                    got.add(c);
                }
                public void onComplete() {}
                public void onAbort(Throwable t) {}
            });
            b.blobSource((v, n, off, len, dst) -> {
                for (int i = 0; i < len; i++) {
                    dst.put((byte) (n + off + i));
                }
                return len;
            });
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.UNAVAILABLE);
            byte[] data = new byte[10_000_000];
            new java.util.Random(1).nextBytes(data);
            CopyResult r = p.copyShard(7, ByteBuffer.wrap(data), CopyProgressListener.NONE).get(30, TimeUnit.SECONDS);
            assertThat(r.bytes()).isEqualTo(data.length);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            ByteBuffer all = ByteBuffer.allocate(data.length);
            got.forEach(all::put);
            assertThat(all.array()).isEqualTo(data);
            ReadResult rr = p.read(1, 5, 10, 100).get(10, TimeUnit.SECONDS);
            assertThat(rr.length()).isEqualTo(100);
            assertThat(rr.data().get(0)).isEqualTo((byte) 15);
            System.out.println(a.metrics());
        }
    }
}
