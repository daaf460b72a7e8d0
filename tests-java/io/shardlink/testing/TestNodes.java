package io.shardlink.testing;

import io.shardlink.config.ShardlinkConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Configs for test nodes that trust one shared test CA (made once per JVM). */
public final class TestNodes {
    private static TestPki pki;
    private static Path dir;
    private static final Map<String, Path[]> SHARED = new HashMap<>();

    private TestNodes() {}

    public static synchronized TestPki pki() throws Exception {
        if (pki == null) {
            dir = Files.createTempDirectory("shardlink-pki");
            pki = new TestPki("trusted", dir);
        }
        return pki;
    }

    /** A config builder for node {@code id} on 127.0.0.1:0 with a cert from the shared trusted CA. */
    public static ShardlinkConfig.Builder config(String id) throws Exception {
        Path[] kc = pki().issue(id);
        return ShardlinkConfig.builder().nodeId(id).keyPem(kc[0], kc[1]).trustCertsPem(pki().caPem());
    }

    /**
     * Like {@link #config(String)}, but node {@code id} presents the certificate {@code certName} that every node
     * asking for that name shares (issued once per JVM): for tests that start many nodes, where issuing a
     * certificate per node costs a third of a second each under the rxe VM's emulation.
     */
    public static ShardlinkConfig.Builder config(String id, String certName) throws Exception {
        Path[] kc;
        synchronized (TestNodes.class) {
            kc = SHARED.get(certName);
            if (kc == null) {
                kc = pki().issue(certName);
                SHARED.put(certName, kc);
            }
        }
        return ShardlinkConfig.builder().nodeId(id).keyPem(kc[0], kc[1]).trustCertsPem(pki().caPem());
    }
}
