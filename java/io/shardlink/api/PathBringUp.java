package io.shardlink.api;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import io.shardlink.logging.LogFields;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.quic.QuicConnection;
import io.shardlink.state.PeerState;
import io.shardlink.state.PeerStateMachine;
import io.shardlink.state.RetryBackoff;
import io.shardlink.transfer.DataPath;
import io.shardlink.transfer.DataPathProvider;
import io.shardlink.transfer.InboundFrames;
import io.shardlink.transfer.PathEndpoint;
import io.shardlink.transfer.PeerContext;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The RDMA path of one peer session through its lives: the bring-up that HELLO starts, and after the path FAILED
 * (bring-up error, QP error, the peer's PATH_DOWN) the retries. Each life is an <em>epoch</em>: 0 for HELLO's
 * bring-up, +1 per retry. Every control message of a provider's endpoint carries its epoch (PATH_CTL header), and
 * messages and failure reports of an older epoch are refused or ignored, so a late PATH_DOWN or error of a torn-down
 * path never hits its successor.
 *
 * <p>Retry (the connecting node drives it, so the two ends never race): when the peer enters FAILED it waits
 * ({@link RetryBackoff}: {@code rdmaRetryInitial}, doubling up to {@code rdmaRetryMax}, reset after
 * {@code rdmaRetryStablePeriod} up), closes the old endpoint (its queue pair, rings and registrations: their rkeys
 * are revoked), prepares a new one (refused at once while the local port is down: the peer stays FAILED and waits
 * longer), moves FAILED -> DISCONNECTED and sends PATH_CTL kind RETRY with its new endpoint blob. The accepting node
 * fails whatever path it still had, tears it down, prepares a new endpoint, moves FAILED -> DISCONNECTED, answers
 * with its blob and connects; both reach CONNECTED as at HELLO. A refused or failed attempt is FAILED again, which
 * schedules the next one. QUIC_ONLY (UNAVAILABLE) never retries; RDMA_ONLY retries too, and its operations fail
 * fast while the path is down, as before.
 *
 * <p>Work in flight is not moved back: a copy that fell back to QUIC finishes on QUIC; copies and reads started
 * once the peer is CONNECTED again go over RDMA.
 */
final class PathBringUp {
    private static final System.Logger LOG = System.getLogger(PathBringUp.class.getName());
    private static final byte ACCEPTED = 1;
    private static final byte REFUSED = 0;

    private final PeerSession session;
    private final PeerStateMachine state;
    private final DataPathProvider provider;
    private final QuicConnection conn;
    private final ShardlinkConfig config;
    private final RetryBackoff backoff;
    // guarded by this
    private long epoch;
    private PathEndpoint endpoint;
    private ScheduledFuture<?> nextAttempt;
    private int attempt;
    private long failedAt;
    private volatile DataPath rdmaPath;
    private volatile boolean closed;

    PathBringUp(PeerSession session, PeerStateMachine state, DataPathProvider provider, QuicConnection conn,
                ShardlinkConfig config) {
        this.session = session;
        this.state = state;
        this.provider = provider;
        this.conn = conn;
        this.config = config;
        this.backoff = new RetryBackoff(new RetryBackoff.Policy(config.rdmaRetryInitial(), config.rdmaRetryMax(),
                config.rdmaRetryStablePeriod()));
        state.addListener(this::onTransition);
    }

    /** Whether this end retries a FAILED path (the connecting end, unless QUIC_ONLY). */
    private boolean drivesRetries() {
        return conn.isClient() && config.transportMode() != TransportMode.QUIC_ONLY;
    }

    // ------------------------------------------------------------------ the HELLO bring-up (epoch 0)

    /** Prepares the endpoint of epoch 0; on failure the peer is FAILED (and the connecting end retries later). */
    void prepareInitial() {
        try {
            PathEndpoint ep = provider.prepare(new EpochContext(0));
            synchronized (this) {
                endpoint = ep;
            }
        } catch (Exception | LinkageError e) {
            state.tryTransition(PeerState.FAILED, new ShardlinkException("RDMA bring-up to " + session.peerNodeId()
                    + " failed while preparing the local endpoint: " + e, e));
        }
    }

    /** The endpoint HELLO advertises, or null. */
    synchronized PathEndpoint endpoint() {
        return endpoint;
    }

    /** Connects the epoch-0 endpoint to the blob of the peer's HELLO; completes when that bring-up ended. */
    CompletableFuture<Void> connectInitial(byte[] remoteEndpoint) {
        PathEndpoint ep = endpoint();
        return ep == null ? CompletableFuture.completedFuture(null) : connect(ep, remoteEndpoint, 0);
    }

    /** The connected path to use now, or null. */
    DataPath path() {
        return rdmaPath;
    }

    private CompletableFuture<Void> connect(PathEndpoint ep, byte[] remoteEndpoint, long e) {
        CompletableFuture<DataPath> f;
        try {
            f = ep.connect(remoteEndpoint);
        } catch (RuntimeException x) {
            f = CompletableFuture.failedFuture(x);
        }
        return f.orTimeout(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS).handle((path, err) -> {
            if (err != null) {
                Throwable c = unwrap(err);
                if (isCurrent(e)) {
                    state.tryTransition(PeerState.FAILED, new ShardlinkException("RDMA bring-up from "
                            + config.nodeId() + " to " + session.peerNodeId() + (e == 0 ? "" : " (retry " + e + ")")
                            + " failed: " + c, c));
                }
            } else if (closed || !isCurrent(e)) {
                closeQuietly(ep);
            } else {
                rdmaPath = path;
                if (state.compareAndTransition(PeerState.DISCONNECTED, PeerState.CONNECTED, null) && e > 0) {
                    recovered(e);
                }
            }
            return null;
        });
    }

    private void recovered(long e) {
        long downMs;
        synchronized (this) {
            downMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - failedAt);
            attempt = 0;
        }
        TransportMetrics m = session.transportMetrics();
        if (m != null) {
            m.pathRecovered();
        }
        LOG.log(System.Logger.Level.INFO, "node " + config.nodeId() + ": RDMA path to " + session.peerNodeId()
                + " recovered (epoch " + e + ") " + downMs + " ms after it failed; new work goes over RDMA again",
                LogFields.of(config.nodeId(), session.peerNodeId()).with("event", "rdma.recovered").with("epoch", e)
                        .with("downMs", downMs));
    }

    private synchronized boolean isCurrent(long e) {
        return e == epoch && !closed;
    }

    // ------------------------------------------------------------------ retries (connecting end)

    private void onTransition(String peer, PeerState from, PeerState to, Throwable cause) {
        if (to == PeerState.CONNECTED) {
            synchronized (this) {
                backoff.onConnected(System.nanoTime());
            }
        } else if (to == PeerState.FAILED) {
            synchronized (this) {
                if (from == PeerState.CONNECTED) {
                    attempt = 0; // a new incident (the backoff decides whether it is the same flapping one)
                }
                if (attempt == 0) {
                    failedAt = System.nanoTime();
                }
                rdmaPath = null;
            }
            if (drivesRetries()) {
                scheduleNext();
            }
        }
    }

    private synchronized void scheduleNext() {
        if (closed) {
            return;
        }
        long wait = backoff.onFailure(System.nanoTime());
        if (nextAttempt != null) {
            nextAttempt.cancel(false);
        }
        try {
            nextAttempt = conn.channel().eventLoop().schedule(this::retry, wait, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return; // the node is closing
        }
        int n = attempt + 1;
        LOG.log(System.Logger.Level.INFO, "node " + config.nodeId() + ": RDMA path to " + session.peerNodeId()
                + " is down; retry " + n + " of its bring-up in " + TimeUnit.NANOSECONDS.toMillis(wait) + " ms",
                LogFields.of(config.nodeId(), session.peerNodeId()).with("event", "rdma.retry.scheduled")
                        .with("attempt", n).with("waitMs", TimeUnit.NANOSECONDS.toMillis(wait)));
    }

    /** One retry (event loop). */
    private void retry() {
        long e;
        PathEndpoint old;
        synchronized (this) {
            nextAttempt = null;
            if (closed || state.state() != PeerState.FAILED || !conn.isOpen()) {
                return;
            }
            e = ++epoch;
            attempt++;
            old = endpoint;
            endpoint = null;
            rdmaPath = null;
        }
        closeQuietly(old); // the failed path's queue pair, rings and registrations: its rkeys die with them
        TransportMetrics m = session.transportMetrics();
        if (m != null) {
            m.pathRetry();
        }
        PathEndpoint ep;
        try {
            ep = provider.prepare(new EpochContext(e));
        } catch (Exception | LinkageError x) {
            LOG.log(System.Logger.Level.INFO, () -> "node " + config.nodeId() + ": RDMA retry " + e + " to "
                    + session.peerNodeId() + " cannot start: " + x.getMessage());
            scheduleNext(); // still FAILED: no transition, a longer wait
            return;
        }
        synchronized (this) {
            if (e != epoch || closed) {
                closeQuietly(ep);
                return;
            }
            endpoint = ep;
        }
        if (!state.compareAndTransition(PeerState.FAILED, PeerState.DISCONNECTED, new ShardlinkException("retrying "
                + "the RDMA bring-up from " + config.nodeId() + " to " + session.peerNodeId() + " (retry " + e + ")"))) {
            discard(e);
            return;
        }
        byte[] blob = ep.localEndpoint();
        conn.pathControl(e, QuicConnection.PATH_KIND_RETRY, blob)
                .orTimeout(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((answer, err) -> {
                    if (!isCurrent(e)) {
                        return;
                    }
                    Throwable refusal = err != null ? unwrap(err) : refusal(answer);
                    if (refusal != null) {
                        discard(e);
                        state.tryTransition(PeerState.FAILED, new ShardlinkException("RDMA retry " + e + " from "
                                + config.nodeId() + " to " + session.peerNodeId() + " failed: " + refusal.getMessage(),
                                refusal));
                        return;
                    }
                    connect(ep, Arrays.copyOfRange(answer, 1, answer.length), e);
                });
    }

    /** Closes the endpoint of epoch {@code e} if it is still the current one. */
    private void discard(long e) {
        PathEndpoint ep;
        synchronized (this) {
            if (e != epoch) {
                return;
            }
            ep = endpoint;
            endpoint = null;
        }
        closeQuietly(ep);
    }

    // ------------------------------------------------------------------ control messages (both ends)

    /** A PATH_CTL request of path {@code e}: a provider message for that epoch's endpoint, or a RETRY. */
    CompletableFuture<byte[]> onControl(long e, long kind, byte[] message) {
        if (kind == QuicConnection.PATH_KIND_RETRY) {
            return CompletableFuture.completedFuture(onRetry(e, message));
        }
        if (kind != QuicConnection.PATH_KIND_PROVIDER) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("unknown PATH_CTL kind " + kind));
        }
        PathEndpoint ep;
        long current;
        synchronized (this) {
            current = epoch;
            ep = e == epoch ? endpoint : null;
        }
        if (ep == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no RDMA endpoint of path epoch " + e
                    + " to " + session.peerNodeId() + " (current epoch " + current + ")"));
        }
        return ep.onControl(message);
    }

    /** The peer (the connecting end) retries the bring-up as epoch {@code e} with its endpoint {@code blob}. */
    private byte[] onRetry(long e, byte[] blob) {
        String who = "RDMA retry " + e + " from " + session.peerNodeId() + " to " + config.nodeId();
        if (conn.isClient()) {
            return refused(who + ": only the connecting node retries");
        }
        if (config.transportMode() == TransportMode.QUIC_ONLY || state.state() == PeerState.UNAVAILABLE) {
            return refused(who + ": this node has no RDMA path to offer (state " + state.state() + ")");
        }
        PathEndpoint old;
        synchronized (this) {
            if (closed) {
                return refused(who + ": the connection is closing");
            }
            if (e <= epoch) {
                return refused(who + ": stale (this node is at epoch " + epoch + ")");
            }
            epoch = e;
            old = endpoint;
            endpoint = null;
            rdmaPath = null;
        }
        // the peer abandoned the path we may still think is up: fail it here too, then tear it down
        state.tryTransition(PeerState.FAILED, new ShardlinkException(who + ": the peer restarts the bring-up, "
                + "its end of the previous path failed"));
        closeQuietly(old);
        PathEndpoint ep;
        try {
            ep = provider.prepare(new EpochContext(e));
        } catch (Exception | LinkageError x) {
            return refused(who + ": cannot prepare an endpoint: " + x.getMessage());
        }
        synchronized (this) {
            if (e != epoch || closed) {
                closeQuietly(ep);
                return refused(who + ": superseded");
            }
            endpoint = ep;
        }
        if (!state.compareAndTransition(PeerState.FAILED, PeerState.DISCONNECTED, new ShardlinkException(who))) {
            discard(e);
            return refused(who + ": peer state is " + state.state());
        }
        byte[] mine = ep.localEndpoint();
        connect(ep, blob, e);
        byte[] out = new byte[mine.length + 1];
        out[0] = ACCEPTED;
        System.arraycopy(mine, 0, out, 1, mine.length);
        return out;
    }

    private static byte[] refused(String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(1 + r.length).put(REFUSED).put(r).array();
    }

    /** Null when {@code answer} accepts a RETRY; else the refusal as an exception. */
    static Throwable refusal(byte[] answer) {
        if (answer == null || answer.length == 0) {
            return new IllegalStateException("the peer gave no answer to the retry (no RDMA path there?)");
        }
        if (answer[0] == ACCEPTED && answer.length > 1) {
            return null;
        }
        return new IllegalStateException(answer[0] == REFUSED
                ? new String(answer, 1, answer.length - 1, StandardCharsets.UTF_8) : "malformed answer to the retry");
    }

    // ------------------------------------------------------------------ failures and close

    /** A copy reports that {@code path} failed under it: the peer is FAILED if that is the path in use (not an older one). */
    void pathFailed(DataPath path, Throwable cause) {
        if (path != null && path == rdmaPath) {
            state.tryTransition(PeerState.FAILED, cause);
        }
    }

    /** Stops retrying and tears the current endpoint down (the session closes). */
    void close() {
        PathEndpoint ep;
        synchronized (this) {
            closed = true;
            if (nextAttempt != null) {
                nextAttempt.cancel(false);
                nextAttempt = null;
            }
            ep = endpoint;
            endpoint = null;
        }
        rdmaPath = null;
        closeQuietly(ep);
    }

    /** Closes the endpoint (the peer has no RDMA, e.g. its HELLO lacks the capability). */
    void dropEndpoint() {
        PathEndpoint ep;
        synchronized (this) {
            ep = endpoint;
            endpoint = null;
        }
        closeQuietly(ep);
    }

    private void closeQuietly(PathEndpoint ep) {
        if (ep != null) {
            try {
                ep.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing the RDMA endpoint to " + session.peerNodeId()
                        + " failed", e);
            }
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /** What one epoch's endpoint sees of the session: its control messages and failures are tagged with {@code e}. */
    private final class EpochContext implements PeerContext {
        private final long e;

        EpochContext(long e) {
            this.e = e;
        }

        @Override
        public String localNodeId() {
            return session.localNodeId();
        }

        @Override
        public String peerNodeId() {
            return session.peerNodeId();
        }

        @Override
        public ShardlinkConfig config() {
            return config;
        }

        @Override
        public InboundFrames inbound() {
            return session.inbound();
        }

        @Override
        public DataPath quicPath() {
            return session.quicPath();
        }

        @Override
        public void pathFailed(Throwable cause) {
            if (isCurrent(e)) {
                state.tryTransition(PeerState.FAILED, cause);
            }
        }

        @Override
        public CompletableFuture<byte[]> controlRequest(byte[] message) {
            return conn.pathControl(e, QuicConnection.PATH_KIND_PROVIDER, message);
        }

        @Override
        public void refusedOverLimit() {
            session.readRefusedOverLimit(); // the session's OVER_LIMIT count, per peer and node
        }
    }
}
