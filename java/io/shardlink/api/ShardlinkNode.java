package io.shardlink.api;

import io.shardlink.buffer.BufferRegistrar;
import io.shardlink.buffer.DirectBufferPool;
import io.shardlink.concurrent.NodeThreads;
import io.shardlink.concurrent.ShardlinkThreadFactory;
import io.shardlink.config.DirectMemoryCheck;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.metrics.TransportMetrics;
import io.shardlink.quic.QuicConnection;
import io.shardlink.quic.QuicTransport;
import io.shardlink.state.PeerStateListener;
import io.shardlink.transfer.DataPathProvider;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A shardlink node: listens for peers over QUIC, connects to peers, serves incoming shard copies (through
 * the registered {@link ShardSinkFactory}) and blob reads (through the registered {@link BlobSource}).
 *
 * <p>Threads (all named {@code shardlink-<nodeId>-<role>-<n>}): {@code io} (Netty event loops),
 * {@code worker} (shard sinks; blocking I/O allowed), {@code reader} (blob sources), {@code copy} (one per outgoing copy while it
 * runs). {@link #close()} fails in-flight operations with {@link ShardlinkClosedException} and waits for every
 * one of these threads to end; the chunk buffer pool and any RDMA provider are released.
 */
public final class ShardlinkNode implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ShardlinkNode.class.getName());

    private final ShardlinkConfig config;
    private final DataPathProvider provider;
    private final String unavailableReason;
    private final TransportMetrics metrics;
    private final DirectBufferPool pool;
    private final ThreadPoolExecutor workers;
    private final ThreadPoolExecutor readers;
    private final ThreadPoolExecutor copies;
    private final QuicTransport quic;
    private final Set<PeerSession> sessions = ConcurrentHashMap.newKeySet();
    private final CopyOnWriteArrayList<PeerStateListener> stateListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final NodeThreads threads;
    private final CountDownLatch closeDone = new CountDownLatch(1);
    private final InetSocketAddress localAddress;
    private volatile ShardSinkFactory sinkFactory;
    private volatile BlobSource blobSource;

    private ShardlinkNode(ShardlinkConfig requested, DataPathProvider provider, String providerError) {
        ShardlinkConfig config = fitDirectMemory(requested);
        this.config = config;
        this.metrics = new TransportMetrics(config.nodeId());
        this.threads = new NodeThreads(config.nodeId());
        String reason;
        if (config.transportMode() == TransportMode.QUIC_ONLY) {
            reason = "transport mode is QUIC_ONLY";
        } else if (provider == null) {
            reason = providerError != null ? providerError
                    : "no RDMA data path provider on the class path (native library not loaded)";
        } else {
            String r;
            try {
                provider.configure(config);
                r = provider.unavailableReason();
            } catch (Exception | LinkageError e) {
                r = "RDMA provider failed: " + e;
            }
            reason = r;
        }
        this.provider = provider;
        this.unavailableReason = reason;
        BufferRegistrar registrar = reason == null ? provider.bufferRegistrar() : BufferRegistrar.NONE;
        this.pool = new DirectBufferPool(config.nodeId() + "-chunks", config.maxSendSize(), config.pinnedBufferCount(),
                registrar);
        this.workers = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                threads.factory("worker"));
        this.workers.allowCoreThreadTimeOut(true);
        // blob reads get their own threads: a slow BlobSource must not hold up incoming copies (and vice versa)
        this.readers = new ThreadPoolExecutor(8, 8, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                threads.factory("reader"));
        this.readers.allowCoreThreadTimeOut(true);
        this.copies = new ThreadPoolExecutor(0, 1024, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                threads.factory("copy"));
        this.quic = new QuicTransport(config, threads.factory("io"), this::accept);
        InetSocketAddress bound;
        try {
            bound = quic.bind();
        } catch (RuntimeException e) {
            shutdownExecutors();
            quic.close();
            pool.close();
            throw e;
        }
        this.localAddress = bound;
    }

    /**
     * The config to run with: the pinned-memory budget sized down to the JVM's direct memory limit (with a
     * WARNING), or a refusal naming both numbers and the flag to raise (see {@link DirectMemoryCheck}).
     */
    private static ShardlinkConfig fitDirectMemory(ShardlinkConfig requested) {
        DirectMemoryCheck.Result r;
        try {
            r = DirectMemoryCheck.fit(requested, DirectMemoryCheck.jvmLimit());
        } catch (IllegalStateException e) {
            throw new ShardlinkException(e.getMessage(), e);
        }
        if (r.warning() != null) {
            LOG.log(System.Logger.Level.WARNING, r.warning());
        }
        return r.config();
    }

    /** Starts a node with the RDMA provider found by {@link ServiceLoader} (none: peers are UNAVAILABLE). */
    public static ShardlinkNode start(ShardlinkConfig config) {
        if (config.transportMode() == TransportMode.QUIC_ONLY) {
            return new ShardlinkNode(config, null, null);
        }
        try {
            Optional<DataPathProvider> p = ServiceLoader.load(DataPathProvider.class).findFirst();
            return new ShardlinkNode(config, p.orElse(null), null);
        } catch (ServiceConfigurationError | LinkageError e) {
            return new ShardlinkNode(config, null, "RDMA data path provider could not be loaded: " + e);
        }
    }

    /** Starts a node with an explicit data path provider (null: none). */
    public static ShardlinkNode start(ShardlinkConfig config, DataPathProvider provider) {
        return new ShardlinkNode(config, provider, null);
    }

    /** The config the node runs with (its pinned-memory budget may have been sized down to the JVM's limit). */
    public ShardlinkConfig config() {
        return config;
    }

    public String nodeId() {
        return config.nodeId();
    }

    /** The bound UDP address peers connect to. */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** Why RDMA is not used on this node, or null when it may be. */
    public String rdmaUnavailableReason() {
        return unavailableReason;
    }

    /** Where incoming shard copies go. Without one, incoming copies are refused. */
    public ShardlinkNode onShardCopy(ShardSinkFactory factory) {
        this.sinkFactory = factory;
        return this;
    }

    /** Where blob reads are served from. Without one, reads are answered NOT_FOUND. */
    public ShardlinkNode blobSource(BlobSource source) {
        this.blobSource = source;
        return this;
    }

    /** Observes every peer's state transitions (added to peers connected or accepted later). */
    public void addPeerStateListener(PeerStateListener l) {
        stateListeners.add(l);
        for (PeerSession s : sessions) {
            s.addStateListener(l);
        }
    }

    /** Connects to a node (QUIC + TLS, HELLO, RDMA bring-up when both have it); waits up to connectTimeout. */
    public Peer connect(InetSocketAddress remote) {
        try {
            return connectAsync(remote).get(config.connectTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof ShardlinkException se ? se
                    : new ShardlinkException("node " + nodeId() + " cannot connect to " + remote + ": " + c, c);
        } catch (TimeoutException e) {
            throw new ShardlinkException("node " + nodeId() + " cannot connect to " + remote + ": no answer within "
                    + config.connectTimeout().toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShardlinkException("node " + nodeId() + ": interrupted while connecting to " + remote, e);
        }
    }

    /**
     * Connects asynchronously. The Peer lives as long as the nodes do: a lost connection is re-established in
     * the background (capped backoff) and on the next operation (see {@link Peer#addConnectionListener}).
     */
    public CompletableFuture<Peer> connectAsync(InetSocketAddress remote) {
        return connectSession(remote).thenApply(s -> new ReconnectingPeer(this, remote, s));
    }

    boolean isClosed() {
        return closed.get();
    }

    /** One connection: QUIC + TLS, HELLO, RDMA bring-up; the session of it. */
    CompletableFuture<PeerSession> connectSession(InetSocketAddress remote) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new ShardlinkClosedException("node " + nodeId() + " is closed"));
        }
        PeerSession[] holder = new PeerSession[1];
        return quic.connect(remote, conn -> {
                    PeerSession s = new PeerSession(this, conn, provider, unavailableReason);
                    holder[0] = s;
                    sessions.add(s);
                    return s;
                })
                .orTimeout(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .thenCompose(conn -> holder[0].bringUp().thenApply(v -> holder[0]))
                .handle((p, e) -> {
                    if (e == null) {
                        return p;
                    }
                    Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    if (c instanceof TimeoutException) {
                        // orTimeout's exception has no message: say which step did not finish, and when
                        c = new ShardlinkException("node " + nodeId() + " cannot connect to " + remote + ": timed out "
                                + "after " + config.connectTimeout().toMillis() + " ms (connectTimeout) " + (holder[0] == null
                                ? "waiting for the QUIC handshake: nothing answers there, or not a shardlink node"
                                : "waiting for the peer's HELLO after the QUIC handshake"), c);
                    }
                    if (holder[0] != null) {
                        holder[0].closeWith(c);
                    }
                    String msg = c.getMessage() != null && c.getMessage().contains(" cannot connect to ")
                            ? c.getMessage() : "node " + nodeId() + " cannot connect to " + remote + ": " + c.getMessage();
                    throw new CompletionException(c instanceof ShardlinkClosedException
                            ? new ShardlinkClosedException(msg, c)
                            : new ShardlinkException(msg, c instanceof ShardlinkException se ? se.code() : null, c));
                });
    }

    private PeerSession accept(QuicConnection conn) {
        if (closed.get()) {
            throw new io.shardlink.wire.FrameException(io.shardlink.wire.ErrorCode.SHUTTING_DOWN,
                    "node " + nodeId() + " is closing");
        }
        return new PeerSession(this, conn, provider, unavailableReason);
    }

    void register(PeerSession s) {
        sessions.add(s);
        if (closed.get()) {
            s.close();
        }
    }

    void unregister(PeerSession s) {
        sessions.remove(s);
    }

    /** Connected and accepted peers. */
    public List<Peer> peers() {
        return new ArrayList<>(sessions);
    }

    /** Copies in progress to and from every peer, with their progress (for status pages; a fresh list). */
    public List<CopyInFlight> copiesInFlight() {
        List<CopyInFlight> l = new ArrayList<>();
        for (PeerSession s : sessions) {
            l.addAll(s.copiesInFlight());
        }
        return l;
    }

    public MetricsSnapshot metrics() {
        return metrics.snapshot();
    }

    /**
     * The data path provider this node was started with (null: none), for a path's own statistics, such as
     * {@code RdmaDataPathProvider.zeroCopyStats()} (read through {@code ZeroCopyStats.of(node)}).
     */
    public DataPathProvider dataPathProvider() {
        return provider;
    }

    /** Chunk buffers lent and not returned (0 when idle; tests check it after close). */
    public int outstandingBuffers() {
        return pool.outstanding();
    }

    /**
     * QUIC per-operation streams open on this node's connections (copies, stream-per-read reads; control streams
     * and shared read streams not counted). 0 when no operation is in flight: every stream ends fully on every
     * outcome, so the count does not grow with the number of operations.
     */
    public int openQuicStreams() {
        return quic.openStreams();
    }

    /**
     * Long-lived shared QUIC read streams open on this node's connections (opened by either side; at most
     * quicReadStreams per connection and direction): constant, not per read.
     */
    public int openQuicReadStreams() {
        return quic.openSharedReadStreams();
    }

    /** Live threads of this node. */
    public int liveThreads() {
        return ShardlinkThreadFactory.liveThreads(nodeId());
    }

    // package-private plumbing for sessions
    List<PeerStateListener> stateListeners() {
        return stateListeners;
    }

    TransportMetrics metricsRoot() {
        return metrics;
    }

    ShardSinkFactory sinkFactory() {
        ShardSinkFactory f = sinkFactory;
        return f != null ? f : (peer, shard, total) -> {
            throw new java.io.IOException("node " + nodeId() + " accepts no shard copies (no ShardSinkFactory "
                    + "registered)");
        };
    }

    BlobSource blobSource() {
        return blobSource;
    }

    ExecutorService workers() {
        return workers;
    }

    ExecutorService readers() {
        return readers;
    }

    ExecutorService copyExecutor() {
        return copies;
    }

    DirectBufferPool pool() {
        return pool;
    }

    /**
     * Closes the node: every peer's in-flight copies and reads fail with {@link ShardlinkClosedException},
     * incoming copies are aborted (sinks get onAbort), connections and sockets close, and every thread of
     * this node has ended when this returns.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            // closing already (another thread, a shutdown hook): return when that close has finished, unless
            // called from one of the node's own threads (it would wait for itself)
            if (!threads.isNodeThread()) {
                try {
                    closeDone.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return;
        }
        try {
            closeOnce();
        } finally {
            // executors and event loop groups report termination from inside their last thread: wait for the
            // threads themselves
            List<String> alive = threads.awaitEnded(10, TimeUnit.SECONDS);
            if (!alive.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "node " + nodeId() + " closed, but these of its threads have "
                        + "not ended within 10 s (blocked in a sink or blob source that ignores interrupts?): " + alive);
            }
            closeDone.countDown();
        }
    }

    private void closeOnce() {
        ShardlinkClosedException cause = new ShardlinkClosedException("node " + nodeId() + " closed");
        for (PeerSession s : new ArrayList<>(sessions)) {
            s.closeWith(cause);
        }
        copies.shutdown();
        try {
            if (!copies.awaitTermination(10, TimeUnit.SECONDS)) {
                copies.shutdownNow();
                copies.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        quic.close();
        shutdownExecutors();
        pool.close();
        if (provider != null) {
            try {
                provider.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing the RDMA provider failed", e);
            }
        }
    }

    private void shutdownExecutors() {
        copies.shutdownNow();
        workers.shutdown();
        readers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
                workers.awaitTermination(5, TimeUnit.SECONDS);
            }
            if (!readers.awaitTermination(5, TimeUnit.SECONDS)) {
                readers.shutdownNow();
                readers.awaitTermination(5, TimeUnit.SECONDS);
            }
            copies.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "ShardlinkNode{" + nodeId() + " @ " + localAddress + ", peers=" + sessions.size() + "}";
    }
}
