package io.shardlink.api;

import io.shardlink.buffer.DirectBufferPool;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.logging.LogFields;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.quic.QuicConnection;
import io.shardlink.quic.QuicConnectionListener;
import io.shardlink.quic.QuicDataPath;
import io.shardlink.state.PeerState;
import io.shardlink.state.PeerStateListener;
import io.shardlink.state.PeerStateMachine;
import io.shardlink.transfer.ChunkSource;
import io.shardlink.transfer.CopyContext;
import io.shardlink.transfer.CopyReceiver;
import io.shardlink.transfer.CopySender;
import io.shardlink.transfer.DataPath;
import io.shardlink.transfer.DataPathProvider;
import io.shardlink.transfer.InboundDispatcher;
import io.shardlink.transfer.InboundFrames;
import io.shardlink.transfer.PathEndpoint;
import io.shardlink.transfer.PeerContext;
import io.shardlink.transfer.ReadService;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.Hello;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One peer connection: the QUIC control plane, the QUIC data path, and the RDMA path when both ends have
 * one. Implements the public {@link Peer}, the copy driver's {@link CopyContext}, the RDMA provider's
 * {@link PeerContext} and the QUIC connection's listener.
 */
final class PeerSession implements Peer, CopyContext, PeerContext, QuicConnectionListener {
    private static final System.Logger LOG = System.getLogger(PeerSession.class.getName());

    private final ShardlinkNode node;
    private final ShardlinkConfig config;
    private final QuicConnection conn;
    private final QuicDataPath quicPath;
    private final DataPathProvider provider;
    private final PeerStateMachine state;
    private final CompletableFuture<Void> bringUp = new CompletableFuture<>();
    private final Set<CopySender> copies = ConcurrentHashMap.newKeySet();
    /** Reads in flight from this node, and their timeouts. */
    private final ReadDeadlines reads;
    private final AtomicLong nextTransferId = new AtomicLong(1);
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Completed with the cause when this session closes (a {@link ReconnectingPeer} then reconnects). */
    private final CompletableFuture<Throwable> closeFuture = new CompletableFuture<>();
    private volatile Hello remoteHello;
    private volatile String peerId;
    private volatile TransportMetrics metrics;
    private volatile InboundDispatcher inbound;
    private volatile CopyReceiver receiver;
    /** The RDMA path's bring-up, retries after FAILED, and teardown. */
    private final PathBringUp rdma;

    /** The QUIC connection (tests look at its streams). */
    QuicConnection quicConnection() {
        return conn;
    }

    PeerSession(ShardlinkNode node, QuicConnection conn, DataPathProvider provider, String unavailableReason) {
        this.node = node;
        this.config = node.config();
        this.conn = conn;
        this.provider = provider;
        this.peerId = conn.remoteName();
        this.quicPath = new QuicDataPath(conn, config.requestTimeout().toMillis());
        this.reads = new ReadDeadlines(config.requestTimeout().toMillis());
        reads.start(conn.channel().eventLoop());
        conn.channel().closeFuture().addListener(f -> reads.stop()); // also if the session never saw the close
        PeerState initial = unavailableReason == null ? PeerState.DISCONNECTED : PeerState.UNAVAILABLE;
        this.state = new PeerStateMachine(peerId, initial);
        this.rdma = new PathBringUp(this, state, provider, conn, config);
        if (unavailableReason != null) {
            // record why, without a transition (the machine starts in UNAVAILABLE)
            unavailableCause = new IllegalStateException(unavailableReason);
        }
        state.addListener(this::logTransition);
        for (PeerStateListener l : node.stateListeners()) {
            state.addListener(l);
        }
        if (conn.isClient() && initial == PeerState.DISCONNECTED) {
            rdma.prepareInitial();
        }
    }

    private volatile Throwable unavailableCause;

    /** Operators see a peer's RDMA path come up (INFO) and fail (WARNING); other moves at DEBUG. */
    private void logTransition(String peer, PeerState from, PeerState to, Throwable cause) {
        System.Logger.Level level = to == PeerState.FAILED ? System.Logger.Level.WARNING
                : to == PeerState.CONNECTED ? System.Logger.Level.INFO : System.Logger.Level.DEBUG;
        if (LOG.isLoggable(level)) {
            String transport = to.usesRdma() ? "RDMA" : "QUIC";
            LOG.log(level, "node " + config.nodeId() + ": peer " + peer + " " + from + " -> " + to + "; data over "
                    + transport + (cause == null ? "" : " (" + cause.getMessage() + ")"),
                    LogFields.of(config.nodeId(), peer).with("event", "peer.state").with("from", from).with("to", to)
                            .with("transport", transport).with("cause", cause));
        }
    }

