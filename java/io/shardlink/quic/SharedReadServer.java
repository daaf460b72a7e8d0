package io.shardlink.quic;

import io.netty.buffer.ByteBuf;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.shardlink.config.Transport;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The serving side of a shared read stream (READ_REQ with FLAG_SHARED_STREAM): many reads pipelined on one
 * long-lived stream, each answered with one READ_RESP or ERROR carrying its request id, in whatever order the
 * worker threads finish them; the stream stays open. A per-request ERROR (NOT_FOUND, CHECKSUM_MISMATCH, ...)
 * answers that request only. The peer's reads in flight here (all its shared streams) are bounded by
 * maxInFlightReadsPerPeer: a read past it is refused at once with ERROR TOO_MANY_READS, never queued.
 * One object per stream serves as the {@link ReplyChannel} of all its requests (no per-read allocation
 * beyond the answer itself): each request gets exactly one answer, which ends its in-flight slot.
 */
final class SharedReadServer implements ReplyChannel {
    private final QuicConnection conn;
    private final QuicStreamChannel stream;
    private final FlushBatcher flushes;
    /** This stream's requests that have no answer yet. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** The stream's framing broke (its closing ERROR was sent): answers still coming are dropped. */
    private volatile boolean broken;
    /** The reader ended its half: ours ends when the last answer is written. */
    private volatile boolean inputEnded;

    SharedReadServer(QuicConnection conn, QuicStreamChannel stream) {
        this.conn = conn;
        this.stream = stream;
        this.flushes = new FlushBatcher(stream);
    }

    /** A READ_REQ on this stream (event loop). Takes ownership of the frame. */
    void onRequest(Frame f) {
        FrameHeader h = f.header();
        int limit = conn.transport().maxInFlightReadsPerPeer();
        if (conn.sharedReadsInFlight().incrementAndGet() > limit) {
            conn.sharedReadsInFlight().decrementAndGet();
            f.release();
            QuicConnectionListener l = conn.listener();
            if (l != null) {
                l.readRefusedOverLimit();
            }
            writeError(h.id(), h.offset(), new FrameException(ErrorCode.TOO_MANY_READS, "read of volume "
                    + h.volumeId() + " needle " + h.needleId() + " refused by " + conn.localNode() + ": "
                    + conn.remoteName() + " already has " + limit + " reads in flight here (maxInFlightReadsPerPeer "
                    + "= " + limit + "); retry when some have been answered"));
            return;
        }
        inFlight.incrementAndGet();
        if (!servesHere()) {
            conn.listener().inbound().onFrame(f, this);
            return;
        }
        inPlace = true;
        long t0 = System.nanoTime();
        try {
            conn.listener().inbound().onFrame(f, this); // served right here (see servesReadsInPlace)
        } finally {
            inPlace = false;
        }
        long now = System.nanoTime();
        // a BlobSource that blocks the event loop (disk, lock, remote store) stalls the connection for two reads at
        // most, then one per second: the guard sends its reads to the node's reader threads meanwhile
        if (conn.readGuard.record(now - t0, now)) {
            conn.slowInPlaceReads.incrementAndGet();
        }
    }

    @Override
    public void send(FrameHeader header, ByteBuf payload) {
        if (broken || !stream.isActive()) {
            if (payload != null) {
                payload.release();
            }
        } else {
            // header and payload go out as one unit on the event loop: answers from several worker threads
            // must not interleave inside a frame on the shared stream (the header is the caller's to give away)
            if (stream.eventLoop().inEventLoop()) {
                // served in place, inside the connection's read: flush now. Netty's QUIC codec defers the packet
                // to the end of the read, so the answer shares a packet with the ACK for the request (and with
                // the other answers of the same read) instead of following it in a packet of its own
                Frames.writeVoid(stream, header, payload);
                stream.flush();
            } else {
                try {
                    stream.eventLoop().execute(() -> writeBatched(header, payload));
                } catch (RejectedExecutionException e) {
                    if (payload != null) {
                        payload.release(); // the node is closing: the answer is moot (and must not throw)
                    }
                }
            }
        }
        answered();
    }

