package io.shardlink.api;

/**
 * Observes a connected {@link Peer}'s QUIC connection: lost (peer restart, network blip, idle timeout) and
 * re-established. Called on a shardlink thread: keep it short.
 */
public interface PeerConnectionListener {
    /** The connection to {@code peer} was lost; the Peer reconnects in the background and on its next operation. */
    void onConnectionLost(String peer, Throwable cause);

    /** A new connection to {@code peer} is up after {@code attempts} attempts; operations use it from now on. */
    void onReconnected(String peer, int attempts);
}
