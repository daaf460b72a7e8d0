package io.shardlink.transfer;

import io.shardlink.buffer.DirectBufferPool;
import io.shardlink.metrics.TransportMetrics;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** What the copy driver needs from its peer. Implemented by the peer session. */
public interface CopyContext {
    String localNodeId();

    String peerNodeId();

    /** The path new work should use now: RDMA when the peer is CONNECTED, else QUIC. */
    DataPath currentPath();

    /** The fallback path (QUIC), or null when the transport mode forbids falling back. */
    DataPath fallbackPath();

    /** A path broke during a transfer: the peer moves to FAILED (if it was the RDMA path) and metrics count it. */
    void pathFailed(DataPath path, Throwable cause);

    /** RESUME over the control plane: the receiver's next expected offset for the transfer (0 if it never saw it). */
    CompletableFuture<Long> resume(long transferId);

    /** Payload bytes per chunk (min of both ends' maxSendSize). */
    int chunkSize();

    /** Window in chunks (min of our numMemoryRegions and the receiver's credits). */
    int window();

    DirectBufferPool pool();

    TransportMetrics transportMetrics();

    Duration requestTimeout();
}
