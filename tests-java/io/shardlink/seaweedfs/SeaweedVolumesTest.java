package io.shardlink.seaweedfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.BlobAttributes;
import io.shardlink.api.BlobChecksumException;
import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.BlobSource;
import io.shardlink.testing.SeaweedFixtures.Needle;
import io.shardlink.testing.SeaweedFixtures;
import io.shardlink.testing.SoakLoad;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SeaweedFS volume source on the real fixtures, checked against the independent parse in SeaweedFixtures. */
class SeaweedVolumesTest {
    @TempDir
    Path tmp;

    private static byte[] readAll(SeaweedVolumes v, Needle n, int chunk) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(n.data().length + chunk);
        long off = 0;
        while (true) {
            ByteBuffer dst = ByteBuffer.allocateDirect(chunk);
            BlobAttributes a = new BlobAttributes();
            int got = v.read(n.volumeId(), n.id(), n.cookieValue(), off, chunk, dst, a);
            assertThat(a.flags()).isEqualTo(n.flags());
            dst.flip();
            out.put(dst);
            off += got;
            if (got < chunk) {
                break;
            }
        }
        return Arrays.copyOf(out.array(), out.position());
    }

    @Test
    void everyLiveNeedleIsServedByteExactWithItsFlags() throws Exception {
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        assertThat(want.get(SeaweedFixtures.HEALTHY)).hasSize(7);
        assertThat(want.get(SeaweedFixtures.EC)).hasSize(298);
        assertThat(want.get(SeaweedFixtures.EC).values()).anyMatch(n -> (n.flags() & NeedleFormat.FLAG_GZIP) != 0);
        try (SeaweedVolumes v = SeaweedVolumes.open(SeaweedFixtures.copyAll(tmp.resolve("vols"), true))) {
            assertThat(v.volumes()).extracting(SeaweedVolumes.VolumeInfo::id).containsExactly(1L, 2L, 3L);
            assertThat(v.volumes().get(1).collection()).isEqualTo("pics");
            for (Map<Long, Needle> vol : want.values()) {
                for (Needle n : vol.values()) {
                    assertThat(n.checksumOk()).isTrue();
                    assertThat(readAll(v, n, 1 << 20)).as("needle %x", n.id()).isEqualTo(n.data());
                }
            }
            // a 7 KiB chunking of a large needle, and a read from the middle that ends short at the data's end
            Needle big = want.get(SeaweedFixtures.EC).values().stream().max((x, y) -> x.data().length - y.data().length)
                    .orElseThrow();
            assertThat(big.data().length).isGreaterThan(1 << 20);
            assertThat(readAll(v, big, 7 * 1024)).isEqualTo(big.data());
            ByteBuffer dst = ByteBuffer.allocate(1000);
            int n = v.read(big.volumeId(), big.id(), big.cookieValue(), big.data().length - 300, 1000, dst,
                    new BlobAttributes());
            assertThat(n).isEqualTo(300);
            assertThat(Arrays.copyOf(dst.array(), 300))
                    .isEqualTo(Arrays.copyOfRange(big.data(), big.data().length - 300, big.data().length));
            assertThat(v.read(big.volumeId(), big.id(), big.cookieValue(), big.data().length + 5, 10,
                    ByteBuffer.allocate(10), new BlobAttributes())).isZero();
            // the listing agrees
            List<NeedleReport> rep = v.check(SeaweedFixtures.EC);
            assertThat(rep).hasSize(298).allMatch(NeedleReport::checksumOk);
            assertThat(rep).extracting(NeedleReport::fileId).contains(
                    FileId.format(SeaweedFixtures.EC, big.id(), big.cookie()));
        }
    }

    @Test
    void cookiesDeletionsAndMissingAreNotFound() throws Exception {
        Map<Long, Needle> healthy = SeaweedFixtures.expected().get(SeaweedFixtures.HEALTHY);
        byte[] idx = Files.readAllBytes(SeaweedFixtures.DIR.resolve("healthy_volume.idx"));
        Needle n = healthy.values().iterator().next();
        try (SeaweedVolumes v = SeaweedVolumes.open(SeaweedFixtures.copyAll(tmp.resolve("vols"), true));
             SeaweedVolumes lax = SeaweedVolumes.open(tmp.resolve("vols"), false)) {
            ByteBuffer dst = ByteBuffer.allocate(100);
            assertThatThrownBy(() -> v.read(1, n.id(), n.cookieValue() ^ 1, 0, 100, dst, new BlobAttributes()))
                    .isInstanceOf(BlobNotFoundException.class).hasMessageContaining("with cookie");
            assertThatThrownBy(() -> v.read(1, n.id(), 0, 100, dst))
                    .isInstanceOf(BlobNotFoundException.class).hasMessageContaining("cookie");
            assertThat(dst.position()).isZero();
            // without requireCookie a cookie-less read is served, a wrong cookie still is not
            assertThat(lax.read(1, n.id(), 0, 100, dst)).isEqualTo(Math.min(100, n.data().length));
            assertThatThrownBy(() -> lax.read(1, n.id(), n.cookieValue() + 1, 0, 100, ByteBuffer.allocate(100),
                    new BlobAttributes())).isInstanceOf(BlobNotFoundException.class);
            java.util.Set<Long> deleted = SeaweedFixtures.deletedIds(idx);
            assertThat(deleted).isNotEmpty();
            for (long d : deleted) {
                assertThatThrownBy(() -> lax.read(1, d, 0, 10, ByteBuffer.allocate(10)))
                        .isInstanceOf(BlobNotFoundException.class).hasMessageContaining("deleted");
            }
            assertThatThrownBy(() -> v.read(1, 0x7777777L, 5, 0, 10, dst, new BlobAttributes()))
                    .isInstanceOf(BlobNotFoundException.class).hasMessageContaining("no needle 7777777 in volume 1");
            assertThatThrownBy(() -> v.read(99, 1, 5, 0, 10, dst, new BlobAttributes()))
                    .isInstanceOf(BlobNotFoundException.class).hasMessageContaining("no volume 99");
            // the empty volume opens and has nothing
            assertThat(v.volumes().get(2).liveNeedles()).isZero();
            assertThatThrownBy(() -> v.read(3, 1, 5, 0, 10, dst, new BlobAttributes()))
                    .isInstanceOf(BlobNotFoundException.class);
        }
    }

    @Test
    void aFlippedDataByteRefusesThatNeedleOnly() throws Exception {
        Map<Long, Needle> ec = SeaweedFixtures.expected().get(SeaweedFixtures.EC);
        Path dir = SeaweedFixtures.copyAll(tmp.resolve("vols"), true);
        Needle bad = ec.values().stream().skip(100).findFirst().orElseThrow();
        SeaweedFixtures.flipDataByte(dir.resolve("pics_2.dat"), bad, bad.data().length / 2);
        try (SeaweedVolumes v = SeaweedVolumes.open(dir)) {
            for (int round = 0; round < 2; round++) { // refused every time, not only the first
                assertThatThrownBy(() -> v.read(2, bad.id(), bad.cookieValue(), 0, 10, ByteBuffer.allocate(10),
                        new BlobAttributes()))
                        .isInstanceOf(BlobChecksumException.class)
                        .hasMessageContaining("volume 2 needle " + Long.toHexString(bad.id()))
                        .hasMessageMatching(".*stored checksum 0x[0-9a-f]{8}, data has CRC32C 0x[0-9a-f]{8}.*");
            }
            for (Needle n : ec.values()) {
                if (n.id() != bad.id()) {
                    assertThat(readAll(v, n, 4 << 20)).isEqualTo(n.data());
                }
            }
            List<NeedleReport> rep = v.check(2);
            assertThat(rep).filteredOn(r -> !r.checksumOk()).extracting(NeedleReport::needleId)
                    .containsExactly(bad.id());
        }
    }

    @Test
    void withoutIdxTheDatIsScannedToTheSameNeedles() throws Exception {
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        try (SeaweedVolumes v = SeaweedVolumes.open(SeaweedFixtures.copyAll(tmp.resolve("vols"), false))) {
            assertThat(v.volumes()).allMatch(SeaweedVolumes.VolumeInfo::scanned);
            for (Map<Long, Needle> vol : want.values()) {
                assertThat(v.volumes().stream().filter(i -> i.id() == vol.values().stream().findFirst()
                        .map(Needle::volumeId).orElse(3L)).findFirst().orElseThrow().liveNeedles())
                        .isEqualTo(vol.size());
                for (Needle n : vol.values()) {
                    assertThat(readAll(v, n, 1 << 20)).isEqualTo(n.data());
                }
            }
        }
    }

    @Test
    void truncatedAndGarbageFilesGiveClearErrors() throws Exception {
        Map<Long, Needle> ec = SeaweedFixtures.expected().get(SeaweedFixtures.EC);
        Needle last = ec.values().stream().max((x, y) -> Long.compare(x.position(), y.position())).orElseThrow();
        Needle first = ec.values().stream().min((x, y) -> Long.compare(x.position(), y.position())).orElseThrow();
        // .dat cut in the middle of the last needle: with .idx, that read fails clearly, the others are served
        Path withIdx = tmp.resolve("cut");
        SeaweedFixtures.copy("ec_1", withIdx, "2", true);
        truncate(withIdx.resolve("2.dat"), last.position() + 40);
        try (SeaweedVolumes v = SeaweedVolumes.open(withIdx)) {
            assertThatThrownBy(() -> v.read(2, last.id(), last.cookieValue(), 0, 10, ByteBuffer.allocate(10),
                    new BlobAttributes()))
                    .isInstanceOf(VolumeFormatException.class).hasMessageContaining("truncated .dat");
            assertThat(readAll(v, first, 1 << 20)).isEqualTo(first.data());
        }
        // without .idx the scan refuses it at open
        Path noIdx = tmp.resolve("cut-scan");
        SeaweedFixtures.copy("ec_1", noIdx, "2", false);
        truncate(noIdx.resolve("2.dat"), last.position() + 40);
        assertThatThrownBy(() -> SeaweedVolumes.open(noIdx)).isInstanceOf(VolumeFormatException.class)
                .hasMessageContaining("truncated .dat");
        // a cut .idx, a superblock of another version, a file too short for a superblock, garbage .dat
        Path cutIdx = tmp.resolve("cut-idx");
        SeaweedFixtures.copy("ec_1", cutIdx, "2", true);
        truncate(cutIdx.resolve("2.idx"), 16 * 10 + 7);
        assertThatThrownBy(() -> SeaweedVolumes.open(cutIdx)).isInstanceOf(VolumeFormatException.class)
                .hasMessageContaining("truncated index");
        Path v1 = tmp.resolve("v1");
        SeaweedFixtures.copy("healthy_volume", v1, "4", true);
        try (var ch = java.nio.channels.FileChannel.open(v1.resolve("4.dat"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), 0);
        }
        assertThatThrownBy(() -> SeaweedVolumes.open(v1)).isInstanceOf(VolumeFormatException.class)
                .hasMessageContaining("superblock version 1 is not supported");
        Path tiny = tmp.resolve("tiny");
        Files.createDirectories(tiny);
        Files.write(tiny.resolve("5.dat"), new byte[] {3, 0, 0});
        assertThatThrownBy(() -> SeaweedVolumes.open(tiny)).isInstanceOf(VolumeFormatException.class)
                .hasMessageContaining("shorter than the 8-byte superblock");
        Path garbage = tmp.resolve("garbage");
        Files.createDirectories(garbage);
        byte[] g = new byte[4096];
        new java.util.Random(3).nextBytes(g);
        g[0] = 3;
        g[6] = 0;
        g[7] = 0;
        Files.write(garbage.resolve("6.dat"), g);
        assertThatThrownBy(() -> SeaweedVolumes.open(garbage)).isInstanceOf(VolumeFormatException.class);
        // garbage .idx pointing into the data: a clear error at that read, never bytes
        Path badIdx = tmp.resolve("bad-idx");
        SeaweedFixtures.copy("ec_1", badIdx, "2", false);
        ByteBuffer e = ByteBuffer.allocate(16).putLong(42).putInt((int) (first.position() / 8 + 3)).putInt(100);
        Files.write(badIdx.resolve("2.idx"), e.array());
        try (SeaweedVolumes v = SeaweedVolumes.open(badIdx, false)) {
            assertThatThrownBy(() -> v.read(2, 42, 0, 10, ByteBuffer.allocate(10)))
                    .isInstanceOf(VolumeFormatException.class).hasMessageContaining("corrupt");
        }
    }

    @Test
    void needlesAppendedWhileServedAreSeen() throws Exception {
        Map<Long, Needle> ec = SeaweedFixtures.expected().get(SeaweedFixtures.EC);
        byte[] idx = Files.readAllBytes(SeaweedFixtures.DIR.resolve("ec_1.idx"));
        byte[] dat = Files.readAllBytes(SeaweedFixtures.DIR.resolve("ec_1.dat"));
        Path dir = tmp.resolve("live");
        Files.createDirectories(dir);
        Files.write(dir.resolve("2.dat"), dat);
        Files.write(dir.resolve("2.idx"), Arrays.copyOf(idx, 16 * 100));
        long late = ByteBuffer.wrap(idx, 16 * 200, 8).getLong();
        Needle n = ec.get(late);
        try (SeaweedVolumes v = SeaweedVolumes.open(dir)) {
            assertThat(v.volumes().get(0).liveNeedles()).isEqualTo(100);
            assertThatThrownBy(() -> readAll(v, n, 1 << 20)).isInstanceOf(BlobNotFoundException.class);
            // the writer appends the rest of the index, the last entry in two pieces
            Files.write(dir.resolve("2.idx"), Arrays.copyOfRange(idx, 16 * 100, idx.length - 5),
                    StandardOpenOption.APPEND);
            assertThat(readAll(v, n, 1 << 20)).isEqualTo(n.data());
            Files.write(dir.resolve("2.idx"), Arrays.copyOfRange(idx, idx.length - 5, idx.length),
                    StandardOpenOption.APPEND);
            v.refresh();
            assertThat(v.volumes().get(0).liveNeedles()).isEqualTo(298);
            // and a deletion appended later takes effect at once
            Files.write(dir.resolve("2.idx"), ByteBuffer.allocate(16).putLong(late).putInt(0).putInt(-1).array(),
                    StandardOpenOption.APPEND);
            assertThatThrownBy(() -> readAll(v, n, 1 << 20)).isInstanceOf(BlobNotFoundException.class)
                    .hasMessageContaining("deleted");
        }
    }

    @Test
    void theDeletedFilesIndexLoadsWithItsTombstones() throws Exception {
        byte[] idx = Files.readAllBytes(SeaweedFixtures.DIR.resolve("deleted_files.idx"));
        assertThat(idx.length).isEqualTo(230 * 16);
        NeedleIndex ni = new NeedleIndex(0);
        ByteBuffer b = ByteBuffer.wrap(idx);
        while (b.hasRemaining()) {
            ni.put(b.getLong(), b.getInt(), b.getInt());
        }
        Map<Long, long[]> live = SeaweedFixtures.parseIdx(idx);
        assertThat(ni.liveCount()).isEqualTo(live.size());
        for (Map.Entry<Long, long[]> e : live.entrySet()) {
            NeedleIndex.Entry got = ni.get(e.getKey());
            assertThat(got.live()).isTrue();
            assertThat(got.offsetUnits()).isEqualTo(e.getValue()[0]);
            assertThat(got.size()).isEqualTo((int) e.getValue()[1]);
        }
        for (long d : SeaweedFixtures.deletedIds(idx)) {
            assertThat(ni.get(d).live()).isFalse();
        }
        assertThat(ni.memoryBytes() / Math.max(1, ni.idCount())).isLessThanOrEqualTo(48);
    }

    /** Hundreds of thousands of reads: file descriptors, threads and direct memory stay where they were. */
    @Test
    void soakOfReadsLeavesNothingBehind() throws Exception {
        java.util.List<Needle> ec = new java.util.ArrayList<>(SeaweedFixtures.expected().get(SeaweedFixtures.EC)
                .values());
        try (SeaweedVolumes v = SeaweedVolumes.open(SeaweedFixtures.copyAll(tmp.resolve("vols"), true))) {
            ByteBuffer dst = ByteBuffer.allocateDirect(4096);
            BlobAttributes a = new BlobAttributes();
            java.util.Random rnd = new java.util.Random(5);
            Runnable burst = () -> {
                for (int i = 0; i < 50_000; i++) {
                    Needle n = ec.get(rnd.nextInt(ec.size()));
                    int off = rnd.nextInt(n.data().length);
                    dst.clear();
                    try {
                        int got = v.read(2, n.id(), n.cookieValue(), off, 4096, dst, a);
                        if (got != Math.min(4096, n.data().length - off) || dst.get(0) != n.data()[off]) {
                            throw new AssertionError("read " + i + " of needle " + n.id() + " at " + off);
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            };
            burst.run(); // warm: thread-local buffers, verified checksums, JIT
            long fds = openFds();
            int threads = Thread.activeCount();
            long direct = SoakLoad.directMemory();
            for (int k = 0; k < 4; k++) {
                burst.run();
            }
            // the JVM's descriptor count is shared with what earlier tests left closing: a leak shows as growth
            assertThat(openFds()).isLessThanOrEqualTo(fds);
            assertThat(Thread.activeCount()).isLessThanOrEqualTo(threads);
            assertThat(SoakLoad.directMemory()).isLessThanOrEqualTo(direct);
        }
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    @Test
    void fileIdsParseAndFormatLikeSeaweedFs() {
        FileId f = FileId.parse("3,01637037d6");
        assertThat(f.volumeId()).isEqualTo(3);
        assertThat(f.needleId()).isEqualTo(1);
        assertThat(f.cookie()).isEqualTo(0x637037d6);
        assertThat(f.toString()).isEqualTo("3,01637037d6");
        assertThat(FileId.parse("7,1a2b3c4d5e6f70809").needleId()).isEqualTo(0x1a2b3c4d5L);
        assertThat(FileId.parse("7,1a2b3c4d5e6f70809").cookie()).isEqualTo(0xe6f70809);
        for (String bad : new String[] {"", "3", "3,", "3,0163703", "x,01637037d6", "3,0163zz37d6", "3,01637037d6_1"}) {
            assertThatThrownBy(() -> FileId.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bad SeaweedFS file id");
        }
    }

    private static void truncate(Path p, long size) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    static {
        // BlobSource.NO_COOKIE must stay distinct from every u32 cookie
        assert BlobSource.NO_COOKIE < 0;
    }
}
