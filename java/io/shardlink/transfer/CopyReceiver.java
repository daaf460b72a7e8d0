package io.shardlink.transfer;

import io.shardlink.api.CopyInFlight;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardSinkFactory;
import io.shardlink.concurrent.SerialExecutor;
import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Supplier;

/**
 * The receiving end of every shard copy from one peer, whatever path its frames come on.
 *
 * <p>Each transfer has a serial executor on the node's worker threads: frames are processed one at a time
 * in arrival order. A DATA chunk is accepted only if it came on the transfer's current channel, lies
 * within the announced total, has {@code offset == next expected} and a correct CRC32C; it then goes to
 * the sink and an ACK (next expected, credits) goes back. Chunks below next expected (re-sent after a
 * failover) are dropped and re-ACKed; chunks from a superseded channel are dropped. RESUME runs in the same
 * order, detaches the current channel (fencing the failed path) and answers next expected: so a chunk is
 * delivered exactly once, in order, across any number of failovers.
 */
public final class CopyReceiver {
    private static final System.Logger LOG = System.getLogger(CopyReceiver.class.getName());

    private final String localNode;
    private final Supplier<String> peerNode;
    private final ShardSinkFactory sinks;
    private final Executor workers;
    private final int credits;
    private final TransportMetrics metrics;
    private final ConcurrentHashMap<Long, Incoming> transfers = new ConcurrentHashMap<>();
    private volatile Throwable closed;
    /** Where busy heartbeats are timed, and how often they go while a sink call runs (see BusyHeartbeat). */
    private volatile ScheduledExecutorService ticker;
    private volatile Duration busyInterval;
    /** Copies this peer may have open here (see maxIncomingCopies); unbounded until set. */
    private volatile int maxCopies = Integer.MAX_VALUE;

    public CopyReceiver(String localNode, Supplier<String> peerNode, ShardSinkFactory sinks, Executor workers,
                        int credits, TransportMetrics metrics) {
        this.localNode = localNode;
        this.peerNode = peerNode;
        this.sinks = sinks;
        this.workers = workers;
        this.credits = credits;
        this.metrics = metrics;
    }

    /**
     * While a sink call (open, chunk, complete) runs longer than {@code interval}, re-send the transfer's last
     * ACK every {@code interval} so that the sender knows this node is alive though busy. Set it below the
     * sender's requestTimeout (the node uses a third of its own).
     */
    public CopyReceiver busyHeartbeats(ScheduledExecutorService ticker, Duration interval) {
        this.ticker = ticker;
        this.busyInterval = interval;
        return this;
    }

    /**
     * At most {@code max} copies from this peer open here at once: a new COPY_BEGIN past it is refused with ERROR
     * TOO_MANY_COPIES (counted OVER_LIMIT) before any sink is opened, so a flooding peer holds no more than that.
     */
    public CopyReceiver maxIncomingCopies(int max) {
        this.maxCopies = max;
        return this;
    }

    private BusyHeartbeat busy(Incoming in, ReplyChannel reply) {
        long next = in.next;
        return BusyHeartbeat.start(ticker, busyInterval, () -> reply.send(new FrameHeader(FrameType.ACK).id(in.id)
                .object(in.shardId).offset(next).arg(credits), null));
    }

    /** Transfers in progress. */
    public int active() {
        return transfers.size();
    }

    /** The transfers in progress now, with the bytes delivered to their sinks (a status page's view). */
    public List<CopyInFlight> inFlight() {
        List<CopyInFlight> l = new ArrayList<>();
        String peer = peerNode.get();
        for (Incoming in : transfers.values()) {
            l.add(new CopyInFlight(peer, in.shardId, in.id, Direction.RECEIVED, in.delivered, in.total, in.transport,
                    in.startedMillis));
        }
        return l;
    }

    private final class Incoming {
        final long id;
        final long shardId;
        final long total;
        final SerialExecutor exec;
        // confined to exec
        ShardSink sink;
        long next;
        ReplyChannel channel;
        boolean finished;
        // written on exec, read by inFlight() from any thread
        volatile long delivered;
        volatile Transport transport;
        final long startedMillis = System.currentTimeMillis();

        Incoming(long id, long shardId, long total) {
            this.id = id;
            this.shardId = shardId;
            this.total = total;
            this.exec = new SerialExecutor(workers);
        }

        String what() {
            return "shard " + shardId + " (transfer " + id + ") from " + peerNode.get() + " to " + localNode;
        }
    }

    /** COPY_BEGIN, DATA, COPY_END and the sender's ERROR for a transfer. Takes ownership of the frame. */
    public void onFrame(Frame frame, ReplyChannel reply) {
        FrameHeader h = frame.header();
        try {
            switch (h.type()) {
                case COPY_BEGIN -> begin(h, reply);
                case DATA -> {
                    data(frame, reply);
                    return; // ownership passed
                }
                case COPY_END -> end(h, reply);
                case ERROR -> peerAbort(h, FrameCodec.errorMessage(frame.payload()));
                default -> throw new FrameException(ErrorCode.PROTOCOL, "unexpected " + h.type() + " frame for a copy");
            }
        } finally {
            if (h.type() != FrameType.DATA) {
                frame.release();
            }
        }
    }

