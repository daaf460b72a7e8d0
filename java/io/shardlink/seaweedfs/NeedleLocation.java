package io.shardlink.seaweedfs;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Where a checked needle's data bytes are in its volume file: {@code dataLength} bytes at {@code dataPosition} of
 * {@code channel} (read-only). Handed out only after the cookie and the checksum passed, so a zero-copy sender can
 * map or register exactly this range instead of copying the bytes (see the README, "SeaweedFS volumes").
 *
 * @param flags the needle's flags byte ({@link NeedleFormat#FLAG_GZIP}, {@link NeedleFormat#FLAG_CHUNK_MANIFEST}, ...)
 * @param checksumPosition where the needle's stored (verified) checksum is in the file
 * @param legacyChecksum   whether that checksum is in the pre-3.09 form ({@link NeedleFormat#legacyChecksum})
 */
public record NeedleLocation(long volumeId, long needleId, int cookie, FileChannel channel, long dataPosition,
                             int dataLength, int flags, long checksumPosition, boolean legacyChecksum) {
    /** The CRC32C of the whole data, from the verified stored checksum (4 bytes read, nothing summed). */
    public int dataCrc32c() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(NeedleFormat.CHECKSUM);
        while (b.hasRemaining()) {
            if (channel.read(b, checksumPosition + b.position()) < 0) {
                throw new EOFException("volume " + volumeId + " needle " + Long.toHexString(needleId)
                        + ": the file ends before its checksum at byte " + checksumPosition);
            }
        }
        int stored = b.getInt(0);
        return legacyChecksum ? NeedleFormat.crc32cOfLegacy(stored) : stored;
    }
}
