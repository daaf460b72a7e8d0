package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.metrics.CompletionStatus;
import io.shardlink.state.PeerState;
import io.shardlink.api.ShardlinkException;
import io.shardlink.wire.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
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
 * is revoked the next copy gets one again; a ring whose sender stalls after the grant is revoked after
 * ringIdleTimeout (deregistered, pinned bytes back) and the copy aborted with the cause on both sides. VM (rxea, rxeb).
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
            assertThat(b.metrics().peers().get("rings-a").completions(CompletionStatus.OVER_LIMIT))
                    .as("the refused ring counted against the peer that asked").isEqualTo(1);
            assertThat(b.metrics().completions(CompletionStatus.OVER_LIMIT)).isEqualTo(1);
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

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void aRingWhoseSenderStallsIsRevokedAfterTheIdleTimeout() throws Exception {
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        ShardlinkConfig cb = RdmaPathTestSupport.vmConfig("idle-b", RdmaPathTestSupport.deviceB())
                .ringIdleTimeout(Duration.ofSeconds(2)).build();
        try (ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("idle-a",
                RdmaPathTestSupport.deviceA()).build(), pa);
             ShardlinkNode b = RdmaPathTestSupport.start(cb, pb)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            b.onShardCopy(sinks);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            RdmaPathTestSupport.awaitState(RdmaPathTestSupport.onlyPeer(b), PeerState.CONNECTED, Duration.ofSeconds(30));
            int regions = pb.stats().liveRegions();
            long pinned = pb.stats().pinnedBytes();

            byte[] data = RdmaPathTestSupport.pattern(7, 4 * MiB + 17);
            CountDownLatch unstall = new CountDownLatch(1);
            StallingChannel source = new StallingChannel(data, MiB, unstall); // stalls on the second chunk
            CompletableFuture<CopyResult> f = p.copyShard(7, source, 0, data.length, CopyProgressListener.NONE);
            RdmaPathTestSupport.awaitTrue(() -> sinks.get(7) != null && sinks.get(7).bytes == MiB,
                    Duration.ofSeconds(60), "the first chunk over the granted ring");
            assertThat(pb.stats().liveRings()).isEqualTo(1);
            assertThat(pb.stats().liveRegions()).isEqualTo(regions + 1);
            assertThat(pb.stats().pinnedBytes()).isGreaterThan(pinned);
            long stalledAt = System.nanoTime();

            RdmaPathTestSupport.awaitTrue(() -> pb.stats().liveRings() == 0, Duration.ofSeconds(60),
                    "the idle ring revoked");
            long revokedMs = (System.nanoTime() - stalledAt) / 1_000_000;
            assertThat(pb.stats().ringsRevokedIdle()).isEqualTo(1);
            assertThat(pb.stats().liveRegions()).as("the ring's region deregistered").isEqualTo(regions);
            assertThat(pb.stats().pinnedBytes()).as("its pinned bytes released").isEqualTo(pinned);
            RdmaPathTestSupport.awaitTrue(() -> sinks.get(7).aborted != null, Duration.ofSeconds(30),
                    "the receiver's copy aborted");
            assertThat(sinks.get(7).aborted).hasMessageContaining("ringIdleTimeout = 2000 ms")
                    .hasMessageContaining("revoked the RDMA receive ring").hasMessageContaining("idle-a");
            assertThat(b.copiesInFlight()).isEmpty();

            unstall.countDown(); // the sender wakes up to the revocation, not to a ring it may write into
            Throwable t = null;
            try {
                f.get(120, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                t = e.getCause();
            }
            assertThat(t).as("the sender's copy").isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("ringIdleTimeout");
            assertThat(((ShardlinkException) t).code()).isEqualTo(ErrorCode.RING_REVOKED);
            System.out.println("revoked " + revokedMs + " ms after the stall; sender: " + t.getMessage()
                    + "; peer " + p.state() + "; B " + pb.stats());
        }
    }

    /** A read-only file channel over {@code data} whose reads at or past {@code stallAt} wait for {@code go}. */
    private static final class StallingChannel extends FileChannel {
        private final byte[] data;
        private final long stallAt;
        private final CountDownLatch go;

        StallingChannel(byte[] data, long stallAt, CountDownLatch go) {
            this.data = data;
            this.stallAt = stallAt;
            this.go = go;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            if (position >= stallAt) {
                try {
                    go.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
            if (position >= data.length) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), data.length - position);
            dst.put(data, (int) position, n);
            return n;
        }

        @Override public long size() { return data.length; }
        @Override public int read(ByteBuffer dst) { throw new UnsupportedOperationException(); }
        @Override public long read(ByteBuffer[] dsts, int offset, int length) { throw new UnsupportedOperationException(); }
        @Override public int write(ByteBuffer src) { throw new UnsupportedOperationException(); }
        @Override public long write(ByteBuffer[] srcs, int offset, int length) { throw new UnsupportedOperationException(); }
        @Override public long position() { throw new UnsupportedOperationException(); }
        @Override public FileChannel position(long p) { throw new UnsupportedOperationException(); }
        @Override public FileChannel truncate(long size) { throw new UnsupportedOperationException(); }
        @Override public void force(boolean metaData) {}
        @Override public long transferTo(long position, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException();
        }
        @Override public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }
        @Override public int write(ByteBuffer src, long position) { throw new UnsupportedOperationException(); }
        @Override public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException();
        }
        @Override public FileLock lock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }
        @Override public FileLock tryLock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }
        @Override protected void implCloseChannel() {}
    }
}
