package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.Opcode;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Blob reads this node makes from one peer: each read takes pages of the reply ring (registered LOCAL_WRITE |
 * MW_BIND, writable through a memory window bound to this peer's queue pair, described to the peer in HELLO) and sends READ_REQ by SEND with the first page as immediate; the
 * peer WRITEs the answer into those pages, and the read completes with a buffer over them (no copy) that gives the
 * pages back when released. Reads beyond the ring's room wait in a queue.
 */
final class ReadChannel {
    private static final int HDR = FrameCodec.HEADER_SIZE;
    private static final int PAGE = RdmaEndpoint.PAGE;

    private final RdmaEndpoint ep;
    private final MemoryRegion replyRing;
    private final ByteBuf replyView;
    private final FrameLimits limits;
    // guarded by lock
    private final Object lock = new Object();
    private final PageAllocator pages;
    private final PendingRead[] byPage;
    private final ArrayDeque<PendingRead> queued = new ArrayDeque<>();
    private final SlotBuf.Owner readOwner = b -> finish((PendingRead) b.attachment);

    /** One of our reads: its pages in the reply ring (page = -1 while queued). */
    private static final class PendingRead {
        final long requestId;
        final long volumeId;
        final long needleId;
        /** The blob's cookie for the READ_REQ (negative = none). */
        final long cookie;
        final long offset;
        final int length;
        final int pages;
        final CompletableFuture<Frame> future;
        int page = -1;

        PendingRead(long requestId, long volumeId, long needleId, long cookie, long offset, int length, int pages,
                    CompletableFuture<Frame> future) {
            this.requestId = requestId;
            this.volumeId = volumeId;
            this.needleId = needleId;
            this.cookie = cookie;
            this.offset = offset;
            this.length = length;
            this.pages = pages;
            this.future = future;
        }
    }

    ReadChannel(RdmaEndpoint ep, MemoryRegion replyRing, int npages, FrameLimits limits) {
        this.ep = ep;
        this.replyRing = replyRing;
        this.replyView = Unpooled.wrappedBuffer(replyRing.buffer().duplicate().clear());
        this.limits = limits;
        this.pages = new PageAllocator(npages);
        this.byPage = new PendingRead[npages];
    }

    CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset, int length) {
        CompletableFuture<Frame> f = new CompletableFuture<>();
        Throwable fl = ep.failure();
        if (fl != null || ep.isClosing()) {
            f.completeExceptionally(ep.pathDown("read " + requestId, fl));
            return f;
        }
        int n = PageAllocator.pagesFor(HDR + (long) Math.max(0, length), PAGE);
        if (n > pages.pages()) {
            f.completeExceptionally(new IllegalArgumentException("read of " + length + " bytes does not fit the RDMA "
                    + "reply ring of " + pages.pages() + " pages"));
            return f;
        }
        PendingRead pr = new PendingRead(requestId, volumeId, needleId, cookie, offset, length, n, f);
        boolean post = false;
        synchronized (lock) {
            if (queued.isEmpty()) {
                int p = pages.allocate(n);
                if (p >= 0) {
                    pr.page = p;
                    byPage[p] = pr;
                    post = true;
                }
            }
            if (!post) {
                queued.add(pr);
            }
        }
        if (post) {
            postRequest(pr);
        }
        return f;
    }

    private void postRequest(PendingRead pr) {
        FrameHeader h = new FrameHeader(FrameType.READ_REQ).id(pr.requestId).object(pr.volumeId).aux(pr.needleId)
                .offset(pr.offset).arg(pr.length).cookie(pr.cookie);
        if (ReadTrace.ON) {
            ReadTrace.stamp(ReadTrace.REQUEST_POSTING);
        }
        ep.sends().postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_READ_REQ, pr.page), 0, 0, h, null);
    }

    /** READ_RESP or ERROR written to {@code page} of our reply ring (poller thread). */
    void onReadReply(int page, int len) {
        if (ReadTrace.ON) {
            ReadTrace.stamp(ReadTrace.REPLY_POLLED);
        }
        PendingRead pr;
        synchronized (lock) {
            pr = page < byPage.length ? byPage[page] : null;
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
            finish(pr);
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
                finish(pr);
            }
            default -> {
                pr.future.completeExceptionally(new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type()
                        + " in answer to read " + pr.requestId));
                finish(pr);
            }
        }
    }

    /** The read's pages are free again (answer consumed, or failed): start queued reads that now fit. */
    private void finish(PendingRead pr) {
        List<PendingRead> start = null;
        synchronized (lock) {
            if (pr.page >= 0 && byPage[pr.page] == pr) {
                byPage[pr.page] = null;
                pages.free(pr.page, pr.pages);
            }
            if (!ep.isDown()) {
                while (!queued.isEmpty()) {
                    PendingRead q = queued.peek();
                    if (q.future.isDone()) {
                        queued.poll();
                        continue;
                    }
                    int p = pages.allocate(q.pages);
                    if (p < 0) {
                        break;
                    }
                    queued.poll();
                    q.page = p;
                    byPage[p] = q;
                    if (start == null) {
                        start = new ArrayList<>();
                    }
                    start.add(q);
                }
            }
        }
        if (start != null) {
            for (PendingRead q : start) {
                postRequest(q);
            }
        }
    }

    /** Fails every read queued or in flight ({@code cause} null: the path closed). */
    void failAll(Throwable cause) {
        List<PendingRead> all = new ArrayList<>();
        synchronized (lock) {
            all.addAll(queued);
            queued.clear();
            for (PendingRead p : byPage) {
                if (p != null) {
                    all.add(p);
                }
            }
        }
        for (PendingRead p : all) {
            p.future.completeExceptionally(ep.pathDown("read " + p.requestId, cause));
        }
    }
}
