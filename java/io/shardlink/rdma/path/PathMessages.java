package io.shardlink.rdma.path;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the two ends of an RDMA path tell each other outside the queue pair, all on the QUIC control stream
 * (TLS 1.3, the authenticated peer only). Big-endian.
 *
 * <p>The endpoint blob (in HELLO):
 * <pre>
 *   "SLRP" u8 version=1, 3 bytes 0, 40-byte queue-pair endpoint (shardlink.h),
 *   u64 reply-ring address, u32 reply-ring rkey, u32 reply-ring pages, u32 page size
 * </pre>
 * Control messages (PATH_CTL payloads), a type byte then:
 * <pre>
 *   RING_REQ     u64 transfer, u64 shard, u64 total length, u32 chunk size    sender: a ring for this copy, please
 *   RING_GRANT   u64 transfer, u16 ring, u8 generation, u64 address, u32 rkey, u32 slot size, u32 slots
 *   RING_DECLINE u64 transfer, UTF-8 reason                                    no memory now: use QUIC
 *   PATH_READY   -                                                             my queue pair is ready to receive
 *   PATH_DOWN    UTF-8 cause                                                   my queue pair failed: fail yours
 *   OK           -
 *   REFUSED      UTF-8 reason
 * </pre>
 */
final class PathMessages {
    static final int ENDPOINT_VERSION = 1;
    static final int QP_ENDPOINT_SIZE = 40;
    static final int ENDPOINT_SIZE = 8 + QP_ENDPOINT_SIZE + 8 + 4 + 4 + 4;
    private static final int MAGIC = 0x534C5250; // "SLRP"

    static final byte RING_REQ = 1;
    static final byte RING_GRANT = 2;
    static final byte RING_DECLINE = 3;
    static final byte PATH_READY = 4;
    static final byte PATH_DOWN = 5;
    static final byte OK = 6;
    static final byte REFUSED = 7;

    private PathMessages() {}

    /** The decoded endpoint blob. */
    record Endpoint(byte[] qp, long replyRingAddress, int replyRingRkey, int replyRingPages, int pageSize) {}

    record RingRequest(long transferId, long shardId, long totalLength, int chunkSize) {}

    record RingGrant(long transferId, int ring, int generation, long address, int rkey, int slotSize, int slots) {}

    /** A decoded control message: its type and the fields that type has. */
    record Message(byte type, RingRequest request, RingGrant grant, long transferId, String text) {}

    static byte[] endpoint(byte[] qp, long replyRingAddress, int replyRingRkey, int replyRingPages, int pageSize) {
        if (qp.length != QP_ENDPOINT_SIZE) {
            throw new IllegalArgumentException("queue-pair endpoint must be " + QP_ENDPOINT_SIZE + " bytes, got "
                    + qp.length);
        }
        ByteBuffer b = ByteBuffer.allocate(ENDPOINT_SIZE);
        b.putInt(MAGIC).put((byte) ENDPOINT_VERSION).put((byte) 0).putShort((short) 0).put(qp).putLong(replyRingAddress)
                .putInt(replyRingRkey).putInt(replyRingPages).putInt(pageSize);
        return b.array();
    }

    static Endpoint decodeEndpoint(byte[] blob) {
        if (blob == null || blob.length != ENDPOINT_SIZE) {
            throw new IllegalArgumentException("RDMA endpoint blob must be " + ENDPOINT_SIZE + " bytes, got "
                    + (blob == null ? "none" : blob.length) + " (the peer runs another shardlink RDMA path version?)");
        }
        ByteBuffer b = ByteBuffer.wrap(blob);
        if (b.getInt() != MAGIC) {
            throw new IllegalArgumentException("RDMA endpoint blob has a bad magic (not \"SLRP\")");
        }
        int version = b.get() & 0xFF;
        if (version != ENDPOINT_VERSION) {
            throw new IllegalArgumentException("RDMA endpoint blob version " + version + ", this node speaks "
                    + ENDPOINT_VERSION);
        }
        if (b.get() != 0 || b.getShort() != 0) {
            throw new IllegalArgumentException("RDMA endpoint blob has non-zero reserved bytes");
        }
        byte[] qp = new byte[QP_ENDPOINT_SIZE];
        b.get(qp);
        long addr = b.getLong();
        int rkey = b.getInt();
        int pages = b.getInt();
        int pageSize = b.getInt();
        if (pages <= 0 || pages > Imm.MAX_PAGES || pageSize <= 0) {
            throw new IllegalArgumentException("RDMA endpoint blob: reply ring of " + pages + " pages of " + pageSize
                    + " bytes is invalid");
        }
        return new Endpoint(qp, addr, rkey, pages, pageSize);
    }

