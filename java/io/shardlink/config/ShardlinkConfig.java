package io.shardlink.config;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Immutable configuration of one shardlink node. Build with {@link #builder()}; {@link Builder#build()}
 * validates every field and names the bad one in its {@link IllegalArgumentException}.
 *
 * <p>TLS: key material is either PEM files ({@code certChainPem} + {@code privateKeyPem}, PKCS#8 key) or a
 * {@link KeyManagerFactory}; trust is either a PEM file of CA certificates ({@code trustCertsPem}) or a
 * {@link TrustManagerFactory}. Both are required: shardlink never runs without peer verification.
 * With {@code requireClientAuth} (default on) a server refuses clients without a certificate its trust accepts.
 */
public final class ShardlinkConfig {
    public static final int KiB = 1024;
    public static final int MiB = 1024 * 1024;

    public static final String DEFAULT_DEVICE = "auto";
    public static final int DEFAULT_MAX_SEND_SIZE = 4 * MiB;
    public static final int DEFAULT_NUM_MEMORY_REGIONS = 16;
    public static final int DEFAULT_QP_DEPTH = 64;
    /** Shared QUIC read streams per peer connection (reads are pipelined on them, answered out of order). */
    public static final int DEFAULT_QUIC_READ_STREAMS = 2;
    /**
     * Reads one peer may have in flight on a serving node: room for 1,000+ pipelined reads, while the memory a peer
     * can pin stays bounded (answers are built by the worker threads, a few at a time).
     */
    public static final int DEFAULT_MAX_IN_FLIGHT_READS_PER_PEER = 4096;
    public static final int DEFAULT_MAX_INCOMING_COPIES_PER_PEER = 64;
    public static final int DEFAULT_MAX_RINGS_PER_PEER = 16;
    /**
     * Control requests (RESUME, PATH_CTL, PING, unsolicited ERROR on the control stream) one peer may send per
     * second, with a burst of as many: a copy costs one or two (ring request, resume), keep-alive one per interval.
     */
    public static final int DEFAULT_MAX_CONTROL_REQUESTS_PER_SECOND_PER_PEER = 1000;
    public static final long DEFAULT_PINNED_MEMORY_BUDGET = 256L * MiB;
    /** UDP payload for ordinary (1500-byte MTU) networks. */
    public static final int QUIC_PAYLOAD_ORDINARY = 1350;
    /** UDP payload used on loopback (MTU 65536): per-packet CPU cost dominates QUIC, so bigger is faster. */
    public static final int QUIC_PAYLOAD_LOOPBACK = 16 * KiB;
    public static final int MIN_SEND_SIZE = 4 * KiB;
    public static final int MAX_SEND_SIZE = 64 * MiB;

    private final String nodeId;
    private final InetSocketAddress listenAddress;
    private final String device;
    private final int port;
    private final int gidIndex;
    private final int maxSendSize;
    private final int numMemoryRegions;
    private final int qpDepth;
    private final TransportMode transportMode;
    private final Duration connectTimeout;
    private final Duration idleTimeout;
    private final Duration requestTimeout;
    private final Path certChainPem;
    private final Path privateKeyPem;
    private final String privateKeyPassword;
    private final Path trustCertsPem;
    private final KeyManagerFactory keyManagerFactory;
    private final TrustManagerFactory trustManagerFactory;
    private final boolean requireClientAuth;
    private final long pinnedMemoryBudget;
    private final int quicUdpPayloadSize;
    private final int ioThreads;
    private final int quicMaxStreams;
    private final int quicReadStreams;
    private final int maxInFlightReadsPerPeer;
    private final int maxIncomingCopiesPerPeer;
    private final int maxRingsPerPeer;
    private final Duration ringIdleTimeout;
    private final int maxControlRequestsPerSecondPerPeer;
    private final long quicStreamWindow;
    private final long quicConnectionWindow;
    // connection lifetime (issue 12): keep-alive and reconnect
    private final Duration keepAliveInterval;
    private final Duration reconnectBackoffMin;
    private final Duration reconnectBackoffMax;
    // RDMA path recovery (issue 11): retrying the bring-up after FAILED
    private final Duration rdmaRetryInitial;
    private final Duration rdmaRetryMax;
    private final Duration rdmaRetryStablePeriod;

    private ShardlinkConfig(Builder b) {
        this.nodeId = b.nodeId;
        this.listenAddress = b.listenAddress;
        this.device = b.device;
        this.port = b.port;
        this.gidIndex = b.gidIndex;
        this.maxSendSize = b.maxSendSize;
        this.numMemoryRegions = b.numMemoryRegions;
        this.qpDepth = b.qpDepth;
        this.transportMode = b.transportMode;
        this.connectTimeout = b.connectTimeout;
        this.idleTimeout = b.idleTimeout;
        this.requestTimeout = b.requestTimeout;
        this.certChainPem = b.certChainPem;
        this.privateKeyPem = b.privateKeyPem;
        this.privateKeyPassword = b.privateKeyPassword;
        this.trustCertsPem = b.trustCertsPem;
        this.keyManagerFactory = b.keyManagerFactory;
        this.trustManagerFactory = b.trustManagerFactory;
        this.requireClientAuth = b.requireClientAuth;
        this.pinnedMemoryBudget = b.pinnedMemoryBudget;
        this.quicUdpPayloadSize = b.quicUdpPayloadSize;
        this.ioThreads = b.ioThreads;
        this.quicMaxStreams = b.quicMaxStreams;
        this.quicReadStreams = b.quicReadStreams;
        this.maxInFlightReadsPerPeer = b.maxInFlightReadsPerPeer;
        this.maxIncomingCopiesPerPeer = b.maxIncomingCopiesPerPeer;
        this.maxRingsPerPeer = b.maxRingsPerPeer;
        this.ringIdleTimeout = b.ringIdleTimeout;
        this.maxControlRequestsPerSecondPerPeer = b.maxControlRequestsPerSecondPerPeer;
        this.quicStreamWindow = b.quicStreamWindow;
        this.quicConnectionWindow = b.quicConnectionWindow;
        this.keepAliveInterval = b.keepAliveInterval != null ? b.keepAliveInterval : b.idleTimeout.dividedBy(3);
        this.reconnectBackoffMin = b.reconnectBackoffMin;
        this.reconnectBackoffMax = b.reconnectBackoffMax;
        this.rdmaRetryInitial = b.rdmaRetryInitial;
        this.rdmaRetryMax = b.rdmaRetryMax;
        this.rdmaRetryStablePeriod = b.rdmaRetryStablePeriod;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.nodeId = nodeId;
        b.listenAddress = listenAddress;
        b.device = device;
        b.port = port;
        b.gidIndex = gidIndex;
        b.maxSendSize = maxSendSize;
        b.numMemoryRegions = numMemoryRegions;
        b.qpDepth = qpDepth;
        b.transportMode = transportMode;
        b.connectTimeout = connectTimeout;
        b.idleTimeout = idleTimeout;
        b.requestTimeout = requestTimeout;
        b.certChainPem = certChainPem;
        b.privateKeyPem = privateKeyPem;
        b.privateKeyPassword = privateKeyPassword;
        b.trustCertsPem = trustCertsPem;
        b.keyManagerFactory = keyManagerFactory;
        b.trustManagerFactory = trustManagerFactory;
        b.requireClientAuth = requireClientAuth;
        b.pinnedMemoryBudget = pinnedMemoryBudget;
        b.quicUdpPayloadSize = quicUdpPayloadSize;
        b.ioThreads = ioThreads;
        b.quicMaxStreams = quicMaxStreams;
        b.quicReadStreams = quicReadStreams;
        b.maxInFlightReadsPerPeer = maxInFlightReadsPerPeer;
        b.maxIncomingCopiesPerPeer = maxIncomingCopiesPerPeer;
        b.maxRingsPerPeer = maxRingsPerPeer;
        b.ringIdleTimeout = ringIdleTimeout;
        b.maxControlRequestsPerSecondPerPeer = maxControlRequestsPerSecondPerPeer;
        b.quicStreamWindow = quicStreamWindow;
        b.quicConnectionWindow = quicConnectionWindow;
        b.keepAliveInterval = keepAliveInterval;
        b.reconnectBackoffMin = reconnectBackoffMin;
        b.reconnectBackoffMax = reconnectBackoffMax;
        b.rdmaRetryInitial = rdmaRetryInitial;
        b.rdmaRetryMax = rdmaRetryMax;
        b.rdmaRetryStablePeriod = rdmaRetryStablePeriod;
        return b;
    }

    /** This node's id, sent in HELLO and used in error messages and thread names. */
    public String nodeId() { return nodeId; }
    /** Where the QUIC server listens (UDP); port 0 picks a free port. */
    public InetSocketAddress listenAddress() { return listenAddress; }
    /** RDMA device name ("auto", "mlx5_0", "rxe0"). */
    public String device() { return device; }
    /** RDMA port number (1-based). */
    public int port() { return port; }
    public int gidIndex() { return gidIndex; }
    /** Largest frame payload (one chunk / one ring slot's payload), bytes. */
    public int maxSendSize() { return maxSendSize; }
    /** Ring slots per peer = the copy window in chunks (credits). */
    public int numMemoryRegions() { return numMemoryRegions; }
    public int qpDepth() { return qpDepth; }
    public TransportMode transportMode() { return transportMode; }
    public Duration connectTimeout() { return connectTimeout; }
    public Duration idleTimeout() { return idleTimeout; }
    /**
     * How often an otherwise idle connection sends a PING on its control stream (default idleTimeout / 3), so
     * that the idle timeout only detects a vanished peer; zero turns keep-alive off.
     */
    public Duration keepAliveInterval() { return keepAliveInterval; }
    /** First wait before reconnecting a lost peer connection; doubled per failed attempt up to the max. */
    public Duration reconnectBackoffMin() { return reconnectBackoffMin; }
    /** Longest wait between reconnect attempts of a lost peer connection. */
    public Duration reconnectBackoffMax() { return reconnectBackoffMax; }
    /**
     * First wait before the connecting node retries a FAILED peer's RDMA bring-up (over the control stream; data
     * stays on QUIC meanwhile); doubled per failed attempt up to {@link #rdmaRetryMax()}. Default 1 s.
     */
    public Duration rdmaRetryInitial() { return rdmaRetryInitial; }
    /** Longest wait between RDMA bring-up retries of a FAILED peer. Default 60 s. */
    public Duration rdmaRetryMax() { return rdmaRetryMax; }
    /** How long a recovered RDMA path must stay CONNECTED for the retry backoff to start again from the first wait. Default 30 s. */
    public Duration rdmaRetryStablePeriod() { return rdmaRetryStablePeriod; }
    /** Bound on one request's wait (a read, an ACK, a RESUME reply). */
    public Duration requestTimeout() { return requestTimeout; }
    public Path certChainPem() { return certChainPem; }
    public Path privateKeyPem() { return privateKeyPem; }
    /** Password of the private key PEM, or null when it is not encrypted. */
    public String privateKeyPassword() { return privateKeyPassword; }
    public Path trustCertsPem() { return trustCertsPem; }
    public KeyManagerFactory keyManagerFactory() { return keyManagerFactory; }
    public TrustManagerFactory trustManagerFactory() { return trustManagerFactory; }
    public boolean requireClientAuth() { return requireClientAuth; }
    /** Node-wide budget for pinned (registered / pooled direct) chunk buffers, bytes. */
    public long pinnedMemoryBudget() { return pinnedMemoryBudget; }
    /** QUIC max UDP payload; 0 = derive from the interface MTU (see {@link #quicUdpPayloadFor(int)}). */
    public int quicUdpPayloadSize() { return quicUdpPayloadSize; }
    public int ioThreads() { return ioThreads; }
    /** QUIC initial_max_streams_bidi: bounds concurrent reads + copies per connection. */
    public int quicMaxStreams() { return quicMaxStreams; }
    /**
     * Long-lived QUIC streams per peer connection that carry many pipelined reads each (answered out of order,
     * matched by request id); 0 = one stream per read (also what a peer without the capability gets).
     */
    public int quicReadStreams() { return quicReadStreams; }
    /**
     * Reads a peer may have in flight on this node (served or queued) over the shared QUIC read streams; a read
     * past it is refused at once with ERROR TOO_MANY_READS (never queued without bound).
     */
    public int maxInFlightReadsPerPeer() { return maxInFlightReadsPerPeer; }
    /**
     * Shard copies one peer may have open on this node as their receiver (begun, not yet done or aborted); a new
     * COPY_BEGIN past it is refused at once with ERROR TOO_MANY_COPIES, so one peer cannot open sinks without
     * bound. Resumes of copies already open are never refused.
     */
    public int maxIncomingCopiesPerPeer() { return maxIncomingCopiesPerPeer; }
    /**
     * RDMA receive rings one peer may hold granted on this node at once (each pins numMemoryRegions slots); a
     * RING_REQ past it is declined with the reason, so that copy goes over QUIC and one peer cannot take the
     * whole pinned budget.
     */
    public int maxRingsPerPeer() { return maxRingsPerPeer; }
    /**
     * A granted RDMA receive ring with nothing written into it, announced or acknowledged for this long is revoked
     * (deregistered: its rkey stops working) and its copy aborted with ERROR RING_REVOKED on both sides, so a
     * stalled sender cannot keep memory pinned.
     */
    public Duration ringIdleTimeout() { return ringIdleTimeout; }
    /**
     * Control-stream frames one peer may send per second (RESUME and PATH_CTL requests, PING, ERRORs that answer
     * none of our requests; a burst of as many): past it a request gets ERROR TOO_MANY_REQUESTS and the others are
     * dropped, counted OVER_LIMIT for that peer; its connection, its copies and reads, and every other peer go on.
     */
    public int maxControlRequestsPerSecondPerPeer() { return maxControlRequestsPerSecondPerPeer; }
    public long quicStreamWindow() { return quicStreamWindow; }
    public long quicConnectionWindow() { return quicConnectionWindow; }

    /** The pooled direct buffer count the pinned budget allows. */
    public int pinnedBufferCount() {
        return (int) Math.min(Integer.MAX_VALUE, pinnedMemoryBudget / maxSendSize);
    }

    /**
     * The UDP payload to use on an interface with the given MTU when {@link #quicUdpPayloadSize()} is 0:
     * 1350 on ordinary networks, MTU minus IPv6+UDP headers (and margin) on jumbo-frame networks,
     * {@link #QUIC_PAYLOAD_LOOPBACK} on loopback (MTU 65536).
     */
    public int quicUdpPayloadFor(int mtu) {
        if (quicUdpPayloadSize > 0) {
            return quicUdpPayloadSize;
        }
        if (mtu >= 65536) {
            return QUIC_PAYLOAD_LOOPBACK;
        }
        if (mtu >= 9000) {
            return Math.min(QUIC_PAYLOAD_LOOPBACK, mtu - 100);
        }
        return QUIC_PAYLOAD_ORDINARY;
    }

    @Override
    public String toString() {
        return "ShardlinkConfig{nodeId=" + nodeId + ", listen=" + listenAddress + ", device=" + device
                + ", port=" + port + ", gidIndex=" + gidIndex + ", maxSendSize=" + maxSendSize
                + ", numMemoryRegions=" + numMemoryRegions + ", qpDepth=" + qpDepth + ", mode=" + transportMode
                + ", requireClientAuth=" + requireClientAuth + ", pinnedMemoryBudget=" + pinnedMemoryBudget
                + ", quicUdpPayloadSize=" + (quicUdpPayloadSize == 0 ? "auto" : quicUdpPayloadSize) + "}";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private String nodeId = "node-" + UUID.randomUUID().toString().substring(0, 8);
        private InetSocketAddress listenAddress = new InetSocketAddress("127.0.0.1", 0);
        private String device = DEFAULT_DEVICE;
        private int port = 1;
        private int gidIndex = 0;
        private int maxSendSize = DEFAULT_MAX_SEND_SIZE;
        private int numMemoryRegions = DEFAULT_NUM_MEMORY_REGIONS;
        private int qpDepth = DEFAULT_QP_DEPTH;
        private TransportMode transportMode = TransportMode.AUTO;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Path certChainPem;
        private Path privateKeyPem;
        private String privateKeyPassword;
        private Path trustCertsPem;
        private KeyManagerFactory keyManagerFactory;
        private TrustManagerFactory trustManagerFactory;
        private boolean requireClientAuth = true;
        private long pinnedMemoryBudget = DEFAULT_PINNED_MEMORY_BUDGET;
        private int quicUdpPayloadSize = 0;
        private int ioThreads = 1;
        private int quicMaxStreams = 4096;
        private int quicReadStreams = DEFAULT_QUIC_READ_STREAMS;
        private int maxInFlightReadsPerPeer = DEFAULT_MAX_IN_FLIGHT_READS_PER_PEER;
        private int maxIncomingCopiesPerPeer = DEFAULT_MAX_INCOMING_COPIES_PER_PEER;
        private int maxRingsPerPeer = DEFAULT_MAX_RINGS_PER_PEER;
        private Duration ringIdleTimeout = Duration.ofSeconds(60);
        private int maxControlRequestsPerSecondPerPeer = DEFAULT_MAX_CONTROL_REQUESTS_PER_SECOND_PER_PEER;
        private long quicStreamWindow = 16L * MiB;
        private long quicConnectionWindow = 128L * MiB;
        private Duration keepAliveInterval; // null = idleTimeout / 3
        private Duration reconnectBackoffMin = Duration.ofMillis(200);
        private Duration reconnectBackoffMax = Duration.ofSeconds(30);
        private Duration rdmaRetryInitial = Duration.ofSeconds(1);
        private Duration rdmaRetryMax = Duration.ofSeconds(60);
        private Duration rdmaRetryStablePeriod = Duration.ofSeconds(30);

        private Builder() {}

        public Builder nodeId(String v) { this.nodeId = v; return this; }
        public Builder listenAddress(InetSocketAddress v) { this.listenAddress = v; return this; }
        public Builder device(String v) { this.device = v; return this; }
        public Builder port(int v) { this.port = v; return this; }
        public Builder gidIndex(int v) { this.gidIndex = v; return this; }
        public Builder maxSendSize(int v) { this.maxSendSize = v; return this; }
        public Builder numMemoryRegions(int v) { this.numMemoryRegions = v; return this; }
        public Builder qpDepth(int v) { this.qpDepth = v; return this; }
        public Builder transportMode(TransportMode v) { this.transportMode = v; return this; }
        public Builder connectTimeout(Duration v) { this.connectTimeout = v; return this; }
        public Builder idleTimeout(Duration v) { this.idleTimeout = v; return this; }
        public Builder requestTimeout(Duration v) { this.requestTimeout = v; return this; }
        /** PEM files: certificate chain (leaf first) and PKCS#8 private key. */
        public Builder keyPem(Path certChain, Path privateKey) {
            this.certChainPem = certChain;
            this.privateKeyPem = privateKey;
            return this;
        }
        public Builder privateKeyPassword(String v) { this.privateKeyPassword = v; return this; }
        public Builder trustCertsPem(Path v) { this.trustCertsPem = v; return this; }
        public Builder keyManagerFactory(KeyManagerFactory v) { this.keyManagerFactory = v; return this; }
        public Builder trustManagerFactory(TrustManagerFactory v) { this.trustManagerFactory = v; return this; }
        public Builder requireClientAuth(boolean v) { this.requireClientAuth = v; return this; }
        public Builder pinnedMemoryBudget(long v) { this.pinnedMemoryBudget = v; return this; }
        /** 0 = derive from the interface MTU. */
        public Builder quicUdpPayloadSize(int v) { this.quicUdpPayloadSize = v; return this; }
        public Builder ioThreads(int v) { this.ioThreads = v; return this; }
        public Builder quicMaxStreams(int v) { this.quicMaxStreams = v; return this; }
        /** Shared QUIC read streams per peer (0 = a stream per read); default {@value #DEFAULT_QUIC_READ_STREAMS}. */
        public Builder quicReadStreams(int v) { this.quicReadStreams = v; return this; }
        /** Per-peer in-flight read limit on the serving node; default {@value #DEFAULT_MAX_IN_FLIGHT_READS_PER_PEER}. */
        public Builder maxInFlightReadsPerPeer(int v) { this.maxInFlightReadsPerPeer = v; return this; }
        /** Per-peer limit of incoming copies open on this node; default {@value #DEFAULT_MAX_INCOMING_COPIES_PER_PEER}. */
        public Builder maxIncomingCopiesPerPeer(int v) { this.maxIncomingCopiesPerPeer = v; return this; }
        /** Per-peer limit of RDMA receive rings granted by this node; default {@value #DEFAULT_MAX_RINGS_PER_PEER}. */
        public Builder maxRingsPerPeer(int v) { this.maxRingsPerPeer = v; return this; }
        /** Idle time after which a granted RDMA receive ring is revoked; default 60 s. */
        public Builder ringIdleTimeout(Duration v) { this.ringIdleTimeout = v; return this; }
        /**
         * Per-peer limit of control requests per second on this node; default
         * {@value #DEFAULT_MAX_CONTROL_REQUESTS_PER_SECOND_PER_PEER}.
         */
        public Builder maxControlRequestsPerSecondPerPeer(int v) {
            this.maxControlRequestsPerSecondPerPeer = v;
            return this;
        }
        public Builder quicStreamWindow(long v) { this.quicStreamWindow = v; return this; }
        public Builder quicConnectionWindow(long v) { this.quicConnectionWindow = v; return this; }
        /** Keep-alive PING interval; must be shorter than idleTimeout; Duration.ZERO turns keep-alive off. */
        public Builder keepAliveInterval(Duration v) { this.keepAliveInterval = v; return this; }
        /** Reconnect backoff: first wait and cap (doubling in between). */
        public Builder reconnectBackoff(Duration min, Duration max) {
            this.reconnectBackoffMin = min;
            this.reconnectBackoffMax = max;
            return this;
        }

        /**
         * RDMA path recovery: after a peer's path FAILED, the connecting node retries the bring-up after
         * {@code initial}, doubling the wait per failed attempt up to {@code max}; the wait starts again from
         * {@code initial} once a recovered path stayed up for {@code stablePeriod}. QUIC_ONLY never retries.
         */
        public Builder rdmaRetry(Duration initial, Duration max, Duration stablePeriod) {
            this.rdmaRetryInitial = initial;
            this.rdmaRetryMax = max;
            this.rdmaRetryStablePeriod = stablePeriod;
            return this;
        }

        /** Validates and builds; throws {@link IllegalArgumentException} naming the first bad field. */
        public ShardlinkConfig build() {
            require(nodeId != null && !nodeId.isBlank() && nodeId.length() <= 255,
                    "nodeId must be 1..255 characters, got " + quote(nodeId));
            require(listenAddress != null, "listenAddress must be set");
            require(device != null && !device.isBlank() && device.length() < 64,
                    "device must be \"auto\" or an RDMA device name (e.g. mlx5_0, rxe0) shorter than 64 chars, got "
                            + quote(device));
            require(port >= 1 && port <= 255, "port must be an RDMA port number in 1..255, got " + port);
            require(gidIndex >= 0 && gidIndex <= 255, "gidIndex must be in 0..255, got " + gidIndex);
            require(maxSendSize >= MIN_SEND_SIZE && maxSendSize <= MAX_SEND_SIZE,
                    "maxSendSize must be in " + MIN_SEND_SIZE + ".." + MAX_SEND_SIZE + " bytes, got " + maxSendSize);
            require(numMemoryRegions >= 1 && numMemoryRegions <= 1024,
                    "numMemoryRegions must be in 1..1024, got " + numMemoryRegions);
            require(qpDepth >= 1 && qpDepth <= 16384, "qpDepth must be in 1..16384, got " + qpDepth);
            require(qpDepth >= numMemoryRegions,
                    "qpDepth (" + qpDepth + ") must be at least numMemoryRegions (" + numMemoryRegions
                            + "): every ring slot needs a posted receive");
            require(transportMode != null, "transportMode must be set");
            requirePositive(connectTimeout, "connectTimeout");
            requirePositive(idleTimeout, "idleTimeout");
            requirePositive(requestTimeout, "requestTimeout");
            require(keepAliveInterval == null || (!keepAliveInterval.isNegative()
                            && keepAliveInterval.compareTo(idleTimeout) < 0),
                    "keepAliveInterval must be zero (off) or shorter than idleTimeout (" + idleTimeout + "), got "
                            + keepAliveInterval);
            requirePositive(reconnectBackoffMin, "reconnectBackoffMin");
            requirePositive(reconnectBackoffMax, "reconnectBackoffMax");
            require(reconnectBackoffMax.compareTo(reconnectBackoffMin) >= 0, "reconnectBackoffMax ("
                    + reconnectBackoffMax + ") must be at least reconnectBackoffMin (" + reconnectBackoffMin + ")");
            requirePositive(rdmaRetryInitial, "rdmaRetryInitial");
            requirePositive(rdmaRetryMax, "rdmaRetryMax");
            require(rdmaRetryMax.compareTo(rdmaRetryInitial) >= 0, "rdmaRetryMax (" + rdmaRetryMax
                    + ") must be at least rdmaRetryInitial (" + rdmaRetryInitial + ")");
            require(rdmaRetryStablePeriod != null && !rdmaRetryStablePeriod.isNegative(),
                    "rdmaRetryStablePeriod must be zero or positive, got " + rdmaRetryStablePeriod);
            long ring = (long) numMemoryRegions * maxSendSize;
            require(pinnedMemoryBudget >= 2 * ring,
                    "pinnedMemoryBudget (" + pinnedMemoryBudget + " bytes) must be at least 2 x numMemoryRegions x "
                            + "maxSendSize = " + (2 * ring) + " bytes (one receive ring + one send window)");
            require(quicUdpPayloadSize == 0 || (quicUdpPayloadSize >= 1200 && quicUdpPayloadSize <= 65527),
                    "quicUdpPayloadSize must be 0 (auto) or in 1200..65527 bytes, got " + quicUdpPayloadSize);
            require(ioThreads >= 1 && ioThreads <= 64, "ioThreads must be in 1..64, got " + ioThreads);
            require(quicMaxStreams >= 16 && quicMaxStreams <= 1_000_000,
                    "quicMaxStreams must be in 16..1000000, got " + quicMaxStreams);
            require(quicReadStreams >= 0 && quicReadStreams <= 64,
                    "quicReadStreams must be in 0..64 (0 = a stream per read), got " + quicReadStreams);
            require(maxInFlightReadsPerPeer >= 1 && maxInFlightReadsPerPeer <= 1_000_000,
                    "maxInFlightReadsPerPeer must be in 1..1000000, got " + maxInFlightReadsPerPeer);
            require(maxIncomingCopiesPerPeer >= 1 && maxIncomingCopiesPerPeer <= 100_000,
                    "maxIncomingCopiesPerPeer must be in 1..100000, got " + maxIncomingCopiesPerPeer);
            requirePositive(ringIdleTimeout, "ringIdleTimeout");
            require(maxRingsPerPeer >= 1 && maxRingsPerPeer <= 1024,
                    "maxRingsPerPeer must be in 1..1024, got " + maxRingsPerPeer);
            require(maxControlRequestsPerSecondPerPeer >= 1 && maxControlRequestsPerSecondPerPeer <= 1_000_000,
                    "maxControlRequestsPerSecondPerPeer must be in 1..1000000, got "
                            + maxControlRequestsPerSecondPerPeer);
            require(quicStreamWindow >= 64 * KiB,
                    "quicStreamWindow must be at least 65536 bytes, got " + quicStreamWindow);
            require(quicConnectionWindow >= quicStreamWindow,
                    "quicConnectionWindow (" + quicConnectionWindow + ") must be at least quicStreamWindow ("
                            + quicStreamWindow + ")");
            // TLS
            require((certChainPem == null) == (privateKeyPem == null),
                    "certChainPem and privateKeyPem must be set together (got certChainPem=" + certChainPem
                            + ", privateKeyPem=" + privateKeyPem + ")");
            require(certChainPem != null || keyManagerFactory != null,
                    "tls key material missing: set certChainPem + privateKeyPem (keyPem) or keyManagerFactory");
            require(certChainPem == null || keyManagerFactory == null,
                    "tls key material set twice: use either certChainPem + privateKeyPem or keyManagerFactory");
            require(trustCertsPem != null || trustManagerFactory != null,
                    "tls trust missing: set trustCertsPem or trustManagerFactory (peers are always verified)");
            require(trustCertsPem == null || trustManagerFactory == null,
                    "tls trust set twice: use either trustCertsPem or trustManagerFactory");
            requireReadable(certChainPem, "certChainPem");
            requireReadable(privateKeyPem, "privateKeyPem");
            requireReadable(trustCertsPem, "trustCertsPem");
            return new ShardlinkConfig(this);
        }

        private static void requirePositive(Duration d, String field) {
            require(d != null && !d.isNegative() && !d.isZero(), field + " must be a positive duration, got " + d);
        }

        private static void requireReadable(Path p, String field) {
            require(p == null || Files.isReadable(p), field + " is not a readable file: " + p);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException("invalid shardlink config: " + message);
            }
        }

        private static String quote(String s) {
            return s == null ? "null" : "\"" + s + "\"";
        }
    }
}
