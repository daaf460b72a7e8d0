package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.rdma.Access;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.MemoryWindow;
import io.shardlink.rdma.Opcode;
import io.shardlink.rdma.RdmaException;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Copies this node receives from one peer: a {@link CopyRing} per transfer, registered when the sender asks
 * (RING_REQ over QUIC) and the pinned budget has room, revoked when the copy ends, the sender gives up, or the path
 * goes. Chunks written into a ring are decoded in place and handed, without a copy, to the node's copy receiver.
 *
 * <p>Isolation. The node has one protection domain for every peer, so a ring's region grants nothing remote
 * (LOCAL_WRITE | MW_BIND): the rkey in RING_GRANT is that of a type-2 memory window bound through THIS peer's queue
 * pair, and the grant is answered only once the bind has completed. Another peer that learns the rkey and address
 * gets a remote access error on its own queue pair and writes nothing. Revoking a ring deallocates its window first.
 */
final class IncomingCopies {
    private static final int HDR = FrameCodec.HEADER_SIZE;
    private static final System.Logger LOG = System.getLogger(IncomingCopies.class.getName());

    private final RdmaEndpoint ep;
    private final RdmaDataPathProvider provider;
    private final ShardlinkConfig config;
    private final RdmaPathStats stats;
    private final PinnedBudget budget;
    private final FrameLimits limits;
    private final Object lock = new Object();
    private final AtomicReferenceArray<CopyRing> rings = new AtomicReferenceArray<>(Imm.MAX_RINGS);
    private final ConcurrentHashMap<Long, CopyRing> byTransfer = new ConcurrentHashMap<>();
    private int generation;
    private int nextIndex;
    private boolean closed;
    private final OrphanReply orphan = new OrphanReply();

    IncomingCopies(RdmaEndpoint ep, RdmaDataPathProvider provider, FrameLimits limits) {
        this.ep = ep;
        this.provider = provider;
        this.config = provider.config();
        this.stats = provider.statsRecorder();
        this.budget = provider.budget();
        this.limits = limits;
    }

    SendQueue sends() {
        return ep.sends();
    }

    String peerId() {
        return ep.peerId();
    }

    /**
     * Answers a RING_REQ: a registered ring, writable through this peer's queue pair only, described to this sender
     * once its memory window is bound; or why not.
     */
    CompletableFuture<byte[]> grant(PathMessages.RingRequest r) {
        CopyRing ring;
        byte[] now;
        synchronized (lock) {
            now = register(r);
            ring = now == null ? byTransfer.get(r.transferId()) : null;
        }
        if (ring == null) {
            return CompletableFuture.completedFuture(now);
        }
        return sends().postBind(ring.mw, ring.mr, ring.bytes).handle((v, err) -> {
            if (err != null) {
                ring.closing = true;
                release(ring);
                return decline(r, "node " + ep.local() + " cannot bind a memory window for the ring: "
                        + err.getMessage());
            }
            return PathMessages.ringGrant(new PathMessages.RingGrant(r.transferId(), ring.index, ring.generation,
                    ring.mr.address(), ring.mw.rkey(), ring.slotSize, ring.count));
        });
    }

