package io.shardlink.cli;

import io.shardlink.api.BlobSource;
import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.cli.bench.CpuMeter;
import io.shardlink.cli.bench.PipelinedRun;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Shard-copy throughput and blob-read latency per transport: QUIC always, RDMA when available. In one process
 * (two nodes on loopback) by default, or against a running {@code serve} with {@code --connect}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Measure copy throughput and read latency per transport.",
        "Shard-copy throughput and blob-read latency (p50/p99/p999) per transport (QUIC always; "
                + "RDMA when available), in this process (two nodes on loopback) or against 'serve' with "
                + "--connect. --json: one JSON object per case per line with transport, op, size, count, "
                + "bytes, seconds, mb_per_s, p50_us, p99_us, p999_us (copy latencies are per copy, read "
                + "latencies per read).",
        "--seaweedfs DIR: instead, whole-needle reads of every live needle of the SeaweedFS volumes in DIR, "
                + "served from the volume files and from memory (the same bytes) in alternating rounds on one node "
                + "pair (ops needle-file and needle-mem, size = mean needle bytes), with the file/memory ratio."})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    TlsOptions tls = new TlsOptions();

    /** --device is the sending node's; the receiving one (in-process) takes --server-device. */
    @Mixin
    ConnectOptions connectOptions = new ConnectOptions();

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "256m", converter = Units.SizeConverter.class,
            description = "Shard size per copy (default ${DEFAULT-VALUE}, held in memory: at most 1g).")
    long size = 256L << 20;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3", description = "Measured copies per transport (default 3).")
    int repeat = 3;

    @Option(names = "--reads", paramLabel = "N", defaultValue = "10000", description = "Measured blob reads per transport (default 10000).")
    int reads = 10000;

    @Option(names = "--read-depth", paramLabel = "N", defaultValue = "1",
            description = "Blob reads kept in flight (default 1 = latency; e.g. 64 = throughput): reads/s = count / seconds.")
    int readDepth = 1;

    @Option(names = "--read-warmup", paramLabel = "N", defaultValue = "-1",
            description = "Unmeasured blob reads before the measured ones (default: min(--reads, 1000)).")
    int readWarmup = -1;

    @Option(names = "--cpu", description = "Also report the process's CPU, its Java threads' CPU and heap bytes "
            + "allocated per read, and the JIT time, over the measured reads (extra JSON fields).")
    boolean cpu;

    @Option(names = "--read-size", paramLabel = "BYTES", defaultValue = "4k", converter = Units.IntSizeConverter.class,
            description = "Bytes per blob read (default ${DEFAULT-VALUE}).")
    int readSize = 4096;

    @Option(names = "--transport", paramLabel = "all|quic|rdma", defaultValue = "all",
            description = "Transports to measure: all (QUIC, and RDMA when available), quic, or rdma (fails when "
                    + "RDMA is unavailable). Default: ${DEFAULT-VALUE}.")
    String transport = "all";

    @Option(names = "--connect", paramLabel = "HOST:PORT", converter = Units.AddressConverter.class,
            description = "Measure against a running 'shardlink serve' (needs --tls-dir or --cert/--key/--trust).")
    InetSocketAddress connect;

    @Option(names = "--shard", paramLabel = "ID", defaultValue = "900000001",
            description = "Shard id used with --connect (stored there as DIR/shard-ID; default ${DEFAULT-VALUE}).")
    long shard = 900000001L;

    @Option(names = "--server-device", paramLabel = "NAME", defaultValue = "auto",
            description = "RDMA device of the receiving node (in-process only), e.g. rxeb with --device rxea.")
    String serverDevice = "auto";

    @Option(names = "--chunk-size", paramLabel = "BYTES", converter = Units.IntSizeConverter.class,
            description = "Chunk (frame payload) size = the node's maxSendSize (default 4m); --read-size must fit.")
    Integer chunkSize;

    @Option(names = "--no-warmup", negatable = false, description = "Skip the unmeasured warm-up copy and reads.")
    boolean noWarmup;

    @Option(names = "--json", description = "One JSON object per case per line.")
    boolean json;

    @Option(names = "--seaweedfs", paramLabel = "DIR",
            description = "Measure needle reads from the SeaweedFS volumes in DIR against the same needles in memory.")
    java.nio.file.Path seaweedfs;

    private io.shardlink.seaweedfs.SeaweedVolumes volumes;

    @Spec
    CommandSpec spec;

    private byte[] data;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        validate();
        List<TransportMode> modes = new ArrayList<>();
        switch (transport.toLowerCase(Locale.ROOT)) {
            case "all" -> {
                modes.add(TransportMode.QUIC_ONLY);
                modes.add(TransportMode.RDMA_ONLY);
            }
            case "quic" -> modes.add(TransportMode.QUIC_ONLY);
            case "rdma" -> modes.add(TransportMode.RDMA_ONLY);
            default -> throw new CliException("--transport must be all, quic or rdma, got '" + transport + "'", 2, null);
        }
        if (seaweedfs != null) {
            if (connect != null) {
                throw new CliException("--seaweedfs runs in this process (two nodes on loopback): drop --connect", 2,
                        null);
            }
            volumes = io.shardlink.seaweedfs.SeaweedVolumes.open(seaweedfs);
        }
        try (io.shardlink.seaweedfs.SeaweedVolumes closing = volumes) {
            return runAll(out, err, modes);
        }
    }

    private int runAll(PrintWriter out, PrintWriter err, List<TransportMode> modes) throws Exception {
        data = new byte[(int) (volumes != null ? 1 : Math.max(size, readSize))];
        Patterns.fill(ByteBuffer.wrap(data), 7, 0);
        List<BenchResult> results = new ArrayList<>();
        for (TransportMode m : modes) {
            boolean explicit = !transport.equalsIgnoreCase("all");
            if (m == TransportMode.RDMA_ONLY && connect == null) {
                var a = RdmaStatus.hostAvailability(connectOptions.device, 1);
                if (a == null || !a.available()) {
                    String why = a == null ? "the RDMA probe failed" : a.reason();
                    if (explicit) {
                        throw new CliException("rdma: " + why);
                    }
                    CliLog.line(err, java.util.logging.Level.WARNING, "io.shardlink.cli.bench", "bench: rdma skipped: " + why,
                            "rdma skipped: " + why, io.shardlink.logging.LogFields.of(null, null).with("event", "bench.skipped")
                                    .with("transport", "RDMA").with("cause", why));
                    continue;
                }
            }
            try {
                results.addAll(json ? runCase(m, err) : printed(runCase(m, err), out));
            } catch (CliException e) {
                if (m == TransportMode.RDMA_ONLY && !explicit) {
                    CliLog.line(err, java.util.logging.Level.WARNING, "io.shardlink.cli.bench", "bench: rdma skipped: " + e.getMessage(),
                            "rdma skipped: " + e.getMessage(), io.shardlink.logging.LogFields.of(null, null).with("event", "bench.skipped")
                                    .with("transport", "RDMA").with("cause", e.getMessage()));
                } else {
                    throw e;
                }
            }
        }
        if (json) {
            BenchResult.print(out, results, true);
        }
        return 0;
    }

    private boolean headerPrinted;

    private List<BenchResult> printed(List<BenchResult> rs, PrintWriter out) {
        for (BenchResult r : rs) {
            if (!headerPrinted) {
                BenchResult.header(out);
                headerPrinted = true;
            }
            r.row(out);
        }
        out.flush();
        return List.of();
    }

    private void validate() {
        if (size < 1 || size > (1L << 30)) {
            throw new CliException("--size must be in 1..1g (the shard is held in memory)", 2, null);
        }
        int maxSend = chunkSize != null ? chunkSize : ShardlinkConfig.DEFAULT_MAX_SEND_SIZE;
        if (chunkSize != null && (chunkSize < ShardlinkConfig.MIN_SEND_SIZE || chunkSize > ShardlinkConfig.MAX_SEND_SIZE)) {
            throw new CliException("--chunk-size must be in " + ShardlinkConfig.MIN_SEND_SIZE + ".."
                    + ShardlinkConfig.MAX_SEND_SIZE, 2, null);
        }
        if (readSize < 1 || readSize > maxSend || readSize > size) {
            throw new CliException("--read-size must be in 1.." + Math.min(size, maxSend), 2, null);
        }
        if (repeat < 0 || reads < 0) {
            throw new CliException("--repeat and --reads must be >= 0", 2, null);
        }
        if (readDepth < 1 || readDepth > 100_000) {
            throw new CliException("--read-depth must be in 1..100000, got " + readDepth, 2, null);
        }
    }

    private ShardlinkConfig.Builder base(TransportMode m, String dev) {
        ShardlinkConfig.Builder b = connectOptions.apply(ShardlinkConfig.builder()).transportMode(m).device(dev);
        return chunkSize != null ? b.maxSendSize(chunkSize) : b;
    }

    private List<BenchResult> runCase(TransportMode m, PrintWriter err) throws Exception {
        Transport expected = m == TransportMode.RDMA_ONLY ? Transport.RDMA : Transport.QUIC;
        if (connect != null) {
            try (ClientNode c = ClientNode.connect("bench", connect, tls.apply(base(m, connectOptions.device)))) {
                checkPath(c.node, c.peer, expected);
                return measure(c.peer, expected, true);
            }
        }
        try (Pki.Ephemeral id = new Pki.Ephemeral("shardlink-bench-tls");
             ShardlinkNode sender = ShardlinkNode.start(base(m, connectOptions.device).nodeId("bench-sender")
                     .keyPem(id.cert, id.key).trustCertsPem(id.trust).build());
             ShardlinkNode receiver = ShardlinkNode.start(base(m, serverDevice).nodeId("bench-receiver")
                     .keyPem(id.cert, id.key).trustCertsPem(id.trust).build())) {
            receiver.onShardCopy((peer, shardId, total) -> new VerifyingSink(total, false));
            // in memory: never blocks, so QUIC reads are served on the connection's I/O thread (BlobSource#nonBlocking)
            receiver.blobSource(BlobSource.nonBlocking((vol, needle, off, len, dst) -> {
                int n = (int) Math.max(0, Math.min(len, data.length - off));
                dst.put(data, (int) off, n);
                return n;
            }));
            Peer peer;
            try {
                peer = sender.connect(receiver.localAddress());
            } catch (RuntimeException e) {
                throw new CliException(expected + " path did not come up: " + Errors.describe(e), e);
            }
            checkPath(sender, peer, expected);
            if (volumes != null) {
                peer.close();
                return SeaweedBench.run(receiver, sender, expected, volumes, reads,
                        chunkSize != null ? chunkSize : ShardlinkConfig.DEFAULT_MAX_SEND_SIZE, !noWarmup,
                        json ? err : spec.commandLine().getOut());
            }
            return measure(peer, expected, false);
        }
    }

    private static void checkPath(ShardlinkNode node, Peer peer, Transport expected) {
        if (expected == Transport.RDMA && !peer.state().usesRdma()) {
            String why = RdmaStatus.whyNot(node, peer);
            throw new CliException(why != null ? why : "RDMA path not connected (state " + peer.state() + ")");
        }
    }

    private List<BenchResult> measure(Peer peer, Transport expected, boolean remote) throws Exception {
        String name = expected.name().toLowerCase(Locale.ROOT);
        List<BenchResult> out = new ArrayList<>();
        ByteBuffer src = ByteBuffer.wrap(data, 0, (int) size);
        long timeout = DemoCommand.copyTimeoutSeconds(size);
        boolean copied = false;
        if (!noWarmup && repeat > 0) {
            ByteBuffer warm = ByteBuffer.wrap(data, 0, (int) Math.min(size, 64L << 20));
            check(peer.copyShard(remote ? shard : 1, warm, CopyProgressListener.NONE).get(timeout, TimeUnit.SECONDS),
                    expected, warm.remaining());
        }
        if (repeat > 0) {
            Stats s = new Stats(repeat);
            for (int i = 0; i < repeat; i++) {
                long t0 = System.nanoTime();
                CopyResult r = peer.copyShard(remote ? shard : 2 + i, src, CopyProgressListener.NONE)
                        .get(timeout, TimeUnit.SECONDS);
                s.add(System.nanoTime() - t0);
                check(r, expected, size);
            }
            copied = true;
            out.add(BenchResult.of(name, "copy", size, s, s.sum()));
        }
        if (reads > 0) {
            if (remote && !copied) {
                check(peer.copyShard(shard, src, CopyProgressListener.NONE).get(timeout, TimeUnit.SECONDS), expected,
                        size);
            }
            long volume = remote ? DirBlobSource.SHARD_VOLUME : 0;
            long needle = remote ? shard : 1;
            long span = size - readSize + 1;
            int warm = noWarmup ? 0 : readWarmup >= 0 ? readWarmup : Math.min(reads, 1000);
            if (readDepth > 1) {
                out.add(pipelinedReads(name, peer, expected, volume, needle, span, warm, data));
                return out;
            }
            Stats s = new Stats(reads);
            ByteBuffer dst = ByteBuffer.allocateDirect(readSize);
            long wall = 0;
            CpuMeter meter = null;
            for (int i = -warm; i < reads; i++) {
                if (i == 0 && cpu) {
                    meter = CpuMeter.start();
                }
                long off = Math.floorMod((long) i * 7919L * 4096L, span);
                dst.clear();
                long t0 = System.nanoTime();
                ReadResult r = peer.read(volume, needle, off, dst).get(30, TimeUnit.SECONDS);
                long t = System.nanoTime() - t0;
                if (r.length() != readSize || r.transport() != expected) {
                    throw new CliException("read at " + off + " returned " + r.length() + " bytes over " + r.transport()
                            + ", expected " + readSize + " over " + expected);
                }
                dst.flip();
                if (!dst.equals(ByteBuffer.wrap(data, (int) off, readSize))) {
                    throw new CliException("read at offset " + off + " returned wrong bytes");
                }
                if (i >= 0) {
                    s.add(t);
                    wall += t;
                }
            }
            BenchResult r = BenchResult.of(name, "read", readSize, s, wall);
            out.add(meter == null ? r : r.withCpu(meter.perOp(reads)));
        }
        return out;
    }

    /**
     * {@code --read-depth N > 1}: N reads in flight at all times; each read's latency is recorded, and the
     * wall time from the first to the last answer gives reads/s.
     */
    private BenchResult pipelinedReads(String name, Peer peer, Transport expected, long volume, long needle, long span,
                                       int warm, byte[] data) throws Exception {
        Stats s = new Stats(reads);
        PipelinedRun.Result run;
        try {
            run = PipelinedRun.run(readDepth, warm, reads, cpu, i -> {
                long off = Math.floorMod((long) i * 7919L * 4096L, span);
                long start = System.nanoTime();
                return peer.read(volume, needle, off, readSize).thenApply(r -> {
                    long t = System.nanoTime() - start;
                    if (r.length() != readSize || r.transport() != expected) {
                        throw new CliException("read at " + off + " returned " + r.length() + " bytes over "
                                + r.transport() + ", expected " + readSize + " over " + expected);
                    }
                    if (!r.data().equals(ByteBuffer.wrap(data, (int) off, readSize))) {
                        throw new CliException("read at offset " + off + " returned wrong bytes");
                    }
                    return t;
                });
            }, s::add);
        } catch (CliException e) {
            throw e;
        } catch (IllegalStateException e) {
            throw new CliException("reads: " + e.getMessage(), 1, e);
        } catch (Exception e) {
            throw new CliException("read failed: " + e, 1, e);
        }
        BenchResult r = BenchResult.of(name, "read", readSize, s, run.wallNanos(), readDepth);
        return run.usage() == null ? r : r.withCpu(run.usage());
    }

    private static void check(CopyResult r, Transport expected, long bytes) {
        if (r.bytes() != bytes) {
            throw new CliException("copy moved " + r.bytes() + " bytes, expected " + bytes);
        }
        if (!r.transports().equals(List.of(expected))) {
            throw new CliException("copy used " + r.transports() + ", expected only " + expected
                    + (r.fallbackCauses().isEmpty() ? "" : " (fallbacks: " + r.fallbackCauses() + ")"));
        }
    }
}
