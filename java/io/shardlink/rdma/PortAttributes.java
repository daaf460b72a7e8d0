package io.shardlink.rdma;

/**
 * Attributes of one device port ({@code sl_port_attr}).
 *
 * @param state          the port state; {@link PortState#ACTIVE} is needed for traffic
 * @param maxMtu         bytes (256..4096)
 * @param activeMtu      bytes
 * @param linkLayer      {@link #LINK_LAYER_INFINIBAND}, {@link #LINK_LAYER_ETHERNET} (RoCE) or 0
 * @param gidTableLength entries in the GID table
 * @param maxMessageSize largest message, bytes (unsigned 32-bit value in a long)
 * @param lid            the port's LID (0 on RoCE)
 */
public record PortAttributes(PortState state, int maxMtu, int activeMtu, int linkLayer, int gidTableLength,
        long maxMessageSize, int lid) {

    public static final int LINK_LAYER_UNSPECIFIED = 0;
    public static final int LINK_LAYER_INFINIBAND = 1;
    public static final int LINK_LAYER_ETHERNET = 2;

    public boolean isActive() {
        return state == PortState.ACTIVE;
    }

    /** "InfiniBand", "Ethernet (RoCE)" or "unspecified". */
    public String linkLayerName() {
        switch (linkLayer) {
            case LINK_LAYER_INFINIBAND:
                return "InfiniBand";
            case LINK_LAYER_ETHERNET:
                return "Ethernet (RoCE)";
            default:
                return "unspecified";
        }
    }
}
