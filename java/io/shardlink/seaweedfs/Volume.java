package io.shardlink.seaweedfs;

import io.shardlink.api.BlobAttributes;
import io.shardlink.api.BlobChecksumException;
import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.BlobSource;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * One SeaweedFS volume: its {@code .dat} (and {@code .idx} when there is one), opened read-only. The index is
 * loaded at open; before every lookup the index file's size is checked and entries appended since are applied
 * (for a volume without {@code .idx}, the {@code .dat} tail is scanned instead), so needles appended while served
 * are seen and deletions take effect. A needle's checksum is verified before its first byte is served and the
 * result remembered; a mismatch is never remembered as good, so the needle stays refused.
 */
final class Volume implements AutoCloseable {
    private static final int SCRATCH = 64 * 1024;
    private static final ThreadLocal<ByteBuffer> SMALL = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(32));
    private static final ThreadLocal<ByteBuffer> CHUNK = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(SCRATCH));
    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);

    private final long id;
    private final String collection;
    private final Path datPath;
    private final Path idxPath;
    private final SuperBlock superBlock;
    private final NeedleIndex index;
    private final Object reopenLock = new Object();
    private volatile FileChannel dat;
    private volatile FileChannel idx;
    private volatile boolean closed;
    /** Bytes of .idx applied (whole entries), or of .dat scanned when there is no .idx. */
    private volatile long loaded;

    private Volume(long id, String collection, Path datPath, Path idxPath, FileChannel dat, FileChannel idx,
                   SuperBlock sb) {
        this.id = id;
        this.collection = collection;
        this.datPath = datPath;
        this.idxPath = idxPath;
        this.dat = dat;
        this.idx = idx;
        this.superBlock = sb;
        this.index = new NeedleIndex(idx != null ? (int) Math.min(1 << 24, sizeOr0(idx) / NeedleFormat.INDEX_ENTRY) : 0);
    }

    /** Opens a volume read-only; {@code idxPath} null = index it by scanning the {@code .dat}. */
    static Volume open(long id, String collection, Path datPath, Path idxPath) throws IOException {
        FileChannel dat = FileChannel.open(datPath, StandardOpenOption.READ);
        FileChannel idx = null;
        try {
            SuperBlock sb = SuperBlock.read(dat, datPath);
            idx = idxPath == null ? null : FileChannel.open(idxPath, StandardOpenOption.READ);
            Volume v = new Volume(id, collection, datPath, idxPath, dat, idx, sb);
            synchronized (v) {
                v.loaded = idx != null ? 0 : sb.firstNeedle();
                v.catchUp(true);
            }
            return v;
        } catch (IOException | RuntimeException e) {
            dat.close();
            if (idx != null) {
                idx.close();
            }
            throw e;
        }
    }

    long id() {
        return id;
    }

    String collection() {
        return collection;
    }

    int version() {
        return superBlock.version();
    }

    Path datPath() {
        return datPath;
    }

    /** Null when the volume was indexed by scanning its .dat. */
    Path idxPath() {
        return idxPath;
    }

    int liveNeedles() {
        return index.liveCount();
    }

    long indexMemoryBytes() {
        return index.memoryBytes();
    }

    // ------------------------------------------------------------------ index

    /** Applies entries appended to the index (or needles appended to the .dat) since the last look. */
    void refresh() throws IOException {
        long size = idx != null ? idxChannel().size() : datChannel().size();
        if (size - size % (idx != null ? NeedleFormat.INDEX_ENTRY : 1) > loaded) { // one fstat when nothing changed
            synchronized (this) {
                catchUp(false);
            }
        }
    }

    /** {@code strict}: at open, a partial entry or needle at the end is an error; later it is one being written. */
    private void catchUp(boolean strict) throws IOException {
        if (idx != null) {
            long size = idxChannel().size();
            long whole = size - size % NeedleFormat.INDEX_ENTRY;
            if (strict && whole != size) {
                throw new VolumeFormatException(idxPath + ": " + size + " bytes is not a whole number of "
                        + NeedleFormat.INDEX_ENTRY + "-byte entries (truncated index; a 5-byte-offset build's 17-byte "
                        + "entries are not supported)");
            }
            if (whole > loaded) {
                loadIndex(whole);
            }
        } else {
            scanDat(strict);
        }
    }

    private void loadIndex(long upTo) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SCRATCH);
        FileChannel ch = idxChannel();
        while (loaded < upTo) {
            b.clear().limit((int) Math.min(SCRATCH, upTo - loaded));
            readFully(ch, b, loaded, idxPath);
            b.flip();
            while (b.remaining() >= NeedleFormat.INDEX_ENTRY) {
                index.put(b.getLong(), b.getInt(), b.getInt());
            }
            loaded += b.limit();
        }
    }

    private void scanDat(boolean strict) throws IOException {
        FileChannel ch = datChannel();
        long size = ch.size();
        ByteBuffer h = ByteBuffer.allocate(NeedleFormat.HEADER);
        while (loaded + NeedleFormat.HEADER <= size) {
            h.clear();
            readFully(ch, h, loaded, datPath);
            long needle = h.getLong(4);
            int nsize = h.getInt(12);
            if (nsize < 0) {
                throw new VolumeFormatException(datPath + ": needle header at byte " + loaded + " has size " + nsize
                        + " (corrupt .dat, or not a needle boundary)");
            }
            long len = NeedleFormat.diskLength(nsize, superBlock.version());
            if (loaded + len > size) {
                if (strict) {
                    throw truncatedNeedle(needle, loaded, len, size);
                }
                return; // being appended: look again next time
            }
            index.put(needle, (int) (loaded / NeedleFormat.PADDING), nsize);
            loaded += len;
        }
        if (strict && loaded != size) {
            throw new VolumeFormatException(datPath + ": " + (size - loaded) + " stray bytes after the last needle at "
                    + "byte " + loaded + " (truncated .dat)");
        }
    }

    // ------------------------------------------------------------------ reads

    /**
     * Finds, checks and (on first use) checksums needle {@code needleId}; the zero-copy hook: the answer says
     * where the data bytes are without copying them.
     *
     * @param cookie the reader's cookie, or {@link BlobSource#NO_COOKIE} (only when {@code requireCookie} is false)
     */
    NeedleLocation locate(long needleId, long cookie, boolean requireCookie) throws IOException {
        if (requireCookie && cookie == BlobSource.NO_COOKIE) {
            throw new BlobNotFoundException("volume " + id + " serves only reads that give the needle's cookie (as in "
                    + "a SeaweedFS file id); needle " + Long.toHexString(needleId) + " was asked without one");
        }
        refresh();
        NeedleIndex.Entry e = index.get(needleId);
        if (e == null || !e.live()) {
            throw new BlobNotFoundException("no needle " + Long.toHexString(needleId) + " in volume " + id
                    + (e == null ? "" : " (deleted)"));
        }
        long pos = e.position();
        ByteBuffer h = SMALL.get();
        h.clear().limit(NeedleFormat.HEADER + 4);
        readNeedle(h, pos, needleId, pos);
        int ck = h.getInt(0);
        long hid = h.getLong(4);
        int size = h.getInt(12);
        int dataSize = h.getInt(16);
        if (hid != needleId || size != e.size()) {
            throw new VolumeFormatException(datPath + ": the index puts needle " + Long.toHexString(needleId) + " (size "
                    + e.size() + ") at byte " + pos + ", but the header there says needle " + Long.toHexString(hid)
                    + " size " + size + " (corrupt .idx or .dat)");
        }
        if (cookie != BlobSource.NO_COOKIE && Integer.toUnsignedLong(ck) != cookie) {
            // the same answer as a missing needle: the cookie is what makes file ids unguessable
            throw new BlobNotFoundException("no needle " + Long.toHexString(needleId) + " with cookie "
                    + String.format("%08x", cookie) + " in volume " + id);
        }
        if (dataSize < 0 || 4L + dataSize + 1 > Integer.toUnsignedLong(size)) {
            throw new VolumeFormatException(datPath + ": needle " + Long.toHexString(needleId) + " at byte " + pos
                    + " has data size " + Integer.toUnsignedLong(dataSize) + ", more than its body of " + size
                    + " bytes holds (corrupt .dat)");
        }
        long dataPos = pos + NeedleFormat.HEADER + 4;
        int flags = e.flags();
        boolean legacy = e.legacySum();
        if (!e.verified()) {
            int v = verify(e, ck, dataPos, dataSize);
            flags = v & 0xFF;
            legacy = (v & LEGACY) != 0;
            index.markVerified(needleId, e.offsetUnits(), flags, legacy);
        }
        return new NeedleLocation(id, needleId, ck, datChannel(), dataPos, dataSize, flags,
                pos + NeedleFormat.HEADER + Integer.toUnsignedLong(size), legacy);
    }

    /** Reads up to {@code length} data bytes from {@code offset}; fewer only at the end of the data. */
    int read(long needleId, long cookie, boolean requireCookie, long offset, int length, ByteBuffer dst,
             BlobAttributes attributes) throws IOException {
        NeedleLocation loc = locate(needleId, cookie, requireCookie);
        attributes.flags(loc.flags());
        if (offset >= loc.dataLength()) {
            return 0;
        }
        int n = (int) Math.min(length, loc.dataLength() - offset);
        ByteBuffer d = dst.duplicate();
        d.limit(d.position() + n);
        readNeedle(d, loc.dataPosition() + offset, needleId, loc.dataPosition() - NeedleFormat.HEADER - 4);
        dst.position(dst.position() + n);
        return n;
    }

    /** Bit of {@link #verify}'s answer: the stored checksum is the legacy form. */
    private static final int LEGACY = 0x100;

    /** CRC32C of the data against the stored checksum (either form); returns the flags byte, plus LEGACY. */
    private int verify(NeedleIndex.Entry e, int cookie, long dataPos, int dataSize) throws IOException {
        CRC32C crc = CRC.get();
        crc.reset();
        ByteBuffer c = CHUNK.get();
        long p = dataPos;
        long end = dataPos + dataSize;
        while (p < end) {
            c.clear().limit((int) Math.min(SCRATCH, end - p));
            readNeedle(c, p, e.needleId(), e.position());
            crc.update(c);
            p += c.limit();
        }
        ByteBuffer h = SMALL.get();
        h.clear().limit(1);
        readNeedle(h, end, e.needleId(), e.position());
        int flags = h.get(0) & 0xFF;
        h.clear().limit(NeedleFormat.CHECKSUM);
        readNeedle(h, e.position() + NeedleFormat.HEADER + Integer.toUnsignedLong(e.size()), e.needleId(),
                e.position());
        int stored = h.getInt(0);
        int actual = (int) crc.getValue();
        if (!NeedleFormat.checksumMatches(stored, actual)) {
            throw new BlobChecksumException(String.format("volume %d needle %s (fid %s, %d data bytes at byte %d of %s): "
                    + "stored checksum 0x%08x, data has CRC32C 0x%08x (legacy form 0x%08x); not served",
                    id, Long.toHexString(e.needleId()), FileId.format(id, e.needleId(), cookie), dataSize, dataPos,
                    datPath.getFileName(), stored, actual, NeedleFormat.legacyChecksum(actual)));
        }
        return stored == actual ? flags : flags | LEGACY;
    }

    /** Every live needle with its checksum checked (for {@code shardlink volumes}), in file order. */
    List<NeedleReport> check() throws IOException {
        refresh();
        List<NeedleIndex.Entry> live = new ArrayList<>();
        index.forEachLive(live::add);
        live.sort(Comparator.comparingLong(NeedleIndex.Entry::offsetUnits));
        List<NeedleReport> out = new ArrayList<>(live.size());
        ByteBuffer h = ByteBuffer.allocateDirect(NeedleFormat.HEADER + 4);
        for (NeedleIndex.Entry e : live) {
            int cookie = 0;
            int dataSize = -1;
            int flags = 0;
            String problem = null;
            try {
                h.clear();
                readNeedle(h, e.position(), e.needleId(), e.position());
                cookie = h.getInt(0);
                dataSize = h.getInt(16);
                NeedleLocation loc = locate(e.needleId(), Integer.toUnsignedLong(cookie), false);
                flags = loc.flags();
            } catch (IOException ex) {
                problem = ex.getMessage();
            }
            out.add(new NeedleReport(id, e.needleId(), cookie, e.position(), dataSize, flags, problem));
        }
        return out;
    }

    /**
     * Reads {@code b.remaining()} bytes at {@code pos} (part of the needle at {@code needlePos}) and flips {@code b};
     * the end of the file there is a clear truncation error, never a short answer.
     */
    private void readNeedle(ByteBuffer b, long pos, long needle, long needlePos) throws IOException {
        long end = pos + b.remaining();
        try {
            readFully(datChannel(), b, pos, datPath);
        } catch (EOFException eof) {
            throw new VolumeFormatException(datPath + ": needle " + Long.toHexString(needle) + " at byte " + needlePos
                    + " extends to byte " + end + " but the file ends at byte " + datChannel().size()
                    + " (truncated .dat)");
        }
        b.flip();
    }

    private VolumeFormatException truncatedNeedle(long needle, long pos, long len, long size) {
        return new VolumeFormatException(datPath + ": needle " + Long.toHexString(needle) + " at byte " + pos + " needs "
                + len + " bytes but the file ends at byte " + size + " (truncated .dat)");
    }

    private void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        long p = pos;
        try {
            while (b.hasRemaining()) {
                int n = ch.read(b, p);
                if (n < 0) {
                    throw new EOFException(file + ": end of file at byte " + p);
                }
                p += n;
            }
        } catch (ClosedByInterruptException ex) {
            reopen(); // an interrupted reader closes a FileChannel for everyone: give the others a fresh one
            throw ex;
        }
    }

    // ------------------------------------------------------------------ channels

    private FileChannel datChannel() throws IOException {
        FileChannel c = dat;
        if (!c.isOpen()) {
            reopen();
            c = dat;
        }
        return c;
    }

    private FileChannel idxChannel() throws IOException {
        FileChannel c = idx;
        if (!c.isOpen()) {
            reopen();
            c = idx;
        }
        return c;
    }

    private void reopen() throws IOException {
        synchronized (reopenLock) {
            if (closed) {
                throw new IOException("volume " + id + " is closed");
            }
            if (!dat.isOpen()) {
                dat = FileChannel.open(datPath, StandardOpenOption.READ);
            }
            if (idx != null && !idx.isOpen()) {
                idx = FileChannel.open(idxPath, StandardOpenOption.READ);
            }
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (reopenLock) {
            closed = true;
            dat.close();
            if (idx != null) {
                idx.close();
            }
        }
    }

    private static long sizeOr0(FileChannel c) {
        try {
            return c.size();
        } catch (IOException e) {
            return 0;
        }
    }
}
