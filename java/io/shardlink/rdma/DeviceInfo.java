package io.shardlink.rdma;

/**
 * One RDMA device as listed by {@link RdmaDevice#list()}.
 *
 * @param name      e.g. {@code "mlx5_0"}, {@code "rxe0"}
 * @param nodeGuid  the node GUID (host byte order)
 * @param numPorts  number of physical ports
 * @param transport ibv_transport_type (0 = InfiniBand/RoCE, 1 = iWARP, ...)
 */
public record DeviceInfo(String name, long nodeGuid, int numPorts, int transport) {
}
