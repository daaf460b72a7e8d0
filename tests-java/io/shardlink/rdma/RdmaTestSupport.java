package io.shardlink.rdma;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Shared by the device tests (tag "rdma"). They run in the rxe VM (ci/rxe-vm.sh), where
 * SHARDLINK_REQUIRE_RDMA=1 turns "RDMA unavailable" into a failure; elsewhere they are skipped with
 * the availability reason.
 */
final class RdmaTestSupport {
    static final boolean REQUIRED = "1".equals(System.getenv("SHARDLINK_REQUIRE_RDMA"));
    /** Generous: the VM emulates its CPU (TCG), and rxe runs in its kernel threads. */
    static final int TIMEOUT_MS = 20_000;

    private RdmaTestSupport() {
    }

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    /** rxe0: a device whose QPs can connect to each other (loopback). */
    static String loopbackDevice() {
        return env("SHARDLINK_RXE_LOOPBACK", "rxe0");
    }

    static String deviceA() {
        return env("SHARDLINK_RXE_A", "rxea");
    }

    static String deviceB() {
        return env("SHARDLINK_RXE_B", "rxeb");
    }

    /** Fails (SHARDLINK_REQUIRE_RDMA=1) or skips unless {@code device} port 1 is usable. */
    static void requireRdma(String device) {
        RdmaAvailability a = Rdma.availability(device, 1);
        if (!a.available()) {
            if (REQUIRED) {
                fail("SHARDLINK_REQUIRE_RDMA=1 but " + device + " is not usable: " + a.reason());
            }
            assumeTrue(false, a.reason());
        }
    }

    /** Deterministic test bytes. */
    static byte patternByte(long seed, int i) {
        long x = seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 31;
        return (byte) x;
    }

    static void fill(ByteBuffer buf, int from, int length, long seed) {
        for (int i = 0; i < length; i++) {
            buf.put(from + i, patternByte(seed, i));
        }
    }

    /** Index of the first byte that differs from the pattern, -1 if all match. */
    static int firstMismatch(ByteBuffer buf, int from, int length, long seed) {
        for (int i = 0; i < length; i++) {
            if (buf.get(from + i) != patternByte(seed, i)) {
                return i;
            }
        }
        return -1;
    }

    /** Polls until {@code cq} yields at least one completion; fails after TIMEOUT_MS. */
    static int awaitCompletions(CompletionQueue cq, CompletionBatch batch) throws RdmaException {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            int n = cq.pollWait(batch, 1000);
            if (n > 0) {
                return n;
            }
        }
        fail("no completion within " + TIMEOUT_MS + " ms");
        return 0;
    }

    /**
     * One end: device, PD, one CQ for both queues, one QP, and any registered regions; closes all
     * of them children first.
     */
    static final class Side implements AutoCloseable {
        final RdmaDevice device;
        final ProtectionDomain pd;
        final CompletionQueue cq;
        final QueuePair qp;
        private final Deque<AutoCloseable> regions = new ArrayDeque<>();

        Side(String deviceName, QueuePairOptions options) throws RdmaException {
            RdmaDevice dev = RdmaDevice.open(deviceName, 1);
            ProtectionDomain p = null;
            CompletionQueue c = null;
            try {
                p = ProtectionDomain.create(dev);
                c = CompletionQueue.create(dev, options.sendDepth() + options.recvDepth());
                this.qp = QueuePair.create(p, c, c, options);
            } catch (RdmaException | RuntimeException e) {
                if (c != null) {
                    c.close();
                }
                if (p != null) {
                    p.close();
                }
                dev.close();
                throw e;
            }
            this.device = dev;
            this.pd = p;
            this.cq = c;
        }

        Side(String deviceName) throws RdmaException {
            this(deviceName, QueuePairOptions.defaults().withDepth(16));
        }

        MemoryRegion register(int size, int access) throws RdmaException {
            MemoryRegion mr = MemoryRegion.register(pd, ByteBuffer.allocateDirect(size), access);
            regions.push(mr);
            return mr;
        }

        @Override
        public void close() throws Exception {
            qp.close();
            while (!regions.isEmpty()) {
                regions.pop().close();
            }
            cq.close();
            pd.close();
            device.close();
        }
    }

    /** Connects two sides' QPs to each other (endpoints exchanged in memory). */
    static void connect(Side a, Side b, ConnectOptions options) throws RdmaException {
        byte[] ea = a.qp.localEndpoint();
        byte[] eb = b.qp.localEndpoint();
        a.qp.connect(eb, options);
        b.qp.connect(ea, options);
    }

    static void connect(Side a, Side b) throws RdmaException {
        connect(a, b, ConnectOptions.defaults());
    }
}
