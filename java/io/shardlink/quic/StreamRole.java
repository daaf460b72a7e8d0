package io.shardlink.quic;

/** What a stream carries; decided by its first frame for streams the peer opened. */
enum StreamRole {
    UNKNOWN,
    CONTROL,
    COPY,
    READ,
    /** Many pipelined READ_REQs (FLAG_SHARED_STREAM), answered out of order; long-lived. */
    READ_SHARED
}
