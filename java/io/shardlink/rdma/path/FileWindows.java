package io.shardlink.rdma.path;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Read-only mappings of served files (SeaweedFS {@code .dat} volumes), registered with LOCAL access only so the NIC
 * can WRITE read answers straight out of the file's pages: nothing in them is ever remotely readable or writable.
 * A file is cut into fixed windows ({@code windowBytes} at multiples of it); a window is mapped and registered the
 * first time a read falls in it, kept while reads use it, and deregistered when the budget needs room (least recently
 * used idle window first) or at close.
 *
 * <p>Budget: windows may pin at most {@code limit} bytes in all, and each is charged to the node's
 * {@link PinnedBudget} too. A read gets no window (the caller copies, as before) when it crosses a window boundary,
 * when neither budget has room even after evicting idle windows, or when the device refuses the registration; each
 * reason is counted. A file that grew after its last window was mapped short gets that window mapped again (the old
 * one is deregistered once its last in-flight answer completes), so needles appended while served are sent too.
 *
 * @param <R> the registration (a {@code MemoryRegion}; host tests use their own)
 */
final class FileWindows<R> {
    /** Registers a mapped window (LOCAL access only) and undoes that. */
    interface Registrar<R> {
        /** {@code mapped}: the window's read-only shared mapping of {@code len} bytes at {@code start} of {@code file}. */
        R register(ByteBuffer mapped, Path file, long start, int len) throws Exception;

        void deregister(R region);
    }

    /** One read's hold on a window: the window cannot be deregistered until {@link #release()}. */
    final class Lease {
        private final Window w;
        private final long offset;
        private boolean released;

        private Lease(Window w, long offset) {
            this.w = w;
            this.offset = offset;
        }

        /** The window's registration. */
        R region() {
            return w.region;
        }

        /** Where the leased bytes start in the registration. */
        long offset() {
            return offset;
        }

        /** The leased bytes as a read-only view of the mapping (reading them is no copy). */
        ByteBuffer bytes(int length) {
            return w.map.slice((int) offset, length);
        }

        void release() {
            synchronized (FileWindows.this) {
                if (released) {
                    return;
                }
                released = true;
                if (--w.leases == 0 && w.retired) {
                    free(w);
                }
            }
        }
    }

    private record Key(FileChannel file, long index) {}

    private final class Window {
        final Key key;
        final long start;
        final int length;
        final MappedByteBuffer map;
        final R region;
        int leases;
        boolean retired;

        Window(Key key, long start, int length, MappedByteBuffer map, R region) {
            this.key = key;
            this.start = start;
            this.length = length;
            this.map = map;
            this.region = region;
        }
    }

    private final long windowBytes;
    private final long limit;
    private final PinnedBudget budget;
    private final Registrar<R> registrar;
    /** Live windows, least recently used first. */
    private final LinkedHashMap<Key, Window> windows = new LinkedHashMap<>(16, 0.75f, true);
    /** Windows replaced or evicted while an answer still used them: freed by their last lease. */
    private final List<Window> retired = new ArrayList<>();
    private long used;
    private boolean closed;

    final LongAdder zeroCopyReads = new LongAdder();
    final LongAdder zeroCopyBytes = new LongAdder();
    final LongAdder copiedReads = new LongAdder();
    final LongAdder copiedBytes = new LongAdder();
    final LongAdder noRoom = new LongAdder();
    final LongAdder crossesWindow = new LongAdder();
    final LongAdder registrationFailed = new LongAdder();
    final LongAdder registered = new LongAdder();
    final LongAdder evicted = new LongAdder();
    final LongAdder remapped = new LongAdder();
    /** Windows the registrar registered over a private copy-on-pin mapping (the kernel refused the shared one). */
    final LongAdder privateWindows = new LongAdder();
    private volatile String lastRefusal;

    /**
     * @param windowBytes size of a window (at most 2 GiB - 1: one mapping)
     * @param limit       most bytes all windows may pin together
     */
    FileWindows(long windowBytes, long limit, PinnedBudget budget, Registrar<R> registrar) {
        if (windowBytes < 4096 || windowBytes > Integer.MAX_VALUE || windowBytes % 4096 != 0) {
            throw new IllegalArgumentException("file window must be a multiple of 4 KiB in 4 KiB..2 GiB, got "
                    + windowBytes);
        }
        this.windowBytes = windowBytes;
        this.limit = limit;
        this.budget = budget;
        this.registrar = registrar;
    }

