package io.shardlink.cli;

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
        "the reference for 'bench --read-depth 1'."})
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
        int warm = noWarmup ? 0 : Math.min(reads, 1000);
        Stats s = new Stats(reads);
        long wall = 0;
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
                        for (int i = -warm; i < reads; i++) {
                            long t = q.request(readSize);
                            if (i >= 0) {
                                s.add(t);
                                wall += t;
                            }
                        }
                    }
                }
                return BenchResult.of("raw-quic", "read", readSize, s, wall);
            }
            case "tcp" -> {
                try (RawTcpReads t = new RawTcpReads(readSize)) {
                    for (int i = -warm; i < reads; i++) {
                        long ns = t.request(readSize);
                        if (i >= 0) {
                            s.add(ns);
                            wall += ns;
                        }
                    }
                }
                return BenchResult.of("tcp", "read", readSize, s, wall);
            }
            default -> throw new CliException("--kind must be quic or tcp", 2, null);
        }
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
