package io.shardlink.wire;

/** Error codes carried in ERROR frames ({@code arg}) and in {@link FrameException}. */
public enum ErrorCode {
    BAD_MAGIC(1),
    BAD_VERSION(2),
    BAD_TYPE(3),
    TRUNCATED(4),
    TOO_LARGE(5),
    OUT_OF_BOUNDS(6),
    CRC_MISMATCH(7),
    BAD_HEADER(8),
    PROTOCOL(9),
    UNKNOWN_TRANSFER(10),
    OUT_OF_ORDER(11),
    NOT_FOUND(12),
    SINK_FAILED(13),
    SOURCE_FAILED(14),
    SHUTTING_DOWN(15),
    BAD_REQUEST(16),
    INTERNAL(17),
    /** The blob's stored checksum does not match its bytes at the source: it is not served. */
    CHECKSUM_MISMATCH(18),
    /**
     * The reader has more reads in flight on this node than its per-peer limit (maxInFlightReadsPerPeer): this
     * read is refused, not queued; the shared read stream and the other reads go on.
     */
    TOO_MANY_READS(19),
    /**
     * The sender already has maxIncomingCopiesPerPeer copies open on this node as their receiver: this new copy
     * is refused at once (nothing opened); the connection and the other copies go on.
     */
    TOO_MANY_COPIES(20),
    /**
     * The receiver revoked this copy's RDMA receive ring (deregistered it) because nothing was written into it,
     * announced or acknowledged for ringIdleTimeout: the copy is aborted on both sides.
     */
    RING_REVOKED(21),
    /**
     * The peer sent more control requests than its per-peer limit (maxControlRequestsPerSecondPerPeer): this request
     * (RESUME or PATH_CTL, named by the ERROR's {@code aux} = its frame type) is refused; the connection goes on.
     */
    TOO_MANY_REQUESTS(22);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The code's enum, or INTERNAL for an unknown one. */
    public static ErrorCode of(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return c;
            }
        }
        return INTERNAL;
    }
}
