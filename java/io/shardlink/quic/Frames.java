package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import java.util.concurrent.RejectedExecutionException;

/** Writing frames to Netty channels. */
final class Frames {
    private Frames() {}

    /**
     * Writes header (+ payload, ownership passes) ; header length/crc must describe the payload. Off the channel's
     * event loop, header and payload are written by one task on it: two writes from another thread are two tasks,
     * and a frame another thread writes to the same stream (the control stream has several writers: copy threads'
     * ring requests, the RDMA poller's PATH_READY) could land between them and corrupt both frames.
     */
    static ChannelFuture write(Channel ch, FrameHeader h, ByteBuf payload, boolean flush) {
        ByteBuf hb = ch.alloc().directBuffer(FrameCodec.HEADER_SIZE);
        if (payload == null) {
            h.length(0).crc32c(0);
        }
        FrameCodec.encodeHeader(h, hb);
        if (payload == null) {
            return flush ? ch.writeAndFlush(hb) : ch.write(hb);
        }
        if (!ch.eventLoop().inEventLoop()) {
            ChannelPromise done = ch.newPromise();
            try {
                ch.eventLoop().execute(() -> writeBoth(ch, hb, payload, flush, done));
            } catch (RejectedExecutionException e) {
                hb.release();
                payload.release();
                done.setFailure(e);
            }
            return done;
        }
        ch.write(hb, ch.voidPromise());
        return flush ? ch.writeAndFlush(payload) : ch.write(payload);
    }

    private static void writeBoth(Channel ch, ByteBuf hb, ByteBuf payload, boolean flush, ChannelPromise done) {
        ch.write(hb, ch.voidPromise());
        if (flush) {
            ch.writeAndFlush(payload, done);
        } else {
            ch.write(payload, done);
        }
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
