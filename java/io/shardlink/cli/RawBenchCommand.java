package io.shardlink.cli;

import io.shardlink.cli.bench.CpuMeter;
import io.shardlink.cli.bench.PipelinedRun;
import io.shardlink.cli.bench.RawQuic;
import io.shardlink.cli.bench.RawTcp;
import io.shardlink.cli.bench.RawQuicReads;
import io.shardlink.cli.bench.RawTcpReads;
import io.shardlink.config.ShardlinkConfig;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Reference transfers for bench/quic-vs-raw.sh: raw Netty QUIC with shardlink's default settings, and plain TCP,
 * both on loopback in this process. Prints the same fields as {@code bench --json} (transport raw-quic or tcp).
 */
@Command(name = "rawbench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, hidden = true, description = {
        "Reference bulk transfers on loopback: raw Netty QUIC with shardlink's QUIC settings (--kind quic) or",
        "plain blocking TCP (--kind tcp). Same output fields as 'bench'.",
        "--op read: request/response instead (one request in flight; raw QUIC opens a fresh stream per request),",
        "the reference for 'bench --read-depth 1'; --read-depth N keeps N requests in flight (raw QUIC)."})
public final class RawBenchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--kind", paramLabel = "quic|tcp", required = true)
    String kind;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "256m", converter = Units.SizeConverter.class)
    long size;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "3")
    int repeat;

    @Option(names = "--op", paramLabel = "copy|read", defaultValue = "copy")
    String op;

    @Option(names = "--reads", paramLabel = "N", defaultValue = "10000", description = "Measured requests (--op read).")
    int reads;

    @Option(names = "--read-size", paramLabel = "BYTES", defaultValue = "4k", converter = Units.IntSizeConverter.class)
    int readSize;

    @Option(names = "--read-depth", paramLabel = "N", defaultValue = "1",
            description = "Requests in flight (--op read --kind quic; each on its own stream): the raw ceiling for "
                    + "'bench --read-depth N'.")
    int readDepth = 1;

    @Option(names = "--read-warmup", paramLabel = "N", defaultValue = "-1",
            description = "Unmeasured requests first (default: min(--reads, 1000)).")
    int readWarmup = -1;

    @Option(names = "--cpu", description = "Also report CPU and heap bytes allocated per request (as 'bench --cpu').")
    boolean cpu;

    @Option(names = "--udp-payload", paramLabel = "BYTES", defaultValue = "0", converter = Units.IntSizeConverter.class,
            description = "0 = what shardlink picks for loopback.")
    int udpPayload;

    @Option(names = "--no-warmup", negatable = false)
    boolean noWarmup;

    @Option(names = "--json")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<BenchResult> results = new ArrayList<>();
        if ("read".equals(op)) {
            results.add(reads());
            BenchResult.print(out, results, json);
            return 0;
        }
        if (!"copy".equals(op)) {
            throw new CliException("--op must be copy or read", 2, null);
        }
        Stats s = new Stats(repeat);
        switch (kind) {
            case "quic" -> {
                // the settings a default shardlink node uses on loopback
                ShardlinkConfig defaults;
                try (Pki.Ephemeral id = new Pki.Ephemeral("shardlink-rawbench-tls")) {
                    defaults = ShardlinkConfig.builder().keyPem(id.cert, id.key).trustCertsPem(id.trust)
                            .quicUdpPayloadSize(udpPayload).build();
                    int mtu = loopbackMtu();
                    int payload = defaults.quicUdpPayloadFor(mtu);
                    String settings = String.format(java.util.Locale.ROOT, "raw Netty QUIC with shardlink's loopback "
                                    + "settings: loopback MTU %d -> UDP payload %d, stream window %d, connection window %d, "
                                    + "max streams %d, %d bytes queued (shardlink's copy window)", mtu, payload,
                            defaults.quicStreamWindow(), defaults.quicConnectionWindow(), defaults.quicMaxStreams(),
                            defaults.numMemoryRegions() * defaults.maxSendSize());
                    CliLog.line(spec.commandLine().getErr(), java.util.logging.Level.INFO, "io.shardlink.cli.rawbench",
                            "rawbench: " + settings, settings, null);
                    try (RawQuic q = new RawQuic(id.cert, id.key, id.trust, payload, defaults.quicStreamWindow(),
                            defaults.quicConnectionWindow(), defaults.quicMaxStreams(),
                            defaults.idleTimeout().toMillis(), defaults.numMemoryRegions() * defaults.maxSendSize())) {
                        if (!noWarmup) {
                            q.transfer(Math.min(size, 64L << 20));
                        }
                        for (int i = 0; i < repeat; i++) {
                            s.add(q.transfer(size));
                        }
                    }
                    results.add(BenchResult.of("raw-quic", "copy", size, s, s.sum()));
                }
            }
            case "tcp" -> {
                try (RawTcp t = new RawTcp()) {
                    if (!noWarmup) {
                        t.transfer(Math.min(size, 64L << 20));
                    }
                    for (int i = 0; i < repeat; i++) {
                        s.add(t.transfer(size));
                    }
                }
                results.add(BenchResult.of("tcp", "copy", size, s, s.sum()));
            }
            default -> throw new CliException("--kind must be quic or tcp", 2, null);
        }
        BenchResult.print(out, results, json);
        return 0;
    }

    /** Request/response reference: {@code reads} measured requests of {@code readSize} bytes, one in flight. */
    private BenchResult reads() throws Exception {
        if (reads < 1 || readSize < 1 || readSize > (64 << 20)) {
            throw new CliException("--reads must be >= 1 and --read-size in 1..64m", 2, null);
        }
        if (readDepth < 1 || readDepth > 4096 || (readDepth > 1 && !"quic".equals(kind))) {
            throw new CliException("--read-depth must be in 1..4096 (above 1 only with --kind quic)", 2, null);
        }
        int warm = noWarmup ? 0 : readWarmup >= 0 ? readWarmup : Math.min(reads, 1000);
        Stats s = new Stats(reads);
        long wall = 0;
        CpuMeter meter = null;
        CpuMeter.Usage usage = null; // taken before the reference's threads end
        switch (kind) {
            case "quic" -> {
                try (Pki.Ephemeral id = new Pki.Ephemeral("shardlink-rawbench-tls")) {
                    ShardlinkConfig d = ShardlinkConfig.builder().keyPem(id.cert, id.key).trustCertsPem(id.trust)
                            .quicUdpPayloadSize(udpPayload).build();
                    int payload = d.quicUdpPayloadFor(loopbackMtu());
                    String settings = String.format(java.util.Locale.ROOT, "raw Netty QUIC request/response, a fresh "
                            + "stream per request, shardlink's loopback settings: UDP payload %d, stream window %d, "
                            + "connection window %d, max streams %d, mutual TLS 1.3", payload, d.quicStreamWindow(),
                            d.quicConnectionWindow(), d.quicMaxStreams());
                    CliLog.line(spec.commandLine().getErr(), java.util.logging.Level.INFO, "io.shardlink.cli.rawbench",
                            "rawbench: " + settings, settings, null);
                    try (RawQuicReads q = new RawQuicReads(id.cert, id.key, id.trust, payload, d.quicStreamWindow(),
                            d.quicConnectionWindow(), d.quicMaxStreams(), d.idleTimeout().toMillis(), readSize)) {
                        if (readDepth > 1) {
                            return pipelined(q, warm);
                        }
                        for (int i = -warm; i < reads; i++) {
                            if (i == 0 && cpu) {
                                meter = CpuMeter.start();
                            }
                            long t = q.request(readSize);
                            if (i >= 0) {
                                s.add(t);
                                wall += t;
                            }
                        }
                        usage = meter == null ? null : meter.perOp(reads);
                    }
                }
                return withCpu(BenchResult.of("raw-quic", "read", readSize, s, wall), usage);
            }
            case "tcp" -> {
                try (RawTcpReads t = new RawTcpReads(readSize)) {
                    for (int i = -warm; i < reads; i++) {
                        if (i == 0 && cpu) {
                            meter = CpuMeter.start();
                        }
                        long ns = t.request(readSize);
                        if (i >= 0) {
                            s.add(ns);
                            wall += ns;
                        }
                    }
                    usage = meter == null ? null : meter.perOp(reads);
                }
                return withCpu(BenchResult.of("tcp", "read", readSize, s, wall), usage);
            }
            default -> throw new CliException("--kind must be quic or tcp", 2, null);
        }
    }

    private static BenchResult withCpu(BenchResult r, CpuMeter.Usage usage) {
        return usage == null ? r : r.withCpu(usage);
    }

    /**
     * {@code --read-depth N > 1}: N requests in flight at all times, each on a fresh stream (the raw codec's
     * ceiling at that depth); reads/s from the first measured request to the last answer.
     */
    private BenchResult pipelined(RawQuicReads q, int warm) throws Exception {
        Stats s = new Stats(reads);
        PipelinedRun.Result run;
        try {
            run = PipelinedRun.run(readDepth, warm, reads, cpu, i -> q.start(readSize), s::add);
        } catch (Exception e) {
            throw new CliException("raw QUIC request failed: " + e, 1, e);
        }
        BenchResult r = BenchResult.of("raw-quic", "read", readSize, s, run.wallNanos(), readDepth);
        return run.usage() == null ? r : r.withCpu(run.usage());
    }

    /** The loopback interface's MTU, as QuicTransport#payloadFor sees it (65536 if unknown). */
    static int loopbackMtu() {
        try {
            NetworkInterface ni = NetworkInterface.getByInetAddress(InetAddress.getLoopbackAddress());
            return ni != null ? ni.getMTU() : 65536;
        } catch (Exception e) {
            return 65536;
        }
    }
}
