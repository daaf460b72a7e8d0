package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.rdma.Opcode;
import io.shardlink.state.PeerState;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Isolation between the peers of one node (issue 11 item 3): node B has one protection domain for all its peers, yet
 * peer X, knowing the REAL rkey and address of the receive ring B granted to peer Y, cannot write into it. X's WRITE
 * (posted on X's own, authenticated, connected queue pair) fails with a remote access error, the ring's bytes are
 * unchanged, and Y's copy through that ring completes over RDMA, verified. The ring's rkey is that of a type-2
 * memory window bound to B's queue pair to Y. VM (Y and X on rxea, B on rxeb).
 */
@Tag("rdma")
class RdmaPeerIsolationRdmaTest {
    /** ibv_wc_status_str(IBV_WC_REM_ACCESS_ERR), status 10: how the path's stats key that completion. */
    private static final String REM_ACCESS_ERR_TEXT = "remote access error";

    @BeforeEach
    void rdma() {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void aPeerWritingIntoAnotherPeersRingWithItsRealRkeyGetsARemoteAccessError() throws Exception {
        RdmaDataPathProvider py = new RdmaDataPathProvider();
        RdmaDataPathProvider px = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        try (ShardlinkNode b = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("iso-b",
                RdmaPathTestSupport.deviceB()).build(), pb);
             ShardlinkNode y = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("iso-y",
                     RdmaPathTestSupport.deviceA()).build(), py);
             ShardlinkNode x = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("iso-x",
                     RdmaPathTestSupport.deviceA()).build(), px)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            CountDownLatch gate = new CountDownLatch(1);
            sinks.gateAfter = MiB; // Y's copy holds its ring (the sink waits on its second chunk)
            sinks.gate = gate;
            b.onShardCopy(sinks);
            Peer toB = y.connect(b.localAddress());
            Peer xToB = x.connect(b.localAddress());
            assertThat(toB.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(xToB.state()).isEqualTo(PeerState.CONNECTED);

            byte[] data = RdmaPathTestSupport.pattern(11, 3 * MiB + 17);
            CompletableFuture<CopyResult> copy = toB.copyShard(11, ByteBuffer.wrap(data), CopyProgressListener.NONE);
            RdmaPathTestSupport.awaitTrue(() -> sinks.get(11) != null && sinks.get(11).bytes >= MiB,
                    Duration.ofSeconds(60), "Y's copy to hold its ring");
            RdmaEndpoint bToY = pb.endpointTo("iso-y");
            assertThat(bToY).isNotNull();
            List<CopyRing> rings = bToY.incoming().liveRings();
            assertThat(rings).hasSize(1);
            CopyRing ring = rings.get(0);
            assertThat(ring.mr.rkey()).as("the region itself grants nothing remote").isNotEqualTo(ring.mw.rkey());
            // X aims at the last slot, which Y's 4 chunks never reach: it must stay all zero
            long lastSlot = (long) (ring.count - 1) * ring.slotSize;
            assertThat(lastSlot).isGreaterThanOrEqualTo(4L * ring.slotSize);
            byte[] before = slice(ring.memory, (int) lastSlot, ring.slotSize);
            assertThat(allZero(before)).isTrue();

            // the hostile write: X's own connected queue pair to B, the ring's real address and rkey
            RdmaEndpoint xToBEp = px.endpointTo("iso-b");
            assertThat(xToBEp).isNotNull();
            byte[] junk = new byte[1000];
            Arrays.fill(junk, (byte) 0xEE);
            long errorsBefore = remoteAccessErrors(px);
            xToBEp.sends().postSmall(Opcode.WRITE_IMM, Imm.readReply(0), ring.mr.address() + lastSlot, ring.mw.rkey(),
                    new FrameHeader(FrameType.READ_RESP).id(1), junk);
            RdmaPathTestSupport.awaitTrue(() -> remoteAccessErrors(px) > errorsBefore, Duration.ofSeconds(60),
                    "X's WRITE to fail with a remote access error (errors: " + px.stats().errorCompletions() + ")");
            RdmaPathTestSupport.awaitTrue(() -> px.stats().pathFailures() >= 1, Duration.ofSeconds(30),
                    "X's path to B to fail on it");
            // the error completion on X's own queue pair: status 10, IBV_WC_REM_ACCESS_ERR (its ibv_wc_status_str),
            // once, and no other error there (what failed X's path first, its completion or B's PATH_DOWN, may vary)
            assertThat(px.stats().errorCompletions()).as("X's error completions")
                    .containsExactly(java.util.Map.entry(REM_ACCESS_ERR_TEXT, 1L));
            assertThat(slice(ring.memory, (int) lastSlot, ring.slotSize)).as("nothing of X's landed in Y's ring")
                    .isEqualTo(before);
            assertThat(pb.stats().liveRings()).as("Y's ring is still granted").isEqualTo(1);

            gate.countDown();
            CopyResult r = copy.get(120, TimeUnit.SECONDS);
            assertThat(r.transports()).as("Y's copy stayed on RDMA").containsExactly(Transport.RDMA);
            assertThat(sinks.get(11).data).isEqualTo(data);
            assertThat(sinks.get(11).problems).isEmpty();
            assertThat(toB.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(py.stats().pathFailures()).as("Y's path untouched").isZero();
            assertThat(py.stats().errorCompletions()).isEmpty();

            // X's connection survives its failed path: its next copy completes (QUIC, or RDMA once recovered)
            byte[] xs = RdmaPathTestSupport.pattern(12, MiB / 2 + 3);
            CopyResult xr = xToB.copyShard(12, ByteBuffer.wrap(xs), CopyProgressListener.NONE).get(120,
                    TimeUnit.SECONDS);
            assertThat(sinks.get(12).data).isEqualTo(xs);
            System.out.println("X's hostile WRITE: " + px.stats().errorCompletions() + "; X's next copy over "
                    + xr.transports() + "; B " + pb.stats());
        }
    }

    private static long remoteAccessErrors(RdmaDataPathProvider p) {
        return p.stats().errorCompletions().entrySet().stream().filter(e -> e.getKey().equals(REM_ACCESS_ERR_TEXT))
                .mapToLong(e -> e.getValue()).sum();
    }

    private static byte[] slice(ByteBuffer memory, int at, int len) {
        byte[] b = new byte[len];
        memory.duplicate().clear().position(at).get(b);
        return b;
    }

    private static boolean allZero(byte[] b) {
        for (byte v : b) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
