package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.seaweedfs.SeaweedVolumes;
import io.shardlink.state.PeerState;
import io.shardlink.testing.SeaweedReadChecks;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SeaweedFS needle reads between node A (rxea) and node B (rxeb) over RDMA: the same checks as the host's
 * SeaweedReadsTest, every answer asserted to have come over RDMA, and no read fell back to QUIC.
 */
@Tag("rdma")
class SeaweedReadsRdmaTest {
    @TempDir
    Path tmp;

    private static ShardlinkConfig config(String id, String device) throws Exception {
        // the reads keep the RDMA path busy for minutes while the QUIC control connection carries nothing, and QUIC
        // has no keep-alive today: an idle timeout shorter than the test would close the peer under it
        return RdmaPathTestSupport.vmConfig(id, device).requestTimeout(Duration.ofSeconds(180))
                .idleTimeout(Duration.ofMinutes(30)).build();
    }

    @Test
    void fixtureNeedlesOverRdma() throws Exception {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
        // every fixture needle over RDMA; of the damaged and scanned copies a tenth (the host test reads them all)
        SeaweedReadChecks checks = SeaweedReadChecks.prepare(tmp.resolve("vols")).sampleCopies(10);
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        ShardlinkNode a = RdmaPathTestSupport.start(config("sw-a", RdmaPathTestSupport.deviceA()), pa);
        ShardlinkNode b = RdmaPathTestSupport.start(config("sw-b", RdmaPathTestSupport.deviceB()), pb);
        try (a; b; SeaweedVolumes volumes = SeaweedVolumes.open(tmp.resolve("vols"))) {
            b.blobSource(volumes);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).as("A's peer after connect (last cause: %s)", p.lastCause())
                    .isEqualTo(PeerState.CONNECTED);
            checks.everyLiveNeedleByteExact(p, Transport.RDMA);
            checks.checksumMismatchForThatNeedleOnly(p, Transport.RDMA);
            checks.notFoundCases(p);
            checks.truncatedDat(p, Transport.RDMA);
            checks.thousandConcurrentReads(p, Transport.RDMA);
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            MetricsSnapshot m = p.metrics();
            assertThat(m.fallbacks()).as("fallbacks %s", m.fallbacks()).isEmpty();
        }
    }
}
