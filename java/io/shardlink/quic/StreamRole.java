package io.shardlink.quic;

/** What a stream carries; decided by its first frame for streams the peer opened. */
enum StreamRole {
    UNKNOWN,
    CONTROL,
    COPY,
    READ
}
