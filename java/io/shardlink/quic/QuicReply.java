package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.shardlink.config.Transport;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;

/** Answers on the QUIC stream a frame came on. */
final class QuicReply implements ReplyChannel {
    private final QuicStreamChannel stream;
    private final String peer;
    /** Our last frame on the stream was sent (an answer, COPY_DONE or a closing ERROR): later ones are dropped. */
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

    /** A write that fails (the peer reset the stream or sent STOP_SENDING: it gave up) ends the stream at once. */
    private final io.netty.channel.ChannelFutureListener abortOnFailure;

    QuicReply(QuicStreamChannel stream, String peer) {
        this.stream = stream;
        this.peer = peer;
        this.abortOnFailure = f -> {
            if (!f.isSuccess()) {
                StreamEnds.abort(stream, io.shardlink.wire.ErrorCode.SHUTTING_DOWN);
            }
        };
    }

    @Override
    public void send(FrameHeader header, ByteBuf payload) {
        boolean last = header.type() == FrameType.READ_RESP || header.type() == FrameType.COPY_DONE;
        if (last ? !ended.compareAndSet(false, true) : ended.get()) {
            if (payload != null) {
                payload.release();
            }
            return;
        }
        Frames.write(stream, header, payload, true).addListener(abortOnFailure);
        if (last) {
            StreamEnds.finish(stream); // the last frame of a read or copy stream: our half ends (see StreamEnds)
        }
    }

    /** Whether our last frame on this stream has been sent (the peer's further frames are moot). */
    boolean ended() {
        return ended.get();
    }

    @Override
    public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
        // the first closing ERROR wins: a later one (e.g. DATA racing a refusal) would hide the real cause
        if (closeAfter ? !ended.compareAndSet(false, true) : ended.get()) {
            return;
        }
        ByteBuf b = stream.alloc().buffer(FrameCodec.HEADER_SIZE + 256);
        FrameCodec.encodeError(id, offset, error.code(), error.getMessage(), b);
        if (closeAfter) {
            // FIN after the ERROR; the stream closes when the peer ends its half (its input is discarded
            // meanwhile), or is reset after a linger (see StreamEnds)
            stream.writeAndFlush(b).addListener(abortOnFailure);
            StreamEnds.finish(stream);
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
