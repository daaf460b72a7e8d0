package io.shardlink.quic;

import io.netty.incubator.codec.quic.QuicStreamResetException;
import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.api.ShardlinkException;
import io.shardlink.wire.ErrorCode;

/**
 * Turns what a QUIC stream reports when the peer resets it into an exception that says so. A closing node
 * resets its data and read streams with {@link ErrorCode#SHUTTING_DOWN} before its CONNECTION_CLOSE (see
 * QuicConnection.closeWhenQuiet), so a sender usually learns of the close from the reset first; Netty
 * reports that only as {@code QuicStreamResetException: STREAM_RESET}.
 */
final class StreamResets {
    private StreamResets() {}

    /**
     * {@code cause} as the peer's close ({@link ShardlinkClosedException}) or reset ({@link ShardlinkException})
     * of the stream of {@code what}, when it is a stream reset; else {@code cause} itself.
     */
    static Throwable explain(Throwable cause, String peer, String what) {
        if (!(cause instanceof QuicStreamResetException r)) {
            return cause;
        }
        long code = r.applicationProtocolCode();
        if (code == ErrorCode.SHUTTING_DOWN.code()) {
            return new ShardlinkClosedException("node " + peer + " closed: it reset the QUIC stream of " + what
                    + " [SHUTTING_DOWN]", cause);
        }
        String name = code > 0 && code <= Integer.MAX_VALUE && ErrorCode.of((int) code).code() == code
                ? ErrorCode.of((int) code).name() : "code " + code;
        return new ShardlinkException("peer " + peer + " reset the QUIC stream of " + what + " [" + name + "]", cause);
    }

    /** " (connection closed: why)" for a stream that ended because its connection did, else "". */
    static String connectionEnd(QuicConnection conn) {
        Throwable c = conn.closeCause();
        return conn.isOpen() ? "" : c == null || c.getMessage() == null ? " (connection closed)"
                : " (connection closed: " + c.getMessage() + ")";
    }
}
