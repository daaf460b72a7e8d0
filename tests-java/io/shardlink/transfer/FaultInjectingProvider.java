package io.shardlink.transfer;

import io.shardlink.buffer.PooledBuffer;
import io.shardlink.config.Transport;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic fault injector standing in for the RDMA path (not a mock of ibverbs): it claims RDMA,
 * comes up CONNECTED, carries frames over the peer's QUIC path, and after {@code failAfter} chunks reports
 * a path failure, like a QP going to the error state: to the peer ({@link PeerContext#pathFailed}) and to the copy. With {@code deliverFailingChunk} the failing chunk is
 * still delivered (the "written but never acknowledged" case that must not be delivered twice).
 */
public final class FaultInjectingProvider implements DataPathProvider {
    private final int failAfter;
    private final boolean deliverFailingChunk;
    public final AtomicInteger chunksSent = new AtomicInteger();
    public final AtomicInteger endpointsClosed = new AtomicInteger();

    public FaultInjectingProvider(int failAfter, boolean deliverFailingChunk) {
        this.failAfter = failAfter;
        this.deliverFailingChunk = deliverFailingChunk;
    }

    @Override
    public Transport transport() {
        return Transport.RDMA;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public PathEndpoint prepare(PeerContext peer) {
        return new PathEndpoint() {
            @Override
            public byte[] localEndpoint() {
                return ("fake-qp-of-" + peer.localNodeId()).getBytes();
            }

            @Override
            public CompletableFuture<DataPath> connect(byte[] remoteEndpoint) {
                if (!new String(remoteEndpoint).startsWith("fake-qp-of-")) {
                    return CompletableFuture.failedFuture(new IOException("bad endpoint blob"));
                }
                return CompletableFuture.completedFuture(new FaultyPath(peer, peer.quicPath()));
            }

            @Override
            public void close() {
                endpointsClosed.incrementAndGet();
            }
        };
    }

    @Override
    public void close() {}

    private final class FaultyPath implements DataPath {
        private final PeerContext peer;
        private final DataPath carrier;
        private volatile boolean failed;

        FaultyPath(PeerContext peer, DataPath carrier) {
            this.peer = peer;
            this.carrier = carrier;
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public boolean isOpen() {
            return !failed && carrier.isOpen();
        }

        @Override
        public TransferChannel openTransfer(TransferSpec spec, TransferListener listener) throws Exception {
            TransferChannel inner = carrier.openTransfer(spec, listener);
            return new TransferChannel() {
                @Override
                public void sendChunk(long offset, PooledBuffer buffer, int length, int crc32c, boolean last) {
                    if (failed) {
                        buffer.release(); // the QP is in error: nothing goes out
                        return;
                    }
                    int n = chunksSent.incrementAndGet();
                    if (n <= failAfter) {
                        inner.sendChunk(offset, buffer, length, crc32c, last);
                        return;
                    }
                    failed = true;
                    if (deliverFailingChunk) {
                        inner.sendChunk(offset, buffer, length, crc32c, last);
                    } else {
                        buffer.release();
                    }
                    IOException cause = new IOException("injected: QP entered the error state after " + failAfter
                            + " chunks (IBV_WC_RETRY_EXC_ERR)");
                    // like the RDMA endpoint: the peer learns of the path failure, and so does each copy on it
                    peer.pathFailed(cause);
                    listener.onPathFailure(cause);
                }

                @Override
                public void sendEnd(long totalLength) {
                    inner.sendEnd(totalLength);
                }

                @Override
                public void close(Throwable cause) {
                    inner.close(cause);
                }
            };
        }
    }
}
