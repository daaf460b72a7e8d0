package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.testing.TestNodes;
import io.shardlink.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Mutual TLS: a client whose certificate the server's CA did not sign is refused; trusted clients go on. */
class MutualTlsTest {
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void unknownClientIsRefusedAndTrustedClientKeepsWorking() throws Exception {
        Path dir = Files.createTempDirectory("rogue-pki");
        TestPki rogue = new TestPki("rogue", dir);
        Path[] rogueCert = rogue.issue("rogue-client");
        try (ShardlinkNode server = ShardlinkNode.start(TestNodes.config("tls-server").build());
             ShardlinkNode trusted = ShardlinkNode.start(TestNodes.config("tls-trusted").build());
             // trusts the server's CA (so it would accept the server), but presents a certificate from another CA
             ShardlinkNode unknown = ShardlinkNode.start(ShardlinkConfig.builder().nodeId("tls-unknown")
                     .keyPem(rogueCert[0], rogueCert[1]).trustCertsPem(TestNodes.pki().caPem())
                     .connectTimeout(Duration.ofSeconds(5)).build())) {
            server.blobSource((v, n, o, l, d) -> {
                d.put(new byte[l]);
                return l;
            });
            assertThatThrownBy(() -> unknown.connect(server.localAddress()))
                    .isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("tls-unknown cannot connect to").hasMessageContaining("before the HELLO exchange completed");
            assertThat(server.peers()).isEmpty();

            Peer ok = trusted.connect(server.localAddress());
            assertThat(ok.read(1, 1, 0, 16).get(10, TimeUnit.SECONDS).length()).isEqualTo(16);
            assertThat(ok.nodeId()).isEqualTo("tls-server");

            // and a server whose certificate the client does not trust is refused by the client
            try (ShardlinkNode rogueServer = ShardlinkNode.start(ShardlinkConfig.builder().nodeId("rogue-server")
                    .keyPem(rogueCert[0], rogueCert[1]).trustCertsPem(rogue.caPem()).build())) {
                assertThatThrownBy(() -> trusted.connect(rogueServer.localAddress()))
                        .isInstanceOf(ShardlinkException.class);
            }
            assertThat(ok.read(1, 2, 0, 16).get(10, TimeUnit.SECONDS).length()).isEqualTo(16);
        }
    }
}
