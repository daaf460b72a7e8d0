package io.shardlink.rdma.path;

import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.api.ShardlinkException;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.rdma.Access;
import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.CompletionQueue;
import io.shardlink.rdma.ConnectOptions;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.MemoryWindow;
import io.shardlink.rdma.QueuePair;
import io.shardlink.rdma.RdmaException;
import io.shardlink.rdma.WorkRequestBatch;
import io.shardlink.transfer.DataPath;
import io.shardlink.transfer.InboundFrames;
import io.shardlink.transfer.PathEndpoint;
import io.shardlink.transfer.PeerContext;
import io.shardlink.transfer.TransferChannel;
import io.shardlink.transfer.TransferListener;
import io.shardlink.transfer.TransferSpec;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameLimits;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The RDMA path to one peer: one RC queue pair (send and receive depth {@code qpDepth}) on the completion queue of
 * one of the node's shared pollers ({@link RdmaEngine}), and the memory the two nodes exchange frames through. Every frame is the
 * {@code io.shardlink.wire} envelope, byte for byte what a QUIC stream carries.
 *
 * <h2>Memory</h2>
 * <ul>
 * <li>Control buffer (LOCAL_WRITE): {@code qpDepth} send slots of {@value #CTRL} bytes (a whole control frame, or
 * the header of a DATA / READ_RESP frame) and {@code qpDepth} receive buffers of {@value #CTRL} bytes (control
 * frames arrive there by SEND; a WRITE WITH IMMEDIATE consumes one without touching it).</li>
 * <li>Receive rings of incoming copies (LOCAL_WRITE | MW_BIND; remote write only through a type-2 memory window
 * bound to this peer's queue pair, never REMOTE_READ): one per transfer,
 * {@code numMemoryRegions} slots of header + {@code maxSendSize} bytes (rounded to 4 KiB), registered when the
 * sender asks for it (RING_REQ on the QUIC control stream) if the pinned budget has room, described to that
 * sender only (RING_GRANT, same stream), and deregistered when the transfer ends (COPY_DONE sent, or the
 * sender's ERROR), or when the path fails or the peer goes away.</li>
 * <li>Reply ring (LOCAL_WRITE | MW_BIND): {@value #PAGE}-byte pages that answers to our blob reads are
 * written into, through a memory window bound to this peer's queue pair (its rkey, fixed at allocation, is described
 * in HELLO; the bind is done before PATH_READY); deregistered when the peer goes away.</li>
 * <li>Why windows: the node has one protection domain for every peer (the chunk pool, staging buffers and file
 * windows are registered once, node-wide), so a region's own rkey would be valid on every peer's queue pair. A
 * window's rkey is valid on one queue pair only: another peer that learns it gets a remote access error.</li>
 * <li>Chunk buffers (the node's pool) and read staging buffers: registered once, node-wide, LOCAL only.</li>
 * </ul>
 *
 * <h2>Copies</h2>
 * Sender: RING_REQ / RING_GRANT over QUIC, then COPY_BEGIN by SEND; every chunk is one RDMA WRITE WITH IMMEDIATE
 * of [header from a send slot][payload straight from the pooled chunk buffer] into the next slot of the ring,
 * imm = ring, generation, slot ({@link Imm}). The receiver's completion poller decodes the frame in place and
 * hands it (payload not copied) to the node's copy receiver; the ACK (next expected offset, credits) goes back
 * by SEND only after the sink has consumed the chunk, and the sender reuses a slot only once the chunk in it
 * is acknowledged. COPY_END by SEND, COPY_DONE back.
 *
 * <h2>Reads</h2>
 * The reader takes pages of its reply ring, sends READ_REQ by SEND with imm = first page; the serving node reads
 * the blob into a registered staging buffer and writes [READ_RESP header][bytes] (or an ERROR frame) with
 * WRITE WITH IMMEDIATE into those pages. Reads beyond the ring's room wait in a queue.
 *
 * <h2>Failure</h2>
 * An error completion, a failed post or the peer's PATH_DOWN fails the path once: the QP goes to ERR, every
 * transfer on it gets {@code onPathFailure} (the copy driver resumes over QUIC), reads in flight fail, the peer
 * moves to FAILED, the peer is told (PATH_DOWN over QUIC), and the poller drains and tears everything down.
 *
 * <h2>Where each part lives</h2>
 * This class is the per-peer lifecycle (bring-up, failure, teardown) and owns the per-peer native objects. A chunk, from
 * the copy driver ({@code copyShard}) to the receiver's sink, passes, in order:
 * <ol>
 * <li>{@link OutgoingCopies} (ring request, COPY_BEGIN) and {@link OutgoingCopy#sendChunk} (slot of the ring);</li>
 * <li>{@link SendQueue#postLarge} (send slot or backlog, one WRITE WITH IMMEDIATE);</li>
 * <li>on the receiver, its shared {@link CompletionPoller} and {@link ReceiveQueue#onCompletion} (which immediate
 * is it);</li>
 * <li>{@link IncomingCopies#onRingData} (decoded in place in its {@link CopyRing}) and on to the copy receiver,
 * whose ACK goes back through {@link CopyRing.Reply} and {@link OutgoingCopies#onAnswer}.</li>
 * </ol>
 * Reads: {@link ReadChannel} on the reader, {@link ReadServer} on the node that answers.
 */
final class RdmaEndpoint implements PathEndpoint, DataPath {
    static final int CTRL = 4096;
    static final int PAGE = 4096;
    private static final int HDR = FrameCodec.HEADER_SIZE;
    private static final System.Logger LOG = System.getLogger(RdmaEndpoint.class.getName());

    private final RdmaDataPathProvider provider;
    private final PeerContext peer;
    private final ShardlinkConfig config;
    private final RdmaPathOptions opts;
    private final RdmaPathStats stats;
    private final PinnedBudget budget;
    private final String local;
    private final long fixedPinned;
    private final QueuePair qp;
    private final MemoryRegion ctrl;
    private final MemoryRegion replyRing;
    /** Remote write into {@link #replyRing}, for this peer's queue pair only; bound in {@link #connect}. */
    private final MemoryWindow replyWindow;
    private final byte[] localEndpoint;
    private final RdmaEngine engine;
    /** The shared poller this endpoint's queue pair reports to, and the base of its work-request ids. */
    private final RdmaEngine.Membership membership;
    /** Poller thread only: this endpoint had completions in the batch being handled. */
    boolean pollerTouched;

    // ---- the concerns, in the order a chunk meets them: sender, wire, receiver; then reads
    private final OutgoingCopies outgoing;
    private final SendQueue sends;
    private final ReceiveQueue receives;
    private final IncomingCopies incoming;
    /** Confined to the poller thread (see sweepIdleRings). */
    private final RingIdleSweep idleSweep;
    private final ReadChannel reads;
    private final ReadServer readServer;

    // ---- bring-up, failure, close
    private final CompletableFuture<DataPath> connected = new CompletableFuture<>();
    private final Object stateLock = new Object();
    private volatile boolean qpConnected;
    private volatile boolean peerReady;
    /** The reply ring's window is bound: the peer's read answers can land (we send no READ_REQ before). */
    private volatile boolean replyBound;
    private volatile boolean pollerStarted;
    private volatile Throwable failure;
    private volatile long failedAt;
    private volatile boolean closing;
    private final AtomicBoolean tornDown = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile PathMessages.Endpoint remote;

    RdmaEndpoint(RdmaDataPathProvider provider, PeerContext peer) throws RdmaException {
        this.provider = provider;
        this.peer = peer;
        this.config = provider.config();
        this.idleSweep = new RingIdleSweep(config.ringIdleTimeout(), System.nanoTime());
        this.opts = provider.options();
        this.stats = provider.statsRecorder();
        this.budget = provider.budget();
        FrameLimits limits = FrameLimits.of(config.maxSendSize());
        this.local = config.nodeId();
        int sq = config.qpDepth();
        int rq = config.qpDepth();
        long readBytes = opts.readRingBytes() > 0 ? opts.readRingBytes() : 2L * (HDR + config.maxSendSize());
        int npages = PageAllocator.pagesFor(Math.max(readBytes, HDR + (long) config.maxSendSize()), PAGE);
        readBytes = (long) npages * PAGE;
        if (readBytes > Integer.MAX_VALUE - PAGE) {
            throw new IllegalArgumentException("read reply ring of " + readBytes + " bytes is too large");
        }
        long ctrlBytes = (long) (sq + rq) * CTRL;
        this.fixedPinned = ctrlBytes + readBytes;
        if (!budget.tryReserve(fixedPinned)) {
            throw new IllegalStateException("node " + local + "'s pinned-memory budget (" + budget + ") has no room for "
                    + PinnedBudget.mib(fixedPinned) + " of control buffers and read reply ring for another peer");
        }
        this.engine = provider.engine();
        try {
            this.membership = engine.attach(this);
        } catch (RdmaException | RuntimeException e) {
            budget.release(fixedPinned);
            throw e;
        }
        CompletionQueue c = membership.poller().cq();
        QueuePair q = null;
        MemoryRegion m1 = null;
        MemoryRegion m2 = null;
        MemoryWindow w2 = null;
        WorkRequestBatch recvBatch;
        boolean ok = false;
        try {
            q = engine.createQueuePair(provider.pd(), c, sq, rq, config.gidIndex());
            m1 = MemoryRegion.register(provider.pd(), ByteBuffer.allocateDirect((int) ctrlBytes),
                    Access.LOCAL_WRITE.bit());
            m2 = MemoryRegion.register(provider.pd(), ByteBuffer.allocateDirect((int) readBytes),
                    Access.LOCAL_WRITE.bit() | Access.MW_BIND.bit());
            w2 = MemoryWindow.allocate(provider.pd());
            recvBatch = ReceiveQueue.postAll(q, m1, membership.wrBase(), sq, rq);
            this.localEndpoint = PathMessages.endpoint(q.localEndpoint(), m2.address(), w2.rkey(), npages, PAGE);
            ok = true;
        } finally {
            if (!ok) {
                RdmaDataPathProvider.closeQuietly(w2);
                RdmaDataPathProvider.closeQuietly(q);
                RdmaDataPathProvider.closeQuietly(m2);
                RdmaDataPathProvider.closeQuietly(m1);
                engine.detach(this, membership);
                budget.release(fixedPinned);
            }
        }
        this.qp = q;
        this.ctrl = m1;
        this.replyRing = m2;
        this.replyWindow = w2;
        this.outgoing = new OutgoingCopies(this, peer, config);
        this.sends = new SendQueue(this, q, m1, stats, sq, membership.wrBase(), q.maxInline(),
                config.maxSendSize(), engine.options().splitWrites());
        this.receives = new ReceiveQueue(this, m1, stats, limits, membership.wrBase(), sq, rq, recvBatch);
        this.incoming = new IncomingCopies(this, provider, limits);
        this.reads = new ReadChannel(this, m2, npages, limits);
        this.readServer = new ReadServer(this, provider);
        stats.liveRegions.addAndGet(2);
        stats.liveWindows.incrementAndGet();
        stats.liveEndpoints.incrementAndGet();
    }

    // ================================================================== what the parts share

    String peerId() {
        return peer.peerNodeId();
    }

    String local() {
        return local;
    }

    ShardlinkConfig config() {
        return config;
    }

    RdmaDataPathProvider provider() {
        return provider;
    }

    SendQueue sends() {
        return sends;
    }

    OutgoingCopies outgoing() {
        return outgoing;
    }

    IncomingCopies incoming() {
        return incoming;
    }

    /** Revokes receive rings idle past ringIdleTimeout, when a sweep is due (poller thread). */
    void sweepIdleRings(long now) {
        // the poller may see this endpoint while its constructor is still running (it joins the poller first)
        RingIdleSweep sweep = idleSweep;
        IncomingCopies in = incoming;
        if (sweep != null && in != null && sweep.due(now)) {
            in.revokeIdle(sweep, now);
        }
    }

    ReadChannel reads() {
        return reads;
    }

    ReadServer readServer() {
        return readServer;
    }

    /** What this endpoint knows of its peer session (its control stream, its counts). */
    PeerContext peerContext() {
        return peer;
    }

    /** The peer's queue pair and reply ring (null until {@link #connect}). */
    PathMessages.Endpoint remote() {
        return remote;
    }

    Throwable failure() {
        return failure;
    }

    long failedAt() {
        return failedAt;
    }

    boolean isClosing() {
        return closing;
    }

    /** Failed or closing: nothing new goes out, what comes in is dropped. */
    boolean isDown() {
        return failure != null || closing;
    }

    /** True on this endpoint's completion poller thread, which must never wait for a send slot or a buffer. */
    boolean onPoller() {
        return membership.poller().isPollerThread();
    }

    // ================================================================== what the shared poller calls

    long wrBase() {
        return membership.wrBase();
    }

    /** Completion {@code i} of {@code wc}; {@code local}: its work-request id without the endpoint's base. */
    void onCompletion(CompletionBatch wc, int i, long local) {
        if (local < ReceiveQueue.RECV_BASE) {
            sends.onCompletion(wc, i, (int) local, wc.status(i));
        } else {
            receives.onCompletion(wc, i, (int) (local - ReceiveQueue.RECV_BASE));
        }
    }

    /** After a batch of completions: repost the receives it consumed (in one post), unless the path failed. */
    void repostReceives() throws RdmaException {
        if (failure == null && !tornDown.get()) {
            receives.repost(qp);
        }
    }

    /** Every work request of the queue pair has come back (flushed, after a failure). */
    boolean drained() {
        return sends.idle() && receives.posted() == 0;
    }

    boolean isTornDown() {
        return tornDown.get();
    }

    /** Where frames from this peer go: the node's copy receiver and read service. */
    InboundFrames inbound() {
        InboundFrames in = peer.inbound();
        if (in == null) {
            throw new FrameException(ErrorCode.PROTOCOL, "RDMA frame from " + peerId() + " before its HELLO");
        }
        return in;
    }

    // ================================================================== PathEndpoint

    @Override
    public byte[] localEndpoint() {
        return localEndpoint.clone();
    }

    @Override
    public CompletableFuture<DataPath> connect(byte[] remoteEndpoint) {
        try {
            if (closing || failure != null) {
                throw new IllegalStateException("RDMA endpoint to " + peerId() + " is already "
                        + (closing ? "closed" : "failed: " + failure));
            }
            PathMessages.Endpoint e = PathMessages.decodeEndpoint(remoteEndpoint);
            if (e.pageSize() != PAGE) {
                throw new IllegalArgumentException("peer " + peerId() + " uses reply-ring pages of " + e.pageSize()
                        + " bytes, this node " + PAGE);
            }
            remote = e;
            qp.connect(e.qp(), ConnectOptions.defaults().withAccess(Access.REMOTE_WRITE.bit())
                    .withTimeout(opts.qpTimeout()).withRetryCount(opts.retryCount()).withRnrRetry(opts.rnrRetry()));
            qpConnected = true;
            pollerStarted = true; // the shared poller now looks after this endpoint's failure and close
        } catch (Exception | LinkageError e) {
            Throwable cause = new IOException("RDMA bring-up from " + local + " to " + peerId() + ": " + e.getMessage(), e);
            fail(cause, false);
            return CompletableFuture.failedFuture(cause);
        }
        connected.whenComplete((p, err) -> {
            if (err != null) {
                fail(unwrap(err), true);
            }
        });
        // both queue pairs must be ready to receive before either sends, and the peer may write read answers into
        // our reply ring only once its window is bound to this queue pair: tell the peer over the control stream
        sends.postBind(replyWindow, replyRing, replyRing.length()).whenComplete((bound, bindErr) -> {
            if (bindErr != null) {
                fail(new IOException("RDMA bring-up from " + local + " to " + peerId() + ": binding the read reply "
                        + "ring's memory window failed: " + unwrap(bindErr).getMessage(), unwrap(bindErr)), true);
                return;
            }
            replyBound = true;
            maybeConnected();
            peer.controlRequest(PathMessages.pathReady()).whenComplete((answer, err) -> {
                if (err != null) {
                    fail(new IOException("cannot tell " + peerId() + " that the RDMA path is ready: " + unwrap(err)),
                            false);
                }
            });
        });
        maybeConnected();
        return connected;
    }

    private void maybeConnected() {
        if (qpConnected && peerReady && replyBound && failure == null && !closing && connected.complete(this)) {
            LOG.log(System.Logger.Level.DEBUG, () -> local + ": RDMA path to " + peerId() + " connected (qpn "
                    + qp.qpNum() + ")");
        }
    }

    @Override
    public CompletableFuture<byte[]> onControl(byte[] message) {
        PathMessages.Message m;
        try {
            m = PathMessages.decode(message);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(PathMessages.refused(e.getMessage()));
        }
        switch (m.type()) {
            case PathMessages.RING_REQ:
                return incoming.grant(m.request());
            case PathMessages.PATH_READY:
                peerReady = true;
                maybeConnected();
                return CompletableFuture.completedFuture(PathMessages.ok());
            case PathMessages.PATH_DOWN:
                fail(new ShardlinkException("peer " + peerId() + " reports that its RDMA path to " + local
                        + " failed: " + m.text()), false);
                return CompletableFuture.completedFuture(PathMessages.ok());
            default:
                return CompletableFuture.completedFuture(PathMessages.refused("unexpected RDMA control message type "
                        + m.type()));
        }
    }

    // ================================================================== DataPath

    @Override
    public Transport transport() {
        return Transport.RDMA;
    }

    @Override
    public boolean isOpen() {
        return failure == null && !closing && connected.isDone() && !connected.isCompletedExceptionally();
    }

    void checkOpen(String what) throws IOException {
        Throwable f = failure;
        if (f != null) {
            throw new IOException("RDMA path from " + local + " to " + peerId() + " failed (" + f.getMessage()
                    + "); cannot " + what, f);
        }
        if (closing) {
            throw new ShardlinkClosedException("RDMA path from " + local + " to " + peerId() + " is closed; cannot "
                    + what);
        }
        if (!isOpen()) {
            throw new IOException("RDMA path from " + local + " to " + peerId() + " is not connected; cannot " + what);
        }
    }

    @Override
    public TransferChannel openTransfer(TransferSpec spec, TransferListener listener) throws Exception {
        String what = "copy shard " + spec.shardId() + " (transfer " + spec.transferId() + ")";
        checkOpen(what);
        try {
            return outgoing.open(spec, listener, what);
        } catch (IOException | RuntimeException e) {
            // the copy driver fails the path over for this: fail it here too, so that both ends tear it down
            // (and a ring the peer may have granted late is revoked) instead of keeping an unused queue pair
            fail(e, true);
            throw e;
        }
    }

    @Override
    public boolean supportsReads() {
        return true;
    }

    @Override
    public CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset,
                                         int length) {
        return reads.read(requestId, volumeId, needleId, cookie, offset, length);
    }

    Throwable pathDown(String what, Throwable cause) {
        if (cause == null) {
            return new ShardlinkClosedException("RDMA path from " + local + " to " + peerId() + " is closed (" + what
                    + ")");
        }
        return new ShardlinkException("RDMA path from " + local + " to " + peerId() + " failed during " + what + ": "
                + cause.getMessage(), cause);
    }

    // ================================================================== failure and teardown

    /** Fails the path once (see the class comment); {@code notifyPeer}: tell the peer with PATH_DOWN. */
    void fail(Throwable cause, boolean notifyPeer) {
        synchronized (stateLock) {
            if (failure != null || closing) {
                return;
            }
            failure = cause;
            failedAt = System.nanoTime();
        }
        stats.pathFailures.increment();
        LOG.log(System.Logger.Level.WARNING, () -> local + ": RDMA path to " + peerId() + " failed: " + cause);
        try {
            qp.setError();
        } catch (RdmaException | RuntimeException ignored) {
            // already in error, or destroyed
        }
        sends.wakeWaiters();
        outgoing.pathFailed(cause);
        reads.failAll(cause);
        incoming.refuseAll();
        if (!connected.completeExceptionally(cause)) {
            peer.pathFailed(cause);
        }
        if (notifyPeer) {
            try {
                peer.controlRequest(PathMessages.pathDown(local + ": " + cause.getMessage()));
            } catch (RuntimeException ignored) {
                // the control connection is gone too
            }
        }
        if (!pollerStarted) {
            teardown();
        } else {
            membership.poller().attention(this);
        }
    }

    /** The peer connection is closing: stop, revoke every registration, free everything. Idempotent. */
    @Override
    public void close() {
        synchronized (stateLock) {
            if (closing) {
                return;
            }
            closing = true;
        }
        ShardlinkClosedException cause = new ShardlinkClosedException("RDMA path from " + local + " to " + peerId()
                + " closed");
        connected.completeExceptionally(cause);
        outgoing.pathFailed(cause);
        reads.failAll(null);
        try {
            qp.setError();
        } catch (RdmaException | RuntimeException ignored) {
            // already in error, or destroyed
        }
        // the poller tears it down after its current batch (within one poll timeout); bounded here because close()
        // may run on an I/O thread (the provider's close waits for the rest)
        if (pollerStarted) {
            membership.poller().attention(this);
        }
        if (!awaitTerminated(500L + 4L * opts.pollTimeoutMs()) && !onPoller()) {
            teardown(); // safe beside a stuck poller: native objects wait for calls in flight
        }
    }

    /** Waits until the endpoint is torn down (at once if the poller never looked after it); true if it is. */
    boolean awaitTerminated(long millis) {
        if (!pollerStarted) {
            teardown();
            return true;
        }
        if (onPoller()) {
            return tornDown.get();
        }
        try {
            return terminated.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Destroys the queue pair, then frees what it could still touch. Once; by the poller, or by close(). */
    void teardown() {
        if (!tornDown.compareAndSet(false, true)) {
            return;
        }
        SendQueue.Held held = sends.close();
        // first revoke the windows (no more remote writes into our memory; a bound window also keeps its queue pair
        // and region from being destroyed), then the queue pair (no more DMA from our memory)
        incoming.closeAll();
        if (RdmaDataPathProvider.closeQuietly(replyWindow)) {
            stats.liveWindows.decrementAndGet();
        }
        RdmaDataPathProvider.closeQuietly(qp);
        engine.detach(this, membership); // completions of the destroyed queue pair still in the CQ are dropped
        held.release();
        int regions = 0;
        regions += RdmaDataPathProvider.closeQuietly(replyRing) ? 1 : 0;
        regions += RdmaDataPathProvider.closeQuietly(ctrl) ? 1 : 0;
        stats.liveRegions.addAndGet(-regions);
        budget.release(fixedPinned);
        reads.failAll(failure);
        stats.liveEndpoints.decrementAndGet();
        provider.endpointGone(this);
        terminated.countDown();
        LOG.log(System.Logger.Level.DEBUG, () -> local + ": RDMA endpoint to " + peerId() + " torn down");
    }

    Throwable failureOrClosed() {
        Throwable f = failure;
        return f != null ? f : new ShardlinkClosedException("RDMA path from " + local + " to " + peerId() + " closed");
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    @Override
    public String toString() {
        return "RdmaEndpoint{" + local + " -> " + peerId() + ", qpn " + qp + (failure != null ? ", failed" : "")
                + (closing ? ", closed" : "") + "}";
    }
}
