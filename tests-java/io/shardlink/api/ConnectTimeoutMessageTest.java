package io.shardlink.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.concurrent.ShardlinkThreadFactory;
import io.shardlink.testing.TestNodes;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Connecting through the API to an address where no shardlink node answers fails with a message that says
 * what timed out and after how long (it said {@code ...: null <- TimeoutException: null}).
 */
class ConnectTimeoutMessageTest {
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void connectingToASilentPortSaysWhatTimedOutAndAfterHowLong() throws Exception {
        // a bound UDP socket that never answers (nothing there speaks QUIC)
        try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
             ShardlinkNode a = ShardlinkNode.start(TestNodes.config("cto-a").connectTimeout(Duration.ofMillis(1200))
                     .build())) {
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.getLocalPort());
            assertThatThrownBy(() -> a.connect(to)).isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("node cto-a cannot connect to " + to)
                    .hasMessageContaining("timed out after 1200 ms")
                    .hasMessageContaining("QUIC handshake")
                    .hasMessageNotContaining("null");
            assertThatThrownBy(() -> a.connectAsync(to).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("timed out after 1200 ms").hasMessageNotContaining("null");
            assertThat(a.peers()).isEmpty();
        }
        assertThat(ShardlinkThreadFactory.liveThreads("cto-a")).isZero();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void connectingToAPortWhereNothingListensSaysTheSame() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("cto-b").connectTimeout(Duration.ofMillis(900))
                .build())) {
            InetSocketAddress to = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            assertThatThrownBy(() -> a.connect(to)).isInstanceOf(ShardlinkException.class)
                    .hasMessageContaining("cannot connect to " + to)
                    .hasMessageContaining("after 900 ms").hasMessageNotContaining("null");
        }
    }
}
