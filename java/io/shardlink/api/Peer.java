package io.shardlink.api;

import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.state.PeerState;
import io.shardlink.state.PeerStateListener;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/**
 * A connection to another shardlink node: one QUIC connection (control plane, and data when there is no
 * RDMA), plus an RDMA path when both ends have one. Thread-safe. Obtained from
 * {@link ShardlinkNode#connect(InetSocketAddress)} (or {@link ShardlinkNode#peers()} for accepted ones).
 */
public interface Peer extends AutoCloseable {
    /** The remote node's id (from its HELLO). */
    String nodeId();

    InetSocketAddress remoteAddress();

    /** The RDMA data path's state; UNAVAILABLE here without RDMA (data over QUIC). */
    PeerState state();

    /** The cause of the last FAILED/UNAVAILABLE transition, or null. */
    Throwable lastCause();

    void addStateListener(PeerStateListener listener);

    /**
     * Copies a shard held in memory. {@code data}'s remaining bytes are sent (its position is not changed);
     * they are staged chunk by chunk through pooled direct buffers.
     */
    CompletableFuture<CopyResult> copyShard(long shardId, ByteBuffer data, CopyProgressListener listener);

    /**
     * Copies {@code length} bytes of a file from {@code position}; read chunk by chunk into pooled direct
     * buffers (the heap stays flat for any size). The channel must stay open until the future completes.
     */
    CompletableFuture<CopyResult> copyShard(long shardId, FileChannel channel, long position, long length,
                                            CopyProgressListener listener);

    /** Reads up to {@code length} (&le; maxSendSize) bytes of a needle into a new heap buffer. */
    CompletableFuture<ReadResult> read(long volumeId, long needleId, long offset, int length);

    /** Reads {@code dst.remaining()} bytes of a needle into {@code dst} (from its position; advanced by the length read). */
    CompletableFuture<ReadResult> read(long volumeId, long needleId, long offset, ByteBuffer dst);

    /**
     * Reads up to {@code length} bytes of a needle, giving its {@code cookie} (unsigned 32-bit, as in a SeaweedFS
     * file id): a source with cookies answers a wrong one NOT_FOUND. {@link ReadResult#blobFlags()} holds the
     * needle's flags as its source reports them.
     */
    CompletableFuture<ReadResult> read(long volumeId, long needleId, long cookie, long offset, int length);

    /** As {@link #read(long, long, long, long, int)}, into {@code dst} (from its position; advanced by the length read). */
    CompletableFuture<ReadResult> read(long volumeId, long needleId, long cookie, long offset, ByteBuffer dst);

    MetricsSnapshot metrics();

    /** Observes the connection being lost and re-established (a Peer from {@link ShardlinkNode#connect}). */
    default void addConnectionListener(PeerConnectionListener listener) {}

    /** Whether the QUIC connection is up now (a lost one is re-established on the next operation). */
    default boolean isConnected() {
        return true;
    }

    /** How many times this Peer's connection was re-established after it was lost. */
    default long reconnects() {
        return 0;
    }

    /** Closes this connection: in-flight copies and reads fail with {@link ShardlinkClosedException}. */
    @Override
    void close();
}
