package io.shardlink.seaweedfs;

import java.util.function.Consumer;

/**
 * The in-memory index of one volume: needle id to (offset, size), later entries overriding earlier ones, plus what
 * a read learned about the needle (checksum verified, its flags byte). Open addressing with linear probing over
 * parallel arrays: 8 (id) + 4 (offset) + 4 (size) + 2 (state) = 18 bytes per slot, the table kept at most 3/4 full
 * and doubled when it gets there, so 24 to 48 bytes per needle id ever seen (deleted ids keep their slot, as a
 * tombstone). Thread-safe (a lookup is a few loads under the monitor).
 */
final class NeedleIndex {
    /** Slot state bits; the low 8 bits hold the needle's flags byte once verified. */
    private static final short USED = 0x100;
    private static final short LIVE = 0x200;
    private static final short VERIFIED = 0x400;
    /** Verified, and the stored checksum is the pre-3.09 (legacy) form of the data's CRC32C. */
    private static final short LEGACY_SUM = 0x800;

    /** A needle's index entry: offset in 8-byte units, size as in the needle header. */
    record Entry(long needleId, long offsetUnits, int size, boolean live, boolean verified, int flags,
                 boolean legacySum) {
        long position() {
            return offsetUnits * NeedleFormat.PADDING;
        }
    }

    private long[] ids;
    private int[] offsets;
    private int[] sizes;
    private short[] states;
    private int used;
    private int live;

    NeedleIndex(int expected) {
        int cap = 16;
        while (cap * 3L / 4 < expected) {
            cap <<= 1;
        }
        alloc(cap);
    }

    private void alloc(int cap) {
        ids = new long[cap];
        offsets = new int[cap];
        sizes = new int[cap];
        states = new short[cap];
    }

    /**
     * Applies one index entry as SeaweedFS does: an entry with offset 0 or a size that is not positive (0xFFFFFFFF is
     * the tombstone) deletes the id; any other sets it, replacing the earlier entry.
     */
    synchronized void put(long needleId, int offsetUnits, int size) {
        boolean isLive = offsetUnits != 0 && size > 0;
        int i = slot(needleId);
        if ((states[i] & USED) == 0) {
            if ((used + 1) * 4L > ids.length * 3L) {
                grow();
                i = slot(needleId);
            }
            used++;
            ids[i] = needleId;
        } else if ((states[i] & LIVE) != 0) {
            live--;
        }
        offsets[i] = isLive ? offsetUnits : 0;
        sizes[i] = isLive ? size : 0;
        states[i] = (short) (USED | (isLive ? LIVE : 0));
        if (isLive) {
            live++;
        }
    }

    /** The entry for {@code needleId} (live or deleted), or null if the index never had it. */
    synchronized Entry get(long needleId) {
        int i = slot(needleId);
        short s = states[i];
        if ((s & USED) == 0) {
            return null;
        }
        return new Entry(needleId, Integer.toUnsignedLong(offsets[i]), sizes[i], (s & LIVE) != 0,
                (s & VERIFIED) != 0, s & 0xFF, (s & LEGACY_SUM) != 0);
    }

    /**
     * Remembers that the needle at {@code offsetUnits} passed its checksum (unless the entry changed meanwhile), and
     * in which form it was stored (so the data's CRC32C can be had from the stored value without summing again).
     */
    synchronized void markVerified(long needleId, long offsetUnits, int flags, boolean legacySum) {
        int i = slot(needleId);
        if ((states[i] & LIVE) != 0 && Integer.toUnsignedLong(offsets[i]) == offsetUnits) {
            states[i] = (short) (USED | LIVE | VERIFIED | (legacySum ? LEGACY_SUM : 0) | (flags & 0xFF));
        }
    }

    synchronized int liveCount() {
        return live;
    }

    /** Ids seen, live or deleted. */
    synchronized int idCount() {
        return used;
    }

    /** Every live entry, in no particular order. */
    synchronized void forEachLive(Consumer<Entry> action) {
        for (int i = 0; i < ids.length; i++) {
            short s = states[i];
            if ((s & LIVE) != 0) {
                action.accept(new Entry(ids[i], Integer.toUnsignedLong(offsets[i]), sizes[i], true,
                        (s & VERIFIED) != 0, s & 0xFF, (s & LEGACY_SUM) != 0));
            }
        }
    }

    /** Bytes held by the table (for the README's per-needle figure and the volumes listing). */
    synchronized long memoryBytes() {
        return ids.length * 18L;
    }

    private int slot(long id) {
        int mask = ids.length - 1;
        int i = (int) mix(id) & mask;
        while ((states[i] & USED) != 0 && ids[i] != id) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oi = ids;
        int[] oo = offsets;
        int[] os = sizes;
        short[] ost = states;
        alloc(oi.length * 2);
        for (int j = 0; j < oi.length; j++) {
            if ((ost[j] & USED) != 0) {
                int i = slot(oi[j]);
                ids[i] = oi[j];
                offsets[i] = oo[j];
                sizes[i] = os[j];
                states[i] = ost[j];
            }
        }
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        return x;
    }
}
