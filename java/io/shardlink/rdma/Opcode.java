package io.shardlink.rdma;

/** Work-request and completion opcodes ({@code SL_OP_*} of include/shardlink.h). */
public final class Opcode {
    private Opcode() {
    }

    public static final int SEND = 0;
    public static final int SEND_IMM = 1;
    public static final int WRITE = 2;
    public static final int WRITE_IMM = 3;
    public static final int READ = 4;
    /** Receive work requests; also the opcode of receive completions. */
    public static final int RECV = 5;
    /** Completion only: a WRITE WITH IMMEDIATE consumed a receive. */
    public static final int RECV_IMM = 6;
    /** Completion only: a memory window's bind ({@link MemoryWindow#bind}). */
    public static final int BIND_MW = 7;

    private static final String[] NAMES = {"SEND", "SEND_IMM", "WRITE", "WRITE_IMM", "READ", "RECV", "RECV_IMM",
        "BIND_MW"};

    /** e.g. {@code "WRITE_IMM"}; {@code "OP(9)"} for an unknown value. */
    public static String name(int opcode) {
        return opcode >= 0 && opcode < NAMES.length ? NAMES[opcode] : "OP(" + opcode + ")";
    }
}
