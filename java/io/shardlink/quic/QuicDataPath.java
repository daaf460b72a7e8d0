package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.DecoderException;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import io.netty.util.concurrent.Future;
import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.config.Transport;
import io.shardlink.transfer.DataPath;
import io.shardlink.transfer.TransferChannel;
import io.shardlink.transfer.TransferListener;
import io.shardlink.transfer.TransferSpec;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The QUIC data path: one bidirectional stream per shard transfer (COPY_BEGIN, DATA..., COPY_END one way;
 * ACK..., COPY_DONE back); blob reads pipelined on a few shared read streams ({@link SharedReadStreams}) when
 * the peer offers them, else one stream per read (READ_REQ; READ_RESP or ERROR). A stream per operation
 * keeps head-of-line blocking between operations out (a slow 4 MiB copy does not delay a 4 KiB read), makes
 * per-operation errors local (an ERROR closes that stream only) and costs little in QUIC (stream ids are
 * cheap; the stream limit is raised to {@code quicMaxStreams}).
 */
public final class QuicDataPath implements DataPath {
    private final QuicConnection conn;
    private final long openTimeoutMillis;
    /** Shared read streams, once the peer's HELLO offered them (else a stream per read). */
    private volatile SharedReadStreams sharedReads;

    public QuicDataPath(QuicConnection conn, long openTimeoutMillis) {
        this.conn = conn;
        this.openTimeoutMillis = openTimeoutMillis;
    }

    /**
     * Reads go over {@code streams} shared read streams from now on (the peer's HELLO has CAP_READ_STREAMS);
     * without this call each read opens its own stream, as towards a peer that predates them.
     */
    public void useSharedReadStreams(int streams) {
        if (streams > 0 && sharedReads == null) {
            sharedReads = new SharedReadStreams(conn, streams);
        }
    }

    /** Whether reads travel on shared read streams. */
    public boolean sharedReadStreams() {
        return sharedReads != null;
    }

    @Override
    public Transport transport() {
        return Transport.QUIC;
    }

    @Override
    public boolean isOpen() {
        return conn.isOpen();
    }

    @Override
    public TransferChannel openTransfer(TransferSpec spec, TransferListener listener) throws Exception {
        CopyOutHandler handler = new CopyOutHandler(spec.transferId(), listener);
        Future<QuicStreamChannel> f = conn.channel().createStream(QuicStreamType.BIDIRECTIONAL,
                new ChannelInitializer<QuicStreamChannel>() {
                    @Override
                    protected void initChannel(QuicStreamChannel ch) {
                        conn.track(ch);
                        ch.pipeline().addLast(new FrameDecoder(conn.limits()), handler);
                    }
                });
        if (!f.await(openTimeoutMillis, TimeUnit.MILLISECONDS)) {
            f.cancel(false);
            throw new ShardlinkClosedException("no QUIC stream to " + conn.remoteName() + " within " + openTimeoutMillis
                    + " ms");
        }
        if (!f.isSuccess()) {
            throw new ShardlinkClosedException("cannot open a QUIC stream to " + conn.remoteName() + ": " + f.cause(),
                    f.cause());
        }
        QuicStreamChannel s = f.getNow();
        FrameHeader begin = new FrameHeader(FrameType.COPY_BEGIN).id(spec.transferId()).object(spec.shardId())
                .aux(spec.totalLength()).offset(spec.startOffset());
        if (spec.resume()) {
            begin.addFlag(FrameHeader.FLAG_RESUME);
        }
        Frames.write(s, begin, null, true).addListener(handler.failOnError);
        return new QuicTransferChannel(s, spec, handler);
    }

    private final class QuicTransferChannel implements TransferChannel {
        private final QuicStreamChannel stream;
        private final TransferSpec spec;
        private final CopyOutHandler handler;
        private final AtomicBoolean closed = new AtomicBoolean();

