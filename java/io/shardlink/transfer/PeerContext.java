package io.shardlink.transfer;

import io.shardlink.config.ShardlinkConfig;

/** What a {@link DataPathProvider} learns about one peer connection. */
public interface PeerContext {
    String localNodeId();

    /** The peer's node id (from its HELLO). */
    String peerNodeId();

    ShardlinkConfig config();

    /** Where the path delivers the frames it receives from this peer. */
    InboundFrames inbound();

    /** The QUIC data path to the same peer (always there: the fallback). */
    DataPath quicPath();

    /**
     * Reports that the path failed outside any transfer (asynchronous QP error, port down): the peer moves to
     * FAILED with this cause and new work goes over QUIC.
     */
    void pathFailed(Throwable cause);
}
