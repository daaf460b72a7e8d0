package io.shardlink.cli;

import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.BlobSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Serves blob reads from a directory. Needle N of volume V is the file:
 * <ul>
 * <li>V = 0 (the shard volume): {@code DIR/shard-N}, i.e. the shard with id N that {@code serve} received
 *     (so a copied shard can be read back by offset);</li>
 * <li>V &ge; 1: {@code DIR/volume-V/needle-N}, files an operator puts there.</li>
 * </ul>
 * A read at offset O of length L returns the file's bytes [O, min(O + L, size)); past the end it returns no
 * bytes. A missing file is NOT_FOUND.
 */
final class DirBlobSource implements BlobSource {
    static final long SHARD_VOLUME = 0;
    private final Path dir;

    DirBlobSource(Path dir) {
        this.dir = dir;
    }

    static Path pathOf(Path dir, long volume, long needle) {
        if (volume == SHARD_VOLUME) {
            return dir.resolve("shard-" + needle);
        }
        return dir.resolve("volume-" + volume).resolve("needle-" + needle);
    }

    @Override
    public int read(long volumeId, long needleId, long offset, int length, ByteBuffer dst) throws IOException {
        Path p = pathOf(dir, volumeId, needleId);
        if (offset < 0) {
            throw new IOException("negative offset " + offset);
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(p, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException("no needle " + needleId + " in volume " + volumeId + " (no file "
                    + dir.relativize(p) + ")");
        }
        try (ch) {
            if (!Files.isRegularFile(p)) {
                throw new BlobNotFoundException("needle " + needleId + " of volume " + volumeId + " is not a file");
            }
            int start = dst.position();
            ByteBuffer d = dst.duplicate();
            d.limit(start + length);
            long pos = offset;
            while (d.hasRemaining()) {
                int n = ch.read(d, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            int got = d.position() - start;
            dst.position(start + got);
            return got;
        }
    }
}
