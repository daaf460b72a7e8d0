package io.shardlink.quic;

import io.netty.channel.ChannelInitializer;
import io.netty.incubator.codec.quic.QuicStreamChannel;

/** Pipeline of a stream the peer opened (role from its first frame) or of our control stream. */
final class StreamInitializer extends ChannelInitializer<QuicStreamChannel> {
    private final QuicConnection fixed;
    private final StreamRole role;

    /** For streams opened by the peer: the connection is found on the parent channel. */
    StreamInitializer() {
        this(null, StreamRole.UNKNOWN);
    }

    StreamInitializer(QuicConnection conn, StreamRole role) {
        this.fixed = conn;
        this.role = role;
    }

    @Override
    protected void initChannel(QuicStreamChannel ch) {
        QuicConnection conn = fixed != null ? fixed : ch.parent().attr(QuicConnection.KEY).get();
        if (conn == null) {
            ch.close();
            return;
        }
        if (role != StreamRole.CONTROL) {
            conn.track(ch);
        }
        ch.pipeline().addLast(new FrameDecoder(conn.limits()), new InboundStreamHandler(conn, role));
    }
}