    // ------------------------------------------------------------------ QUIC connection listener

    @Override
    public Hello localHello() {
        PathEndpoint ep = this.rdma.endpoint();
        boolean rdma = ep != null && state.state() == PeerState.DISCONNECTED;
        int caps = (rdma ? Hello.CAP_RDMA : 0) | Hello.CAP_READ_COOKIE
                | (config.quicReadStreams() > 0 ? Hello.CAP_READ_STREAMS : 0);
        return new Hello(config.nodeId(), FrameCodec.VERSION, caps,
                config.maxSendSize(),
                config.numMemoryRegions(), rdma ? ep.localEndpoint() : new byte[0]);
    }

    @Override
    public void onHello(Hello remote) {
        if (remote.nodeId().equals(config.nodeId())) {
            throw new FrameException(ErrorCode.PROTOCOL, "peer claims this node's own id " + remote.nodeId());
        }
        remoteHello = remote;
        peerId = remote.nodeId();
        state.rename(peerId);
        metrics = node.metricsRoot().peer(peerId, state::state);
        receiver = new CopyReceiver(config.nodeId(), () -> peerId, (p, sh, t) -> node.sinkFactory().open(p, sh, t), node.workers(),
                config.numMemoryRegions(), metrics)
                .maxIncomingCopies(config.maxIncomingCopiesPerPeer())
                .busyHeartbeats(conn.channel().eventLoop(), config.requestTimeout().dividedBy(3));
        ReadService rs = new ReadService(config.nodeId(), () -> peerId, node::blobSource, node.readers(),
                conn.channel().alloc(), config.maxSendSize(), metrics);
        inbound = new InboundDispatcher(receiver, rs);
        if (config.quicReadStreams() > 0 && remote.servesReadStreams()) {
            quicPath.useSharedReadStreams(config.quicReadStreams());
        }
        if (state.state() == PeerState.DISCONNECTED) {
            if (!remote.rdmaCapable()) {
                rdma.dropEndpoint();
                state.tryTransition(PeerState.UNAVAILABLE, new IllegalStateException("peer " + peerId
                        + " has no RDMA path (its HELLO lacks the RDMA capability)"));
            } else if (!conn.isClient()) {
                rdma.prepareInitial();
            }
        }
        if (!conn.isClient()) {
            node.register(this);
        }
    }

    @Override
    public void readRefusedOverLimit() {
        TransportMetrics m = metrics;
        if (m != null) {
            m.completion(CompletionStatus.OVER_LIMIT);
        }
    }

    @Override
    public void controlRequestRefusedOverLimit() {
        readRefusedOverLimit(); // the same OVER_LIMIT count, per peer and node
    }

    @Override
    public void refusedOverLimit() {
        readRefusedOverLimit(); // a path's refusal (e.g. a ring past maxRingsPerPeer): the same OVER_LIMIT count
    }

    @Override
    public void helloDone() {
        Hello remote = remoteHello;
        if (state.state() != PeerState.DISCONNECTED || rdma.endpoint() == null || remote == null) {
            bringUp.complete(null);
            return;
        }
        rdma.connectInitial(remote.endpoint()).whenComplete((v, err) -> bringUp.complete(null));
    }

    @Override
    public InboundFrames inbound() {
        return inbound;
    }

    @Override
    public CompletableFuture<byte[]> onPathControl(long epoch, long kind, byte[] message) {
        return rdma.onControl(epoch, kind, message);
    }

    @Override
    public CompletableFuture<byte[]> controlRequest(byte[] message) {
        return conn.pathControl(message);
    }

    @Override
    public CompletableFuture<Long> onResume(long transferId) {
        CopyReceiver r = receiver;
        return r == null ? CompletableFuture.completedFuture(0L) : r.resume(transferId);
    }

    @Override
    public void onClosed(Throwable cause) {
        closeWith(cause instanceof ShardlinkException ? cause
                : new ShardlinkClosedException("connection from " + config.nodeId() + " to " + peerId + " lost: " + cause,
                cause));
    }

    CompletableFuture<Void> bringUp() {
        return bringUp;
    }

    // ------------------------------------------------------------------ CopyContext / PeerContext

    @Override
    public String localNodeId() {
        return config.nodeId();
    }

    @Override
    public String peerNodeId() {
        return peerId;
    }

    @Override
    public ShardlinkConfig config() {
        return config;
    }

    @Override
    public DataPath quicPath() {
        return quicPath;
    }

    @Override
    public DataPath currentPath() {
        DataPath r = rdma.path();
        if (state.state() == PeerState.CONNECTED && r != null && r.isOpen()) {
            return r;
        }
        if (config.transportMode() == TransportMode.RDMA_ONLY) {
            throw new ShardlinkException("peer " + peerId + " has no RDMA path (state " + state.state()
                    + (lastCause() == null ? "" : ": " + lastCause().getMessage())
                    + ") and the transport mode is RDMA_ONLY");
        }
        return quicPath;
    }

