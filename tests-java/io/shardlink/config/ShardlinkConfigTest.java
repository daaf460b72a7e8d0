package io.shardlink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.testing.TestNodes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class ShardlinkConfigTest {
    private static ShardlinkConfig.Builder valid() throws Exception {
        return TestNodes.config("cfg");
    }

    @Test
    void defaultsMatchTheDesign() throws Exception {
        ShardlinkConfig c = valid().build();
        assertThat(c.device()).isEqualTo("auto");
        assertThat(c.port()).isEqualTo(1);
        assertThat(c.gidIndex()).isZero();
        assertThat(c.maxSendSize()).isEqualTo(4 << 20);
        assertThat(c.numMemoryRegions()).isEqualTo(16);
        assertThat(c.qpDepth()).isEqualTo(64);
        assertThat(c.transportMode()).isEqualTo(TransportMode.AUTO);
        assertThat(c.pinnedMemoryBudget()).isEqualTo(256L << 20);
        assertThat(c.requireClientAuth()).isTrue();
        assertThat(c.quicUdpPayloadSize()).isZero();
        assertThat(c.quicUdpPayloadFor(1500)).isEqualTo(1350);
        assertThat(c.quicUdpPayloadFor(65536)).isEqualTo(ShardlinkConfig.QUIC_PAYLOAD_LOOPBACK);
        assertThat(c.quicUdpPayloadFor(9000)).isEqualTo(8900);
        assertThat(c.pinnedBufferCount()).isEqualTo(64);
        assertThat(c.toBuilder().build().maxSendSize()).isEqualTo(c.maxSendSize());
        assertThat(c.toString()).contains("maxSendSize=4194304");
    }

    @Test
    void explicitPayloadWins() throws Exception {
        assertThat(valid().quicUdpPayloadSize(9000).build().quicUdpPayloadFor(65536)).isEqualTo(9000);
    }

    private static void rejects(UnaryOperator<ShardlinkConfig.Builder> edit, String... fragments) throws Exception {
        ShardlinkConfig.Builder b = edit.apply(valid());
        var a = assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid shardlink config: ");
        for (String f : fragments) {
            a.hasMessageContaining(f);
        }
    }

    @Test
    void everyBadFieldIsNamed() throws Exception {
        rejects(b -> b.nodeId(" "), "nodeId");
        rejects(b -> b.listenAddress(null), "listenAddress");
        rejects(b -> b.device(""), "device");
        rejects(b -> b.port(0), "port", "got 0");
        rejects(b -> b.port(256), "port");
        rejects(b -> b.gidIndex(-1), "gidIndex", "-1");
        rejects(b -> b.maxSendSize(100), "maxSendSize", "got 100");
        rejects(b -> b.maxSendSize(128 << 20), "maxSendSize");
        rejects(b -> b.numMemoryRegions(0), "numMemoryRegions");
        rejects(b -> b.qpDepth(0), "qpDepth");
        rejects(b -> b.qpDepth(8).numMemoryRegions(16), "qpDepth (8) must be at least numMemoryRegions (16)");
        rejects(b -> b.transportMode(null), "transportMode");
        rejects(b -> b.connectTimeout(Duration.ZERO), "connectTimeout");
        rejects(b -> b.idleTimeout(Duration.ofSeconds(-1)), "idleTimeout");
        rejects(b -> b.requestTimeout(null), "requestTimeout");
        rejects(b -> b.pinnedMemoryBudget(1 << 20), "pinnedMemoryBudget", "134217728");
        rejects(b -> b.quicUdpPayloadSize(100), "quicUdpPayloadSize");
        rejects(b -> b.quicUdpPayloadSize(70000), "quicUdpPayloadSize");
        rejects(b -> b.ioThreads(0), "ioThreads");
        rejects(b -> b.quicMaxStreams(1), "quicMaxStreams");
        rejects(b -> b.quicReadStreams(-1), "quicReadStreams must be in 0..64");
        rejects(b -> b.quicReadStreams(65), "quicReadStreams must be in 0..64");
        rejects(b -> b.maxInFlightReadsPerPeer(0), "maxInFlightReadsPerPeer must be in 1..1000000");
        rejects(b -> b.maxIncomingCopiesPerPeer(0), "maxIncomingCopiesPerPeer must be in 1..100000, got 0");
        rejects(b -> b.maxRingsPerPeer(1025), "maxRingsPerPeer must be in 1..1024, got 1025");
        rejects(b -> b.maxControlRequestsPerSecondPerPeer(0),
                "maxControlRequestsPerSecondPerPeer must be in 1..1000000, got 0");
        rejects(b -> b.ringIdleTimeout(Duration.ZERO), "ringIdleTimeout");
        rejects(b -> b.quicStreamWindow(10), "quicStreamWindow");
        rejects(b -> b.quicConnectionWindow(1 << 16).quicStreamWindow(1 << 20), "quicConnectionWindow");
        rejects(b -> b.rdmaRetry(Duration.ZERO, Duration.ofSeconds(1), Duration.ZERO), "rdmaRetryInitial");
        rejects(b -> b.rdmaRetry(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ZERO),
                "rdmaRetryMax (PT1S) must be at least rdmaRetryInitial (PT2S)");
        rejects(b -> b.rdmaRetry(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(-1)),
                "rdmaRetryStablePeriod");
    }

    @Test
    void rdmaRetryDefaultsAndRoundTrip() throws Exception {
        ShardlinkConfig c = valid().build();
        assertThat(c.rdmaRetryInitial()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.rdmaRetryMax()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.rdmaRetryStablePeriod()).isEqualTo(Duration.ofSeconds(30));
        ShardlinkConfig d = valid().rdmaRetry(Duration.ofMillis(250), Duration.ofSeconds(5), Duration.ZERO).build()
                .toBuilder().build();
        assertThat(d.rdmaRetryInitial()).isEqualTo(Duration.ofMillis(250));
        assertThat(d.rdmaRetryMax()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.rdmaRetryStablePeriod()).isZero();
    }

    @Test
    void tlsMaterialIsRequiredAndChecked() throws Exception {
        rejects(b -> b.keyPem(null, null), "tls key material missing");
        rejects(b -> b.trustCertsPem(null), "tls trust missing");
        rejects(b -> b.keyPem(Path.of("/nonexistent/cert.pem"), Path.of("/nonexistent/key.pem")),
                "certChainPem is not a readable file");
        ShardlinkConfig ok = valid().build();
        rejects(b -> b.keyPem(ok.certChainPem(), null), "must be set together");
        rejects(b -> b.trustCertsPem(Path.of("/nonexistent/ca.pem")), "trustCertsPem");
    }
}
