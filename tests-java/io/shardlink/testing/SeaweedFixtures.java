package io.shardlink.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The real SeaweedFS volume files of /work/shared/fixtures/seaweedfs (or $SHARDLINK_SEAWEED_FIXTURES), copied into
 * test directories, and an independent parse of them written from the fixtures' README (whole files read into
 * byte arrays, no code shared with io.shardlink.seaweedfs) to check what the source serves.
 */
public final class SeaweedFixtures {
    public static final Path DIR = Path.of(System.getenv().getOrDefault("SHARDLINK_SEAWEED_FIXTURES",
            "/work/shared/fixtures/seaweedfs"));
    /** Volume ids the tests give the fixtures. */
    public static final long HEALTHY = 1;
    public static final long EC = 2;
    public static final long EMPTY = 3;

    /** One needle as the independent parse sees it. */
    public record Needle(long volumeId, long id, int cookie, byte[] data, int flags, long position, boolean checksumOk) {
        public long cookieValue() {
            return Integer.toUnsignedLong(cookie);
        }
    }

    private SeaweedFixtures() {}

    /**
     * Copies the three volumes into {@code dir}: healthy_volume as {@code 1.dat/.idx}, ec_1 as collection
     * {@code pics_2.dat/.idx}, empty_volume as {@code 3.dat/.idx}; with {@code withIdx} false, only the .dat files.
     */
    public static Path copyAll(Path dir, boolean withIdx) throws IOException {
        Files.createDirectories(dir);
        copy("healthy_volume", dir, "1", withIdx);
        copy("ec_1", dir, "pics_2", withIdx);
        copy("empty_volume", dir, "3", withIdx);
        return dir;
    }

    public static void copy(String fixture, Path dir, String base, boolean withIdx) throws IOException {
        Files.createDirectories(dir);
        Files.copy(DIR.resolve(fixture + ".dat"), dir.resolve(base + ".dat"));
        if (withIdx) {
            Files.copy(DIR.resolve(fixture + ".idx"), dir.resolve(base + ".idx"));
        }
        // the originals are read-only; the copies must be writable for tests that damage them
        dir.resolve(base + ".dat").toFile().setWritable(true);
        if (withIdx) {
            dir.resolve(base + ".idx").toFile().setWritable(true);
        }
    }

    /** Index entries of an .idx: id to {offset units, size}; later entries win, tombstones and offset 0 delete. */
    public static Map<Long, long[]> parseIdx(byte[] idx) {
        Map<Long, long[]> live = new LinkedHashMap<>();
        ByteBuffer b = ByteBuffer.wrap(idx);
        while (b.remaining() >= 16) {
            long id = b.getLong();
            long off = Integer.toUnsignedLong(b.getInt());
            int size = b.getInt();
            if (off == 0 || size == -1 || size <= 0) {
                live.remove(id);
            } else {
                live.put(id, new long[] {off, size});
            }
        }
        return live;
    }

    /** Ids that the .idx mentions but deletes (last entry a tombstone). */
    public static java.util.Set<Long> deletedIds(byte[] idx) {
        java.util.Set<Long> all = new java.util.HashSet<>();
        ByteBuffer b = ByteBuffer.wrap(idx);
        while (b.remaining() >= 16) {
            all.add(b.getLong());
            b.position(b.position() + 8);
        }
        all.removeAll(parseIdx(idx).keySet());
        return all;
    }

    /** The live needles of a volume from its .dat and .idx bytes, by id. */
    public static Map<Long, Needle> parse(long volumeId, byte[] dat, byte[] idx) {
        Map<Long, Needle> out = new TreeMap<>();
        ByteBuffer d = ByteBuffer.wrap(dat);
        for (Map.Entry<Long, long[]> e : parseIdx(idx).entrySet()) {
            int pos = (int) (e.getValue()[0] * 8);
            int cookie = d.getInt(pos);
            long id = d.getLong(pos + 4);
            int size = d.getInt(pos + 12);
            if (id != e.getKey() || size != (int) e.getValue()[1]) {
                throw new AssertionError("fixture parse: header at " + pos + " does not match the index");
            }
            int dataSize = d.getInt(pos + 16);
            byte[] data = Arrays.copyOfRange(dat, pos + 20, pos + 20 + dataSize);
            int flags = dat[pos + 20 + dataSize] & 0xFF;
            int stored = d.getInt(pos + 16 + size);
            CRC32C c = new CRC32C();
            c.update(data);
            int crc = (int) c.getValue();
            int legacy = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
            out.put(id, new Needle(volumeId, id, cookie, data, flags, pos, stored == crc || stored == legacy));
        }
        return out;
    }

    public static Map<Long, Needle> parse(long volumeId, Path dat, Path idx) throws IOException {
        return parse(volumeId, Files.readAllBytes(dat), Files.readAllBytes(idx));
    }

    /** The fixtures' live needles under the ids {@link #copyAll} gives them: volume id to (needle id to needle). */
    public static Map<Long, Map<Long, Needle>> expected() throws IOException {
        Map<Long, Map<Long, Needle>> m = new TreeMap<>();
        m.put(HEALTHY, parse(HEALTHY, DIR.resolve("healthy_volume.dat"), DIR.resolve("healthy_volume.idx")));
        m.put(EC, parse(EC, DIR.resolve("ec_1.dat"), DIR.resolve("ec_1.idx")));
        m.put(EMPTY, parse(EMPTY, DIR.resolve("empty_volume.dat"), DIR.resolve("empty_volume.idx")));
        return m;
    }

    /** Flips one bit of the data byte {@code at} of needle {@code n} in the .dat file {@code dat}. */
    public static void flipDataByte(Path dat, Needle n, int at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(dat.toFile(), "rw")) {
            long p = n.position() + 20 + at;
            f.seek(p);
            int b = f.read();
            f.seek(p);
            f.write(b ^ 0x10);
        }
    }
}