    private void begin(FrameHeader h, ReplyChannel reply) {
        long id = h.id();
        if (closed != null) {
            reply.sendError(id, 0, new FrameException(ErrorCode.SHUTTING_DOWN, "node " + localNode + " is closing"),
                    true);
            return;
        }
        if (h.totalLength() < 0 || h.offset() < 0 || h.offset() > h.totalLength()) {
            reply.sendError(id, h.offset(), new FrameException(ErrorCode.OUT_OF_BOUNDS, "COPY_BEGIN of transfer " + id
                    + ": offset " + h.offset() + " / total " + h.totalLength() + " invalid"), true);
            return;
        }
        Incoming in = transfers.get(id);
        if (in != null) {
            if (!h.hasFlag(FrameHeader.FLAG_RESUME)) {
                reply.sendError(id, 0, new FrameException(ErrorCode.PROTOCOL, "transfer " + id + " from "
                        + peerNode.get() + " already exists (COPY_BEGIN without FLAG_RESUME)"), true);
                return;
            }
            if (in.shardId != h.shardId() || in.total != h.totalLength()) {
                reply.sendError(id, 0, new FrameException(ErrorCode.PROTOCOL, "resume of transfer " + id
                        + " names shard " + h.shardId() + "/" + h.totalLength() + " bytes but it is " + in.what()
                        + " of " + in.total + " bytes"), true);
                return;
            }
            submit(in, () -> {
                if (in.finished) {
                    return;
                }
                in.channel = reply;
                ack(in, reply);
            }, null);
            return;
        }
        if (h.hasFlag(FrameHeader.FLAG_RESUME) && h.offset() != 0) {
            reply.sendError(id, h.offset(), new FrameException(ErrorCode.UNKNOWN_TRANSFER, "cannot resume transfer "
                    + id + " at offset " + h.offset() + ": " + localNode + " has no such transfer from "
                    + peerNode.get()), true);
            return;
        }
        Incoming created = new Incoming(id, h.shardId(), h.totalLength());
        if (transfers.putIfAbsent(id, created) != null) {
            reply.sendError(id, 0, new FrameException(ErrorCode.PROTOCOL, "transfer " + id + " already exists"), true);
            return;
        }
        int limit = maxCopies;
        // counted after the insert: two racing begins at the limit may both be refused, never both admitted
        if (transfers.size() > limit) {
            transfers.remove(id, created);
            metrics.completion(CompletionStatus.OVER_LIMIT);
            reply.sendError(id, 0, new FrameException(ErrorCode.TOO_MANY_COPIES, "copy of shard " + h.shardId()
                    + " (transfer " + id + ") refused by " + localNode + ": " + peerNode.get() + " already has "
                    + limit + " copies open here (maxIncomingCopiesPerPeer = " + limit + "); retry when some have"
                    + " finished"), true);
            return;
        }
        submit(created, () -> {
            try (BusyHeartbeat hb = busy(created, reply)) {
                created.sink = sinks.open(peerNode.get(), created.shardId, created.total);
                if (created.sink == null) {
                    throw new IllegalStateException("ShardSinkFactory returned null");
                }
            } catch (Exception e) {
                created.finished = true;
                metrics.completion(CompletionStatus.REJECTED);
                // the refusal goes out before the transfer is forgotten: DATA racing it must not be answered
                // UNKNOWN_TRANSFER first (the sender would see that instead of the reason)
                reply.sendError(id, 0, new FrameException(ErrorCode.SINK_FAILED, "node " + localNode
                        + " refused " + created.what() + ": cannot open a sink: " + e.getMessage(), e), true);
                transfers.remove(id, created);
                return;
            }
            created.channel = reply;
            ack(created, reply);
        }, null);
    }

    private void data(Frame frame, ReplyChannel reply) {
        FrameHeader h = frame.header();
        Incoming in = transfers.get(h.id());
        if (in == null) {
            frame.release();
            reply.sendError(h.id(), h.offset(), new FrameException(ErrorCode.UNKNOWN_TRANSFER, "DATA for unknown "
                    + "transfer " + h.id() + " from " + peerNode.get() + " (no COPY_BEGIN, or already finished)"), true);
            return;
        }
        submit(in, () -> {
            try {
                if (in.finished) {
                    return;
                }
                if (reply != in.channel) {
                    // from a path superseded by RESUME (or before a resumed COPY_BEGIN): never delivered twice
                    LOG.log(System.Logger.Level.DEBUG, () -> "dropping chunk at " + h.offset() + " of " + in.what()
                            + " from a superseded channel " + reply.describe());
                    return;
                }
                FrameCodec.checkChunkBounds(h, in.total);
                if (h.offset() < in.next) {
                    ack(in, reply); // duplicate after a failover
                    return;
                }
                if (h.offset() > in.next) {
                    throw new FrameException(ErrorCode.OUT_OF_ORDER, "chunk of " + in.what() + " at offset "
                            + h.offset() + " but next expected is " + in.next);
                }
                FrameCodec.verifyCrc(h, frame.payload());
                ByteBuffer view = frame.payload().nioBuffer(frame.payload().readerIndex(), h.length());
                try (BusyHeartbeat hb = busy(in, reply)) {
                    in.sink.onChunk(h.offset(), view);
                } catch (Exception e) {
                    throw new FrameException(ErrorCode.SINK_FAILED, "sink of " + in.what() + " failed at offset "
                            + h.offset() + ": " + e, e);
                }
                in.next += h.length();
                in.delivered = in.next;
                in.transport = reply.transport();
                metrics.record(reply.transport(), Direction.RECEIVED, h.length());
                ack(in, reply);
            } catch (FrameException e) {
                fail(in, e);
                reply.sendError(in.id, h.offset(), e, true);
            } finally {
                frame.release();
            }
        }, frame);
    }