        QuicTransferChannel(QuicStreamChannel stream, TransferSpec spec, CopyOutHandler handler) {
            this.stream = stream;
            this.spec = spec;
            this.handler = handler;
        }

        @Override
        public void sendChunk(long offset, PooledBuffer buffer, int length, int crc32c, boolean last) {
            if (closed.get()) {
                buffer.release();
                throw new IllegalStateException("transfer channel of " + spec + " is closed");
            }
            FrameHeader h = new FrameHeader(FrameType.DATA).id(spec.transferId()).object(spec.shardId())
                    .offset(offset).length(length).crc32c(crc32c);
            if (last) {
                h.addFlag(FrameHeader.FLAG_LAST);
            }
            ByteBuffer view = buffer.buffer().duplicate();
            view.limit(length).position(0);
            ByteBuf payload = Unpooled.wrappedBuffer(view); // no copy; QUIC copies into its send buffer
            Frames.write(stream, h, payload, true).addListener((ChannelFutureListener) w -> {
                buffer.release();
                if (!w.isSuccess()) {
                    handler.pathFailure(w.cause());
                }
            });
        }

        @Override
        public void sendEnd(long totalLength) {
            Frames.write(stream, new FrameHeader(FrameType.COPY_END).id(spec.transferId()).object(spec.shardId())
                    .aux(totalLength), null, true).addListener(handler.failOnError);
        }

