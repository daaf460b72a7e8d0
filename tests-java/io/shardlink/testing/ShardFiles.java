package io.shardlink.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** Deterministic shard files: 8-byte words derived from (seed, position), written and checked through a direct buffer. */
public final class ShardFiles {
    private static final int BUF = 4 << 20;

    private ShardFiles() {}

    /** The word at byte position {@code pos} (a multiple of 8). */
    public static long word(long seed, long pos) {
        long z = seed * 0x9E3779B97F4A7C15L + pos;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Writes {@code length} bytes (a multiple of 8) and returns their CRC32C. */
    public static long write(Path p, long seed, long length) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(BUF);
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long pos = 0;
            while (pos < length) {
                b.clear();
                int n = (int) Math.min(BUF, length - pos);
                for (int i = 0; i < n; i += 8) {
                    b.putLong(word(seed, pos + i));
                }
                b.flip();
                crc.update(b.duplicate());
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                pos += n;
            }
        }
        return crc.getValue();
    }

    /** CRC32C of a file, read through a direct buffer. */
    public static long crc(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.allocateDirect(BUF);
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            while (ch.read(b.clear()) > 0) {
                crc.update(b.flip());
            }
        }
        return crc.getValue();
    }

    /** Checks the word pattern at a few positions (catches shifted or misplaced chunks). */
    public static void checkSamples(Path p, long seed, long length, int samples) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8);
        java.util.Random r = new java.util.Random(seed);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            for (int i = 0; i < samples; i++) {
                long pos = (Math.floorMod(r.nextLong(), length / 8)) * 8;
                b.clear();
                ch.read(b, pos);
                long w = b.flip().getLong();
                if (w != word(seed, pos)) {
                    throw new AssertionError("word at " + pos + " is " + Long.toHexString(w) + ", expected "
                            + Long.toHexString(word(seed, pos)));
                }
            }
        }
    }
}
