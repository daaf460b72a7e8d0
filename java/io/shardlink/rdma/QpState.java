package io.shardlink.rdma;

/** Queue-pair states ({@code SL_QP_*}, equal to ibv_qp_state). */
public enum QpState {
    RESET(0), INIT(1), RTR(2), RTS(3), SQD(4), SQE(5), ERR(6);

    private static final QpState[] BY_CODE = values();
    private final int code;

    QpState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The state for a code; no allocation. */
    public static QpState of(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new IllegalArgumentException("unknown QP state " + code);
        }
        return BY_CODE[code];
    }
}
