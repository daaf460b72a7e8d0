package io.shardlink.rdma;

import static io.shardlink.rdma.RdmaTestSupport.awaitCompletions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaTestSupport.Side;

/** Two QPs on the loopback rxe device (rxe0) talking to each other through the Java API (VM). */
@Tag("rdma")
class LoopbackRdmaTest {

    @BeforeEach
    void rdma() {
        RdmaTestSupport.requireRdma(RdmaTestSupport.loopbackDevice());
    }

    @Test
    void sendRecvByteForByte() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        try (Side a = new Side(dev); Side b = new Side(dev)) {
            assertThat(a.qp.state()).isEqualTo(QpState.INIT);
            byte[] endpoint = a.qp.localEndpoint();
            assertThat(endpoint).hasSize(40);
            assertThat(new String(endpoint, 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("SLEP");

            int size = 4096;
            MemoryRegion src = a.register(size, Access.LOCAL_WRITE.bit());
            MemoryRegion dst = b.register(size, Access.LOCAL_WRITE.bit());
            RdmaTestSupport.fill(src.buffer(), 0, size, 1);

            // a receive may be posted in INIT, before connecting
            WorkRequestBatch recv = new WorkRequestBatch(4);
            recv.add().recv(100, dst, 0, size);
            assertThat(b.qp.postRecv(recv)).isEqualTo(1);
            assertThat(b.qp.outstandingRecvs()).isEqualTo(1);

            RdmaTestSupport.connect(a, b);
            assertThat(a.qp.state()).isEqualTo(QpState.RTS);
            assertThat(b.qp.state()).isEqualTo(QpState.RTS);

            WorkRequestBatch send = new WorkRequestBatch(4);
            send.add().send(200, src, 0, size);
            assertThat(a.qp.post(send)).isEqualTo(1);

            CompletionBatch wc = new CompletionBatch(8);
            assertThat(awaitCompletions(a.cq, wc)).isEqualTo(1);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(wc.wrId(0)).isEqualTo(200);
            assertThat(wc.opcode(0)).isEqualTo(Opcode.SEND);
            assertThat(wc.qpNum(0)).isEqualTo(a.qp.qpNum());

            assertThat(awaitCompletions(b.cq, wc)).isEqualTo(1);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(wc.wrId(0)).isEqualTo(100);
            assertThat(wc.opcode(0)).isEqualTo(Opcode.RECV);
            assertThat(wc.byteLen(0)).isEqualTo(size);
            assertThat(wc.hasImm(0)).isFalse();
            assertThat(wc.qpNum(0)).isEqualTo(b.qp.qpNum());
            assertThat(RdmaTestSupport.firstMismatch(dst.buffer(), 0, size, 1)).isEqualTo(-1);
            assertThat(a.qp.outstandingSends()).isZero();
            assertThat(b.qp.outstanding()).isEqualTo(new QueuePair.Outstanding(0, 0));
        }
    }

    @Test
    void gatherFromSeveralRegionsAndSendWithImmediate() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        try (Side a = new Side(dev); Side b = new Side(dev)) {
            MemoryRegion head = a.register(256, Access.LOCAL_WRITE.bit());
            MemoryRegion body = a.register(8192, Access.LOCAL_WRITE.bit());
            MemoryRegion dst = b.register(16384, Access.LOCAL_WRITE.bit());
            RdmaTestSupport.fill(head.buffer(), 0, 256, 7);
            RdmaTestSupport.fill(body.buffer(), 0, 8192, 8);
            RdmaTestSupport.connect(a, b);

            WorkRequestBatch recv = new WorkRequestBatch(2);
            recv.add().recv(1, dst, 0, 4096).sge(dst, 4096, 12288); // scatter into two pieces
            b.qp.postRecv(recv);

            WorkRequestBatch send = new WorkRequestBatch(2);
            // head[0..100) + body[1000..5000) + head[100..256)
            send.add().sendImm(2, head, 0, 100, 0x5eed).sge(body, 1000, 4000).sge(head, 100, 156);
            a.qp.post(send);

            CompletionBatch wc = new CompletionBatch(4);
            awaitCompletions(a.cq, wc);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(wc.opcode(0)).isEqualTo(Opcode.SEND_IMM);
            awaitCompletions(b.cq, wc);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(wc.byteLen(0)).isEqualTo(4256);
            assertThat(wc.hasImm(0)).isTrue();
            assertThat(wc.imm(0)).isEqualTo(0x5eed);

            ByteBuffer expected = ByteBuffer.allocate(4256);
            expected.put(head.buffer().duplicate().position(0).limit(100));
            expected.put(body.buffer().duplicate().position(1000).limit(5000));
            expected.put(head.buffer().duplicate().position(100).limit(256));
            expected.flip();
            ByteBuffer got = dst.buffer().duplicate().position(0).limit(4256);
            assertThat(got.mismatch(expected)).isEqualTo(-1);
        }
    }

    @Test
    void badRequestsAreRejectedBeforeAnythingIsPosted() throws Exception {
        String dev = RdmaTestSupport.loopbackDevice();
        try (Side a = new Side(dev); Side b = new Side(dev)) {
            MemoryRegion mr = a.register(4096, Access.LOCAL_WRITE.bit());
            WorkRequestBatch send = new WorkRequestBatch(2);
            send.add().send(1, mr, 0, 64);
            assertThatThrownBy(() -> a.qp.post(send)).as("send before connect")
                    .isInstanceOfSatisfying(RdmaException.class,
                            e -> assertThat(e.status()).isEqualTo(RdmaException.ESTATE));
            RdmaTestSupport.connect(a, b);
            send.clear();
            send.add().send(1, mr, 0, 64);
            send.add().send(2, mr, 4000, 200); // past the region's end
            assertThatThrownBy(() -> a.qp.post(send)).isInstanceOfSatisfying(RdmaException.class,
                    e -> assertThat(e.status()).isEqualTo(RdmaException.ERANGE));
            assertThat(a.qp.outstandingSends()).as("validated before any is posted").isZero();

            byte[] garbage = new byte[40];
            assertThatThrownBy(() -> b.qp.connect(garbage)).isInstanceOf(RdmaException.class);
            assertThatThrownBy(() -> b.qp.connect(new byte[12])).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
