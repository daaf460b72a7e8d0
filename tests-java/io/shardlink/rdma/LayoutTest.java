package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

/**
 * The structs Java fills and reads in direct buffers have the layout of include/shardlink.h:
 * checked against the compiled library (sizeof/offsetof from jni_library.c) and byte by byte.
 */
class LayoutTest {

    /** A MemoryRegion object over a plain buffer with a made-up handle; never registered, never closed. */
    static MemoryRegion fakeRegion(long handle, int length) {
        ByteBuffer buf = ByteBuffer.allocateDirect(length);
        return new MemoryRegion(handle, null, buf, new long[] {0x7000_0000L, length, 0x11, 0x22, Access.ALL});
    }

    @Test
    void nativeLayoutMatchesJava() throws RdmaException {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        int[] nativeLayout = NativeLibrary.layout();
        assertThat(Layout.compare(nativeLayout)).isNull();
        assertThat(nativeLayout).containsExactly(Layout.EXPECTED);
    }

    @Test
    void javaLayoutIsTheDocumentedOne() {
        // the numbers written in include/shardlink.h
        assertThat(Layout.WR_SIZE).isEqualTo(136);
        assertThat(Layout.SGE_SIZE).isEqualTo(24);
        assertThat(Layout.WC_SIZE).isEqualTo(48);
        assertThat(Layout.WC_QP_TAG + 8).isEqualTo(Layout.WC_SIZE);
        assertThat(Layout.WR_SGE + Layout.WR_MAX_SGE * Layout.SGE_SIZE).isEqualTo(Layout.WR_SIZE);
        assertThat(Layout.NAMES).hasSameSizeAs(Layout.EXPECTED);
        int[] broken = Layout.EXPECTED.clone();
        broken[0] = 128;
        assertThat(Layout.compare(broken)).contains("sizeof(sl_wr): native 128, Java 136");
    }

    @Test
    void workRequestsLandAtTheDocumentedOffsets() {
        MemoryRegion a = fakeRegion(0x0a0a_0000_0000_0001L, 4096);
        MemoryRegion b = fakeRegion(0x0b0b_0000_0000_0002L, 4096);
        WorkRequestBatch batch = new WorkRequestBatch(4);
        batch.add().writeImm(0x1122334455667788L, a, 16, 1000, 0x7fff_0000_1000L, 0xabcdef01, 0xdeadbeef)
                .sge(b, 32, 24).solicited();
        batch.add().recv(7, b, 0, 4096);
        batch.add().read(8, a, 0, 64, 0x5000L, 0x42).fence();
        batch.add().sendImm(9, null, 0, 0, 77);
        assertThat(batch.count()).isEqualTo(4);
        assertThat(batch.isFull()).isTrue();

        ByteBuffer buf = batch.buffer().duplicate().order(ByteOrder.nativeOrder());
        int w = 0;
        assertThat(buf.getLong(w + 0)).isEqualTo(0x1122334455667788L);
        assertThat(buf.getInt(w + 8)).isEqualTo(Opcode.WRITE_IMM);
        assertThat(buf.getInt(w + 12)).isEqualTo(WorkRequestBatch.FLAG_SOLICITED);
        assertThat(buf.getInt(w + 16)).isEqualTo(0xdeadbeef);
        assertThat(buf.getInt(w + 20)).isEqualTo(2);
        assertThat(buf.getLong(w + 24)).isEqualTo(0x7fff_0000_1000L);
        assertThat(buf.getInt(w + 32)).isEqualTo(0xabcdef01);
        assertThat(buf.getInt(w + 36)).isZero();
        assertThat(buf.getLong(w + 40)).isEqualTo(0x0a0a_0000_0000_0001L); // sge[0].mr
        assertThat(buf.getLong(w + 48)).isEqualTo(16);                     // sge[0].offset
        assertThat(buf.getInt(w + 56)).isEqualTo(1000);                    // sge[0].length
        assertThat(buf.getInt(w + 60)).isZero();
        assertThat(buf.getLong(w + 64)).isEqualTo(0x0b0b_0000_0000_0002L); // sge[1]
        assertThat(buf.getLong(w + 72)).isEqualTo(32);
        assertThat(buf.getInt(w + 80)).isEqualTo(24);
        for (int off = 88; off < 136; off += 8) {
            assertThat(buf.getLong(w + off)).as("unused sge bytes at %d", off).isZero();
        }

        w = 136;
        assertThat(buf.getLong(w)).isEqualTo(7);
        assertThat(buf.getInt(w + 8)).isEqualTo(Opcode.RECV);
        assertThat(buf.getInt(w + 20)).isEqualTo(1);
        assertThat(buf.getLong(w + 24)).isZero();
        assertThat(buf.getLong(w + 40)).isEqualTo(0x0b0b_0000_0000_0002L);
        assertThat(buf.getInt(w + 56)).isEqualTo(4096);

        w = 2 * 136;
        assertThat(buf.getInt(w + 8)).isEqualTo(Opcode.READ);
        assertThat(buf.getInt(w + 12)).isEqualTo(WorkRequestBatch.FLAG_FENCE);
        assertThat(buf.getLong(w + 24)).isEqualTo(0x5000L);
        assertThat(buf.getInt(w + 32)).isEqualTo(0x42);

        w = 3 * 136;
        assertThat(buf.getInt(w + 8)).isEqualTo(Opcode.SEND_IMM);
        assertThat(buf.getInt(w + 16)).isEqualTo(77);
        assertThat(buf.getInt(w + 20)).isZero(); // no SGE

        assertThat(batch.opcode(1)).isEqualTo(Opcode.RECV);
        assertThat(batch.wrId(2)).isEqualTo(8);
    }

