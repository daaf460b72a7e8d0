package io.shardlink.cli;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** What a node started by the CLI uses: the transport mode and {@link ConnectOptions} (a picocli mixin). */
public final class NodeOptions {
    @Option(names = "--transport", paramLabel = "auto|rdma|quic", defaultValue = "auto",
            converter = ModeConverter.class,
            description = "Data path: auto (RDMA when both ends have it, else QUIC), rdma (RDMA only, fail "
                    + "without it), quic (never RDMA). Default: ${DEFAULT-VALUE}.")
    TransportMode mode = TransportMode.AUTO;

    @Mixin
    ConnectOptions connect = new ConnectOptions();

    ShardlinkConfig.Builder apply(ShardlinkConfig.Builder b) {
        return connect.apply(b).transportMode(mode);
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
