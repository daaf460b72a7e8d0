package io.shardlink.cli;

import io.shardlink.config.ShardlinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * TLS identity of a node (shardlink always uses mutual TLS 1.3 and verifies peers; there is no insecure mode).
 * Either {@code --tls-dir DIR} (made by {@code shardlink certs --dir DIR}: DIR/ca.pem, DIR/NAME.crt.pem,
 * DIR/NAME.key.pem) or {@code --cert/--key/--trust}; the environment variable SHARDLINK_TLS_DIR stands in for
 * {@code --tls-dir}.
 */
public final class TlsOptions {
    @Option(names = "--tls-dir", paramLabel = "DIR",
            description = "Directory made by 'shardlink certs' (ca.pem, NAME.crt.pem, NAME.key.pem). "
                    + "Default: $SHARDLINK_TLS_DIR.")
    Path dir;

    @Option(names = "--tls-name", paramLabel = "NAME", defaultValue = "node",
            description = "Which identity of --tls-dir to use (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--cert", paramLabel = "PEM", description = "Certificate chain (leaf first), PEM.")
    Path cert;

    @Option(names = "--key", paramLabel = "PEM", description = "Private key, PKCS#8 PEM, unencrypted.")
    Path key;

    @Option(names = "--trust", paramLabel = "PEM", description = "CA certificate(s) to verify peers with, PEM.")
    Path trust;

    /** Sets the TLS fields of {@code b}, or throws a CliException saying what is missing. */
    ShardlinkConfig.Builder apply(ShardlinkConfig.Builder b) {
        Path d = dir;
        if (d == null && System.getenv("SHARDLINK_TLS_DIR") != null && !System.getenv("SHARDLINK_TLS_DIR").isBlank()) {
            d = Path.of(System.getenv("SHARDLINK_TLS_DIR"));
        }
        Path c = cert;
        Path k = key;
        Path t = trust;
        if (d != null) {
            if (c == null) {
                c = d.resolve(name + ".crt.pem");
            }
            if (k == null) {
                k = d.resolve(name + ".key.pem");
            }
            if (t == null) {
                t = d.resolve(Pki.CA_CERT);
            }
        }
        if (c == null || k == null || t == null) {
            throw new CliException("no TLS identity: shardlink always uses mutual TLS. Make one with "
                    + "'shardlink certs --dir DIR' and pass --tls-dir DIR (or --cert, --key and --trust)", 2, null);
        }
        for (Path p : new Path[] {c, k, t}) {
            if (!Files.isReadable(p)) {
                throw new CliException("TLS file " + p + " is missing or unreadable"
                        + (d != null ? " (make it with 'shardlink certs --dir " + d + " --name " + name + "')" : ""));
            }
        }
        return b.keyPem(c, k).trustCertsPem(t);
    }
}
