package io.shardlink.cli;

import io.shardlink.api.CopyResult;
import io.shardlink.config.ShardlinkConfig;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Copies a file to a node as a shard. */
@Command(name = "copy", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Copy a file to a node as a shard.",
        "Copies FILE to the node at --to as shard --shard (it lands as DIR/shard-ID there). Prints "
                + "bytes, transport and MB/s."})
public final class CopyCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    NodeOptions node = new NodeOptions();

    @Mixin
    TlsOptions tls = new TlsOptions();

    @Parameters(index = "0", paramLabel = "FILE", description = "The file to copy.")
    Path file;

    @Option(names = "--to", paramLabel = "HOST:PORT", required = true, converter = Units.AddressConverter.class,
            description = "The receiving node (its serve --listen address).")
    InetSocketAddress to;

    @Option(names = "--shard", paramLabel = "ID", required = true, description = "Shard id.")
    long shard;

    @Option(names = "--quiet", description = "No progress display.")
    boolean quiet;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(file)) {
            throw new CliException("no such file: " + file);
        }
        ShardlinkConfig.Builder b = tls.apply(node.apply(ShardlinkConfig.builder()));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             ClientNode c = ClientNode.connect("copy", to, b)) {
            long size = ch.size();
            CopyResult r;
            try (Progress p = new Progress(err, "copy", size, quiet)) {
                r = c.peer.copyShard(shard, ch, 0, size, p).get(DemoCommand.copyTimeoutSeconds(size), TimeUnit.SECONDS);
            }
            out.printf(Locale.ROOT, "copied %s to %s (%s) as shard %d: %d bytes in %.3f s = %.1f MB/s over %s%s%n",
                    file, Units.hostPort(to), c.peer.nodeId(), shard, r.bytes(), r.duration().toNanos() / 1e9,
                    r.megabytesPerSecond(), DemoCommand.transports(r),
                    r.transports().contains(io.shardlink.config.Transport.RDMA) ? "" : suffix(c));
            if (r.fallbacks() > 0) {
                out.println("fallbacks: " + r.fallbacks() + " " + r.fallbackCauses());
            }
            out.flush();
        }
        return 0;
    }

    private static String suffix(ClientNode c) {
        String why = RdmaStatus.whyNot(c.node, c.peer);
        return why == null ? "" : " (" + why + ")";
    }
}
