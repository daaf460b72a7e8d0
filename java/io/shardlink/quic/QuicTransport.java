package io.shardlink.quic;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.incubator.codec.quic.InsecureQuicTokenHandler;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicClientCodecBuilder;
import io.netty.incubator.codec.quic.QuicConnectionCloseEvent;
import io.netty.incubator.codec.quic.QuicCodecBuilder;
import io.netty.incubator.codec.quic.QuicServerCodecBuilder;
import io.netty.incubator.codec.quic.QuicSslContext;
import io.shardlink.api.ShardlinkException;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.wire.FrameLimits;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLException;

/**
 * A node's QUIC endpoint: one UDP server socket for accepted connections, one UDP socket per outgoing
 * connection, all on one Netty event loop group whose threads come from the node's thread factory.
 *
 * <p>Flow control is set explicitly (without it quiche lets the handshake succeed and then never moves a
 * byte): {@code initial_max_data} = quicConnectionWindow, {@code initial_max_stream_data_bidi_local/remote}
 * = quicStreamWindow, {@code initial_max_streams_bidi} = quicMaxStreams (default 4096: 1,000 concurrent
 * reads plus copies fit). The datagram channels use a FixedRecvByteBufAllocator larger than the UDP payload
 * (quiche drops larger datagrams silently otherwise).
 */
public final class QuicTransport implements AutoCloseable {
    /** Creates the session for a connection the server accepted (called when its HELLO arrives). */
    public interface Acceptor {
        QuicConnectionListener accept(QuicConnection conn);
    }

    private final ShardlinkConfig config;
    private final String nodeId;
    private final EventLoopGroup group;
    private final Acceptor acceptor;
    private final FrameLimits limits;
    /** Key material and trust, read once (at bind): every TLS context of this node is built on them. */
    private TlsKeys tlsKeys;
    private final Set<QuicConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Channel> udpChannels = ConcurrentHashMap.newKeySet();
    /** How long a node's close waits in all for its CONNECTION_CLOSE frames to leave. */
    static final long CLOSE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(1500);
    /** The event loop threads: close() waits for them to end (the group's termination is set just before). */
    private final Set<Thread> ioThreads = ConcurrentHashMap.newKeySet();
    private volatile Channel server;
    private volatile int serverPayload;

    public QuicTransport(ShardlinkConfig config, ThreadFactory threads, Acceptor acceptor) {
        this.config = config;
        this.nodeId = config.nodeId();
        this.acceptor = acceptor;
        this.limits = FrameLimits.of(config.maxSendSize());
        this.group = new NioEventLoopGroup(config.ioThreads(), (ThreadFactory) r -> {
            Thread t = threads.newThread(r);
            ioThreads.add(t);
            return t;
        });
    }

    public EventLoopGroup group() {
        return group;
    }

    /** The UDP payload this node uses towards {@code addr}: configured, or derived from the interface MTU. */
    public int payloadFor(InetAddress addr) {
        int mtu = 1500;
        try {
            NetworkInterface ni = addr.isLoopbackAddress()
                    ? NetworkInterface.getByInetAddress(InetAddress.getLoopbackAddress())
                    : NetworkInterface.getByInetAddress(addr);
            if (ni != null) {
                mtu = ni.getMTU();
            } else if (addr.isLoopbackAddress()) {
                mtu = 65536;
            }
        } catch (Exception e) {
            // keep the ordinary default
        }
        return config.quicUdpPayloadFor(mtu);
    }

    /** Whether this node serves shared read streams (and advertises {@code Hello.CAP_READ_STREAMS}). */
    boolean servesReadStreams() {
        return config.quicReadStreams() > 0;
    }

    /** Reads one peer may have in flight here on shared read streams. */
    int maxInFlightReadsPerPeer() {
        return config.maxInFlightReadsPerPeer();
    }

