package io.shardlink.rdma;

import static io.shardlink.rdma.RdmaTestSupport.awaitCompletions;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaTestSupport.Side;

/** RDMA WRITE WITH IMMEDIATE from rxea to rxeb: the bytes really cross the veth pair (VM). */
@Tag("rdma")
class VethWriteImmRdmaTest {

    @BeforeEach
    void rdma() {
        RdmaTestSupport.requireRdma(RdmaTestSupport.deviceA());
        RdmaTestSupport.requireRdma(RdmaTestSupport.deviceB());
    }

    @Test
    void writeImmBetweenTwoDevices() throws Exception {
        int size = 256 * 1024;
        int imm = 0xC0FFEE42;
        try (Side a = new Side(RdmaTestSupport.deviceA()); Side b = new Side(RdmaTestSupport.deviceB())) {
            assertThat(a.device.name()).isEqualTo(RdmaTestSupport.deviceA());
            assertThat(b.device.name()).isEqualTo(RdmaTestSupport.deviceB());
            MemoryRegion src = a.register(size, Access.LOCAL_WRITE.bit());
            MemoryRegion dst = b.register(size + 4096,
                    Access.LOCAL_WRITE.bit() | Access.REMOTE_WRITE.bit());
            RdmaTestSupport.fill(src.buffer(), 0, size, 42);
            RdmaTestSupport.connect(a, b);

            // the immediate consumes a receive at b (no payload lands in it)
            WorkRequestBatch recv = new WorkRequestBatch(1);
            recv.add().recv(77, null, 0, 0);
            b.qp.postRecv(recv);

            WorkRequestBatch wr = new WorkRequestBatch(1);
            wr.add().writeImm(5, src, 0, size, dst.address() + 4096, dst.rkey(), imm);
            assertThat(a.qp.post(wr)).isEqualTo(1);

            CompletionBatch wc = new CompletionBatch(4);
            awaitCompletions(a.cq, wc);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(wc.wrId(0)).isEqualTo(5);
            assertThat(wc.opcode(0)).isEqualTo(Opcode.WRITE_IMM);

            awaitCompletions(b.cq, wc);
            assertThat(wc.isOk(0)).as(wc.describe(0)).isTrue();
            assertThat(wc.wrId(0)).isEqualTo(77);
            assertThat(wc.opcode(0)).isEqualTo(Opcode.RECV_IMM);
            assertThat(wc.hasImm(0)).isTrue();
            assertThat(wc.imm(0)).isEqualTo(imm);
            assertThat(wc.byteLen(0)).isEqualTo(size);
            assertThat(RdmaTestSupport.firstMismatch(dst.buffer(), 4096, size, 42)).isEqualTo(-1);
            for (int i = 0; i < 4096; i++) {
                assertThat(dst.buffer().get(i)).as("byte %d before the target range", i).isZero();
            }
        }
    }
}
