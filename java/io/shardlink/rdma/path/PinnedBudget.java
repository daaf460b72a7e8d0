package io.shardlink.rdma.path;

/**
 * The node's pinned-memory budget ({@code ShardlinkConfig.pinnedMemoryBudget}), shared by everything the RDMA path
 * registers: the chunk buffer pool, read staging buffers, per-peer control buffers and reply rings, and the
 * receive rings of incoming copies. Pool buffers are charged as they appear (the pool bounds itself by the same
 * budget); rings only get memory if it fits ({@link #tryReserve}), so a full budget sends a copy over QUIC
 * instead of pinning more.
 */
final class PinnedBudget {
    private final long limit;
    private long used;

    PinnedBudget(long limit) {
        this.limit = limit;
    }

    /** Reserves {@code n} bytes if they fit. */
    synchronized boolean tryReserve(long n) {
        if (n < 0 || used + n > limit) {
            return false;
        }
        used += n;
        return true;
    }

    /** Charges {@code n} bytes whether or not they fit (memory someone else already bounded). */
    synchronized void charge(long n) {
        used += n;
    }

    synchronized void release(long n) {
        used -= n;
        if (used < 0) {
            throw new IllegalStateException("pinned-memory budget released more than was reserved (" + used + ")");
        }
    }

    synchronized long used() {
        return used;
    }

    long limit() {
        return limit;
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    @Override
    public synchronized String toString() {
        return mib(used) + " of " + mib(limit) + " pinned";
    }
}
