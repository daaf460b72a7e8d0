package io.shardlink.rdma;

/**
 * Device capabilities ({@code sl_device_limits}); 32-bit unsigned values are held in longs.
 */
public record DeviceLimits(long maxMrSize, long maxQp, long maxQpWr, long maxSge, long maxCq, long maxCqe,
        long maxMr, long maxPd, long maxQpRdAtom, long maxQpInitRdAtom, long physPortCount) {
}
