package io.shardlink.config;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM of {@link DirectMemoryCheckTest}: starts a sender node with the DEFAULT pinned-memory budget
 * (256 MiB) in a JVM whose direct memory limit is small, prints the budget it got, and copies a file to the
 * parent's node. Args: cert key ca host port file [maxSendSize].
 */
public final class DirectMemoryChild {
    public static void main(String[] a) throws Exception {
        ShardlinkConfig.Builder b = ShardlinkConfig.builder().nodeId("dm-child").keyPem(Path.of(a[0]), Path.of(a[1]))
                .trustCertsPem(Path.of(a[2])).transportMode(TransportMode.QUIC_ONLY);
        if (a.length > 6) {
            b.maxSendSize(Integer.parseInt(a[6]));
        }
        ShardlinkNode node;
        try {
            node = ShardlinkNode.start(b.build());
        } catch (RuntimeException e) {
            System.out.println("REFUSED " + e.getMessage());
            System.exit(3);
            return;
        }
        try (node; FileChannel ch = FileChannel.open(Path.of(a[5]), StandardOpenOption.READ)) {
            System.out.println("LIMIT " + DirectMemoryCheck.jvmLimit());
            System.out.println("BUDGET " + node.config().pinnedMemoryBudget());
            Peer p = node.connect(new InetSocketAddress(a[3], Integer.parseInt(a[4])));
            CopyResult r = p.copyShard(7, ch, 0, ch.size(), CopyProgressListener.NONE).get(120, TimeUnit.SECONDS);
            System.out.println("COPIED " + r.bytes());
        }
        System.exit(0);
    }
}