    /** The synchronous part of a grant (lock held): null if a ring was registered (by transfer), else the answer. */
    private byte[] register(PathMessages.RingRequest r) {
        String local = ep.local();
        if (ep.isDown()) {
            return PathMessages.refused("RDMA path from " + peerId() + " to " + local + " is down");
        }
        if (r.chunkSize() <= 0 || r.chunkSize() > config.maxSendSize()) {
            return PathMessages.refused("chunk size " + r.chunkSize() + " is not in 1.." + config.maxSendSize()
                    + " (maxSendSize of " + local + ")");
        }
        int count = config.numMemoryRegions();
        int slotSize = roundUp(HDR + config.maxSendSize(), RdmaEndpoint.PAGE);
        long bytes = (long) count * slotSize;
        if (closed) {
            return PathMessages.refused("RDMA path from " + peerId() + " to " + local + " is closed");
        }
        if (byTransfer.containsKey(r.transferId())) {
            return PathMessages.refused("transfer " + r.transferId() + " already has an RDMA ring at " + local);
        }
        int maxRings = config.maxRingsPerPeer();
        if (byTransfer.size() >= maxRings) {
            stats.ringsOverLimit.increment();
            ep.peerContext().refusedOverLimit();
            return decline(r, "node " + local + " already grants " + peerId() + " " + byTransfer.size()
                    + " receive rings (maxRingsPerPeer = " + maxRings + ")");
        }
        if (bytes > Integer.MAX_VALUE || !budget.tryReserve(bytes)) {
            return decline(r, "node " + local + " has no room in its pinned-memory budget (" + budget + ") for a "
                    + PinnedBudget.mib(bytes) + " receive ring (" + count + " x " + slotSize + " bytes)");
        }
        int idx = -1;
        for (int i = 0; i < Imm.MAX_RINGS; i++) {
            int c = (nextIndex + i) % Imm.MAX_RINGS;
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
        MemoryRegion mr = null;
        MemoryWindow mw;
        try {
            // no remote rights on the region itself: only the window bound to this peer's QP grants any
            mr = MemoryRegion.register(provider.pd(), ByteBuffer.allocateDirect((int) bytes),
                    Access.LOCAL_WRITE.bit() | Access.MW_BIND.bit());
            mw = MemoryWindow.allocate(provider.pd());
        } catch (RdmaException | RuntimeException | OutOfMemoryError e) {
            RdmaDataPathProvider.closeQuietly(mr);
            budget.release(bytes);
            return decline(r, "node " + local + " cannot register a " + PinnedBudget.mib(bytes) + " receive ring: "
                    + e.getMessage());
        }
        generation = (generation + 1) % Imm.GENERATIONS;
        CopyRing ring = new CopyRing(this, idx, generation, r.transferId(), r.shardId(), mr, mw, slotSize, count,
                bytes);
        rings.set(idx, ring);
        byTransfer.put(r.transferId(), ring);
        nextIndex = (idx + 1) % Imm.MAX_RINGS;
        stats.ringsGranted.increment();
        stats.liveRings.incrementAndGet();
        stats.liveRegions.incrementAndGet();
        stats.liveWindows.incrementAndGet();
        return null;
    }

    private byte[] decline(PathMessages.RingRequest r, String why) {
        stats.ringsDeclined.increment();
        LOG.log(System.Logger.Level.WARNING, () -> ep.local() + ": declining an RDMA ring for transfer "
                + r.transferId() + " (shard " + r.shardId() + ") from " + peerId() + ": " + why
                + "; that copy goes over QUIC");
        return PathMessages.ringDecline(r.transferId(), why);
    }

    /** COPY_BEGIN / COPY_END / the sender's ERROR, for a copy this node receives (poller thread). */
    void onCopyControl(Frame f) {
        FrameHeader h = f.header();
        CopyRing ring = byTransfer.get(h.id());
        if (ring != null) {
            ring.lastActivity = System.nanoTime();
        }
        switch (h.type()) {
            case COPY_BEGIN -> {
                if (ring == null) {
                    f.release();
                    orphan.sendError(h.id(), 0, new FrameException(ErrorCode.PROTOCOL, "COPY_BEGIN of transfer "
                            + h.id() + " from " + peerId() + " without an RDMA ring granted by " + ep.local()), true);
                    return;
                }
                ep.inbound().onFrame(f, ring.reply);
            }
            case COPY_END -> ep.inbound().onFrame(f, ring != null ? ring.reply : orphan);
            case ERROR -> {
                // the sender gave the copy up: it writes nothing more into the ring (RC order), so revoke it
                ep.inbound().onFrame(f, ring != null ? ring.reply : orphan);
                if (ring != null) {
                    release(ring);
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

    /**
     * A DATA frame written into a slot of a ring (poller thread): decoded in place, handed on without a copy.
     * {@code len} is what the WRITE WITH IMMEDIATE carried: the whole frame, or its last part if the sender split
     * it ({@link WriteSegments}).
     */
    void onRingData(int imm, int len) {
        CopyRing ring = rings.get(Imm.ring(imm));
        int s = Imm.slot(imm);
        if (ring == null || ring.generation != Imm.generation(imm) || s >= ring.count || ring.released.get()) {
            throw new FrameException(ErrorCode.PROTOCOL, "RDMA WRITE into ring " + Imm.ring(imm) + " generation "
                    + Imm.generation(imm) + " slot " + s + ", which is not live");
        }
        if (ring.closing) {
            return; // the receiver refused the transfer: drop until the sender stops
        }
        ring.lastActivity = System.nanoTime();
        int off = s * ring.slotSize;
        FrameHeader h = new FrameHeader();
        try {
            if (len > ring.slotSize) {
                throw new FrameException(ErrorCode.TOO_LARGE, "RDMA WRITE of " + len + " bytes into a slot of "
                        + ring.slotSize);
            }
            ring.view.setIndex(off, off + ring.slotSize);
            FrameCodec.decodeHeader(ring.view, h, limits);
            if (h.type() != FrameType.DATA || h.id() != ring.transferId) {
                throw new FrameException(ErrorCode.PROTOCOL, h.type() + " for transfer " + h.id() + " in the RDMA ring"
                        + " of transfer " + ring.transferId);
            }
            long frame = HDR + (long) h.length();
            if (frame > ring.slotSize || len != frame && len != WriteSegments.lastPart(h.length())) {
                throw new FrameException(ErrorCode.TRUNCATED, "DATA frame announces " + h.length() + " bytes, the "
                        + "RDMA WRITE carried " + len + " of its " + frame + " (whole or last part)");
            }
        } catch (FrameException e) {
            ring.closing = true;
            ByteBuf msg = Unpooled.copiedBuffer(e.getMessage(), StandardCharsets.UTF_8);
            ep.inbound().onFrame(new Frame(new FrameHeader(FrameType.ERROR).id(ring.transferId).arg(e.code().code())
                    .length(msg.readableBytes()), msg), ring.reply);
            ring.reply.sendError(ring.transferId, h.offset(), e, true);
            return;
        }
        ByteBuffer payload = ring.memory.slice(off + HDR, h.length());
        ep.inbound().onFrame(new Frame(h, new SlotBuf(payload, b -> { }, s, ring)), ring.reply);
    }

    /**
     * Revokes remote access to a ring (deallocates its window, then deregisters it) and returns its memory to the
     * budget. Once.
     */
    void release(CopyRing ring) {
        if (!ring.released.compareAndSet(false, true)) {
            return;
        }
        synchronized (lock) {
            rings.compareAndSet(ring.index, ring, null);
            byTransfer.remove(ring.transferId, ring);
        }
        if (RdmaDataPathProvider.closeQuietly(ring.mw)) {
            stats.liveWindows.decrementAndGet();
        }
        if (RdmaDataPathProvider.closeQuietly(ring.mr)) {
            stats.liveRegions.decrementAndGet();
        }
        budget.release(ring.bytes);
        stats.liveRings.decrementAndGet();
    }

    /**
     * Revokes every ring idle past the sweep's timeout (poller thread): deregistered at once, so its rkey stops
     * working and its memory goes back to the budget; the copy is aborted here (the receiver's transfer fails
     * with the cause) and the sender is told with ERROR RING_REVOKED.
     */
    void revokeIdle(RingIdleSweep sweep, long now) {
        for (CopyRing ring : byTransfer.values()) {
            long last = ring.lastActivity;
            if (ring.released.get() || !sweep.idle(last, now)) {
                continue;
            }
            String why = "node " + ep.local() + " revoked the RDMA receive ring of shard " + ring.shardId
                    + " (transfer " + ring.transferId + ") from " + peerId() + ": nothing written, announced or "
                    + "acknowledged for " + (now - last) / 1_000_000 + " ms (ringIdleTimeout = "
                    + sweep.timeoutNanos() / 1_000_000 + " ms)";
            ring.closing = true;
            release(ring);
            stats.ringsRevokedIdle.increment();
            LOG.log(System.Logger.Level.WARNING, why);
            FrameException e = new FrameException(ErrorCode.RING_REVOKED, why);
            ByteBuf msg = Unpooled.copiedBuffer(why, StandardCharsets.UTF_8);
            ep.inbound().onFrame(new Frame(new FrameHeader(FrameType.ERROR).id(ring.transferId)
                    .arg(e.code().code()).length(msg.readableBytes()), msg), ring.reply);
            ring.reply.sendError(ring.transferId, 0, e, true);
        }
    }

    /** The rings granted now (tests). */
    List<CopyRing> liveRings() {
        return new ArrayList<>(byTransfer.values());
    }

    /** The path failed: drop whatever is still written into any ring. */
    void refuseAll() {
        for (CopyRing ring : byTransfer.values()) {
            ring.closing = true;
        }
    }

    /** Teardown (queue pair destroyed): grant no more rings, revoke every ring. */
    void closeAll() {
        List<CopyRing> all;
        synchronized (lock) {
            closed = true;
            all = new ArrayList<>(byTransfer.values());
        }
        for (CopyRing ring : all) {
            release(ring);
        }
    }

    private static int roundUp(int v, int to) {
        return (v + to - 1) / to * to;
    }

    /** Answers about copies this node has no ring for. */
    private final class OrphanReply implements ReplyChannel {
        @Override
        public void send(FrameHeader header, ByteBuf payload) {
            if (payload != null) {
                payload.release();
            }
            sends().postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_SENDER, 0), 0, 0, header, null);
        }

        @Override
        public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
            sends().postError(Imm.S_TO_SENDER, id, offset, error);
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
}
