package io.shardlink.transfer;

import io.shardlink.buffer.PooledBuffer;
import io.shardlink.config.Transport;
import io.shardlink.wire.Frame;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the RDMA path that can fail and come back (not a mock of ibverbs): each prepared endpoint
 * connects to a {@link FlakyPath} that claims RDMA and carries frames over the peer's QUIC path. {@link #failAll}
 * fails every live path like a QP going to the error state (the peer and each copy on it learn of it);
 * {@link #portDown} makes {@code prepare} refuse, like a port whose link is down. Counts endpoints prepared and
 * closed, and when each prepare was attempted, so tests can check teardown and the retry backoff.
 */
public final class RecoveringProvider implements DataPathProvider {
    public volatile boolean portDown;
    public final AtomicInteger prepared = new AtomicInteger();
    public final AtomicInteger closed = new AtomicInteger();
    /** System.nanoTime() of every prepare call, refused or not. */
    public final List<Long> prepareAttempts = new CopyOnWriteArrayList<>();
    private final List<FlakyPath> paths = new CopyOnWriteArrayList<>();

    @Override
    public Transport transport() {
        return Transport.RDMA;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    /** Endpoints prepared and not yet closed. */
    public int liveEndpoints() {
        return prepared.get() - closed.get();
    }

    /** Fails every open path (QP error): the peer goes FAILED, copies on it move to QUIC. */
    public void failAll(String why) {
        for (FlakyPath p : paths) {
            p.fail(new IOException("injected: " + why + " (IBV_WC_RETRY_EXC_ERR)"));
        }
    }

    @Override
    public PathEndpoint prepare(PeerContext peer) {
        prepareAttempts.add(System.nanoTime());
        if (portDown) {
            throw new IllegalStateException("injected: RDMA port is DOWN, not ACTIVE (link down?)");
        }
        prepared.incrementAndGet();
        AtomicBoolean done = new AtomicBoolean();
        return new PathEndpoint() {
            private volatile FlakyPath path;

            @Override
            public byte[] localEndpoint() {
                return ("fake-qp-of-" + peer.localNodeId()).getBytes();
            }

            @Override
            public CompletableFuture<DataPath> connect(byte[] remoteEndpoint) {
                if (!new String(remoteEndpoint).startsWith("fake-qp-of-")) {
                    return CompletableFuture.failedFuture(new IOException("bad endpoint blob"));
                }
                FlakyPath p = new FlakyPath(peer, peer.quicPath());
                path = p;
                paths.add(p);
                return CompletableFuture.completedFuture(p);
            }

            @Override
            public void close() {
                if (done.compareAndSet(false, true)) {
                    closed.incrementAndGet();
                    FlakyPath p = path;
                    if (p != null) {
                        p.closed = true;
                        paths.remove(p);
                    }
                }
            }
        };
    }

    @Override
    public void close() {}

    /** One life of the path: RDMA by its transport, QUIC underneath. */
    public static final class FlakyPath implements DataPath {
        private final PeerContext peer;
        private final DataPath carrier;
        private final List<TransferListener> transfers = new CopyOnWriteArrayList<>();
        private volatile boolean failed;
        volatile boolean closed;

        FlakyPath(PeerContext peer, DataPath carrier) {
            this.peer = peer;
            this.carrier = carrier;
        }

        void fail(IOException cause) {
            if (failed || closed) {
                return;
            }
            failed = true;
            peer.pathFailed(cause);
            for (TransferListener l : transfers) {
                l.onPathFailure(cause);
            }
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public boolean isOpen() {
            return !failed && !closed && carrier.isOpen();
        }

        @Override
        public TransferChannel openTransfer(TransferSpec spec, TransferListener listener) throws Exception {
            if (!isOpen()) {
                throw new IOException("injected path is down");
            }
            TransferChannel inner = carrier.openTransfer(spec, listener);
            transfers.add(listener);
            return new TransferChannel() {
                @Override
                public void sendChunk(long offset, PooledBuffer buffer, int length, int crc32c, boolean last) {
                    if (failed || closed) {
                        buffer.release(); // the QP is in error: nothing goes out
                        return;
                    }
                    inner.sendChunk(offset, buffer, length, crc32c, last);
                }

                @Override
                public void sendEnd(long totalLength) {
                    if (!failed && !closed) {
                        inner.sendEnd(totalLength);
                    }
                }

                @Override
                public void close(Throwable cause) {
                    transfers.remove(listener);
                    inner.close(cause);
                }
            };
        }

        @Override
        public boolean supportsReads() {
            return true;
        }

        @Override
        public CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset,
                                             int length) {
            if (!isOpen()) {
                return CompletableFuture.failedFuture(new IOException("injected path is down"));
            }
            return carrier.read(requestId, volumeId, needleId, cookie, offset, length);
        }
    }
}
