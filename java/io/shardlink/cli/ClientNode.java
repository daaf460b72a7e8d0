package io.shardlink.cli;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import java.net.InetSocketAddress;
import java.util.UUID;

/** A short-lived node that connects to one remote node (copy, read, bench --connect). */
final class ClientNode implements AutoCloseable {
    final ShardlinkNode node;
    final Peer peer;

    private ClientNode(ShardlinkNode node, Peer peer) {
        this.node = node;
        this.peer = peer;
    }

    static ClientNode connect(String role, InetSocketAddress remote, ShardlinkConfig.Builder b) {
        InetSocketAddress local = new InetSocketAddress(remote.getAddress().isLoopbackAddress() ? "127.0.0.1"
                : "0.0.0.0", 0);
        ShardlinkConfig config = b.nodeId(role + "-" + UUID.randomUUID().toString().substring(0, 8))
                .listenAddress(local).build();
        ShardlinkNode n = ShardlinkNode.start(config);
        CliLog.node(config.nodeId());
        try {
            return new ClientNode(n, n.connect(remote));
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
    }

    String transportLine() {
        String why = RdmaStatus.whyNot(node, peer);
        return why == null ? "RDMA" : "QUIC (" + why + ")";
    }

    @Override
    public void close() {
        node.close();
    }
}
