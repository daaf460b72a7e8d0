package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Per-peer limits on the RDMA path (issue 11 item 3): a peer holding maxRingsPerPeer receive rings on a node is
 * declined another, with the reason, and that copy goes over QUIC verified while the path stays up; once its ring
 * is revoked the next copy gets one again. VM (rxea, rxeb).
 */
@Tag("rdma")
class RdmaPeerLimitsRdmaTest {
    @BeforeEach
    void rdma() {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void aRingPastMaxRingsPerPeerIsDeclinedAndThatCopyGoesOverQuic() throws Exception {
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        ShardlinkConfig cb = RdmaPathTestSupport.vmConfig("rings-b", RdmaPathTestSupport.deviceB())
                .maxRingsPerPeer(1).build();
        try (ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("rings-a",
                RdmaPathTestSupport.deviceA()).build(), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(cb, pb)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            CountDownLatch gate = new CountDownLatch(1);
            sinks.gateAfter = MiB; // every sink holds its second chunk until the gate opens
            sinks.gate = gate;
            b.onShardCopy(sinks);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);

            byte[] held = RdmaPathTestSupport.pattern(1, 4 * MiB + 17);
            CompletableFuture<CopyResult> first = p.copyShard(1, ByteBuffer.wrap(held), CopyProgressListener.NONE);
            RdmaPathTestSupport.awaitTrue(() -> sinks.get(1) != null && sinks.get(1).bytes >= MiB,
                    Duration.ofSeconds(60), "the first copy to hold its ring");
            assertThat(pb.stats().liveRings()).isEqualTo(1);

            byte[] small = RdmaPathTestSupport.pattern(2, MiB - 100); // one chunk: passes the gate
            CopyResult r = p.copyShard(2, ByteBuffer.wrap(small), CopyProgressListener.NONE).get(120, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            assertThat(r.fallbackCauses()).singleElement().asString().contains("maxRingsPerPeer = 1")
                    .contains("rings-a");
            assertThat(sinks.get(2).data).isEqualTo(small);
            assertThat(pb.stats().ringsOverLimit()).isEqualTo(1);
            assertThat(pb.stats().ringsDeclined()).isEqualTo(1);
            assertThat(pb.stats().liveRings()).isEqualTo(1);
            assertThat(p.state()).as("a declined ring leaves the path up").isEqualTo(PeerState.CONNECTED);

            gate.countDown();
            CopyResult fr = first.get(120, TimeUnit.SECONDS);
            assertThat(fr.transports()).containsExactly(Transport.RDMA);
            assertThat(sinks.get(1).data).isEqualTo(held);
            RdmaPathTestSupport.awaitTrue(() -> pb.stats().liveRings() == 0, Duration.ofSeconds(10),
                    "the ring revoked");
            // within the limit again: the next copy gets a ring
            byte[] again = RdmaPathTestSupport.pattern(3, 2 * MiB + 5);
            CopyResult ar = p.copyShard(3, ByteBuffer.wrap(again), CopyProgressListener.NONE).get(120, TimeUnit.SECONDS);
            assertThat(ar.transports()).containsExactly(Transport.RDMA);
            assertThat(sinks.get(3).data).isEqualTo(again);
            assertThat(pb.stats().ringsOverLimit()).isEqualTo(1);
            System.out.println("B " + pb.stats());
        }
    }
}
