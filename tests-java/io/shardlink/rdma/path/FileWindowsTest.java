package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zero-copy window cache on the host (no device): windows shared by reads, boundary and budget refusals counted,
 * LRU eviction of idle windows only, remapping of a grown file, registration failures, close. The registrar here
 * records what it was given; the VM test (SeaweedZeroCopyRdmaTest) registers for real.
 */
class FileWindowsTest {
    private static final int W = 64 * 1024;

    @TempDir
    Path tmp;

    /** Records registrations: each is the mapped buffer it was given. */
    static final class Recorder implements FileWindows.Registrar<ByteBuffer> {
        final List<ByteBuffer> live = new ArrayList<>();
        int registered;
        boolean refuse;

        @Override
        public ByteBuffer register(ByteBuffer mapped, Path file, long start, int len) throws Exception {
            assertThat(mapped.capacity()).isEqualTo(len);
            assertThat(start % W).isZero();
            if (refuse) {
                throw new IOException("device says no");
            }
            assertThat(mapped.isReadOnly()).as("windows are read-only mappings").isTrue();
            registered++;
            live.add(mapped);
            return mapped;
        }

        @Override
        public void deregister(ByteBuffer region) {
            assertThat(live.remove(region)).as("deregistered once, and only what was registered").isTrue();
        }
    }

