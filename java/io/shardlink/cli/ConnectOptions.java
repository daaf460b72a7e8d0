package io.shardlink.cli;

import io.shardlink.config.ShardlinkConfig;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * How a node reaches its peers: RDMA device and GID, QUIC datagram size, connect bound. A picocli mixin for every
 * command that starts a node (through {@link NodeOptions}) and for {@code bench}, which picks the transport itself.
 */
public final class ConnectOptions {
    @Option(names = "--device", paramLabel = "NAME", defaultValue = "auto",
            description = "RDMA device (e.g. mlx5_0, rxe0; 'auto': the first with an ACTIVE port).")
    String device = "auto";

    @Option(names = "--gid-index", paramLabel = "N", defaultValue = "0", description = "RDMA GID index (default 0).")
    int gidIndex;

    @Option(names = "--udp-payload", paramLabel = "BYTES", defaultValue = "0", converter = Units.IntSizeConverter.class,
            description = "QUIC UDP payload size; 0 = from the interface MTU (1350, or 16 KiB on loopback).")
    int udpPayload;

    @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "Bound on connecting to a peer (QUIC + TLS + RDMA bring-up), seconds (default 10; "
                    + "raise it under emulation).")
    int connectTimeoutSeconds = 10;

    /** Sets device, GID index, UDP payload and the connect bound (requests may take at least as long) on {@code b}. */
    ShardlinkConfig.Builder apply(ShardlinkConfig.Builder b) {
        return b.device(device).gidIndex(gidIndex).quicUdpPayloadSize(udpPayload)
                .connectTimeout(Duration.ofSeconds(Math.max(1, connectTimeoutSeconds)))
                .requestTimeout(Duration.ofSeconds(Math.max(30, connectTimeoutSeconds)));
    }
}
