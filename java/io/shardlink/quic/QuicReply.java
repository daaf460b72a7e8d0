package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.shardlink.config.Transport;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;

/** Answers on the QUIC stream a frame came on. */
final class QuicReply implements ReplyChannel {
    private final QuicStreamChannel stream;
    private final String peer;

    QuicReply(QuicStreamChannel stream, String peer) {
        this.stream = stream;
        this.peer = peer;
    }

    @Override
    public void send(FrameHeader header, ByteBuf payload) {
        Frames.write(stream, header, payload, true);
    }

    @Override
    public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
        ByteBuf b = stream.alloc().buffer(FrameCodec.HEADER_SIZE + 256);
        FrameCodec.encodeError(id, offset, error.code(), error.getMessage(), b);
        if (closeAfter) {
            // FIN after the ERROR (graceful: quiche delivers what is buffered), then close the stream a little
            // later so a peer that keeps sending cannot hold it open; its input is discarded meanwhile
            stream.writeAndFlush(b).addListener(QuicStreamChannel.SHUTDOWN_OUTPUT).addListener(
                    (ChannelFutureListener) f -> stream.eventLoop().schedule(() -> {
                        stream.close();
                    }, 1, java.util.concurrent.TimeUnit.SECONDS));
        } else {
            stream.writeAndFlush(b);
        }
    }

    @Override
    public Transport transport() {
        return Transport.QUIC;
    }

    @Override
    public String describe() {
        return "QUIC stream " + stream.streamId() + " from " + peer;
    }
}
