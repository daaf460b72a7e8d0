package io.shardlink.buffer;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A bounded pool of equal-size direct buffers: the node's pinned-memory budget for chunk buffers.
 * Buffers are created lazily up to {@code maxBuffers}, optionally registered through a
 * {@link BufferRegistrar}, reused, and dropped (deregistered) on {@link #close()}. {@link #outstanding()}
 * counts buffers lent and not yet released; a leak shows there.
 */
public final class DirectBufferPool implements AutoCloseable {
    private final String name;
    private final int bufferSize;
    private final int maxBuffers;
    private final BufferRegistrar registrar;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    private final ArrayDeque<PooledBuffer> free = new ArrayDeque<>();
    private final List<PooledBuffer> all = new ArrayList<>();
    private int outstanding;
    private boolean closed;

    public DirectBufferPool(String name, int bufferSize, int maxBuffers, BufferRegistrar registrar) {
        if (bufferSize <= 0 || maxBuffers <= 0) {
            throw new IllegalArgumentException("pool " + name + ": bufferSize (" + bufferSize + ") and maxBuffers ("
                    + maxBuffers + ") must be positive");
        }
        this.name = name;
        this.bufferSize = bufferSize;
        this.maxBuffers = maxBuffers;
        this.registrar = registrar == null ? BufferRegistrar.NONE : registrar;
    }

    public int bufferSize() {
        return bufferSize;
    }

    public int maxBuffers() {
        return maxBuffers;
    }

    /** Buffers lent and not released. */
    public int outstanding() {
        lock.lock();
        try {
            return outstanding;
        } finally {
            lock.unlock();
        }
    }

    /** Buffers created so far (at most maxBuffers). */
    public int allocated() {
        lock.lock();
        try {
            return all.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Lends a buffer (position 0, limit = capacity), waiting up to {@code timeout} for one to be released when
     * the budget is used up.
     *
     * @throws TimeoutException     if none became free in time
     * @throws IllegalStateException if the pool is closed
     */
    public PooledBuffer acquire(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        lock.lock();
        try {
            while (true) {
                checkOpen();
                PooledBuffer b = free.pollFirst();
                if (b == null && all.size() < maxBuffers) {
                    b = create();
                }
                if (b != null) {
                    b.buffer().clear();
                    b.lent = true;
                    outstanding++;
                    return b;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("pool " + name + ": no buffer free within " + unit.toMillis(timeout)
                            + " ms (all " + maxBuffers + " x " + bufferSize + " bytes of the pinned-memory budget lent)");
                }
                available.awaitNanos(left);
            }
        } finally {
            lock.unlock();
        }
    }

    private PooledBuffer create() {
        ByteBuffer mem = ByteBuffer.allocateDirect(bufferSize);
        long reg;
        try {
            reg = registrar.register(mem);
        } catch (Exception e) {
            throw new IllegalStateException("pool " + name + ": registering buffer " + all.size() + " ("
                    + bufferSize + " bytes) failed: " + e.getMessage(), e);
        }
        PooledBuffer b = new PooledBuffer(this, mem, reg, all.size());
        all.add(b);
        return b;
    }

    void release(PooledBuffer b) {
        lock.lock();
        try {
            if (!b.lent) {
                throw new IllegalStateException("pool " + name + ": " + b + " released twice");
            }
            b.lent = false;
            outstanding--;
            if (closed) {
                registrar.deregister(b.registration());
            } else {
                free.addFirst(b);
                available.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("pool " + name + " is closed");
        }
    }

    /** Drops free buffers now and lent ones when they come back; wakes waiters with an exception. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (PooledBuffer b : free) {
                registrar.deregister(b.registration());
            }
            free.clear();
            available.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "DirectBufferPool{" + name + ", " + bufferSize + "B x " + maxBuffers + ", outstanding=" + outstanding()
                + "}";
    }
}
