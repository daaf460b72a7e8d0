package io.shardlink.api;

import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * One blob read from this node in flight: what was asked, and the handling of the answer (match it to the
 * request, verify its CRC32C, copy it to the caller's buffer, complete the caller's future). One object per
 * read holds what lambdas used to capture one by one; its description for messages is built only when a
 * message needs it. Its deadline is enforced by {@link ReadDeadlines} (a sweep, not a timer per read).
 */
final class ReadCall implements BiConsumer<Frame, Throwable> {
    final long volumeId;
    final long needleId;
    final long cookie;
    final long offset;
    final int length;
    private final ByteBuffer dst;
    private final long t0;
    private final String localNode;
    private final String peer;
    private final TransportMetrics metrics;
    private final long timeoutMillis;
    /** The caller's future. */
    final CompletableFuture<ReadResult> result = new CompletableFuture<>();
    /** System.nanoTime() past which the read times out. */
    final long deadline;
    /** The path's answer (possibly composed with a retry over the fallback); the sweep times it out. */
    volatile CompletableFuture<Frame> answer;
    /** The path that carries the read (the fallback's once the read was asked again there). */
    volatile Transport transport;

    ReadCall(long volumeId, long needleId, long cookie, long offset, int length, ByteBuffer dst, long t0,
             String localNode, String peer, TransportMetrics metrics, long timeoutMillis) {
        this.volumeId = volumeId;
        this.needleId = needleId;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
        this.dst = dst;
        this.t0 = t0;
        this.localNode = localNode;
        this.peer = peer;
        this.metrics = metrics;
        this.timeoutMillis = timeoutMillis;
        this.deadline = t0 + timeoutMillis * 1_000_000L;
    }

    /** "read of volume 1 needle 2 at 0 (4096 bytes) by node-a from node-b", for messages. */
    String what() {
        return describe(volumeId, needleId, offset, length, localNode, peer);
    }

    static String describe(long volumeId, long needleId, long offset, int length, String localNode, String peer) {
        return "read of volume " + volumeId + " needle " + needleId + " at " + offset + " (" + length
                + " bytes) by " + localNode + " from " + peer;
    }

    /** The deadline passed without an answer (the sweep). */
    void timeOut() {
        CompletableFuture<Frame> a = answer;
        if (a != null) {
            a.completeExceptionally(new TimeoutException());
        }
    }

    /** The path's answer or failure. */
    @Override
    public void accept(Frame frame, Throwable err) {
        TransportMetrics m = metrics;
        if (err != null) {
            Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (c instanceof FrameException fe) {
                m.completion(CompletionStatus.REJECTED);
                result.completeExceptionally(new ShardlinkException(what() + " failed: peer answered [" + fe.code()
                        + "] " + fe.getMessage(), fe.code(), fe));
            } else if (c instanceof TimeoutException) {
                m.completion(CompletionStatus.TIMED_OUT);
                result.completeExceptionally(new ShardlinkException(what() + " timed out after " + timeoutMillis
                        + " ms", c));
            } else {
                m.completion(CompletionStatus.FAILED);
                result.completeExceptionally(c instanceof ShardlinkException ? c
                        : new ShardlinkException(what() + " failed: " + c, c));
            }
            return;
        }
        try {
            FrameHeader h = frame.header();
            if (h.volumeId() != volumeId || h.needleId() != needleId || h.offset() != offset || h.length() > length) {
                throw new FrameException(ErrorCode.PROTOCOL, "READ_RESP does not match the request: " + h);
            }
            FrameCodec.verifyCrc(h, frame.payload());
            ByteBuffer out;
            if (dst != null) {
                int p = dst.position();
                int limit = dst.limit();
                dst.limit(p + h.length()); // the caller's buffer is ours until the result completes: no duplicate
                try {
                    frame.payload().getBytes(frame.payload().readerIndex(), dst); // advances its position
                } finally {
                    dst.limit(limit);
                }
                out = dst.duplicate().position(p).limit(p + h.length()).slice();
            } else {
                out = ByteBuffer.allocate(h.length());
                frame.payload().getBytes(frame.payload().readerIndex(), out);
                out.flip();
            }
            long lat = System.nanoTime() - t0;
            Transport t = transport;
            m.record(t, Direction.RECEIVED, h.length());
            m.readLatency(lat);
            m.completion(CompletionStatus.OK);
            result.complete(new ReadResult(volumeId, needleId, offset, out, h.length(), t, lat, h.blobFlags()));
        } catch (FrameException e) {
            m.completion(CompletionStatus.FAILED);
            result.completeExceptionally(new ShardlinkException(what() + " failed verification: " + e.getMessage(),
                    e.code(), e));
        } finally {
            frame.release();
        }
    }
}
