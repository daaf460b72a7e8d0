package io.shardlink.rdma.path;

import java.util.Locale;

/**
 * The node-wide RDMA engine: how many completion pollers serve the node's peers and how they wait. Every peer's
 * queue pair is attached to the completion queue of one poller (the one with the fewest peers), so a node runs
 * {@code pollers} poller threads whatever its peer count. {@link #fromSystemProperties()} reads
 * {@code shardlink.rdma.<name>} overrides (what a provider found by {@link java.util.ServiceLoader} uses).
 *
 * @param pollers        completion pollers, 1..64; 0 (the default) sizes them from the cores: one per 4 cores,
 *                       at least 1, at most 8 (a poller handles completions of many peers; the copy receiver and
 *                       the read service do the heavy work on their own threads)
 * @param pollMode       {@link PollMode}: EVENT by default, from measurement on the project's 2-vCPU rxe VM (see
 *                       the README's results): there EVENT used the least CPU and was fastest, ADAPTIVE's spin cost
 *                       CPU for nothing, and BUSY pollers starved rxe's kernel work until queue pairs hit "retry
 *                       exceeded". ADAPTIVE or BUSY are for machines with cores to spare (unmeasured here). An
 *                       interleaved run (perftest and the modes alternating) found no measure that separates EVENT
 *                       and ADAPTIVE on that VM, so EVENT stays
 * @param spinMicros     ADAPTIVE: how long a poller keeps polling after its last completion before it sleeps,
 *                       0..100000 (default 200 us: longer than one small-message round trip, so a stream of
 *                       requests never sleeps between them)
 * @param peersPerPoller peers one poller's completion queue has room for, 1..4096 (it is sized peersPerPoller x
 *                       2 x qpDepth); a node refuses RDMA to peers beyond pollers x peersPerPoller (they use QUIC)
 * @param inlineBytes    small frames (READ_REQ, ACK, COPY_BEGIN/END, most ERRORs) up to this many bytes are sent
 *                       inline (copied into the work request: no DMA read of the send buffer), 0..1024, default
 *                       128; a device that cannot inline that much gets queue pairs without inline sends
 * @param readsOnPoller  serve blob reads on the completion poller that received the READ_REQ, without a hop to the
 *                       node's reader threads, when a registered staging buffer is free at once (else they go to
 *                       the readers as usual). Only for a BlobSource that answers quickly and never blocks (memory,
 *                       page cache): while it runs, that poller handles no completion of any peer. Default false.
 *                       A source declared {@link io.shardlink.api.BlobSource#nonBlocking()} is served on the poller
 *                       either way (when a staging buffer is free), as QUIC serves it on its event loop
 * @param splitWrites    send a copy chunk longer than 1 MiB as several 1 MiB WRITEs (the last WITH IMMEDIATE) in
 *                       one doorbell instead of one large WRITE ({@link WriteSegments}); default true
 */
public record RdmaEngineOptions(int pollers, PollMode pollMode, int spinMicros, int peersPerPoller, int inlineBytes,
                                boolean readsOnPoller, boolean splitWrites) {
    public RdmaEngineOptions {
        check("pollers", pollers, 0, 64);
        check("spinMicros", spinMicros, 0, 100_000);
        check("peersPerPoller", peersPerPoller, 1, 4096);
        check("inlineBytes", inlineBytes, 0, 1024);
        if (pollMode == null) {
            throw new IllegalArgumentException("RDMA engine option pollMode must be one of BUSY, ADAPTIVE, EVENT");
        }
    }

    private static void check(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("RDMA engine option " + name + " must be " + min + ".." + max
                    + ", got " + v);
        }
    }

    public static RdmaEngineOptions defaults() {
        return new RdmaEngineOptions(0, PollMode.EVENT, 200, 256, 128, false, true);
    }

    /** The poller count to run: {@link #pollers()}, or the one sized from the cores if that is 0. */
    public int effectivePollers() {
        return pollers > 0 ? pollers : Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors() / 4));
    }

    /** {@link #defaults()} with {@code -Dshardlink.rdma.<name>=<value>} overrides for every component. */
    public static RdmaEngineOptions fromSystemProperties() {
        RdmaEngineOptions d = defaults();
        String mode = System.getProperty(RdmaPathOptions.PREFIX + "pollMode");
        PollMode m = d.pollMode;
        if (mode != null && !mode.isBlank()) {
            try {
                m = PollMode.valueOf(mode.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("system property " + RdmaPathOptions.PREFIX + "pollMode must be "
                        + "BUSY, ADAPTIVE or EVENT, got \"" + mode + "\"", e);
            }
        }
        return new RdmaEngineOptions(RdmaPathOptions.intProp("pollers", d.pollers), m,
                RdmaPathOptions.intProp("spinMicros", d.spinMicros),
                RdmaPathOptions.intProp("peersPerPoller", d.peersPerPoller),
                RdmaPathOptions.intProp("inlineBytes", d.inlineBytes),
                Boolean.parseBoolean(System.getProperty(RdmaPathOptions.PREFIX + "readsOnPoller",
                        String.valueOf(d.readsOnPoller)).trim()),
                Boolean.parseBoolean(System.getProperty(RdmaPathOptions.PREFIX + "splitWrites",
                        String.valueOf(d.splitWrites)).trim()));
    }

    public RdmaEngineOptions withPollers(int v) {
        return new RdmaEngineOptions(v, pollMode, spinMicros, peersPerPoller, inlineBytes, readsOnPoller, splitWrites);
    }

    public RdmaEngineOptions withPollMode(PollMode v) {
        return new RdmaEngineOptions(pollers, v, spinMicros, peersPerPoller, inlineBytes, readsOnPoller, splitWrites);
    }

    public RdmaEngineOptions withSpinMicros(int v) {
        return new RdmaEngineOptions(pollers, pollMode, v, peersPerPoller, inlineBytes, readsOnPoller, splitWrites);
    }

    public RdmaEngineOptions withPeersPerPoller(int v) {
        return new RdmaEngineOptions(pollers, pollMode, spinMicros, v, inlineBytes, readsOnPoller, splitWrites);
    }

    public RdmaEngineOptions withInlineBytes(int v) {
        return new RdmaEngineOptions(pollers, pollMode, spinMicros, peersPerPoller, v, readsOnPoller, splitWrites);
    }

    public RdmaEngineOptions withReadsOnPoller(boolean v) {
        return new RdmaEngineOptions(pollers, pollMode, spinMicros, peersPerPoller, inlineBytes, v, splitWrites);
    }

    public RdmaEngineOptions withSplitWrites(boolean v) {
        return new RdmaEngineOptions(pollers, pollMode, spinMicros, peersPerPoller, inlineBytes, readsOnPoller, v);
    }
}