    private byte[] content(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private FileChannel file(byte[] data) throws IOException {
        Path p = tmp.resolve("v" + System.nanoTime() + ".dat");
        Files.write(p, data);
        return FileChannel.open(p, StandardOpenOption.READ);
    }

    @Test
    void readsInOneWindowShareItsRegistrationAndSeeTheFileBytes() throws Exception {
        byte[] data = content(3 * W, 1);
        Recorder rec = new Recorder();
        PinnedBudget budget = new PinnedBudget(1 << 20);
        FileWindows<ByteBuffer> fw = new FileWindows<>(W, 1 << 20, budget, rec);
        try (FileChannel ch = file(data)) {
            FileWindows<ByteBuffer>.Lease a = fw.acquire(ch, null, W + 100, 1000);
            FileWindows<ByteBuffer>.Lease b = fw.acquire(ch, null, W + 5000, 2000);
            assertThat(a.region()).isSameAs(b.region());
            assertThat(rec.registered).isEqualTo(1);
            assertThat(a.offset()).isEqualTo(100);
            assertThat(b.offset()).isEqualTo(5000);
            ByteBuffer got = b.bytes(2000);
            assertThat(got).isEqualTo(ByteBuffer.wrap(data, W + 5000, 2000));
            assertThat(budget.used()).isEqualTo(W);
            a.release();
            b.release();
            b.release(); // twice: no effect
            assertThat(fw.liveWindows()).isEqualTo(1); // cached while idle
            fw.close();
            assertThat(rec.live).isEmpty();
            assertThat(budget.used()).isZero();
            assertThat(fw.acquire(ch, null, 0, 10)).as("closed").isNull();
        }
    }

    @Test
    void aReadAcrossTwoWindowsIsRefusedAndCounted() throws Exception {
        Recorder rec = new Recorder();
        FileWindows<ByteBuffer> fw = new FileWindows<>(W, 1 << 20, new PinnedBudget(1 << 20), rec);
        try (FileChannel ch = file(content(2 * W, 2))) {
            assertThat(fw.acquire(ch, null, W - 10, 20)).isNull();
            assertThat(fw.snapshot().fallbackCrossesWindow()).isEqualTo(1);
            assertThat(fw.acquire(ch, null, W - 10, 10)).isNotNull(); // ends exactly at the boundary
            assertThat(rec.registered).isEqualTo(1);
        }
        fw.close();
    }

    @Test
    void theWindowBudgetEvictsIdleWindowsLeastRecentlyUsedFirstAndRefusesWhenAllAreBusy() throws Exception {
        Recorder rec = new Recorder();
        PinnedBudget budget = new PinnedBudget(1 << 20);
        FileWindows<ByteBuffer> fw = new FileWindows<>(W, 2L * W, budget, rec);
        try (FileChannel ch = file(content(4 * W, 3))) {
            fw.acquire(ch, null, 0, 10).release();
            fw.acquire(ch, null, W, 10).release();
            fw.acquire(ch, null, 0, 10).release(); // window 0 used last: window 1 is the LRU one
            FileWindows<ByteBuffer>.Lease c = fw.acquire(ch, null, 2L * W, 10);
            assertThat(c).isNotNull();
            ZeroCopyStats s = fw.snapshot();
            assertThat(s.windowsEvicted()).isEqualTo(1);
            assertThat(s.liveWindows()).isEqualTo(2);
            assertThat(rec.live).extracting(ByteBuffer::capacity).containsOnly(W);
            // window 0 must still be there (no new registration), window 1 must be gone
            int before = rec.registered;
            FileWindows<ByteBuffer>.Lease a = fw.acquire(ch, null, 5, 10);
            assertThat(rec.registered).isEqualTo(before);
            // both windows leased: a third cannot be had, and nothing busy is evicted
            assertThat(fw.acquire(ch, null, 3L * W, 10)).isNull();
            assertThat(fw.snapshot().fallbackNoRoom()).isEqualTo(1);
            assertThat(fw.liveWindows()).isEqualTo(2);
            assertThat(budget.used()).isEqualTo(2L * W);
            a.release();
            c.release();
        }
        fw.close();
        assertThat(budget.used()).isZero();
        assertThat(rec.live).isEmpty();
    }

    @Test
    void theNodesPinnedBudgetBoundsWindowsToo() throws Exception {
        Recorder rec = new Recorder();
        PinnedBudget budget = new PinnedBudget(W + W / 2);
        assertThat(budget.tryReserve(W)).isTrue(); // rings and pools hold most of it
        FileWindows<ByteBuffer> fw = new FileWindows<>(W, 1 << 30, budget, rec);
        try (FileChannel ch = file(content(2 * W, 4))) {
            assertThat(fw.acquire(ch, null, 0, 10)).isNull();
            assertThat(fw.snapshot().fallbackNoRoom()).isEqualTo(1);
            assertThat(fw.lastRefusal()).contains("no room");
            assertThat(rec.registered).isZero();
            assertThat(budget.used()).isEqualTo(W);
        }
        fw.close();
    }

    @Test
    void aFileThatGrewGetsItsShortWindowMappedAgainAndTheOldOneFreedByItsLastLease() throws Exception {
        Recorder rec = new Recorder();
        PinnedBudget budget = new PinnedBudget(1 << 20);
        FileWindows<ByteBuffer> fw = new FileWindows<>(W, 1 << 20, budget, rec);
        Path p = tmp.resolve("grow.dat");
        byte[] first = content(1000, 5);
        Files.write(p, first);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            FileWindows<ByteBuffer>.Lease old = fw.acquire(ch, null, 0, 1000);
            assertThat(old.region().capacity()).isEqualTo(1000);
            assertThat(fw.acquire(ch, null, 900, 200)).as("past the end of the file").isNull();
            assertThat(fw.snapshot().fallbackRegistration()).isEqualTo(1);
            byte[] more = content(3000, 6);
            Files.write(p, more, StandardOpenOption.APPEND);
            FileWindows<ByteBuffer>.Lease grown = fw.acquire(ch, null, 1000, 3000);
            assertThat(grown).isNotNull();
            assertThat(grown.region().capacity()).isEqualTo(4000);
            assertThat(grown.bytes(3000)).isEqualTo(ByteBuffer.wrap(more));
            assertThat(fw.snapshot().windowsRemapped()).isEqualTo(1);
            assertThat(rec.live).hasSize(2); // the old one is still in flight
            assertThat(budget.used()).isEqualTo(5000);
            old.release();
            assertThat(rec.live).hasSize(1);
            assertThat(budget.used()).isEqualTo(4000);
            grown.release();
        }
        fw.close();
        assertThat(budget.used()).isZero();
    }

    @Test
    void aRefusedRegistrationIsCountedAndGivesItsBudgetBack() throws Exception {
        Recorder rec = new Recorder();
        rec.refuse = true;
        PinnedBudget budget = new PinnedBudget(1 << 20);
        FileWindows<ByteBuffer> fw = new FileWindows<>(W, 1 << 20, budget, rec);
        try (FileChannel ch = file(content(W, 7))) {
            assertThat(fw.acquire(ch, null, 0, 10)).isNull();
            assertThat(fw.snapshot().fallbackRegistration()).isEqualTo(1);
            assertThat(fw.lastRefusal()).contains("device says no");
            assertThat(budget.used()).isZero();
            assertThat(fw.pinnedBytes()).isZero();
            rec.refuse = false;
            assertThat(fw.acquire(ch, null, 0, 10)).isNotNull();
        }
        fw.close();
        assertThat(budget.used()).isZero();
    }
}
