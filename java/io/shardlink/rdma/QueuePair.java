package io.shardlink.rdma;

import java.lang.ref.Reference;
import java.util.Objects;

/**
 * A reliable-connected queue pair (native: native/jni/jni_qp.c).
 *
 * <pre>{@code
 * QueuePair qp = QueuePair.create(pd, cq, cq, QueuePairOptions.defaults());  // state INIT
 * byte[] mine = qp.localEndpoint();            // 40 bytes: send to the peer out of band
 * qp.connect(peerEndpoint, ConnectOptions.defaults());                       // state RTS
 * qp.post(batch);                              // WorkRequestBatch: no allocation
 * }</pre>
 *
 * Receives may be posted from INIT on. A failed completion (other than a flush) puts the QP into
 * ERR; {@link #setError()} does it on purpose (outstanding requests then complete as flushed).
 * Use after close throws IllegalStateException("QueuePair closed").
 *
 * <p>Many QPs may share one CompletionQueue (each reserves its depths in it: creation fails with
 * SL_ERANGE when the CQ would overflow) and one {@link SharedReceiveQueue}. Every completion
 * carries the QP's {@link #tag()} and {@link #qpNum()} ({@link CompletionBatch#qpTag(int)}), so
 * one poller can serve many connections.
 */
public final class QueuePair extends NativeObject {
    private static final int CAPS = 5;

    private final ProtectionDomain pd;
    private final CompletionQueue sendCq;
    private final CompletionQueue recvCq;
    private final SharedReceiveQueue srq;
    private final QueuePairOptions options;
    private final int qpNum;
    private final long tag;
    private final int maxInline;
    private final int signalEvery;

    private QueuePair(long handle, ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            SharedReceiveQueue srq, QueuePairOptions options, int qpNum, long tag, int[] caps) {
        super(handle, "QueuePair");
        this.pd = pd;
        this.sendCq = sendCq;
        this.recvCq = recvCq;
        this.srq = srq;
        this.options = options;
        this.qpNum = qpNum;
        this.tag = tag;
        this.maxInline = caps[3];
        this.signalEvery = caps[4];
    }

    /** Creates an RC queue pair with default options (depth 64) and moves it to INIT. */
    public static QueuePair create(ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq)
            throws RdmaException {
        return create(pd, sendCq, recvCq, QueuePairOptions.defaults());
    }

    /** Creates an RC queue pair and moves it to INIT (receives may be posted from then on). */
    public static QueuePair create(ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            QueuePairOptions options) throws RdmaException {
        return create(pd, sendCq, recvCq, null, options, 0L);
    }