    @Test
    void reusedSlotsAreZeroedAndBoundsAreChecked() {
        MemoryRegion a = fakeRegion(0x1234L, 4096);
        WorkRequestBatch batch = new WorkRequestBatch(1);
        batch.add().write(1, a, 0, 8, 0x99, 5).sge(a, 8, 8).sge(a, 16, 8).sge(a, 24, 8).inline().unsignaled();
        assertThat(batch.buffer().getInt(Layout.WR_FLAGS))
                .isEqualTo(WorkRequestBatch.FLAG_INLINE | WorkRequestBatch.FLAG_UNSIGNALED).isEqualTo(4 | 8);
        assertThatThrownBy(() -> batch.add()).isInstanceOf(IllegalStateException.class).hasMessageContaining("full");
        batch.clear();
        assertThat(batch.isEmpty()).isTrue();
        WorkRequestBatch.Slot slot = batch.add().send(2, a, 0, 8);
        ByteBuffer buf = batch.buffer();
        assertThat(buf.getInt(Layout.WR_NUM_SGE)).isEqualTo(1);
        assertThat(buf.getInt(Layout.WR_FLAGS)).isZero();
        assertThat(buf.getLong(Layout.WR_REMOTE_ADDR)).isZero();
        assertThat(buf.getLong(Layout.WR_SGE + Layout.SGE_SIZE)).isZero();
        slot.sge(a, 8, 8).sge(a, 16, 8).sge(a, 24, 8);
        assertThatThrownBy(() -> slot.sge(a, 32, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("at most 4");
        assertThatThrownBy(() -> batch.opcode(1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new WorkRequestBatch(1).add().send(1, null, 0, 5))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WorkRequestBatch(1).add().send(1, a, -1, 5))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void completionsAreReadFromTheDocumentedOffsets() {
        CompletionBatch batch = new CompletionBatch(3);
        ByteBuffer buf = batch.buffer();
        int c = 48; // second slot
        buf.putLong(c + 0, 0xfeedfacecafebeefL);
        buf.putInt(c + 8, 10);
        buf.putInt(c + 12, Opcode.RECV_IMM);
        buf.putInt(c + 16, 65536);
        buf.putInt(c + 20, 0xc0ffee42);
        buf.putInt(c + 24, 0x00abcdef);
        buf.putInt(c + 28, 1);
        buf.putInt(c + 32, 0x99);
        buf.putInt(c + 36, 0x00123456);
        buf.putLong(c + 40, 0x7a6_0000_0042L);
        buf.putInt(2 * c + 28, Layout.WC_SRQ | Layout.WC_DEPARTED);
        batch.setCount(3);
        assertThat(batch.wrId(1)).isEqualTo(0xfeedfacecafebeefL);
        assertThat(batch.status(1)).isEqualTo(10);
        assertThat(batch.isOk(1)).isFalse();
        assertThat(batch.opcode(1)).isEqualTo(Opcode.RECV_IMM);
        assertThat(batch.byteLen(1)).isEqualTo(65536);
        assertThat(batch.imm(1)).isEqualTo(0xc0ffee42);
        assertThat(batch.hasImm(1)).isTrue();
        assertThat(batch.qpNum(1)).isEqualTo(0x00abcdef);
        assertThat(batch.vendorErr(1)).isEqualTo(0x99);
        assertThat(batch.srcQp(1)).isEqualTo(0x00123456);
        assertThat(batch.qpTag(1)).isEqualTo(0x7a6_0000_0042L);
        assertThat(batch.isSrq(1)).isFalse();
        assertThat(batch.isDeparted(1)).isFalse();
        assertThat(batch.isSrq(2)).isTrue();
        assertThat(batch.isDeparted(2)).isTrue();
        assertThat(batch.qpTag(2)).isZero();
        assertThat(batch.statusText(1)).isNotBlank();
        assertThat(batch.describe(1)).contains("RECV_IMM").contains("imm=0xc0ffee42").contains("tag=0x7a600000042")
                .contains("srcQp=1193046");
        assertThat(batch.describe(2)).contains("srq").contains("departed");
        assertThat(batch.hasImm(0)).isFalse();
        assertThatThrownBy(() -> batch.wrId(3)).isInstanceOf(IndexOutOfBoundsException.class);
        batch.clear();
        assertThatThrownBy(() -> batch.wrId(0)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
