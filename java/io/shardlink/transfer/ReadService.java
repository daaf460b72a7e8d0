package io.shardlink.transfer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.shardlink.api.BlobAttributes;
import io.shardlink.api.BlobFileRange;
import io.shardlink.api.BlobChecksumException;
import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.BlobSource;
import io.shardlink.api.FileRangeBlobSource;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/** Serves READ_REQ frames from the node's {@link BlobSource} on the worker threads. */
public final class ReadService {
    private final String localNode;
    private final Supplier<String> peerNode;
    private final Supplier<BlobSource> source;
    private final Executor workers;
    private final ByteBufAllocator alloc;
    private final int maxSendSize;
    private final TransportMetrics metrics;

    public ReadService(String localNode, Supplier<String> peerNode, Supplier<BlobSource> source, Executor workers,
                       ByteBufAllocator alloc, int maxSendSize, TransportMetrics metrics) {
        this.localNode = localNode;
        this.peerNode = peerNode;
        this.source = source;
        this.workers = workers;
        this.alloc = alloc;
        this.maxSendSize = maxSendSize;
        this.metrics = metrics;
    }

    public void onReadRequest(FrameHeader req, ReplyChannel reply) {
        long t0 = System.nanoTime();
        int len = req.requestedLength();
        if (len < 0 || len > maxSendSize) {
            reply.sendError(req.id(), req.offset(), new FrameException(ErrorCode.TOO_LARGE, what(req)
                    + ": length must be in 0.." + maxSendSize + " (maxSendSize)"), true);
            return;
        }
        if (req.offset() < 0) {
            reply.sendError(req.id(), req.offset(), new FrameException(ErrorCode.OUT_OF_BOUNDS, what(req)
                    + ": negative offset"), true);
            return;
        }
        // the source first: a channel may take an answer buffer when it says yes
        if (reply.servesReadsInPlace() || (nonBlockingSource() && reply.servesNonBlockingReadsInPlace())) {
            serve(req, reply, len, t0); // synchronous: the request's header stays valid throughout
            return;
        }
        FrameHeader h = new FrameHeader().copyFrom(req); // the request frame is released when this returns
        try {
            workers.execute(() -> serve(h, reply, len, t0));
        } catch (RejectedExecutionException e) {
            reply.sendError(h.id(), h.offset(), new FrameException(ErrorCode.SHUTTING_DOWN, what(h)
                    + ": node is closing"), true);
        }
    }

    private boolean nonBlockingSource() {
        BlobSource s = source.get();
        return s != null && s.nonBlocking();
    }

    /** The read, for error messages (built only when one is sent: a string per read costs CPU and garbage). */
    private String what(FrameHeader h) {
        return "read of volume " + h.volumeId() + " needle " + h.needleId() + " at " + h.offset() + " ("
                + h.requestedLength() + " bytes) by " + peerNode.get() + " from " + localNode;
    }

    private void serve(FrameHeader h, ReplyChannel reply, int len, long t0) {
        BlobSource src = source.get();
        if (src == null) {
            metrics.completion(CompletionStatus.REJECTED);
            reply.sendError(h.id(), h.offset(), new FrameException(ErrorCode.NOT_FOUND, what(h)
                    + ": no BlobSource is registered"), true);
            return;
        }
        ByteBuf buf = null;
        try {
            if (reply.sendsFileRanges() && src instanceof FileRangeBlobSource files && sentFromFile(files, h, reply)) {
                metrics.servedReadLatency(System.nanoTime() - t0);
                return;
            }
            buf = reply.payloadBuffer(Math.max(1, len));
            if (buf == null) {
                buf = alloc.directBuffer(Math.max(1, len));
            }
            // the buffer's own cached view, not a new ByteBuffer per read (the source must not keep dst, as before)
            ByteBuffer dst = buf.internalNioBuffer(0, len);
            BlobAttributes attrs = new BlobAttributes(); // the source may keep it: not reused
            int n = src.read(h.volumeId(), h.needleId(), h.cookie(), h.offset(), len, dst, attrs);
            if (n < 0 || n > len) {
                throw new IllegalStateException("BlobSource returned " + n + " for a " + len + "-byte read");
            }
            buf.writerIndex(n);
            FrameHeader resp = new FrameHeader(FrameType.READ_RESP).id(h.id()).object(h.volumeId()).aux(h.needleId())
                    .offset(h.offset()).length(n).arg(attrs.flags()).crc32c(n == 0 ? 0 : FrameCodec.crc32c(buf, 0, n));
            metrics.record(reply.transport(), Direction.SENT, n);
            metrics.completion(CompletionStatus.OK);
            reply.send(resp, buf);
            buf = null;
            metrics.servedReadLatency(System.nanoTime() - t0);
        } catch (BlobNotFoundException e) {
            metrics.completion(CompletionStatus.REJECTED);
            reply.sendError(h.id(), h.offset(), new FrameException(ErrorCode.NOT_FOUND, what(h) + ": " + e.getMessage()),
                    true);
        } catch (BlobChecksumException e) {
            metrics.completion(CompletionStatus.REJECTED);
            reply.sendError(h.id(), h.offset(), new FrameException(ErrorCode.CHECKSUM_MISMATCH, what(h) + ": "
                    + e.getMessage()), true);
        } catch (Exception e) {
            metrics.completion(CompletionStatus.FAILED);
            reply.sendError(h.id(), h.offset(), new FrameException(ErrorCode.SOURCE_FAILED, what(h) + ": " + e), true);
        } finally {
            if (buf != null) {
                buf.release();
            }
        }
    }

    /**
     * The zero-copy answer: the channel sends the blob's bytes straight from its file. False when the channel
     * cannot (the caller then copies); the source's refusals (not found, checksum) propagate as from a read.
     */
    private boolean sentFromFile(FileRangeBlobSource files, FrameHeader h, ReplyChannel reply) throws Exception {
        BlobFileRange r = files.locateRange(h.volumeId(), h.needleId(), h.cookie(), h.offset(), h.requestedLength());
        FrameHeader resp = new FrameHeader(FrameType.READ_RESP).id(h.id()).object(h.volumeId()).aux(h.needleId())
                .offset(h.offset()).length(r.length()).arg(r.flags());
        if (!reply.sendFileRange(resp, r)) {
            return false;
        }
        metrics.record(reply.transport(), Direction.SENT, r.length());
        metrics.completion(CompletionStatus.OK);
        return true;
    }
}
