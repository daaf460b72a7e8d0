package io.shardlink.rdma;

import java.util.Objects;

/**
 * A type-2 memory window (native: native/jni/jni_mw.c): remote access to a range of a {@link MemoryRegion}, scoped to
 * the one {@link QueuePair} it is bound through. A WRITE carrying the window's {@link #rkey()} that arrives on any
 * other queue pair, even one of the same protection domain, fails with a remote access error and lands nothing. The
 * region behind it is registered LOCAL_WRITE | {@link Access#MW_BIND} only, so the region's own rkey grants nothing
 * remote. A window is bound once; {@link #close()} revokes it (the device invalidates it at once). While bound it
 * keeps its region and queue pair from being closed (IllegalStateException): close windows first.
 */
public final class MemoryWindow extends NativeObject {
    private final ProtectionDomain pd;
    private final int rkey;

    private MemoryWindow(long handle, ProtectionDomain pd) throws RdmaException {
        super(handle, "MemoryWindow");
        this.pd = pd;
        int k;
        try {
            k = nativeRkey(handle);
        } catch (RdmaException | RuntimeException e) {
            try {
                nativeDealloc(handle);
            } catch (RdmaException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        this.rkey = k;
    }

    /** Allocates a window in {@code pd}; RdmaException (SL_ENOTSUP) if the device has no type-2 windows. */
    public static MemoryWindow allocate(ProtectionDomain pd) throws RdmaException {
        Objects.requireNonNull(pd, "pd");
        long h = pd.acquire();
        try {
            return new MemoryWindow(nativeAlloc(h), pd);
        } finally {
            pd.release();
        }
    }

    /** The rkey the window answers to once bound (fixed at allocation: it may be sent before the bind). */
    public int rkey() {
        return rkey;
    }

    public ProtectionDomain protectionDomain() {
        return pd;
    }

    /**
     * Posts a signaled bind of this window to {@code [offset, offset + length)} of {@code mr} on {@code qp}'s send
     * queue, granting {@code access} ({@link Access#REMOTE_WRITE} and/or {@link Access#REMOTE_READ} bits). The window
     * is usable once the completion (opcode {@link Opcode#BIND_MW}, id {@code wrId}) succeeds. The bind takes one
     * send-queue entry until then.
     */
    public void bind(QueuePair qp, long wrId, MemoryRegion mr, long offset, long length, int access)
            throws RdmaException {
        Objects.requireNonNull(qp, "qp");
        Objects.requireNonNull(mr, "mr");
        long q = qp.acquire();
        try {
            long w = acquire();
            try {
                long m = mr.acquire();
                try {
                    nativeBind(q, w, m, offset, length, access, wrId);
                } finally {
                    mr.release();
                }
            } finally {
                release();
            }
        } finally {
            qp.release();
        }
    }

    @Override
    void destroy(long handle) throws RdmaException {
        nativeDealloc(handle);
    }

    // ------------------------------------------------------------------ natives (jni_mw.c)

    private static native long nativeAlloc(long pd) throws RdmaException;

    private static native int nativeRkey(long mw) throws RdmaException;

    private static native void nativeBind(long qp, long mw, long mr, long offset, long length, int access,
                                          long wrId) throws RdmaException;

    private static native void nativeDealloc(long mw) throws RdmaException;
}
