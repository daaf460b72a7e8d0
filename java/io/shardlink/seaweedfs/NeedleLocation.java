package io.shardlink.seaweedfs;

import java.nio.channels.FileChannel;

/**
 * Where a checked needle's data bytes are in its volume file: {@code dataLength} bytes at {@code dataPosition} of
 * {@code channel} (read-only). Handed out only after the cookie and the checksum passed, so a zero-copy sender can
 * map or register exactly this range instead of copying the bytes (see the README, "SeaweedFS volumes").
 *
 * @param flags the needle's flags byte ({@link NeedleFormat#FLAG_GZIP}, {@link NeedleFormat#FLAG_CHUNK_MANIFEST}, ...)
 */
public record NeedleLocation(long volumeId, long needleId, int cookie, FileChannel channel, long dataPosition,
                             int dataLength, int flags) {
}
