package io.shardlink.seaweedfs;

/**
 * Facts of SeaweedFS's needle layout (versions 2 and 3), all integers big-endian. A needle at byte
 * {@code offsetUnits * 8} of the {@code .dat}: cookie (u32), needle id (u64), size (u32); when size &gt; 0 the
 * {@code size} body bytes hold data size (u32), data, flags (u8) and the optional fields; then the checksum (u32),
 * in version 3 the append time (u64), then 1 to 8 bytes of padding to a multiple of 8.
 */
public final class NeedleFormat {
    public static final int PADDING = 8;
    public static final int HEADER = 16;
    public static final int CHECKSUM = 4;
    public static final int TIMESTAMP = 8;
    /** An {@code .idx} entry: needle id (u64), offset (u32, in units of 8 bytes), size (u32). */
    public static final int INDEX_ENTRY = 16;
    /** Index size marking a deletion. */
    public static final int TOMBSTONE = 0xFFFFFFFF;

    /** Needle flag: the data is gzip-compressed (served as stored; the reader decompresses). */
    public static final int FLAG_GZIP = 0x01;
    public static final int FLAG_HAS_NAME = 0x02;
    public static final int FLAG_HAS_MIME = 0x04;
    public static final int FLAG_HAS_LAST_MODIFIED = 0x08;
    public static final int FLAG_HAS_TTL = 0x10;
    public static final int FLAG_HAS_PAIRS = 0x20;
    /** Needle flag: the data is a chunk manifest (JSON listing other file ids), served as stored. */
    public static final int FLAG_CHUNK_MANIFEST = 0x80;

    private NeedleFormat() {}

    /** Bytes the needle with header size field {@code size} takes in the {@code .dat}, padding included. */
    public static long diskLength(int size, int version) {
        long body = HEADER + Integer.toUnsignedLong(size) + CHECKSUM + (version == 3 ? TIMESTAMP : 0);
        return body + (PADDING - body % PADDING);
    }

    /**
     * The checksum form volumes written before SeaweedFS 3.09 stored: {@code (c >> 15 | c << 17) + 0xa282ead8} of the
     * CRC32C {@code c} (unsigned 32-bit arithmetic).
     */
    public static int legacyChecksum(int crc32c) {
        return ((crc32c >>> 15) | (crc32c << 17)) + 0xa282ead8;
    }

    /** The CRC32C a legacy-form checksum was made from (the inverse of {@link #legacyChecksum}). */
    public static int crc32cOfLegacy(int legacy) {
        return Integer.rotateLeft(legacy - 0xa282ead8, 15);
    }

    /** Whether {@code stored} is either checksum form of data whose CRC32C is {@code crc32c}. */
    public static boolean checksumMatches(int stored, int crc32c) {
        return stored == crc32c || stored == legacyChecksum(crc32c);
    }

    /** Flag names for listings, e.g. "gzip,name,mime". */
    public static String describeFlags(int flags) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"gzip", "name", "mime", "lastmod", "ttl", "pairs", "0x40", "manifest"};
        for (int b = 0; b < 8; b++) {
            if ((flags & (1 << b)) != 0) {
                sb.append(sb.length() == 0 ? "" : ",").append(names[b]);
            }
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }
}
