package io.shardlink.cli.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.incubator.codec.quic.DefaultQuicStreamFrame;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A raw Netty QUIC request/response, the reference for shardlink's QUIC blob read: the same codec, TLS (mutual,
 * TLS 1.3), UDP payload, flow-control windows and stream limit as {@link RawQuic} (shardlink's loopback
 * settings), one event-loop thread per side, and one fresh bidirectional stream per request (what shardlink did
 * before shared read streams). The client writes a 56-byte request (a shardlink header's size; its first 4 bytes
 * the answer length) with FIN; the server answers that many bytes from a prepared direct buffer with FIN; the
 * time is from opening the stream to the last answer byte. No framing, CRC, blob source or worker hand-off.
 */
public final class RawQuicReads implements AutoCloseable {
    static final int REQUEST = 56;

    private final RawQuicPair pair;
    private final QuicChannel conn;
    private final ByteBuf answer;

    public RawQuicReads(Path cert, Path key, Path trust, int payload, long streamWindow, long connWindow,
                        int maxStreams, long idleMillis, int maxAnswer) throws Exception {
        ByteBuffer b = ByteBuffer.allocateDirect(maxAnswer);
        for (int i = 0; i + 8 <= maxAnswer; i += 8) {
            b.putLong(i, i * 0x9E3779B97F4A7C15L);
        }
        answer = Unpooled.wrappedBuffer(b);
        pair = new RawQuicPair(cert, key, trust, payload, streamWindow, connWindow, maxStreams, idleMillis,
                new ChannelInitializer<QuicStreamChannel>() {
                    @Override
                    protected void initChannel(QuicStreamChannel ch) {
                        ch.pipeline().addLast(new Responder());
                    }
                });
        conn = pair.conn;
    }

    /** One request for {@code length} bytes on a fresh stream; returns the nanoseconds until the whole answer. */
    public long request(int length) throws Exception {
        return start(length).get(30, TimeUnit.SECONDS);
    }

    /**
     * Starts one request for {@code length} bytes on a fresh stream (any number may be in flight: each has its own
     * stream); completes with the nanoseconds until the whole answer.
     */
    public CompletableFuture<Long> start(int length) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        long t0 = System.nanoTime();
        Requester r = new Requester(length, t0, done);
        conn.createStream(QuicStreamType.BIDIRECTIONAL, r).addListener(f -> {
            if (!f.isSuccess()) {
                done.completeExceptionally(f.cause());
                return;
            }
            QuicStreamChannel s = (QuicStreamChannel) f.getNow();
            ByteBuf req = s.alloc().directBuffer(REQUEST).writeInt(length).writeZero(REQUEST - 4);
            s.writeAndFlush(new DefaultQuicStreamFrame(req, true));
        });
        return done;
    }

    /** Client side of one request stream: counts the answer; done at its FIN (the stream then closes). */
    private static final class Requester extends ChannelInboundHandlerAdapter {
        private final int length;
        private final long t0;
        private final CompletableFuture<Long> done;
        private int received;

        Requester(int length, long t0, CompletableFuture<Long> done) {
            this.length = length;
            this.t0 = t0;
            this.done = done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            received += b.readableBytes();
            b.release();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                if (received == length) {
                    done.complete(System.nanoTime() - t0);
                } else {
                    done.completeExceptionally(new IllegalStateException("answer of " + received + " bytes, asked "
                            + length));
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IllegalStateException("stream closed after " + received + " bytes"));
        }
    }

    /** Server side (one per stream): gathers the 56-byte request, answers with the asked bytes and FIN. */
    private final class Responder extends ChannelInboundHandlerAdapter {
        private final ByteBuf req = Unpooled.buffer(REQUEST, REQUEST);
        private boolean answered;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                req.writeBytes(b, Math.min(b.readableBytes(), req.writableBytes()));
            } finally {
                b.release();
            }
            if (!answered && req.readableBytes() == REQUEST) {
                answered = true;
                ctx.writeAndFlush(new DefaultQuicStreamFrame(answer.retainedSlice(0, req.getInt(0)), true));
            }
        }
    }

    @Override
    public void close() {
        pair.close();
        answer.release();
    }
}
