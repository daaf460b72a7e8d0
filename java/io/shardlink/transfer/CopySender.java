package io.shardlink.transfer;

import io.shardlink.api.CopyInFlight;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.api.ShardlinkException;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.config.Transport;
import io.shardlink.logging.LogFields;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Drives one outgoing shard copy (runs on a copy thread; blocking there is intended).
 *
 * <p>Protocol, identical on every path: COPY_BEGIN; DATA chunks of {@code chunkSize} with at most
 * {@code window} chunks unacknowledged (ACK carries the receiver's cumulative next expected offset and
 * returns credits); COPY_END once everything is acknowledged; COPY_DONE from the receiver completes the copy.
 *
 * <p>Failover: when the current path reports a failure, the driver marks the path failed (peer FAILED),
 * asks the receiver for its next expected offset with RESUME over the control plane (the receiver is the
 * source of truth and drops anything below that offset or from the superseded path), and continues on
 * the fallback path (QUIC) from there with COPY_BEGIN + FLAG_RESUME. Chunks are re-read from the source,
 * so nothing is kept in memory for retransmission.
 */
public final class CopySender implements Runnable {
    private enum Outcome { DONE, PATH_FAILED, DECLINED }

    private final CopyContext ctx;
    private final long transferId;
    private final long shardId;
    private final ChunkSource source;
    private final ProgressNotifier progress;
    private final CompletableFuture<CopyResult> future = new CompletableFuture<>();
    private final long total;
    private final long startedMillis = System.currentTimeMillis();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private int generation;
    private long acked;
    private int credits;
    /** ACKs heard on the current channel: any ACK, even one that moves nothing, shows the receiver is alive. */
    private long heard;
    private boolean done;
    private Throwable pathFailure;
    private FrameException rejected;
    private Throwable aborted;
    private Transport currentTransport;
    private PathDeclinedException declined;

    // copy thread only
    private volatile TransferChannel channel;
    private long chunks;
    private final List<Transport> transports = new ArrayList<>();
    private final List<String> fallbackCauses = new ArrayList<>();

    public CopySender(CopyContext ctx, long transferId, long shardId, ChunkSource source,
                      CopyProgressListener progress) {
        this.ctx = ctx;
        this.transferId = transferId;
        this.shardId = shardId;
        this.source = source;
        this.total = source.length();
        this.progress = new ProgressNotifier(progress, this::what);
    }

    public CompletableFuture<CopyResult> future() {
        return future;
    }

    public long transferId() {
        return transferId;
    }

    public long shardId() {
        return shardId;
    }

    /** A fallback's log fields (for JSON logs: io.shardlink.logging.JsonLogFormatter). */
    private LogFields fallbackFields(DataPath from, DataPath to, long offset, Throwable cause) {
        return LogFields.of(ctx.localNodeId(), ctx.peerNodeId()).with("event", "copy.fallback").with("shard", shardId)
                .with("transfer", transferId).with("bytes", offset).with("total_bytes", total)
                .with("from", from.transport()).with("transport", to.transport()).with("cause", cause);
    }

    /** This copy's progress now (a status page's view; takes the copy's lock briefly). */
    public CopyInFlight inFlight(String peer) {
        lock.lock();
        try {
            return new CopyInFlight(peer, shardId, transferId, Direction.SENT, acked, total, currentTransport,
                    startedMillis);
        } finally {
            lock.unlock();
        }
    }

