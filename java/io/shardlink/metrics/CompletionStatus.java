package io.shardlink.metrics;

/** How an operation (a copy or a read, on either end) ended. */
public enum CompletionStatus {
    OK,
    /** Failed: transport error, peer error, verification failure. */
    FAILED,
    /** Rejected by the peer or by validation (ERROR frame, bad argument). */
    REJECTED,
    TIMED_OUT,
    /** Cancelled by close(). */
    ABORTED,
    /**
     * A read refused by the serving node because its peer had maxInFlightReadsPerPeer reads in flight there
     * (ERROR TOO_MANY_READS); counted on the serving node, per peer.
     */
    OVER_LIMIT
}