    private void end(FrameHeader h, ReplyChannel reply) {
        Incoming in = transfers.get(h.id());
        if (in == null) {
            reply.sendError(h.id(), 0, new FrameException(ErrorCode.UNKNOWN_TRANSFER, "COPY_END for unknown transfer "
                    + h.id() + " from " + peerNode.get()), true);
            return;
        }
        submit(in, () -> {
            if (in.finished || reply != in.channel) {
                return;
            }
            if (in.next != in.total || h.totalLength() != in.total) {
                FrameException e = new FrameException(ErrorCode.PROTOCOL, "COPY_END of " + in.what() + " says "
                        + h.totalLength() + " bytes, but " + in.next + " of " + in.total + " were received");
                fail(in, e);
                reply.sendError(in.id, in.next, e, true);
                return;
            }
            try (BusyHeartbeat hb = busy(in, reply)) {
                in.sink.onComplete();
            } catch (Exception e) {
                FrameException fe = new FrameException(ErrorCode.SINK_FAILED, "sink of " + in.what()
                        + " failed to complete: " + e, e);
                fail(in, fe);
                reply.sendError(in.id, in.next, fe, true);
                return;
            }
            in.finished = true;
            transfers.remove(in.id, in);
            metrics.completion(CompletionStatus.OK);
            reply.send(new FrameHeader(FrameType.COPY_DONE).id(in.id).object(in.shardId).aux(in.total)
                    .offset(in.total), null);
        }, null);
    }

    private void ack(Incoming in, ReplyChannel reply) {
        reply.send(new FrameHeader(FrameType.ACK).id(in.id).object(in.shardId).offset(in.next).arg(credits), null);
    }

    /** The sender gave the transfer up (ERROR on its channel). */
    private void peerAbort(FrameHeader h, String message) {
        Incoming in = transfers.get(h.id());
        if (in != null) {
            // RING_REVOKED is this node's own verdict (delivered like the sender's ERROR): not the sender's doing
            String who = h.errorCode() == ErrorCode.RING_REVOKED ? "" : "sender " + peerNode.get() + " ";
            submit(in, () -> fail(in, new FrameException(h.errorCode(), who + "aborted " + in.what() + ": " + message)),
                    null);
        }
    }

    /**
     * RESUME (failover): after every frame already queued for the transfer, detaches its current channel
     * (frames still arriving on it are dropped) and answers the next expected offset; 0 for an unknown transfer.
     */
    public CompletableFuture<Long> resume(long transferId) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        Incoming in = transfers.get(transferId);
        if (in == null) {
            f.complete(0L);
            return f;
        }
        submit(in, () -> {
            in.channel = null;
            f.complete(in.next);
        }, null);
        if (closed != null) {
            f.completeExceptionally(closed);
        }
        return f;
    }

    /** Aborts every transfer (connection lost, node closing). */
    public void close(Throwable cause) {
        closed = cause;
        List<Incoming> all = new ArrayList<>(transfers.values());
        for (Incoming in : all) {
            FrameException e = new FrameException(ErrorCode.SHUTTING_DOWN, in.what() + " aborted: " + cause.getMessage(),
                    cause);
            try {
                in.exec.execute(() -> fail(in, e));
            } catch (RejectedExecutionException rejected) {
                fail(in, e); // workers are gone: abort inline
            }
        }
    }

    private void submit(Incoming in, Runnable task, Frame frame) {
        try {
            in.exec.execute(task);
        } catch (RejectedExecutionException e) {
            if (frame != null) {
                frame.release();
            }
            fail(in, new FrameException(ErrorCode.SHUTTING_DOWN, "node " + localNode + " is closing"));
        }
    }

    private void fail(Incoming in, Throwable cause) {
        synchronized (in) {
            if (in.finished) {
                return;
            }
            in.finished = true;
        }
        transfers.remove(in.id, in);
        metrics.completion(cause instanceof FrameException fe && fe.code() == ErrorCode.SHUTTING_DOWN
                ? CompletionStatus.ABORTED : CompletionStatus.FAILED);
        ShardSink s = in.sink;
        if (s != null) {
            try {
                s.onAbort(cause);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "sink onAbort threw for " + in.what(), e);
            }
        }
    }
}
