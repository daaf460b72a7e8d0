package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Killing the receiving process mid-copy (a child JVM on rxeb): the sender's future fails with a clear error
 * within a bounded time, never hangs, and the sender keeps no thread, endpoint, ring or buffer of that peer.
 */
@Tag("rdma")
class RdmaPeerKillRdmaTest {
    @Test
    void killingThePeerMidCopyFailsTheCopyAndLeavesNothingBehind() throws Exception {
        String a = RdmaPathTestSupport.deviceA();
        String b = RdmaPathTestSupport.deviceB();
        RdmaPathTestSupport.requireRdma(a, b);
        Path[] kc = TestNodes.pki().issue("kill-b");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        String nativePath = System.getProperty("shardlink.native.path");
        if (nativePath != null) {
            cmd.add("-Dshardlink.native.path=" + nativePath);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RdmaChildReceiver.class.getName(), "kill-b",
                kc[0].toString(), kc[1].toString(), TestNodes.pki().caPem().toString(), b, "40"));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> childOut = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    childOut.add(line);
                    if (line.startsWith("LISTENING ")) {
                        port.complete(Integer.parseInt(line.substring(10).trim()));
                    }
                }
            } catch (Exception ignored) {
                // the child is gone
            }
            port.completeExceptionally(new IllegalStateException("child exited before listening: " + childOut));
        }, "kill-test-child-output");
        reader.setDaemon(true);
        reader.start();

        RdmaDataPathProvider pa = new RdmaDataPathProvider(RdmaPathOptions.defaults().withRetryCount(3));
        ShardlinkNode na = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("kill-a", a)
                .requestTimeout(Duration.ofSeconds(20)).idleTimeout(Duration.ofSeconds(10)).build(), pa);
        try {
            int childPort = port.get(180, TimeUnit.SECONDS);
            assertThat(childOut).as("child's RDMA").contains("RDMA ok");
            Peer p = na.connect(new InetSocketAddress("127.0.0.1", childPort));
            assertThat(p.state()).as("peer state (cause %s)", p.lastCause()).isEqualTo(PeerState.CONNECTED);

            int size = 32 * MiB;
            AtomicBoolean killed = new AtomicBoolean();
            List<Transport> progressOn = new CopyOnWriteArrayList<>();
            long[] killedAt = new long[1];
            CompletableFuture<CopyResult> f = p.copyShard(1, ByteBuffer.allocate(size), (acked, total, t) -> {
                progressOn.add(t);
                if (acked >= 4L * MiB && killed.compareAndSet(false, true)) {
                    killedAt[0] = System.nanoTime();
                    CompletableFuture.runAsync(child::destroyForcibly);
                }
            });
            Throwable failure = null;
            try {
                CopyResult r = f.get(120, TimeUnit.SECONDS);
                fail("the copy to a killed peer completed: " + r);
            } catch (ExecutionException e) {
                failure = e.getCause();
            }
            double secs = (System.nanoTime() - killedAt[0]) / 1e9;
            System.out.printf("copy to the killed peer failed %.1f s after the kill: %s%n", secs, failure);
            assertThat(killed).isTrue();
            assertThat(progressOn).contains(Transport.RDMA);
            assertThat(failure).isInstanceOf(ShardlinkException.class);
            assertThat(failure.getMessage()).contains("kill-b").contains("shard 1");

            // nothing of that peer is left in the sender
            RdmaPathTestSupport.awaitTrue(() -> pa.liveEndpoints() == 0, Duration.ofSeconds(60),
                    "the RDMA endpoint to the dead peer to be torn down (" + pa.stats() + ")");
            RdmaPathTestSupport.awaitTrue(() -> na.outstandingBuffers() == 0, Duration.ofSeconds(30),
                    "every chunk buffer back in the pool");
            System.out.println("A after the kill: " + pa.stats());
            assertThat(pa.stats().livePollers()).isZero();
            assertThat(pa.stats().liveRings()).isZero();
            assertThat(pa.stats().liveEndpoints()).isZero();
            assertThat(p.state()).isIn(PeerState.FAILED, PeerState.DISCONNECTED);
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
            na.close();
        }
        assertThat(na.liveThreads()).isZero();
        assertThat(pa.stats().liveRegions()).as("registrations after close").isZero();
        assertThat(pa.stats().pinnedBytes()).isZero();
    }
}
