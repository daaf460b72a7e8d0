package io.shardlink.cli;

import io.shardlink.api.BlobAttributes;
import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.BlobSource;
import io.shardlink.api.CookieBlobSource;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.seaweedfs.NeedleLocation;
import io.shardlink.seaweedfs.NeedleReport;
import io.shardlink.seaweedfs.SeaweedVolumes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench --seaweedfs DIR}: whole-needle reads of every live needle in DIR, served once from the volume files
 * ({@link SeaweedVolumes}) and once from memory (the same bytes, cookies and flags held in heap arrays), on the same
 * node pair, alternating in rounds so both see the same machine; reports both and the file/memory ratio. Each
 * half-round reads on a fresh connection after a few unmeasured reads: today a QUIC connection carries a bounded
 * number of streams in total (one per read), so one connection cannot carry every read of a long run.
 */
final class SeaweedBench {
    private static final int ROUNDS = 10;
    private static final int WARM_PER_CONNECTION = 50;

    private record Needle(long volume, long id, long cookie, byte[] data, int flags) {}

    private SeaweedBench() {}

    static List<BenchResult> run(ShardlinkNode server, ShardlinkNode client, Transport expected, SeaweedVolumes volumes,
                                 int reads, int chunk, boolean warmup, PrintWriter report) throws Exception {
        List<Needle> needles = load(volumes);
        BlobSource memory = memorySource(needles);
        String name = expected.name().toLowerCase(Locale.ROOT);
        Stats file = new Stats(reads / 2 + 1);
        Stats mem = new Stats(reads / 2 + 1);
        long[] bytes = new long[2];
        long[] wall = new long[2];
        ByteBuffer dst = ByteBuffer.allocateDirect(chunk);
        int perRound = Math.max(1, reads / (2 * ROUNDS));
        int k = 0;
        for (int round = 0; round < ROUNDS; round++) {
            for (int half = 0; half < 2; half++) {
                boolean fromFile = (round + half) % 2 == 0; // alternate which goes first
                server.blobSource(fromFile ? volumes : memory);
                Stats s = fromFile ? file : mem;
                int idx = fromFile ? 0 : 1;
                Peer peer = client.connect(server.localAddress());
                try {
                    for (int i = 0; warmup && i < WARM_PER_CONNECTION; i++) {
                        readWhole(peer, needles.get(Math.floorMod((k + i) * 31, needles.size())), expected, dst, chunk);
                    }
                    measureHalf(peer, needles, expected, dst, chunk, k, perRound, s, wall, bytes, idx);
                } finally {
                    peer.close();
                }
            }
            k += perRound;
        }
        List<BenchResult> out = new ArrayList<>();
        out.add(BenchResult.of(name, "needle-file", bytes[0] / Math.max(1, file.count()), file, wall[0]));
        out.add(BenchResult.of(name, "needle-mem", bytes[1] / Math.max(1, mem.count()), mem, wall[1]));
        double meanRatio = (double) wall[0] / Math.max(1, wall[1]);
        double p50Ratio = (double) file.percentile(0.5) / Math.max(1, mem.percentile(0.5));
        report.println(String.format(Locale.ROOT, "bench: seaweedfs needle reads over %s (%d needles, %d reads each "
                        + "way): file/memory mean %.3f, p50 %.3f (target <= 1.2)", expected, needles.size(),
                file.count(), meanRatio, p50Ratio));
        report.flush();
        return out;
    }

    private static void measureHalf(Peer peer, List<Needle> needles, Transport expected, ByteBuffer dst, int chunk,
                                    int k, int count, Stats s, long[] wall, long[] bytes, int idx) throws Exception {
        for (int i = 0; i < count; i++) {
            Needle n = needles.get(Math.floorMod((k + i) * 7919, needles.size()));
            long t0 = System.nanoTime();
            readWhole(peer, n, expected, dst, chunk);
            long t = System.nanoTime() - t0;
            s.add(t);
            wall[idx] += t;
            bytes[idx] += n.data().length;
        }
    }

    /** Reads the whole needle in chunks, checking transport, flags and bytes (outside nothing: verify is cheap). */
    private static void readWhole(Peer peer, Needle n, Transport expected, ByteBuffer dst, int chunk) throws Exception {
        int off = 0;
        do {
            int want = Math.min(chunk, n.data().length - off);
            dst.clear().limit(want);
            ReadResult r = peer.read(n.volume(), n.id(), n.cookie(), off, dst).get(60, TimeUnit.SECONDS);
            if (r.length() != want || r.transport() != expected || r.blobFlags() != n.flags()) {
                throw new CliException("needle " + Long.toHexString(n.id()) + " of volume " + n.volume() + " at " + off
                        + ": " + r.length() + " bytes over " + r.transport() + " flags " + r.blobFlags()
                        + ", expected " + want + " over " + expected + " flags " + n.flags());
            }
            dst.flip();
            if (!dst.equals(ByteBuffer.wrap(n.data(), off, want))) {
                throw new CliException("needle " + Long.toHexString(n.id()) + " of volume " + n.volume()
                        + " returned wrong bytes at " + off);
            }
            off += want;
        } while (off < n.data().length);
    }

    /** Every live needle whose checks pass, its data read once through the source. */
    private static List<Needle> load(SeaweedVolumes volumes) throws IOException {
        List<Needle> out = new ArrayList<>();
        for (SeaweedVolumes.VolumeInfo v : volumes.volumes()) {
            for (NeedleReport r : volumes.check(v.id())) {
                if (!r.checksumOk()) {
                    continue;
                }
                long cookie = Integer.toUnsignedLong(r.cookie());
                NeedleLocation loc = volumes.locate(v.id(), r.needleId(), cookie);
                ByteBuffer b = ByteBuffer.allocate(loc.dataLength());
                BlobAttributes a = new BlobAttributes();
                volumes.read(v.id(), r.needleId(), cookie, 0, loc.dataLength(), b, a);
                out.add(new Needle(v.id(), r.needleId(), cookie, b.array(), a.flags()));
            }
        }
        if (out.isEmpty()) {
            throw new CliException("--seaweedfs " + volumes.directory() + ": no live needle to read");
        }
        return out;
    }

    /** The same needles from heap arrays, with the same cookie check and flags. */
    private static BlobSource memorySource(List<Needle> needles) {
        Map<Long, Map<Long, Needle>> byVolume = new HashMap<>();
        for (Needle n : needles) {
            byVolume.computeIfAbsent(n.volume(), v -> new HashMap<>()).put(n.id(), n);
        }
        return (CookieBlobSource) (v, needle, cookie, offset, length, dst, attributes) -> {
            Needle n = byVolume.getOrDefault(v, Map.of()).get(needle);
            if (n == null || n.cookie() != cookie) {
                throw new BlobNotFoundException("no needle " + Long.toHexString(needle) + " in volume " + v);
            }
            attributes.flags(n.flags());
            int k = (int) Math.max(0, Math.min(length, n.data().length - offset));
            dst.put(n.data(), (int) offset, k);
            return k;
        };
    }
}
