package io.shardlink.cli.bench;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.handler.ssl.ClientAuth;
import io.netty.incubator.codec.quic.InsecureQuicTokenHandler;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicClientCodecBuilder;
import io.netty.incubator.codec.quic.QuicServerCodecBuilder;
import io.netty.incubator.codec.quic.QuicSslContext;
import io.netty.incubator.codec.quic.QuicSslContextBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A raw Netty QUIC server and one client connection to it on 127.0.0.1, with shardlink's settings (mutual TLS,
 * UDP payload, windows, stream limit, socket buffers; see {@link RawQuic#common}), one event-loop thread per
 * side: what the copy and read references share. The server's streams get {@code serverStreams}.
 */
final class RawQuicPair implements AutoCloseable {
    private final EventLoopGroup serverGroup = new NioEventLoopGroup(1);
    private final EventLoopGroup clientGroup = new NioEventLoopGroup(1);
    private final Channel server;
    private final Channel clientUdp;
    final QuicChannel conn;

    RawQuicPair(Path cert, Path key, Path trust, int payload, long streamWindow, long connWindow, int maxStreams,
                long idleMillis, ChannelHandler serverStreams) throws Exception {
        QuicSslContext serverSsl = QuicSslContextBuilder.forServer(key.toFile(), null, cert.toFile())
                .trustManager(trust.toFile()).clientAuth(ClientAuth.REQUIRE).applicationProtocols(RawQuic.ALPN).build();
        QuicSslContext clientSsl = QuicSslContextBuilder.forClient().keyManager(key.toFile(), null, cert.toFile())
                .trustManager(trust.toFile()).applicationProtocols(RawQuic.ALPN).build();
        ChannelHandler serverCodec = RawQuic.common(new QuicServerCodecBuilder(), payload, streamWindow, connWindow,
                        maxStreams, idleMillis)
                .sslContext(serverSsl)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new ChannelInboundHandlerAdapter())
                .streamHandler(serverStreams)
                .build();
        server = RawQuic.udp(serverGroup, payload).handler(serverCodec).bind(new InetSocketAddress("127.0.0.1", 0))
                .sync().channel();
        ChannelHandler clientCodec = RawQuic.common(new QuicClientCodecBuilder(), payload, streamWindow, connWindow,
                maxStreams, idleMillis).sslContext(clientSsl).build();
        clientUdp = RawQuic.udp(clientGroup, payload).handler(clientCodec).bind(0).sync().channel();
        conn = QuicChannel.newBootstrap(clientUdp).handler(new ChannelInboundHandlerAdapter())
                .streamHandler(new ChannelInboundHandlerAdapter())
                .remoteAddress(server.localAddress()).connect().get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        conn.close().awaitUninterruptibly(2000);
        clientUdp.close().awaitUninterruptibly(2000);
        server.close().awaitUninterruptibly(2000);
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
    }
}
