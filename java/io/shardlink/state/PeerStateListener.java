package io.shardlink.state;

/**
 * Observes a peer's state transitions. Called on the thread that made the transition, in transition
 * order, while the machine's lock is held: keep it short and never call back into the same machine's
 * {@code transition} from it.
 */
@FunctionalInterface
public interface PeerStateListener {
    /**
     * @param peer  the peer's id (its node id, or its address before HELLO)
     * @param cause why (null for ordinary transitions; the error for FAILED)
     */
    void onTransition(String peer, PeerState from, PeerState to, Throwable cause);
}
