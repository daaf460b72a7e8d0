package io.shardlink.buffer;

import java.nio.ByteBuffer;

/**
 * One fixed-size direct buffer lent by a {@link DirectBufferPool}. Exactly one {@link #release()} per
 * acquire. The object itself is reused across acquires (no per-chunk garbage); do not keep it after release.
 */
public final class PooledBuffer {
    private final DirectBufferPool pool;
    private final ByteBuffer buffer;
    private final long registration;
    private final int index;
    volatile boolean lent;

    PooledBuffer(DirectBufferPool pool, ByteBuffer buffer, long registration, int index) {
        this.pool = pool;
        this.buffer = buffer;
        this.registration = registration;
        this.index = index;
    }

    /** The memory (position 0, limit = capacity at acquire). */
    public ByteBuffer buffer() {
        return buffer;
    }

    /**
     * The registrar's handle for this buffer (e.g. an RDMA memory region handle whose lkey covers it), or 0
     * when the pool has no registrar.
     */
    public long registration() {
        return registration;
    }

    /** Stable index of this buffer in its pool (0-based), e.g. to map completions back to buffers. */
    public int index() {
        return index;
    }

    public int capacity() {
        return buffer.capacity();
    }

    /** Returns the buffer to its pool. */
    public void release() {
        pool.release(this);
    }

    @Override
    public String toString() {
        return "PooledBuffer#" + index + "(" + buffer.capacity() + "B" + (lent ? ", lent" : "") + ")";
    }
}
