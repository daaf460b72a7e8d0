package io.shardlink.rdma;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A reusable direct buffer of {@code sl_completion} slots (40 bytes each, native order) that
 * {@link CompletionQueue#poll(CompletionBatch)} fills; read it with the accessors by index
 * {@code 0 <= i < count()}. Accessors allocate nothing, except {@link #statusText(int)} (for
 * errors only). Not thread-safe: one batch per polling thread.
 */
public final class CompletionBatch {
    /** ibv_wc_status IBV_WC_SUCCESS. */
    public static final int STATUS_SUCCESS = 0;
    /** ibv_wc_status IBV_WC_WR_FLUSH_ERR: the QP was in error; the request was not executed. */
    public static final int STATUS_FLUSH_ERROR = 5;

    private final ByteBuffer buffer;
    private final int capacity;
    private long address; // 0 until first native use
    private int count;

    /** A batch with room for {@code capacity} completions. */
    public CompletionBatch(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.buffer = ByteBuffer.allocateDirect(capacity * Layout.WC_SIZE).order(ByteOrder.nativeOrder());
    }

    public int capacity() {
        return capacity;
    }

    /** Completions written by the last poll. */
    public int count() {
        return count;
    }

    void setCount(int count) {
        this.count = count;
    }

    /** Forgets the completions of the last poll. */
    public void clear() {
        count = 0;
    }

    long address() throws RdmaException {
        long a = address;
        if (a == 0) {
            a = DirectBuffers.address(buffer);
            address = a;
        }
        return a;
    }

    /** The underlying buffer (tests, debugging). */
    ByteBuffer buffer() {
        return buffer;
    }

    private int base(int i) {
        return Objects.checkIndex(i, count) * Layout.WC_SIZE;
    }

    /** The work request's id. */
    public long wrId(int i) {
        return buffer.getLong(base(i) + Layout.WC_WR_ID);
    }

    /** ibv_wc_status: 0 = success; see {@link #statusText(int)}. */
    public int status(int i) {
        return buffer.getInt(base(i) + Layout.WC_STATUS);
    }

    public boolean isOk(int i) {
        return status(i) == STATUS_SUCCESS;
    }

    /** {@link Opcode} of the work request; RECV or RECV_IMM for receives. */
    public int opcode(int i) {
        return buffer.getInt(base(i) + Layout.WC_OPCODE);
    }

    /** Bytes received (receive completions). */
    public int byteLen(int i) {
        return buffer.getInt(base(i) + Layout.WC_BYTE_LEN);
    }

    /** Immediate data (host order); valid when {@link #hasImm(int)}. */
    public int imm(int i) {
        return buffer.getInt(base(i) + Layout.WC_IMM);
    }

    public boolean hasImm(int i) {
        return (flags(i) & Layout.WC_WITH_IMM) != 0;
    }

    /** The local QP number the completion belongs to. */
    public int qpNum(int i) {
        return buffer.getInt(base(i) + Layout.WC_QP_NUM);
    }

    public int flags(int i) {
        return buffer.getInt(base(i) + Layout.WC_FLAGS);
    }

    public int vendorErr(int i) {
        return buffer.getInt(base(i) + Layout.WC_VENDOR_ERR);
    }

    /** The QP number of the peer the local QP is connected to (0 if it was not connected). */
    public int srcQp(int i) {
        return buffer.getInt(base(i) + Layout.WC_SRC_QP);
    }

    /**
     * The tag the local QP was created with ({@link QueuePair#tag()}): lets one poller of a CQ
     * shared by many QPs route a completion to its connection without a lookup.
     */
    public long qpTag(int i) {
        return buffer.getLong(base(i) + Layout.WC_QP_TAG);
    }

    /** A receive that consumed an entry of a {@link SharedReceiveQueue}. */
    public boolean isSrq(int i) {
        return (flags(i) & Layout.WC_SRQ) != 0;
    }

    /** The QP was closed before this completion was polled (tag and peer are still reported). */
    public boolean isDeparted(int i) {
        return (flags(i) & Layout.WC_DEPARTED) != 0;
    }

    /** The status as text (ibv_wc_status_str), e.g. "remote access error". Allocates. */
    public String statusText(int i) {
        return NativeLibrary.wcStatusText(status(i));
    }

    /** One completion as text, for logs and assertion messages. Allocates. */
    public String describe(int i) {
        return "completion[wrId=" + wrId(i) + ", " + Opcode.name(opcode(i)) + ", status=" + status(i) + " ("
                + statusText(i) + "), byteLen=" + Integer.toUnsignedString(byteLen(i))
                + (hasImm(i) ? ", imm=0x" + Integer.toHexString(imm(i)) : "") + ", qpNum=" + qpNum(i)
                + ", srcQp=" + srcQp(i) + ", tag=0x" + Long.toHexString(qpTag(i)) + (isSrq(i) ? ", srq" : "")
                + (isDeparted(i) ? ", departed" : "")
                + (vendorErr(i) != 0 ? ", vendorErr=0x" + Integer.toHexString(vendorErr(i)) : "") + "]";
    }
}
