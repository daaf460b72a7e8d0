package io.shardlink.cli;

import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Two nodes in this process on loopback: copies a generated shard from one to the other with a progress bar,
 * verifies it (CRC32C of the source file vs what arrived), runs a burst of verified blob reads, and prints the
 * transport used (and why RDMA is not), the copy throughput and the read latency.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Copy a generated shard and read blobs between two in-process nodes (default command).",
        "Two nodes in this process on loopback: copies a generated shard with a progress bar, "
                + "verifies it (CRC32C of source vs received), runs verified blob reads, and prints the "
                + "transport used (and why RDMA is not), the copy MB/s and the read latency p50/p99."})
public final class DemoCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    NodeOptions node = new NodeOptions();

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "256m", converter = Units.SizeConverter.class,
            description = "Shard size (default ${DEFAULT-VALUE}; suffixes k, m, g).")
    long size = 256L << 20;

    @Option(names = "--reads", paramLabel = "N", defaultValue = "1000", description = "Blob reads (default ${DEFAULT-VALUE}).")
    int reads = 1000;

    @Option(names = "--read-size", paramLabel = "BYTES", defaultValue = "4k", converter = Units.IntSizeConverter.class,
            description = "Bytes per blob read (default ${DEFAULT-VALUE}).")
    int readSize = 4096;

    @Option(names = "--dir", paramLabel = "DIR", description = "Where to write the generated shard (default: the temp dir).")
    Path dir;

    @Option(names = "--quiet", description = "No progress display.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
        PrintWriter err = spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
        if (reads < 0) {
            throw new CliException("--reads must be >= 0", 2, null);
        }
        if (readSize < 1 || readSize > ShardlinkConfig.DEFAULT_MAX_SEND_SIZE) {
            throw new CliException("--read-size must be in 1.." + ShardlinkConfig.DEFAULT_MAX_SEND_SIZE, 2, null);
        }
        Path work = Files.createTempDirectory(dir != null ? Files.createDirectories(dir) : Path.of(
                System.getProperty("java.io.tmpdir")), "shardlink-demo");
        try (Pki.Ephemeral tls = new Pki.Ephemeral("shardlink-demo-tls")) {
            out.printf(Locale.ROOT, "shardlink demo: generating a %s shard...%n", Units.bytes(size));
            out.flush();
            Path shard = work.resolve("shard-1");
            long srcCrc = Patterns.writeShard(shard, size, 42);
            ShardlinkConfig.Builder base = node.apply(ShardlinkConfig.builder())
                    .listenAddress(new InetSocketAddress("127.0.0.1", 0))
                    .keyPem(tls.cert, tls.key).trustCertsPem(tls.trust);
            try (ShardlinkNode sender = ShardlinkNode.start(base.nodeId("demo-sender").build());
                 ShardlinkNode receiver = ShardlinkNode.start(base.nodeId("demo-receiver").build())) {
                VerifyingSink sink = new VerifyingSink(size, true);
                receiver.onShardCopy((peer, shardId, total) -> {
                    if (total != size) {
                        throw new java.io.IOException("unexpected shard length " + total);
                    }
                    return sink;
                });
                receiver.blobSource((vol, needle, off, len, dst) -> {
                    Patterns.fill(dst.limit(dst.position() + len), Patterns.blobSeed(vol, needle), off);
                    return len;
                });
                Peer peer = sender.connect(receiver.localAddress());
                String why = RdmaStatus.whyNot(sender, peer);
                out.println("nodes: " + sender.nodeId() + " @ " + Units.hostPort(sender.localAddress()) + " -> "
                        + receiver.nodeId() + " @ " + Units.hostPort(receiver.localAddress()) + " (mutual TLS 1.3)");
                out.println("transport: " + (why == null ? "RDMA (" + sender.config().device() + ")" : "QUIC — " + why));
                out.flush();

                CopyResult cr;
                try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ);
                     Progress progress = new Progress(err, "copy", size, quiet)) {
                    cr = peer.copyShard(1, ch, 0, size, progress).get(copyTimeoutSeconds(size), TimeUnit.SECONDS);
                }
                VerifyingSink.Received got = sink.done().get(30, TimeUnit.SECONDS);
                if (got.bytes() != size || got.crc32c() != srcCrc) {
                    throw new CliException(String.format(Locale.ROOT, "copy NOT verified: sent %d bytes CRC32C %08x, "
                            + "received %d bytes CRC32C %08x", size, srcCrc, got.bytes(), got.crc32c()));
                }
                out.printf(Locale.ROOT, "copy: %s in %.2f s = %.1f MB/s over %s, verified (CRC32C %08x)%s%n",
                        Units.bytes(cr.bytes()), cr.duration().toNanos() / 1e9, cr.megabytesPerSecond(),
                        transports(cr), srcCrc, cr.fallbacks() > 0 ? ", " + cr.fallbacks() + " fallback(s): "
                                + cr.fallbackCauses() : "");

                if (reads > 0) {
                    Stats lat = new Stats(reads);
                    Set<Transport> used = EnumSet.noneOf(Transport.class);
                    ByteBuffer expected = ByteBuffer.allocate(readSize);
                    int warm = Math.min(100, reads);
                    for (int i = -warm; i < reads; i++) {
                        long vol = 1 + (i & 3);
                        long needle = Math.floorMod(i, 997);
                        long off = (long) Math.floorMod(i, 13) * 512;
                        long t0 = System.nanoTime();
                        ReadResult r = peer.read(vol, needle, off, readSize).get(30, TimeUnit.SECONDS);
                        long t1 = System.nanoTime();
                        expected.clear();
                        Patterns.fill(expected, Patterns.blobSeed(vol, needle), off);
                        expected.flip();
                        if (r.length() != readSize || !r.data().duplicate().limit(r.length()).equals(expected)) {
                            throw new CliException("read of volume " + vol + " needle " + needle + " at " + off
                                    + " returned wrong bytes (" + r.length() + " bytes)");
                        }
                        if (i >= 0) {
                            lat.add(t1 - t0);
                            used.add(r.transport());
                        }
                    }
                    out.printf(Locale.ROOT, "reads: %d x %s over %s, all verified; latency p50 %s, p99 %s%n", reads,
                            Units.bytes(readSize), used, Units.micros(lat.percentile(0.50)),
                            Units.micros(lat.percentile(0.99)));
                }
                out.println("demo OK");
                out.flush();
            }
        } finally {
            Pki.deleteTree(work);
        }
        return 0;
    }

    static long copyTimeoutSeconds(long size) {
        return 60 + size / (1 << 20); // at least 1 MiB/s
    }

    static String transports(CopyResult cr) {
        return cr.transports().size() == 1 ? cr.transports().get(0).toString() : cr.transports().toString();
    }
}
