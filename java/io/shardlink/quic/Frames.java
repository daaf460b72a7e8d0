package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;

/** Writing frames to Netty channels. */
final class Frames {
    private Frames() {}

    /** Writes header (+ payload, ownership passes) ; header length/crc must describe the payload. */
    static ChannelFuture write(Channel ch, FrameHeader h, ByteBuf payload, boolean flush) {
        ByteBuf hb = ch.alloc().directBuffer(FrameCodec.HEADER_SIZE);
        if (payload == null) {
            h.length(0).crc32c(0);
        }
        FrameCodec.encodeHeader(h, hb);
        if (payload == null) {
            return flush ? ch.writeAndFlush(hb) : ch.write(hb);
        }
        ch.write(hb, ch.voidPromise());
        return flush ? ch.writeAndFlush(payload) : ch.write(payload);
    }

    /**
     * {@link #write} without flush and without a promise per write (the data path's per-operation frames): a
     * failed write fires exceptionCaught in the channel's pipeline instead.
     */
    static void writeVoid(Channel ch, FrameHeader h, ByteBuf payload) {
        ByteBuf hb = ch.alloc().directBuffer(FrameCodec.HEADER_SIZE);
        if (payload == null) {
            h.length(0).crc32c(0);
        }
        FrameCodec.encodeHeader(h, hb);
        ch.write(hb, ch.voidPromise());
        if (payload != null) {
            ch.write(payload, ch.voidPromise());
        }
    }

    /** Writes a frame whose small payload is computed here (length and CRC filled in). */
    static ChannelFuture writeWithPayload(Channel ch, FrameHeader h, ByteBuf payload) {
        h.length(payload.readableBytes()).crc32c(payload.readableBytes() == 0 ? 0
                : FrameCodec.crc32c(payload, payload.readerIndex(), payload.readableBytes()));
        return write(ch, h, payload, true);
    }
}
