package io.shardlink.transfer;

import io.shardlink.config.ShardlinkConfig;
import java.util.concurrent.CompletableFuture;

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

    /**
     * Sends an opaque message to the peer's {@link PathEndpoint#onControl} over the QUIC control stream (TLS 1.3,
     * the authenticated peer only), e.g. an RDMA ring request or descriptor; completes with its answer (empty
     * when it had none) or exceptionally when the connection is gone.
     */
    default CompletableFuture<byte[]> controlRequest(byte[] message) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("no control channel"));
    }

    /**
     * The path refused this peer something past a per-peer limit (e.g. a receive ring past maxRingsPerPeer): counted
     * OVER_LIMIT in the peer's and the node's completions, like the QUIC side's refusals.
     */
    default void refusedOverLimit() {}
}
