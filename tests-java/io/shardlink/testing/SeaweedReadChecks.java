package io.shardlink.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkException;
import io.shardlink.config.Transport;
import io.shardlink.testing.SeaweedFixtures.Needle;
import io.shardlink.wire.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Needle reads of the SeaweedFS fixtures through a real node pair, the same checks over whichever transport the test
 * sets up (QUIC on the host, RDMA in the VM); every answer's transport is asserted.
 *
 * <p>The served directory ({@link #prepare}): the clean fixtures as volumes 1 (healthy), 2 (ec_1, collection
 * "pics") and 3 (empty); ec_1 again as volume 12 with one data byte flipped, as volume 22 without its .idx, and as
 * volume 32 with its .dat cut inside the last needle.
 */
public final class SeaweedReadChecks {
    public static final long DAMAGED = 12;
    public static final long SCANNED = 22;
    public static final long TRUNCATED = 32;
    private static final long TIMEOUT = 200;
    /** Reads are at most this long (the VM's nodes send at most 1 MiB); larger needles are read in chunks. */
    private static final int CHUNK = 1 << 20;

    private final Map<Long, Map<Long, Needle>> want;
    private final Needle bad;
    private final Needle cut;
    /** Every how many needles of the damaged and scanned copies are re-read (1 = all; the VM samples). */
    private int copyStride = 1;

    private SeaweedReadChecks(Map<Long, Map<Long, Needle>> want, Needle bad, Needle cut) {
        this.want = want;
        this.bad = bad;
        this.cut = cut;
    }

    /** Builds the served directory in {@code dir}; returns the checks to run against a node serving it. */
    public static SeaweedReadChecks prepare(Path dir) throws Exception {
        SeaweedFixtures.copyAll(dir, true);
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        List<Needle> ec = new ArrayList<>(want.get(SeaweedFixtures.EC).values());
        Needle bad = ec.get(150);
        SeaweedFixtures.copy("ec_1", dir, "damaged_" + DAMAGED, true);
        SeaweedFixtures.flipDataByte(dir.resolve("damaged_" + DAMAGED + ".dat"), bad, bad.data().length - 1);
        SeaweedFixtures.copy("ec_1", dir, "scan_" + SCANNED, false);
        Needle last = ec.stream().max((x, y) -> Long.compare(x.position(), y.position())).orElseThrow();
        SeaweedFixtures.copy("ec_1", dir, "cut_" + TRUNCATED, true);
        try (FileChannel ch = FileChannel.open(dir.resolve("cut_" + TRUNCATED + ".dat"), StandardOpenOption.WRITE)) {
            ch.truncate(last.position() + 64);
        }
        return new SeaweedReadChecks(want, bad, last);
    }

    private static ReadResult read(Peer p, long vol, Needle n, long cookie, long off, int len) throws Exception {
        return p.read(vol, n.id(), cookie, off, len).get(TIMEOUT, TimeUnit.SECONDS);
    }

    /** The whole needle in chunks of at most {@link #CHUNK}, each answer's transport and flags checked. */
    private static void assertWhole(Peer p, long vol, Needle n, Transport t) throws Exception {
        ByteBuffer all = ByteBuffer.allocate(n.data().length);
        for (long off = 0; ; off += CHUNK) {
            ReadResult r = read(p, vol, n, n.cookieValue(), off, CHUNK);
            assertThat(r.transport()).isEqualTo(t);
            assertThat(r.blobFlags()).as("flags of needle %x", n.id()).isEqualTo(n.flags());
            assertThat(r.length()).isLessThanOrEqualTo(all.remaining());
            all.put(bytes(r));
            if (r.length() < CHUNK) {
                break;
            }
        }
        assertThat(all.array()).as("needle %x of volume %d", n.id(), vol).isEqualTo(n.data());
    }

    private static byte[] bytes(ReadResult r) {
        byte[] b = new byte[r.length()];
        r.data().duplicate().get(b);
        return b;
    }

    private static void assertRefused(Peer p, long vol, long needle, long cookie, ErrorCode code, String... texts) {
        var a = assertThatThrownBy(() -> p.read(vol, needle, cookie, 0, 64).get(TIMEOUT, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(ShardlinkException.class)
                .matches(e -> ((ShardlinkException) e).code() == code, "error code " + code);
        for (String t : texts) {
            a.hasMessageContaining(t);
        }
    }

    /**
     * Re-read only every {@code stride}-th needle of the damaged and the scanned copy of ec_1 (the clean fixtures
     * are always read whole): the copies test the source, which the host covers in full, not the transport.
     */
    public SeaweedReadChecks sampleCopies(int stride) {
        copyStride = Math.max(1, stride);
        return this;
    }

    /** Every live needle of volumes 1, 2 and 3 (and 22, indexed by scan) byte-exact, whole and in chunks. */
    public void everyLiveNeedleByteExact(Peer p, Transport t) throws Exception {
        int served = 0;
        for (Map<Long, Needle> vol : want.values()) {
            for (Needle n : vol.values()) {
                assertWhole(p, n.volumeId(), n, t);
                served++;
            }
        }
        assertThat(served).isEqualTo(7 + 298);
        int i = 0;
        for (Needle n : want.get(SeaweedFixtures.EC).values()) {
            if (i++ % copyStride == 0) {
                assertWhole(p, SCANNED, n, t);
            }
        }
        // the largest needle in 64 KiB chunks, the last one short
        Needle big = want.get(SeaweedFixtures.EC).values().stream()
                .max((x, y) -> Integer.compare(x.data().length, y.data().length)).orElseThrow();
        ByteBuffer all = ByteBuffer.allocate(big.data().length);
        int chunk = 64 * 1024;
        for (long off = 0; ; off += chunk) {
            ReadResult r = read(p, SeaweedFixtures.EC, big, big.cookieValue(), off, chunk);
            assertThat(r.transport()).isEqualTo(t);
            all.put(bytes(r));
            if (r.length() < chunk) {
                break;
            }
        }
        assertThat(all.array()).isEqualTo(big.data());
    }

    /** A flipped byte: CHECKSUM_MISMATCH naming volume, needle and both checksums, for that needle only. */
    public void checksumMismatchForThatNeedleOnly(Peer p, Transport t) throws Exception {
        assertRefused(p, DAMAGED, bad.id(), bad.cookieValue(), ErrorCode.CHECKSUM_MISMATCH,
                "CHECKSUM_MISMATCH", "volume " + DAMAGED + " needle " + Long.toHexString(bad.id()),
                "stored checksum 0x", "data has CRC32C 0x");
        int i = 0;
        for (Needle n : want.get(SeaweedFixtures.EC).values()) {
            if (n.id() != bad.id() && i++ % copyStride == 0) {
                assertWhole(p, DAMAGED, n, t);
            }
        }
        assertRefused(p, DAMAGED, bad.id(), bad.cookieValue(), ErrorCode.CHECKSUM_MISMATCH, "not served");
    }

    /** Deleted needles, wrong and missing cookies, the empty volume, unknown volumes: NOT_FOUND, never data. */
    public void notFoundCases(Peer p) throws Exception {
        byte[] idx = Files.readAllBytes(SeaweedFixtures.DIR.resolve("healthy_volume.idx"));
        for (long d : SeaweedFixtures.deletedIds(idx)) {
            assertRefused(p, SeaweedFixtures.HEALTHY, d, 0, ErrorCode.NOT_FOUND, "deleted");
        }
        Random rnd = new Random(11);
        for (Needle n : want.get(SeaweedFixtures.HEALTHY).values()) {
            long wrong = (n.cookieValue() + 1 + rnd.nextInt(1000)) & 0xFFFFFFFFL;
            assertRefused(p, SeaweedFixtures.HEALTHY, n.id(), wrong, ErrorCode.NOT_FOUND, "with cookie");
        }
        Needle any = want.get(SeaweedFixtures.EC).values().iterator().next();
        assertThatThrownBy(() -> p.read(SeaweedFixtures.EC, any.id(), 0, 64).get(TIMEOUT, TimeUnit.SECONDS))
                .hasMessageContaining("NOT_FOUND").hasMessageContaining("cookie");
        assertRefused(p, SeaweedFixtures.EMPTY, 1, 0, ErrorCode.NOT_FOUND, "no needle 1 in volume 3");
        assertRefused(p, 404, 1, 0, ErrorCode.NOT_FOUND, "no volume 404");
    }

    /** The cut .dat: a clear error for the cut needle, the needles before it served. */
    public void truncatedDat(Peer p, Transport t) throws Exception {
        assertRefused(p, TRUNCATED, cut.id(), cut.cookieValue(), ErrorCode.SOURCE_FAILED, "truncated .dat");
        Needle first = want.get(SeaweedFixtures.EC).values().stream()
                .min((x, y) -> Long.compare(x.position(), y.position())).orElseThrow();
        assertWhole(p, TRUNCATED, first, t);
    }

    /** 1,000 reads in flight across the 298 needles of ec_1 (each its first MiB at most), every answer verified. */
    public void thousandConcurrentReads(Peer p, Transport t) throws Exception {
        List<Needle> ec = new ArrayList<>(want.get(SeaweedFixtures.EC).values());
        List<CompletableFuture<ReadResult>> fs = new ArrayList<>();
        List<Needle> asked = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Needle n = ec.get((i * 7) % ec.size());
            asked.add(n);
            // ask for what the needle has: the server stages the requested length for each read in flight
            fs.add(p.read(SeaweedFixtures.EC, n.id(), n.cookieValue(), 0, Math.min(CHUNK, n.data().length)));
        }
        for (int i = 0; i < fs.size(); i++) {
            ReadResult r = fs.get(i).get(TIMEOUT * 2, TimeUnit.SECONDS);
            Needle n = asked.get(i);
            assertThat(r.transport()).isEqualTo(t);
            assertThat(r.blobFlags()).isEqualTo(n.flags());
            assertThat(bytes(r)).as("read %d: needle %x", i, n.id())
                    .isEqualTo(java.util.Arrays.copyOf(n.data(), Math.min(CHUNK, n.data().length)));
        }
    }
}
