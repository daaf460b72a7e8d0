package io.shardlink.quic;

import io.shardlink.transfer.InboundFrames;
import io.shardlink.wire.Hello;
import java.util.concurrent.CompletableFuture;

/** What a {@link QuicConnection} needs from the peer session above it. Called on the connection's event loop. */
public interface QuicConnectionListener {
    /** Our HELLO: sent first by the connecting side, as the answer by the accepting side. */
    Hello localHello();

    /**
     * The peer's HELLO: validate and adopt it (throw a FrameException to refuse: ERROR + connection closed).
     * Called before the accepting side builds its answer with {@link #localHello()}.
     */
    void onHello(Hello remote);

    /** HELLO exchanged both ways: start the RDMA bring-up, if any. */
    void helloDone();

    /** Frames from data streams (copies, reads). */
    InboundFrames inbound();

    /** RESUME request from the peer: our next expected offset for its transfer. */
    CompletableFuture<Long> onResume(long transferId);

    /**
     * PATH_CTL from the peer's data path provider (e.g. an RDMA ring request; {@code kind}
     * {@link QuicConnection#PATH_KIND_PROVIDER}) or its session retrying the bring-up of path {@code epoch}
     * ({@link QuicConnection#PATH_KIND_RETRY}): the answer goes back on the
     * control stream. Called on the event loop: must not block.
     */
    default CompletableFuture<byte[]> onPathControl(long epoch, long kind, byte[] message) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("no data path provider here"));
    }

    /** A read on a shared read stream was refused: the peer had maxInFlightReadsPerPeer reads in flight here. */
    default void readRefusedOverLimit() {}

    /** A control request was refused: the peer sent more than maxControlRequestsPerSecondPerPeer (event loop). */
    default void controlRequestRefusedOverLimit() {}

    /** The connection is gone (closed by either side, idle timeout, handshake failure after accept). */
    void onClosed(Throwable cause);
}
