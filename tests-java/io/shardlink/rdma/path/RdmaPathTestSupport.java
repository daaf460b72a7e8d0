package io.shardlink.rdma.path;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardSinkFactory;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.rdma.Rdma;
import io.shardlink.rdma.RdmaAvailability;
import io.shardlink.rdma.RdmaDevice;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import io.shardlink.rdma.RdmaException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Shared by the RDMA data path tests. Device tests (tag "rdma") run in the rxe VM (ci/rxe-vm.sh), where
 * SHARDLINK_REQUIRE_RDMA=1 turns "RDMA unavailable" (or a node that falls back to QUIC) into a failure;
 * elsewhere they are skipped with the reason.
 */
final class RdmaPathTestSupport {
    static final int MiB = 1024 * 1024;
    static final boolean REQUIRED = "1".equals(System.getenv("SHARDLINK_REQUIRE_RDMA"))
            || Boolean.getBoolean("shardlink.rdma.require");

    private RdmaPathTestSupport() {}

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    static String deviceA() {
        return env("SHARDLINK_RXE_A", "rxea");
    }

    static String deviceB() {
        return env("SHARDLINK_RXE_B", "rxeb");
    }

    /** Fails (SHARDLINK_REQUIRE_RDMA=1) or skips unless every device's port 1 is usable. */
    static void requireRdma(String... devices) {
        for (String d : devices) {
            RdmaAvailability a = Rdma.availability(d, 1);
            if (!a.available()) {
                if (REQUIRED) {
                    fail("SHARDLINK_REQUIRE_RDMA=1 but " + d + " is not usable: " + a.reason());
                }
                assumeTrue(false, a.reason());
            }
        }
    }

    /** Runs {@code ip ARGS} (iproute2, the VM's own links only); its output, or an IOException with it. */
    static String ip(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "ip";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.trim());
        }
        return out;
    }

    /** Whether {@code device} port 1 is ACTIVE and has its link-local GID back. */
    static boolean portReady(String device) {
        try (RdmaDevice d = RdmaDevice.open(device, 1)) {
            if (!d.portAttributes().isActive()) {
                return false;
            }
            for (byte b : d.gid(0)) {
                if (b != 0) {
                    return true;
                }
            }
            return false;
        } catch (RdmaException | RuntimeException e) {
            return false;
        }
    }

    /** A node config for the VM tests: small chunks and ring (the JVM is emulated), generous timeouts. */
    static ShardlinkConfig.Builder vmConfig(String id, String device) throws Exception {
        return vmConfig(TestNodes.config(id), device);
    }

    /** {@link #vmConfig(String, String)} for a node that presents the shared certificate {@code certName}. */
    static ShardlinkConfig.Builder vmConfig(String id, String certName, String device) throws Exception {
        return vmConfig(TestNodes.config(id, certName), device);
    }

    private static ShardlinkConfig.Builder vmConfig(ShardlinkConfig.Builder b, String device) {
        return b.device(device).maxSendSize(MiB).numMemoryRegions(8).qpDepth(32)
                .connectTimeout(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(60))
                .idleTimeout(Duration.ofSeconds(60));
    }

    /** Starts a node with {@code provider}; fails (REQUIRED) or skips if its RDMA path is unavailable. */
    static ShardlinkNode start(ShardlinkConfig config, RdmaDataPathProvider provider) {
        ShardlinkNode n = ShardlinkNode.start(config, provider);
        String why = n.rdmaUnavailableReason();
        if (why != null) {
            n.close();
            if (REQUIRED) {
                fail("SHARDLINK_REQUIRE_RDMA=1 but node " + config.nodeId() + " has no RDMA path: " + why);
            }
            assumeTrue(false, why);
        }
        return n;
    }

    /** The node's (single) peer, once it exists. */
    static Peer onlyPeer(ShardlinkNode n) {
        awaitTrue(() -> n.peers().size() == 1, Duration.ofSeconds(30), "node " + n.nodeId() + " to have one peer");
        return n.peers().get(0);
    }

    static void awaitState(Peer p, PeerState s, Duration timeout) {
        awaitTrue(() -> p.state() == s, timeout, "peer " + p.nodeId() + " to be " + s + " (is " + p.state()
                + (p.lastCause() == null ? "" : ", last cause: " + p.lastCause()) + ")");
    }

    static void awaitTrue(BooleanSupplier cond, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for " + what);
            }
        }
    }

    static byte[] pattern(long seed, int n) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    /** The byte of needle {@code needle} at {@code offset} that the test blob sources serve. */
    static byte blobByte(long volume, long needle, long offset) {
        long x = (volume * 31 + needle) * 0x9E3779B97F4A7C15L + offset * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (byte) x;
    }

    /** A sink factory that drops every chunk (throughput measurements). */
    static ShardSinkFactory discardingSinks() {
        return (peer, shard, total) -> new ShardSink() {
            @Override
            public void onChunk(long offset, ByteBuffer payload) {}

            @Override
            public void onComplete() {}

            @Override
            public void onAbort(Throwable cause) {}
        };
    }

    /**
     * Incoming copies into memory: checks every chunk arrives in order and exactly once (offset == bytes so far),
     * records chunk count and completion. {@code gate} (may be null) is awaited before each chunk once
     * {@code gateAfter} bytes arrived: a test holds the sender there.
     */
    static final class Sinks implements ShardSinkFactory {
        final Map<Long, Received> byShard = new ConcurrentHashMap<>();
        volatile CountDownLatch gate;
        volatile long gateAfter = Long.MAX_VALUE;

        @Override
        public ShardSink open(String peer, long shardId, long totalLength) {
            Received r = new Received(totalLength);
            byShard.put(shardId, r);
            return r;
        }

        Received get(long shard) {
            return byShard.get(shard);
        }

        final class Received implements ShardSink {
            final byte[] data;
            final List<String> problems = new ArrayList<>();
            final CountDownLatch done = new CountDownLatch(1);
            volatile long bytes;
            volatile int chunks;
            volatile Throwable aborted;

            Received(long total) {
                this.data = new byte[(int) total];
            }

            @Override
            public void onChunk(long offset, ByteBuffer payload) throws java.io.IOException {
                CountDownLatch g = gate;
                if (g != null && bytes >= gateAfter) {
                    try {
                        g.await(120, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException();
                    }
                }
                if (offset != bytes) {
                    problems.add("chunk at " + offset + " but " + bytes + " bytes arrived so far");
                }
                int n = payload.remaining();
                payload.get(data, (int) offset, n);
                bytes += n;
                chunks++;
            }

            @Override
            public void onComplete() {
                done.countDown();
            }

            @Override
            public void onAbort(Throwable cause) {
                aborted = cause;
            }
        }
    }
}
