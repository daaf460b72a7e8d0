package io.shardlink.config;

/** A data path's transport. */
public enum Transport {
    RDMA,
    QUIC
}
