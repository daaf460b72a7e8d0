package io.shardlink.rdma.path;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Measurement, not a test: copy throughput of the RDMA path (rxea -> rxeb) and of QUIC (127.0.0.1) in the same JVM,
 * median of N, to set beside ib_write_bw on the same devices in the same VM run. Args: MiB per copy, repeats,
 * chunk MiB. Run inside the rxe VM with the test class path.
 */
public final class RdmaCopyThroughput {
    private RdmaCopyThroughput() {}

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int repeat = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int chunkMib = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        byte[] data = RdmaPathTestSupport.pattern(1, mib * RdmaPathTestSupport.MiB);
        for (TransportMode mode : new TransportMode[] {TransportMode.RDMA_ONLY, TransportMode.QUIC_ONLY}) {
            List<Double> mbs = new ArrayList<>();
            try (ShardlinkNode a = ShardlinkNode.start(cfg("tp-a-" + mode, RdmaPathTestSupport.deviceA(), mode, chunkMib),
                    new RdmaDataPathProvider());
                 ShardlinkNode b = ShardlinkNode.start(cfg("tp-b-" + mode, RdmaPathTestSupport.deviceB(), mode, chunkMib),
                         new RdmaDataPathProvider())) {
                b.onShardCopy(RdmaPathTestSupport.discardingSinks());
                Peer p = a.connect(b.localAddress());
                for (int i = 0; i <= repeat; i++) { // the first is warm-up
                    CopyResult r = p.copyShard(i, ByteBuffer.wrap(data), CopyProgressListener.NONE)
                            .get(600, TimeUnit.SECONDS);
                    if (i > 0) {
                        mbs.add(r.megabytesPerSecond());
                    }
                    System.out.printf("%s copy %d: %d MiB in %.2f s = %.1f MB/s over %s%n", mode, i, mib,
                            r.duration().toNanos() / 1e9, r.megabytesPerSecond(), r.transports());
                }
            }
            Collections.sort(mbs);
            System.out.printf("RESULT %s: median %.1f MB/s of %s%n", mode, mbs.get(mbs.size() / 2), mbs);
        }
    }

    private static ShardlinkConfig cfg(String id, String dev, TransportMode mode, int chunkMib) throws Exception {
        return TestNodes.config(id).device(dev).transportMode(mode).maxSendSize(chunkMib * RdmaPathTestSupport.MiB)
                .numMemoryRegions(8).qpDepth(32).build();
    }
}
