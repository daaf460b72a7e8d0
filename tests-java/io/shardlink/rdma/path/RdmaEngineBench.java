package io.shardlink.rdma.path;

import io.shardlink.api.BlobSource;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.testing.TestNodes;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Measurement, not a test (bench/rdma-vs-perftest.sh runs it in the rxe VM beside perftest): per poll mode, two
 * nodes with default settings (RDMA_ONLY, rxea -> rxeb), and
 * <ul>
 * <li>4 KiB blob-read latency, one read at a time: p50 / p99 (to set beside {@code ib_read_lat});</li>
 * <li>4 KiB reads per second with 64 in flight, and process CPU seconds per 10,000 reads (beside
 * {@code ib_read_bw}'s message rate);</li>
 * <li>shard copy MB/s with the default chunk size (beside {@code ib_write_bw -s 1048576}).</li>
 * </ul>
 * Interleaved with perftest so that drift and order cancel: after a discarded warm-up round (every mode, half the
 * reads, one copy: the JIT was still warming in the first measured round), for {@code rounds} rounds it prints
 * {@code PERFTEST k} and waits for a line on stdin (the script runs perftest meanwhile), then measures the modes,
 * in the given order in odd rounds and reversed in even ones (P A B P B A P A B P ...), and ends with a last
 * {@code PERFTEST}; each mode run is one {@code RESULT {json}} line with its round, next to one perftest run.
 * The blob source answers from memory and is declared {@link BlobSource#nonBlocking()} (it is: the bytes are in
 * place), so it is served on the poller; {@code blocking} measures it undeclared (served by the reader threads).
 * Optionally (variants) copies with 4 MiB chunks as one WRITE each, split into 1 MiB WRITEs, and 1 MiB chunks:
 * one {@code COPY {json}} line each. Args: modes (comma list of busy, adaptive, event), latency reads (1000), reads
 * at 64 in flight (5000), copy MiB (32), copies (2), readsOnPoller (false), rounds (3), variants (false),
 * source (nonblocking | blocking).
 */
public final class RdmaEngineBench {
    private static final int KiB = 1024;

    private RdmaEngineBench() {}

    public static void main(String[] args) throws Exception {
        List<PollMode> modes = new ArrayList<>();
        for (String m : (args.length > 0 ? args[0] : "adaptive,event").split(",")) {
            modes.add(PollMode.valueOf(m.trim().toUpperCase(Locale.ROOT)));
        }
        int latReads = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int rateReads = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        int copyMib = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        int copies = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        boolean onPoller = args.length > 5 && Boolean.parseBoolean(args[5]);
        int rounds = args.length > 6 ? Integer.parseInt(args[6]) : 3;
        boolean variants = args.length > 7 && Boolean.parseBoolean(args[7]);
        boolean nonBlocking = args.length <= 8 || !"blocking".equals(args[8]);
        byte[] shard = RdmaPathTestSupport.pattern(1, copyMib * RdmaPathTestSupport.MiB);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // a discarded round first: in two interleaved runs round 1 was the slowest for every mode (JIT warming)
        for (PollMode mode : modes) {
            try {
                measure(mode, onPoller, nonBlocking, 0, latReads / 2, rateReads / 2, shard, 1, false);
            } catch (Exception e) {
                System.err.println("warm-up round, " + mode + ": " + e); // the measured rounds report it
            }
        }
        for (int round = 1; round <= rounds; round++) {
            perftest(in, round);
            List<PollMode> order = new ArrayList<>(modes);
            if (round % 2 == 0) {
                Collections.reverse(order);
            }
            for (PollMode mode : order) {
                try {
                    measure(mode, onPoller, nonBlocking, round, latReads, rateReads, shard, copies, true);
                } catch (Exception e) { // e.g. BUSY pollers starving rxe into "retry exceeded": report it, go on
                    System.out.printf(Locale.ROOT, "RESULT {\"mode\":\"%s\",\"round\":%d,\"reads_on_poller\":%s,"
                            + "\"error\":\"%s\"}%n", mode.name().toLowerCase(Locale.ROOT), round, onPoller,
                            String.valueOf(e).replace('"', '\'').replace('\\', '/'));
                    System.out.flush();
                }
            }
        }
        perftest(in, rounds + 1);
        if (variants) {
            copyVariants(shard, copies);
        }
    }

    /** Asks the script to run perftest now and waits until it has. */
    private static void perftest(BufferedReader in, int k) throws Exception {
        System.out.println("PERFTEST " + k);
        System.out.flush();
        if (in.readLine() == null) {
            throw new IllegalStateException("the script went away (stdin closed)");
        }
    }

    private static void measure(PollMode mode, boolean onPoller, boolean nonBlocking, int round, int latReads,
                                int rateReads, byte[] shard, int copies, boolean report) throws Exception {
        RdmaEngineOptions eo = RdmaEngineOptions.defaults().withPollMode(mode).withReadsOnPoller(onPoller);
        RdmaDataPathProvider pa = new RdmaDataPathProvider(RdmaPathOptions.defaults(), eo);
        RdmaDataPathProvider pb = new RdmaDataPathProvider(RdmaPathOptions.defaults(), eo);
        String tag = mode.name().toLowerCase(Locale.ROOT);
        try (ShardlinkNode a = ShardlinkNode.start(cfg("bench-" + tag + round + "-a", RdmaPathTestSupport.deviceA())
                .build(), pa);
             ShardlinkNode b = ShardlinkNode.start(cfg("bench-" + tag + round + "-b", RdmaPathTestSupport.deviceB())
                     .build(), pb)) {
            if (a.rdmaUnavailableReason() != null || b.rdmaUnavailableReason() != null) {
                throw new IllegalStateException("no RDMA: " + a.rdmaUnavailableReason() + " / "
                        + b.rdmaUnavailableReason());
            }
            BlobSource quick = (v, n, off, len, dst) -> {
                dst.position(dst.position() + len); // a quick source: the bytes already in place
                return len;
            };
            b.blobSource(nonBlocking ? BlobSource.nonBlocking(quick) : quick);
            b.onShardCopy(RdmaPathTestSupport.discardingSinks());
            Peer p = a.connect(b.localAddress());
            // warm-up (JIT, registrations, staging buffers)
            serial(p, Math.max(200, latReads / 5));
            inFlight(p, 64, Math.max(1000, rateReads / 5));

            long[] lat = serial(p, latReads);
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            inFlight(p, 64, rateReads);
            double rateSecs = (System.nanoTime() - t0) / 1e9;
            double cpuPer10k = (cpuNanos() - cpu0) / 1e9 * 10_000 / rateReads;

            List<Double> mbs = copies(p, shard, copies);
            if (!report) {
                return;
            }
            System.out.printf(Locale.ROOT, "RESULT {\"mode\":\"%s\",\"round\":%d,\"reads_on_poller\":%s,"
                    + "\"source\":\"%s\",\"read_p50_us\":%.1f,\"read_p99_us\":%.1f,\"reads_per_s_64\":%.0f,"
                    + "\"cpu_s_per_10k_reads\":%.2f,\"copy_mb_s\":%.1f,\"copies_mb_s\":%s,\"chunk\":%d,"
                    + "\"pollers\":%d,\"stats\":\"%s\"}%n",
                    tag, round, onPoller, nonBlocking ? "nonblocking" : "blocking", lat[lat.length / 2] / 1e3,
                    lat[(int) (lat.length * 0.99)] / 1e3, rateReads / rateSecs, cpuPer10k, mbs.get(mbs.size() / 2),
                    mbs, a.config().maxSendSize(), pa.maxPollers(), pa.stats());
            System.out.flush();
        }
    }

    private static void copyVariants(byte[] shard, int copies) throws Exception {
        int[][] variants = {{4, 0}, {4, 1}, {1, 1}}; // chunk MiB, split
        for (int[] v : variants) {
            RdmaEngineOptions eo = RdmaEngineOptions.defaults().withSplitWrites(v[1] == 1);
            RdmaDataPathProvider pa = new RdmaDataPathProvider(RdmaPathOptions.defaults(), eo);
            RdmaDataPathProvider pb = new RdmaDataPathProvider(RdmaPathOptions.defaults(), eo);
            String tag = "copy" + v[0] + (v[1] == 1 ? "s" : "w");
            try (ShardlinkNode a = ShardlinkNode.start(cfg("bench-" + tag + "-a", RdmaPathTestSupport.deviceA())
                    .maxSendSize(v[0] << 20).build(), pa);
                 ShardlinkNode b = ShardlinkNode.start(cfg("bench-" + tag + "-b", RdmaPathTestSupport.deviceB())
                         .maxSendSize(v[0] << 20).build(), pb)) {
                b.onShardCopy(RdmaPathTestSupport.discardingSinks());
                Peer p = a.connect(b.localAddress());
                List<Double> mbs = copies(p, shard, copies);
                System.out.printf(Locale.ROOT, "COPY {\"chunk_mib\":%d,\"split\":%s,\"copy_mb_s\":%.1f,"
                        + "\"copies_mb_s\":%s,\"stats\":\"%s\"}%n", v[0], v[1] == 1, mbs.get(mbs.size() / 2), mbs,
                        pa.stats());
            }
        }
    }

    /** A warm-up copy, then {@code n} measured ones; sorted MB/s. */
    private static List<Double> copies(Peer p, byte[] shard, int n) throws Exception {
        p.copyShard(1000, ByteBuffer.wrap(shard), CopyProgressListener.NONE).get(600, TimeUnit.SECONDS);
        List<Double> mbs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CopyResult r = p.copyShard(i, ByteBuffer.wrap(shard), CopyProgressListener.NONE).get(600, TimeUnit.SECONDS);
            if (!r.transports().equals(List.of(Transport.RDMA))) {
                throw new IllegalStateException("copy went over " + r.transports());
            }
            mbs.add(r.megabytesPerSecond());
        }
        Collections.sort(mbs);
        return mbs;
    }

    private static ShardlinkConfig.Builder cfg(String id, String device) throws Exception {
        return TestNodes.config(id).device(device).transportMode(TransportMode.RDMA_ONLY)
                .connectTimeout(Duration.ofSeconds(60)).requestTimeout(Duration.ofSeconds(120));
    }

    /** {@code n} 4 KiB reads one after the other; sorted latencies in ns. */
    private static long[] serial(Peer p, int n) throws Exception {
        long[] lat = new long[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            ReadResult r = p.read(1, i, 0, 4 * KiB).get(60, TimeUnit.SECONDS);
            lat[i] = System.nanoTime() - t;
            check(r);
        }
        Arrays.sort(lat);
        return lat;
    }

    /** {@code n} 4 KiB reads, {@code depth} in flight. */
    private static void inFlight(Peer p, int depth, int n) throws Exception {
        Semaphore window = new Semaphore(depth);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (int i = 0; i < n && failed.get() == null; i++) {
            window.acquire();
            CompletableFuture<ReadResult> f = p.read(2, i, 0, 4 * KiB);
            f.whenComplete((r, e) -> {
                if (e != null) {
                    failed.compareAndSet(null, e);
                } else if (r.transport() != Transport.RDMA || r.length() != 4 * KiB) {
                    failed.compareAndSet(null, new IllegalStateException("read answered " + r));
                }
                window.release();
            });
        }
        if (!window.tryAcquire(depth, 120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("reads still in flight after 120 s");
        }
        if (failed.get() != null) {
            throw new IllegalStateException("a read failed", failed.get());
        }
    }

    private static void check(ReadResult r) {
        if (r.transport() != Transport.RDMA || r.length() != 4 * KiB) {
            throw new IllegalStateException("read answered " + r);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
