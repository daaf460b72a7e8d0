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
 * <p>Polling modes for a poller thread: busy ({@link #poll} in a loop), adaptive
 * ({@link #pollAdaptive}: spin for a bounded time, then arm the channel and sleep) and event
 * ({@link #pollWait}). {@link #wake()} ends a wait at once (a pending wake is not lost).
 *
 * <p>Many queue pairs may share one CQ: each reserves its send and/or receive depth in it (a
 * {@link SharedReceiveQueue}'s depth is reserved once), and creating one that would overflow it
 * fails with SL_ERANGE. Completions carry their QP's tag ({@link CompletionBatch#qpTag(int)}).
 *
 * <p>Closing it while a queue pair or SRQ still uses it throws IllegalStateException and leaves it
 * open. Closing it while another thread is inside pollWait/pollAdaptive is safe: close() wakes the
 * waiter, and waits run in native slices of at most {@value #WAIT_SLICE_MS} ms, so close() waits
 * at most that long; the waiting thread then gets IllegalStateException("CompletionQueue closed").
 */
public final class CompletionQueue extends NativeObject {
    /** Longest single native wait inside pollWait (bounds how long close() can be delayed). */
    static final int WAIT_SLICE_MS = 100;
    /** Longest spin pollAdaptive accepts, in microseconds (a spin is one native call). */
    public static final int MAX_SPIN_MICROS = 100_000;
    /** nativePollAdaptive's result when sl_cq_wake ended the call (jni_cq.c). */
    private static final int WOKEN = -2;

    private final RdmaDevice device;
    private final int depth;

    CompletionQueue(long handle, RdmaDevice device, int depth) {
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
     * (-1: no limit; 0: just poll) for completions. Returns how many were written, 0 on timeout
     * or {@link #wake()}. No allocation.
     */
    public int pollWait(CompletionBatch batch, int timeoutMs) throws RdmaException {
        return pollAdaptive(batch, 0, timeoutMs);
    }

    /**
     * Adaptive polling: polls without sleeping for up to {@code spinMicros} (at most
     * {@value #MAX_SPIN_MICROS}), then arms the completion channel and sleeps up to the rest of
     * {@code timeoutMs} (-1: no limit). Returns how many completions were written, 0 on timeout or
     * {@link #wake()}. The spin costs CPU while idle; the sleep costs a wake-up latency. No allocation.
     */
    public int pollAdaptive(CompletionBatch batch, int spinMicros, int timeoutMs) throws RdmaException {
        if (timeoutMs < -1) {
            throw new IllegalArgumentException("timeoutMs must be >= -1, got " + timeoutMs);
        }
        if (spinMicros < 0 || spinMicros > MAX_SPIN_MICROS) {
            throw new IllegalArgumentException("spinMicros must be 0.." + MAX_SPIN_MICROS + ", got " + spinMicros);
        }
        long address = batch.address();
        batch.setCount(0);
        long deadline = timeoutMs > 0 ? System.nanoTime() + timeoutMs * 1_000_000L : 0;
        int slice = timeoutMs < 0 ? WAIT_SLICE_MS : Math.min(timeoutMs, WAIT_SLICE_MS);
        int spin = spinMicros;
        for (;;) {
            int n;
            long h = acquire();
            try {
                // the spin is inside the first slice's budget
                int budget = timeoutMs < 0 ? slice + spin / 1000 + 1 : slice;
                n = nativePollAdaptive(h, address, batch.capacity(), spin, budget);
            } finally {
                release();
                Reference.reachabilityFence(batch);
            }
            spin = 0;
            if (n > 0) {
                batch.setCount(n);
                return n;
            }
            if (n == WOKEN || timeoutMs == 0) {
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

    /**
     * Wakes a thread in {@link #pollWait} or {@link #pollAdaptive} on this CQ: it returns 0 at once.
     * If none is waiting, the next wait returns at once (a wake is never lost; several pending
     * wakes count as one). For stopping a poller, or handing it work.
     */
    public void wake() throws RdmaException {
        long h = acquire();
        try {
            nativeWake(h);
        } finally {
            release();
        }
    }

    @Override
    void beginClose(long handle) {
        try {
            nativeWake(handle); // a poller blocked in a wait leaves now, not at the end of its slice
        } catch (RdmaException | RuntimeException e) {
            // best effort: the poller still leaves at the end of its slice
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

    private static native int nativePollAdaptive(long cq, long address, int max, int spinMicros, int timeoutMs)
            throws RdmaException;

    private static native void nativeWake(long cq) throws RdmaException;
}
