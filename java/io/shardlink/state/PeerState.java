package io.shardlink.state;

import java.util.EnumSet;
import java.util.Set;

/**
 * The RDMA data-path state of one peer. The QUIC control plane is independent of it.
 *
 * <pre>
 *   UNAVAILABLE --(device/library appears)--------------------------> DISCONNECTED
 *   DISCONNECTED --(QP reaches RTS)----------------------------------> CONNECTED
 *   DISCONNECTED --(bring-up error)----------------------------------> FAILED
 *   DISCONNECTED --(peer or mode has no RDMA)------------------------> UNAVAILABLE
 *   CONNECTED ----(QP error, completion error)-----------------------> FAILED
 *   CONNECTED ----(orderly teardown)---------------------------------> DISCONNECTED
 *   FAILED -------(retry bring-up)-----------------------------------> DISCONNECTED
 * </pre>
 * Everything else (including self-transitions) is illegal.
 */
public enum PeerState {
    /** No native library or no usable device (here or at the peer), or the mode is QUIC_ONLY: data over QUIC. */
    UNAVAILABLE,
    /** Device present, queue pair not up yet: data over QUIC meanwhile. */
    DISCONNECTED,
    /** Queue pair in RTS: data over RDMA. */
    CONNECTED,
    /** Bring-up or queue-pair error: data over QUIC; the cause is kept. */
    FAILED;

    /** Whether data moves over RDMA in this state. */
    public boolean usesRdma() {
        return this == CONNECTED;
    }

    /** The states this one may move to. */
    public Set<PeerState> successors() {
        switch (this) {
            case UNAVAILABLE:
                return EnumSet.of(DISCONNECTED);
            case DISCONNECTED:
                return EnumSet.of(CONNECTED, FAILED, UNAVAILABLE);
            case CONNECTED:
                return EnumSet.of(FAILED, DISCONNECTED);
            case FAILED:
                return EnumSet.of(DISCONNECTED);
            default:
                throw new AssertionError(this);
        }
    }

    public boolean canMoveTo(PeerState to) {
        return successors().contains(to);
    }
}
