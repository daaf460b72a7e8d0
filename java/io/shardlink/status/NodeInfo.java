package io.shardlink.status;

/**
 * What a status page shows about the node itself; fixed for the node's life (taken once at start).
 *
 * @param id            the node id
 * @param listen        its QUIC listen address, host:port
 * @param transportMode auto, rdma or quic
 * @param rdmaAvailable whether this node may move data over RDMA
 * @param rdmaReason    why not, in words (null when available)
 * @param device        the RDMA device used or that would be ("auto" if none was found)
 * @param port          the device port
 * @param gidIndex      the GID index used
 * @param gid           that GID, or null when it cannot be read (no device)
 */
public record NodeInfo(String id, String listen, String transportMode, boolean rdmaAvailable, String rdmaReason,
                       String device, int port, int gidIndex, String gid) {
}
