package io.shardlink.testing;

import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import java.lang.reflect.Field;
import java.util.Map;

/**
 * What Netty and quiche hold of a QUIC connection's streams, for leak checks: the stream channels Netty still
 * maps (it forgets a stream only when it has both sent and read a FIN) and the bidirectional streams the peer
 * still lets us open (credit that quiche returns with MAX_STREAMS only when it frees fully ended streams).
 */
public final class QuicStreamCounts {
    private QuicStreamCounts() {}

    /** Stream channels Netty's QuicChannel still maps (the control stream included), read on its event loop. */
    public static int nettyStreams(QuicChannel ch) throws Exception {
        return ch.eventLoop().submit(() -> {
            Field f = ch.getClass().getDeclaredField("streams");
            f.setAccessible(true);
            return ((Map<?, ?>) f.get(ch)).size();
        }).get();
    }

    /** Bidirectional streams we may still open before STREAM_LIMIT_ERROR. */
    public static long creditLeft(QuicChannel ch) throws Exception {
        return ch.eventLoop().submit(() -> ch.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL)).get();
    }
}
