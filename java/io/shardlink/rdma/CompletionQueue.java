package io.shardlink.rdma;

import java.lang.ref.Reference;
import java.util.Objects;

/**
 * A completion queue with its own completion channel (native: native/jni/jni_cq.c).
 *
 * <p>{@link #poll(CompletionBatch)} and {@link #pollWait(CompletionBatch, int)} write completions
 * into a reusable {@link CompletionBatch} and allocate nothing. A CompletionBatch belongs to one
 * thread at a time; the queue itself may be polled from several threads.
 *
 * <p>Closing it while a queue pair still uses it throws IllegalStateException and leaves it open.
 * Closing it while another thread is inside pollWait is safe: pollWait waits in slices of at most
 * {@value #WAIT_SLICE_MS} ms, so close() waits at most that long, and the waiting thread then gets
 * IllegalStateException("CompletionQueue closed").
 */
public final class CompletionQueue extends NativeObject {
    /** Longest single native wait inside pollWait (bounds how long close() can be delayed). */
    static final int WAIT_SLICE_MS = 100;

    private final RdmaDevice device;
    private final int depth;

    private CompletionQueue(long handle, RdmaDevice device, int depth) {
        super(handle, "CompletionQueue");
        this.device = device;
        this.depth = depth;
    }

    /**
     * Creates a CQ of at least {@code depth} entries. Every queue pair attached to it reserves
     * its send and/or receive depth in it, so size it for the sum of those.
     */
    public static CompletionQueue create(RdmaDevice device, int depth) throws RdmaException {
        Objects.requireNonNull(device, "device");
        if (depth <= 0) {
            throw new IllegalArgumentException("CQ depth must be positive, got " + depth);
        }
        long dev = device.acquire();
        try {
            return new CompletionQueue(nativeCreate(dev, depth), device, depth);
        } finally {
            device.release();
        }
    }

    public RdmaDevice device() {
        return device;
    }

    /** The depth asked for at creation (the device may have made it larger). */
    public int depth() {
        return depth;
    }

    /**
     * Polls up to {@code batch.capacity()} completions without waiting. Returns how many were
     * written (also {@code batch.count()}); 0 if none. No allocation.
     */
    public int poll(CompletionBatch batch) throws RdmaException {
        long address = batch.address();
        batch.setCount(0);
        long h = acquire();
        try {
            int n = nativePoll(h, address, batch.capacity());
            batch.setCount(n);
            return n;
        } finally {
            release();
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Polls; if nothing is there, waits on the completion channel up to {@code timeoutMs}
     * (-1: no limit; 0: just poll) for completions. Returns how many were written, 0 on timeout.
     * No allocation.
     */
    public int pollWait(CompletionBatch batch, int timeoutMs) throws RdmaException {
        if (timeoutMs < -1) {
            throw new IllegalArgumentException("timeoutMs must be >= -1, got " + timeoutMs);
        }
        long address = batch.address();
        batch.setCount(0);
        long deadline = timeoutMs > 0 ? System.nanoTime() + timeoutMs * 1_000_000L : 0;
        int slice = timeoutMs < 0 ? WAIT_SLICE_MS : Math.min(timeoutMs, WAIT_SLICE_MS);
        for (;;) {
            int n;
            long h = acquire();
            try {
                n = nativePollWait(h, address, batch.capacity(), slice);
            } finally {
                release();
                Reference.reachabilityFence(batch);
            }
            if (n > 0) {
                batch.setCount(n);
                return n;
            }
            if (timeoutMs == 0) {
                return 0;
            }
            if (timeoutMs > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return 0;
                }
                slice = (int) Math.min(WAIT_SLICE_MS, (left + 999_999L) / 1_000_000L);
            }
        }
    }

    /** The completion channel's non-blocking fd, for an external poll/epoll loop. */
    public int fd() throws RdmaException {
        long h = acquire();
        try {
            return nativeFd(h);
        } finally {
            release();
        }
    }

    /** Requests a channel event for the next completion. */
    public void arm() throws RdmaException {
        arm(false);
    }

    /** Requests a channel event for the next (solicited, if {@code solicitedOnly}) completion. */
    public void arm(boolean solicitedOnly) throws RdmaException {
        long h = acquire();
        try {
            nativeArm(h, solicitedOnly);
        } finally {
            release();
        }
    }

    /** Consumes and acknowledges every pending channel event without blocking; returns how many. */
    public int ackEvents() throws RdmaException {
        long h = acquire();
        try {
            return nativeAckEvents(h);
        } finally {
            release();
        }
    }

    @Override
    void destroy(long handle) throws RdmaException {
        nativeDestroy(handle);
    }

    // ------------------------------------------------------------------ natives (jni_cq.c)

    private static native long nativeCreate(long dev, int depth) throws RdmaException;

    private static native void nativeDestroy(long cq) throws RdmaException;

    private static native int nativeFd(long cq) throws RdmaException;

    private static native void nativeArm(long cq, boolean solicitedOnly) throws RdmaException;

    private static native int nativeAckEvents(long cq) throws RdmaException;

    static native int nativePoll(long cq, long address, int max) throws RdmaException;

    private static native int nativePollWait(long cq, long address, int max, int timeoutMs) throws RdmaException;
}
