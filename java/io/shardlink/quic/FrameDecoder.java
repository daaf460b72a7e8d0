package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import java.util.List;

/**
 * Splits a QUIC stream into {@link Frame}s. The header is validated before any payload is buffered, so an
 * oversized length is refused at once; after the first bad frame the stream's framing is lost and the rest
 * of its input is discarded (the handler answers with ERROR and closes the stream).
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private final FrameLimits limits;
    private final FrameHeader scratch = new FrameHeader();
    private boolean failed;

    FrameDecoder(FrameLimits limits) {
        this.limits = limits;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < FrameCodec.HEADER_SIZE) {
            return;
        }
        int start = in.readerIndex();
        try {
            FrameCodec.decodeHeader(in, scratch, limits);
        } catch (FrameException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
        int len = scratch.length();
        if (in.readableBytes() < len) {
            in.readerIndex(start); // wait for the whole payload
            return;
        }
        ByteBuf payload = len == 0 ? ctx.alloc().buffer(0) : in.readRetainedSlice(len);
        out.add(new Frame(new FrameHeader().copyFrom(scratch), payload));
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        decode(ctx, in, out);
        if (!failed && in.isReadable()) {
            int n = in.readableBytes();
            failed = true;
            in.skipBytes(n);
            throw new FrameException(ErrorCode.TRUNCATED, "stream ended inside a frame: " + n + " bytes of an "
                    + "incomplete " + (n < FrameCodec.HEADER_SIZE ? "header" : "frame") + " left over");
        }
    }
}
