package io.shardlink.rdma.path;

import io.shardlink.api.ShardlinkNode;

/**
 * How this node's RDMA path served blob reads: straight from registered file windows (zero-copy) or by copying the
 * blob into a registered staging buffer, and why a read that could have gone zero-copy did not.
 *
 * @param zeroCopyReads      read answers whose payload the NIC took from a file window (no byte copied)
 * @param zeroCopyBytes      payload bytes of those answers
 * @param copiedReads        read answers with a payload copied into a staging buffer first
 * @param copiedBytes        payload bytes copied for them
 * @param fallbackNoRoom     zero-copy refused: window budget or node pinned budget full (idle windows evicted first)
 * @param fallbackCrossesWindow zero-copy refused: the bytes span two windows
 * @param fallbackRegistration  zero-copy refused: mapping or registration failed (device refused, file shrank)
 * @param windowsRegistered  windows mapped and registered so far
 * @param windowsEvicted     idle windows deregistered to make room
 * @param windowsRemapped    windows mapped again because the file grew past them
 * @param windowsPrivate     windows registered over the shim's private read-only mapping because the kernel
 *                           refused to pin the shared one (before Linux 6.2): pinning copied their pages once
 * @param liveWindows        windows registered now
 * @param windowPinnedBytes  bytes they pin (also counted in the node's pinned bytes)
 * @param windowBytes        size of a window
 * @param windowLimit        most bytes windows may pin together
 * @param lastRefusal        why the last zero-copy refusal happened, or null
 */
public record ZeroCopyStats(long zeroCopyReads, long zeroCopyBytes, long copiedReads, long copiedBytes,
                            long fallbackNoRoom, long fallbackCrossesWindow, long fallbackRegistration,
                            long windowsRegistered, long windowsEvicted, long windowsRemapped, long windowsPrivate, int liveWindows,
                            long windowPinnedBytes, long windowBytes, long windowLimit, String lastRefusal) {
    /** All zero: a node without zero-copy file windows (no RDMA, not this provider, or zero-copy reads off). */
    public static final ZeroCopyStats NONE = new ZeroCopyStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null);

    /** The node's zero-copy statistics, or {@link #NONE} when its data path is not {@link RdmaDataPathProvider}. */
    public static ZeroCopyStats of(ShardlinkNode node) {
        return node.dataPathProvider() instanceof RdmaDataPathProvider r ? r.zeroCopyStats() : NONE;
    }
}
