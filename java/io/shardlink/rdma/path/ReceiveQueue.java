package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.Opcode;
import io.shardlink.rdma.QueuePair;
import io.shardlink.rdma.RdmaException;
import io.shardlink.rdma.WorkRequestBatch;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import java.io.IOException;

/**
 * The receive side of one endpoint's queue pair (poller thread only): {@code rq} receive buffers of
 * {@value RdmaEndpoint#CTRL} bytes after the send slots in the control buffer, reposted in one batch per poll,
 * and the dispatch of what arrived. A SEND carries a whole frame in its buffer; a WRITE WITH IMMEDIATE consumes a
 * receive without touching it, and its immediate says where the frame landed (a copy ring slot, a reply page).
 */
final class ReceiveQueue {
    /** Receive work-request ids start here; send ids are slot indexes below it. */
    static final long RECV_BASE = 1L << 32;
    private static final int CTRL = RdmaEndpoint.CTRL;
    private static final System.Logger LOG = System.getLogger(ReceiveQueue.class.getName());

    private final RdmaEndpoint ep;
    private final MemoryRegion ctrl;
    private final RdmaPathStats stats;
    private final FrameLimits limits;
    private final int sq;
    private final WorkRequestBatch batch;
    private final int[] repost;
    private int repostCount;
    private int posted;
    private final ByteBuf ctrlView;
    private final FrameHeader scratch = new FrameHeader();

    /** Posts all {@code rq} receives; the buffers follow the {@code sq} send slots in {@code ctrl}. */
    static WorkRequestBatch postAll(QueuePair qp, MemoryRegion ctrl, int sq, int rq) throws RdmaException {
        WorkRequestBatch rb = new WorkRequestBatch(rq);
        for (int i = 0; i < rq; i++) {
            rb.add().recv(RECV_BASE + i, ctrl, (long) (sq + i) * CTRL, CTRL);
        }
        qp.postRecv(rb);
        return rb;
    }

    /** Over receives already posted by {@link #postAll} with {@code batch}. */
    ReceiveQueue(RdmaEndpoint ep, MemoryRegion ctrl, RdmaPathStats stats, FrameLimits limits, int sq, int rq,
                 WorkRequestBatch batch) {
        this.ep = ep;
        this.ctrl = ctrl;
        this.stats = stats;
        this.limits = limits;
        this.sq = sq;
        this.batch = batch;
        this.repost = new int[rq];
        this.posted = rq;
        this.ctrlView = Unpooled.wrappedBuffer(ctrl.buffer().duplicate().clear());
    }

    /** Receives posted and not yet completed. */
    int posted() {
        return posted;
    }

    /** Posts again, in one batch, the receives whose completions were handled since the last call. */
    void repost(QueuePair qp) throws RdmaException {
        if (repostCount == 0) {
            return;
        }
        batch.clear();
        for (int k = 0; k < repostCount; k++) {
            int r = repost[k];
            batch.add().recv(RECV_BASE + r, ctrl, (long) (sq + r) * CTRL, CTRL);
        }
        qp.postRecv(batch);
        posted += repostCount;
        repostCount = 0;
    }

    /** Receive completion {@code i} of {@code wc}, for receive buffer {@code r}. */
    void onCompletion(CompletionBatch wc, int i, int r) {
        posted--;
        int status = wc.status(i);
        if (status != CompletionBatch.STATUS_SUCCESS) {
            if (status == CompletionBatch.STATUS_FLUSH_ERROR && ep.isDown()) {
                stats.flushedCompletions.increment();
            } else {
                String text = wc.statusText(i);
                stats.error(text);
                ep.fail(new IOException("RDMA receive from " + ep.peerId() + " at " + ep.local() + " failed: status "
                        + status + " (" + text + ")"), true);
            }
            return;
        }
        stats.okCompletions.increment();
        stats.recvCompletions.increment();
        int len = wc.byteLen(i);
        stats.recvBytes.add(len);
        if (!ep.isDown()) {
            try {
                if (wc.opcode(i) == Opcode.RECV_IMM) {
                    int imm = wc.imm(i);
                    if (Imm.kind(imm) == Imm.W_COPY_DATA) {
                        ep.incoming().onRingData(imm, len);
                    } else if (Imm.kind(imm) == Imm.W_READ_REPLY) {
                        ep.reads().onReadReply(Imm.page(imm), len);
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
                LOG.log(System.Logger.Level.WARNING, () -> ep.local() + ": dropped a malformed RDMA message from "
                        + ep.peerId() + ": " + e.getMessage());
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
            case Imm.S_TO_SENDER -> ep.outgoing().onAnswer(scratch, ctrlView);
            case Imm.S_TO_RECEIVER -> ep.incoming().onCopyControl(copyFrame(scratch, ctrlView));
            case Imm.S_READ_REQ -> ep.readServer().onReadRequest(copyFrame(scratch, ctrlView), Imm.page(imm));
            default -> throw new FrameException(ErrorCode.PROTOCOL, "RDMA SEND with unknown immediate 0x"
                    + Integer.toHexString(imm));
        }
    }

    /** The frame out of the receive buffer (which is reposted right after), for handlers that keep it. */
    private static Frame copyFrame(FrameHeader h, ByteBuf payloadAt) {
        FrameHeader copy = new FrameHeader().copyFrom(h);
        ByteBuf payload = h.length() == 0 ? Unpooled.EMPTY_BUFFER
                : Unpooled.copiedBuffer(payloadAt.slice(payloadAt.readerIndex(), h.length()));
        return new Frame(copy, payload);
    }
}
