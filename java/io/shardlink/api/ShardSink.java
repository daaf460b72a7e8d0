package io.shardlink.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Receives one incoming shard copy. Chunks arrive verified (CRC32C checked, offset == next expected),
 * in order, exactly once, even across an RDMA-to-QUIC failover; calls for one sink never overlap.
 * Calls run on the node's worker threads: blocking I/O is fine; the sender is throttled until it returns.
 */
public interface ShardSink {
    /**
     * One chunk: {@code payload} holds the bytes for [offset, offset + payload.remaining()). The buffer is
     * only valid during the call (it may be an RDMA ring slot or a pooled network buffer): copy what you keep.
     */
    void onChunk(long offset, ByteBuffer payload) throws IOException;

    /** Every byte arrived and was accepted. An exception here fails the copy at the sender. */
    void onComplete() throws IOException;

    /** The copy failed or was cancelled (sender error, connection loss, close); clean up. Not called after onComplete. */
    void onAbort(Throwable cause);
}
