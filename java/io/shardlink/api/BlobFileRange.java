package io.shardlink.api;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Where the bytes of a blob read are in a file, after every check the source's read would make (cookie, checksum):
 * {@code length} bytes at {@code position} of {@code channel} (opened read-only). A zero-copy path maps and
 * registers that range instead of copying it; the bytes must not change while the file is served (append-only).
 *
 * @param file         the file's path (a transport may map it itself)
 * @param flags        the blob's flags (as {@link BlobAttributes#flags()})
 * @param crc32c       the CRC32C of exactly these {@code length} bytes, when the source knows it without summing
 *                     them again (e.g. a whole needle whose stored checksum it verified); else {@code knownCrc} false
 * @param knownCrc     whether {@code crc32c} is valid
 */
public record BlobFileRange(FileChannel channel, Path file, long position, int length, int flags, int crc32c,
                            boolean knownCrc) {
}
