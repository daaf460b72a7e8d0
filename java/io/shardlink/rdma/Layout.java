package io.shardlink.rdma;

/**
 * The fixed layouts of include/shardlink.h that Java fills and reads in direct buffers
 * (native byte order), and the constants Java mirrors. {@link #EXPECTED} must equal what the JNI
 * library reports (native/jni/jni_library.c, same order): NativeLibrary refuses a library whose
 * layout differs, and LayoutTest checks it on every host.
 */
final class Layout {
    private Layout() {
    }

    // sl_wr: 136 bytes
    static final int WR_SIZE = 136;
    static final int WR_ID = 0;
    static final int WR_OPCODE = 8;
    static final int WR_FLAGS = 12;
    static final int WR_IMM = 16;
    static final int WR_NUM_SGE = 20;
    static final int WR_REMOTE_ADDR = 24;
    static final int WR_RKEY = 32;
    static final int WR_RESERVED = 36;
    static final int WR_SGE = 40;
    static final int WR_MAX_SGE = 4;

    // sl_sge: 24 bytes
    static final int SGE_SIZE = 24;
    static final int SGE_MR = 0;
    static final int SGE_OFFSET = 8;
    static final int SGE_LENGTH = 16;
    static final int SGE_RESERVED = 20;

    // sl_completion: 48 bytes
    static final int WC_SIZE = 48;
    static final int WC_WR_ID = 0;
    static final int WC_STATUS = 8;
    static final int WC_OPCODE = 12;
    static final int WC_BYTE_LEN = 16;
    static final int WC_IMM = 20;
    static final int WC_QP_NUM = 24;
    static final int WC_FLAGS = 28;
    static final int WC_VENDOR_ERR = 32;
    static final int WC_SRC_QP = 36;
    static final int WC_QP_TAG = 40;

    static final int ENDPOINT_SIZE = 40;
    static final int WC_WITH_IMM = 1;
    static final int WR_FENCE = 1;
    static final int WR_SOLICITED = 2;
    static final int WR_INLINE = 4;
    static final int WR_UNSIGNALED = 8;
    static final int WC_SRQ = 2;
    static final int WC_DEPARTED = 4;
    static final int NAME_MAX = 64;

    static final String[] NAMES = {
        "sizeof(sl_wr)", "offsetof(sl_wr, wr_id)", "offsetof(sl_wr, opcode)", "offsetof(sl_wr, flags)",
        "offsetof(sl_wr, imm)", "offsetof(sl_wr, num_sge)", "offsetof(sl_wr, remote_addr)",
        "offsetof(sl_wr, rkey)", "offsetof(sl_wr, reserved)", "offsetof(sl_wr, sge)", "SL_WR_MAX_SGE",
        "sizeof(sl_sge)", "offsetof(sl_sge, mr)", "offsetof(sl_sge, offset)", "offsetof(sl_sge, length)",
        "offsetof(sl_sge, reserved)",
        "sizeof(sl_completion)", "offsetof(sl_completion, wr_id)", "offsetof(sl_completion, status)",
        "offsetof(sl_completion, opcode)", "offsetof(sl_completion, byte_len)", "offsetof(sl_completion, imm)",
        "offsetof(sl_completion, qp_num)", "offsetof(sl_completion, flags)",
        "offsetof(sl_completion, vendor_err)", "offsetof(sl_completion, src_qp)", "offsetof(sl_completion, qp_tag)",
        "SL_ENDPOINT_SIZE", "SL_OP_SEND", "SL_OP_SEND_IMM", "SL_OP_WRITE", "SL_OP_WRITE_IMM", "SL_OP_READ",
        "SL_OP_RECV", "SL_OP_RECV_IMM", "SL_WC_WITH_IMM", "SL_WR_FENCE", "SL_WR_SOLICITED", "SL_WR_INLINE",
        "SL_ACCESS_LOCAL_WRITE", "SL_ACCESS_REMOTE_WRITE", "SL_ACCESS_REMOTE_READ",
        "SL_QP_RESET", "SL_QP_INIT", "SL_QP_RTR", "SL_QP_RTS", "SL_QP_SQD", "SL_QP_SQE", "SL_QP_ERR",
        "SL_PORT_DOWN", "SL_PORT_ACTIVE", "SL_NAME_MAX", "SL_WR_UNSIGNALED", "SL_WC_SRQ", "SL_WC_DEPARTED",
        "SL_OP_BIND_MW", "SL_ACCESS_MW_BIND",
    };

    static final int[] EXPECTED = {
        WR_SIZE, WR_ID, WR_OPCODE, WR_FLAGS, WR_IMM, WR_NUM_SGE, WR_REMOTE_ADDR, WR_RKEY, WR_RESERVED, WR_SGE,
        WR_MAX_SGE,
        SGE_SIZE, SGE_MR, SGE_OFFSET, SGE_LENGTH, SGE_RESERVED,
        WC_SIZE, WC_WR_ID, WC_STATUS, WC_OPCODE, WC_BYTE_LEN, WC_IMM, WC_QP_NUM, WC_FLAGS, WC_VENDOR_ERR,
        WC_SRC_QP, WC_QP_TAG,
        ENDPOINT_SIZE, Opcode.SEND, Opcode.SEND_IMM, Opcode.WRITE, Opcode.WRITE_IMM, Opcode.READ, Opcode.RECV,
        Opcode.RECV_IMM, WC_WITH_IMM, WR_FENCE, WR_SOLICITED, WR_INLINE,
        Access.LOCAL_WRITE.bit(), Access.REMOTE_WRITE.bit(), Access.REMOTE_READ.bit(),
        QpState.RESET.code(), QpState.INIT.code(), QpState.RTR.code(), QpState.RTS.code(), QpState.SQD.code(),
        QpState.SQE.code(), QpState.ERR.code(),
        PortState.DOWN.code(), PortState.ACTIVE.code(), NAME_MAX, WR_UNSIGNALED, WC_SRQ, WC_DEPARTED,
        Opcode.BIND_MW, Access.MW_BIND.bit(),
    };

    /** Null if {@code actual} matches {@link #EXPECTED}, else a description of every difference. */
    static String compare(int[] actual) {
        if (actual == null) {
            return "native layout table missing";
        }
        StringBuilder diff = new StringBuilder();
        if (actual.length != EXPECTED.length) {
            diff.append("native layout table has ").append(actual.length).append(" entries, Java expects ")
                    .append(EXPECTED.length).append("; ");
        }
        for (int i = 0; i < Math.min(actual.length, EXPECTED.length); i++) {
            if (actual[i] != EXPECTED[i]) {
                diff.append(NAMES[i]).append(": native ").append(actual[i]).append(", Java ")
                        .append(EXPECTED[i]).append("; ");
            }
        }
        return diff.length() == 0 ? null : diff.substring(0, diff.length() - 2);
    }
}
