package io.shardlink.rdma;

import static io.shardlink.rdma.RdmaTestSupport.awaitCompletions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaTestSupport.Side;

/** Failures on real devices stay failures of one QP, never of the JVM (VM). */
@Tag("rdma")
class ErrorPathRdmaTest {

    @BeforeEach
    void rdma() {
        RdmaTestSupport.requireRdma(RdmaTestSupport.loopbackDevice());
    }

    @Test
    void readWithWrongRkeyFailsTheQpNotTheJvm() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        try (Side a = new Side(dev); Side b = new Side(dev)) {
            MemoryRegion local = a.register(4096, Access.LOCAL_WRITE.bit());
            MemoryRegion remote = b.register(4096, Access.LOCAL_WRITE.bit() | Access.REMOTE_READ.bit());
            RdmaTestSupport.connect(a, b);

            WorkRequestBatch wr = new WorkRequestBatch(2);
            wr.add().read(9, local, 0, 4096, remote.address(), remote.rkey() ^ 0x5a5a00);
            a.qp.post(wr);
            CompletionBatch wc = new CompletionBatch(4);
            awaitCompletions(a.cq, wc);
            assertThat(wc.wrId(0)).isEqualTo(9);
            assertThat(wc.isOk(0)).as("a READ with a wrong rkey must fail").isFalse();
            assertThat(wc.status(0)).as(wc.describe(0)).isNotEqualTo(CompletionBatch.STATUS_FLUSH_ERROR);
            assertThat(wc.statusText(0)).isNotBlank();
            assertThat(a.qp.state()).isEqualTo(QpState.ERR);
            assertThat(a.qp.outstandingSends()).isZero();

            // posting on the failed QP is refused cleanly
            wr.clear();
            wr.add().read(10, local, 0, 64, remote.address(), remote.rkey());
            assertThatThrownBy(() -> a.qp.post(wr)).isInstanceOfSatisfying(RdmaException.class,
                    e -> assertThat(e.status()).isEqualTo(RdmaException.ESTATE));
        }
        // and the JVM carries on: a fresh pair moves data
        try (Side a = new Side(dev); Side b = new Side(dev)) {
            MemoryRegion local = a.register(4096, Access.LOCAL_WRITE.bit());
            MemoryRegion remote = b.register(4096, Access.LOCAL_WRITE.bit() | Access.REMOTE_READ.bit());
            RdmaTestSupport.fill(remote.buffer(), 0, 4096, 3);
            RdmaTestSupport.connect(a, b);
            WorkRequestBatch wr = new WorkRequestBatch(1);
            wr.add().read(11, local, 0, 4096, remote.address(), remote.rkey());
            a.qp.post(wr);
            CompletionBatch wc = new CompletionBatch(4);
            awaitCompletions(a.cq, wc);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(RdmaTestSupport.firstMismatch(local.buffer(), 0, 4096, 3)).isEqualTo(-1);
        }
    }

    @Test
    void setErrorFlushesOutstandingReceives() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        try (Side a = new Side(dev); Side b = new Side(dev)) {
            MemoryRegion mr = b.register(4096, Access.LOCAL_WRITE.bit());
            RdmaTestSupport.connect(a, b);
            WorkRequestBatch recv = new WorkRequestBatch(2);
            recv.add().recv(1, mr, 0, 2048);
            recv.add().recv(2, mr, 2048, 2048);
            b.qp.postRecv(recv);
            b.qp.setError();
            assertThat(b.qp.state()).isEqualTo(QpState.ERR);
            CompletionBatch wc = new CompletionBatch(4);
            int seen = 0;
            while (seen < 2) {
                int n = awaitCompletions(b.cq, wc);
                for (int i = 0; i < n; i++) {
                    assertThat(wc.status(i)).as(wc.describe(i)).isEqualTo(CompletionBatch.STATUS_FLUSH_ERROR);
                }
                seen += n;
            }
            assertThat(b.qp.outstandingRecvs()).isZero();
        }
    }

    @Test
    void useAfterCloseIsIllegalStateForEveryClass() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        Side a = new Side(dev);
        MemoryRegion mr = a.register(4096, Access.LOCAL_WRITE.bit());
        WorkRequestBatch wr = new WorkRequestBatch(1);
        CompletionBatch wc = new CompletionBatch(1);

        assertThatThrownBy(a.pd::close).as("PD with a QP and an MR").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("still in use");
        assertThatThrownBy(a.cq::close).as("CQ used by a QP").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("still in use");
        a.close();
        a.close(); // idempotent through every object

        wr.clear();
        assertThatThrownBy(() -> wr.add().send(1, mr, 0, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessage("MemoryRegion closed");
        wr.clear();
        assertThatThrownBy(() -> a.qp.post(oneEmptySend(wr))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> a.qp.state()).isInstanceOf(IllegalStateException.class).hasMessage("QueuePair closed");
        assertThatThrownBy(() -> a.qp.localEndpoint()).isInstanceOf(IllegalStateException.class)
                .hasMessage("QueuePair closed");
        assertThatThrownBy(() -> a.qp.setError()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> a.cq.poll(wc)).isInstanceOf(IllegalStateException.class)
                .hasMessage("CompletionQueue closed");
        assertThatThrownBy(() -> a.cq.pollWait(wc, 10)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> a.cq.arm()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> MemoryRegion.register(a.pd, java.nio.ByteBuffer.allocateDirect(64), Access.ALL))
                .isInstanceOf(IllegalStateException.class).hasMessage("ProtectionDomain closed");
        assertThatThrownBy(() -> a.device.limits()).isInstanceOf(IllegalStateException.class)
                .hasMessage("RdmaDevice closed");
    }

    private static WorkRequestBatch oneEmptySend(WorkRequestBatch wr) {
        wr.clear();
        wr.add().send(1, null, 0, 0);
        return wr;
    }

    @Test
    void closingWhileAnotherThreadPollsAndPosts() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        for (int round = 0; round < 3; round++) {
            Side a = new Side(dev);
            Side b = new Side(dev);
            MemoryRegion src = a.register(4096, Access.LOCAL_WRITE.bit());
            MemoryRegion dst = b.register(4096, Access.LOCAL_WRITE.bit() | Access.REMOTE_WRITE.bit());
            RdmaTestSupport.connect(a, b);

            AtomicReference<Throwable> posterEnd = new AtomicReference<>();
            AtomicReference<Throwable> pollerEnd = new AtomicReference<>();
            AtomicLong posted = new AtomicLong();
            CountDownLatch running = new CountDownLatch(2);
            Thread poster = new Thread(() -> {
                WorkRequestBatch wr = new WorkRequestBatch(4);
                CompletionBatch wc = new CompletionBatch(16);
                running.countDown();
                try {
                    for (;;) {
                        wr.clear();
                        wr.add().write(posted.get(), src, 0, 512, dst.address(), dst.rkey());
                        try {
                            a.qp.post(wr);
                            posted.incrementAndGet();
                        } catch (RdmaException e) {
                            if (e.status() != RdmaException.EFULL) {
                                throw e;
                            }
                        }
                        a.cq.poll(wc);
                    }
                } catch (Throwable t) {
                    posterEnd.set(t);
                }
            }, "poster");
            Thread poller = new Thread(() -> {
                CompletionBatch wc = new CompletionBatch(16);
                running.countDown();
                try {
                    for (;;) {
                        b.cq.pollWait(wc, -1); // nothing arrives here: it waits until closed
                    }
                } catch (Throwable t) {
                    pollerEnd.set(t);
                }
            }, "poller");
            poster.start();
            poller.start();
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (posted.get() < 20 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertThat(posted.get()).as("writes posted before the close").isGreaterThanOrEqualTo(20);

            a.qp.close();   // while the poster posts
            b.qp.close();
            b.cq.close();   // while the poller waits without limit
            a.cq.close();   // while the poster polls
            poster.join(30_000);
            poller.join(30_000);
            assertThat(poster.isAlive()).isFalse();
            assertThat(poller.isAlive()).isFalse();
            assertThat(posterEnd.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageMatching("(QueuePair|CompletionQueue) closed");
            assertThat(pollerEnd.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessage("CompletionQueue closed");
            a.close();
            b.close();
        }
    }
}
