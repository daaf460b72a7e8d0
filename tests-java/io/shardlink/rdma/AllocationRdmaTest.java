package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaTestSupport.Side;

/**
 * The steady-state data path allocates nothing: post a receive, post a SEND, poll both
 * completions, 10,000 times, and the thread's allocated-bytes counter barely moves (VM).
 */
@Tag("rdma")
class AllocationRdmaTest {
    static final int WARMUP = 2_000;
    static final int CYCLES = 10_000;
    /** Fixed slack for the whole loop (not per operation): the measuring calls themselves. */
    static final long SLACK_BYTES = 1024;

    @BeforeEach
    void rdma() {
        RdmaTestSupport.requireRdma(RdmaTestSupport.loopbackDevice());
    }

    private Side a;
    private Side b;
    private MemoryRegion src;
    private MemoryRegion dst;
    private final WorkRequestBatch send = new WorkRequestBatch(1);
    private final WorkRequestBatch recv = new WorkRequestBatch(1);
    private final CompletionBatch wc = new CompletionBatch(4);
    static volatile byte[] sink;

    /** One post/poll cycle; returns a failure code (0 = ok) instead of allocating a message. */
    private int cycle(long i) throws RdmaException {
        recv.clear();
        recv.add().recv(i, dst, 0, 64);
        b.qp.postRecv(recv);
        send.clear();
        send.add().send(i, src, 0, 64);
        a.qp.post(send);
        if (await(a.cq) != 0 || wc.wrId(0) != i || wc.opcode(0) != Opcode.SEND) {
            return 1;
        }
        if (await(b.cq) != 0 || wc.wrId(0) != i || wc.byteLen(0) != 64) {
            return 2;
        }
        return 0;
    }

    private int await(CompletionQueue cq) throws RdmaException {
        for (int tries = 0; tries < 20; tries++) {
            if (cq.pollWait(wc, 1000) > 0) {
                return wc.count() == 1 && wc.isOk(0) ? 0 : 1;
            }
        }
        return 1;
    }

    @Test
    void postingAndPollingAllocateNothing() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        try (Side sa = new Side(dev); Side sb = new Side(dev)) {
            a = sa;
            b = sb;
            src = a.register(4096, Access.LOCAL_WRITE.bit());
            dst = b.register(4096, Access.LOCAL_WRITE.bit());
            RdmaTestSupport.connect(a, b);

            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().getId();
            threads.getThreadAllocatedBytes(tid); // initialise the measurement path

            for (int i = 0; i < WARMUP; i++) {
                assertThat(cycle(i)).as("warm-up cycle %d (%s)", i, wc.count() > 0 ? wc.describe(0) : "-")
                        .isZero();
            }
            long before = threads.getThreadAllocatedBytes(tid);
            int failure = 0;
            long failedAt = -1;
            for (int i = 0; i < CYCLES && failure == 0; i++) {
                failure = cycle(WARMUP + i);
                if (failure != 0) {
                    failedAt = i;
                }
            }
            long after = threads.getThreadAllocatedBytes(tid);
            assertThat(failure).as("cycle %d failed", failedAt).isZero();
            long allocated = after - before;
            System.out.println("AllocationRdmaTest: " + CYCLES + " post/poll cycles allocated " + allocated + " bytes");
            assertThat(allocated).as("bytes allocated by %d post/poll cycles", CYCLES).isLessThan(SLACK_BYTES);

            // control: the counter does see allocations on this thread (the check above is not vacuous)
            long c0 = threads.getThreadAllocatedBytes(tid);
            sink = new byte[64 * 1024];
            long c1 = threads.getThreadAllocatedBytes(tid);
            assertThat(c1 - c0).as("a 64 KiB array is counted").isGreaterThanOrEqualTo(64 * 1024);
        }
    }
}
