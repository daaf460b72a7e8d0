package io.shardlink.quic;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.DecoderException;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reading side of shared read streams: a few long-lived QUIC streams per peer connection, each carrying
 * many pipelined READ_REQs (FLAG_SHARED_STREAM); answers (READ_RESP or ERROR with the request id) come back in
 * any order and are matched to their caller by id. Opening a QUIC stream per read costs a stream handshake
 * and two FINs per read, and serializes on the stream credit; here a read is one frame each way. Reads are
 * spread round-robin over the streams (so one large answer does not delay every small one). A stream that
 * breaks (reset, framing lost, connection gone) fails only the reads it carried; the next read opens a new one.
 * Used only towards a peer whose HELLO has CAP_READ_STREAMS.
 */
final class SharedReadStreams {
    private final QuicConnection conn;
    private final Lane[] lanes;
    private final AtomicInteger next = new AtomicInteger();

    SharedReadStreams(QuicConnection conn, int streams) {
        this.conn = conn;
        this.lanes = new Lane[streams];
        for (int i = 0; i < streams; i++) {
            lanes[i] = new Lane();
        }
    }

    CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset, int length) {
        CompletableFuture<Frame> result = new CompletableFuture<>();
        Lane lane = lanes[Math.floorMod(next.getAndIncrement(), lanes.length)];
        lane.pending.put(requestId, result);
        // an answer that never comes (the read timed out) must not stay in the map
        result.whenComplete((r, e) -> lane.pending.remove(requestId, result));
        CompletableFuture<QuicStreamChannel> stream = lane.stream();
        QuicStreamChannel ready = stream.isDone() && !stream.isCompletedExceptionally() ? stream.getNow(null) : null;
        if (ready != null) {
            send(lane, ready, requestId, volumeId, needleId, cookie, offset, length, result); // the usual case
        } else {
            stream.whenComplete((s, err) -> {
                if (err != null) {
                    lane.pending.remove(requestId, result);
                    result.completeExceptionally(err);
                } else {
                    send(lane, s, requestId, volumeId, needleId, cookie, offset, length, result);
                }
            });
        }
        return result;
    }

    private static void send(Lane lane, QuicStreamChannel s, long requestId, long volumeId, long needleId, long cookie,
                             long offset, int length, CompletableFuture<Frame> result) {
        FrameHeader req = new FrameHeader(FrameType.READ_REQ).id(requestId).object(volumeId).aux(needleId)
                .offset(offset).arg(length).cookie(cookie).addFlag(FrameHeader.FLAG_SHARED_STREAM);
        if (s.eventLoop().inEventLoop()) {
            lane.send(s, req);
        } else {
            s.eventLoop().execute(() -> lane.send(s, req));
        }
    }

    /** Shared streams this side opened that are open now. */
    int open() {
        int n = 0;
        for (Lane l : lanes) {
            CompletableFuture<QuicStreamChannel> s = l.current;
            if (s != null && s.isDone() && !s.isCompletedExceptionally() && s.join().isActive()) {
                n++;
            }
        }
        return n;
    }

    /** One shared stream and the reads waiting for an answer on it. */
    private final class Lane {
        final ConcurrentHashMap<Long, CompletableFuture<Frame>> pending = new ConcurrentHashMap<>();
        volatile CompletableFuture<QuicStreamChannel> current;
        /** The stream's flush batcher (event loop only; replaced with the stream). */
        private FlushBatcher flushes;

        /**
         * Writes a READ_REQ (event loop); requests queued together go out in one flush. No promise per write: a
         * write that fails (the stream closed under it) reaches AnswerHandler.exceptionCaught, which fails every
         * read of the lane, this one included (it is in {@code pending} before it is sent).
         */
        void send(QuicStreamChannel s, FrameHeader req) {
            if (flushes == null || flushes.channel() != s) {
                flushes = new FlushBatcher(s);
            }
            Frames.writeVoid(s, req, null);
            flushes.writeDone();
        }

        /** The lane's stream, opened on first use and again after it broke. */
        CompletableFuture<QuicStreamChannel> stream() {
            CompletableFuture<QuicStreamChannel> c = current;
            if (usable(c)) {
                return c;
            }
            synchronized (this) {
                c = current;
                if (usable(c)) {
                    return c;
                }
                CompletableFuture<QuicStreamChannel> opening = new CompletableFuture<>();
                current = opening;
                if (!conn.isOpen()) {
                    opening.completeExceptionally(new ShardlinkClosedException("shared QUIC read stream to "
                            + conn.remoteName() + ": the connection is closed" + StreamResets.connectionEnd(conn)));
                    return opening;
                }
                conn.channel().createStream(QuicStreamType.BIDIRECTIONAL, new ChannelInitializer<QuicStreamChannel>() {
                    @Override
                    protected void initChannel(QuicStreamChannel ch) {
                        conn.trackShared(ch);
                        ch.pipeline().addLast(new FrameDecoder(conn.limits()), new AnswerHandler(Lane.this));
                    }
                }).addListener(f -> {
                    if (f.isSuccess()) {
                        opening.complete((QuicStreamChannel) f.getNow());
                    } else {
                        opening.completeExceptionally(new ShardlinkClosedException("cannot open a shared QUIC read "
                                + "stream to " + conn.remoteName() + ": " + f.cause(), f.cause()));
                    }
                });
                return opening;
            }
        }

        private static boolean usable(CompletableFuture<QuicStreamChannel> c) {
            if (c == null) {
                return false;
            }
            if (!c.isDone()) {
                return true; // being opened
            }
            if (c.isCompletedExceptionally()) {
                return false;
            }
            QuicStreamChannel s = c.join();
            return s.isActive() && !s.isOutputShutdown() && !s.isInputShutdown();
        }

        /** The stream broke: every read it carried fails with {@code cause} (later reads open a new one). */
        void failAll(Throwable cause) {
            for (Long id : new ArrayList<>(pending.keySet())) {
                CompletableFuture<Frame> r = pending.remove(id);
                if (r != null) {
                    r.completeExceptionally(cause);
                }
            }
        }
    }

    /** Matches answers on a shared stream to their reads by request id. */
    private final class AnswerHandler extends ChannelInboundHandlerAdapter {
        private final Lane lane;

        AnswerHandler(Lane lane) {
            this.lane = lane;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Frame f = (Frame) msg;
            FrameHeader h = f.header();
            CompletableFuture<Frame> r = lane.pending.remove(h.id());
            if (h.type() == FrameType.READ_RESP) {
                if (r == null || !r.complete(f)) { // an answer to a read that timed out
                    f.release();
                }
                return;
            }
            try {
                if (h.type() == FrameType.ERROR && r != null) {
                    r.completeExceptionally(new FrameException(h.errorCode(), FrameCodec.errorMessage(f.payload())));
                } else if (h.type() == FrameType.ERROR && h.id() == 0) {
                    // about the stream itself (the server lost its framing): it closes; its reads fail
                    lane.failAll(new FrameException(h.errorCode(), "peer " + conn.remoteName() + " closed the "
                            + "shared QUIC read stream: " + FrameCodec.errorMessage(f.payload())));
                } else if (h.type() != FrameType.ERROR) {
                    lane.failAll(new FrameException(ErrorCode.PROTOCOL, "unexpected " + h + " on a shared QUIC "
                            + "read stream from " + conn.remoteName()));
                    StreamEnds.abort((QuicStreamChannel) ctx.channel(), ErrorCode.PROTOCOL);
                }
            } finally {
                f.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            lane.failAll(StreamResets.explain(c, conn.remoteName(), "shared reads"));
            StreamEnds.abort((QuicStreamChannel) ctx.channel(), ErrorCode.PROTOCOL);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                StreamEnds.finish((QuicStreamChannel) ctx.channel()); // the server ended it: end ours too
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            lane.failAll(new ShardlinkClosedException("shared QUIC read stream to " + conn.remoteName()
                    + " closed before an answer" + StreamResets.connectionEnd(conn)));
        }
    }
}