    /** Fails the copy now (node or peer closing); the copy thread stops at its next step. */
    public void abort(Throwable cause) {
        lock.lock();
        try {
            if (aborted == null) {
                aborted = cause;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        future.completeExceptionally(cause);
    }

    private String what() {
        return "copy of shard " + shardId + " (transfer " + transferId + ", " + total + " bytes) from "
                + ctx.localNodeId() + " to " + ctx.peerNodeId();
    }

    @Override
    public void run() {
        long t0 = System.nanoTime();
        CompletionStatus status = CompletionStatus.FAILED;
        try {
            DataPath path = ctx.currentPath();
            long start = 0;
            boolean resume = false;
            while (true) {
                if (transports.isEmpty() || transports.get(transports.size() - 1) != path.transport()) {
                    transports.add(path.transport());
                }
                Outcome o = runOn(path, start, resume);
                if (o == Outcome.DONE) {
                    break;
                }
                if (o == Outcome.DECLINED) {
                    // the path is fine but cannot take this transfer (nothing was sent on it): start over on the
                    // fallback without failing the peer
                    DataPath fallback = ctx.fallbackPath();
                    if (fallback == null || fallback == path || !fallback.isOpen()) {
                        throw new ShardlinkException(what() + ": its " + path.transport() + " path declined it ("
                                + declined.getMessage() + ")" + (fallback == null
                                ? " and the transport mode allows no fallback" : " and no other path is left"),
                                declined);
                    }
                    String note = what() + ": its " + path.transport() + " path declined it (" + declined.getMessage()
                            + "); using " + fallback.transport();
                    System.getLogger(CopySender.class.getName()).log(System.Logger.Level.INFO, note,
                            fallbackFields(path, fallback, start, declined));
                    if (transports.get(transports.size() - 1) == path.transport()) {
                        transports.remove(transports.size() - 1);
                    }
                    fallbackCauses.add(String.valueOf(declined));
                    ctx.transportMetrics().fallback("declined: " + declined.getMessage());
                    progress.onFallback(path.transport(), fallback.transport(), start, declined);
                    path = fallback;
                    continue;
                }
                Throwable cause = currentPathFailure();
                ctx.pathFailed(path, cause);
                DataPath fallback = ctx.fallbackPath();
                if (fallback == null || fallback == path || !fallback.isOpen()) {
                    String msg = what() + " failed on its " + path.transport() + " path: " + cause
                            + (fallback == null ? "; the transport mode allows no fallback" : "; no other path is left");
                    // the receiving node closed (its stream reset said so): a close, like the connection's own
                    throw cause instanceof ShardlinkClosedException ? new ShardlinkClosedException(msg, cause)
                            : new ShardlinkException(msg, cause);
                }
                fallbackCauses.add(String.valueOf(cause));
                // one fallback per copy that moves (PeerContext.pathFailed only fails the peer)
                ctx.transportMetrics().fallback(TransportMetrics.causeKey(cause));
                long next = awaitResume();
                System.getLogger(CopySender.class.getName()).log(System.Logger.Level.WARNING, what() + " moves from "
                        + path.transport() + " to " + fallback.transport() + " at offset " + next + " after: " + cause,
                        fallbackFields(path, fallback, next, cause));
                progress.onFallback(path.transport(), fallback.transport(), next, cause);
                path = fallback;
                start = next;
                resume = true;
            }
            CopyResult r = new CopyResult(shardId, total, chunks, transports, Duration.ofNanos(System.nanoTime() - t0),
                    fallbackCauses.size(), fallbackCauses);
            status = CompletionStatus.OK;
            future.complete(r);
        } catch (Throwable t) {
            Throwable ab = abortedCause();
            Throwable failure = ab != null ? ab : t;
            status = ab != null ? CompletionStatus.ABORTED
                    : t instanceof TimeoutException || t.getCause() instanceof TimeoutException
                    ? CompletionStatus.TIMED_OUT
                    : t instanceof ShardlinkException se && se.code() != null ? CompletionStatus.REJECTED
                    : CompletionStatus.FAILED;
            TransferChannel ch = channel;
            if (ch != null) {
                ch.close(failure);
            }
            future.completeExceptionally(failure instanceof ShardlinkException ? failure
                    : new ShardlinkException(what() + " failed: " + failure, failure));
        } finally {
            channel = null;
            ctx.transportMetrics().completion(status);
        }
    }

    private Outcome runOn(DataPath path, long start, boolean resume) throws Exception {
        Listener listener;
        lock.lock();
        try {
            generation++;
            acked = start;
            credits = ctx.window();
            done = false;
            pathFailure = null;
            currentTransport = path.transport();
            listener = new Listener(generation);
            checkAborted();
        } finally {
            lock.unlock();
        }
        int chunkSize = ctx.chunkSize();
        TransferChannel ch;
        try {
            ch = path.openTransfer(new TransferSpec(transferId, shardId, total, start, resume, chunkSize), listener);
        } catch (PathDeclinedException e) {
            declined = e;
            return Outcome.DECLINED;
        } catch (Exception e) {
            if (path.transport() == Transport.QUIC && ctx.fallbackPath() == path) {
                throw new ShardlinkException(what() + ": cannot open a " + path.transport() + " transfer: " + e, e);
            }
            listener.onPathFailure(e);
            return Outcome.PATH_FAILED;
        }
        channel = ch;
        boolean finished = false;
        try {
            long next = start;
            while (next < total) {
                if (!awaitWindow(next, chunkSize)) {
                    return Outcome.PATH_FAILED;
                }
                int len = (int) Math.min(chunkSize, total - next);
                PooledBuffer buf = ctx.pool().acquire(ctx.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
                int crc;
                try {
                    source.read(next, buf.buffer(), len);
                    ByteBuffer view = buf.buffer();
                    view.limit(len).position(0);
                    crc = FrameCodec.crc32c(view);
                } catch (IOException | RuntimeException e) {
                    buf.release();
                    throw new ShardlinkException(what() + ": reading the source (" + source.describe()
                            + ") at offset " + next + " failed: " + e.getMessage(), e);
                }
                // the source may have blocked (a stalled disk): the receiver may have given the copy up meanwhile
                // (e.g. revoked an idle RDMA ring), and a chunk written after that must not go out
                lock.lock();
                try {
                    throwIfGivenUp();
                } catch (RuntimeException e) {
                    buf.release();
                    throw e;
                } finally {
                    lock.unlock();
                }
                ch.sendChunk(next, buf, len, crc, next + len == total);
                ctx.transportMetrics().record(path.transport(), Direction.SENT, len);
                chunks++;
                next += len;
            }
            if (!awaitAcked()) {
                return Outcome.PATH_FAILED;
            }
            ch.sendEnd(total);
            if (!awaitDone()) {
                return Outcome.PATH_FAILED;
            }
            finished = true;
            return Outcome.DONE;
        } finally {
            if (finished || currentPathFailure() != null) {
                // done, or failing over: the receiver keeps the transfer for RESUME
                ch.close(null);
                channel = null;
            }
        }
    }

    /** Waits until the window has room for the chunk at {@code next}; false on a path failure. */
    private boolean awaitWindow(long next, int chunkSize) throws Exception {
        return await(() -> next - acked < (long) Math.max(1, credits) * chunkSize, "credit (ACK) for offset " + next);
    }

    private boolean awaitAcked() throws Exception {
        return await(() -> acked >= total, "ACK of all " + total + " bytes");
    }

    private boolean awaitDone() throws Exception {
        return await(() -> done, "COPY_DONE");
    }

    private interface Cond {
        boolean ok();
    }

    /** Throws if the copy was aborted here or rejected by the receiver (lock held). */
    private void throwIfGivenUp() {
        checkAborted();
        if (rejected != null && rejected.code() == io.shardlink.wire.ErrorCode.SHUTTING_DOWN) {
            throw new ShardlinkClosedException(what() + ": " + ctx.peerNodeId() + " is closing ["
                    + rejected.code() + "]: " + rejected.getMessage(), rejected);
        }
        if (rejected != null) {
            throw new ShardlinkException(what() + ": rejected by " + ctx.peerNodeId() + " ["
                    + rejected.code() + "]: " + rejected.getMessage(), rejected.code(), rejected);
        }
    }

    /** Waits (lock held for the checks) until cond, a path failure (false), rejection/abort (throws), or no progress. */
    private boolean await(Cond cond, String what) throws Exception {
        long timeout = ctx.requestTimeout().toNanos();
        lock.lock();
        try {
            long lastAcked = acked;
            long lastHeard = heard;
            long deadline = System.nanoTime() + timeout;
            while (true) {
                throwIfGivenUp();
                if (pathFailure != null) {
                    return false;
                }
                if (cond.ok()) {
                    return true;
                }
                if (acked != lastAcked || heard != lastHeard) {
                    lastAcked = acked;
                    lastHeard = heard;
                    deadline = System.nanoTime() + timeout;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new ShardlinkException(what() + ": timed out after " + ctx.requestTimeout().toMillis()
                            + " ms waiting for " + what + " from " + ctx.peerNodeId() + " (acknowledged " + acked
                            + " of " + total + " bytes)", new TimeoutException(what));
                }
                changed.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    private long awaitResume() throws Exception {
        CompletableFuture<Long> f = ctx.resume(transferId);
        try {
            long next = f.get(ctx.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
            if (next < 0 || next > total) {
                throw new ShardlinkException(what() + ": RESUME answer " + next + " is outside 0.." + total);
            }
            return next;
        } catch (ExecutionException e) {
            checkAbortedLocked();
            throw new ShardlinkException(what() + ": RESUME over the control plane failed: " + e.getCause(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new ShardlinkException(what() + ": no RESUME answer from " + ctx.peerNodeId() + " within "
                    + ctx.requestTimeout().toMillis() + " ms", e);
        }
    }

    private void checkAbortedLocked() {
        lock.lock();
        try {
            checkAborted();
        } finally {
            lock.unlock();
        }
    }

    private void checkAborted() {
        if (aborted != null) {
            throw aborted instanceof ShardlinkException se ? se
                    : new ShardlinkClosedException(what() + " aborted: " + aborted, aborted);
        }
    }

    private Throwable abortedCause() {
        lock.lock();
        try {
            return aborted;
        } finally {
            lock.unlock();
        }
    }

    private Throwable currentPathFailure() {
        lock.lock();
        try {
            return pathFailure;
        } finally {
            lock.unlock();
        }
    }

    /** Events of one channel generation; events of a superseded channel are ignored. */
    private final class Listener implements TransferListener {
        private final int gen;

        Listener(int gen) {
            this.gen = gen;
        }

        @Override
        public void onAck(long nextExpected, int newCredits) {
            long a;
            Transport t;
            lock.lock();
            try {
                if (gen == generation) {
                    heard++;
                    changed.signalAll();
                }
                if (gen != generation || nextExpected <= acked) {
                    if (gen == generation && newCredits > 0) {
                        credits = Math.min(ctx.window(), newCredits);
                        changed.signalAll();
                    }
                    return;
                }
                acked = Math.min(nextExpected, total);
                if (newCredits > 0) {
                    credits = Math.min(ctx.window(), newCredits);
                }
                a = acked;
                t = currentTransport;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            progress.onProgress(a, total, t);
        }

        @Override
        public void onDone(long totalLength) {
            lock.lock();
            try {
                if (gen == generation) {
                    done = true;
                    changed.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onRejected(FrameException error) {
            lock.lock();
            try {
                if (gen == generation && rejected == null) {
                    rejected = error;
                    changed.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onPathFailure(Throwable cause) {
            lock.lock();
            try {
                if (gen == generation && pathFailure == null && !done) {
                    pathFailure = cause;
                    changed.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
    }
}
