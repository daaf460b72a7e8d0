package io.shardlink.rdma;

/**
 * Device capabilities ({@code sl_device_limits}); 32-bit unsigned values are held in longs.
 * {@code maxSrq} 0 means the device has no shared receive queues.
 */
public record DeviceLimits(long maxMrSize, long maxQp, long maxQpWr, long maxSge, long maxCq, long maxCqe,
        long maxMr, long maxPd, long maxQpRdAtom, long maxQpInitRdAtom, long physPortCount, long maxSrq,
        long maxSrqWr, long maxSrqSge) {

    /** Whether the device has shared receive queues ({@link SharedReceiveQueue}). */
    public boolean hasSharedReceiveQueues() {
        return maxSrq > 0;
    }
}
