package io.shardlink.transfer;

import io.shardlink.buffer.PooledBuffer;

/**
 * The sending end of one shard transfer on one {@link DataPath}, from {@link DataPath#openTransfer}.
 * Called only by the transfer's copy driver thread (one caller at a time), never on an event loop.
 * The driver sends only within the receiver's window, so {@link #sendChunk} need not wait for credits
 * (an RDMA path with a ring shared by several transfers may still wait for a free remote slot).
 */
public interface TransferChannel {
    /**
     * Sends one DATA frame: {@code length} payload bytes at {@code buffer.buffer()} [0, length), whose CRC32C
     * is {@code crc32c}, at shard offset {@code offset}. Ownership of {@code buffer} passes to the channel,
     * which releases it exactly once when the bytes have left it (or when the send failed); errors are
     * reported through {@link TransferListener#onPathFailure}, not thrown, unless the channel is closed.
     */
    void sendChunk(long offset, PooledBuffer buffer, int length, int crc32c, boolean last);

    /** Sends COPY_END: every byte was acknowledged; the receiver completes its sink and answers COPY_DONE. */
    void sendEnd(long totalLength);

    /** Abandons the channel (done, failed over, or aborted): no more events are reported. Idempotent. */
    void close(Throwable cause);
}
