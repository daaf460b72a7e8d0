package io.shardlink.wire;

/** Message types of the shardlink envelope (one byte on the wire). */
public enum FrameType {
    /** Connection setup: node id, protocol version, RDMA capability and endpoint blob (payload: {@link Hello}). */
    HELLO(1, false),
    /** An error about request/transfer {@code id}: {@code arg} = {@link ErrorCode}, payload = UTF-8 message. */
    ERROR(2, false),
    /** Starts (or with {@link FrameHeader#FLAG_RESUME} resumes) transfer {@code id} of shard {@code object}, {@code aux} = total length, {@code offset} = first offset. */
    COPY_BEGIN(3, false),
    /** One chunk of transfer {@code id} at {@code offset}; payload = the bytes, {@code crc32c} over them. */
    DATA(4, true),
    /** Receiver to sender: {@code offset} = next expected offset (cumulative), {@code arg} = credits (window in chunks). */
    ACK(5, false),
    /** Sender: all {@code aux} bytes of transfer {@code id} sent. */
    COPY_END(6, false),
    /** Receiver: the sink accepted all {@code aux} bytes of transfer {@code id}. */
    COPY_DONE(7, false),
    /** Control plane, for failover: "what is your next expected offset for transfer {@code id}?"; the reply has {@link FrameHeader#FLAG_REPLY} and the answer in {@code offset}. */
    RESUME(8, false),
    /** Blob read: volume {@code object}, needle {@code aux}, {@code offset}, {@code arg} = length wanted. */
    READ_REQ(9, false),
    /** Blob read answer: payload = the bytes (may be shorter than asked at the needle's end). */
    READ_RESP(10, true),
    /**
     * Control plane only: an opaque message between the two nodes' data path providers (e.g. RDMA ring
     * descriptors), request {@code id}; the answer has {@link FrameHeader#FLAG_REPLY}, the same id, and may be
     * empty (the peer had no answer).
     */
    PATH_CTL(11, false),
    /** Keep-alive on the control stream: keeps an idle connection inside the QUIC idle timeout; not answered. */
    PING(12, false);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final boolean bulk;

    FrameType(int code, boolean bulk) {
        this.code = code;
        this.bulk = bulk;
    }

    public int code() {
        return code;
    }

    /** Whether the payload may be as large as maxSendSize (else it is bounded by the control limit). */
    public boolean bulk() {
        return bulk;
    }

    /** The type for a code, or null. */
    public static FrameType of(int code) {
        return code < 0 || code > 255 ? null : BY_CODE[code];
    }
}
