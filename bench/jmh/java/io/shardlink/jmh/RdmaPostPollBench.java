package io.shardlink.jmh;

import io.shardlink.rdma.Access;
import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.CompletionQueue;
import io.shardlink.rdma.ConnectOptions;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.ProtectionDomain;
import io.shardlink.rdma.QueuePair;
import io.shardlink.rdma.QueuePairOptions;
import io.shardlink.rdma.Rdma;
import io.shardlink.rdma.RdmaAvailability;
import io.shardlink.rdma.RdmaDevice;
import io.shardlink.rdma.RdmaException;
import io.shardlink.rdma.WorkRequestBatch;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One data-path operation through JNI on a real device (the rxe VM: rxe0, loopback): post a RECV on one queue
 * pair, post a SEND of {@code size} bytes on the other, and busy-poll both completion queues until each has its
 * completion. Measures the JNI + verbs + (soft) device cost of one message; with -prof gc the allocation rate
 * should be ~0 B/op (requests and completions go through reused direct buffers). Device: $SHARDLINK_RXE_LOOPBACK
 * (default rxe0).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m"})
public class RdmaPostPollBench {
    @Param({"4096"})
    public int size;

    private RdmaDevice devA;
    private RdmaDevice devB;
    private ProtectionDomain pdA;
    private ProtectionDomain pdB;
    private CompletionQueue cqA;
    private CompletionQueue cqB;
    private QueuePair qpA;
    private QueuePair qpB;
    private MemoryRegion src;
    private MemoryRegion dst;
    private final WorkRequestBatch send = new WorkRequestBatch(1);
    private final WorkRequestBatch recv = new WorkRequestBatch(1);
    private final CompletionBatch wc = new CompletionBatch(4);
    private long id;

    @Setup(Level.Trial)
    public void setup() throws RdmaException {
        String dev = System.getenv().getOrDefault("SHARDLINK_RXE_LOOPBACK", "rxe0");
        RdmaAvailability a = Rdma.availability(dev, 1);
        if (!a.available()) {
            throw new IllegalStateException("RdmaPostPollBench needs an RDMA device (" + dev + "): " + a.reason());
        }
        QueuePairOptions o = QueuePairOptions.defaults().withDepth(16);
        devA = RdmaDevice.open(dev, 1);
        devB = RdmaDevice.open(dev, 1);
        pdA = ProtectionDomain.create(devA);
        pdB = ProtectionDomain.create(devB);
        cqA = CompletionQueue.create(devA, 32);
        cqB = CompletionQueue.create(devB, 32);
        qpA = QueuePair.create(pdA, cqA, cqA, o);
        qpB = QueuePair.create(pdB, cqB, cqB, o);
        src = MemoryRegion.register(pdA, ByteBuffer.allocateDirect(size), Access.LOCAL_WRITE.bit());
        dst = MemoryRegion.register(pdB, ByteBuffer.allocateDirect(size), Access.LOCAL_WRITE.bit());
        byte[] ea = qpA.localEndpoint();
        byte[] eb = qpB.localEndpoint();
        qpA.connect(eb, ConnectOptions.defaults());
        qpB.connect(ea, ConnectOptions.defaults());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        qpA.close();
        qpB.close();
        src.close();
        dst.close();
        cqA.close();
        cqB.close();
        pdA.close();
        pdB.close();
        devA.close();
        devB.close();
    }

    @Benchmark
    public long sendRecvPostPoll() throws RdmaException {
        long i = id++;
        recv.clear();
        recv.add().recv(i, dst, 0, size);
        qpB.postRecv(recv);
        send.clear();
        send.add().send(i, src, 0, size);
        qpA.post(send);
        await(cqA);
        await(cqB);
        return i;
    }

    private void await(CompletionQueue cq) throws RdmaException {
        while (true) {
            int n = cq.poll(wc);
            if (n > 0) {
                if (!wc.isOk(0)) {
                    throw new IllegalStateException("completion failed: " + wc.describe(0));
                }
                return;
            }
        }
    }
}
