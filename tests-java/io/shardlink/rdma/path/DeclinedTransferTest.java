package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import io.shardlink.transfer.DataPath;
import io.shardlink.transfer.DataPathProvider;
import io.shardlink.transfer.PathDeclinedException;
import io.shardlink.transfer.PathEndpoint;
import io.shardlink.transfer.PeerContext;
import io.shardlink.transfer.TransferChannel;
import io.shardlink.transfer.TransferListener;
import io.shardlink.transfer.TransferSpec;
import io.shardlink.wire.Frame;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The two seam additions the RDMA path needs, over real QUIC on the host, with a scripted provider (not RDMA):
 * path control messages on the authenticated control stream (PATH_CTL: how ring descriptors travel), and a
 * path that declines one transfer (no pinned memory for a ring) without failing the peer.
 */
class DeclinedTransferTest {
    /** Claims RDMA; connect() exchanges a control message with the peer's endpoint; every transfer is declined. */
    static final class ScriptedProvider implements DataPathProvider {
        final List<String> heard = new CopyOnWriteArrayList<>();
        final List<String> answers = new CopyOnWriteArrayList<>();

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public String unavailableReason() {
            return null;
        }

        @Override
        public PathEndpoint prepare(PeerContext peer) {
            return new PathEndpoint() {
                @Override
                public byte[] localEndpoint() {
                    return "scripted".getBytes(StandardCharsets.UTF_8);
                }

                @Override
                public CompletableFuture<DataPath> connect(byte[] remote) {
                    return peer.controlRequest(("ring please, from " + peer.localNodeId()).getBytes(StandardCharsets.UTF_8))
                            .thenApply(answer -> {
                                answers.add(new String(answer, StandardCharsets.UTF_8));
                                return new DecliningPath();
                            });
                }

                @Override
                public CompletableFuture<byte[]> onControl(byte[] message) {
                    String m = new String(message, StandardCharsets.UTF_8);
                    heard.add(m);
                    return CompletableFuture.completedFuture(("granted to " + m.substring(m.lastIndexOf(' ') + 1)
                            + " by " + peer.localNodeId()).getBytes(StandardCharsets.UTF_8));
                }

                @Override
                public void close() {}
            };
        }

        @Override
        public void close() {}
    }

    static final class DecliningPath implements DataPath {
        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public TransferChannel openTransfer(TransferSpec spec, TransferListener listener) throws Exception {
            throw new PathDeclinedException("receiver has no room in its pinned-memory budget for a ring (test)");
        }

        @Override
        public boolean supportsReads() {
            return true;
        }

        @Override
        public CompletableFuture<Frame> read(long requestId, long volumeId, long needleId, long cookie, long offset,
                                             int length) {
            return CompletableFuture.failedFuture(new java.io.IOException("injected: the queue pair went to ERR"));
        }
    }

    @Test
    void controlMessagesTravelOnTheControlStreamAndADeclinedCopyGoesOverQuicWithoutFailingThePeer() throws Exception {
        ScriptedProvider pa = new ScriptedProvider();
        ScriptedProvider pb = new ScriptedProvider();
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("decl-a").build(), pa);
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("decl-b").build(), pb)) {
            RdmaPathTestSupport.Sinks sinks = new RdmaPathTestSupport.Sinks();
            b.onShardCopy(sinks);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            RdmaPathTestSupport.awaitState(RdmaPathTestSupport.onlyPeer(b), PeerState.CONNECTED,
                    java.time.Duration.ofSeconds(10));
            assertThat(pb.heard).containsExactly("ring please, from decl-a");
            assertThat(pa.heard).containsExactly("ring please, from decl-b");
            assertThat(pa.answers).containsExactly("granted to decl-a by decl-b");
            assertThat(pb.answers).containsExactly("granted to decl-b by decl-a");

            byte[] data = RdmaPathTestSupport.pattern(3, 2 * 1024 * 1024 + 5);
            List<String> fallbacks = new CopyOnWriteArrayList<>();
            CopyResult r = p.copyShard(4, ByteBuffer.wrap(data), new CopyProgressListener() {
                @Override
                public void onProgress(long acked, long total, Transport t) {}

                @Override
                public void onFallback(Transport from, Transport to, long offset, Throwable cause) {
                    fallbacks.add(from + "->" + to + "@" + offset + ": " + cause.getMessage());
                }
            }).get(60, TimeUnit.SECONDS);
            assertThat(r.transports()).containsExactly(Transport.QUIC);
            assertThat(r.fallbacks()).isEqualTo(1);
            assertThat(r.fallbackCauses()).singleElement().asString().contains("no room in its pinned-memory budget");
            assertThat(fallbacks).containsExactly("RDMA->QUIC@0: receiver has no room in its pinned-memory budget "
                    + "for a ring (test)");
            assertThat(sinks.get(4).data).isEqualTo(data);
            assertThat(p.state()).as("a declined transfer does not fail the path").isEqualTo(PeerState.CONNECTED);
            assertThat(a.metrics().fallbacks()).containsKey("declined: receiver has no room in its pinned-memory "
                    + "budget for a ring (test)");

            // a read whose RDMA path breaks under it is asked again over QUIC
            b.blobSource((v, n, off, len, dst) -> {
                for (int i = 0; i < len; i++) {
                    dst.put(RdmaPathTestSupport.blobByte(v, n, off + i));
                }
                return len;
            });
            io.shardlink.api.ReadResult rr = p.read(6, 7, 8, 5000).get(30, TimeUnit.SECONDS);
            assertThat(rr.transport()).isEqualTo(Transport.QUIC);
            assertThat(rr.length()).isEqualTo(5000);
            assertThat(rr.data().get(rr.data().position() + 4999)).isEqualTo(RdmaPathTestSupport.blobByte(6, 7, 8 + 4999));
            assertThat(a.metrics().fallbacks()).containsKey("read: IOException: injected: the queue pair went to ERR");
            assertThat(a.metrics().bytes(Transport.QUIC, io.shardlink.metrics.Direction.RECEIVED)).isEqualTo(5000);
        }
    }

    @Test
    void rdmaOnlyFailsADeclinedCopyWithTheReason() throws Exception {
        ShardlinkConfig ca = TestNodes.config("decl-ro-a").transportMode(TransportMode.RDMA_ONLY).build();
        try (ShardlinkNode a = ShardlinkNode.start(ca, new ScriptedProvider());
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("decl-ro-b").build(), new ScriptedProvider())) {
            b.onShardCopy(new RdmaPathTestSupport.Sinks());
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThatThrownBy(() -> p.copyShard(1, ByteBuffer.allocate(5000), CopyProgressListener.NONE)
                    .get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("declined")
                    .hasMessageContaining("no room in its pinned-memory budget")
                    .hasMessageContaining("allows no fallback");
            assertThatThrownBy(() -> p.read(1, 2, 3, 100).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("injected: the queue pair went to ERR");
        }
    }
}
