package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.collection.LongObjectHashMap;
import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.api.ShardlinkException;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.rdma.Access;
import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.CompletionQueue;
import io.shardlink.rdma.ConnectOptions;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.Opcode;
import io.shardlink.rdma.QueuePair;
import io.shardlink.rdma.QueuePairOptions;
import io.shardlink.rdma.RdmaException;
import io.shardlink.rdma.WorkRequestBatch;
import io.shardlink.transfer.DataPath;
import io.shardlink.transfer.InboundFrames;
import io.shardlink.transfer.PathDeclinedException;
import io.shardlink.transfer.PathEndpoint;
import io.shardlink.transfer.PeerContext;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.transfer.TransferChannel;
import io.shardlink.transfer.TransferListener;
import io.shardlink.transfer.TransferSpec;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The RDMA path to one peer: one completion queue, one RC queue pair (send and receive depth {@code qpDepth}),
 * a completion poller thread, and the memory the two nodes exchange frames through. Every frame is the
 * {@code io.shardlink.wire} envelope, byte for byte what a QUIC stream carries.
 *
 * <h2>Memory</h2>
 * <ul>
 * <li>Control buffer (LOCAL_WRITE): {@code qpDepth} send slots of {@value #CTRL} bytes (a whole control frame, or
 * the header of a DATA / READ_RESP frame) and {@code qpDepth} receive buffers of {@value #CTRL} bytes (control
 * frames arrive there by SEND; a WRITE WITH IMMEDIATE consumes one without touching it).</li>
 * <li>Receive rings of incoming copies (LOCAL_WRITE | REMOTE_WRITE, never REMOTE_READ): one per transfer,
 * {@code numMemoryRegions} slots of header + {@code maxSendSize} bytes (rounded to 4 KiB), registered when the
 * sender asks for it (RING_REQ on the QUIC control stream) if the pinned budget has room, described to that
 * sender only (RING_GRANT, same stream), and deregistered when the transfer ends (COPY_DONE sent, or the
 * sender's ERROR), or when the path fails or the peer goes away.</li>
 * <li>Reply ring (LOCAL_WRITE | REMOTE_WRITE): {@value #PAGE}-byte pages that answers to our blob reads are
 * written into; described in HELLO; deregistered when the peer goes away.</li>
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
 */
final class RdmaEndpoint implements PathEndpoint, DataPath {
    static final int CTRL = 4096;
    static final int PAGE = 4096;
    private static final int HDR = FrameCodec.HEADER_SIZE;
    private static final long RECV_BASE = 1L << 32;
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(3);
    private static final System.Logger LOG = System.getLogger(RdmaEndpoint.class.getName());

    private final RdmaDataPathProvider provider;
    private final PeerContext peer;
    private final ShardlinkConfig config;
    private final RdmaPathOptions opts;
    private final RdmaPathStats stats;
    private final PinnedBudget budget;
    private final FrameLimits limits;
    private final String local;
    private final int sq;
    private final int rq;
    private final long fixedPinned;
    private final CompletionQueue cq;
    private final QueuePair qp;
    private final MemoryRegion ctrl;
    private final MemoryRegion replyRing;
    private final byte[] localEndpoint;
    private final Thread poller;

    // ---- sending: guarded by sendLock
    private final ReentrantLock sendLock = new ReentrantLock();
    private final Condition slotFreed = sendLock.newCondition();
    private final SendSlot[] slots;
    private final int[] freeSlots;
    private int freeCount;
    private final ArrayDeque<Backlogged> backlog = new ArrayDeque<>();
    private final WorkRequestBatch sendBatch = new WorkRequestBatch(1);
    private boolean sendClosed;

    // ---- receiving: poller thread only
    private final CompletionBatch wc = new CompletionBatch(64);
    private final WorkRequestBatch recvBatch;
    private final int[] repost;
    private int repostCount;
    private int recvPosted;
    private final ByteBuf ctrlView;
    private final ByteBuf replyView;
    private final FrameHeader scratch = new FrameHeader();

    // ---- bring-up, failure, close
    private final CompletableFuture<DataPath> connected = new CompletableFuture<>();
    private final Object stateLock = new Object();
    private volatile boolean qpConnected;
    private volatile boolean peerReady;
    private volatile boolean pollerStarted;
    private volatile Throwable failure;
    private volatile long failedAt;
    private volatile boolean closing;
    private final AtomicBoolean tornDown = new AtomicBoolean();
    private volatile PathMessages.Endpoint remote;

    // ---- incoming copies (this node receives)
    private final Object ringLock = new Object();
    private final AtomicReferenceArray<CopyRing> rings = new AtomicReferenceArray<>(Imm.MAX_RINGS);
    private final ConcurrentHashMap<Long, CopyRing> ringsByTransfer = new ConcurrentHashMap<>();
    private int ringGeneration;
    private int nextRingIndex;
    private boolean ringsClosed;
    private final OrphanReply orphan = new OrphanReply();

    // ---- outgoing copies (this node sends): guarded by itself
    private final LongObjectHashMap<OutgoingCopy> outgoing = new LongObjectHashMap<>();

    // ---- reads (this node reads from the peer): guarded by readLock
    private final Object readLock = new Object();
    private final PageAllocator pages;
    private final PendingRead[] readsByPage;
    private final ArrayDeque<PendingRead> queuedReads = new ArrayDeque<>();
    private final SlotBuf.Owner readOwner = b -> finishRead((PendingRead) b.attachment);
    private final SlotBuf.Owner stagingOwner = b -> ((PooledBuffer) b.attachment).release();

    RdmaEndpoint(RdmaDataPathProvider provider, PeerContext peer) throws RdmaException {
        this.provider = provider;
        this.peer = peer;
        this.config = provider.config();
        this.opts = provider.options();
        this.stats = provider.statsRecorder();
        this.budget = provider.budget();
        this.limits = FrameLimits.of(config.maxSendSize());
        this.local = config.nodeId();
        this.sq = config.qpDepth();
        this.rq = config.qpDepth();
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
        CompletionQueue c = null;
        QueuePair q = null;
        MemoryRegion m1 = null;
        MemoryRegion m2 = null;
        boolean ok = false;
        try {
            c = CompletionQueue.create(provider.device(), sq + rq);
            q = QueuePair.create(provider.pd(), c, c, QueuePairOptions.defaults().withSendDepth(sq).withRecvDepth(rq)
                    .withMaxSge(2).withGidIndex(config.gidIndex()));
            m1 = MemoryRegion.register(provider.pd(), ByteBuffer.allocateDirect((int) ctrlBytes),
                    Access.LOCAL_WRITE.bit());
            m2 = MemoryRegion.register(provider.pd(), ByteBuffer.allocateDirect((int) readBytes),
                    Access.LOCAL_WRITE.bit() | Access.REMOTE_WRITE.bit());
            WorkRequestBatch rb = new WorkRequestBatch(rq);
            for (int i = 0; i < rq; i++) {
                rb.add().recv(RECV_BASE + i, m1, (long) (sq + i) * CTRL, CTRL);
            }
            q.postRecv(rb);
            this.recvBatch = rb;
            this.localEndpoint = PathMessages.endpoint(q.localEndpoint(), m2.address(), m2.rkey(), npages, PAGE);
            ok = true;
        } finally {
            if (!ok) {
                RdmaDataPathProvider.closeQuietly(q);
                RdmaDataPathProvider.closeQuietly(m2);
                RdmaDataPathProvider.closeQuietly(m1);
                RdmaDataPathProvider.closeQuietly(c);
                budget.release(fixedPinned);
            }
        }
        this.cq = c;
        this.qp = q;
        this.ctrl = m1;
        this.replyRing = m2;
        this.recvPosted = rq;
        this.repost = new int[rq];
        this.slots = new SendSlot[sq];
        this.freeSlots = new int[sq];
        for (int i = 0; i < sq; i++) {
            slots[i] = new SendSlot(i, (long) i * CTRL, ctrl.buffer().slice(i * CTRL, CTRL));
            freeSlots[i] = sq - 1 - i;
        }
        this.freeCount = sq;
        this.ctrlView = Unpooled.wrappedBuffer(ctrl.buffer().duplicate().clear());
        this.replyView = Unpooled.wrappedBuffer(replyRing.buffer().duplicate().clear());
        this.pages = new PageAllocator(npages);
        this.readsByPage = new PendingRead[npages];
        this.poller = provider.newPoller(this::pollLoop);
        stats.liveRegions.addAndGet(2);
        stats.liveEndpoints.incrementAndGet();
    }

    private String peerId() {
        return peer.peerNodeId();
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
            pollerStarted = true;
            poller.start();
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
        // both queue pairs must be ready to receive before either sends: tell the peer over the control stream
        peer.controlRequest(PathMessages.pathReady()).whenComplete((answer, err) -> {
            if (err != null) {
                fail(new IOException("cannot tell " + peerId() + " that the RDMA path is ready: " + unwrap(err)), false);
            }
        });
        maybeConnected();
        return connected;
    }

    private void maybeConnected() {
        if (qpConnected && peerReady && failure == null && !closing && connected.complete(this)) {
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
                return CompletableFuture.completedFuture(grantRing(m.request()));
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

    private void checkOpen(String what) throws IOException {
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
            return open(spec, listener, what);
        } catch (IOException | RuntimeException e) {
            // the copy driver fails the path over for this: fail it here too, so that both ends tear it down
            // (and a ring the peer may have granted late is revoked) instead of keeping an unused queue pair
            fail(e, true);
            throw e;
        }
    }

    private TransferChannel open(TransferSpec spec, TransferListener listener, String what) throws Exception {
        byte[] answer;
        try {
            answer = peer.controlRequest(PathMessages.ringRequest(spec.transferId(), spec.shardId(), spec.totalLength(),
                    spec.chunkSize())).get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IOException("RDMA ring request for " + what + " to " + peerId() + " failed: " + e.getCause(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("no answer from " + peerId() + " to the RDMA ring request for " + what + " within "
                    + config.requestTimeout().toMillis() + " ms", e);
        }
        PathMessages.Message m = PathMessages.decode(answer);
        if (m.type() == PathMessages.RING_DECLINE) {
            throw new PathDeclinedException(m.text());
        }
        if (m.type() != PathMessages.RING_GRANT) {
            throw new IOException(peerId() + " refused an RDMA ring for " + what + ": "
                    + (m.type() == PathMessages.REFUSED ? m.text() : "answer of type " + m.type()));
        }
        PathMessages.RingGrant g = m.grant();
        if (g.transferId() != spec.transferId() || g.slots() <= 0 || g.slots() > Imm.MAX_SLOTS
                || g.slotSize() < HDR + spec.chunkSize() || g.ring() >= Imm.MAX_RINGS) {
            throw new IOException(peerId() + " granted an unusable RDMA ring for " + what + ": " + g);
        }
        OutgoingCopy out = new OutgoingCopy(spec, listener, g);
        synchronized (outgoing) {
            outgoing.put(spec.transferId(), out);
        }
        if (failure != null || closing) {
            // fail() may have run before the put and not seen this copy
            out.close(null);
            checkOpen(what);
        }
        FrameHeader begin = new FrameHeader(FrameType.COPY_BEGIN).id(spec.transferId()).object(spec.shardId())
                .aux(spec.totalLength()).offset(spec.startOffset());
        if (spec.resume()) {
            begin.addFlag(FrameHeader.FLAG_RESUME);
        }
        postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_RECEIVER, 0), 0, 0, begin, null);
        return out;
    }

    @Override
    public boolean supportsReads() {
        return true;
    }

    @Override
    public CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long offset, int length) {
        return read(requestId, volumeId, needleId, -1, offset, length);
    }

    @Override
    public CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset,
                                         int length) {
        CompletableFuture<Frame> f = new CompletableFuture<>();
        Throwable fl = failure;
        if (fl != null || closing) {
            f.completeExceptionally(pathDown("read " + requestId, fl));
            return f;
        }
        int n = PageAllocator.pagesFor(HDR + (long) Math.max(0, length), PAGE);
        if (n > pages.pages()) {
            f.completeExceptionally(new IllegalArgumentException("read of " + length + " bytes does not fit the RDMA "
                    + "reply ring of " + pages.pages() + " pages"));
            return f;
        }
        PendingRead pr = new PendingRead(requestId, volumeId, needleId, offset, length, n, f);
        pr.cookie = cookie;
        boolean post = false;
        synchronized (readLock) {
            if (queuedReads.isEmpty()) {
                int p = pages.allocate(n);
                if (p >= 0) {
                    pr.page = p;
                    readsByPage[p] = pr;
                    post = true;
                }
            }
            if (!post) {
                queuedReads.add(pr);
            }
        }
        if (post) {
            postReadRequest(pr);
        }
        return f;
    }

    private void postReadRequest(PendingRead pr) {
        FrameHeader h = new FrameHeader(FrameType.READ_REQ).id(pr.requestId).object(pr.volumeId).aux(pr.needleId)
                .offset(pr.offset).arg(pr.length).cookie(pr.cookie);
        postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_READ_REQ, pr.page), 0, 0, h, null);
    }

    /** The read's pages are free again (answer consumed, or failed): start queued reads that now fit. */
    private void finishRead(PendingRead pr) {
        List<PendingRead> start = null;
        synchronized (readLock) {
            if (pr.page >= 0 && readsByPage[pr.page] == pr) {
                readsByPage[pr.page] = null;
                pages.free(pr.page, pr.pages);
            }
            if (failure == null && !closing) {
                while (!queuedReads.isEmpty()) {
                    PendingRead q = queuedReads.peek();
                    if (q.future.isDone()) {
                        queuedReads.poll();
                        continue;
                    }
                    int p = pages.allocate(q.pages);
                    if (p < 0) {
                        break;
                    }
                    queuedReads.poll();
                    q.page = p;
                    readsByPage[p] = q;
                    if (start == null) {
                        start = new ArrayList<>();
                    }
                    start.add(q);
                }
            }
        }
        if (start != null) {
            for (PendingRead q : start) {
                postReadRequest(q);
            }
        }
    }

    private void failReads(Throwable cause) {
        List<PendingRead> all = new ArrayList<>();
        synchronized (readLock) {
            all.addAll(queuedReads);
            queuedReads.clear();
            for (PendingRead p : readsByPage) {
                if (p != null) {
                    all.add(p);
                }
            }
        }
        for (PendingRead p : all) {
            p.future.completeExceptionally(pathDown("read " + p.requestId, cause));
        }
    }

    private Throwable pathDown(String what, Throwable cause) {
        if (cause == null) {
            return new ShardlinkClosedException("RDMA path from " + local + " to " + peerId() + " is closed (" + what
                    + ")");
        }
        return new ShardlinkException("RDMA path from " + local + " to " + peerId() + " failed during " + what + ": "
                + cause.getMessage(), cause);
    }

    // ================================================================== receive rings (this node receives copies)

    private byte[] grantRing(PathMessages.RingRequest r) {
        if (failure != null || closing) {
            return PathMessages.refused("RDMA path from " + peerId() + " to " + local + " is down");
        }
        if (r.chunkSize() <= 0 || r.chunkSize() > config.maxSendSize()) {
            return PathMessages.refused("chunk size " + r.chunkSize() + " is not in 1.." + config.maxSendSize()
                    + " (maxSendSize of " + local + ")");
        }
        int count = config.numMemoryRegions();
        int slotSize = roundUp(HDR + config.maxSendSize(), PAGE);
        long bytes = (long) count * slotSize;
        synchronized (ringLock) {
            if (ringsClosed) {
                return PathMessages.refused("RDMA path from " + peerId() + " to " + local + " is closed");
            }
            if (ringsByTransfer.containsKey(r.transferId())) {
                return PathMessages.refused("transfer " + r.transferId() + " already has an RDMA ring at " + local);
            }
            if (bytes > Integer.MAX_VALUE || !budget.tryReserve(bytes)) {
                return decline(r, "node " + local + " has no room in its pinned-memory budget (" + budget + ") for a "
                        + PinnedBudget.mib(bytes) + " receive ring (" + count + " x " + slotSize + " bytes)");
            }
            int idx = -1;
            for (int i = 0; i < Imm.MAX_RINGS; i++) {
                int c = (nextRingIndex + i) % Imm.MAX_RINGS;
                if (rings.get(c) == null) {
                    idx = c;
                    break;
                }
            }
            if (idx < 0) {
                budget.release(bytes);
                return decline(r, "node " + local + " already receives " + Imm.MAX_RINGS + " copies from " + peerId()
                        + " over RDMA");
            }
            MemoryRegion mr;
            try {
                mr = MemoryRegion.register(provider.pd(), ByteBuffer.allocateDirect((int) bytes),
                        Access.LOCAL_WRITE.bit() | Access.REMOTE_WRITE.bit());
            } catch (RdmaException | RuntimeException | OutOfMemoryError e) {
                budget.release(bytes);
                return decline(r, "node " + local + " cannot register a " + PinnedBudget.mib(bytes) + " receive ring: "
                        + e.getMessage());
            }
            ringGeneration = (ringGeneration + 1) % Imm.GENERATIONS;
            CopyRing ring = new CopyRing(idx, ringGeneration, r.transferId(), r.shardId(), mr, slotSize, count, bytes);
            rings.set(idx, ring);
            ringsByTransfer.put(r.transferId(), ring);
            nextRingIndex = (idx + 1) % Imm.MAX_RINGS;
            stats.ringsGranted.increment();
            stats.liveRings.incrementAndGet();
            stats.liveRegions.incrementAndGet();
            return PathMessages.ringGrant(new PathMessages.RingGrant(r.transferId(), idx, ring.generation,
                    mr.address(), mr.rkey(), slotSize, count));
        }
    }

    private byte[] decline(PathMessages.RingRequest r, String why) {
        stats.ringsDeclined.increment();
        LOG.log(System.Logger.Level.WARNING, () -> local + ": declining an RDMA ring for transfer " + r.transferId()
                + " (shard " + r.shardId() + ") from " + peerId() + ": " + why + "; that copy goes over QUIC");
        return PathMessages.ringDecline(r.transferId(), why);
    }

    /** Revokes remote access to a ring (deregisters it) and returns its memory to the budget. Once. */
    private void releaseRing(CopyRing ring) {
        if (!ring.released.compareAndSet(false, true)) {
            return;
        }
        synchronized (ringLock) {
            rings.compareAndSet(ring.index, ring, null);
            ringsByTransfer.remove(ring.transferId, ring);
        }
        if (RdmaDataPathProvider.closeQuietly(ring.mr)) {
            stats.liveRegions.decrementAndGet();
        }
        budget.release(ring.bytes);
        stats.liveRings.decrementAndGet();
    }

    /** Live receive rings (tests). */
    int liveRings() {
        return ringsByTransfer.size();
    }

    private static int roundUp(int v, int to) {
        return (v + to - 1) / to * to;
    }

    // ================================================================== sending

    /** A send-queue slot: its part of the control buffer, and what the work request in it holds on to. */
    private static final class SendSlot {
        final int index;
        final long offset;
        final ByteBuffer area;
        final FrameHeader header = new FrameHeader();
        PooledBuffer pooled;
        ByteBuf payload;
        int kind;
        long what;

        SendSlot(int index, long offset, ByteBuffer area) {
            this.index = index;
            this.offset = offset;
            this.area = area;
        }
    }

    private static final int K_CONTROL = 0;
    private static final int K_DATA = 1;
    private static final int K_READ_REPLY = 2;

    /** A send that found no free slot (only then is anything allocated); posted as completions free slots. */
    private record Backlogged(int opcode, int imm, long remoteAddr, int rkey, byte[] head, MemoryRegion payloadMr,
                              int payloadLen, PooledBuffer pooled, ByteBuf payload, int kind) {}

    /**
     * Posts a small frame (header + payload, at most {@value #CTRL} bytes) from a send slot. Never waits: with no
     * free slot it is queued and posted by the poller when one frees. Dropped once the path is torn down.
     */
    private void postSmall(int opcode, int imm, long raddr, int rkey, FrameHeader h, byte[] payload) {
        int plen = payload == null ? 0 : payload.length;
        h.length(plen).crc32c(plen == 0 ? 0 : FrameCodec.crc32c(ByteBuffer.wrap(payload)));
        Throwable postError = null;
        sendLock.lock();
        try {
            if (sendClosed) {
                return;
            }
            if (freeCount > 0) {
                SendSlot s = slots[freeSlots[--freeCount]];
                ByteBuffer a = s.area.clear();
                FrameCodec.encodeHeader(h, a);
                if (plen > 0) {
                    a.put(payload);
                }
                s.kind = opcode == Opcode.WRITE_IMM ? K_READ_REPLY : K_CONTROL;
                s.what = h.id();
                postError = post(s, opcode, imm, raddr, rkey, HDR + plen, null, 0);
            } else {
                ByteBuffer b = ByteBuffer.allocate(HDR + plen);
                FrameCodec.encodeHeader(h, b);
                if (plen > 0) {
                    b.put(payload);
                }
                backlog.add(new Backlogged(opcode, imm, raddr, rkey, b.array(), null, 0, null, null,
                        opcode == Opcode.WRITE_IMM ? K_READ_REPLY : K_CONTROL));
                stats.sendBacklogged.increment();
            }
        } finally {
            sendLock.unlock();
        }
        if (postError != null) {
            fail(postError, true);
        }
    }

    /**
     * Posts header + registered payload (DATA, READ_RESP) from a send slot; waits for a free slot unless called on
     * the poller. The payload's owner ({@code pooled} or {@code payload}) is released when the work request
     * completes, or now if it cannot be posted. Returns false if it was not posted (path failed or closed).
     */
    private boolean postLarge(int opcode, int imm, long raddr, int rkey, FrameHeader h, MemoryRegion payloadMr,
                              int plen, PooledBuffer pooled, ByteBuf payload, int kind) {
        Throwable postError = null;
        boolean posted = false;
        sendLock.lock();
        try {
            if (freeCount == 0 && Thread.currentThread() == poller && !sendClosed) {
                ByteBuffer b = ByteBuffer.allocate(HDR);
                FrameCodec.encodeHeader(h, b);
                backlog.add(new Backlogged(opcode, imm, raddr, rkey, b.array(), payloadMr, plen, pooled, payload, kind));
                stats.sendBacklogged.increment();
                return true;
            }
            long left = config.requestTimeout().toNanos();
            while (freeCount == 0 && !sendClosed && failure == null && left > 0) {
                try {
                    left = slotFreed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (freeCount > 0 && !sendClosed && failure == null) {
                SendSlot s = slots[freeSlots[--freeCount]];
                FrameCodec.encodeHeader(h, s.area.clear());
                s.pooled = pooled;
                s.payload = payload;
                s.kind = kind;
                s.what = h.offset();
                postError = post(s, opcode, imm, raddr, rkey, HDR, payloadMr, plen);
                posted = postError == null;
                pooled = null;
                payload = null;
            } else if (freeCount == 0 && !sendClosed && failure == null) {
                postError = new IOException("no free RDMA send slot towards " + peerId() + " within "
                        + config.requestTimeout().toMillis() + " ms (" + sq + " work requests outstanding)");
            }
        } finally {
            sendLock.unlock();
        }
        if (pooled != null) {
            pooled.release();
        }
        if (payload != null) {
            payload.release();
        }
        if (postError != null) {
            fail(postError, true);
        }
        return posted;
    }

    /** Posts one work request from slot {@code s} (sendLock held); on failure frees the slot and returns why. */
    private Throwable post(SendSlot s, int opcode, int imm, long raddr, int rkey, int headLen, MemoryRegion payloadMr,
                           int plen) {
        try {
            sendBatch.clear();
            WorkRequestBatch.Slot w = sendBatch.add();
            if (opcode == Opcode.SEND_IMM) {
                w.sendImm(s.index, ctrl, s.offset, headLen, imm);
            } else {
                w.writeImm(s.index, ctrl, s.offset, headLen, raddr, rkey, imm);
            }
            if (plen > 0) {
                w.sge(payloadMr, 0, plen);
            }
            qp.post(sendBatch);
            if (opcode == Opcode.SEND_IMM) {
                stats.sendsPosted.increment();
                stats.sendBytes.add(headLen + plen);
            } else {
                stats.writesPosted.increment();
                stats.writeBytes.add(headLen + plen);
            }
            return null;
        } catch (RdmaException | RuntimeException e) {
            if (s.pooled != null) {
                s.pooled.release();
                s.pooled = null;
            }
            if (s.payload != null) {
                s.payload.release();
                s.payload = null;
            }
            freeSlots[freeCount++] = s.index;
            slotFreed.signal();
            return new IOException("posting " + Opcode.name(opcode) + " to " + peerId() + " failed: " + e.getMessage(), e);
        }
    }

    private void onSendCompletion(int i, int slotIndex, int status) {
        PooledBuffer pb;
        ByteBuf bb;
        int kind;
        long what;
        Throwable postError = null;
        sendLock.lock();
        try {
            SendSlot s = slots[slotIndex];
            pb = s.pooled;
            bb = s.payload;
            kind = s.kind;
            what = s.what;
            s.pooled = null;
            s.payload = null;
            Backlogged next = failure == null && !sendClosed ? backlog.poll() : null;
            if (next != null) {
                s.area.clear().put(next.head());
                s.pooled = next.pooled();
                s.payload = next.payload();
                s.kind = next.kind();
                postError = post(s, next.opcode(), next.imm(), next.remoteAddr(), next.rkey(), next.head().length,
                        next.payloadMr(), next.payloadLen());
            } else {
                freeSlots[freeCount++] = slotIndex;
                slotFreed.signal();
            }
        } finally {
            sendLock.unlock();
        }
        if (pb != null) {
            pb.release();
        }
        if (bb != null) {
            bb.release();
        }
        if (status == CompletionBatch.STATUS_SUCCESS) {
            stats.okCompletions.increment();
        } else if (status == CompletionBatch.STATUS_FLUSH_ERROR && (failure != null || closing)) {
            stats.flushedCompletions.increment();
        } else {
            String text = wc.statusText(i);
            stats.error(text);
            fail(new IOException("RDMA " + (kind == K_DATA ? "WRITE of the chunk at offset " + what
                    : kind == K_READ_REPLY ? "WRITE of a read answer" : "SEND of a control frame") + " from " + local
                    + " to " + peerId() + " failed: status " + status + " (" + text + ")"
                    + hint(status), null), true);
        }
        if (postError != null) {
            fail(postError, true);
        }
    }

    /** What an error completion usually means, for the person reading the failure. */
    private static String hint(int status) {
        return switch (status) {
            case 12 -> ": the link or the peer is gone (no ACK within the QP's timeout and retries)";
            case 10 -> ": the peer no longer exposes that memory (its process ended, or it revoked the ring)";
            case 13 -> ": the peer had no receive posted (receiver not ready, retries exhausted)";
            case 2 -> ": the local port or link is down";
            default -> "";
        };
    }

    private static byte[] errorText(String message, int maxBytes) {
        String m = message == null ? "" : message;
        if (m.length() > 1000) {
            m = m.substring(0, 997) + "...";
        }
        byte[] b = m.getBytes(StandardCharsets.UTF_8);
        if (b.length > maxBytes) {
            b = new String(b, 0, Math.max(0, maxBytes - 6), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8);
            if (b.length > maxBytes) {
                b = java.util.Arrays.copyOf(b, maxBytes);
            }
        }
        return b;
    }

    private void sendErrorFrame(int kind, long id, long offset, FrameException error) {
        FrameHeader h = new FrameHeader(FrameType.ERROR).id(id).offset(offset).arg(error.code().code());
        postSmall(Opcode.SEND_IMM, Imm.send(kind, 0), 0, 0, h, errorText(error.getMessage(), CTRL - HDR));
    }

    // ================================================================== the completion poller

    private void pollLoop() {
        stats.livePollers.incrementAndGet();
        try {
            while (!closing) {
                int n;
                try {
                    n = cq.pollWait(wc, opts.pollTimeoutMs());
                } catch (IllegalStateException e) {
                    break; // torn down under us by close()
                }
                for (int i = 0; i < n; i++) {
                    try {
                        onCompletion(i);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, local + ": handling an RDMA completion from " + peerId()
                                + " failed", e);
                        fail(e, true);
                    }
                }
                if (failure == null) {
                    repostReceives();
                } else if (drained() || System.nanoTime() - failedAt > DRAIN_NANOS) {
                    break;
                }
            }
        } catch (Throwable t) {
            if (!closing) {
                fail(t, true);
            }
        } finally {
            teardown();
            stats.livePollers.decrementAndGet();
        }
    }

    private boolean drained() {
        sendLock.lock();
        try {
            return freeCount == sq && recvPosted == 0;
        } finally {
            sendLock.unlock();
        }
    }

    private void repostReceives() throws RdmaException {
        if (repostCount == 0) {
            return;
        }
        recvBatch.clear();
        for (int k = 0; k < repostCount; k++) {
            int r = repost[k];
            recvBatch.add().recv(RECV_BASE + r, ctrl, (long) (sq + r) * CTRL, CTRL);
        }
        qp.postRecv(recvBatch);
        recvPosted += repostCount;
        repostCount = 0;
    }

    private void onCompletion(int i) {
        long id = wc.wrId(i);
        int status = wc.status(i);
        if (id < RECV_BASE) {
            onSendCompletion(i, (int) id, status);
            return;
        }
        recvPosted--;
        int r = (int) (id - RECV_BASE);
        if (status != CompletionBatch.STATUS_SUCCESS) {
            if (status == CompletionBatch.STATUS_FLUSH_ERROR && (failure != null || closing)) {
                stats.flushedCompletions.increment();
            } else {
                String text = wc.statusText(i);
                stats.error(text);
                fail(new IOException("RDMA receive from " + peerId() + " at " + local + " failed: status " + status
                        + " (" + text + ")"), true);
            }
            return;
        }
        stats.okCompletions.increment();
        stats.recvCompletions.increment();
        int len = wc.byteLen(i);
        stats.recvBytes.add(len);
        if (failure == null && !closing) {
            try {
                if (wc.opcode(i) == Opcode.RECV_IMM) {
                    int imm = wc.imm(i);
                    if (Imm.kind(imm) == Imm.W_COPY_DATA) {
                        onRingData(imm, len);
                    } else if (Imm.kind(imm) == Imm.W_READ_REPLY) {
                        onReadReply(Imm.page(imm), len);
                    } else {
                        throw new FrameException(ErrorCode.PROTOCOL, "RDMA WRITE with unknown immediate 0x"
                                + Integer.toHexString(imm));
                    }
                } else if (!wc.hasImm(i)) {
                    throw new FrameException(ErrorCode.PROTOCOL, "RDMA SEND without immediate");
                } else {
                    onReceivedFrame(r, len, wc.imm(i));
                }
            } catch (FrameException e) {
                LOG.log(System.Logger.Level.WARNING, () -> local + ": dropped a malformed RDMA message from "
                        + peerId() + ": " + e.getMessage());
            }
        }
        repost[repostCount++] = r;
    }

    /** A frame that came by SEND into receive buffer {@code r}. */
    private void onReceivedFrame(int r, int len, int imm) {
        int off = (sq + r) * CTRL;
        ctrlView.setIndex(off, off + len);
        FrameCodec.decodeHeader(ctrlView, scratch, limits);
        if (scratch.length() > ctrlView.readableBytes()) {
            throw new FrameException(ErrorCode.TRUNCATED, scratch.type() + " frame announces " + scratch.length()
                    + " payload bytes, the RDMA message has " + ctrlView.readableBytes());
        }
        switch (Imm.kind(imm)) {
            case Imm.S_TO_SENDER -> onAnswer(scratch, ctrlView);
            case Imm.S_TO_RECEIVER -> onCopyControl(copyFrame(scratch, ctrlView));
            case Imm.S_READ_REQ -> onReadRequest(copyFrame(scratch, ctrlView), Imm.page(imm));
            default -> throw new FrameException(ErrorCode.PROTOCOL, "RDMA SEND with unknown immediate 0x"
                    + Integer.toHexString(imm));
        }
    }

    private static Frame copyFrame(FrameHeader h, ByteBuf payloadAt) {
        FrameHeader copy = new FrameHeader().copyFrom(h);
        ByteBuf payload = h.length() == 0 ? Unpooled.EMPTY_BUFFER
                : Unpooled.copiedBuffer(payloadAt.slice(payloadAt.readerIndex(), h.length()));
        return new Frame(copy, payload);
    }

    /** ACK / COPY_DONE / ERROR from the receiver of one of our copies (no allocation for ACK and COPY_DONE). */
    private void onAnswer(FrameHeader h, ByteBuf payload) {
        OutgoingCopy o;
        synchronized (outgoing) {
            o = outgoing.get(h.id());
        }
        if (o == null) {
            return; // the channel is closed: a late answer
        }
        switch (h.type()) {
            case ACK -> o.onAck(h.offset(), h.credits());
            case COPY_DONE -> o.listener.onDone(h.totalLength());
            case ERROR -> o.listener.onRejected(new FrameException(h.errorCode(),
                    payload.toString(payload.readerIndex(), h.length(), StandardCharsets.UTF_8)));
            default -> o.listener.onRejected(new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type()
                    + " from the receiver of transfer " + h.id() + " (" + peerId() + ", RDMA)"));
        }
    }

    private InboundFrames inbound() {
        InboundFrames in = peer.inbound();
        if (in == null) {
            throw new FrameException(ErrorCode.PROTOCOL, "RDMA frame from " + peerId() + " before its HELLO");
        }
        return in;
    }

    /** COPY_BEGIN / COPY_END / the sender's ERROR, for a copy this node receives. */
    private void onCopyControl(Frame f) {
        FrameHeader h = f.header();
        CopyRing ring = ringsByTransfer.get(h.id());
        switch (h.type()) {
            case COPY_BEGIN -> {
                if (ring == null) {
                    f.release();
                    orphan.sendError(h.id(), 0, new FrameException(ErrorCode.PROTOCOL, "COPY_BEGIN of transfer "
                            + h.id() + " from " + peerId() + " without an RDMA ring granted by " + local), true);
                    return;
                }
                inbound().onFrame(f, ring.reply);
            }
            case COPY_END -> inbound().onFrame(f, ring != null ? ring.reply : orphan);
            case ERROR -> {
                // the sender gave the copy up: it writes nothing more into the ring (RC order), so revoke it
                inbound().onFrame(f, ring != null ? ring.reply : orphan);
                if (ring != null) {
                    releaseRing(ring);
                }
            }
            default -> {
                long id = h.id();
                FrameType t = h.type();
                f.release();
                orphan.sendError(id, 0, new FrameException(ErrorCode.PROTOCOL, "unexpected " + t
                        + " for the receiving side of a copy (RDMA, from " + peerId() + ")"), false);
            }
        }
    }

    /** A DATA frame written into slot {@code s} of ring {@code r}: decoded in place, handed on without a copy. */
    private void onRingData(int imm, int len) {
        CopyRing ring = rings.get(Imm.ring(imm));
        int s = Imm.slot(imm);
        if (ring == null || ring.generation != Imm.generation(imm) || s >= ring.count || ring.released.get()) {
            throw new FrameException(ErrorCode.PROTOCOL, "RDMA WRITE into ring " + Imm.ring(imm) + " generation "
                    + Imm.generation(imm) + " slot " + s + ", which is not live");
        }
        if (ring.closing) {
            return; // the receiver refused the transfer: drop until the sender stops
        }
        int off = s * ring.slotSize;
        FrameHeader h = new FrameHeader();
        try {
            if (len > ring.slotSize) {
                throw new FrameException(ErrorCode.TOO_LARGE, "RDMA WRITE of " + len + " bytes into a slot of "
                        + ring.slotSize);
            }
            ring.view.setIndex(off, off + len);
            FrameCodec.decodeHeader(ring.view, h, limits);
            if (h.type() != FrameType.DATA || h.id() != ring.transferId) {
                throw new FrameException(ErrorCode.PROTOCOL, h.type() + " for transfer " + h.id() + " in the RDMA ring"
                        + " of transfer " + ring.transferId);
            }
            if (h.length() > len - HDR) {
                throw new FrameException(ErrorCode.TRUNCATED, "DATA frame announces " + h.length() + " bytes, the "
                        + "RDMA WRITE carried " + (len - HDR));
            }
        } catch (FrameException e) {
            ring.closing = true;
            ByteBuf msg = Unpooled.copiedBuffer(e.getMessage(), StandardCharsets.UTF_8);
            inbound().onFrame(new Frame(new FrameHeader(FrameType.ERROR).id(ring.transferId).arg(e.code().code())
                    .length(msg.readableBytes()), msg), ring.reply);
            ring.reply.sendError(ring.transferId, h.offset(), e, true);
            return;
        }
        ByteBuffer payload = ring.memory.slice(off + HDR, h.length());
        inbound().onFrame(new Frame(h, new SlotBuf(payload, b -> { }, s, ring)), ring.reply);
    }

    /** A READ_REQ from the peer whose answer goes to {@code page} of its reply ring. */
    private void onReadRequest(Frame f, int page) {
        FrameHeader h = f.header();
        PathMessages.Endpoint r = remote;
        int need = PageAllocator.pagesFor(HDR + (long) Math.max(0, Math.min(h.requestedLength(), config.maxSendSize())),
                PAGE);
        if (h.type() != FrameType.READ_REQ || r == null || page < 0 || (long) page + need > r.replyRingPages()) {
            f.release();
            throw new FrameException(ErrorCode.PROTOCOL, "bad RDMA read request " + h + " for page " + page
                    + " of a " + (r == null ? 0 : r.replyRingPages()) + "-page reply ring");
        }
        inbound().onFrame(f, new ReadReply(page, need * PAGE));
    }

    /** READ_RESP or ERROR written to {@code page} of our reply ring. */
    private void onReadReply(int page, int len) {
        PendingRead pr;
        synchronized (readLock) {
            pr = page < readsByPage.length ? readsByPage[page] : null;
        }
        if (pr == null) {
            throw new FrameException(ErrorCode.PROTOCOL, "RDMA read answer at page " + page + " where no read waits");
        }
        int off = page * PAGE;
        FrameHeader h = new FrameHeader();
        try {
            if (len < HDR || len > pr.pages * PAGE) {
                throw new FrameException(ErrorCode.PROTOCOL, "RDMA read answer of " + len + " bytes for a "
                        + pr.pages * PAGE + "-byte reply slot");
            }
            replyView.setIndex(off, off + len);
            FrameCodec.decodeHeader(replyView, h, limits);
            if (h.id() != pr.requestId) {
                throw new FrameException(ErrorCode.PROTOCOL, "RDMA read answer for request " + h.id()
                        + " in the reply slot of request " + pr.requestId);
            }
            if (h.length() > len - HDR) {
                throw new FrameException(ErrorCode.TRUNCATED, h.type() + " announces " + h.length() + " bytes, the "
                        + "RDMA WRITE carried " + (len - HDR));
            }
        } catch (FrameException e) {
            pr.future.completeExceptionally(e);
            finishRead(pr);
            return;
        }
        switch (h.type()) {
            case READ_RESP -> {
                Frame f = new Frame(h, new SlotBuf(replyRing.buffer().slice(off + HDR, h.length()), readOwner, page,
                        pr));
                if (!pr.future.complete(f)) {
                    f.release(); // timed out or cancelled meanwhile
                }
            }
            case ERROR -> {
                String msg = replyView.toString(replyView.readerIndex(), h.length(), StandardCharsets.UTF_8);
                pr.future.completeExceptionally(new FrameException(h.errorCode(), msg));
                finishRead(pr);
            }
            default -> {
                pr.future.completeExceptionally(new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type()
                        + " in answer to read " + pr.requestId));
                finishRead(pr);
            }
        }
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
        sendLock.lock();
        try {
            slotFreed.signalAll();
        } finally {
            sendLock.unlock();
        }
        for (OutgoingCopy o : outgoingCopies()) {
            o.pathFailed(cause);
        }
        failReads(cause);
        for (CopyRing ring : ringsByTransfer.values()) {
            ring.closing = true;
        }
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
        }
    }

    private List<OutgoingCopy> outgoingCopies() {
        synchronized (outgoing) {
            return new ArrayList<>(outgoing.values());
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
        for (OutgoingCopy o : outgoingCopies()) {
            o.pathFailed(cause);
        }
        failReads(null);
        try {
            qp.setError();
        } catch (RdmaException | RuntimeException ignored) {
            // already in error, or destroyed
        }
        // the poller sees `closing` within one poll timeout and tears down; bounded here because close() may run on
        // an I/O thread (the provider's close waits for the rest)
        if (!awaitTerminated(500L + 4L * opts.pollTimeoutMs()) && Thread.currentThread() != poller) {
            teardown(); // safe beside a stuck poller: native objects wait for calls in flight
        }
    }

    /** Waits until the poller has ended (or never started); true if it has. */
    boolean awaitTerminated(long millis) {
        if (!pollerStarted) {
            teardown();
            return true;
        }
        if (Thread.currentThread() == poller) {
            return false;
        }
        try {
            poller.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !poller.isAlive();
    }

    private void teardown() {
        if (!tornDown.compareAndSet(false, true)) {
            return;
        }
        List<PooledBuffer> pooled = new ArrayList<>();
        List<ByteBuf> bufs = new ArrayList<>();
        sendLock.lock();
        try {
            sendClosed = true;
            for (SendSlot s : slots) {
                if (s.pooled != null) {
                    pooled.add(s.pooled);
                    s.pooled = null;
                }
                if (s.payload != null) {
                    bufs.add(s.payload);
                    s.payload = null;
                }
            }
            for (Backlogged b : backlog) {
                if (b.pooled() != null) {
                    pooled.add(b.pooled());
                }
                if (b.payload() != null) {
                    bufs.add(b.payload());
                }
            }
            backlog.clear();
            slotFreed.signalAll();
        } finally {
            sendLock.unlock();
        }
        RdmaDataPathProvider.closeQuietly(qp); // first: no more DMA from or into our memory
        for (PooledBuffer p : pooled) {
            p.release();
        }
        for (ByteBuf b : bufs) {
            b.release();
        }
        List<CopyRing> all;
        synchronized (ringLock) {
            ringsClosed = true;
            all = new ArrayList<>(ringsByTransfer.values());
        }
        for (CopyRing ring : all) {
            releaseRing(ring);
        }
        int regions = 0;
        regions += RdmaDataPathProvider.closeQuietly(replyRing) ? 1 : 0;
        regions += RdmaDataPathProvider.closeQuietly(ctrl) ? 1 : 0;
        stats.liveRegions.addAndGet(-regions);
        RdmaDataPathProvider.closeQuietly(cq);
        budget.release(fixedPinned);
        failReads(failure);
        stats.liveEndpoints.decrementAndGet();
        provider.endpointGone(this);
        LOG.log(System.Logger.Level.DEBUG, () -> local + ": RDMA endpoint to " + peerId() + " torn down");
    }

    private Throwable failureOrClosed() {
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

    // ================================================================== per-transfer and per-read state

    /** The receive ring of one incoming copy. */
    private final class CopyRing {
        final int index;
        final int generation;
        final long transferId;
        final long shardId;
        final MemoryRegion mr;
        final ByteBuffer memory;
        final int slotSize;
        final int count;
        final long bytes;
        final ByteBuf view;
        final RingReply reply = new RingReply(this);
        final AtomicBoolean released = new AtomicBoolean();
        volatile boolean closing;

        CopyRing(int index, int generation, long transferId, long shardId, MemoryRegion mr, int slotSize, int count,
                 long bytes) {
            this.index = index;
            this.generation = generation;
            this.transferId = transferId;
            this.shardId = shardId;
            this.mr = mr;
            this.memory = mr.buffer();
            this.slotSize = slotSize;
            this.count = count;
            this.bytes = bytes;
            this.view = Unpooled.wrappedBuffer(memory.duplicate().clear());
        }
    }

    /** Where the copy receiver answers frames of one incoming copy: SEND to the sender. */
    private final class RingReply implements ReplyChannel {
        private final CopyRing ring;

        RingReply(CopyRing ring) {
            this.ring = ring;
        }

        @Override
        public void send(FrameHeader header, ByteBuf payload) {
            if (payload != null) {
                payload.release(); // ACK and COPY_DONE have none
            }
            postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_SENDER, 0), 0, 0, header, null);
            if (header.type() == FrameType.COPY_DONE) {
                releaseRing(ring); // every chunk was acknowledged before COPY_END: nothing more is written into it
            }
        }

        @Override
        public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
            if (closeAfter) {
                ring.closing = true; // revoked when the sender answers (its ERROR), or when the path goes
            }
            sendErrorFrame(Imm.S_TO_SENDER, id, offset, error);
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public String describe() {
            return "RDMA ring " + ring.index + " of transfer " + ring.transferId + " from " + peerId();
        }
    }

    /** Answers about copies this node has no ring for. */
    private final class OrphanReply implements ReplyChannel {
        @Override
        public void send(FrameHeader header, ByteBuf payload) {
            if (payload != null) {
                payload.release();
            }
            postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_SENDER, 0), 0, 0, header, null);
        }

        @Override
        public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
            sendErrorFrame(Imm.S_TO_SENDER, id, offset, error);
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public String describe() {
            return "RDMA control messages from " + peerId();
        }
    }

    /** Answers one READ_REQ: WRITE WITH IMMEDIATE into the reader's reply pages. */
    private final class ReadReply implements ReplyChannel {
        private final int page;
        private final int capacity;

        ReadReply(int page, int capacity) {
            this.page = page;
            this.capacity = capacity;
        }

        @Override
        public ByteBuf payloadBuffer(int cap) {
            if (Thread.currentThread() == poller || cap > config.maxSendSize()) {
                return null;
            }
            PooledBuffer pb = provider.stagingBuffer(config.requestTimeout().toMillis());
            if (pb == null) {
                return null;
            }
            return new SlotBuf(pb.buffer().duplicate().clear().slice(0, cap), stagingOwner, 0, pb);
        }

        @Override
        public void send(FrameHeader h, ByteBuf payload) {
            int n = h.length();
            PathMessages.Endpoint r = remote;
            long raddr = r.replyRingAddress() + (long) page * PAGE;
            if (HDR + n > capacity) {
                if (payload != null) {
                    payload.release();
                }
                sendError(h.id(), h.offset(), new FrameException(ErrorCode.TOO_LARGE, "read answer of " + n
                        + " bytes does not fit the " + (capacity - HDR) + " bytes the reader made room for"), true);
                return;
            }
            if (n == 0 || payload == null) {
                if (payload != null) {
                    payload.release();
                }
                postSmall(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h.length(0).crc32c(0), null);
                return;
            }
            if (payload instanceof SlotBuf sb && sb.attachment instanceof PooledBuffer pb) {
                MemoryRegion mr = provider.region(pb.registration());
                if (mr != null) {
                    postLarge(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h, mr, n, null, payload,
                            K_READ_REPLY);
                    return;
                }
            }
            // not registered memory: stage it (one copy)
            PooledBuffer pb = Thread.currentThread() == poller ? null
                    : provider.stagingBuffer(config.requestTimeout().toMillis());
            MemoryRegion mr = pb == null ? null : provider.region(pb.registration());
            if (mr == null) {
                if (pb != null) {
                    pb.release();
                }
                payload.release();
                sendError(h.id(), h.offset(), new FrameException(ErrorCode.INTERNAL, local + " has no registered "
                        + "buffer free to answer the read over RDMA"), true);
                return;
            }
            payload.getBytes(payload.readerIndex(), pb.buffer().duplicate().clear().limit(n));
            payload.release();
            postLarge(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h, mr, n, pb, null,
                    K_READ_REPLY);
        }

        @Override
        public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
            PathMessages.Endpoint r = remote;
            FrameHeader h = new FrameHeader(FrameType.ERROR).id(id).offset(offset).arg(error.code().code());
            postSmall(Opcode.WRITE_IMM, Imm.readReply(page), r.replyRingAddress() + (long) page * PAGE,
                    r.replyRingRkey(), h, errorText(error.getMessage(), Math.min(capacity, CTRL) - HDR));
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public String describe() {
            return "RDMA read reply at page " + page + " of " + peerId() + "'s reply ring";
        }
    }

    /** One of our reads: its pages in the reply ring (page = -1 while queued). */
    private static final class PendingRead {
        final long requestId;
        final long volumeId;
        final long needleId;
        final long offset;
        final int length;
        final int pages;
        final CompletableFuture<Frame> future;
        int page = -1;
        /** The blob's cookie for the READ_REQ (negative = none); set before the read is published. */
        long cookie = -1;

        PendingRead(long requestId, long volumeId, long needleId, long offset, int length, int pages,
                    CompletableFuture<Frame> future) {
            this.requestId = requestId;
            this.volumeId = volumeId;
            this.needleId = needleId;
            this.offset = offset;
            this.length = length;
            this.pages = pages;
            this.future = future;
        }
    }

    /** The sending end of one copy over this path: chunks go into the receiver's ring, slot after slot. */
    private final class OutgoingCopy implements TransferChannel {
        final TransferSpec spec;
        final TransferListener listener;
        final PathMessages.RingGrant ring;
        /** Shard offset just past the chunk last written into each slot: the slot is free once acked past it. */
        private final long[] slotEnd;
        private long seq;
        private long acked;
        private final AtomicBoolean closed = new AtomicBoolean();

        OutgoingCopy(TransferSpec spec, TransferListener listener, PathMessages.RingGrant ring) {
            this.spec = spec;
            this.listener = listener;
            this.ring = ring;
            this.slotEnd = new long[ring.slots()];
            this.acked = spec.startOffset();
        }

        @Override
        public void sendChunk(long offset, PooledBuffer buffer, int length, int crc32c, boolean last) {
            if (closed.get()) {
                buffer.release();
                throw new IllegalStateException("RDMA transfer channel of " + spec + " is closed");
            }
            Throwable f = failure;
            if (f != null || closing) {
                buffer.release();
                listener.onPathFailure(f != null ? f : new ShardlinkClosedException("RDMA path to " + peerId()
                        + " closed"));
                return;
            }
            int s = (int) (seq % ring.slots());
            synchronized (this) {
                // the copy driver's window keeps this from waiting; it is the ring's own guard against overwriting
                // a slot whose chunk the receiver has not consumed
                long deadline = System.nanoTime() + config.requestTimeout().toNanos();
                while (slotEnd[s] > acked && failure == null && !closed.get()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        buffer.release();
                        fail(new IOException("RDMA ring slot " + s + " of transfer " + spec.transferId() + " at "
                                + peerId() + " not acknowledged within " + config.requestTimeout().toMillis() + " ms"),
                                true);
                        listener.onPathFailure(failureOrClosed());
                        return;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        buffer.release();
                        listener.onPathFailure(e);
                        return;
                    }
                }
                slotEnd[s] = offset + length;
                seq++;
            }
            MemoryRegion mr = provider.region(buffer.registration());
            if (mr == null) {
                buffer.release();
                fail(new IllegalStateException("chunk buffer " + buffer + " is not registered with the RDMA path"),
                        true);
                listener.onPathFailure(failureOrClosed());
                return;
            }
            FrameHeader h = new FrameHeader(FrameType.DATA).id(spec.transferId()).object(spec.shardId()).offset(offset)
                    .length(length).crc32c(crc32c);
            if (last) {
                h.addFlag(FrameHeader.FLAG_LAST);
            }
            if (!postLarge(Opcode.WRITE_IMM, Imm.copyData(ring.ring(), ring.generation(), s), ring.address()
                    + (long) s * ring.slotSize(), ring.rkey(), h, mr, length, buffer, null, K_DATA)) {
                Throwable fl = failure;
                listener.onPathFailure(fl != null ? fl : new ShardlinkClosedException("RDMA path to " + peerId()
                        + " closed"));
            }
        }

        void onAck(long nextExpected, int credits) {
            synchronized (this) {
                if (nextExpected > acked) {
                    acked = nextExpected;
                    notifyAll();
                }
            }
            listener.onAck(nextExpected, credits);
        }

        void pathFailed(Throwable cause) {
            synchronized (this) {
                notifyAll();
            }
            if (!closed.get()) {
                listener.onPathFailure(cause);
            }
        }

        @Override
        public void sendEnd(long totalLength) {
            postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_RECEIVER, 0), 0, 0, new FrameHeader(FrameType.COPY_END)
                    .id(spec.transferId()).object(spec.shardId()).aux(totalLength), null);
        }

        @Override
        public void close(Throwable cause) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            synchronized (outgoing) {
                outgoing.remove(spec.transferId());
            }
            synchronized (this) {
                notifyAll();
            }
            if (cause != null && failure == null && !closing) {
                // tells the receiver to abort the copy and to revoke its ring (no WRITE of ours follows this SEND)
                sendErrorFrame(Imm.S_TO_RECEIVER, spec.transferId(), 0, new FrameException(ErrorCode.SHUTTING_DOWN,
                        "sender abandoned the copy: " + cause.getMessage()));
            }
        }
    }
}
