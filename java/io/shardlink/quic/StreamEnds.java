package io.shardlink.quic;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.incubator.codec.quic.DefaultQuicStreamFrame;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.shardlink.wire.ErrorCode;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * How a shardlink QUIC stream ends, on both nodes and on every outcome, so that the peer's stream credit
 * comes back. quiche frees a stream (and only then raises MAX_STREAMS for the peer) once both directions are
 * finished: our FIN (or RESET_STREAM) acknowledged AND the peer's FIN (or RESET_STREAM) read. Netty's stream
 * channel likewise forgets a stream only once it has both sent and read a FIN. So each side FINs its output
 * when it has sent its last frame and keeps reading until the peer's FIN: the channel then closes by itself.
 * Closing a stream channel before the peer's FIN was read leaves the stream open in quiche and in Netty for the
 * connection's lifetime (the stream leak of issue 12: the accepting side never ended its half, so no stream
 * was ever freed and every connection died after quicMaxStreams operations).
 */
final class StreamEnds {
    /** How long a finished stream may wait for the peer's FIN before it is reset (a peer that never ends it). */
    static final long LINGER_MILLIS = 30_000;

    private StreamEnds() {}

    /**
     * Ends our direction (FIN after what is queued); the channel closes once the peer's FIN was read too, or is
     * reset after {@link #LINGER_MILLIS}.
     */
    static void finish(QuicStreamChannel s) {
        finish(s, true);
    }

    /** As {@link #finish(QuicStreamChannel)}; without {@code linger} the caller bounds the wait for the peer. */
    static void finish(QuicStreamChannel s, boolean linger) {
        if (!s.isActive()) {
            return;
        }
        if (!s.isOutputShutdown()) {
            // an empty frame with FIN, in order behind what is queued (shutdownOutput() would send the FIN
            // at once, ahead of data still queued by flow control, and cut it off)
            s.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.EMPTY_BUFFER, true))
                    .addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess() && !s.isOutputShutdown()) {
                            abort(s, ErrorCode.INTERNAL); // e.g. the peer sent STOP_SENDING
                        }
                    });
            if (linger) {
                lingerThenAbort(s);
            }
        }
    }

    /**
     * Ends both directions at once (RESET_STREAM + STOP_SENDING): for a stream whose peer may never FIN (a
     * timeout, a cancelled operation, a broken framing). quiche frees it when the peer's reset arrives.
     */
    static void abort(QuicStreamChannel s, ErrorCode code) {
        if (!s.isActive()) {
            return;
        }
        s.shutdown(code.code()).addListener(f -> s.close());
    }

    /**
     * A stream whose peer has not ended its side within {@link #LINGER_MILLIS} is reset. Used for a finished
     * stream, and for one whose operation we gave up (a read past its timeout): its late answer still ends it
     * gracefully (a reset before the peer's FIN was read would leave Netty holding the stream channel).
     */
    static void lingerThenAbort(QuicStreamChannel s) {
        try {
            var t = s.eventLoop().schedule(() -> abort(s, ErrorCode.INTERNAL), LINGER_MILLIS, TimeUnit.MILLISECONDS);
            s.closeFuture().addListener(f -> t.cancel(false));
        } catch (RejectedExecutionException e) {
            s.close();
        }
    }
}
