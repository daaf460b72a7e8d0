package io.shardlink.rdma.path;

import java.util.BitSet;

/**
 * First-fit allocation of runs of pages in the reply ring (next-fit from a rotating cursor, so a small read
 * does not always land at the start). Not thread-safe: the caller holds its lock.
 */
final class PageAllocator {
    private final int pages;
    private final BitSet used;
    private int cursor;
    private int free;

    PageAllocator(int pages) {
        if (pages <= 0) {
            throw new IllegalArgumentException("pages must be positive, got " + pages);
        }
        this.pages = pages;
        this.used = new BitSet(pages);
        this.free = pages;
    }

    int pages() {
        return pages;
    }

    int free() {
        return free;
    }

    /** The first page of {@code n} free consecutive pages, now taken, or -1 if there is no such run. */
    int allocate(int n) {
        if (n <= 0 || n > pages) {
            throw new IllegalArgumentException("cannot allocate " + n + " of " + pages + " pages");
        }
        if (n > free) {
            return -1;
        }
        int start = find(cursor, pages, n);
        if (start < 0) {
            start = find(0, pages, n);
        }
        if (start < 0) {
            return -1;
        }
        used.set(start, start + n);
        free -= n;
        cursor = start + n == pages ? 0 : start + n;
        return start;
    }

    private int find(int from, int to, int n) {
        int p = from;
        while (p + n <= to) {
            int u = used.nextSetBit(p);
            if (u < 0 || u >= p + n) {
                return p;
            }
            p = used.nextClearBit(u);
        }
        return -1;
    }

    void free(int start, int n) {
        if (start < 0 || n <= 0 || start + n > pages) {
            throw new IllegalArgumentException("bad page run " + start + "+" + n + " of " + pages);
        }
        int check = used.nextClearBit(start);
        if (check < start + n) {
            throw new IllegalStateException("page " + check + " of run " + start + "+" + n + " is not allocated");
        }
        used.clear(start, start + n);
        free += n;
    }

    static int pagesFor(long bytes, int pageSize) {
        return (int) ((bytes + pageSize - 1) / pageSize);
    }
}
