package io.shardlink.cli;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** Transport options shared by the commands that start a node. */
public final class NodeOptions {
    @Option(names = "--transport", paramLabel = "auto|rdma|quic", defaultValue = "auto",
            converter = ModeConverter.class,
            description = "Data path: auto (RDMA when both ends have it, else QUIC), rdma (RDMA only, fail "
                    + "without it), quic (never RDMA). Default: ${DEFAULT-VALUE}.")
    TransportMode mode = TransportMode.AUTO;

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

    ShardlinkConfig.Builder apply(ShardlinkConfig.Builder b) {
        return b.transportMode(mode).device(device).gidIndex(gidIndex).quicUdpPayloadSize(udpPayload)
                .connectTimeout(java.time.Duration.ofSeconds(Math.max(1, connectTimeoutSeconds)))
                .requestTimeout(java.time.Duration.ofSeconds(Math.max(30, connectTimeoutSeconds)));
    }

    static String modeName(TransportMode m) {
        return switch (m) {
            case AUTO -> "auto";
            case RDMA_ONLY -> "rdma";
            case QUIC_ONLY -> "quic";
        };
    }

    static final class ModeConverter implements ITypeConverter<TransportMode> {
        @Override
        public TransportMode convert(String v) {
            return switch (v.toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> TransportMode.AUTO;
                case "rdma", "rdma_only", "rdma-only" -> TransportMode.RDMA_ONLY;
                case "quic", "quic_only", "quic-only" -> TransportMode.QUIC_ONLY;
                default -> throw new TypeConversionException("'" + v + "' is not a transport (auto, rdma or quic)");
            };
        }
    }
}
