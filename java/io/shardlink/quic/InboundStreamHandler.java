package io.shardlink.quic;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;

/**
 * Receives frames on a stream the peer opened (or on our control stream). The first frame decides the role:
 * HELLO = control stream; COPY_BEGIN = an incoming shard copy; READ_REQ = a blob read. Protocol errors are
 * answered with ERROR: on a data stream the stream is closed (other streams and peers go on); on the control
 * stream the whole connection is closed.
 */
final class InboundStreamHandler extends ChannelInboundHandlerAdapter {
    private final QuicConnection conn;
    private StreamRole role;
    private QuicReply reply;
    private long transferId = -1;
    private boolean readAnswered;
    private SharedReadServer shared;
    /** An ERROR was sent and the stream is closing: later frames are dropped. */
    private boolean failed;

    InboundStreamHandler(QuicConnection conn, StreamRole role) {
        this.conn = conn;
        this.role = role;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame f = (Frame) msg;
        QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
        if (reply == null) {
            reply = new QuicReply(stream, conn.remoteName());
        }
        FrameHeader h = f.header();
        if (failed || (role != StreamRole.CONTROL && reply.ended())) {
            // answered with ERROR and closing, or we sent our last frame (an answer or an ERROR): frames decoded
            // from the same read must not act (a HELLO behind a refused first frame made this a second control
            // stream, and that closed the whole connection); the rest of the peer's input is moot
            f.release();
            return;
        }
        try {
            if (role == StreamRole.UNKNOWN) {
                role = switch (h.type()) {
                    case HELLO -> StreamRole.CONTROL;
                    case COPY_BEGIN -> StreamRole.COPY;
                    case READ_REQ -> h.hasFlag(FrameHeader.FLAG_SHARED_STREAM) ? StreamRole.READ_SHARED
                            : StreamRole.READ;
                    default -> throw new FrameException(ErrorCode.PROTOCOL, "a new stream must start with HELLO, "
                            + "COPY_BEGIN or READ_REQ, got " + h.type());
                };
                if (role == StreamRole.READ_SHARED) {
                    conn.requireHello(h.type().toString());
                    if (!conn.transport().servesReadStreams()) {
                        throw new FrameException(ErrorCode.PROTOCOL, conn.localNode() + " does not serve shared read "
                                + "streams (its HELLO lacks CAP_READ_STREAMS)");
                    }
                    conn.trackShared(stream);
                    shared = new SharedReadServer(conn, stream);
                } else if (role != StreamRole.CONTROL) {
                    conn.requireHello(h.type().toString());
                } else {
                    conn.untrack(stream);
                }
            }
            switch (role) {
                case CONTROL -> conn.onControlFrame(f, stream);
                case COPY -> {
                    if (h.type() != FrameType.DATA && h.type() != FrameType.COPY_END && h.type() != FrameType.ERROR
                            && h.type() != FrameType.COPY_BEGIN) {
                        throw new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type() + " on a copy stream");
                    }
                    if (h.type() == FrameType.COPY_BEGIN) {
                        if (transferId != -1) {
                            throw new FrameException(ErrorCode.PROTOCOL, "second COPY_BEGIN on a copy stream");
                        }
                        transferId = h.id();
                    } else if (h.id() != transferId) {
                        throw new FrameException(ErrorCode.PROTOCOL, h.type() + " for transfer " + h.id()
                                + " on the stream of transfer " + transferId);
                    }
                    conn.listener().inbound().onFrame(f, reply);
                }
                case READ -> {
                    if (h.type() != FrameType.READ_REQ || readAnswered) {
                        throw new FrameException(ErrorCode.PROTOCOL, "a read stream carries exactly one READ_REQ, got "
                                + h.type());
                    }
                    readAnswered = true;
                    conn.listener().inbound().onFrame(f, reply);
                }
                case READ_SHARED -> {
                    if (h.type() != FrameType.READ_REQ || !h.hasFlag(FrameHeader.FLAG_SHARED_STREAM)) {
                        throw new FrameException(ErrorCode.PROTOCOL, "a shared read stream carries only READ_REQ "
                                + "with FLAG_SHARED_STREAM, got " + h);
                    }
                    shared.onRequest(f);
                }
                default -> throw new IllegalStateException(String.valueOf(role));
            }
        } catch (FrameException e) {
            if (f.refCnt() > 0) {
                f.release();
            }
            fail(stream, e);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        QuicStreamChannel stream = (QuicStreamChannel) ctx.channel();
        if (c instanceof FrameException fe) {
            fail(stream, fe);
        } else if (role == StreamRole.CONTROL) {
            ctx.close();
        } else {
            StreamEnds.abort(stream, ErrorCode.INTERNAL);
        }
    }

    /**
     * The peer ended its half (FIN). A read is answered later with its last frame (READ_RESP or ERROR ends our
     * half); a copy stream the sender left without COPY_DONE (it failed over or gave up: the transfer stays for
     * RESUME or was aborted by its ERROR) and a stream that never carried a frame end our half now.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent && role == StreamRole.READ_SHARED) {
            shared.inputEnded();
        } else if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent && role != StreamRole.CONTROL
                && !(role == StreamRole.READ && readAnswered)) {
            StreamEnds.finish((QuicStreamChannel) ctx.channel());
        }
        super.userEventTriggered(ctx, evt);
    }

    private void fail(QuicStreamChannel stream, FrameException e) {
        failed = true;
        if (reply == null) {
            reply = new QuicReply(stream, conn.remoteName());
        }
        if (role == StreamRole.CONTROL) {
            conn.controlFailure(stream, e);
            return;
        }
        if (shared != null) {
            shared.broken(); // the framing is lost: the closing ERROR below is the stream's last frame
        }
        if (role == StreamRole.COPY && transferId != -1 && conn.listener() != null && e.code() != ErrorCode.TRUNCATED) {
            // the stream's framing is lost: abort the transfer (as if the sender had sent ERROR). A stream that
            // merely ended inside a frame is a path event (the sender failed over and closed it): the transfer
            // stays for RESUME
            io.netty.buffer.ByteBuf msg = stream.alloc().buffer();
            msg.writeCharSequence(e.getMessage(), java.nio.charset.StandardCharsets.UTF_8);
            conn.listener().inbound().onFrame(new Frame(new FrameHeader(FrameType.ERROR).id(transferId)
                    .arg(e.code().code()), msg), reply);
        }
        reply.sendError(transferId == -1 ? 0 : transferId, 0, e, true);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (role == StreamRole.CONTROL) {
            conn.close(new io.shardlink.api.ShardlinkClosedException("control stream to " + conn.remoteName()
                    + " closed"));
        }
        super.channelInactive(ctx);
    }
}