        @Override
        public void close(Throwable cause) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            handler.closedByUs = true;
            if (cause != null && stream.isActive() && !stream.isOutputShutdown()) {
                ByteBuf b = stream.alloc().buffer();
                FrameCodec.encodeError(spec.transferId(), 0, ErrorCode.SHUTTING_DOWN, "sender abandoned the copy: "
                        + cause.getMessage(), b);
                stream.writeAndFlush(b);
            }
            // our half ends; the stream closes when the receiver's half has ended too (see StreamEnds)
            StreamEnds.finish(stream);
        }
    }

    /** Sender side of a copy stream: ACK / COPY_DONE / ERROR to the listener. */
    private final class CopyOutHandler extends ChannelInboundHandlerAdapter {
        private final long transferId;
        private final TransferListener listener;
        volatile boolean closedByUs;
        final ChannelFutureListener failOnError;

        CopyOutHandler(long transferId, TransferListener listener) {
            this.transferId = transferId;
            this.listener = listener;
            this.failOnError = f -> {
                if (!f.isSuccess()) {
                    pathFailure(f.cause());
                }
            };
        }

        void pathFailure(Throwable t) {
            if (!closedByUs) {
                if (t instanceof java.nio.channels.ClosedChannelException) {
                    // a write that met the stream already closed (the receiving node reset it or closed the
                    // connection): say so, as channelInactive would, instead of a bare ClosedChannelException
                    t = new ShardlinkClosedException("QUIC stream of transfer " + transferId + " to "
                            + conn.remoteName() + " closed" + StreamResets.connectionEnd(conn), t);
                }
                listener.onPathFailure(t);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Frame f = (Frame) msg;
            try {
                FrameHeader h = f.header();
                if (closedByUs) {
                    return; // the copy left this stream (done, failed over or given up): its answers are moot
                }
                if (h.id() != transferId) {
                    throw new FrameException(ErrorCode.PROTOCOL, h.type() + " for transfer " + h.id()
                            + " on the stream of transfer " + transferId);
                }
                switch (h.type()) {
                    case ACK -> listener.onAck(h.offset(), h.credits());
                    case COPY_DONE -> listener.onDone(h.totalLength());
                    case ERROR -> listener.onRejected(new FrameException(h.errorCode(),
                            FrameCodec.errorMessage(f.payload())));
                    default -> throw new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type()
                            + " from the receiver of transfer " + transferId);
                }
            } catch (FrameException e) {
                listener.onRejected(e);
                StreamEnds.abort((QuicStreamChannel) ctx.channel(), e.code());
            } finally {
                f.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            c = StreamResets.explain(c, conn.remoteName(), "transfer " + transferId);
            if (c instanceof FrameException fe) {
                listener.onRejected(fe);
            } else {
                pathFailure(c);
            }
            StreamEnds.abort((QuicStreamChannel) ctx.channel(), c instanceof FrameException fe ? fe.code()
                    : ErrorCode.INTERNAL);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            pathFailure(new ShardlinkClosedException("QUIC stream of transfer " + transferId + " to "
                    + conn.remoteName() + " closed" + StreamResets.connectionEnd(conn)));
        }
    }

    // ------------------------------------------------------------------ reads

    @Override
    public boolean supportsReads() {
        return true;
    }

    @Override
    public CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset,
                                         int length) {
        SharedReadStreams shared = sharedReads;
        if (shared != null) {
            return shared.read(requestId, volumeId, needleId, cookie, offset, length);
        }
        CompletableFuture<Frame> result = new CompletableFuture<>();
        ReadOutHandler handler = new ReadOutHandler(requestId, result);
        conn.channel().createStream(QuicStreamType.BIDIRECTIONAL, new ChannelInitializer<QuicStreamChannel>() {
            @Override
            protected void initChannel(QuicStreamChannel ch) {
                conn.track(ch);
                ch.pipeline().addLast(new FrameDecoder(conn.limits()), handler);
            }
        }).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(new ShardlinkClosedException("cannot open a QUIC stream to "
                        + conn.remoteName() + " for a read: " + f.cause(), f.cause()));
                return;
            }
            QuicStreamChannel s = (QuicStreamChannel) f.getNow();
            // our half ends after the answer (the server ends its half with it): the stream then ends fully.
            // A read given up before its answer (timeout, cancel) ends our half at once and still reads the
            // late answer; only a peer that never answers gets the stream reset (StreamEnds.lingerThenAbort)
            Frames.write(s, new FrameHeader(FrameType.READ_REQ).id(requestId).object(volumeId).aux(needleId)
                    .offset(offset).arg(length).cookie(cookie), null, true).addListener((ChannelFutureListener) w -> {
                        if (!w.isSuccess()) {
                            result.completeExceptionally(w.cause());
                        }
                    });
            result.whenComplete((r, e) -> {
                if (!handler.answered) {
                    StreamEnds.finish(s);
                }
            });
        });
        return result;
    }

    /** Reader side of a read stream. */
    private final class ReadOutHandler extends ChannelInboundHandlerAdapter {
        private final long requestId;
        private final CompletableFuture<Frame> result;
        /** The server's answer arrived (it ends the server's half; ours ends on reading it). */
        volatile boolean answered;

        ReadOutHandler(long requestId, CompletableFuture<Frame> result) {
            this.requestId = requestId;
            this.result = result;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Frame f = (Frame) msg;
            FrameHeader h = f.header();
            if (answered) {
                f.release();
                StreamEnds.abort((QuicStreamChannel) ctx.channel(), ErrorCode.PROTOCOL);
                return;
            }
            answered = true;
            if (h.type() == FrameType.READ_RESP && h.id() == requestId) {
                if (!result.complete(f)) { // an answer after the read timed out
                    f.release();
                }
            } else if (h.type() == FrameType.ERROR) {
                result.completeExceptionally(new FrameException(h.errorCode(), FrameCodec.errorMessage(f.payload())));
                f.release();
            } else {
                result.completeExceptionally(new FrameException(ErrorCode.PROTOCOL, "unexpected " + h
                        + " in answer to read " + requestId));
                f.release();
            }
            StreamEnds.finish((QuicStreamChannel) ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            result.completeExceptionally(StreamResets.explain(c, conn.remoteName(), "read " + requestId));
            StreamEnds.abort((QuicStreamChannel) ctx.channel(), ErrorCode.PROTOCOL);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new ShardlinkClosedException("QUIC stream of read " + requestId + " to "
                    + conn.remoteName() + " closed before an answer" + StreamResets.connectionEnd(conn)));
        }
    }
}