    @Override
    public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
        // an ERROR about one read answers that read: the shared stream goes on serving the others
        writeError(id, offset, error);
        answered();
    }

    private void writeBatched(FrameHeader header, ByteBuf payload) {
        Frames.writeVoid(stream, header, payload);
        flushes.writeDone();
    }

    private void writeError(long id, long offset, FrameException error) {
        if (broken || !stream.isActive()) {
            return;
        }
        ByteBuf b = stream.alloc().buffer(FrameCodec.HEADER_SIZE + 256);
        FrameCodec.encodeError(id, offset, error.code(), error.getMessage(), b);
        stream.writeAndFlush(b); // one message: cannot interleave with another frame
    }

    /** Exactly once per request (send and sendError never throw, so a caller's catch cannot answer twice). */
    private void answered() {
        conn.sharedReadsInFlight().decrementAndGet();
        if (inFlight.decrementAndGet() == 0 && inputEnded) {
            try {
                stream.eventLoop().execute(() -> StreamEnds.finish(stream));
            } catch (RejectedExecutionException e) {
                // the node is closing: the connection's close ends the stream
            }
        }
    }

    /** The stream's framing is lost (the handler sent the closing ERROR): later answers are dropped. */
    void broken() {
        broken = true;
    }

    /** The reader ended its half (event loop): ours ends once every request on it is answered. */
    void inputEnded() {
        inputEnded = true;
        if (inFlight.get() == 0) {
            StreamEnds.finish(stream);
        }
    }

    /**
     * Where shared-stream reads are served, {@code -Dshardlink.quic.readsOnEventLoop}: {@code auto} (default) on
     * the connection's event loop when the node's BlobSource is {@code nonBlocking()}, else on the reader
     * threads; {@code true} on the event loop whatever the source; {@code false} always on the reader threads.
     * On the event loop there is no hop to a reader thread and back (two thread wake-ups and a task each way):
     * measured about 40% less CPU per 4 KiB read and half the latency (README, Results). The cost is that a
     * source that blocks there stalls every stream of the connection while it does: two reads in a row there
     * slower than {@link #SLOW_IN_PLACE_NANOS} send the connection's reads to the reader threads for
     * {@link io.shardlink.transfer.SlowSourceGuard#BACKOFF_NANOS}, then they try again on the event loop.
     */
    static final String READS_ON_EVENT_LOOP = System.getProperty("shardlink.quic.readsOnEventLoop", "auto");
    /**
     * A read served on the event loop slower than this (a memory read takes a few us; 5 ms, not less, because on a
     * busy machine a cold or preempted fast read can take a few ms, and a false alarm costs a second off the loop).
     */
    static final long SLOW_IN_PLACE_NANOS = java.util.concurrent.TimeUnit.MICROSECONDS.toNanos(
            Long.getLong("shardlink.quic.slowInPlaceReadMicros", 5000));
    /** Whether the next request is served on the event loop (not backed off after a slow one). */
    private boolean servesHere() {
        if ("false".equals(READS_ON_EVENT_LOOP)) {
            return false;
        }
        return conn.readGuard.allowsInPlace(System.nanoTime());
    }

    /** A request is being served on the event loop right now (event loop only). */
    private boolean inPlace;

    @Override
    public boolean servesReadsInPlace() {
        return inPlace && "true".equals(READS_ON_EVENT_LOOP);
    }

    @Override
    public boolean servesNonBlockingReadsInPlace() {
        return inPlace;
    }

    @Override
    public Transport transport() {
        return Transport.QUIC;
    }

    @Override
    public String describe() {
        return "shared QUIC read stream " + stream.streamId() + " from " + conn.remoteName();
    }
}
