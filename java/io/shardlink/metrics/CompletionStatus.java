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
     * (ERROR TOO_MANY_READS), or a copy refused by the receiving node because its peer had
     * maxIncomingCopiesPerPeer copies open there (ERROR TOO_MANY_COPIES), or a control request refused because its
     * peer sent more than maxControlRequestsPerSecondPerPeer (ERROR TOO_MANY_REQUESTS, or dropped); counted on the
     * refusing node, per peer.
     */
    OVER_LIMIT
}