    @Override
    public DataPath fallbackPath() {
        return config.transportMode() == TransportMode.RDMA_ONLY ? null : quicPath;
    }

    // A path failure shows as the peer's FAILED state (with its cause), not as a fallback: fallbacks count the
    // operations that moved to QUIC (see MetricsSnapshot.fallbacks()), recorded where they move.
    @Override
    public void pathFailed(DataPath path, Throwable cause) {
        if (path.transport() == Transport.RDMA) {
            rdma.pathFailed(path, cause);
        }
    }

    @Override
    public void pathFailed(Throwable cause) {
        state.tryTransition(PeerState.FAILED, cause);
    }

    private static String causeName(Throwable t) {
        return TransportMetrics.causeKey(t);
    }

    @Override
    public CompletableFuture<Long> resume(long transferId) {
        return conn.resume(transferId);
    }

    @Override
    public int chunkSize() {
        Hello r = remoteHello;
        return r == null ? config.maxSendSize() : Math.min(config.maxSendSize(), r.maxSendSize());
    }

    @Override
    public int window() {
        Hello r = remoteHello;
        return r == null ? config.numMemoryRegions() : Math.min(config.numMemoryRegions(), r.numMemoryRegions());
    }

    @Override
    public DirectBufferPool pool() {
        return node.pool();
    }

    @Override
    public TransportMetrics transportMetrics() {
        return metrics;
    }

    @Override
    public Duration requestTimeout() {
        return config.requestTimeout();
    }

    // ------------------------------------------------------------------ Peer

    @Override
    public String nodeId() {
        return peerId;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return conn.remoteAddress();
    }

    @Override
    public PeerState state() {
        return state.state();
    }

    @Override
    public Throwable lastCause() {
        Throwable c = state.lastCause();
        return c != null ? c : unavailableCause;
    }

    @Override
    public void addStateListener(PeerStateListener listener) {
        state.addListener(listener);
    }

    PeerStateMachine stateMachine() {
        return state;
    }

    @Override
    public CompletableFuture<CopyResult> copyShard(long shardId, ByteBuffer data, CopyProgressListener listener) {
        return startCopy(shardId, ChunkSource.of(data), listener);
    }

