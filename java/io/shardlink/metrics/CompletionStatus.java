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
    ABORTED
}
