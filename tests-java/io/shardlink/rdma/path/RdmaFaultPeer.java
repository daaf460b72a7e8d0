package io.shardlink.rdma.path;

import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/**
 * The peer of {@link RdmaPeerPauseRestartRdmaTest} in its own JVM, so that the test can stop, continue and kill it:
 * args = node id, cert PEM, key PEM, CA PEM, RDMA device, UDP port (0 = any). Serves the blobs of
 * {@link RdmaPathTestSupport#blobByte} and receives copies into memory, checking each against
 * {@code RdmaPathTestSupport.pattern(shardId, length)}. Prints (one line each, flushed): "RDMA ok" or "RDMA reason",
 * "LISTENING port", then per copy "OPEN shard length", and "DONE shard bytes chunks ok" or "DONE ... BAD what", or
 * "ABORT shard cause". Runs until killed.
 */
public final class RdmaFaultPeer {
    private RdmaFaultPeer() {}

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        ShardlinkConfig c = ShardlinkConfig.builder().nodeId(args[0]).keyPem(Path.of(args[1]), Path.of(args[2]))
                .trustCertsPem(Path.of(args[3])).device(args[4])
                .listenAddress(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[5])))
                .maxSendSize(1024 * 1024).numMemoryRegions(8).qpDepth(32).connectTimeout(Duration.ofSeconds(30))
                .requestTimeout(Duration.ofSeconds(20)).idleTimeout(Duration.ofSeconds(10)).build();
        ShardlinkNode node = ShardlinkNode.start(c, new RdmaDataPathProvider());
        FaultMatrixSupport.serveBlobs(node);
        node.onShardCopy((peer, shard, total) -> {
            say("OPEN " + shard + " " + total);
            byte[] got = new byte[(int) total];
            return new ShardSink() {
                long bytes;
                long chunks;
                String problem;

                @Override
                public void onChunk(long offset, ByteBuffer payload) {
                    if (offset != bytes && problem == null) {
                        problem = "chunk at " + offset + " but " + bytes + " bytes arrived so far";
                    }
                    int n = payload.remaining();
                    payload.get(got, (int) offset, n);
                    bytes += n;
                    chunks++;
                }

                @Override
                public void onComplete() {
                    String bad = problem != null ? problem
                            : !Arrays.equals(got, RdmaPathTestSupport.pattern(shard, (int) total)) ? "bytes differ"
                            : null;
                    say("DONE " + shard + " " + bytes + " " + chunks + (bad == null ? " ok" : " BAD " + bad));
                }

                @Override
                public void onAbort(Throwable cause) {
                    say("ABORT " + shard + " " + cause);
                }
            };
        });
        say("RDMA " + (node.rdmaUnavailableReason() == null ? "ok" : node.rdmaUnavailableReason()));
        say("LISTENING " + node.localAddress().getPort());
        Thread.sleep(Long.MAX_VALUE);
    }
}
