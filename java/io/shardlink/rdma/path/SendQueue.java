package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.Access;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.MemoryWindow;
import io.shardlink.rdma.Opcode;
import io.shardlink.rdma.QueuePair;
import io.shardlink.rdma.RdmaException;
import io.shardlink.rdma.WorkRequestBatch;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The send side of one endpoint's queue pair: {@code sq} send slots, each a {@value RdmaEndpoint#CTRL}-byte area of
 * the control buffer plus what its work request holds on to (a pooled chunk, a staged read answer), and a backlog of
 * sends that found no free slot. Every frame leaves through {@link #postSmall} (a whole frame copied into the slot)
 * or {@link #postLarge} (the header in the slot, the payload as a second SGE straight from registered memory).
 * A completion frees the slot, or hands it to the oldest backlogged send.
 *
 * <p>Memory-window binds ({@link #postBind}) go on an idle send queue only, and nothing is posted behind a bind
 * until its completion: while a bind waits or runs, the queue's "bind gate" is closed and new sends are backlogged
 * (or, off the poller, wait). Why: rxe (Linux 6.1) executes a bind when it reaches it but completes it only after
 * the earlier requests are ACKed; a retransmission in between rewinds over the executed bind and runs it again,
 * which fails and leaves the queue pair silent for good (no completion, still RTS). A fence does not help there
 * (rxe fences only behind READs). tests-native/test_mw_bind_stream reproduces it and checks the rule.
 */
final class SendQueue {
    static final int K_CONTROL = 0;
    static final int K_DATA = 1;
    static final int K_READ_REPLY = 2;
    /** A memory window's bind ({@link #postBind}): no frame, the slot's control area is unused. */
    static final int K_BIND = 3;
    private static final int HDR = FrameCodec.HEADER_SIZE;
    private static final int CTRL = RdmaEndpoint.CTRL;

    private final RdmaEndpoint ep;
    private final QueuePair qp;
    private final MemoryRegion ctrl;
    private final RdmaPathStats stats;
    private final int sq;
    private final long wrBase;
    private final int maxInline;
    /** Most WRITEs one chunk is split into (1: chunks go as one WRITE WITH IMMEDIATE). */
    private final int maxParts;
    private final SendSlot[] parts;
    private final WorkRequestBatch partBatch;

    // guarded by lock
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition slotFreed = lock.newCondition();
    private final SendSlot[] slots;
    private final int[] freeSlots;
    private int freeCount;
    private final ArrayDeque<Backlogged> backlog = new ArrayDeque<>();
    /** Binds waiting for the send queue to drain (the first is posted once nothing is outstanding). */
    private final ArrayDeque<Bind> binds = new ArrayDeque<>();
    /** A bind is on the queue pair: nothing else is posted until its completion. */
    private boolean bindPosted;
    private final WorkRequestBatch batch = new WorkRequestBatch(1);
    private boolean closed;

    /** A send-queue slot: its part of the control buffer, and what the work request in it holds on to. */
    private static final class SendSlot {
        final int index;
        final long offset;
        final ByteBuffer area;
        PooledBuffer pooled;
        ByteBuf payload;
        /** K_BIND: completed when the bind's completion arrives. */
        Bind bind;
        int kind;
        long what;

        SendSlot(int index, long offset, ByteBuffer area) {
            this.index = index;
            this.offset = offset;
            this.area = area;
        }
    }

    /** A send that found no free slot (only then is anything allocated); posted as completions free slots. */
    private record Backlogged(int opcode, int imm, long remoteAddr, int rkey, byte[] head, MemoryRegion payloadMr,
                              long payloadOffset, int payloadLen, PooledBuffer pooled, ByteBuf payload, int kind) {}

    /** A bind of {@code window} to the first {@code length} bytes of {@code mr}, remote write, through this QP. */
    private static final class Bind {
        final MemoryWindow window;
        final MemoryRegion mr;
        final long length;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        /** Why it could not be posted (set under the lock, reported outside it). */
        Throwable error;

        Bind(MemoryWindow window, MemoryRegion mr, long length) {
            this.window = window;
            this.mr = mr;
            this.length = length;
        }
    }

    /**
     * Slots use the first {@code sq} x {@value RdmaEndpoint#CTRL} bytes of {@code ctrl}; work-request ids are
     * {@code wrBase} + slot; frames of at most {@code maxInline} bytes without a payload SGE go inline.
     */
    SendQueue(RdmaEndpoint ep, QueuePair qp, MemoryRegion ctrl, RdmaPathStats stats, int sq, long wrBase,
              int maxInline, int maxPayload, boolean splitWrites) {
        this.ep = ep;
        this.qp = qp;
        this.ctrl = ctrl;
        this.stats = stats;
        this.sq = sq;
        this.wrBase = wrBase;
        this.maxInline = maxInline;
        // never more than half the queue for one chunk: control frames and read answers still get slots
        this.maxParts = splitWrites ? Math.min(sq / 2, WriteSegments.count(maxPayload)) : 1;
        this.parts = new SendSlot[Math.max(1, maxParts)];
        this.partBatch = new WorkRequestBatch(Math.max(1, maxParts));
        this.slots = new SendSlot[sq];
        this.freeSlots = new int[sq];
        for (int i = 0; i < sq; i++) {
            slots[i] = new SendSlot(i, (long) i * CTRL, ctrl.buffer().slice(i * CTRL, CTRL));
            freeSlots[i] = sq - 1 - i;
        }
        this.freeCount = sq;
    }

    /**
     * Posts a small frame (header + payload, at most {@value RdmaEndpoint#CTRL} bytes) from a send slot. Never
     * waits: with no free slot it is queued and posted by the poller when one frees. Dropped once torn down.
     */
    void postSmall(int opcode, int imm, long raddr, int rkey, FrameHeader h, byte[] payload) {
        int plen = payload == null ? 0 : payload.length;
        h.length(plen).crc32c(plen == 0 ? 0 : FrameCodec.crc32c(ByteBuffer.wrap(payload)));
        Throwable postError = null;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (freeCount > 0 && !bindGateClosed()) {
                SendSlot s = slots[freeSlots[--freeCount]];
                ByteBuffer a = s.area.clear();
                FrameCodec.encodeHeader(h, a);
                if (plen > 0) {
                    a.put(payload);
                }
                s.kind = opcode == Opcode.WRITE_IMM ? K_READ_REPLY : K_CONTROL;
                s.what = h.id();
                postError = post(s, opcode, imm, raddr, rkey, HDR + plen, null, 0, 0);
            } else {
                ByteBuffer b = ByteBuffer.allocate(HDR + plen);
                FrameCodec.encodeHeader(h, b);
                if (plen > 0) {
                    b.put(payload);
                }
                backlog.add(new Backlogged(opcode, imm, raddr, rkey, b.array(), null, 0, 0, null, null,
                        opcode == Opcode.WRITE_IMM ? K_READ_REPLY : K_CONTROL));
                stats.sendBacklogged.increment();
            }
        } finally {
            lock.unlock();
        }
        if (postError != null) {
            ep.fail(postError, true);
        }
    }

    /** An ERROR frame by SEND, its text cut to what fits one control slot. */
    void postError(int kind, long id, long offset, FrameException error) {
        FrameHeader h = new FrameHeader(FrameType.ERROR).id(id).offset(offset).arg(error.code().code());
        postSmall(Opcode.SEND_IMM, Imm.send(kind, 0), 0, 0, h, errorText(error.getMessage(), CTRL - HDR));
    }

    /**
     * Posts header + registered payload (DATA, READ_RESP) from a send slot; waits for a free slot unless called on
     * the poller. The payload's owner ({@code pooled} or {@code payload}) is released when the work request
     * completes, or now if it cannot be posted. Returns false if it was not posted (path failed or closed).
     * A DATA chunk longer than one {@link WriteSegments#SEGMENT} goes as several WRITEs, the last WITH IMMEDIATE
     * (see {@link WriteSegments}), posted in one batch, one slot each.
     */
    boolean postLarge(int opcode, int imm, long raddr, int rkey, FrameHeader h, MemoryRegion payloadMr, int plen,
                      PooledBuffer pooled, ByteBuf payload, int kind) {
        return postLarge(opcode, imm, raddr, rkey, h, payloadMr, 0, plen, pooled, payload, kind);
    }

    /**
     * {@link #postLarge} with the payload at {@code payloadOffset} of {@code payloadMr} (a read answer sent straight
     * from a registered file window); one WRITE, never split.
     */
    boolean postLarge(int opcode, int imm, long raddr, int rkey, FrameHeader h, MemoryRegion payloadMr,
                      long payloadOffset, int plen, PooledBuffer pooled, ByteBuf payload, int kind) {
        Throwable postError = null;
        boolean posted = false;
        lock.lock();
        try {
            if ((freeCount == 0 || bindGateClosed()) && ep.onPoller() && !closed) {
                ByteBuffer b = ByteBuffer.allocate(HDR);
                FrameCodec.encodeHeader(h, b);
                backlog.add(new Backlogged(opcode, imm, raddr, rkey, b.array(), payloadMr, payloadOffset, plen, pooled,
                        payload, kind));
                stats.sendBacklogged.increment();
                return true;
            }
            int n = kind == K_DATA && maxParts > 1 && payloadOffset == 0 ? WriteSegments.count(plen) : 1;
            if (n > maxParts) {
                n = 1;
            }
            long left = ep.config().requestTimeout().toNanos();
            while ((freeCount < n || bindGateClosed()) && !closed && ep.failure() == null && left > 0) {
                try {
                    left = slotFreed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            boolean room = freeCount >= n && !bindGateClosed();
            if (n > 1 && room && !closed && ep.failure() == null) {
                postError = postParts(n, imm, raddr, rkey, h, payloadMr, plen, pooled, payload);
                posted = postError == null;
                pooled = null;
                payload = null;
            } else if (room && !closed && ep.failure() == null) {
                SendSlot s = slots[freeSlots[--freeCount]];
                FrameCodec.encodeHeader(h, s.area.clear());
                s.pooled = pooled;
                s.payload = payload;
                s.kind = kind;
                s.what = h.offset();
                postError = post(s, opcode, imm, raddr, rkey, HDR, payloadMr, payloadOffset, plen);
                posted = postError == null;
                pooled = null;
                payload = null;
            } else if (!room && !closed && ep.failure() == null) {
                postError = new IOException("no free RDMA send slot towards " + ep.peerId() + " within "
                        + ep.config().requestTimeout().toMillis() + " ms (" + (sq - freeCount)
                        + " work requests outstanding" + (bindGateClosed() ? ", a memory window's bind pending" : "")
                        + ")");
            }
        } finally {
            lock.unlock();
        }
        if (pooled != null) {
            pooled.release();
        }
        if (payload != null) {
            payload.release();
        }
        if (postError != null) {
            ep.fail(postError, true);
        }
        return posted;
    }

    /**
     * Binds {@code window} to the first {@code length} bytes of {@code mr} (remote write) through this endpoint's
     * queue pair, so that only this peer can write there; completes once the device has done it (the bind's
     * completion), exceptionally if it fails or the path goes first. Never waits: the bind is posted once nothing
     * is outstanding on the send queue, and sends that come meanwhile wait behind it (see the class comment).
     * Callers complete nothing on the returned future under their own locks' order.
     */
    CompletableFuture<Void> postBind(MemoryWindow window, MemoryRegion mr, long length) {
        Bind b = new Bind(window, mr, length);
        List<Bind> failed;
        Throwable postError = null;
        lock.lock();
        try {
            if (closed || ep.failure() != null) {
                b.done.completeExceptionally(ep.failureOrClosed());
                return b.done;
            }
            binds.add(b);
            failed = postBindIfIdle();
            if (failed != null) {
                postError = drainBacklog();
            }
        } finally {
            lock.unlock();
        }
        failBinds(failed);
        if (postError != null) {
            ep.fail(postError, true);
        }
        return b.done;
    }

    /** True while a bind waits for the send queue to drain or runs on it: nothing else may be posted (lock held). */
    private boolean bindGateClosed() {
        return bindPosted || !binds.isEmpty();
    }

    /**
     * Posts the oldest waiting bind if the send queue is idle (lock held). Binds that cannot be posted are taken off
     * and returned (null: none), each with its {@link Bind#error}, for {@link #failBinds} outside the lock: that
     * declines their rings and does not fail the path.
     */
    private List<Bind> postBindIfIdle() {
        List<Bind> failed = null;
        while (!bindPosted && !binds.isEmpty() && freeCount == sq && !closed) {
            Bind b = binds.poll();
            SendSlot s = slots[freeSlots[--freeCount]];
            s.kind = K_BIND;
            s.bind = b;
            try {
                b.window.bind(qp, wrBase | s.index, b.mr, 0, b.length, Access.REMOTE_WRITE.bit());
                stats.windowsBound.increment();
                bindPosted = true;
            } catch (RdmaException | RuntimeException e) {
                s.bind = null;
                freeSlots[freeCount++] = s.index;
                b.error = new IOException("binding a memory window for " + ep.peerId() + " failed: " + e.getMessage(),
                        e);
                failed = failed == null ? new ArrayList<>(1) : failed;
                failed.add(b);
            }
        }
        return failed;
    }

    /** Posts backlogged sends while slots are free and no bind holds the gate (lock held); returns a post error. */
    private Throwable drainBacklog() {
        Throwable err = null;
        while (err == null && freeCount > 0 && !backlog.isEmpty() && !bindGateClosed() && !closed
                && ep.failure() == null) {
            err = postBacklogged(slots[freeSlots[--freeCount]], backlog.poll());
        }
        slotFreed.signalAll();
        return err;
    }

    private static void failBinds(List<Bind> failed) {
        if (failed != null) {
            for (Bind b : failed) {
                b.done.completeExceptionally(b.error);
            }
        }
    }

    /** Posts one work request from slot {@code s} (lock held); on failure frees the slot and returns why. */
    private Throwable post(SendSlot s, int opcode, int imm, long raddr, int rkey, int headLen, MemoryRegion payloadMr,
                           long payloadOffset, int plen) {
        try {
            batch.clear();
            WorkRequestBatch.Slot w = batch.add();
            if (opcode == Opcode.SEND_IMM) {
                w.sendImm(wrBase | s.index, ctrl, s.offset, headLen, imm);
            } else {
                w.writeImm(wrBase | s.index, ctrl, s.offset, headLen, raddr, rkey, imm);
            }
            if (plen > 0) {
                w.sge(payloadMr, payloadOffset, plen);
            } else if (headLen <= maxInline) {
                w.inline(); // copied into the work request at post time: the device reads no send buffer
                stats.inlineSends.increment();
            }
            qp.post(batch);
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
            return new IOException("posting " + Opcode.name(opcode) + " to " + ep.peerId() + " failed: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Posts one chunk as {@code n} WRITEs in one batch (lock held): [header + first bytes], middle parts, and the
     * last part WITH IMMEDIATE, each up to {@link WriteSegments#SEGMENT} payload bytes. The last part's slot owns
     * the payload (RC completes the parts in order). If the post fails the slots stay taken (some parts may be on
     * the wire) and the path fails; teardown frees the payload.
     */
    private Throwable postParts(int n, int imm, long raddr, int rkey, FrameHeader h, MemoryRegion payloadMr, int plen,
                                PooledBuffer pooled, ByteBuf payload) {
        for (int k = 0; k < n; k++) {
            SendSlot s = slots[freeSlots[--freeCount]];
            s.kind = K_DATA;
            s.what = h.offset();
            parts[k] = s;
        }
        FrameCodec.encodeHeader(h, parts[0].area.clear());
        parts[n - 1].pooled = pooled;
        parts[n - 1].payload = payload;
        try {
            partBatch.clear();
            for (int k = 0; k < n; k++) {
                long at = (long) k * WriteSegments.SEGMENT; // payload offset
                int len = (int) Math.min(WriteSegments.SEGMENT, plen - at);
                long id = wrBase | parts[k].index;
                if (k == 0) {
                    partBatch.add().write(id, ctrl, parts[0].offset, HDR, raddr, rkey).sge(payloadMr, 0, len);
                } else if (k < n - 1) {
                    partBatch.add().write(id, payloadMr, at, len, raddr + HDR + at, rkey);
                } else {
                    partBatch.add().writeImm(id, payloadMr, at, len, raddr + HDR + at, rkey, imm);
                }
            }
            qp.post(partBatch);
            stats.writesPosted.add(n);
            stats.writeBytes.add(HDR + (long) plen);
            stats.splitChunks.increment();
            return null;
        } catch (RdmaException | RuntimeException e) {
            return new IOException("posting a chunk as " + n + " WRITEs to " + ep.peerId() + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** Completion {@code i} of {@code wc} for slot {@code slotIndex} (poller thread). */
    void onCompletion(CompletionBatch wc, int i, int slotIndex, int status) {
        PooledBuffer pb;
        ByteBuf bb;
        Bind bound;
        List<Bind> bindsFailed = null;
        int kind;
        long what;
        Throwable postError = null;
        lock.lock();
        try {
            SendSlot s = slots[slotIndex];
            pb = s.pooled;
            bb = s.payload;
            bound = s.bind;
            kind = s.kind;
            what = s.what;
            s.pooled = null;
            s.payload = null;
            s.bind = null;
            if (bound != null) {
                bindPosted = false;
            }
            boolean live = ep.failure() == null && !closed;
            Backlogged next = live && !bindGateClosed() ? backlog.poll() : null;
            if (next != null) {
                postError = postBacklogged(s, next);
            } else {
                freeSlots[freeCount++] = slotIndex;
                slotFreed.signal();
            }
            if (live) {
                bindsFailed = postBindIfIdle();
                if ((bound != null || bindsFailed != null) && postError == null) {
                    postError = drainBacklog(); // the gate may have opened: what waited behind the bind goes now
                }
            }
        } finally {
            lock.unlock();
        }
        if (pb != null) {
            pb.release();
        }
        if (bb != null) {
            bb.release();
        }
        failBinds(bindsFailed);
        if (bound != null) {
            if (status == CompletionBatch.STATUS_SUCCESS) {
                bound.done.complete(null);
            } else {
                bound.done.completeExceptionally(new IOException("the bind of a memory window for " + ep.peerId()
                        + " failed: status " + status + " (" + wc.statusText(i) + ")"));
            }
        }
        if (status == CompletionBatch.STATUS_SUCCESS) {
            stats.okCompletions.increment();
        } else if (status == CompletionBatch.STATUS_FLUSH_ERROR && ep.isDown()) {
            stats.flushedCompletions.increment();
        } else {
            String text = wc.statusText(i);
            stats.error(text);
            ep.fail(new IOException("RDMA " + (kind == K_DATA ? "WRITE of the chunk at offset " + what
                    : kind == K_READ_REPLY ? "WRITE of a read answer" : kind == K_BIND ? "BIND of a memory window"
                    : "SEND of a control frame") + " from "
                    + ep.local() + " to " + ep.peerId() + " failed: status " + status + " (" + text + ")"
                    + hint(status), null), true);
        }
        if (postError != null) {
            ep.fail(postError, true);
        }
    }

    /** Posts backlogged send {@code next} from slot {@code s} (lock held); on failure frees the slot, returns why. */
    private Throwable postBacklogged(SendSlot s, Backlogged next) {
        s.area.clear().put(next.head());
        s.pooled = next.pooled();
        s.payload = next.payload();
        s.kind = next.kind();
        return post(s, next.opcode(), next.imm(), next.remoteAddr(), next.rkey(), next.head().length,
                next.payloadMr(), next.payloadOffset(), next.payloadLen());
    }

    /** True once every posted send has completed (nothing outstanding on the send queue). */
    boolean idle() {
        lock.lock();
        try {
            return freeCount == sq;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes senders waiting for a slot (the path failed). */
    void wakeWaiters() {
        lock.lock();
        try {
            slotFreed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops sending and takes every buffer a slot or backlogged send still holds. Release them (with
     * {@link Held#release()}) only once the queue pair is destroyed: until then the device may still read them.
     */
    Held close() {
        List<PooledBuffer> pooled = new ArrayList<>();
        List<ByteBuf> bufs = new ArrayList<>();
        List<Bind> unbound = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            for (SendSlot s : slots) {
                if (s.bind != null) {
                    unbound.add(s.bind);
                    s.bind = null;
                }
                if (s.pooled != null) {
                    pooled.add(s.pooled);
                    s.pooled = null;
                }
                if (s.payload != null) {
                    bufs.add(s.payload);
                    s.payload = null;
                }
            }
            unbound.addAll(binds);
            binds.clear();
            bindPosted = false;
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
            lock.unlock();
        }
        for (Bind b : unbound) {
            b.done.completeExceptionally(ep.failureOrClosed());
        }
        return new Held(pooled, bufs);
    }

    /** Buffers the send queue held when it closed. */
    record Held(List<PooledBuffer> pooled, List<ByteBuf> bufs) {
        void release() {
            for (PooledBuffer p : pooled) {
                p.release();
            }
            for (ByteBuf b : bufs) {
                b.release();
            }
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

    /** {@code message} as UTF-8, cut to at most {@code maxBytes}. */
    static byte[] errorText(String message, int maxBytes) {
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
}
