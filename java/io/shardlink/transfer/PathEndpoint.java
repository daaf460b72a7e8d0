package io.shardlink.transfer;

import java.util.concurrent.CompletableFuture;

/**
 * The local end of a path being brought up to one peer (e.g. a QP in INIT plus its receive ring).
 * {@link #localEndpoint()} travels in our HELLO; {@link #connect(byte[])} gets the peer's blob from its HELLO.
 */
public interface PathEndpoint extends AutoCloseable {
    /** Our endpoint blob (QP number, GID, LID, ring address and rkey, slot size/count): opaque to shardlink. */
    byte[] localEndpoint();

    /**
     * Connects to the peer's endpoint (QP to RTR/RTS); completes with the ready path, or exceptionally with
     * the bring-up error (the peer then moves to FAILED and data goes over QUIC). Must not block the caller.
     */
    CompletableFuture<DataPath> connect(byte[] remoteEndpoint);

    /**
     * A message from the peer's endpoint ({@link PeerContext#controlRequest}), arrived on the QUIC control stream;
     * the answer goes back to it. Called on an I/O thread: must not block.
     */
    default CompletableFuture<byte[]> onControl(byte[] message) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("this path takes no control messages"));
    }

    /** Tears the endpoint (and its path) down: QP, ring, registrations. Idempotent. */
    @Override
    void close();
}
