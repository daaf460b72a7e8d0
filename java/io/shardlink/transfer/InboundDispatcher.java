package io.shardlink.transfer;

import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameException;

/** Routes frames that arrived on any path: copy frames to the {@link CopyReceiver}, reads to the {@link ReadService}. */
public final class InboundDispatcher implements InboundFrames {
    private final CopyReceiver copies;
    private final ReadService reads;

    public InboundDispatcher(CopyReceiver copies, ReadService reads) {
        this.copies = copies;
        this.reads = reads;
    }

    public CopyReceiver copies() {
        return copies;
    }

    @Override
    public void onFrame(Frame frame, ReplyChannel reply) {
        switch (frame.type()) {
            case COPY_BEGIN, DATA, COPY_END, ERROR -> copies.onFrame(frame, reply);
            case READ_REQ -> {
                try {
                    reads.onReadRequest(frame.header(), reply);
                } finally {
                    frame.release();
                }
            }
            default -> {
                long id = frame.header().id();
                String t = String.valueOf(frame.type());
                frame.release();
                reply.sendError(id, 0, new FrameException(ErrorCode.PROTOCOL, "unexpected " + t + " frame on "
                        + reply.describe()), true);
            }
        }
    }
}
