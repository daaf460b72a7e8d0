package io.shardlink.seaweedfs;

import io.shardlink.api.BlobAttributes;
import io.shardlink.api.BlobFileRange;
import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.BlobSource;
import io.shardlink.api.CookieBlobSource;
import io.shardlink.api.FileRangeBlobSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A {@link BlobSource} over a directory of SeaweedFS volumes ({@code <vid>.dat} + {@code <vid>.idx}, or
 * {@code <collection>_<vid>.*}): volume id = the file's volume id, needle id = SeaweedFS's needle id, and a read
 * returns the needle's data bytes (not its header, flags or checksum) from the offset. The files are opened
 * read-only and never written.
 *
 * <p>What the reader gets: the data as stored (a gzip-flagged needle's compressed bytes, a chunk manifest's JSON),
 * with the needle's flags byte in {@link BlobAttributes#flags()} (so in {@code ReadResult.blobFlags()}); a needle
 * whose checksum does not match is refused ({@link io.shardlink.api.BlobChecksumException}, CHECKSUM_MISMATCH on
 * the wire); a wrong cookie is NOT_FOUND, as is a missing cookie unless opened with {@code requireCookie=false}.
 * Volumes are found at open; needles appended to them later are seen (see {@link Volume}).
 */
public final class SeaweedVolumes implements CookieBlobSource, FileRangeBlobSource, AutoCloseable {
    private static final Pattern NAME = Pattern.compile("(?:(.+)_)?(\\d+)\\.dat");

    /** One volume as listed by {@link #volumes()}. */
    public record VolumeInfo(long id, String collection, int version, Path dat, Path idx, int liveNeedles,
                             long indexBytes) {
        /** Whether the index was built by scanning the .dat (there is no .idx). */
        public boolean scanned() {
            return idx == null;
        }
    }

    private final Path dir;
    private final boolean requireCookie;
    private final Map<Long, Volume> volumes;

    private SeaweedVolumes(Path dir, boolean requireCookie, Map<Long, Volume> volumes) {
        this.dir = dir;
        this.requireCookie = requireCookie;
        this.volumes = volumes;
    }

    /** Opens every volume in {@code dir}; reads must give the needle's cookie, as SeaweedFS's own server demands. */
    public static SeaweedVolumes open(Path dir) throws IOException {
        return open(dir, true);
    }

    /**
     * Opens every volume in {@code dir}: superblocks checked, indexes loaded (or built by scanning). Any volume
     * that is not version 2 or 3, or whose files are truncated or malformed, fails the whole open with a
     * {@link VolumeFormatException} naming the file.
     *
     * @param requireCookie false: a read without a cookie is served too (a wrong cookie is still NOT_FOUND)
     */
    public static SeaweedVolumes open(Path dir, boolean requireCookie) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("SeaweedFS volume directory " + dir + " does not exist or is not a directory");
        }
        List<Path> dats;
        try (Stream<Path> s = Files.list(dir)) {
            dats = s.filter(p -> p.getFileName().toString().endsWith(".dat") && Files.isRegularFile(p)).sorted()
                    .toList();
        }
        Map<Long, Volume> vols = new TreeMap<>();
        try {
            for (Path dat : dats) {
                String name = dat.getFileName().toString();
                Matcher m = NAME.matcher(name);
                if (!m.matches()) {
                    throw new VolumeFormatException(dat + ": not a volume file name (expected <volume id>.dat or "
                            + "<collection>_<volume id>.dat)");
                }
                long vid = Long.parseLong(m.group(2));
                Path idx = dir.resolve(name.substring(0, name.length() - 4) + ".idx");
                Volume v = Volume.open(vid, m.group(1) == null ? "" : m.group(1), dat,
                        Files.isRegularFile(idx) ? idx : null);
                Volume prev = vols.putIfAbsent(vid, v);
                if (prev != null) {
                    v.close();
                    throw new VolumeFormatException(dat + ": volume id " + vid + " is also " + prev.datPath()
                            + " (volume ids must be unique in a directory)");
                }
            }
        } catch (IOException | RuntimeException e) {
            for (Volume v : vols.values()) {
                v.close();
            }
            throw e;
        }
        return new SeaweedVolumes(dir, requireCookie, Collections.unmodifiableMap(vols));
    }

    public Path directory() {
        return dir;
    }

    /** The volumes, by id. */
    public List<VolumeInfo> volumes() {
        List<VolumeInfo> out = new ArrayList<>();
        for (Volume v : volumes.values()) {
            out.add(new VolumeInfo(v.id(), v.collection(), v.version(), v.datPath(), v.idxPath(), v.liveNeedles(),
                    v.indexMemoryBytes()));
        }
        return out;
    }

    /** Every live needle of a volume with its checksum checked, in file order (for {@code shardlink volumes}). */
    public List<NeedleReport> check(long volumeId) throws IOException {
        return volume(volumeId).check();
    }

    /**
     * Where a needle's data is, after the cookie and checksum checks a read makes: the hook for serving it without
     * copying (mapping or registering that file range).
     */
    public NeedleLocation locate(long volumeId, long needleId, long cookie) throws IOException {
        return volume(volumeId).locate(needleId, cookie, requireCookie);
    }

    /**
     * The zero-copy form of {@link #read}: the same checks, then where those data bytes are in the {@code .dat}. A
     * whole-needle range carries its CRC32C from the verified stored checksum, so a hot needle is never summed again.
     */
    @Override
    public BlobFileRange locateRange(long volumeId, long needleId, long cookie, long offset, int length)
            throws IOException {
        if (offset < 0 || length < 0) {
            throw new IOException("negative offset " + offset + " or length " + length);
        }
        NeedleLocation loc = locate(volumeId, needleId, cookie);
        int n = offset >= loc.dataLength() ? 0 : (int) Math.min(length, loc.dataLength() - offset);
        boolean whole = offset == 0 && n == loc.dataLength();
        return new BlobFileRange(loc.channel(), volume(volumeId).datPath(), loc.dataPosition() + offset, n, loc.flags(),
                whole && n > 0 ? loc.dataCrc32c() : 0, whole);
    }

    /** Applies index entries appended since the last read (reads do this themselves; for callers that list). */
    public void refresh() throws IOException {
        for (Volume v : volumes.values()) {
            v.refresh();
        }
    }

    @Override
    public int read(long volumeId, long needleId, long cookie, long offset, int length, ByteBuffer dst,
                    BlobAttributes attributes) throws IOException {
        if (offset < 0) {
            throw new IOException("negative offset " + offset);
        }
        return volume(volumeId).read(needleId, cookie, requireCookie, offset, length, dst, attributes);
    }

    private Volume volume(long volumeId) throws BlobNotFoundException {
        Volume v = volumes.get(volumeId);
        if (v == null) {
            throw new BlobNotFoundException("no volume " + volumeId + " in " + dir);
        }
        return v;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Volume v : volumes.values()) {
            try {
                v.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
