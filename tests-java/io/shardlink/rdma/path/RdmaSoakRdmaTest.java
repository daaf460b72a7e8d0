package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import io.shardlink.testing.SoakLoad;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, in the rxe VM: 20,000 reads and 1,000 copies on ONE peer connection, every one asserted to have
 * gone over RDMA and verified; after the nodes close, the devices' QP/CQ/MR/PD counts ({@code rdma resource})
 * are back to where they were before the nodes started. Sizes: -Dshardlink.soak.rdmaReads / .rdmaCopies.
 */
@Tag("rdma")
class RdmaSoakRdmaTest {
    static final int READS = Integer.getInteger("shardlink.soak.rdmaReads", 20_000);
    static final int COPIES = Integer.getInteger("shardlink.soak.rdmaCopies", 1_000);

    @BeforeEach
    void rdma() {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
    }

    @Test
    void readsAndCopiesOverRdmaLeaveNoDeviceObjects() throws Exception {
        Map<String, Long> before = rdmaResources();
        ShardlinkNode a = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("soak-a",
                RdmaPathTestSupport.deviceA()).build(), new RdmaDataPathProvider());
        ShardlinkNode b = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("soak-b",
                RdmaPathTestSupport.deviceB()).build(), new RdmaDataPathProvider());
        try (a; b) {
            b.blobSource(SoakLoad::blob);
            b.onShardCopy((peer, shard, total) -> SoakLoad.DISCARD);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).as("peer state (last cause: %s)", p.lastCause()).isEqualTo(PeerState.CONNECTED);
            long t0 = System.nanoTime();
            SoakLoad.run(p, READS, 4096, 16, COPIES, 64 * 1024, 2, Transport.RDMA);
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("RDMA soak: %d verified 4 KiB reads and %d 64 KiB copies on one connection in %.1f s"
                    + " (%.0f reads/s), all over RDMA%n", READS, COPIES, secs, READS / secs);
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(p.reconnects()).isZero();
            SoakLoad.verify(p.read(1, 1, 0, 4096).get(60, TimeUnit.SECONDS), 1, 1, 4096);
        }
        // device objects are released when the nodes close (the provider's close waits for its pollers)
        Map<String, Long> after = rdmaResources();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!after.equals(before) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            after = rdmaResources();
        }
        System.out.println("rdma resource before " + before + ", after " + after);
        assertThat(after).as("rdma resource counts after the nodes closed").isEqualTo(before);
    }

    /** "dev qp" -> count (and cq, mr, pd) of every device, from {@code rdma resource show}. */
    static Map<String, Long> rdmaResources() throws IOException, InterruptedException {
        Process pr = new ProcessBuilder("rdma", "resource", "show").redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(pr.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(pr.exitValue()).as("rdma resource show: %s", out).isZero();
        Map<String, Long> m = new TreeMap<>();
        Pattern line = Pattern.compile("^\\d+: (\\S+): (.*)$", Pattern.MULTILINE);
        Pattern kv = Pattern.compile("\\b(qp|cq|mr|pd) (\\d+)");
        Matcher l = line.matcher(out);
        while (l.find()) {
            Matcher k = kv.matcher(l.group(2));
            while (k.find()) {
                m.put(l.group(1) + " " + k.group(1), Long.parseLong(k.group(2)));
            }
        }
        assertThat(m).as("rdma resource show: %s", out).isNotEmpty();
        return m;
    }
}