    /** Control requests one peer may send here per second (and in one burst). */
    int maxControlRequestsPerSecondPerPeer() {
        return config.maxControlRequestsPerSecondPerPeer();
    }

    /** Keep-alive PING interval in milliseconds; 0 = off. */
    long keepAliveMillis() {
        return config.keepAliveInterval().toMillis();
    }

    public int serverPayload() {
        return serverPayload;
    }

    private <B extends QuicCodecBuilder<B>> B common(B b, int payload) {
        return b.maxIdleTimeout(config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .initialMaxData(config.quicConnectionWindow())
                .initialMaxStreamDataBidirectionalLocal(config.quicStreamWindow())
                .initialMaxStreamDataBidirectionalRemote(config.quicStreamWindow())
                .initialMaxStreamsBidirectional(config.quicMaxStreams())
                .initialMaxStreamsUnidirectional(0)
                .maxRecvUdpPayloadSize(payload)
                .maxSendUdpPayloadSize(payload)
                .activeMigration(false);
    }

    private Bootstrap udp(int payload) {
        return new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(Math.max(2048, payload + 1024)))
                .option(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
                .option(ChannelOption.SO_SNDBUF, 4 * 1024 * 1024);
    }

    private synchronized TlsKeys tlsKeys() {
        if (tlsKeys == null) {
            tlsKeys = TlsKeys.of(config);
        }
        return tlsKeys;
    }

    /** Binds the server; returns the bound address. */
    public InetSocketAddress bind() {
        InetSocketAddress listen = config.listenAddress();
        int payload = listen.getAddress() == null || listen.getAddress().isAnyLocalAddress()
                ? config.quicUdpPayloadFor(1500) : payloadFor(listen.getAddress());
        this.serverPayload = payload;
        QuicSslContext ssl = QuicTls.server(config, tlsKeys());
        ChannelHandler codec = common(new QuicServerCodecBuilder(), payload)
                .sslContext(ssl)
                .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                .handler(new ConnectionInitializer(false))
                .streamHandler(new StreamInitializer())
                .build();
        try {
            Channel ch = udp(payload).handler(codec).bind(listen).sync().channel();
            server = ch;
            udpChannels.add(ch);
            return (InetSocketAddress) ch.localAddress();
        } catch (Exception e) {
            throw new ShardlinkException("node " + nodeId + " cannot listen on UDP " + listen + ": " + e.getMessage(), e);
        }
    }

    /**
     * Connects to a node: QUIC handshake (TLS 1.3, ALPN shardlink/1, our client certificate), control stream,
     * HELLO both ways. {@code sessions} builds the session for the connection before our HELLO is sent.
     */
    public CompletableFuture<QuicConnection> connect(InetSocketAddress remote,
                                                     Function<QuicConnection, QuicConnectionListener> sessions) {
        CompletableFuture<QuicConnection> result = new CompletableFuture<>();
        int payload = payloadFor(remote.getAddress());
        ChannelHandler codec;
        try {
            codec = common(new QuicClientCodecBuilder(), payload).sslContext(QuicTls.client(tlsKeys())).build();
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
            return result;
        }
        udp(payload).handler(codec).bind(0).addListener(bf -> {
            if (!bf.isSuccess()) {
                result.completeExceptionally(new ShardlinkException("node " + nodeId + ": cannot bind a UDP socket to "
                        + "connect to " + remote + ": " + bf.cause(), bf.cause()));
                return;
            }
            Channel udp = ((io.netty.channel.ChannelFuture) bf).channel();
            udpChannels.add(udp);
            udp.closeFuture().addListener(x -> udpChannels.remove(udp));
            QuicChannel.newBootstrap(udp)
                    .handler(new ConnectionInitializer(true))
                    .streamHandler(new StreamInitializer())
                    .remoteAddress(remote)
                    .connect()
                    .addListener(cf -> {
                        if (!cf.isSuccess()) {
                            udp.close();
                            Throwable c = cf.cause();
                            String why = c instanceof SSLException || (c != null && c.getCause() instanceof SSLException)
                                    ? "TLS handshake failed" : "QUIC handshake failed";
                            result.completeExceptionally(new ShardlinkException("node " + nodeId + " cannot connect to "
                                    + remote + ": " + why + ": " + c, c));
                            return;
                        }
                        QuicChannel qc = (QuicChannel) cf.getNow();
                        qc.closeFuture().addListener(x -> udp.close());
                        QuicConnection conn = qc.attr(QuicConnection.KEY).get();
                        conn.startClient(sessions.apply(conn)).whenComplete((c, e) -> {
                            if (e != null) {
                                conn.close(e);
                                result.completeExceptionally(e);
                            } else {
                                result.complete(c);
                            }
                        });
                    });
        });
        return result;
    }

    QuicConnectionListener accept(QuicConnection conn) {
        return acceptor.accept(conn);
    }

    void forget(QuicConnection conn) {
        connections.remove(conn);
    }

    /** Creates the {@link QuicConnection} of each QuicChannel and tracks its end. */
    private final class ConnectionInitializer extends ChannelInitializer<QuicChannel> {
        private final boolean client;

        ConnectionInitializer(boolean client) {
            this.client = client;
        }

        @Override
        protected void initChannel(QuicChannel ch) {
            QuicConnection conn = new QuicConnection(ch, client, nodeId, limits, QuicTransport.this);
            ch.attr(QuicConnection.KEY).set(conn);
            connections.add(conn);
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelInactive(ChannelHandlerContext ctx) throws Exception {
                    conn.onInactive();
                    super.channelInactive(ctx);
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
                    if (evt instanceof QuicConnectionCloseEvent e) {
                        conn.onPeerClose(e);
                    }
                    super.userEventTriggered(ctx, evt);
                }

                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    System.getLogger(QuicTransport.class.getName()).log(System.Logger.Level.DEBUG,
                            () -> nodeId + ": QUIC connection error with " + conn.remoteName() + ": " + cause);
                }
            });
            ch.closeFuture().addListener(f -> conn.onInactive());
        }
    }

    /**
     * Per-operation streams open on all connections (copies, stream-per-read reads); control streams and the
     * long-lived shared read streams not counted; 0 when idle.
     */
    public int openStreams() {
        int n = 0;
        for (QuicConnection c : connections) {
            n += c.openStreams();
        }
        return n;
    }

    /** Long-lived shared read streams open on all connections (at most quicReadStreams per connection and side). */
    public int openSharedReadStreams() {
        int n = 0;
        for (QuicConnection c : connections) {
            n += c.openSharedReadStreams();
        }
        return n;
    }

    /** Open connections (tests). */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Closes every connection (application CONNECTION_CLOSE with the reason) and socket, waiting in all up to
     * {@link #CLOSE_GRACE_NANOS} for the connections to close, then stops the event loops (waits for them).
     */
    @Override
    public void close() {
        long deadline = System.nanoTime() + CLOSE_GRACE_NANOS;
        List<io.netty.channel.ChannelFuture> closing = new java.util.ArrayList<>();
        for (QuicConnection c : connections) {
            c.close(new io.shardlink.api.ShardlinkClosedException("node " + nodeId + " is closing"));
            closing.add(c.channel().closeFuture());
        }
        // each close waits (up to 1 s) for the data in flight to be acknowledged, then sends CONNECTION_CLOSE:
        // let those reach the peers before the UDP sockets and event loops go, 1.5 s at most in all
        for (io.netty.channel.ChannelFuture f : closing) {
            f.awaitUninterruptibly(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        for (Channel ch : udpChannels) {
            ch.close().awaitUninterruptibly(2000);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        // an event loop completes the group's termination future as its last act, while its thread is still alive
        for (Thread t : ioThreads) {
            if (t != Thread.currentThread()) {
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
    }
}
