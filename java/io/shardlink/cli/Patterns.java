package io.shardlink.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** Deterministic test data: generated shards and blob contents that a reader can verify without a copy. */
final class Patterns {
    private Patterns() {}

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Fills {@code b} (position..limit) with pseudo-random bytes for stream position {@code pos} of {@code seed}. */
    static void fill(ByteBuffer b, long seed, long pos) {
        ByteBuffer o = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long word = pos >>> 3;
        int lead = (int) (pos & 7);
        int i = o.position();
        int end = o.limit();
        if (lead != 0) {
            long w = mix64(seed + word++);
            for (int k = lead; k < 8 && i < end; k++) {
                o.put(i++, (byte) (w >>> (k << 3)));
            }
        }
        for (; i + 8 <= end; i += 8) {
            o.putLong(i, mix64(seed + word++));
        }
        if (i < end) {
            long w = mix64(seed + word);
            for (int k = 0; i < end; k++) {
                o.put(i++, (byte) (w >>> (k << 3)));
            }
        }
        b.position(end);
    }

    /** The seed of a blob's contents. */
    static long blobSeed(long volume, long needle) {
        return mix64(volume * 0x9E3779B97F4A7C15L ^ needle);
    }

    /** Writes a {@code size}-byte shard file; returns its CRC32C. */
    static long writeShard(Path file, long size, long seed) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long pos = 0;
            while (pos < size) {
                buf.clear().limit((int) Math.min(buf.capacity(), size - pos));
                fill(buf, seed, pos);
                buf.flip();
                crc.update(buf.duplicate());
                while (buf.hasRemaining()) {
                    pos += ch.write(buf);
                }
            }
        }
        return crc.getValue();
    }

    /** CRC32C of a file. */
    static long crcOf(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf.clear()) > 0) {
                crc.update(buf.flip());
            }
        }
        return crc.getValue();
    }
}
