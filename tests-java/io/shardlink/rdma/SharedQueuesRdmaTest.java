package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaTestSupport.Side;

/**
 * The JNI wrappers for many peers per poller, on rxe0 (VM): QPs sharing one SRQ and one CQ with
 * completions routed by tag (bytes verified, counted per QP), CQ overflow refused, inline sends,
 * unsignaled sends, wake and adaptive polling, destroy order.
 */
@Tag("rdma")
class SharedQueuesRdmaTest {
    private static final int QPS = 4;
    private static final int MSGS = 20;
    private static final int MSG = 512;
    private static final int SRQ_DEPTH = 16;
    private static final long SERVER_TAG = 0x5e0_0000L;
    private static final long CLIENT_TAG = 0xc10_0000L;

    @BeforeEach
    void rdma() {
        RdmaTestSupport.requireRdma(RdmaTestSupport.loopbackDevice());
    }

    @Test
    void queuePairsShareOneReceiveQueueAndOneCompletionQueue() throws Exception {
        try (RdmaDevice dev = RdmaDevice.open(RdmaTestSupport.loopbackDevice(), 1)) {
            assertThat(dev.limits().hasSharedReceiveQueues()).isTrue();
            ProtectionDomain spd = ProtectionDomain.create(dev);
            ProtectionDomain cpd = ProtectionDomain.create(dev);
            QueuePairOptions opts = QueuePairOptions.defaults().withSendDepth(4).withRecvDepth(1);
            CompletionQueue scq = CompletionQueue.create(dev, QPS * 4 + SRQ_DEPTH);
            CompletionQueue ccq = CompletionQueue.create(dev, QPS * 5);
            SharedReceiveQueue srq = SharedReceiveQueue.create(spd, SRQ_DEPTH, 1);
            QueuePair[] server = new QueuePair[QPS];
            QueuePair[] client = new QueuePair[QPS];
            for (int i = 0; i < QPS; i++) {
                server[i] = QueuePair.create(spd, scq, scq, srq, opts, SERVER_TAG + i);
                client[i] = QueuePair.create(cpd, ccq, ccq, null, opts, CLIENT_TAG + i);
                assertThat(server[i].srq()).isSameAs(srq);
                assertThat(server[i].tag()).isEqualTo(SERVER_TAG + i);
                byte[] es = server[i].localEndpoint();
                byte[] ec = client[i].localEndpoint();
                server[i].connect(ec);
                client[i].connect(es);
            }
            // both CQs are now exactly full of reservations
            assertThatThrownBy(() -> QueuePair.create(spd, scq, scq, srq, opts.withSendDepth(1), 9))
                    .isInstanceOfSatisfying(RdmaException.class, e -> {
                        assertThat(e.status()).isEqualTo(RdmaException.ERANGE);
                        assertThat(e.getMessage()).contains("would overflow");
                    });
            assertThatThrownBy(() -> server[0].postRecv(new WorkRequestBatch(1)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("SharedReceiveQueue");

            MemoryRegion slots = MemoryRegion.register(spd, java.nio.ByteBuffer.allocateDirect(SRQ_DEPTH * MSG),
                    Access.LOCAL_WRITE.bit());
            MemoryRegion src = MemoryRegion.register(cpd, java.nio.ByteBuffer.allocateDirect(QPS * MSG), 0);
            WorkRequestBatch recvs = new WorkRequestBatch(SRQ_DEPTH);
            for (int s = 0; s < SRQ_DEPTH; s++) {
                recvs.add().recv(s, slots, (long) s * MSG, MSG);
            }
            assertThat(srq.postRecv(recvs)).isEqualTo(SRQ_DEPTH);
            assertThat(srq.outstanding()).isEqualTo(SRQ_DEPTH);
            assertThatThrownBy(() -> srq.postRecv(recvs)).isInstanceOfSatisfying(RdmaException.class,
                    e -> assertThat(e.status()).isEqualTo(RdmaException.EFULL));

            int[] got = new int[QPS];
            int[] sent = new int[QPS];
            int total = 0;
            CompletionBatch wc = new CompletionBatch(32);
            WorkRequestBatch send = new WorkRequestBatch(1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (total < QPS * MSGS) {
                assertThat(System.nanoTime()).as("all messages within 120 s; got %d", total).isLessThan(deadline);
                for (int q = 0; q < QPS; q++) {
                    // one in flight per QP: the source slot q is free again once the send completed
                    if (sent[q] < MSGS && sent[q] == got[q] && client[q].outstandingSends() == 0) {
                        RdmaTestSupport.fill(src.buffer(), q * MSG, MSG, seed(q, sent[q]));
                        send.clear().add().sendImm(sent[q], src, (long) q * MSG, MSG, q << 16 | sent[q]);
                        client[q].post(send);
                        sent[q]++;
                    }
                }
                int cn = ccq.poll(wc);
                for (int k = 0; k < cn; k++) {
                    int q = (int) (wc.qpTag(k) - CLIENT_TAG);
                    assertThat(wc.isOk(k)).as(wc.describe(k)).isTrue();
                    assertThat(q).isBetween(0, QPS - 1);
                    assertThat(wc.qpNum(k)).isEqualTo(client[q].qpNum());
                    assertThat(wc.srcQp(k)).isEqualTo(server[q].qpNum());
                }
                int n = scq.pollAdaptive(wc, 200, 10);
                recvs.clear();
                for (int k = 0; k < n; k++) {
                    assertThat(wc.isOk(k)).as(wc.describe(k)).isTrue();
                    int q = (int) (wc.qpTag(k) - SERVER_TAG);
                    assertThat(q).as(wc.describe(k)).isBetween(0, QPS - 1);
                    assertThat(wc.isSrq(k)).isTrue();
                    assertThat(wc.qpNum(k)).isEqualTo(server[q].qpNum());
                    assertThat(wc.srcQp(k)).isEqualTo(client[q].qpNum());
                    assertThat(wc.imm(k) >>> 16).isEqualTo(q);
                    assertThat(wc.imm(k) & 0xffff).as("in order on QP %d", q).isEqualTo(got[q]);
                    assertThat(wc.byteLen(k)).isEqualTo(MSG);
                    int slot = (int) wc.wrId(k);
                    assertThat(RdmaTestSupport.firstMismatch(slots.buffer(), slot * MSG, MSG, seed(q, got[q])))
                            .as("QP %d message %d", q, got[q]).isEqualTo(-1);
                    got[q]++;
                    recvs.add().recv(slot, slots, (long) slot * MSG, MSG);
                }
                total += n;
                srq.postRecv(recvs);
            }
            for (int q = 0; q < QPS; q++) {
                assertThat(got[q]).isEqualTo(MSGS);
            }
            assertThat(srq.outstanding()).isEqualTo(SRQ_DEPTH);

            // destroy order: the SRQ while QPs use it, the CQ while the SRQ holds room on it
            assertThatThrownBy(srq::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("in use");
            for (int q = 0; q < QPS; q++) {
                client[q].close();
                server[q].close();
            }
            ccq.poll(wc);
            scq.poll(wc);
            assertThatThrownBy(scq::close).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(spd::close).isInstanceOf(IllegalStateException.class);
            srq.close();
            slots.close();
            src.close();
            scq.close();
            ccq.close();
            spd.close();
            cpd.close();
        }
    }

    private static long seed(int q, int seq) {
        return q * 1000L + seq + 1;
    }

    @Test
    void inlineAndUnsignaledSends() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        QueuePairOptions opts = QueuePairOptions.defaults().withDepth(64).withMaxInline(128).withSignalEvery(16);
        try (Side a = new Side(dev, opts); Side b = new Side(dev, opts)) {
            RdmaTestSupport.connect(a, b);
            assertThat(a.qp.maxInline()).isGreaterThanOrEqualTo(128);
            assertThat(a.qp.signalEvery()).isEqualTo(16);
            MemoryRegion src = a.register(4096, 0);
            MemoryRegion dst = b.register(64 * 128, Access.LOCAL_WRITE.bit());
            WorkRequestBatch recvs = new WorkRequestBatch(64);
            for (int i = 0; i < 64; i++) {
                recvs.add().recv(i, dst, i * 128L, 128);
            }
            b.qp.postRecv(recvs);
            CompletionBatch wc = new CompletionBatch(64);

            // inline: the source is overwritten as soon as post returns; the receiver has the original
            RdmaTestSupport.fill(src.buffer(), 0, 100, 77);
            WorkRequestBatch send = new WorkRequestBatch(64);
            send.add().send(1, src, 0, 100).inline();
            a.qp.post(send);
            for (int i = 0; i < 100; i++) {
                src.buffer().put(i, (byte) 0xee);
            }
            assertThat(RdmaTestSupport.awaitCompletions(a.cq, wc)).isEqualTo(1);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(RdmaTestSupport.awaitCompletions(b.cq, wc)).isEqualTo(1);
            assertThat(wc.byteLen(0)).isEqualTo(100);
            assertThat(RdmaTestSupport.firstMismatch(dst.buffer(), 0, 100, 77)).isEqualTo(-1);
            int tooBig = a.qp.maxInline() + 1;
            send.clear().add().send(2, src, 0, tooBig).inline();
            assertThatThrownBy(() -> a.qp.post(send)).isInstanceOfSatisfying(RdmaException.class, e -> {
                assertThat(e.status()).isEqualTo(RdmaException.ERANGE);
                assertThat(e.getMessage()).contains("granted");
            });
            assertThat(a.qp.outstandingSends()).isZero();

            // 63 unsignaled sends and one signaled: one send completion retires all 64
            send.clear();
            for (int i = 0; i < 64; i++) {
                WorkRequestBatch.Slot s = send.add().sendImm(100 + i, src, 0, 8, i);
                if (i < 63) {
                    s.unsignaled();
                }
            }
            recvs.clear().add().recv(0, dst, 0, 128); // back to 64 posted
            assertThat(b.qp.postRecv(recvs)).isEqualTo(1);
            assertThat(a.qp.post(send)).isEqualTo(64);
            int received = 0;
            int sendCompletions = 0;
            long lastId = -1;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((received < 64 || a.qp.outstandingSends() > 0) && System.nanoTime() < deadline) {
                int n = a.cq.poll(wc);
                for (int k = 0; k < n; k++) {
                    assertThat(wc.isOk(k)).as(wc.describe(k)).isTrue();
                    sendCompletions++;
                    lastId = wc.wrId(k);
                }
                n = b.cq.pollWait(wc, 10);
                for (int k = 0; k < n; k++) {
                    assertThat(wc.isOk(k)).as(wc.describe(k)).isTrue();
                    assertThat(wc.imm(k)).isEqualTo(received + k);
                }
                received += n;
            }
            // the shim signaled every 16th of the run itself (15, 31, 47), the caller the 64th
            assertThat(received).isEqualTo(64);
            assertThat(sendCompletions).isEqualTo(4);
            assertThat(lastId).isEqualTo(163);
            assertThat(a.qp.outstandingSends()).isZero();
        }
    }

    @Test
    void wakeEndsAWaitAndCloseEndsAPoller() throws Exception {
        try (Side a = new Side(RdmaTestSupport.loopbackDevice())) {
            CompletionBatch wc = new CompletionBatch(4);
            a.cq.wake(); // pending wakes are not lost
            assertThat(a.cq.pollWait(wc, -1)).isZero();
            assertThat(a.cq.pollAdaptive(wc, 1000, 50)).isZero(); // idle: spins, sleeps, times out

            AtomicInteger returned = new AtomicInteger(-1);
            AtomicReference<Throwable> end = new AtomicReference<>();
            Thread poller = new Thread(() -> {
                try {
                    returned.set(a.cq.pollAdaptive(new CompletionBatch(4), 500, -1));
                    for (;;) {
                        a.cq.pollAdaptive(wc, 500, -1);
                    }
                } catch (Throwable t) {
                    end.set(t);
                }
            }, "poller");
            poller.start();
            Thread.sleep(200);
            a.cq.wake();
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (returned.get() < 0 && System.nanoTime() < waitUntil) {
                Thread.sleep(5);
            }
            assertThat(returned.get()).as("woken poller returned 0").isZero();
            a.qp.close();
            a.cq.close(); // while the poller waits without limit
            poller.join(30_000);
            assertThat(poller.isAlive()).isFalse();
            assertThat(end.get()).isInstanceOf(IllegalStateException.class).hasMessage("CompletionQueue closed");
        }
    }
}
