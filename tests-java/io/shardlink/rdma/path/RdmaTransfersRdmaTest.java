package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import io.shardlink.wire.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Several transfers on one queue pair: concurrent copies both ways (a ring per incoming copy, shared send queue),
 * and a copy the receiver refuses mid-way (its ring is revoked, the path stays up). VM (rxea, rxeb).
 */
@Tag("rdma")
class RdmaTransfersRdmaTest {
    @BeforeEach
    void rdma() {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
    }

    @Test
    void concurrentCopiesBothWaysShareOneQueuePair() throws Exception {
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        try (ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("multi-a",
                RdmaPathTestSupport.deviceA()).build(), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("multi-b",
                     RdmaPathTestSupport.deviceB()).build(), pb)) {
            RdmaPathTestSupport.Sinks intoA = new RdmaPathTestSupport.Sinks();
            RdmaPathTestSupport.Sinks intoB = new RdmaPathTestSupport.Sinks();
            a.onShardCopy(intoA);
            b.onShardCopy(intoB);
            Peer ab = a.connect(b.localAddress());
            assertThat(ab.state()).isEqualTo(PeerState.CONNECTED);
            Peer ba = RdmaPathTestSupport.onlyPeer(b);
            RdmaPathTestSupport.awaitState(ba, PeerState.CONNECTED, Duration.ofSeconds(30));

            List<byte[]> data = new ArrayList<>();
            List<CompletableFuture<CopyResult>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] d = RdmaPathTestSupport.pattern(100 + i, 6 * MiB + 1000 * i);
                data.add(d);
                // three copies A -> B, one B -> A, all at once
                fs.add(i < 3 ? ab.copyShard(i, ByteBuffer.wrap(d), CopyProgressListener.NONE)
                        : ba.copyShard(i, ByteBuffer.wrap(d), CopyProgressListener.NONE));
            }
            for (int i = 0; i < 4; i++) {
                CopyResult r = fs.get(i).get(300, TimeUnit.SECONDS);
                assertThat(r.transports()).as("copy %d", i).containsExactly(Transport.RDMA);
                RdmaPathTestSupport.Sinks.Received got = (i < 3 ? intoB : intoA).get(i);
                assertThat(got.problems).isEmpty();
                assertThat(got.data).as("copy %d", i).isEqualTo(data.get(i));
            }
            System.out.println("A " + pa.stats());
            System.out.println("B " + pb.stats());
            assertThat(pb.stats().ringsGranted()).isEqualTo(3);
            assertThat(pa.stats().ringsGranted()).isEqualTo(1);
            RdmaPathTestSupport.awaitTrue(() -> pa.stats().liveRings() == 0 && pb.stats().liveRings() == 0,
                    Duration.ofSeconds(10), "every receive ring revoked");
            assertThat(ab.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(ba.state()).isEqualTo(PeerState.CONNECTED);
        }
    }

    @Test
    void aCopyTheReceiverRefusesRevokesItsRingAndLeavesThePathUp() throws Exception {
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        try (ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("refuse-a",
                RdmaPathTestSupport.deviceA()).build(), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("refuse-b",
                     RdmaPathTestSupport.deviceB()).build(), pb)) {
            RdmaPathTestSupport.Sinks ok = new RdmaPathTestSupport.Sinks();
            b.onShardCopy((peer, shard, total) -> shard != 66 ? ok.open(peer, shard, total) : new ShardSink() {
                @Override
                public void onChunk(long offset, ByteBuffer payload) throws IOException {
                    if (offset >= 3L * MiB) {
                        throw new IOException("disk full at offset " + offset + " (test)");
                    }
                }

                @Override
                public void onComplete() {}

                @Override
                public void onAbort(Throwable cause) {}
            });
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThatThrownBy(() -> p.copyShard(66, ByteBuffer.allocate(12 * MiB), CopyProgressListener.NONE)
                    .get(120, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("disk full at offset 3145728")
                    .satisfies(e -> assertThat(((ShardlinkException) e).code()).isEqualTo(ErrorCode.SINK_FAILED));
            // the refusal is an answer, not a path failure: the ring is revoked, the path stays
            RdmaPathTestSupport.awaitTrue(() -> pb.stats().liveRings() == 0, Duration.ofSeconds(30),
                    "B to revoke the refused copy's ring (" + pb.stats() + ")");
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(pa.stats().pathFailures()).isZero();
            assertThat(pb.stats().pathFailures()).isZero();
            byte[] d = RdmaPathTestSupport.pattern(7, 2 * MiB + 3);
            CopyResult r = p.copyShard(67, ByteBuffer.wrap(d), CopyProgressListener.NONE).get(120, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.RDMA);
            assertThat(ok.get(67).data).isEqualTo(d);
        }
    }
}
