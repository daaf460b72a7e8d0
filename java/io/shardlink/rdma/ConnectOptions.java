package io.shardlink.rdma;

/**
 * How a {@link QueuePair} connects to its peer ({@code sl_connect_opts}). The defaults are close to
 * perftest's, which keep rxe stable (RNR retry 7, local ACK timeout 14, ~67 ms), but with retry 6, not 7:
 * rxe treats a retry count of 7 as "retry forever", so a dead link or peer would never be reported.
 *
 * @param access      remote rights this QP grants ({@link Access} bits; default REMOTE_WRITE | REMOTE_READ)
 * @param mtu         ibv_mtu (1=256 .. 5=4096); 0 (default) = the smaller of the two ends' active MTUs
 * @param timeout     local ACK timeout exponent, 4.096 us * 2^timeout, 0..31 (default 14)
 * @param retryCount  transport retries 0..7 (default 6; 7 means forever on rxe)
 * @param rnrRetry    receiver-not-ready retries 0..7, 7 = infinite (default 7)
 * @param minRnrTimer minimum RNR NAK timer code 0..31 (default 12)
 * @param maxRdAtomic outstanding RDMA READs as initiator and responder, 1..255 (default 16)
 */
public record ConnectOptions(int access, int mtu, int timeout, int retryCount, int rnrRetry, int minRnrTimer,
        int maxRdAtomic) {

    private static final ConnectOptions DEFAULTS = new ConnectOptions(
            Access.REMOTE_WRITE.bit() | Access.REMOTE_READ.bit(), 0, 14, 6, 7, 12, 16);

    public ConnectOptions {
        check("access", access, 0, Access.ALL);
        check("mtu", mtu, 0, 5);
        check("timeout", timeout, 0, 31);
        check("retryCount", retryCount, 0, 7);
        check("rnrRetry", rnrRetry, 0, 7);
        check("minRnrTimer", minRnrTimer, 0, 31);
        check("maxRdAtomic", maxRdAtomic, 1, 255);
    }

    private static void check(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + " must be " + min + ".." + max + ", got " + v);
        }
    }

    public static ConnectOptions defaults() {
        return DEFAULTS;
    }

    public ConnectOptions withAccess(int v) {
        return new ConnectOptions(v, mtu, timeout, retryCount, rnrRetry, minRnrTimer, maxRdAtomic);
    }

    public ConnectOptions withMtu(int v) {
        return new ConnectOptions(access, v, timeout, retryCount, rnrRetry, minRnrTimer, maxRdAtomic);
    }

    public ConnectOptions withTimeout(int v) {
        return new ConnectOptions(access, mtu, v, retryCount, rnrRetry, minRnrTimer, maxRdAtomic);
    }

    public ConnectOptions withRetryCount(int v) {
        return new ConnectOptions(access, mtu, timeout, v, rnrRetry, minRnrTimer, maxRdAtomic);
    }

    public ConnectOptions withRnrRetry(int v) {
        return new ConnectOptions(access, mtu, timeout, retryCount, v, minRnrTimer, maxRdAtomic);
    }

    public ConnectOptions withMinRnrTimer(int v) {
        return new ConnectOptions(access, mtu, timeout, retryCount, rnrRetry, v, maxRdAtomic);
    }

    public ConnectOptions withMaxRdAtomic(int v) {
        return new ConnectOptions(access, mtu, timeout, retryCount, rnrRetry, minRnrTimer, v);
    }
}
