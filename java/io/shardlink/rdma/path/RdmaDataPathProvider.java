package io.shardlink.rdma.path;

import io.shardlink.buffer.BufferRegistrar;
import io.shardlink.buffer.DirectBufferPool;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.concurrent.ShardlinkThreadFactory;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.rdma.Access;
import io.shardlink.rdma.DeviceLimits;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.MemoryWindow;
import io.shardlink.rdma.PortAttributes;
import io.shardlink.rdma.ProtectionDomain;
import io.shardlink.rdma.Rdma;
import io.shardlink.rdma.RdmaAvailability;
import io.shardlink.rdma.RdmaDevice;
import io.shardlink.rdma.RdmaException;
import io.shardlink.transfer.DataPathProvider;
import io.shardlink.transfer.PathEndpoint;
import io.shardlink.transfer.PeerContext;
import io.shardlink.wire.FrameCodec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The RDMA data path (libibverbs through {@code io.shardlink.rdma}): registered with {@link java.util.ServiceLoader}
 * for {@link DataPathProvider}, so a node started with {@code ShardlinkNode.start(config)} uses it when the device
 * in its config is usable, and its peers are {@code UNAVAILABLE} with this provider's reason when it is not.
 *
 * <p>Node-wide: the device ({@code config.device()}, "auto" = the first with an ACTIVE port), one protection domain,
 * the pinned-memory budget ({@link PinnedBudget}), the registration of the node's chunk buffer pool
 * ({@link #bufferRegistrar()}, LOCAL_WRITE only: chunks are written out of it, never into it by a peer) and the
 * staging buffers blob reads are served from, and the {@link RdmaEngine}: a few completion pollers, each a thread
 * and a completion queue shared by many peers ({@link RdmaEngineOptions}). Per peer: an {@link RdmaEndpoint} (RC
 * queue pair on a poller's CQ, control buffer, reply ring, receive rings). {@link #stats()} has the verbs-level
 * counters.
 */
public final class RdmaDataPathProvider implements DataPathProvider {
    private static final System.Logger LOG = System.getLogger(RdmaDataPathProvider.class.getName());

    private final RdmaPathOptions options;
    private final RdmaEngineOptions engineOptions;
    private final RdmaPathStats stats = new RdmaPathStats();
    private final Set<RdmaEndpoint> endpoints = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();
    /** Registrations of the chunk pool and staging buffers, by handle (handle = index + 1); copy on write. */
    private volatile MemoryRegion[] registrations = new MemoryRegion[16];
    private int nextHandle = 1;
    private volatile ShardlinkConfig config;
    private volatile String reason = "RDMA data path provider not configured (ShardlinkNode calls configure first)";
    private RdmaDevice device;
    private ProtectionDomain pd;
    private PortAttributes portAttributes;
    private PinnedBudget budget;
    private RdmaEngine engine;
    private DirectBufferPool staging;
    private volatile FileWindows<MemoryRegion> fileWindows;
    /** Window size and window budget for zero-copy reads; -1: from system properties at configure. */
    private long fileWindowBytes = -1;
    private long fileWindowLimit = -1;
    private boolean closed;

    /** Options from {@code shardlink.rdma.*} system properties (what {@link java.util.ServiceLoader} gets). */
    public RdmaDataPathProvider() {
        this(RdmaPathOptions.fromSystemProperties());
    }

    /** {@code options}, and the engine options from {@code shardlink.rdma.*} system properties. */
    public RdmaDataPathProvider(RdmaPathOptions options) {
        this(options, RdmaEngineOptions.fromSystemProperties());
    }

    public RdmaDataPathProvider(RdmaPathOptions options, RdmaEngineOptions engineOptions) {
        this.options = options;
        this.engineOptions = engineOptions;
    }

    @Override
    public Transport transport() {
        return Transport.RDMA;
    }

    public RdmaPathOptions options() {
        return options;
    }

    /**
     * Opens the device and protection domain for {@code config}, or records why RDMA cannot be used (then
     * {@link #unavailableReason()} says so and the node runs over QUIC). Called once, by the node.
     */
    @Override
    public void configure(ShardlinkConfig config) {
        synchronized (lock) {
            if (this.config != null) {
                if (this.config == config) {
                    return;
                }
                throw new IllegalStateException("this RDMA provider already serves node " + this.config.nodeId()
                        + ": give every node its own provider");
            }
            if (closed) {
                throw new IllegalStateException("RDMA provider is closed");
            }
            this.config = config;
            if (config.transportMode() == TransportMode.QUIC_ONLY) {
                reason = "transport mode is QUIC_ONLY";
                return;
            }
            RdmaAvailability a = Rdma.availability(config.device(), config.port(), config.pinnedMemoryBudget());
            if (!a.available()) {
                reason = a.reason();
                LOG.log(System.Logger.Level.INFO, () -> "node " + config.nodeId() + ": " + a.reason());
                return;
            }
            try {
                open(config);
            } catch (RdmaException | RuntimeException e) {
                closeDevice();
                reason = "RDMA unavailable: cannot open " + config.device() + " port " + config.port() + " ("
                        + e.getMessage() + "); using QUIC";
                LOG.log(System.Logger.Level.WARNING, "node " + config.nodeId() + ": " + reason);
                return;
            }
            if (reason == null) {
                LOG.log(System.Logger.Level.INFO, () -> "node " + config.nodeId() + ": RDMA data path on "
                        + device.name() + " port " + config.port() + " (" + portAttributes.linkLayerName()
                        + ", active MTU " + portAttributes.activeMtu() + ", GID index " + config.gidIndex()
                        + "), pinned budget " + PinnedBudget.mib(config.pinnedMemoryBudget()));
            }
        }
    }

    private void open(ShardlinkConfig config) throws RdmaException {
        device = RdmaDevice.open(config.device(), config.port());
        portAttributes = device.portAttributes();
        if (!portAttributes.isActive()) {
            reason = "RDMA unavailable: " + device.name() + " port " + config.port() + " is " + portAttributes.state()
                    + ", not ACTIVE; using QUIC";
            closeDevice();
            return;
        }
        if (config.gidIndex() >= portAttributes.gidTableLength()) {
            reason = "RDMA unavailable: GID index " + config.gidIndex() + " is past the GID table of " + device.name()
                    + " port " + config.port() + " (" + portAttributes.gidTableLength() + " entries): set gidIndex; "
                    + "using QUIC";
            closeDevice();
            return;
        }
        byte[] gid = device.gid(config.gidIndex());
        boolean empty = true;
        for (byte g : gid) {
            empty &= g == 0;
        }
        if (empty) {
            reason = "RDMA unavailable: GID index " + config.gidIndex() + " of " + device.name() + " port "
                    + config.port() + " is empty (no address on its network interface?): set gidIndex; using QUIC";
            closeDevice();
            return;
        }
        DeviceLimits lim = device.limits();
        int depth = config.qpDepth();
        if (lim.maxQpWr() < depth || lim.maxCqe() < 2L * depth || lim.maxSge() < 2) {
            reason = "RDMA unavailable: " + device.name() + " allows " + lim.maxQpWr() + " work requests per queue, "
                    + lim.maxCqe() + " completions per CQ and " + lim.maxSge() + " SGEs; qpDepth " + depth
                    + " needs " + depth + ", " + 2 * depth + " and 2: lower qpDepth; using QUIC";
            closeDevice();
            return;
        }
        pd = ProtectionDomain.create(device);
        budget = new PinnedBudget(config.pinnedMemoryBudget());
        if (Boolean.parseBoolean(System.getProperty(RdmaPathOptions.PREFIX + "zeroCopyReads", "true"))) {
            long wb = fileWindowBytes >= 0 ? fileWindowBytes
                    : Long.getLong(RdmaPathOptions.PREFIX + "fileWindowBytes", DEFAULT_FILE_WINDOW);
            long wl = fileWindowLimit >= 0 ? fileWindowLimit
                    : Long.getLong(RdmaPathOptions.PREFIX + "fileWindowLimit", config.pinnedMemoryBudget() / 2);
            fileWindows = new FileWindows<>(wb, wl, budget, fileWindowRegistrar(pd));
        }
        engine = new RdmaEngine(device, engineOptions, options.pollTimeoutMs(), 2 * depth, lim.maxCqe(),
                new ShardlinkThreadFactory(config.nodeId(), "rdma"), stats);
        reason = null;
    }

    private void closeDevice() {
        if (pd != null) {
            closeQuietly(pd);
            pd = null;
        }
        if (device != null) {
            closeQuietly(device);
            device = null;
        }
    }

    @Override
    public String unavailableReason() {
        return reason;
    }

    /** Default size of a zero-copy file window ({@code shardlink.rdma.fileWindowBytes}). */
    public static final long DEFAULT_FILE_WINDOW = 64L << 20;

    /**
     * Sets the zero-copy file window size and the most bytes windows may pin together (before the node configures
     * this provider); 0 as limit keeps every read on the copy path. Defaults: system properties
     * {@code shardlink.rdma.fileWindowBytes} (64 MiB) and {@code shardlink.rdma.fileWindowLimit} (half the node's
     * pinned budget); {@code shardlink.rdma.zeroCopyReads=false} turns the zero-copy path off.
     */
    public RdmaDataPathProvider fileWindows(long windowBytes, long limit) {
        synchronized (lock) {
            if (config != null) {
                throw new IllegalStateException("set file windows before the node starts");
            }
            fileWindowBytes = windowBytes;
            fileWindowLimit = limit;
        }
        return this;
    }

    /**
     * Windows are registered with access 0: LOCAL read only, never remotely readable or writable. The window's
     * read-only shared mapping first (the NIC reads the page cache itself); a kernel that refuses to pin that (before
     * Linux 6.2 every registration asks for write access, and a read-only shared mapping has none: EFAULT) gets the
     * shim's private read-only mapping of the same bytes instead, whose pages the pinning copies once.
     */
    private FileWindows.Registrar<MemoryRegion> fileWindowRegistrar(ProtectionDomain p) {
        return new FileWindows.Registrar<>() {
            private volatile boolean sharedRefused;

            @Override
            public MemoryRegion register(ByteBuffer mapped, java.nio.file.Path file, long start, int len)
                    throws RdmaException {
                MemoryRegion mr = null;
                if (!sharedRefused) {
                    try {
                        mr = MemoryRegion.register(p, mapped, 0);
                    } catch (RdmaException e) {
                        if (e.errno() != 14) { // EFAULT: this kernel cannot pin read-only shared file pages
                            throw e;
                        }
                        sharedRefused = true;
                        LOG.log(System.Logger.Level.INFO, () -> "node " + config.nodeId() + ": the kernel refuses to "
                                + "pin read-only shared file mappings (" + e.getMessage() + "); file windows use "
                                + "private read-only mappings, whose pages pinning copies once");
                    }
                }
                if (mr == null) {
                    mr = MemoryRegion.registerFile(p, file, start, len);
                    fileWindows.privateWindows.increment();
                }
                stats.liveRegions.incrementAndGet();
                return mr;
            }

            @Override
            public void deregister(MemoryRegion mr) {
                if (closeQuietly(mr)) {
                    stats.liveRegions.decrementAndGet();
                }
            }
        };
    }

    /** The zero-copy file windows, or null (RDMA unusable, or zero-copy reads turned off). */
    FileWindows<MemoryRegion> fileWindows() {
        return fileWindows;
    }

    /** How blob reads were served over RDMA: zero-copy from file windows or copied, and why not zero-copy. */
    public ZeroCopyStats zeroCopyStats() {
        FileWindows<MemoryRegion> fw = fileWindows;
        return fw == null ? ZeroCopyStats.NONE : fw.snapshot();
    }

    /** The registrations of the live file windows (each over a read-only file mapping, access 0). */
    public List<MemoryRegion> fileWindowRegions() {
        FileWindows<MemoryRegion> fw = fileWindows;
        return fw == null ? List.of() : fw.regions();
    }

    /** The chunk pool's registrar: LOCAL_WRITE registrations in the node's PD, charged to the pinned budget. */
    @Override
    public BufferRegistrar bufferRegistrar() {
        return new BufferRegistrar() {
            @Override
            public long register(ByteBuffer buffer) throws Exception {
                return registerLocal(buffer);
            }

            @Override
            public void deregister(long handle) {
                deregisterLocal(handle);
            }
        };
    }

    long registerLocal(ByteBuffer buffer) throws RdmaException {
        ProtectionDomain p;
        synchronized (lock) {
            if (reason != null || closed) {
                throw new IllegalStateException("RDMA path is not usable: " + (closed ? "closed" : reason));
            }
            p = pd;
        }
        MemoryRegion mr = MemoryRegion.register(p, buffer, Access.LOCAL_WRITE.bit());
        synchronized (lock) {
            if (closed) {
                closeQuietly(mr);
                throw new IllegalStateException("RDMA provider closed");
            }
            int h = nextHandle++;
            MemoryRegion[] regs = registrations;
            if (h > regs.length) {
                regs = java.util.Arrays.copyOf(regs, regs.length * 2);
            } else {
                regs = regs.clone();
            }
            regs[h - 1] = mr;
            registrations = regs;
            budget.charge(mr.length());
            stats.liveRegions.incrementAndGet();
            return h;
        }
    }

    void deregisterLocal(long handle) {
        MemoryRegion mr;
        synchronized (lock) {
            MemoryRegion[] regs = registrations;
            if (handle <= 0 || handle > regs.length || regs[(int) handle - 1] == null) {
                return;
            }
            regs = regs.clone();
            mr = regs[(int) handle - 1];
            regs[(int) handle - 1] = null;
            registrations = regs;
        }
        if (closeQuietly(mr)) {
            budget.release(mr.length());
            stats.liveRegions.decrementAndGet();
        }
    }

    /** The registration of a pool or staging buffer (no allocation), or null. */
    MemoryRegion region(long handle) {
        MemoryRegion[] regs = registrations;
        return handle <= 0 || handle > regs.length ? null : regs[(int) handle - 1];
    }

    /** A registered staging buffer for a blob-read answer; waits up to {@code timeoutMs}; null if none came. */
    PooledBuffer stagingBuffer(long timeoutMs) {
        return staging(timeoutMs, false);
    }

    /** A registered staging buffer if one is free right now (never waits, for the poller), else null. */
    PooledBuffer stagingBufferIfFree() {
        return staging(0, true);
    }

    private PooledBuffer staging(long timeoutMs, boolean quiet) {
        DirectBufferPool s;
        synchronized (lock) {
            if (closed || reason != null) {
                return null;
            }
            if (staging == null) {
                staging = new DirectBufferPool(config.nodeId() + "-rdma-staging", config.maxSendSize(),
                        options.stagingBuffers(), bufferRegistrar());
            }
            s = staging;
        }
        try {
            return s.acquire(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            if (!quiet) { // all lent (TimeoutException), or closing
                LOG.log(System.Logger.Level.WARNING, () -> "node " + config.nodeId() + ": no RDMA staging buffer for "
                        + "a blob read: " + e.getMessage());
            }
            return null;
        }
    }

    @Override
    public PathEndpoint prepare(PeerContext peer) throws Exception {
        synchronized (lock) {
            if (reason != null) {
                throw new IllegalStateException(reason);
            }
            if (closed) {
                throw new IllegalStateException("RDMA provider of node " + config.nodeId() + " is closed");
            }
            // a retry while the link is down must not build a queue pair that "connects" over the control stream
            // and then fails on its first work request: refuse at once, the peer stays FAILED and retries later
            PortAttributes now = device.portAttributes();
            if (!now.isActive()) {
                throw new IllegalStateException("RDMA port " + device.name() + ":" + config.port() + " of node "
                        + config.nodeId() + " is " + now.state() + ", not ACTIVE (link down?)");
            }
        }
        RdmaEndpoint ep = new RdmaEndpoint(this, peer);
        endpoints.add(ep);
        return ep;
    }

    void endpointGone(RdmaEndpoint ep) {
        endpoints.remove(ep);
    }

    /** The live endpoint to {@code peerId}, or null (tests). */
    RdmaEndpoint endpointTo(String peerId) {
        for (RdmaEndpoint ep : endpoints) {
            if (ep.peerId().equals(peerId) && !ep.isTornDown()) {
                return ep;
            }
        }
        return null;
    }

    // package-private accessors for endpoints
    ShardlinkConfig config() {
        return config;
    }

    RdmaDevice device() {
        return device;
    }

    ProtectionDomain pd() {
        return pd;
    }

    PinnedBudget budget() {
        return budget;
    }

    RdmaPathStats statsRecorder() {
        return stats;
    }

    RdmaEngine engine() {
        return engine;
    }

    /** Completion pollers this node runs at most (whatever its peer count). */
    public int maxPollers() {
        RdmaEngine e = engine;
        return e == null ? 0 : e.pollerCount();
    }

    /** Verbs-level counters, live registrations, endpoints, rings and pinned bytes of this node. */
    public RdmaPathStats.Snapshot stats() {
        PinnedBudget b = budget;
        return stats.snapshot(b == null ? 0 : b.used(), b == null ? 0 : b.limit());
    }

    /** Peer endpoints not yet torn down. */
    public int liveEndpoints() {
        return endpoints.size();
    }

    /** Closes every endpoint, the staging buffers, remaining registrations, the PD and the device. Idempotent. */
    @Override
    public void close() {
        List<RdmaEndpoint> eps;
        DirectBufferPool s;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            eps = new ArrayList<>(endpoints);
            s = staging;
            staging = null;
        }
        for (RdmaEndpoint ep : eps) {
            try {
                ep.close();
                // the node's close() promises that its threads have ended: wait for the pollers
                if (!ep.awaitTerminated(5000)) {
                    LOG.log(System.Logger.Level.WARNING, "RDMA poller of " + ep + " did not end within 5 s");
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing an RDMA endpoint failed", e);
            }
        }
        if (engine != null) {
            engine.close(5000); // pollers end with their last peer: wait for their threads
        }
        if (s != null) {
            s.close();
        }
        FileWindows<MemoryRegion> fw = fileWindows;
        if (fw != null) {
            fw.close(); // the queue pairs that sent from them are gone
        }
        MemoryRegion[] regs;
        synchronized (lock) {
            regs = registrations;
            registrations = new MemoryRegion[1];
        }
        for (MemoryRegion mr : regs) {
            if (mr != null && closeQuietly(mr)) {
                budget.release(mr.length());
                stats.liveRegions.decrementAndGet();
            }
        }
        synchronized (lock) {
            closeDevice();
            reason = reason == null ? "RDMA provider closed" : reason;
        }
    }

    /** Closes a native object; false if it was already closed or could not be. */
    static boolean closeQuietly(AutoCloseable c) {
        if (c == null) {
            return false;
        }
        try {
            if (c instanceof MemoryRegion mr && mr.isClosed() || c instanceof MemoryWindow mw && mw.isClosed()) {
                return false;
            }
            c.close();
            return true;
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + c + " failed: " + e);
            return false;
        }
    }

    static int headerSize() {
        return FrameCodec.HEADER_SIZE;
    }

    @Override
    public String toString() {
        ShardlinkConfig c = config;
        return "RdmaDataPathProvider{" + (c == null ? "unconfigured" : c.nodeId()) + ", "
                + (reason == null ? device.name() + " port " + c.port() : reason) + "}";
    }
}
