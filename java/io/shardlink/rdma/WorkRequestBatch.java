package io.shardlink.rdma;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A reusable direct buffer of {@code sl_wr} slots (136 bytes each, native order) to post with
 * {@link QueuePair#post(WorkRequestBatch)} or {@link QueuePair#postRecv(WorkRequestBatch)}.
 * Filling it allocates nothing:
 *
 * <pre>{@code
 * batch.clear();
 * batch.add().write(1, localMr, 0, 4096, remoteAddr, rkey);
 * batch.add().writeImm(2, localMr, 4096, 4096, remoteAddr + 4096, rkey, 42).sge(otherMr, 0, 128);
 * qp.post(batch);
 * }</pre>
 *
 * Memory is named by a {@link MemoryRegion} and an offset from its start; the shim checks the MR
 * belongs to the QP's protection domain and that offset + length lies inside it. A request may
 * have up to {@value #MAX_SGE} scatter/gather entries ({@link Slot#sge}); a null MR with length 0
 * makes a request without payload (e.g. a WRITE_IMM that only carries its immediate).
 * A send-queue request yields one completion unless it is {@link Slot#unsignaled()}. Receives for a
 * {@link SharedReceiveQueue} are posted with {@link SharedReceiveQueue#postRecv}. Not thread-safe.
 */
public final class WorkRequestBatch {
    /** Scatter/gather entries per request ({@code SL_WR_MAX_SGE}). */
    public static final int MAX_SGE = Layout.WR_MAX_SGE;
    /** {@code SL_WR_FENCE}: wait for earlier READs before this request. */
    public static final int FLAG_FENCE = Layout.WR_FENCE;
    /** {@code SL_WR_SOLICITED}: ask the receiver's CQ for a solicited event. */
    public static final int FLAG_SOLICITED = Layout.WR_SOLICITED;
    /**
     * {@code SL_WR_INLINE}: copy the payload into the WQE at post time (total {@literal <=}
     * {@link QueuePair#maxInline()}); the memory may be reused as soon as post returns.
     */
    public static final int FLAG_INLINE = Layout.WR_INLINE;
    /**
     * {@code SL_WR_UNSIGNALED}: no completion when the request succeeds (selective signaling). It
     * stays outstanding until a later signaled request of the QP completes; the shim signals the
     * {@link QueuePair#signalEvery()}-th request of an unsignaled run itself, so such a request may
     * still complete (with its wrId). Failed and flushed requests always complete.
     */
    public static final int FLAG_UNSIGNALED = Layout.WR_UNSIGNALED;

    private final ByteBuffer buffer;
    private final int capacity;
    private final Slot slot = new Slot();
    private long address; // 0 until first native use
    private int count;

    /** A batch with room for {@code capacity} work requests. */
    public WorkRequestBatch(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.buffer = ByteBuffer.allocateDirect(capacity * Layout.WR_SIZE).order(ByteOrder.nativeOrder());
    }

    public int capacity() {
        return capacity;
    }

    /** Requests added since the last {@link #clear()}. */
    public int count() {
        return count;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    public boolean isFull() {
        return count == capacity;
    }

    /** Empties the batch (the buffer is reused). Returns this. */
    public WorkRequestBatch clear() {
        count = 0;
        return this;
    }

    /**
     * Appends a zeroed slot and returns the (reused) slot writer for it; call exactly one of its
     * opcode methods next. The returned Slot is valid until the next add().
     *
     * @throws IllegalStateException if the batch is full
     */
    public Slot add() {
        if (count == capacity) {
            throw new IllegalStateException("WorkRequestBatch full (capacity " + capacity + "): post it first");
        }
        int base = count * Layout.WR_SIZE;
        for (int off = 0; off < Layout.WR_SIZE; off += 8) {
            buffer.putLong(base + off, 0L);
        }
        count++;
        slot.base = base;
        return slot;
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

    /** The opcode of request {@code i}. */
    public int opcode(int i) {
        return buffer.getInt(java.util.Objects.checkIndex(i, count) * Layout.WR_SIZE + Layout.WR_OPCODE);
    }

    /** The id of request {@code i}. */
    public long wrId(int i) {
        return buffer.getLong(java.util.Objects.checkIndex(i, count) * Layout.WR_SIZE + Layout.WR_ID);
    }

    /** Writer for the slot last added. All methods return this Slot, for chaining. */
    public final class Slot {
        private int base;

        private Slot() {
        }

        private Slot header(long wrId, int opcode, int imm) {
            buffer.putLong(base + Layout.WR_ID, wrId);
            buffer.putInt(base + Layout.WR_OPCODE, opcode);
            buffer.putInt(base + Layout.WR_IMM, imm);
            buffer.putInt(base + Layout.WR_NUM_SGE, 0);
            return this;
        }

        private Slot remote(long remoteAddr, int rkey) {
            buffer.putLong(base + Layout.WR_REMOTE_ADDR, remoteAddr);
            buffer.putInt(base + Layout.WR_RKEY, rkey);
            return this;
        }

        private Slot first(MemoryRegion mr, long offset, int length) {
            if (mr == null) {
                if (length != 0) {
                    throw new IllegalArgumentException("a null memory region needs length 0, got " + length);
                }
                return this;
            }
            return sge(mr, offset, length);
        }

        /** SEND {@code length} bytes at {@code offset} of {@code mr}. */
        public Slot send(long wrId, MemoryRegion mr, long offset, int length) {
            return header(wrId, Opcode.SEND, 0).first(mr, offset, length);
        }

        /** SEND with 32-bit immediate data (host order). */
        public Slot sendImm(long wrId, MemoryRegion mr, long offset, int length, int imm) {
            return header(wrId, Opcode.SEND_IMM, imm).first(mr, offset, length);
        }

        /** RDMA WRITE to {@code remoteAddr} of the peer's region with key {@code rkey}. */
        public Slot write(long wrId, MemoryRegion mr, long offset, int length, long remoteAddr, int rkey) {
            return header(wrId, Opcode.WRITE, 0).remote(remoteAddr, rkey).first(mr, offset, length);
        }

        /** RDMA WRITE with immediate: also consumes one receive at the peer, which sees {@code imm}. */
        public Slot writeImm(long wrId, MemoryRegion mr, long offset, int length, long remoteAddr, int rkey,
                int imm) {
            return header(wrId, Opcode.WRITE_IMM, imm).remote(remoteAddr, rkey).first(mr, offset, length);
        }

        /** RDMA READ from {@code remoteAddr}/{@code rkey} into {@code mr} (needs LOCAL_WRITE). */
        public Slot read(long wrId, MemoryRegion mr, long offset, int length, long remoteAddr, int rkey) {
            return header(wrId, Opcode.READ, 0).remote(remoteAddr, rkey).first(mr, offset, length);
        }

        /** A receive buffer (for {@link QueuePair#postRecv}); {@code mr} needs LOCAL_WRITE. */
        public Slot recv(long wrId, MemoryRegion mr, long offset, int length) {
            return header(wrId, Opcode.RECV, 0).first(mr, offset, length);
        }

        /**
         * Appends a scatter/gather entry (at most {@value WorkRequestBatch#MAX_SGE} per request).
         *
         * @throws IllegalStateException if the request already has MAX_SGE entries or the region is closed
         */
        public Slot sge(MemoryRegion mr, long offset, int length) {
            if (offset < 0) {
                throw new IllegalArgumentException("negative offset " + offset);
            }
            if (length < 0) {
                throw new IllegalArgumentException("negative length " + length);
            }
            int n = buffer.getInt(base + Layout.WR_NUM_SGE);
            if (n == Layout.WR_MAX_SGE) {
                throw new IllegalStateException("a work request has at most " + Layout.WR_MAX_SGE + " SGEs");
            }
            int s = base + Layout.WR_SGE + n * Layout.SGE_SIZE;
            buffer.putLong(s + Layout.SGE_MR, mr.handleIfOpen());
            buffer.putLong(s + Layout.SGE_OFFSET, offset);
            buffer.putInt(s + Layout.SGE_LENGTH, length);
            buffer.putInt(s + Layout.SGE_RESERVED, 0);
            buffer.putInt(base + Layout.WR_NUM_SGE, n + 1);
            return this;
        }

        /** ORs {@code SL_WR_*} flags into the request (FLAG_FENCE, FLAG_SOLICITED, FLAG_INLINE, FLAG_UNSIGNALED). */
        public Slot flags(int flags) {
            buffer.putInt(base + Layout.WR_FLAGS, buffer.getInt(base + Layout.WR_FLAGS) | flags);
            return this;
        }

        public Slot fence() {
            return flags(FLAG_FENCE);
        }

        public Slot solicited() {
            return flags(FLAG_SOLICITED);
        }

        public Slot inline() {
            return flags(FLAG_INLINE);
        }

        public Slot unsignaled() {
            return flags(FLAG_UNSIGNALED);
        }
    }
}
