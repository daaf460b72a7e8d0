package io.shardlink.rdma.path;

import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A receiving node in its own JVM for {@link RdmaPeerKillRdmaTest}: args = node id, cert PEM, key PEM, CA PEM,
 * RDMA device, milliseconds to spend per chunk. Prints "LISTENING port" (and "RDMA ok" or "RDMA reason"), then
 * serves copies (discarding the bytes, slowly) until killed.
 */
public final class RdmaChildReceiver {
    private RdmaChildReceiver() {}

    public static void main(String[] args) throws Exception {
        ShardlinkConfig c = ShardlinkConfig.builder().nodeId(args[0]).keyPem(Path.of(args[1]), Path.of(args[2]))
                .trustCertsPem(Path.of(args[3])).device(args[4]).maxSendSize(1024 * 1024).numMemoryRegions(8)
                .qpDepth(32).connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(60)).build();
        long perChunkMs = Long.parseLong(args[5]);
        ShardlinkNode node = ShardlinkNode.start(c, new RdmaDataPathProvider());
        node.onShardCopy((peer, shard, total) -> new ShardSink() {
            @Override
            public void onChunk(long offset, ByteBuffer payload) throws java.io.IOException {
                try {
                    Thread.sleep(perChunkMs);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }

            @Override
            public void onComplete() {}

            @Override
            public void onAbort(Throwable cause) {}
        });
        System.out.println("RDMA " + (node.rdmaUnavailableReason() == null ? "ok" : node.rdmaUnavailableReason()));
        System.out.println("LISTENING " + node.localAddress().getPort());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
