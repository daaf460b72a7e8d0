package io.shardlink.transfer;

import io.shardlink.config.Transport;
import io.shardlink.wire.Frame;
import java.util.concurrent.CompletableFuture;

/**
 * One way of moving frames to one peer: QUIC streams ({@code io.shardlink.quic.QuicDataPath}) or an RDMA
 * queue pair with a registered ring (the RDMA path, from a {@link DataPathProvider}).
 *
 * <p>Who calls what: the copy driver ({@link CopySender}) asks its peer which path is current
 * ({@code CONNECTED} state: RDMA, else QUIC), calls {@link #openTransfer} on the copy thread (blocking is
 * allowed there), then {@link TransferChannel#sendChunk} for every chunk within the receiver's window. The
 * path reports ACK / COPY_DONE / ERROR / failure through the {@link TransferListener}. On the receiving node,
 * the path hands every frame it receives to {@link InboundFrames#onFrame} with a {@link ReplyChannel} to
 * answer on; the receiver logic (ordering, CRC, sink, ACKs) is shared by all paths.
 *
 * <p>Frames are the {@code io.shardlink.wire} envelope exactly (header + payload), so an RDMA ring slot
 * holds the same bytes a QUIC stream carries.
 */
public interface DataPath {
    Transport transport();

    /** Whether the path can take new work. */
    boolean isOpen();

    /**
     * Opens (or, with {@link TransferSpec#resume()}, resumes) a transfer: the path sends COPY_BEGIN and
     * then reports the receiver's answers to {@code listener}. May block the calling copy thread.
     *
     * @throws Exception if the path cannot start a transfer now (treated as a path failure)
     */
    TransferChannel openTransfer(TransferSpec spec, TransferListener listener) throws Exception;

    /** Whether {@link #read} is supported (QUIC: yes; an RDMA path may add it later). */
    default boolean supportsReads() {
        return false;
    }

    /**
     * Sends READ_REQ for {@code length} bytes of needle {@code needleId} of volume {@code volumeId} at
     * {@code offset}, with the blob's {@code cookie} (unsigned 32-bit; negative = none) in the READ_REQ
     * ({@code FrameHeader#cookie(long)}); completes with the READ_RESP frame (CRC not yet verified; the caller releases
     * it; its {@code arg} holds the blob's flags) or exceptionally with a FrameException (the peer's ERROR) or a
     * transport error.
     */
    default CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset,
                                         int length) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException(transport() + " path has no reads"));
    }

    /** As {@link #read(long, long, long, long, long, int)} without a cookie: paths implement only that one. */
    default CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long offset, int length) {
        return read(requestId, volumeId, needleId, -1, offset, length);
    }
}
