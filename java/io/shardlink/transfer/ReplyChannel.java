package io.shardlink.transfer;

import io.netty.buffer.ByteBuf;
import io.shardlink.api.BlobFileRange;
import io.shardlink.config.Transport;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;

/**
 * Where the receiving side answers frames that arrived on a path (ACK, COPY_DONE, READ_RESP, ERROR).
 * Thread-safe; never blocks. Identity matters: the copy receiver attaches a transfer to the channel its
 * COPY_BEGIN came on and drops DATA arriving on any other (a path superseded by a failover).
 */
public interface ReplyChannel {
    /**
     * Sends a frame. {@code header.length()} and {@code crc32c()} must already describe {@code payload}
     * (null for none); ownership of {@code payload} passes to the channel.
     */
    void send(FrameHeader header, ByteBuf payload);

    /** Sends an ERROR frame about {@code id}; with {@code closeAfter} the channel is closed once it is sent. */
    void sendError(long id, long offset, FrameException error, boolean closeAfter);

    Transport transport();

    /**
     * A buffer of {@code capacity} bytes for the payload of the next {@link #send} on this channel (e.g. READ_RESP),
     * from memory the path can send without copying (an RDMA path: a registered, locally-accessible buffer), or
     * null to let the caller allocate. Called on a worker thread; may wait briefly for such memory.
     */
    default ByteBuf payloadBuffer(int capacity) {
        return null;
    }

    /**
     * True to serve this read on the calling thread (the path's completion poller) instead of the node's reader
     * threads: the path has made its answer buffer ready and the node chose to run a quick BlobSource there.
     */
    default boolean servesReadsInPlace() {
        return false;
    }

    /**
     * True to serve this read on the calling thread (the connection's I/O thread) if the node's BlobSource is
     * {@link io.shardlink.api.BlobSource#nonBlocking()}: the channel is on its I/O thread and allows it now.
     */
    default boolean servesNonBlockingReadsInPlace() {
        return false;
    }

    /**
     * Whether this channel may be able to send a READ_RESP payload straight from a file ({@link #sendFileRange});
     * false (the default) and the read service copies the blob into a buffer as usual.
     */
    default boolean sendsFileRanges() {
        return false;
    }

    /**
     * Sends READ_RESP {@code header} (length and flags set; the channel fills in the CRC32C) with {@code range}'s
     * bytes taken straight from the file, without copying them. Returns false, having sent nothing, when it cannot
     * (then the caller serves the read by copy); true once the answer is on its way (or the channel failed).
     */
    default boolean sendFileRange(FrameHeader header, BlobFileRange range) {
        return false;
    }

    /** For messages: "QUIC stream 12 from node-b (127.0.0.1:4433)". */
    String describe();
}
