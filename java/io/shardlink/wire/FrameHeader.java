package io.shardlink.wire;

/**
 * The fixed 56-byte header of every shardlink frame, on QUIC streams and in RDMA ring slots alike.
 * A mutable, reusable holder (decode into it, or fill it and encode) so the data path makes no garbage.
 * See {@link FrameCodec} for the byte layout.
 */
public final class FrameHeader {
    /** RESUME: this is the answer (offset = next expected). */
    public static final int FLAG_REPLY = 1;
    /** COPY_BEGIN: resume an existing transfer at {@code offset} (after a failover). */
    public static final int FLAG_RESUME = 1 << 1;
    /** DATA: the last chunk of the transfer. */
    public static final int FLAG_LAST = 1 << 2;
    /**
     * READ_REQ only: the reader gives the blob's cookie, carried in the header's last word ({@link #cookie()}),
     * which is zero in every other frame. Sent only to peers whose HELLO has {@link Hello#CAP_READ_COOKIE}.
     */
    public static final int FLAG_COOKIE = 1 << 3;
    /**
     * READ_REQ only: the request travels on a shared read stream, a long-lived stream that carries many READ_REQs
     * (pipelined; each answered by one READ_RESP or ERROR with the same id, in any order; the stream stays open).
     * Sent only to peers whose HELLO has {@link Hello#CAP_READ_STREAMS}.
     */
    public static final int FLAG_SHARED_STREAM = 1 << 4;
    /** All defined flags; others must be zero in version 1. */
    public static final int KNOWN_FLAGS = FLAG_REPLY | FLAG_RESUME | FLAG_LAST | FLAG_COOKIE | FLAG_SHARED_STREAM;

    private FrameType type;
    private int flags;
    private int length;
    private int crc32c;
    private long id;
    private long object;
    private long aux;
    private long offset;
    private int arg;
    private int ext;

    public FrameHeader() {}

    public FrameHeader(FrameType type) {
        this.type = type;
    }

    /** Resets every field and sets the type. */
    public FrameHeader reset(FrameType type) {
        this.type = type;
        flags = 0;
        length = 0;
        crc32c = 0;
        id = 0;
        object = 0;
        aux = 0;
        offset = 0;
        arg = 0;
        ext = 0;
        return this;
    }

    public FrameHeader copyFrom(FrameHeader o) {
        type = o.type;
        flags = o.flags;
        length = o.length;
        crc32c = o.crc32c;
        id = o.id;
        object = o.object;
        aux = o.aux;
        offset = o.offset;
        arg = o.arg;
        ext = o.ext;
        return this;
    }

    public FrameType type() { return type; }
    public int flags() { return flags; }
    public boolean hasFlag(int f) { return (flags & f) != 0; }
    /** Payload length in bytes. */
    public int length() { return length; }
    public int crc32c() { return crc32c; }
    /** Transfer id (copy frames, RESUME) or request id (READ_*), or the id an ERROR refers to. */
    public long id() { return id; }
    /** Shard id (copy frames) or volume id (READ_*). */
    public long object() { return object; }
    /** Needle id (READ_*) or total length (COPY_BEGIN/COPY_END/COPY_DONE). */
    public long aux() { return aux; }
    public long offset() { return offset; }
    /** Credits (ACK), requested length (READ_REQ), blob flags (READ_RESP), error code (ERROR). */
    public int arg() { return arg; }
    /** The header's last word: the cookie of a READ_REQ with {@link #FLAG_COOKIE}; zero otherwise. */
    public int ext() { return ext; }

    // aliases by meaning
    public long transferId() { return id; }
    public long requestId() { return id; }
    public long shardId() { return object; }
    public long volumeId() { return object; }
    public long needleId() { return aux; }
    public long totalLength() { return aux; }
    public int credits() { return arg; }
    public int requestedLength() { return arg; }
    public ErrorCode errorCode() { return ErrorCode.of(arg); }
    /** READ_RESP: the blob's attribute flags as its source reports them (SeaweedFS: the needle's flags byte). */
    public int blobFlags() { return arg; }
    /** READ_REQ: the reader's cookie (unsigned), or -1 (BlobSource.NO_COOKIE) without {@link #FLAG_COOKIE}. */
    public long cookie() { return hasFlag(FLAG_COOKIE) ? Integer.toUnsignedLong(ext) : -1; }

    public FrameHeader type(FrameType v) { type = v; return this; }
    public FrameHeader flags(int v) { flags = v; return this; }
    public FrameHeader addFlag(int v) { flags |= v; return this; }
    public FrameHeader length(int v) { length = v; return this; }
    public FrameHeader crc32c(int v) { crc32c = v; return this; }
    public FrameHeader id(long v) { id = v; return this; }
    public FrameHeader object(long v) { object = v; return this; }
    public FrameHeader aux(long v) { aux = v; return this; }
    public FrameHeader offset(long v) { offset = v; return this; }
    public FrameHeader arg(int v) { arg = v; return this; }
    public FrameHeader ext(int v) { ext = v; return this; }

    /** READ_REQ: carries {@code cookie} (unsigned 32-bit), or nothing when it is negative (no cookie). */
    public FrameHeader cookie(long cookie) {
        if (cookie < 0) {
            flags &= ~FLAG_COOKIE;
            ext = 0;
        } else {
            flags |= FLAG_COOKIE;
            ext = (int) cookie;
        }
        return this;
    }

    @Override
    public String toString() {
        return type + "{id=" + id + ", object=" + object + ", aux=" + aux + ", offset=" + offset + ", length=" + length
                + ", arg=" + arg + (ext != 0 ? ", ext=0x" + Integer.toHexString(ext) : "") + ", flags=0x"
                + Integer.toHexString(flags) + ", crc32c=0x"
                + Integer.toHexString(crc32c) + "}";
    }
}
