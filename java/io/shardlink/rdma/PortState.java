package io.shardlink.rdma;

/** Port states ({@code SL_PORT_*}, equal to ibv_port_state). */
public enum PortState {
    NOP(0), DOWN(1), INIT(2), ARMED(3), ACTIVE(4), ACTIVE_DEFER(5), UNKNOWN(-1);

    private final int code;

    PortState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static PortState of(int code) {
        for (PortState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
