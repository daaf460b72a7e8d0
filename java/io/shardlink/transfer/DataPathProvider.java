package io.shardlink.transfer;

import io.shardlink.buffer.BufferRegistrar;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;

/**
 * Plug-in point for a zero-copy data path (RDMA). A node takes the provider given to
 * {@code ShardlinkNode.start(config, provider)}, or else the first one {@link java.util.ServiceLoader} finds;
 * without one, or when {@link #unavailableReason()} is non-null, its peers are {@code UNAVAILABLE} and data
 * goes over QUIC.
 *
 * <p>Bring-up per peer (HELLO on the QUIC control stream carries the endpoint blobs): the connecting node
 * calls {@link #prepare} and sends its blob in HELLO; the accepting node calls {@link #prepare}, answers with
 * its HELLO, then {@link PathEndpoint#connect}; the connecting node calls {@link PathEndpoint#connect} on
 * the answer. Both reach CONNECTED when their connect completes. {@code prepare} runs on an I/O thread: it
 * must be quick (allocate and register; no network waits).
 */
public interface DataPathProvider extends AutoCloseable {
    Transport transport();

    /**
     * Called once by the node, before anything else, with its configuration (device, port, sizes, pinned
     * budget): a provider found by {@link java.util.ServiceLoader} has no other way to learn it. A failure
     * here makes the node's peers {@code UNAVAILABLE} with the exception as the reason.
     */
    default void configure(ShardlinkConfig config) throws Exception {}

    /** Null when the path can be used on this node; else why not ("no RDMA device", "libshardlink not found"). */
    String unavailableReason();

    /** Registers the node's chunk buffer pool with the path (memory registration), or {@link BufferRegistrar#NONE}. */
    default BufferRegistrar bufferRegistrar() {
        return BufferRegistrar.NONE;
    }

    /** Prepares the local end of a path to one peer. */
    PathEndpoint prepare(PeerContext peer) throws Exception;

    /** Releases device-wide resources (after every endpoint is closed). */
    @Override
    void close();
}
