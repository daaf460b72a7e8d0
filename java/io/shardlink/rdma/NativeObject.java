package io.shardlink.rdma;

import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Base of every class that owns one native shim object (JUCX style: one Java class per native
 * object, the 64-bit handle hidden inside).
 *
 * <p>Lifecycle. Every native call on the object is bracketed by {@link #acquire()} /
 * {@link #release()}: one atomic increment and one decrement on a single {@code AtomicLong}, no
 * allocation. {@link #close()} first sets a CLOSING bit (after which {@code acquire()} throws
 * {@code IllegalStateException("<Kind> closed")}), then waits for calls already in flight to
 * release, then destroys the native object exactly once. close() is idempotent; a concurrent
 * second close() waits until the first has finished. If the shim refuses the destroy because the
 * object still has children (SL_EBUSY: e.g. a ProtectionDomain with live QueuePairs), the object
 * stays open and close() throws IllegalStateException saying so.
 *
 * <p>The shim itself rejects destroyed handles too (type + generation), but Java does not rely on
 * that: after close no native call is made with the handle at all.
 */
abstract class NativeObject implements AutoCloseable {
    private static final long CLOSING = 1L << 62;
    private static final long CLOSED = 1L << 61;
    private static final long COUNT_MASK = CLOSED - 1;

    /** CLOSING | CLOSED | number of calls in flight. */
    private final AtomicLong state = new AtomicLong();
    private final long handle;
    private final String kind;

    NativeObject(long handle, String kind) {
        if (handle == 0) {
            throw new IllegalArgumentException(kind + ": null native handle");
        }
        this.handle = handle;
        this.kind = kind;
    }

    /**
     * Marks a native call in flight and returns the handle to pass to it; the caller must call
     * {@link #release()} in a finally block. Throws IllegalStateException once close() started.
     */
    final long acquire() {
        long s = state.getAndIncrement();
        if ((s & (CLOSING | CLOSED)) != 0) {
            state.getAndDecrement();
            throw new IllegalStateException(kind + " closed");
        }
        return handle;
    }

    final void release() {
        state.getAndDecrement();
    }

    /**
     * The handle, for embedding into a work request (an SGE's MR) without a call in flight.
     * Throws IllegalStateException if the object is closed or closing. The shim validates the
     * handle again when the request is posted.
     */
    final long handleIfOpen() {
        if ((state.get() & (CLOSING | CLOSED)) != 0) {
            throw new IllegalStateException(kind + " closed");
        }
        return handle;
    }

    /** True once close() has started (or finished). */
    public final boolean isClosed() {
        return (state.get() & (CLOSING | CLOSED)) != 0;
    }

    final String kind() {
        return kind;
    }

    /** Destroys the native object; called exactly once, with no call in flight. */
    abstract void destroy(long handle) throws RdmaException;

    /**
     * Called once close() has begun (new calls are refused) and before it waits for calls in
     * flight: a chance to cut a long native wait short (CompletionQueue wakes its pollers).
     * Must not throw; default nothing.
     */
    void beginClose(long handle) {
    }

    /** Called after a successful destroy (e.g. to drop references to parents); default nothing. */
    void afterDestroy() {
    }

    /**
     * Destroys the native object, once. Waits for calls in flight on other threads to return
     * (CompletionQueue.pollWait waits in short slices so that this stays short). Idempotent.
     *
     * @throws IllegalStateException if the shim refuses because the object still has children
     *         (it then stays open; close the children first)
     * @throws UncheckedIOException if the shim failed to destroy it otherwise (the object counts
     *         as closed: the shim has invalidated the handle)
     */
    @Override
    public final void close() {
        int spins = 0;
        for (;;) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                return;
            }
            if ((s & CLOSING) != 0) {
                spins = backoff(spins); // another thread is closing: wait for its outcome
                continue;
            }
            if (state.compareAndSet(s, s | CLOSING)) {
                break;
            }
        }
        beginClose(handle);
        awaitQuiescent();
        try {
            destroy(handle);
        } catch (RdmaException e) {
            if (e.status() == RdmaException.EBUSY) {
                state.getAndAdd(-CLOSING); // reopen: nothing was destroyed
                throw new IllegalStateException(kind + " still in use: " + e.getMessage()
                        + " (close the objects created from it first)", e);
            }
            state.getAndAdd(CLOSED);
            afterDestroy();
            throw new UncheckedIOException(kind + " destroy failed", e);
        } catch (RuntimeException | Error e) {
            state.getAndAdd(CLOSED);
            throw e;
        }
        state.getAndAdd(CLOSED);
        afterDestroy();
    }

    private void awaitQuiescent() {
        int spins = 0;
        while ((state.get() & COUNT_MASK) != 0) {
            spins = backoff(spins);
        }
    }

    private static int backoff(int spins) {
        if (spins < 100) {
            Thread.onSpinWait();
        } else if (spins < 200) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(100_000L);
        }
        return spins + 1;
    }

    @Override
    public String toString() {
        return kind + (isClosed() ? "[closed]" : "[0x" + Long.toHexString(handle) + "]");
    }
}
