package io.shardlink.wire;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Encodes and decodes the shardlink envelope. Every frame is a 56-byte header followed by {@code length}
 * payload bytes. All integers are big-endian (network order).
 *
 * <pre>
 * offset size field     meaning
 *  0      4   magic     0x534C4E4B ("SLNK")
 *  4      1   version   1
 *  5      1   type      {@link FrameType} code
 *  6      2   flags     {@link FrameHeader#FLAG_REPLY} 0x1, FLAG_RESUME 0x2, FLAG_LAST 0x4, FLAG_COOKIE 0x8
 *                       (READ_REQ only), FLAG_SHARED_STREAM 0x10 (READ_REQ only: sent on a shared read stream,
 *                       only to peers advertising {@link Hello#CAP_READ_STREAMS}); others 0
 *  8      4   length    payload bytes after the header (DATA/READ_RESP &le; maxSendSize, others &le; 64 KiB)
 * 12      4   crc32c    CRC32C (Castagnoli) of the payload; 0 when length is 0
 * 16      8   id        transfer id (COPY_*, DATA, ACK, RESUME) / request id (READ_*) / id an ERROR refers to
 * 24      8   object    shard id (copy frames) / volume id (READ_*) / path epoch (PATH_CTL: 0 = HELLO's bring-up)
 * 32      8   aux       total length (COPY_BEGIN, COPY_END, COPY_DONE) / needle id (READ_*) /
 *                       PATH_CTL kind (0 = provider message, 1 = bring-up retry)
 * 40      8   offset    DATA: chunk offset; ACK and RESUME reply: receiver's next expected offset;
 *                       COPY_BEGIN: first offset to be sent; READ_*: offset inside the needle
 * 48      4   arg       ACK: credits (window in chunks); READ_REQ: length wanted; ERROR: {@link ErrorCode};
 *                       READ_RESP: the blob's flags (source-defined, e.g. a SeaweedFS needle's flags byte; 0 = none)
 * 52      4   ext       READ_REQ with FLAG_COOKIE: the blob's cookie (u32); 0 in every other frame
 *                       (the reserved word of the first version: a node that predates FLAG_COOKIE refuses such a
 *                       READ_REQ as BAD_HEADER, so a reader only sends it to peers advertising
 *                       {@link Hello#CAP_READ_COOKIE}; old readers ignore READ_RESP's arg)
 * 56      -   payload
 * </pre>
 *
 * A receiver checks magic, version, type, reserved bits, and length against {@link FrameLimits} before it
 * reads a payload byte, so an oversized frame is refused without buffering it; then CRC32C of the payload
 * ({@link #verifyCrc}); the copy receiver checks offsets against the announced total. Any violation is a
 * {@link FrameException} with a precise message, answered with an ERROR frame.
 */
public final class FrameCodec {
    public static final int MAGIC = 0x534C4E4B;
    public static final int VERSION = 1;
    public static final int HEADER_SIZE = 56;
    /** ERROR messages longer than this are cut. */
    public static final int MAX_ERROR_MESSAGE = 4096;

    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);

    private FrameCodec() {}

    // ------------------------------------------------------------------ encode

    /** Writes the header at the writer index of {@code out}. */
    public static void encodeHeader(FrameHeader h, ByteBuf out) {
        out.ensureWritable(HEADER_SIZE);
        out.writeInt(MAGIC);
        out.writeByte(VERSION);
        out.writeByte(h.type().code());
        out.writeShort(h.flags());
        out.writeInt(h.length());
        out.writeInt(h.crc32c());
        out.writeLong(h.id());
        out.writeLong(h.object());
        out.writeLong(h.aux());
        out.writeLong(h.offset());
        out.writeInt(h.arg());
        out.writeInt(h.ext());
    }

    /** Writes the header at the position of {@code out} (big-endian regardless of the buffer's order). */
    public static void encodeHeader(FrameHeader h, ByteBuffer out) {
        if (out.remaining() < HEADER_SIZE) {
            throw new IllegalArgumentException("need " + HEADER_SIZE + " bytes for a frame header, buffer has "
                    + out.remaining());
        }
        int p = out.position();
        ByteBuffer b = out.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        b.putInt(p, MAGIC);
        b.put(p + 4, (byte) VERSION);
        b.put(p + 5, (byte) h.type().code());
        b.putShort(p + 6, (short) h.flags());
        b.putInt(p + 8, h.length());
        b.putInt(p + 12, h.crc32c());
        b.putLong(p + 16, h.id());
        b.putLong(p + 24, h.object());
        b.putLong(p + 32, h.aux());
        b.putLong(p + 40, h.offset());
        b.putInt(p + 48, h.arg());
        b.putInt(p + 52, h.ext());
        out.position(p + HEADER_SIZE);
    }

    /** Encodes a whole frame (header + payload) into a new buffer from {@code alloc}-like target {@code out}. */
    public static void encodeFrame(FrameHeader h, ByteBuf payload, ByteBuf out) {
        int len = payload == null ? 0 : payload.readableBytes();
        h.length(len).crc32c(len == 0 ? 0 : crc32c(payload, payload.readerIndex(), len));
        encodeHeader(h, out);
        if (len > 0) {
            out.writeBytes(payload, payload.readerIndex(), len);
        }
    }

    // ------------------------------------------------------------------ decode

    /**
     * Decodes and validates the header at the reader index of {@code in} into {@code into} and advances the
     * reader index by {@link #HEADER_SIZE}. Does not touch the payload.
     *
     * @throws FrameException TRUNCATED if fewer than 56 bytes are readable; BAD_MAGIC, BAD_VERSION, BAD_TYPE,
     *                        BAD_HEADER (unknown flags, reserved bits), TOO_LARGE (length over the limit)
     */
    public static FrameHeader decodeHeader(ByteBuf in, FrameHeader into, FrameLimits limits) {
        int r = in.readerIndex();
        if (in.readableBytes() < HEADER_SIZE) {
            throw new FrameException(ErrorCode.TRUNCATED, "truncated frame header: " + in.readableBytes()
                    + " bytes, a header needs " + HEADER_SIZE);
        }
        validate(in.getInt(r), in.getUnsignedByte(r + 4), in.getUnsignedByte(r + 5), in.getUnsignedShort(r + 6),
                in.getInt(r + 8), in.getInt(r + 52), limits);
        into.type(FrameType.of(in.getUnsignedByte(r + 5)))
                .flags(in.getUnsignedShort(r + 6))
                .length(in.getInt(r + 8))
                .crc32c(in.getInt(r + 12))
                .id(in.getLong(r + 16))
                .object(in.getLong(r + 24))
                .aux(in.getLong(r + 32))
                .offset(in.getLong(r + 40))
                .arg(in.getInt(r + 48))
                .ext(in.getInt(r + 52));
        in.readerIndex(r + HEADER_SIZE);
        return into;
    }

    /**
     * Decodes a whole frame held in {@code slot} from its position to its limit (an RDMA ring slot after a
     * receive completion, or a datagram). Returns a slice of the payload (no copy); the slot's position is
     * left unchanged. Does not verify the CRC (see {@link #verifyCrc(FrameHeader, ByteBuffer)}).
     *
     * @throws FrameException as {@link #decodeHeader(ByteBuf, FrameHeader, FrameLimits)}, and TRUNCATED when
     *                        the slot holds fewer payload bytes than the header announces
     */
    public static ByteBuffer decodeFrame(ByteBuffer slot, FrameHeader into, FrameLimits limits) {
        int p = slot.position();
        int avail = slot.remaining();
        if (avail < HEADER_SIZE) {
            throw new FrameException(ErrorCode.TRUNCATED, "truncated frame header: " + avail
                    + " bytes, a header needs " + HEADER_SIZE);
        }
        ByteBuffer b = slot.duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
        validate(b.getInt(p), b.get(p + 4) & 0xFF, b.get(p + 5) & 0xFF, b.getShort(p + 6) & 0xFFFF,
                b.getInt(p + 8), b.getInt(p + 52), limits);
        into.type(FrameType.of(b.get(p + 5) & 0xFF))
                .flags(b.getShort(p + 6) & 0xFFFF)
                .length(b.getInt(p + 8))
                .crc32c(b.getInt(p + 12))
                .id(b.getLong(p + 16))
                .object(b.getLong(p + 24))
                .aux(b.getLong(p + 32))
                .offset(b.getLong(p + 40))
                .arg(b.getInt(p + 48))
                .ext(b.getInt(p + 52));
        if (avail - HEADER_SIZE < into.length()) {
            throw new FrameException(ErrorCode.TRUNCATED, "truncated " + into.type() + " frame: header announces "
                    + into.length() + " payload bytes, only " + (avail - HEADER_SIZE) + " present");
        }
        b.position(p + HEADER_SIZE).limit(p + HEADER_SIZE + into.length());
        return b.slice();
    }

    private static void validate(int magic, int version, int typeCode, int flags, int length, int reserved,
                                 FrameLimits limits) {
        if (magic != MAGIC) {
            throw new FrameException(ErrorCode.BAD_MAGIC, String.format(
                    "bad magic 0x%08X (expected 0x%08X \"SLNK\"): not a shardlink frame", magic, MAGIC));
        }
        if (version != VERSION) {
            throw new FrameException(ErrorCode.BAD_VERSION, "unsupported protocol version " + version
                    + " (this node speaks version " + VERSION + ")");
        }
        FrameType type = FrameType.of(typeCode);
        if (type == null) {
            throw new FrameException(ErrorCode.BAD_TYPE, "unknown frame type " + typeCode);
        }
        if ((flags & ~FrameHeader.KNOWN_FLAGS) != 0) {
            throw new FrameException(ErrorCode.BAD_HEADER, String.format("%s frame has unknown flags 0x%04X", type,
                    flags & ~FrameHeader.KNOWN_FLAGS));
        }
        if ((flags & FrameHeader.FLAG_SHARED_STREAM) != 0 && type != FrameType.READ_REQ) {
            throw new FrameException(ErrorCode.BAD_HEADER, type + " frame has FLAG_SHARED_STREAM (only READ_REQ "
                    + "carries it)");
        }
        boolean cookie = (flags & FrameHeader.FLAG_COOKIE) != 0;
        if (cookie && type != FrameType.READ_REQ) {
            throw new FrameException(ErrorCode.BAD_HEADER, type + " frame has FLAG_COOKIE (only READ_REQ carries a "
                    + "cookie)");
        }
        if (reserved != 0 && !cookie) {
            throw new FrameException(ErrorCode.BAD_HEADER, type + " frame has non-zero reserved field 0x"
                    + Integer.toHexString(reserved));
        }
        long len = Integer.toUnsignedLong(length);
        int max = limits.maxPayload(type);
        if (len > max) {
            throw new FrameException(ErrorCode.TOO_LARGE, type + " frame payload length " + len + " exceeds the limit of "
                    + max + " bytes" + (type.bulk() ? " (maxSendSize)" : " (control frames)"));
        }
    }

    // ------------------------------------------------------------------ CRC

    /** CRC32C of {@code len} bytes of {@code buf} at {@code index} (no copy for direct or heap buffers). */
    public static int crc32c(ByteBuf buf, int index, int len) {
        CRC32C crc = CRC.get();
        crc.reset();
        if (buf.nioBufferCount() == 1) {
            crc.update(buf.nioBuffer(index, len));
        } else {
            for (ByteBuffer b : buf.nioBuffers(index, len)) {
                crc.update(b);
            }
        }
        return (int) crc.getValue();
    }

    /** CRC32C of the remaining bytes of {@code b}; does not move its position. */
    public static int crc32c(ByteBuffer b) {
        CRC32C crc = CRC.get();
        crc.reset();
        int p = b.position();
        crc.update(b);
        b.position(p);
        return (int) crc.getValue();
    }

    /** Throws CRC_MISMATCH unless the payload's CRC32C equals the header's. */
    public static void verifyCrc(FrameHeader h, ByteBuf payload) {
        int actual = h.length() == 0 ? 0 : crc32c(payload, payload.readerIndex(), h.length());
        checkCrc(h, actual);
    }

    public static void verifyCrc(FrameHeader h, ByteBuffer payload) {
        int actual = h.length() == 0 ? 0 : crc32c(payload);
        checkCrc(h, actual);
    }

    private static void checkCrc(FrameHeader h, int actual) {
        if (actual != h.crc32c()) {
            throw new FrameException(ErrorCode.CRC_MISMATCH, String.format(
                    "CRC32C mismatch in %s frame id=%d offset=%d length=%d: header says 0x%08X, payload has 0x%08X",
                    h.type(), h.id(), h.offset(), h.length(), h.crc32c(), actual));
        }
    }

    // ------------------------------------------------------------------ bounds

    /**
     * Checks a DATA chunk against its transfer: {@code offset + length <= total}, non-negative offset, and a
     * non-empty payload.
     */
    public static void checkChunkBounds(FrameHeader h, long total) {
        long off = h.offset();
        long end = off + Integer.toUnsignedLong(h.length());
        if (off < 0 || end > total || end < off) {
            throw new FrameException(ErrorCode.OUT_OF_BOUNDS, "DATA chunk of transfer " + h.id() + " at offset " + off
                    + " with " + h.length() + " bytes ends at " + end + ", past the announced total of " + total
                    + " bytes");
        }
        if (h.length() == 0 && total != 0) {
            throw new FrameException(ErrorCode.BAD_HEADER, "empty DATA chunk of transfer " + h.id() + " at offset "
                    + off);
        }
    }

    // ------------------------------------------------------------------ ERROR frames

    /** Fills {@code h} as an ERROR about {@code id} and writes header + message into {@code out}. */
    public static void encodeError(long id, long offset, ErrorCode code, String message, ByteBuf out) {
        byte[] msg = truncate(message).getBytes(StandardCharsets.UTF_8);
        FrameHeader h = new FrameHeader(FrameType.ERROR).id(id).offset(offset).arg(code.code()).length(msg.length);
        CRC32C crc = CRC.get();
        crc.reset();
        crc.update(msg, 0, msg.length);
        h.crc32c(msg.length == 0 ? 0 : (int) crc.getValue());
        encodeHeader(h, out);
        out.writeBytes(msg);
    }

    /** The message of an ERROR frame's payload. */
    public static String errorMessage(ByteBuf payload) {
        return payload.toString(payload.readerIndex(), payload.readableBytes(), StandardCharsets.UTF_8);
    }

    private static String truncate(String message) {
        String m = message == null ? "" : message;
        if (m.length() > MAX_ERROR_MESSAGE) {
            m = m.substring(0, MAX_ERROR_MESSAGE - 3) + "...";
        }
        return m;
    }
}
