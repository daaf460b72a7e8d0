package io.shardlink.cli.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicCodecBuilder;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A raw Netty QUIC bulk transfer, the reference for shardlink's QUIC copy: the same codec, TLS (mutual,
 * TLS 1.3, EC P-256), UDP payload size, flow-control windows, stream limits, socket buffers and one event-loop
 * thread per side, but no shardlink framing, CRC32C, credits or chunk staging. The client opens one
 * bidirectional stream per transfer, writes an 8-byte length and then the bytes from a direct buffer, keeping
 * up to {@code inflight} bytes queued (as shardlink's copy window does); the server counts and drops them and answers one byte when all arrived.
 * The time is from the first write to that answer.
 */
public final class RawQuic implements AutoCloseable {
    public static final String ALPN = "shardlink-rawbench";
    private static final int WRITE = 4 << 20; // shardlink's default chunk (maxSendSize)

    private final RawQuicPair pair;
    private final QuicChannel conn;
    private final ByteBuf source;
    private final int inflight;

    /**
     * @param payload      UDP payload size (max send and receive), as shardlink's quicUdpPayloadFor(mtu)
     * @param streamWindow initial_max_stream_data_bidi_local/remote
     * @param connWindow   initial_max_data
     * @param maxStreams   initial_max_streams_bidi
     * @param inflight     bytes the sender keeps queued on the stream (shardlink: its copy window, credits x
     *                     chunk size); Netty's default write-buffer high-water mark (64 KiB) would starve QUIC
     */
    public RawQuic(Path cert, Path key, Path trust, int payload, long streamWindow, long connWindow, int maxStreams,
                   long idleMillis, int inflight) throws Exception {
        this.inflight = inflight;
        pair = new RawQuicPair(cert, key, trust, payload, streamWindow, connWindow, maxStreams, idleMillis,
                new ChannelInitializer<QuicStreamChannel>() {
                    @Override
                    protected void initChannel(QuicStreamChannel ch) {
                        ch.pipeline().addLast(new Sink());
                    }
                });
        conn = pair.conn;
        ByteBuffer b = ByteBuffer.allocateDirect(WRITE);
        for (int i = 0; i < WRITE; i += 8) {
            b.putLong(i, i * 0x9E3779B97F4A7C15L);
        }
        source = Unpooled.wrappedBuffer(b);
    }

    static <B extends QuicCodecBuilder<B>> B common(B b, int payload, long streamWindow, long connWindow,
                                                             int maxStreams, long idleMillis) {
        return b.maxIdleTimeout(idleMillis, TimeUnit.MILLISECONDS)
                .initialMaxData(connWindow)
                .initialMaxStreamDataBidirectionalLocal(streamWindow)
                .initialMaxStreamDataBidirectionalRemote(streamWindow)
                .initialMaxStreamsBidirectional(maxStreams)
                .initialMaxStreamsUnidirectional(0)
                .maxRecvUdpPayloadSize(payload)
                .maxSendUdpPayloadSize(payload)
                .activeMigration(false);
    }

    static Bootstrap udp(EventLoopGroup g, int payload) {
        return new Bootstrap().group(g).channel(NioDatagramChannel.class)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(Math.max(2048, payload + 1024)))
                .option(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
                .option(ChannelOption.SO_SNDBUF, 4 * 1024 * 1024);
    }

    /** Transfers {@code size} bytes on a new stream; returns the nanoseconds from the first write to the answer. */
    public long transfer(long size) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Sender sender = new Sender(size, done);
        QuicStreamChannel s = conn.createStream(QuicStreamType.BIDIRECTIONAL, sender).get(10, TimeUnit.SECONDS);
        s.eventLoop().execute(() -> sender.start(s));
        long ns = done.get(600, TimeUnit.SECONDS);
        s.close();
        return ns;
    }

    /** Client side of one stream: writes while writable, then waits for the answer byte. */
    private final class Sender extends ChannelInboundHandlerAdapter {
        private final long size;
        private final CompletableFuture<Long> done;
        private long sent;
        private long start;

        Sender(long size, CompletableFuture<Long> done) {
            this.size = size;
            this.done = done;
        }

        void start(QuicStreamChannel ch) {
            ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(inflight / 2, inflight));
            start = System.nanoTime();
            ch.write(Unpooled.buffer(8).writeLong(size));
            pump(ch);
        }

        private void pump(Channel ch) {
            while (sent < size && ch.isWritable()) {
                int n = (int) Math.min(WRITE, size - sent);
                ch.write(source.retainedSlice(0, n));
                sent += n;
            }
            ch.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && sent < size) {
                pump(ctx.channel());
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ((ByteBuf) msg).release();
            done.complete(System.nanoTime() - start);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IllegalStateException("stream closed after " + sent + " bytes"));
        }
    }

    /** Server side of one stream: counts the bytes after the 8-byte length and answers one byte at the end. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        private final ByteBuf lengthBuf = Unpooled.buffer(8);
        private long expected = -1;
        private long received;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                if (expected < 0) {
                    int n = Math.min(8 - lengthBuf.readableBytes(), b.readableBytes());
                    lengthBuf.writeBytes(b, n);
                    if (lengthBuf.readableBytes() == 8) {
                        expected = lengthBuf.readLong();
                    }
                }
                received += b.readableBytes();
            } finally {
                b.release();
            }
            if (expected >= 0 && received >= expected) {
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
                expected = Long.MAX_VALUE;
            }
        }
    }

    @Override
    public void close() {
        pair.close();
        source.release();
    }
}
