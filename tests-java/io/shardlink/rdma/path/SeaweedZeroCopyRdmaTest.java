package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.seaweedfs.SeaweedVolumes;
import io.shardlink.state.PeerState;
import io.shardlink.testing.SeaweedFixtures;
import io.shardlink.testing.SeaweedFixtures.Needle;
import io.shardlink.wire.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Zero-copy serving of SeaweedFS needles over RDMA (node A on rxea reads from node B on rxeb): every live needle of
 * the fixtures byte-exact over RDMA with B's answers sent from registered read-only windows of the volume files
 * (access 0, over B's mappings of those files), no payload byte copied; a volume appended to while served; a bad
 * checksum refused on the zero-copy path; and the fallbacks (window budget too small, needles across windows) served
 * by copy and counted. After the nodes close, the devices' QP/CQ/MR/PD counts are back where they were.
 */
@Tag("rdma")
class SeaweedZeroCopyRdmaTest {
    private static final int CHUNK = RdmaPathTestSupport.MiB; // the VM nodes' maxSendSize
    private static final long TIMEOUT = 200;

    @TempDir
    Path tmp;

    static ShardlinkConfig config(String id, String device) throws Exception {
        return RdmaPathTestSupport.vmConfig(id, device).requestTimeout(Duration.ofSeconds(180))
                .idleTimeout(Duration.ofMinutes(30)).build();
    }

    /** Reads a needle whole in CHUNK pieces over RDMA; returns how many answers carried bytes. */
    private static int readWhole(Peer p, long vol, Needle n) throws Exception {
        ByteBuffer all = ByteBuffer.allocate(n.data().length);
        int answers = 0;
        for (long off = 0; ; off += CHUNK) {
            ReadResult r = p.read(vol, n.id(), n.cookieValue(), off, CHUNK).get(TIMEOUT, TimeUnit.SECONDS);
            assertThat(r.transport()).isEqualTo(Transport.RDMA);
            assertThat(r.blobFlags()).isEqualTo(n.flags());
            byte[] b = new byte[r.length()];
            r.data().duplicate().get(b);
            all.put(b);
            answers += r.length() > 0 ? 1 : 0;
            if (r.length() < CHUNK) {
                break;
            }
        }
        assertThat(all.array()).as("needle %x of volume %d", n.id(), vol).isEqualTo(n.data());
        return answers;
    }

    @Test
    void everyLiveNeedleIsServedFromTheFileMappingWithoutACopy() throws Exception {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
        Map<String, Long> before = RdmaSoakRdmaTest.rdmaResources();
        Path dir = SeaweedFixtures.copyAll(tmp.resolve("vols"), true);
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        List<Needle> ec = new ArrayList<>(want.get(SeaweedFixtures.EC).values());
        Needle bad = ec.get(150);
        SeaweedFixtures.copy("ec_1", dir, "damaged_12", true);
        SeaweedFixtures.flipDataByte(dir.resolve("damaged_12.dat"), bad, bad.data().length - 1);
        // volume 5: ec_1 cut before its last 100 needles (file order), with only the index entries before the cut
        ec.sort(Comparator.comparingLong(Needle::position));
        long cut = ec.get(ec.size() - 100).position();
        byte[] dat = Files.readAllBytes(SeaweedFixtures.DIR.resolve("ec_1.dat"));
        byte[] idx = Files.readAllBytes(SeaweedFixtures.DIR.resolve("ec_1.idx"));
        Files.write(dir.resolve("5.dat"), Arrays.copyOf(dat, (int) cut));
        ByteBuffer early = ByteBuffer.allocate(idx.length);
        for (int i = 0; i < idx.length; i += 16) {
            if (Integer.toUnsignedLong(ByteBuffer.wrap(idx, i + 8, 4).getInt()) * 8 < cut) {
                early.put(idx, i, 16);
            }
        }
        Files.write(dir.resolve("5.idx"), Arrays.copyOf(early.array(), early.position()));

        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        RdmaDataPathProvider pb = new RdmaDataPathProvider();
        ShardlinkNode a = RdmaPathTestSupport.start(config("zc-a", RdmaPathTestSupport.deviceA()), pa);
        ShardlinkNode b = RdmaPathTestSupport.start(config("zc-b", RdmaPathTestSupport.deviceB()), pb);
        try (a; b; SeaweedVolumes volumes = SeaweedVolumes.open(dir)) {
            b.blobSource(volumes);
            Peer p = a.connect(b.localAddress());
            assertThat(p.state()).as("A's peer after connect (last cause: %s)", p.lastCause())
                    .isEqualTo(PeerState.CONNECTED);
            int answers = 0;
            long bytes = 0;
            for (Map<Long, Needle> vol : want.values()) {
                for (Needle n : vol.values()) {
                    answers += readWhole(p, n.volumeId(), n);
                    bytes += n.data().length;
                }
            }
            // the needles before the cut, then the writer appends the rest of .dat and the whole index again
            for (Needle n : ec.subList(0, ec.size() - 100)) {
                answers += readWhole(p, 5, n);
                bytes += n.data().length;
            }
            Needle late = ec.get(ec.size() - 1);
            assertThatThrownBy(() -> p.read(5, late.id(), late.cookieValue(), 0, 64).get(TIMEOUT, TimeUnit.SECONDS))
                    .hasMessageContaining("NOT_FOUND");
            Files.write(dir.resolve("5.dat"), Arrays.copyOfRange(dat, (int) cut, dat.length), StandardOpenOption.APPEND);
            Files.write(dir.resolve("5.idx"), idx, StandardOpenOption.APPEND);
            for (Needle n : ec.subList(ec.size() - 100, ec.size())) {
                answers += readWhole(p, 5, n);
                bytes += n.data().length;
            }
            // the flipped byte: refused on the zero-copy path, every time, and its neighbours still served
            for (int round = 0; round < 2; round++) {
                assertThatThrownBy(() -> p.read(12, bad.id(), bad.cookieValue(), 0, CHUNK)
                        .get(TIMEOUT, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOf(ShardlinkException.class)
                        .matches(e -> ((ShardlinkException) e).code() == ErrorCode.CHECKSUM_MISMATCH)
                        .hasMessageContaining("volume 12 needle " + Long.toHexString(bad.id()));
            }
            Needle neighbour = ec.stream().filter(n -> n.id() != bad.id()).findFirst().orElseThrow();
            answers += readWhole(p, 12, neighbour);
            bytes += neighbour.data().length;

            ZeroCopyStats s = pb.zeroCopyStats();
            System.out.println("zero-copy serving: " + answers + " answers, " + bytes + " bytes; " + s + "; B " + pb.stats());
            assertThat(s.zeroCopyReads()).as("answers sent from file windows").isEqualTo(answers);
            assertThat(s.zeroCopyBytes()).isEqualTo(bytes);
            assertThat(s.copiedReads()).as("answers copied").isZero();
            assertThat(s.copiedBytes()).as("payload bytes copied").isZero();
            assertThat(s.windowsRemapped()).as("volume 5's window mapped again after it grew").isEqualTo(1);
            // a kernel before 6.2 cannot pin a read-only shared mapping: every window is then the shim's private one
            boolean oldKernel = !kernelAtLeast(6, 2);
            assertThat(s.windowsPrivate()).as("private windows (kernel %s)", System.getProperty("os.version"))
                    .isEqualTo(oldKernel ? s.windowsRegistered() : 0);
            // the MRs the WRITEs used: one per served volume file, each over B's read-only mapping of that file
            // (its first bytes are the file's superblock), registered with access 0
            List<MemoryRegion> regions = pb.fileWindowRegions();
            assertThat(regions).hasSize(4); // volumes 1, 2, 5 and 12 (3 is empty: nothing read)
            byte[] superblock = Arrays.copyOf(dat, 8);
            for (MemoryRegion mr : regions) {
                assertThat(mr.access()).as("window %s access", mr).isZero();
                assertThat(mr.buffer().isReadOnly()).isTrue();
                assertThat(mr.buffer().isDirect()).isTrue();
                byte[] head = new byte[8];
                mr.buffer().duplicate().get(head);
                assertThat(head[0]).as("superblock version of the mapped file").isEqualTo((byte) 3);
                if (mr.length() == dat.length) {
                    assertThat(head).isEqualTo(superblock);
                }
            }
            assertThat(regions).filteredOn(mr -> mr.length() == dat.length).hasSize(3); // 2, 5 (grown), 12
            assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
            assertThat(p.metrics().fallbacks()).isEmpty();
        }
        assertThat(pb.stats().liveRegions()).isZero();
        assertThat(pb.zeroCopyStats().liveWindows()).isZero();
        assertThat(pb.stats().pinnedBytes()).isZero();
        Map<String, Long> after = RdmaSoakRdmaTest.rdmaResources();
        System.out.println("rdma resource before " + before + ", after " + after);
        assertThat(after).as("rdma resource counts after the nodes closed").isEqualTo(before);
    }

    private static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version").split("[.-]");
        int ma = Integer.parseInt(v[0]);
        int mi = Integer.parseInt(v[1]);
        return ma > major || (ma == major && mi >= minor);
    }

    @Test
    void withoutRoomOrAcrossWindowsReadsAreCopiedAndCounted() throws Exception {
        RdmaPathTestSupport.requireRdma(RdmaPathTestSupport.deviceA(), RdmaPathTestSupport.deviceB());
        Path dir = SeaweedFixtures.copyAll(tmp.resolve("vols"), true);
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        RdmaDataPathProvider pa = new RdmaDataPathProvider();
        // 64 KiB windows, 128 KiB of them at most: small needles go zero-copy, those across a boundary are copied
        RdmaDataPathProvider pb = new RdmaDataPathProvider().fileWindows(64 * 1024, 128 * 1024);
        // whole-file windows (nothing crosses one) but 4 KiB of window budget: no room for any window
        RdmaDataPathProvider pc = new RdmaDataPathProvider().fileWindows(RdmaDataPathProvider.DEFAULT_FILE_WINDOW, 4096);
        ShardlinkNode a = RdmaPathTestSupport.start(config("zf-a", RdmaPathTestSupport.deviceA()), pa);
        ShardlinkNode b = RdmaPathTestSupport.start(config("zf-b", RdmaPathTestSupport.deviceB()), pb);
        ShardlinkNode c = RdmaPathTestSupport.start(config("zf-c", RdmaPathTestSupport.deviceB()), pc);
        try (a; b; c; SeaweedVolumes volumes = SeaweedVolumes.open(dir)) {
            b.blobSource(volumes);
            c.blobSource(volumes);
            Peer pB = a.connect(b.localAddress());
            Peer pC = a.connect(c.localAddress());
            int answers = 0;
            for (Needle n : want.get(SeaweedFixtures.EC).values()) {
                answers += readWhole(pB, SeaweedFixtures.EC, n);
            }
            ZeroCopyStats s = pb.zeroCopyStats();
            System.out.println("64 KiB windows: " + answers + " answers; " + s);
            assertThat(s.zeroCopyReads() + s.copiedReads()).isEqualTo(answers);
            assertThat(s.zeroCopyReads()).isPositive();
            assertThat(s.fallbackCrossesWindow()).isPositive();
            assertThat(s.copiedReads()).isEqualTo(s.fallbackCrossesWindow() + s.fallbackNoRoom());
            assertThat(s.copiedBytes()).isPositive();
            assertThat(s.windowsEvicted()).as("ec_1 is 2.5 MB: 40 windows through a 2-window budget").isPositive();
            assertThat(s.windowPinnedBytes()).isLessThanOrEqualTo(128 * 1024);

            int answersC = 0;
            long bytesC = 0;
            for (Needle n : want.get(SeaweedFixtures.HEALTHY).values()) {
                answersC += readWhole(pC, SeaweedFixtures.HEALTHY, n);
                bytesC += n.data().length;
            }
            ZeroCopyStats sc = pc.zeroCopyStats();
            System.out.println("4 KiB window budget: " + answersC + " answers; " + sc);
            assertThat(sc.zeroCopyReads()).isZero();
            assertThat(sc.copiedReads()).isEqualTo(answersC);
            assertThat(sc.copiedBytes()).isEqualTo(bytesC);
            assertThat(sc.fallbackNoRoom()).isEqualTo(answersC);
            assertThat(sc.liveWindows()).isZero();
            assertThat(pB.metrics().fallbacks()).isEmpty();
            assertThat(pC.metrics().fallbacks()).isEmpty();
        }
        assertThat(pb.stats().liveRegions()).isZero();
        assertThat(pc.stats().liveRegions()).isZero();
    }
}
