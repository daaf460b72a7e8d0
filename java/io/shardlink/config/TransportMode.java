package io.shardlink.config;

/** Which data paths a node may use. The control plane is always QUIC. */
public enum TransportMode {
    /** RDMA when both ends have it and the queue pair comes up; QUIC otherwise, and QUIC after an RDMA failure. */
    AUTO,
    /** RDMA only: a peer whose RDMA path cannot come up, or fails, fails its operations (no QUIC data fallback). */
    RDMA_ONLY,
    /** Never try RDMA: data over QUIC; peers are {@code UNAVAILABLE}. */
    QUIC_ONLY
}
