package io.shardlink.transfer;

import io.shardlink.wire.FrameException;

/**
 * What a {@link TransferChannel} reports back to the copy driver. Called from the path's threads (a Netty
 * event loop, an RDMA completion poller), possibly concurrently with the driver; implementations are
 * thread-safe and return quickly.
 */
public interface TransferListener {
    /** ACK: the receiver holds every byte below {@code nextExpected}; {@code credits} = its window in chunks. */
    void onAck(long nextExpected, int credits);

    /** COPY_DONE: the receiver's sink accepted all {@code totalLength} bytes. */
    void onDone(long totalLength);

    /** The receiver answered with an ERROR: the copy fails (no fallback; the data or request was bad). */
    void onRejected(FrameException error);

    /**
     * The path itself broke (QP error, completion error, stream reset, connection loss). The driver may fail
     * over: it asks the receiver for its next expected offset (RESUME) and goes on over QUIC.
     */
    void onPathFailure(Throwable cause);
}