    /**
     * Creates an RC queue pair and moves it to INIT.
     *
     * @param srq  null: the QP has its own receive queue ({@link #postRecv}); else it takes its
     *             receives from this shared receive queue (same protection domain) and
     *             {@code options.recvDepth()} is ignored
     * @param tag  any value; every completion of this QP carries it ({@link CompletionBatch#qpTag(int)})
     * @throws RdmaException SL_ERANGE if a completion queue would overflow (its depth is shared by
     *         the QPs and SRQs using it), SL_EINVAL for an SRQ of another PD, ...
     */
    public static QueuePair create(ProtectionDomain pd, CompletionQueue sendCq, CompletionQueue recvCq,
            SharedReceiveQueue srq, QueuePairOptions options, long tag) throws RdmaException {
        Objects.requireNonNull(pd, "pd");
        Objects.requireNonNull(sendCq, "sendCq");
        Objects.requireNonNull(recvCq, "recvCq");
        Objects.requireNonNull(options, "options");
        if (srq == null && options.recvDepth() == 0) {
            throw new IllegalArgumentException("recvDepth 0 needs a SharedReceiveQueue");
        }
        int port = options.port() != 0 ? options.port() : pd.device().port();
        QueuePairOptions effective = options.withPort(port);
        long h;
        long pdh = pd.acquire();
        try {
            long scq = sendCq.acquire();
            try {
                long rcq = recvCq.acquire();
                try {
                    long srqh = srq != null ? srq.acquire() : 0L;
                    try {
                        h = nativeCreate(pdh, scq, rcq, srqh, effective.sendDepth(), effective.recvDepth(),
                                effective.maxSge(), effective.maxInline(), effective.port(), effective.gidIndex(),
                                effective.signalEvery(), tag);
                    } finally {
                        if (srq != null) {
                            srq.release();
                        }
                    }
                } finally {
                    recvCq.release();
                }
            } finally {
                sendCq.release();
            }
        } finally {
            pd.release();
        }
        int qpn;
        int[] caps = new int[CAPS];
        try {
            qpn = nativeQpNum(h);
            nativeCaps(h, caps);
        } catch (RdmaException | RuntimeException e) {
            try {
                nativeDestroy(h);
            } catch (RdmaException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new QueuePair(h, pd, sendCq, recvCq, srq, effective, qpn, tag, caps);
    }

    public ProtectionDomain pd() {
        return pd;
    }

    public CompletionQueue sendCq() {
        return sendCq;
    }

    public CompletionQueue recvCq() {
        return recvCq;
    }

    /** The shared receive queue this QP takes its receives from, or null. */
    public SharedReceiveQueue srq() {
        return srq;
    }

    /** The tag given at creation; every completion of this QP carries it. */
    public long tag() {
        return tag;
    }

    /**
     * Inline payload bytes the device granted (0: none; then {@link WorkRequestBatch.Slot#inline()}
     * requests are refused with SL_ERANGE). May exceed what was asked for.
     */
    public int maxInline() {
        return maxInline;
    }

    /** The longest unsignaled run before the shim signals a request itself (selective signaling). */
    public int signalEvery() {
        return signalEvery;
    }

    /** The options in effect (port resolved). */
    public QueuePairOptions options() {
        return options;
    }

    /** The QP number (24 bits), as in {@link CompletionBatch#qpNum(int)}. */
    public int qpNum() {
        return qpNum;
    }

    /**
     * This QP's endpoint blob ({@value Layout#ENDPOINT_SIZE} bytes, a fixed big-endian layout
     * with a version): give it to the peer out of band so it can {@link #connect} to this QP.
     */
    public byte[] localEndpoint() throws RdmaException {
        byte[] blob = new byte[Layout.ENDPOINT_SIZE];
        long h = acquire();
        try {
            nativeEndpoint(h, blob);
        } finally {
            release();
        }
        return blob;
    }

    /** Connects with {@link ConnectOptions#defaults()}. */
    public void connect(byte[] peerEndpoint) throws RdmaException {
        connect(peerEndpoint, ConnectOptions.defaults());
    }

    /**
     * Brings the QP from INIT through RTR to RTS towards the peer's endpoint blob.
     *
     * @throws RdmaException SL_EPROTO for a malformed blob, SL_ESTATE if not in INIT, ...
     */
    public void connect(byte[] peerEndpoint, ConnectOptions options) throws RdmaException {
        Objects.requireNonNull(peerEndpoint, "peerEndpoint");
        Objects.requireNonNull(options, "options");
        if (peerEndpoint.length != Layout.ENDPOINT_SIZE) {
            throw new IllegalArgumentException("a peer endpoint is " + Layout.ENDPOINT_SIZE + " bytes, got "
                    + peerEndpoint.length);
        }
        long h = acquire();
        try {
            nativeConnect(h, peerEndpoint, options.access(), options.mtu(), options.timeout(), options.retryCount(),
                    options.rnrRetry(), options.minRnrTimer(), options.maxRdAtomic());
        } finally {
            release();
        }
    }

    /** The QP's current state. No allocation. */
    public QpState state() throws RdmaException {
        long h = acquire();
        try {
            return QpState.of(nativeState(h));
        } finally {
            release();
        }
    }

    /** Moves the QP to ERR: outstanding work completes with flush errors. */
    public void setError() throws RdmaException {
        long h = acquire();
        try {
            nativeSetError(h);
        } finally {
            release();
        }
    }

    /**
     * Posts the batch's send-queue requests (SEND, SEND_IMM, WRITE, WRITE_IMM, READ) with one
     * doorbell and returns how many were posted (all of them). Every request is validated before
     * any is posted. The batch may be cleared and refilled as soon as this returns. No allocation.
     *
     * @throws RdmaException SL_ESTATE unless in RTS; SL_EFULL if they would exceed the send depth
     *         (poll completions first); SL_EINVAL / SL_ERANGE / SL_EACCES / SL_EBADHANDLE for a bad
     *         request (nothing posted); SL_EVERBS if the device refused (then some may have been
     *         posted: {@link #outstandingSends()} is exact, and the QP should be failed and drained)
     */
    public int post(WorkRequestBatch batch) throws RdmaException {
        int n = batch.count();
        if (n == 0) {
            return 0;
        }
        long address = batch.address();
        long h = acquire();
        try {
            return nativePostSend(h, address, n);
        } finally {
            release();
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Posts the batch's receive requests ({@code recv}); allowed in INIT, RTR and RTS. No allocation.
     *
     * @throws IllegalStateException if the QP takes its receives from a SharedReceiveQueue
     */
    public int postRecv(WorkRequestBatch batch) throws RdmaException {
        if (srq != null) {
            throw new IllegalStateException(this + " takes its receives from " + srq + ": post them there");
        }
        int n = batch.count();
        if (n == 0) {
            return 0;
        }
        long address = batch.address();
        long h = acquire();
        try {
            return nativePostRecv(h, address, n);
        } finally {
            release();
            Reference.reachabilityFence(batch);
        }
    }

    /** Posted send-queue requests whose completions have not been polled yet. No allocation. */
    public int outstandingSends() throws RdmaException {
        return (int) (outstandingPacked() >>> 32);
    }

    /** Posted receives whose completions have not been polled yet. No allocation. */
    public int outstandingRecvs() throws RdmaException {
        return (int) outstandingPacked();
    }

    /** Both outstanding counts, read together. */
    public Outstanding outstanding() throws RdmaException {
        long v = outstandingPacked();
        return new Outstanding((int) (v >>> 32), (int) v);
    }

    /** Outstanding (posted, not yet completed) requests. */
    public record Outstanding(int sends, int recvs) {
    }

    private long outstandingPacked() throws RdmaException {
        long h = acquire();
        try {
            return nativeOutstanding(h);
        } finally {
            release();
        }
    }

    @Override
    void destroy(long handle) throws RdmaException {
        nativeDestroy(handle);
    }

    @Override
    public String toString() {
        return "QueuePair[qpn=" + qpNum + (isClosed() ? ", closed" : "") + "]";
    }

    // ------------------------------------------------------------------ natives (jni_qp.c)

    private static native long nativeCreate(long pd, long sendCq, long recvCq, long srq, int sqDepth, int rqDepth,
            int maxSge, int maxInline, int port, int gidIndex, int signalEvery, long tag) throws RdmaException;

    private static native void nativeCaps(long qp, int[] out) throws RdmaException;

    private static native void nativeDestroy(long qp) throws RdmaException;

    private static native int nativeState(long qp) throws RdmaException;

    private static native int nativeQpNum(long qp) throws RdmaException;

    private static native void nativeSetError(long qp) throws RdmaException;

    private static native void nativeEndpoint(long qp, byte[] out) throws RdmaException;

    private static native void nativeConnect(long qp, byte[] peer, int access, int mtu, int timeout, int retryCount,
            int rnrRetry, int minRnrTimer, int maxRdAtomic) throws RdmaException;

    static native int nativePostSend(long qp, long address, int count) throws RdmaException;

    static native int nativePostRecv(long qp, long address, int count) throws RdmaException;

    private static native long nativeOutstanding(long qp) throws RdmaException;
}
