package io.shardlink.rdma.path;

/** How a completion poller waits for work (see {@link RdmaEngineOptions#pollMode()}). */
public enum PollMode {
    /** Polls the completion queue without ever sleeping: lowest latency, one core per poller while peers exist. */
    BUSY,
    /** Polls for {@code spinMicros} after the last completion, then arms the completion channel and sleeps. */
    ADAPTIVE,
    /** Always arms the completion channel and sleeps until the next completion (one wake-up per batch). */
    EVENT
}