    static byte[] ringRequest(long transferId, long shardId, long totalLength, int chunkSize) {
        return ByteBuffer.allocate(1 + 8 + 8 + 8 + 4).put(RING_REQ).putLong(transferId).putLong(shardId)
                .putLong(totalLength).putInt(chunkSize).array();
    }

    static byte[] ringGrant(RingGrant g) {
        return ByteBuffer.allocate(1 + 8 + 2 + 1 + 8 + 4 + 4 + 4).put(RING_GRANT).putLong(g.transferId())
                .putShort((short) g.ring()).put((byte) g.generation()).putLong(g.address()).putInt(g.rkey())
                .putInt(g.slotSize()).putInt(g.slots()).array();
    }

    static byte[] ringDecline(long transferId, String reason) {
        byte[] r = utf8(reason);
        return ByteBuffer.allocate(1 + 8 + r.length).put(RING_DECLINE).putLong(transferId).put(r).array();
    }

    static byte[] pathReady() {
        return new byte[] {PATH_READY};
    }

    static byte[] pathDown(String cause) {
        return withText(PATH_DOWN, cause);
    }

    static byte[] ok() {
        return new byte[] {OK};
    }

    static byte[] refused(String reason) {
        return withText(REFUSED, reason);
    }

    private static byte[] withText(byte type, String text) {
        byte[] t = utf8(text);
        byte[] out = new byte[1 + t.length];
        out[0] = type;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }

    /** At most 2000 bytes of UTF-8 (control messages stay small; the text is for people). */
    private static byte[] utf8(String s) {
        byte[] b = String.valueOf(s).getBytes(StandardCharsets.UTF_8);
        return b.length <= 2000 ? b : Arrays.copyOf(b, 2000);
    }

    /** Decodes a control message; IllegalArgumentException when it is malformed (or empty: no answer). */
    static Message decode(byte[] m) {
        if (m == null || m.length == 0) {
            throw new IllegalArgumentException("empty RDMA control message (the peer had no answer)");
        }
        ByteBuffer b = ByteBuffer.wrap(m);
        byte type = b.get();
        try {
            Message out = switch (type) {
                case RING_REQ -> new Message(type, new RingRequest(b.getLong(), b.getLong(), b.getLong(), b.getInt()),
                        null, 0, null);
                case RING_GRANT -> {
                    RingGrant g = new RingGrant(b.getLong(), b.getShort() & 0xFFFF, b.get() & 0xFF, b.getLong(),
                            b.getInt(), b.getInt(), b.getInt());
                    yield new Message(type, null, g, g.transferId(), null);
                }
                case RING_DECLINE -> {
                    long id = b.getLong();
                    yield new Message(type, null, null, id, rest(b));
                }
                case PATH_READY, OK -> new Message(type, null, null, 0, null);
                case PATH_DOWN, REFUSED -> new Message(type, null, null, 0, rest(b));
                default -> throw new IllegalArgumentException("unknown RDMA control message type " + type);
            };
            if (b.hasRemaining() && type != RING_DECLINE && type != PATH_DOWN && type != REFUSED) {
                throw new IllegalArgumentException("RDMA control message type " + type + " has " + b.remaining()
                        + " trailing bytes");
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated RDMA control message of type " + type + " (" + m.length
                    + " bytes)");
        }
    }

    private static String rest(ByteBuffer b) {
        byte[] t = new byte[b.remaining()];
        b.get(t);
        return new String(t, StandardCharsets.UTF_8);
    }
}
