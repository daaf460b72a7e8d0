package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.netty.util.collection.LongObjectHashMap;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.rdma.Opcode;
import io.shardlink.transfer.PathDeclinedException;
import io.shardlink.transfer.PeerContext;
import io.shardlink.transfer.TransferChannel;
import io.shardlink.transfer.TransferListener;
import io.shardlink.transfer.TransferSpec;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Copies this node sends to one peer: asks the receiver for a ring (RING_REQ over the QUIC control stream), opens
 * an {@link OutgoingCopy} on the grant and announces it (COPY_BEGIN by SEND), and routes the receiver's answers
 * (ACK, COPY_DONE, ERROR, by SEND) back to the copy they belong to.
 */
final class OutgoingCopies {
    private static final int HDR = FrameCodec.HEADER_SIZE;

    private final RdmaEndpoint ep;
    private final PeerContext peer;
    private final ShardlinkConfig config;
    /** Open copies by transfer id; guarded by itself. */
    private final LongObjectHashMap<OutgoingCopy> open = new LongObjectHashMap<>();

    OutgoingCopies(RdmaEndpoint ep, PeerContext peer, ShardlinkConfig config) {
        this.ep = ep;
        this.peer = peer;
        this.config = config;
    }

    /** Asks for a ring, then opens the copy over it; a decline is a {@link PathDeclinedException}. */
    TransferChannel open(TransferSpec spec, TransferListener listener, String what) throws Exception {
        String peerId = ep.peerId();
        byte[] answer;
        try {
            answer = peer.controlRequest(PathMessages.ringRequest(spec.transferId(), spec.shardId(), spec.totalLength(),
                    spec.chunkSize())).get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof FrameException fe && fe.code() == ErrorCode.TOO_MANY_REQUESTS) {
                // over the peer's control-request limit: this copy goes over QUIC, the path stays up
                throw new PathDeclinedException(fe.getMessage());
            }
            throw new IOException("RDMA ring request for " + what + " to " + peerId + " failed: " + e.getCause(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IOException("no answer from " + peerId + " to the RDMA ring request for " + what + " within "
                    + config.requestTimeout().toMillis() + " ms", e);
        }
        PathMessages.Message m = PathMessages.decode(answer);
        if (m.type() == PathMessages.RING_DECLINE) {
            throw new PathDeclinedException(m.text());
        }
        if (m.type() != PathMessages.RING_GRANT) {
            throw new IOException(peerId + " refused an RDMA ring for " + what + ": "
                    + (m.type() == PathMessages.REFUSED ? m.text() : "answer of type " + m.type()));
        }
        PathMessages.RingGrant g = m.grant();
        if (g.transferId() != spec.transferId() || g.slots() <= 0 || g.slots() > Imm.MAX_SLOTS
                || g.slotSize() < HDR + spec.chunkSize() || g.ring() >= Imm.MAX_RINGS) {
            throw new IOException(peerId + " granted an unusable RDMA ring for " + what + ": " + g);
        }
        OutgoingCopy out = new OutgoingCopy(ep, this, spec, listener, g);
        synchronized (open) {
            open.put(spec.transferId(), out);
        }
        if (ep.isDown()) {
            // fail() may have run before the put and not seen this copy
            out.close(null);
            ep.checkOpen(what);
        }
        FrameHeader begin = new FrameHeader(FrameType.COPY_BEGIN).id(spec.transferId()).object(spec.shardId())
                .aux(spec.totalLength()).offset(spec.startOffset());
        if (spec.resume()) {
            begin.addFlag(FrameHeader.FLAG_RESUME);
        }
        ep.sends().postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_RECEIVER, 0), 0, 0, begin, null);
        return out;
    }

    /** ACK / COPY_DONE / ERROR from the receiver of one of our copies (no allocation for ACK and COPY_DONE). */
    void onAnswer(FrameHeader h, ByteBuf payload) {
        OutgoingCopy o;
        synchronized (open) {
            o = open.get(h.id());
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
                    + " from the receiver of transfer " + h.id() + " (" + ep.peerId() + ", RDMA)"));
        }
    }

    /** The copy's channel closed: answers for it are dropped from now on. */
    void remove(long transferId) {
        synchronized (open) {
            open.remove(transferId);
        }
    }

    /** The path failed or closed: every open copy hears it (the copy driver resumes over QUIC). */
    void pathFailed(Throwable cause) {
        List<OutgoingCopy> all;
        synchronized (open) {
            all = new ArrayList<>(open.values());
        }
        for (OutgoingCopy o : all) {
            o.pathFailed(cause);
        }
    }
}
