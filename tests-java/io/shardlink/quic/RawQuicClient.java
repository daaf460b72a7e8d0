package io.shardlink.quic;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicClientCodecBuilder;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import io.shardlink.wire.Hello;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A misbehaving peer for tests: a raw QUIC client (trusted certificate, ALPN shardlink/1) that writes
 * arbitrary bytes on streams and collects the frames the node answers with.
 */
public final class RawQuicClient implements AutoCloseable {
    private final NioEventLoopGroup group = new NioEventLoopGroup(1);
    private final Channel udp;
    private final QuicChannel quic;

    public RawQuicClient(ShardlinkConfig config, InetSocketAddress server) throws Exception {
        var codec = new QuicClientCodecBuilder().sslContext(QuicTls.client(config))
                .maxIdleTimeout(30, TimeUnit.SECONDS).initialMaxData(64 << 20)
                .initialMaxStreamDataBidirectionalLocal(16 << 20).initialMaxStreamDataBidirectionalRemote(16 << 20)
                .initialMaxStreamsBidirectional(100).maxRecvUdpPayloadSize(1350).maxSendUdpPayloadSize(1350).build();
        udp = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(4096))
                .handler(codec).bind(0).sync().channel();
        quic = QuicChannel.newBootstrap(udp).streamHandler(new ChannelInboundHandlerAdapter())
                .remoteAddress(server).connect().get(10, TimeUnit.SECONDS);
    }

    /** A stream and what came back on it. */
    public final class RawStream {
        final QuicStreamChannel ch;
        final ByteBuf received = Unpooled.buffer();
        final CompletableFuture<Void> closed = new CompletableFuture<>();

        RawStream(QuicStreamChannel ch) {
            this.ch = ch;
        }

        public void write(ByteBuf bytes) {
            ch.writeAndFlush(bytes).syncUninterruptibly();
        }

        public void finish() {
            ch.shutdownOutput().syncUninterruptibly();
        }

        /** Waits until the node closed its side (or the timeout) and decodes what it sent. */
        public List<FrameHeader> awaitFrames(long millis, int atLeast) throws Exception {
            long end = System.currentTimeMillis() + millis;
            while (System.currentTimeMillis() < end) {
                List<FrameHeader> fs = frames(null);
                if (fs.size() >= atLeast || closed.isDone()
                        || fs.stream().anyMatch(h -> h.type() == FrameType.ERROR)) {
                    return fs;
                }
                Thread.sleep(20);
            }
            return frames(null);
        }

        /** Frames received so far; ERROR messages go to {@code messages} when non-null. */
        public synchronized List<FrameHeader> frames(List<String> messages) {
            List<FrameHeader> out = new ArrayList<>();
            ByteBuf b = received.duplicate();
            while (b.readableBytes() >= FrameCodec.HEADER_SIZE) {
                FrameHeader h = FrameCodec.decodeHeader(b, new FrameHeader(), FrameLimits.of(64 << 20));
                if (b.readableBytes() < h.length()) {
                    break;
                }
                ByteBuf p = b.readSlice(h.length());
                if (messages != null && h.type() == FrameType.ERROR) {
                    messages.add(FrameCodec.errorMessage(p));
                }
                out.add(h);
            }
            return out;
        }

        public List<String> errorMessages() {
            List<String> m = new ArrayList<>();
            frames(m);
            return m;
        }
    }

    public RawStream openStream() throws Exception {
        RawStream[] holder = new RawStream[1];
        QuicStreamChannel ch = quic.createStream(QuicStreamType.BIDIRECTIONAL, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                synchronized (holder[0]) {
                    holder[0].received.writeBytes(b);
                }
                b.release();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                holder[0].closed.complete(null);
            }
        }).get(10, TimeUnit.SECONDS);
        holder[0] = new RawStream(ch);
        return holder[0];
    }

    /** Opens the control stream and exchanges a valid HELLO; returns the control stream. */
    public RawStream hello(String nodeId) throws Exception {
        RawStream s = openStream();
        ByteBuf p = Unpooled.buffer();
        new Hello(nodeId, FrameCodec.VERSION, 0, 4 << 20, 16, new byte[0]).encode(p);
        ByteBuf f = Unpooled.buffer();
        FrameCodec.encodeFrame(new FrameHeader(FrameType.HELLO), p, f);
        s.write(f);
        List<FrameHeader> got = s.awaitFrames(10_000, 1);
        if (got.isEmpty() || got.get(0).type() != FrameType.HELLO) {
            throw new AssertionError("no HELLO answer: " + got);
        }
        return s;
    }

    public boolean isOpen() {
        return quic.isActive();
    }

    @Override
    public void close() {
        quic.close().awaitUninterruptibly(2000);
        udp.close().awaitUninterruptibly(2000);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
