package io.shardlink.rdma.path;

/**
 * Tuning of the RDMA data path that is not part of {@code ShardlinkConfig} (queue-pair retry behaviour, polling,
 * the per-peer read reply ring). {@link #defaults()} are the JNI layer's (perftest's local ACK timeout 14 = ~67 ms
 * and RNR retry 7, but transport retry 6: rxe retries forever at 7, and then a dead link or peer is never
 * reported); {@link #fromSystemProperties()} reads {@code shardlink.rdma.*} overrides, which is what a provider
 * found by {@link java.util.ServiceLoader} uses.
 *
 * @param qpTimeout       local ACK timeout exponent (4.096 us x 2^t), 0..31; with {@code retryCount} it bounds how
 *                        long a dead link or peer takes to surface as "retry exceeded"
 * @param retryCount      transport retries 0..7 (7 = forever on rxe: a cut link would never fail the path)
 * @param rnrRetry        receiver-not-ready retries 0..7 (7 = infinite: a busy receiver only slows the sender)
 * @param pollTimeoutMs   longest wait of the completion poller before it re-checks for close, 1..1000
 * @param readRingBytes   bytes of the per-peer reply ring that blob reads land in (0: two maximal answers)
 * @param stagingBuffers  registered buffers (maxSendSize each) a node uses to serve blob reads over RDMA
 */
public record RdmaPathOptions(int qpTimeout, int retryCount, int rnrRetry, int pollTimeoutMs, long readRingBytes,
                              int stagingBuffers) {
    public static final String PREFIX = "shardlink.rdma.";

    public RdmaPathOptions {
        check("qpTimeout", qpTimeout, 0, 31);
        check("retryCount", retryCount, 0, 7);
        check("rnrRetry", rnrRetry, 0, 7);
        check("pollTimeoutMs", pollTimeoutMs, 1, 1000);
        check("stagingBuffers", stagingBuffers, 1, 1024);
        if (readRingBytes < 0 || readRingBytes > (1L << 32)) {
            throw new IllegalArgumentException("readRingBytes must be 0 (auto) or at most 4 GiB, got " + readRingBytes);
        }
    }

    private static void check(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException("RDMA path option " + name + " must be " + min + ".." + max + ", got "
                    + v);
        }
    }

    public static RdmaPathOptions defaults() {
        return new RdmaPathOptions(14, 6, 7, 50, 0, 8);
    }

    /** {@link #defaults()} with {@code -Dshardlink.rdma.<name>=<value>} overrides for every component. */
    public static RdmaPathOptions fromSystemProperties() {
        RdmaPathOptions d = defaults();
        return new RdmaPathOptions(intProp("qpTimeout", d.qpTimeout), intProp("retryCount", d.retryCount),
                intProp("rnrRetry", d.rnrRetry), intProp("pollTimeoutMs", d.pollTimeoutMs),
                Long.parseLong(System.getProperty(PREFIX + "readRingBytes", String.valueOf(d.readRingBytes)).trim()),
                intProp("stagingBuffers", d.stagingBuffers));
    }

    static int intProp(String name, int dflt) {
        String v = System.getProperty(PREFIX + name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + PREFIX + name + " must be a number, got \"" + v
                    + "\"", e);
        }
    }

    public RdmaPathOptions withQpTimeout(int v) {
        return new RdmaPathOptions(v, retryCount, rnrRetry, pollTimeoutMs, readRingBytes, stagingBuffers);
    }

    public RdmaPathOptions withRetryCount(int v) {
        return new RdmaPathOptions(qpTimeout, v, rnrRetry, pollTimeoutMs, readRingBytes, stagingBuffers);
    }

    public RdmaPathOptions withRnrRetry(int v) {
        return new RdmaPathOptions(qpTimeout, retryCount, v, pollTimeoutMs, readRingBytes, stagingBuffers);
    }

    public RdmaPathOptions withPollTimeoutMs(int v) {
        return new RdmaPathOptions(qpTimeout, retryCount, rnrRetry, v, readRingBytes, stagingBuffers);
    }

    public RdmaPathOptions withReadRingBytes(long v) {
        return new RdmaPathOptions(qpTimeout, retryCount, rnrRetry, pollTimeoutMs, v, stagingBuffers);
    }

    public RdmaPathOptions withStagingBuffers(int v) {
        return new RdmaPathOptions(qpTimeout, retryCount, rnrRetry, pollTimeoutMs, readRingBytes, v);
    }
}
