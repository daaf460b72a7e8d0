package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.rdma.Rdma;
import io.shardlink.rdma.RdmaAvailability;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import io.shardlink.transfer.DataPathProvider;
import java.nio.ByteBuffer;
import java.util.ServiceLoader;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The RDMA provider on a machine without RDMA (the host: ENOSYS): it says why, a node that has it (explicitly or
 * through ServiceLoader) has UNAVAILABLE peers and copies over QUIC, and RDMA_ONLY fails instead of falling back.
 */
class RdmaProviderHostTest {
    private RdmaAvailability availability;

    @BeforeEach
    void noRdmaHere() {
        availability = Rdma.availability("auto", 1, ShardlinkConfig.DEFAULT_PINNED_MEMORY_BUDGET);
        assumeFalse(availability.available(), "this machine has RDMA (" + availability.reason()
                + "): the device tests cover it");
    }

    @Test
    void providerSaysWhyRdmaIsUnavailable() throws Exception {
        try (RdmaDataPathProvider p = new RdmaDataPathProvider()) {
            assertThat(p.unavailableReason()).contains("not configured");
            ShardlinkConfig c = TestNodes.config("host-p").build();
            p.configure(c);
            p.configure(c); // idempotent for the same node
            assertThat(p.unavailableReason()).isEqualTo(availability.reason()).startsWith("RDMA unavailable: ")
                    .endsWith("using QUIC");
            assertThat(p.transport()).isEqualTo(Transport.RDMA);
            assertThatThrownBy(() -> p.configure(TestNodes.config("host-q").build()))
                    .hasMessageContaining("already serves node host-p");
            assertThatThrownBy(() -> p.prepare(null)).hasMessageContaining("RDMA unavailable");
            assertThat(p.stats().liveEndpoints()).isZero();
            assertThat(p.stats().liveRegions()).isZero();
        }
    }

    @Test
    void serviceLoaderFindsTheRdmaProvider() {
        DataPathProvider p = ServiceLoader.load(DataPathProvider.class).findFirst().orElseThrow();
        assertThat(p).isInstanceOf(RdmaDataPathProvider.class);
        p.close();
    }

    @Test
    void nodeWithoutRdmaHasUnavailablePeersAndCopiesOverQuic() throws Exception {
        // a: the provider through ServiceLoader; b: given explicitly
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("host-a").build());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("host-b").build(), new RdmaDataPathProvider())) {
            assertThat(a.rdmaUnavailableReason()).isEqualTo(availability.reason());
            assertThat(b.rdmaUnavailableReason()).isEqualTo(availability.reason());
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            b.onShardCopy(sinks);
            b.blobSource((v, n, off, len, dst) -> {
                for (int i = 0; i < len; i++) {
                    dst.put(RdmaPathTestSupport.blobByte(v, n, off + i));
                }
                return len;
            });
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.UNAVAILABLE);
            assertThat(p.lastCause()).hasMessage(availability.reason());
            byte[] data = RdmaPathTestSupport.pattern(5, 3 * 1024 * 1024 + 17);
            CopyResult r = p.copyShard(9, ByteBuffer.wrap(data), CopyProgressListener.NONE).get(60, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            assertThat(sinks.get(9).data).isEqualTo(data);
            ReadResult rr = p.read(3, 4, 5, 1000).get(30, TimeUnit.SECONDS);
            assertThat(rr.transport()).isEqualTo(Transport.QUIC);
            MetricsSnapshot m = a.metrics();
            assertThat(m.bytes(Transport.RDMA, Direction.SENT)).isZero();
            assertThat(m.bytes(Transport.QUIC, Direction.SENT)).isEqualTo(data.length);
            assertThat(m.peersIn(PeerState.UNAVAILABLE)).isEqualTo(1);
        }
    }

    @Test
    void rdmaOnlyFailsInsteadOfFallingBack() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("host-ro-a").transportMode(TransportMode.RDMA_ONLY)
                .build(), new RdmaDataPathProvider());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("host-ro-b").build())) {
            b.onShardCopy(new RdmaPathTestSupport.Sinks());
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.UNAVAILABLE);
            assertThatThrownBy(() -> p.copyShard(1, ByteBuffer.allocate(1000), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("RDMA_ONLY")
                    .hasMessageContaining("RDMA unavailable");
            assertThatThrownBy(() -> p.read(1, 1, 0, 10).get(30, TimeUnit.SECONDS))
                    .hasMessageContaining("RDMA_ONLY");
        }
    }
}
