package io.shardlink.cli;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.TransportMode;
import io.shardlink.rdma.Rdma;
import io.shardlink.rdma.RdmaAvailability;

/** Why a node or a peer does or does not use RDMA, in one sentence for a person. */
final class RdmaStatus {
    private RdmaStatus() {}

    /** Null when {@code peer} moves data over RDMA; else "RDMA unavailable: ...; using QUIC" or similar. */
    static String whyNot(ShardlinkNode node, Peer peer) {
        if (peer != null && peer.state().usesRdma()) {
            return null;
        }
        if (node.config().transportMode() == TransportMode.QUIC_ONLY) {
            return "RDMA not tried (--transport quic); using QUIC";
        }
        RdmaAvailability a = hostAvailability(node.config().device(), node.config().port());
        if (a != null && !a.available()) {
            return a.reason();
        }
        String r = node.rdmaUnavailableReason();
        if (r != null) {
            return "RDMA unavailable: " + r + "; using QUIC";
        }
        if (peer == null) {
            return null;
        }
        Throwable c = peer.lastCause();
        return "RDMA unavailable towards " + peer.nodeId() + " (peer state " + peer.state()
                + (c != null ? ": " + Errors.describe(c) : ": the peer has no RDMA path") + "); using QUIC";
    }

    /** The host's RDMA availability, or null if the probe itself could not run. */
    static RdmaAvailability hostAvailability(String device, int port) {
        try {
            return Rdma.availability(device, port);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
