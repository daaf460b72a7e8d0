package io.shardlink.api;

import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.state.PeerState;
import io.shardlink.state.PeerStateListener;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The {@link Peer} that {@link ShardlinkNode#connect} returns: a connection that lives as long as the nodes do.
 * It holds the current {@link PeerSession}; when that session's connection is lost (not closed by us), it
 * reconnects in the background with capped exponential backoff (reconnectBackoffMin doubling up to
 * reconnectBackoffMax), and an operation that finds no live session starts an attempt at once and runs on
 * the new session. Operations already in flight when the connection went fail as before (a copy or read
 * the application may retry); the Peer itself never stays dead.
 */
final class ReconnectingPeer implements Peer {
    private static final System.Logger LOG = System.getLogger(ReconnectingPeer.class.getName());

    private final ShardlinkNode node;
    private final InetSocketAddress remote;
    private final List<PeerStateListener> stateListeners = new CopyOnWriteArrayList<>();
    private final List<PeerConnectionListener> connectionListeners = new CopyOnWriteArrayList<>();
    private final AtomicLong reconnects = new AtomicLong();
    private final Object lock = new Object();
    private volatile PeerSession session;
    private volatile boolean closed;
    /** The attempt in flight, if any (guarded by lock). */
    private CompletableFuture<PeerSession> attempt;
    /** Failed attempts since the connection was lost (guarded by lock). */
    private int failures;

    ReconnectingPeer(ShardlinkNode node, InetSocketAddress remote, PeerSession first) {
        this.node = node;
        this.remote = remote;
        adopt(first);
    }

    /** The current session (tests). */
    PeerSession session() {
        return session;
    }

    private void adopt(PeerSession s) {
        session = s;
        for (PeerStateListener l : stateListeners) {
            s.addStateListener(l);
        }
        s.closeFuture().thenAccept(cause -> onLost(s, cause));
    }

    private void onLost(PeerSession s, Throwable cause) {
        if (closed || node.isClosed() || session != s) {
            return;
        }
        LOG.log(System.Logger.Level.INFO, () -> node.nodeId() + ": connection to " + s.nodeId() + " lost ("
                + cause.getMessage() + "); reconnecting");
        for (PeerConnectionListener l : connectionListeners) {
            l.onConnectionLost(s.nodeId(), cause);
        }
        scheduleAttempt(Duration.ZERO);
    }

    /** A live session: the current one, or the result of a reconnect attempt started now if none is running. */
    private CompletableFuture<PeerSession> live() {
        PeerSession s = session;
        if (s != null && s.isOpen()) {
            return CompletableFuture.completedFuture(s);
        }
        if (closed) {
            return CompletableFuture.failedFuture(new ShardlinkClosedException("connection from " + node.nodeId()
                    + " to " + remote + " was closed by " + node.nodeId()));
        }
        synchronized (lock) {
            if (attempt == null) {
                attempt = connectOnce();
            }
            return attempt;
        }
    }

    /** One connect attempt; on failure the next is scheduled with backoff. */
    private CompletableFuture<PeerSession> connectOnce() {
        return node.connectSession(remote).whenComplete((s, e) -> {
            synchronized (lock) {
                attempt = null;
                if (e == null) {
                    int tries = failures + 1;
                    failures = 0;
                    if (closed) {
                        s.close();
                        return;
                    }
                    reconnects.incrementAndGet();
                    adopt(s);
                    LOG.log(System.Logger.Level.INFO, () -> node.nodeId() + ": reconnected to " + s.nodeId()
                            + " after " + tries + " attempt(s)");
                    for (PeerConnectionListener l : connectionListeners) {
                        l.onReconnected(s.nodeId(), tries);
                    }
                    return;
                }
                failures++;
            }
            if (!closed && !node.isClosed()) {
                scheduleAttempt(backoff());
            }
        });
    }

    /** reconnectBackoffMin doubled per failed attempt, capped at reconnectBackoffMax. */
    private Duration backoff() {
        long min = node.config().reconnectBackoffMin().toMillis();
        long max = node.config().reconnectBackoffMax().toMillis();
        int f;
        synchronized (lock) {
            f = failures;
        }
        return Duration.ofMillis(Math.min(max, min << Math.min(20, Math.max(0, f - 1))));
    }

    /** Starts a background attempt after {@code delay}, unless one is running or the connection is back. */
    private void scheduleAttempt(Duration delay) {
        Runnable r = () -> {
            if (closed || node.isClosed() || (session != null && session.isOpen())) {
                return;
            }
            live();
        };
        try {
            CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS, node.workers()).execute(r);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the node is closing
        }
    }

    private <T> CompletableFuture<T> onLive(Function<PeerSession, CompletableFuture<T>> op) {
        return live().thenCompose(op);
    }

    @Override
    public String nodeId() {
        return session.nodeId();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    @Override
    public PeerState state() {
        return session.state();
    }

    @Override
    public Throwable lastCause() {
        return session.lastCause();
    }

    @Override
    public void addStateListener(PeerStateListener listener) {
        stateListeners.add(listener);
        session.addStateListener(listener);
    }

    @Override
    public void addConnectionListener(PeerConnectionListener listener) {
        connectionListeners.add(listener);
    }

    @Override
    public boolean isConnected() {
        PeerSession s = session;
        return s != null && s.isOpen();
    }

    @Override
    public long reconnects() {
        return reconnects.get();
    }

    @Override
    public CompletableFuture<CopyResult> copyShard(long shardId, ByteBuffer data, CopyProgressListener listener) {
        return onLive(s -> s.copyShard(shardId, data, listener));
    }

    @Override
    public CompletableFuture<CopyResult> copyShard(long shardId, FileChannel channel, long position, long length,
                                                   CopyProgressListener listener) {
        return onLive(s -> s.copyShard(shardId, channel, position, length, listener));
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long offset, int length) {
        return onLive(s -> s.read(volumeId, needleId, offset, length));
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long offset, ByteBuffer dst) {
        return onLive(s -> s.read(volumeId, needleId, offset, dst));
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long cookie, long offset, int length) {
        return onLive(s -> s.read(volumeId, needleId, cookie, offset, length));
    }

    @Override
    public CompletableFuture<ReadResult> read(long volumeId, long needleId, long cookie, long offset, ByteBuffer dst) {
        return onLive(s -> s.read(volumeId, needleId, cookie, offset, dst));
    }

    @Override
    public MetricsSnapshot metrics() {
        return session.metrics();
    }

    @Override
    public void close() {
        closed = true;
        session.close();
    }

    @Override
    public String toString() {
        return "Peer{" + node.nodeId() + " -> " + remote + ", session " + session + ", reconnects " + reconnects + "}";
    }
}
