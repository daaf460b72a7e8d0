package io.shardlink.rdma;

import java.lang.ref.Reference;
import java.util.Objects;

/**
 * A shared receive queue (native: native/jni/jni_srq.c): one pool of posted receives that many
 * {@link QueuePair}s created with it take their receives from, so that receive memory grows with
 * the pool, not with the number of connections.
 *
 * <pre>{@code
 * SharedReceiveQueue srq = SharedReceiveQueue.create(pd, 256);
 * QueuePair qp = QueuePair.create(pd, cq, cq, srq, QueuePairOptions.defaults(), peerTag);
 * srq.postRecv(batch);           // batch of recv(...) slots; no allocation
 * // completions: CompletionBatch#isSrq(i), #qpTag(i) say which QP consumed which receive
 * }</pre>
 *
 * A receive stays outstanding until its completion is polled from the CQ of the QP that consumed
 * it; posting more than {@link #depth()} outstanding throws RdmaException SL_EFULL. Every CQ that
 * these receives complete on reserves the SRQ's depth once. Closing it while a QP uses it throws
 * IllegalStateException and leaves it open; its CQs can be closed only after it.
 */
public final class SharedReceiveQueue extends NativeObject {
    /** Scatter/gather entries per receive when not given. */
    public static final int DEFAULT_MAX_SGE = 4;

    private final ProtectionDomain pd;
    private final int depth;
    private final int maxSge;

    SharedReceiveQueue(long handle, ProtectionDomain pd, int depth, int maxSge) {
        super(handle, "SharedReceiveQueue");
        this.pd = pd;
        this.depth = depth;
        this.maxSge = maxSge;
    }

    /** An SRQ of {@code depth} receives with up to {@value #DEFAULT_MAX_SGE} SGEs each. */
    public static SharedReceiveQueue create(ProtectionDomain pd, int depth) throws RdmaException {
        return create(pd, depth, DEFAULT_MAX_SGE);
    }

    /**
     * Creates an SRQ on {@code pd}.
     *
     * @throws RdmaException SL_ENOTSUP if the device has no shared receive queues
     *         ({@link DeviceLimits#hasSharedReceiveQueues()}), SL_ERANGE above its max_srq_wr / max_srq_sge
     */
    public static SharedReceiveQueue create(ProtectionDomain pd, int depth, int maxSge) throws RdmaException {
        Objects.requireNonNull(pd, "pd");
        if (depth <= 0) {
            throw new IllegalArgumentException("SRQ depth must be positive, got " + depth);
        }
        if (maxSge < 1 || maxSge > WorkRequestBatch.MAX_SGE) {
            throw new IllegalArgumentException("maxSge must be 1.." + WorkRequestBatch.MAX_SGE + ", got " + maxSge);
        }
        long pdh = pd.acquire();
        try {
            return new SharedReceiveQueue(nativeCreate(pdh, depth, maxSge), pd, depth, maxSge);
        } finally {
            pd.release();
        }
    }

    public ProtectionDomain pd() {
        return pd;
    }

    /** Receives that may be outstanding at once. */
    public int depth() {
        return depth;
    }

    public int maxSge() {
        return maxSge;
    }

    /**
     * Posts the batch's receive requests ({@link WorkRequestBatch.Slot#recv}, memory of this SRQ's
     * protection domain with LOCAL_WRITE) and returns how many were posted (all). Every request is
     * validated before any is posted. No allocation.
     *
     * @throws RdmaException SL_EFULL if they would exceed {@link #depth()} outstanding (nothing posted)
     */
    public int postRecv(WorkRequestBatch batch) throws RdmaException {
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

    /** Posted receives whose completions have not been polled yet. No allocation. */
    public int outstanding() throws RdmaException {
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
        return "SharedReceiveQueue[depth=" + depth + (isClosed() ? ", closed" : "") + "]";
    }

    // ------------------------------------------------------------------ natives (jni_srq.c)

    private static native long nativeCreate(long pd, int depth, int maxSge) throws RdmaException;

    private static native void nativeDestroy(long srq) throws RdmaException;

    private static native int nativePostRecv(long srq, long address, int count) throws RdmaException;

    private static native int nativeOutstanding(long srq) throws RdmaException;
}