    @Override
    public CompletableFuture<CopyResult> copyShard(long shardId, FileChannel channel, long position, long length,
                                                   CopyProgressListener listener) {
        if (position < 0 || length < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("copy of shard " + shardId + " to "
                    + peerId + ": position (" + position + ") and length (" + length + ") must be >= 0"));
        }
        return startCopy(shardId, ChunkSource.of(channel, position, length), listener);
    }

    private CompletableFuture<CopyResult> startCopy(long shardId, ChunkSource source, CopyProgressListener listener) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new ShardlinkClosedException("copy of shard " + shardId + " from "
                    + config.nodeId() + " to " + peerId + ": the peer connection is closed"));
        }
        CopySender sender = new CopySender(this, nextTransferId.getAndIncrement(), shardId, source, listener);
        copies.add(sender);
        sender.future().whenComplete((r, e) -> copies.remove(sender));
        try {
            node.copyExecutor().execute(sender);
        } catch (RejectedExecutionException e) {
            sender.abort(new ShardlinkClosedException("copy of shard " + shardId + " from " + config.nodeId() + " to "
                    + peerId + ": node is closing"));
        }
        if (closed.get()) {
            sender.abort(new ShardlinkClosedException("copy of shard " + shardId + " from " + config.nodeId() + " to "
                    + peerId + ": the peer connection is closed"));
        }
        return sender.future();
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long offset, int length) {
        return doRead(volumeId, needleId, BlobSource.NO_COOKIE, offset, length, null);
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long offset, ByteBuffer dst) {
        return doRead(volumeId, needleId, BlobSource.NO_COOKIE, offset, dst.remaining(), dst);
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long cookie, long offset, int length) {
        return doRead(volumeId, needleId, cookie, offset, length, null);
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long cookie, long offset, ByteBuffer dst) {
        return doRead(volumeId, needleId, cookie, offset, dst.remaining(), dst);
    }

    private CompletableFuture<ReadResult> doRead(long volumeId, long needleId, long cookie, long offset, int length,
                                                 ByteBuffer dst) {
        if (length < 0 || length > chunkSize() || offset < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(ReadCall.describe(volumeId, needleId,
                    offset, length, config.nodeId(), peerId) + ": length must be in 0.." + chunkSize()
                    + " (maxSendSize) and offset >= 0"));
        }
        if (cookie > 0xFFFFFFFFL || cookie < BlobSource.NO_COOKIE) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(ReadCall.describe(volumeId, needleId,
                    offset, length, config.nodeId(), peerId) + ": cookie " + cookie
                    + " is not an unsigned 32-bit value (or NO_COOKIE)"));
        }
        Hello rh = remoteHello;
        if (cookie != BlobSource.NO_COOKIE && rh != null && !rh.readsWithCookie()) {
            return CompletableFuture.failedFuture(new ShardlinkException(ReadCall.describe(volumeId, needleId, offset,
                    length, config.nodeId(), peerId) + ": " + peerId + " runs an older "
                    + "shardlink that cannot check cookies (its HELLO lacks the read-cookie capability)"));
        }
        if (closed.get()) {
            return CompletableFuture.failedFuture(new ShardlinkClosedException(ReadCall.describe(volumeId, needleId,
                    offset, length, config.nodeId(), peerId) + ": the peer connection is closed"));
        }
        long t0 = System.nanoTime();
        DataPath path;
        try {
            path = currentPath();
        } catch (ShardlinkException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (!path.supportsReads()) {
            path = quicPath;
        }
        ReadCall call = new ReadCall(volumeId, needleId, cookie, offset, length, dst, t0, config.nodeId(), peerId,
                metrics, config.requestTimeout().toMillis());
        call.transport = path.transport();
        reads.add(call);
        if (closed.get()) { // closeWith may have swept the set before the add
            call.result.completeExceptionally(new ShardlinkClosedException(call.what() + ": the peer connection is "
                    + "closed"));
            return call.result;
        }
        CompletableFuture<Frame> f = path.read(nextRequestId.getAndIncrement(), volumeId, needleId, cookie, offset,
                length);
        DataPath fallback = fallbackPath();
        if (path != quicPath && fallback != null) {
            // the RDMA path broke under the read (an ERROR from the peer is an answer, not a path failure): ask
            // again over the fallback; reads are idempotent
            f = f.exceptionallyCompose(err -> {
                Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                if (c instanceof FrameException || closed.get() || !fallback.isOpen()) {
                    return CompletableFuture.failedFuture(c);
                }
                call.transport = fallback.transport();
                metrics.fallback("read: " + causeName(c));
                return fallback.read(nextRequestId.getAndIncrement(), volumeId, needleId, cookie, offset, length);
            });
        }
        call.answer = f;
        f.whenComplete(call);
        return call.result;
    }

    @Override
    public MetricsSnapshot metrics() {
        TransportMetrics m = metrics;
        return m == null ? node.metricsRoot().peer(peerId, state::state).snapshot() : m.snapshot();
    }

    // ------------------------------------------------------------------ close

    @Override
    public void close() {
        closeWith(new ShardlinkClosedException("connection from " + config.nodeId() + " to " + peerId
                + " closed by " + config.nodeId()));
        conn.close(null);
    }

    void closeWith(Throwable cause) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<CopySender> cs = new ArrayList<>(copies);
        for (CopySender s : cs) {
            s.abort(new ShardlinkClosedException("copy of shard " + s.shardId() + " (transfer " + s.transferId()
                    + ") from " + config.nodeId() + " to " + peerId + " aborted: " + cause.getMessage(), cause));
        }
        reads.stop();
        reads.failAll(r -> r.result.completeExceptionally(new ShardlinkClosedException("read from " + peerId
                + " aborted: " + cause.getMessage(), cause)));
        CopyReceiver r = receiver;
        if (r != null) {
            r.close(cause);
        }
        rdma.close();
        if (state.state() == PeerState.CONNECTED) {
            state.tryTransition(PeerState.DISCONNECTED, cause);
        }
        bringUp.complete(null);
        conn.close(cause);
        node.unregister(this);
        closeFuture.complete(cause);
    }

    CompletableFuture<Throwable> closeFuture() {
        return closeFuture;
    }

    @Override
    public boolean isConnected() {
        return !closed.get() && conn.isOpen();
    }

    boolean isOpen() {
        return isConnected();
    }

    /** Copies this connection sends and receives now, with their progress. */
    List<CopyInFlight> copiesInFlight() {
        List<CopyInFlight> l = new ArrayList<>();
        for (CopySender s : copies) {
            l.add(s.inFlight(peerId));
        }
        CopyReceiver r = receiver;
        if (r != null) {
            l.addAll(r.inFlight());
        }
        return l;
    }

    /** Copies in flight (tests). */
    int activeCopies() {
        return copies.size();
    }

    @Override
    public String toString() {
        return "Peer{" + config.nodeId() + " -> " + peerId + " " + state.state() + "}";
    }
}
