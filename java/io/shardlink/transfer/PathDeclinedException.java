package io.shardlink.transfer;

/**
 * Thrown by {@link DataPath#openTransfer} when the path is healthy but cannot take this transfer now (e.g. the
 * receiver's pinned-memory budget has no room for an RDMA ring). The copy driver then sends the transfer over
 * the fallback path from the start, without marking the path failed; with no fallback (RDMA_ONLY) the copy
 * fails with this reason.
 */
public class PathDeclinedException extends Exception {
    private static final long serialVersionUID = 1L;

    public PathDeclinedException(String message) {
        super(message);
    }
}
