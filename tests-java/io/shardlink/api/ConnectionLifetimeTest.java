package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.testing.SoakLoad;
import io.shardlink.testing.TestNodes;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 12: peer connections live as long as the nodes. An idle connection outlives the QUIC idle timeout
 * (keep-alive PINGs), and a Peer whose connection is lost anyway reconnects (on its next operation, and in the
 * background with capped backoff), with the transitions observable. Idle timeouts are set short here.
 */
class ConnectionLifetimeTest {
    static final Duration IDLE = Duration.ofMillis(1500);

    static ShardlinkConfig.Builder node(String id) throws Exception {
        return TestNodes.config(id).idleTimeout(IDLE).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(400));
    }

    static void serve(ShardlinkNode n) {
        n.blobSource(SoakLoad::blob);
        n.onShardCopy((peer, shard, total) -> SoakLoad.DISCARD);
    }

    static void copyAndRead(Peer p, int n) throws Exception {
        assertThat(p.copyShard(n, ByteBuffer.allocate(50_000), null).get(20, TimeUnit.SECONDS).bytes()).isEqualTo(50_000);
        SoakLoad.verify(p.read(3, n, 0, 4096).get(20, TimeUnit.SECONDS), 3, n, 4096);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void idleConnectionOutlivesTheIdleTimeout() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(node("idle-a").build());
             ShardlinkNode b = ShardlinkNode.start(node("idle-b").build())) {
            serve(b);
            Peer p = a.connect(b.localAddress());
            copyAndRead(p, 1);
            Thread.sleep(IDLE.toMillis() * 3); // three idle timeouts without an operation
            assertThat(p.isConnected()).isTrue();
            assertThat(b.peers()).hasSize(1);
            copyAndRead(p, 2);
            assertThat(p.reconnects()).as("kept alive, not reconnected").isZero();
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void lostConnectionIsReestablishedOnTheNextOperation() throws Exception {
        // keep-alive off: the idle timeout closes the connection, as a network blip would
        try (ShardlinkNode a = ShardlinkNode.start(node("lost-a").keepAliveInterval(Duration.ZERO)
                     .reconnectBackoff(Duration.ofSeconds(30), Duration.ofSeconds(30)).build());
             ShardlinkNode b = ShardlinkNode.start(node("lost-b").keepAliveInterval(Duration.ZERO).build())) {
            serve(b);
            Peer p = a.connect(b.localAddress());
            List<String> events = new CopyOnWriteArrayList<>();
            p.addConnectionListener(new PeerConnectionListener() {
                @Override
                public void onConnectionLost(String peer, Throwable cause) {
                    events.add("lost " + peer);
                }

                @Override
                public void onReconnected(String peer, int attempts) {
                    events.add("reconnected " + peer);
                }
            });
            copyAndRead(p, 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!events.contains("lost lost-b") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(events).first().isEqualTo("lost lost-b");
            // the first background attempt runs at once; either it or this operation brings the connection back
            copyAndRead(p, 2);
            assertThat(p.isConnected()).isTrue();
            assertThat(p.reconnects()).isEqualTo(1);
            assertThat(events).containsExactly("lost lost-b", "reconnected lost-b");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void restartedPeerIsReconnectedInTheBackgroundWithBackoff() throws Exception {
        try (ShardlinkNode a = ShardlinkNode.start(node("restart-a").build())) {
            ShardlinkNode b = ShardlinkNode.start(node("restart-b").build());
            serve(b);
            var addr = b.localAddress();
            Peer p = a.connect(addr);
            copyAndRead(p, 1);
            b.close(); // the peer goes away: a's connection is closed by it, attempts fail and back off
            long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10); // CONNECTION_CLOSE, or the idle timeout
            while (p.isConnected() && System.nanoTime() < gone) {
                Thread.sleep(20);
            }
            assertThat(p.isConnected()).isFalse();
            Thread.sleep(1000); // reconnect attempts fail meanwhile and back off (capped at 400 ms here)
            assertThat(p.isConnected()).isFalse();
            try (ShardlinkNode b2 = ShardlinkNode.start(node("restart-b").listenAddress(addr).build())) {
                serve(b2);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (!p.isConnected() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(p.isConnected()).as("reconnected in the background").isTrue();
                assertThat(p.reconnects()).isEqualTo(1);
                copyAndRead(p, 2);
            }
        }
    }
}