    /**
     * A hold on the registered window holding {@code length} bytes at {@code position} of {@code file}, or null
     * (counted) when the read must be served by copy instead.
     */
    Lease acquire(FileChannel file, Path path, long position, int length) {
        long index = position / windowBytes;
        long start = index * windowBytes;
        long end = position + length;
        if (length <= 0 || position < 0 || end > start + windowBytes) {
            crossesWindow.increment();
            return null;
        }
        Key key = new Key(file, index);
        synchronized (this) {
            if (closed) {
                return null;
            }
            Window w = windows.get(key);
            if (w != null && end <= w.start + w.length) {
                w.leases++;
                return new Lease(w, position - start);
            }
            long size;
            try {
                size = file.size();
            } catch (IOException e) {
                return refuse(registrationFailed, "size of the file: " + e);
            }
            int len = (int) Math.min(windowBytes, size - start);
            if (end > start + len) {
                return refuse(registrationFailed, "bytes " + position + ".." + end + " are past the end of the file ("
                        + size + " bytes)");
            }
            if (w != null) { // mapped while the file was shorter: map it again at its new length
                windows.remove(key);
                retire(w);
                remapped.increment();
            }
            if (!makeRoom(len)) {
                return refuse(noRoom, "no room for a " + len + "-byte window: " + used + " of " + limit
                        + " window bytes pinned, node " + budget);
            }
            MappedByteBuffer map;
            R region;
            try {
                map = file.map(FileChannel.MapMode.READ_ONLY, start, len);
                region = registrar.register(map, path, start, len);
            } catch (Exception | LinkageError e) {
                used -= len;
                budget.release(len);
                return refuse(registrationFailed, "mapping or registering " + len + " bytes at " + start + ": " + e);
            }
            w = new Window(key, start, len, map, region);
            windows.put(key, w);
            registered.increment();
            w.leases = 1;
            return new Lease(w, position - start);
        }
    }

    private Lease refuse(LongAdder reason, String why) {
        reason.increment();
        lastRefusal = why;
        return null;
    }

    /** Reserves {@code n} bytes in both budgets, evicting idle windows (least recently used first) as needed. */
    private boolean makeRoom(long n) {
        while (true) {
            if (used + n <= limit && budget.tryReserve(n)) {
                used += n;
                return true;
            }
            Window idle = null;
            for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
                Window w = it.next();
                if (w.leases == 0) {
                    idle = w;
                    it.remove();
                    break;
                }
            }
            if (idle == null) {
                return false;
            }
            evicted.increment();
            free(idle);
        }
    }

    private void retire(Window w) {
        if (w.leases == 0) {
            free(w);
        } else {
            w.retired = true;
            retired.add(w);
        }
    }

    private void free(Window w) {
        retired.remove(w);
        registrar.deregister(w.region);
        used -= w.length;
        budget.release(w.length);
    }

    /** Deregisters every window (the queue pairs that used them are gone). Idempotent. */
    synchronized void close() {
        closed = true;
        List<Window> all = new ArrayList<>(windows.values());
        all.addAll(retired);
        windows.clear();
        retired.clear();
        for (Window w : all) {
            registrar.deregister(w.region);
            used -= w.length;
            budget.release(w.length);
        }
    }

    synchronized int liveWindows() {
        return windows.size() + retired.size();
    }

    synchronized long pinnedBytes() {
        return used;
    }

    /** The registrations of the live windows (for tests and status). */
    synchronized List<R> regions() {
        List<R> out = new ArrayList<>();
        for (Window w : windows.values()) {
            out.add(w.region);
        }
        for (Window w : retired) {
            out.add(w.region);
        }
        return out;
    }

    long windowBytes() {
        return windowBytes;
    }

    long limit() {
        return limit;
    }

    String lastRefusal() {
        return lastRefusal;
    }

    ZeroCopyStats snapshot() {
        return new ZeroCopyStats(zeroCopyReads.sum(), zeroCopyBytes.sum(), copiedReads.sum(), copiedBytes.sum(),
                noRoom.sum(), crossesWindow.sum(), registrationFailed.sum(), registered.sum(), evicted.sum(),
                remapped.sum(), privateWindows.sum(), liveWindows(), pinnedBytes(), windowBytes, limit, lastRefusal);
    }
}
