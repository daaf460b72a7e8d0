package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;

/**
 * Splits a QUIC stream into {@link Frame}s. The 56-byte header is gathered first and validated before any
 * payload byte is buffered, so an oversized or malformed frame is refused at once; a valid header gets a
 * pooled direct buffer of exactly its payload length, filled as packets arrive (every byte is copied once:
 * no cumulation buffer that grows and re-copies). After the first bad frame the stream's framing is lost:
 * the error goes to the next handler (which answers ERROR and closes the stream) and the rest of the
 * stream's input is discarded.
 */
final class FrameDecoder extends ChannelInboundHandlerAdapter {
    private final FrameLimits limits;
    private final ByteBuf header = Unpooled.buffer(FrameCodec.HEADER_SIZE, FrameCodec.HEADER_SIZE);
    private FrameHeader current;
    private ByteBuf payload;
    private boolean failed;
    private boolean ended;

    FrameDecoder(FrameLimits limits) {
        this.limits = limits;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            while (in.isReadable() && !failed) {
                if (current == null) {
                    int n = Math.min(header.writableBytes(), in.readableBytes());
                    header.writeBytes(in, n);
                    if (header.writableBytes() > 0) {
                        return;
                    }
                    FrameHeader h;
                    try {
                        h = FrameCodec.decodeHeader(header, new FrameHeader(), limits);
                    } catch (FrameException e) {
                        fail(ctx, e);
                        return;
                    } finally {
                        header.clear();
                    }
                    current = h;
                    if (h.length() == 0) {
                        emit(ctx, Unpooled.EMPTY_BUFFER);
                        continue;
                    }
                    payload = ctx.alloc().directBuffer(h.length(), h.length());
                }
                int n = Math.min(payload.writableBytes(), in.readableBytes());
                payload.writeBytes(in, n);
                if (payload.writableBytes() == 0) {
                    ByteBuf p = payload;
                    payload = null;
                    emit(ctx, p);
                }
            }
        } finally {
            in.release();
        }
    }

    private void emit(ChannelHandlerContext ctx, ByteBuf p) {
        FrameHeader h = current;
        current = null;
        ctx.fireChannelRead(new Frame(h, p));
    }

    private void fail(ChannelHandlerContext ctx, FrameException e) {
        failed = true;
        releasePartial();
        ctx.fireExceptionCaught(e);
    }

    private void releasePartial() {
        if (payload != null) {
            payload.release();
            payload = null;
        }
        current = null;
        header.clear();
    }

    private void streamEnded(ChannelHandlerContext ctx) {
        if (ended) {
            return;
        }
        ended = true;
        if (!failed && (header.isReadable() || current != null)) {
            int have = current == null ? header.readableBytes() : FrameCodec.HEADER_SIZE
                    + (payload == null ? 0 : payload.readableBytes());
            String what = current == null ? "header" : current.type() + " frame (" + current.length()
                    + " payload bytes announced)";
            fail(ctx, new FrameException(ErrorCode.TRUNCATED, "stream ended inside a frame: " + have
                    + " bytes of an incomplete " + what));
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            streamEnded(ctx);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releasePartial();
        ended = true;
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePartial();
    }
}
