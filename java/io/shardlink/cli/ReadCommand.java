package io.shardlink.cli;

import io.shardlink.api.BlobSource;
import io.shardlink.api.ReadResult;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.seaweedfs.FileId;
import io.shardlink.seaweedfs.NeedleFormat;
import java.io.OutputStream;
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
import java.util.zip.CRC32C;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Reads a blob (needle) from a node. */
@Command(name = "read", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Read a blob (needle) from a node.",
        "Reads --length bytes of needle --needle of volume --volume at --offset from the node at "
                + "--from (volume 0 = the shards it stores: needle N is shard N). Writes the bytes to --out "
                + "('-' for stdout), or prints a summary with their CRC32C.",
        "With --fid FID (a SeaweedFS file id such as 3,01637037d6: volume, needle id and cookie), reads the "
                + "whole needle's data, in chunks of the max send size, from a node serving 'serve --seaweedfs'; "
                + "the summary reports the needle's flags (gzip/manifest data is written as stored). A refusal "
                + "(NOT_FOUND, CHECKSUM_MISMATCH) is one error line and exit 1."})
public final class ReadCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    NodeOptions node = new NodeOptions();

    @Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = "--from", paramLabel = "HOST:PORT", required = true, converter = Units.AddressConverter.class,
            description = "The node holding the blob.")
    InetSocketAddress from;

    @Option(names = "--fid", paramLabel = "FID",
            description = "SeaweedFS file id (volume,needle+cookie in hex): read that whole needle.")
    String fid;

    @Option(names = "--volume", paramLabel = "V", description = "Volume id (with --needle and --length).")
    Long volumeOpt;

    @Option(names = "--needle", paramLabel = "N", description = "Needle id.")
    Long needleOpt;

    long volume;
    long needle;
    long cookie = BlobSource.NO_COOKIE;

    @Option(names = "--offset", paramLabel = "O", defaultValue = "0", converter = Units.SizeConverter.class,
            description = "Offset inside the needle (default 0).")
    long offset;

    @Option(names = "--length", paramLabel = "L", converter = Units.SizeConverter.class,
            description = "Bytes to read (more than one read when above the node's max send size, 4 MiB); with "
                    + "--fid, default the whole needle.")
    Long lengthOpt;

    long length;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the bytes here ('-' = stdout).")
    String outFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        resolveTarget();
        int flags = 0;
        ShardlinkConfig.Builder b = tls.apply(node.apply(ShardlinkConfig.builder()));
        int max = ShardlinkConfig.DEFAULT_MAX_SEND_SIZE;
        CRC32C crc = new CRC32C();
        Set<Transport> used = EnumSet.noneOf(Transport.class);
        long got = 0;
        long nanos = 0;
        boolean toStdout = "-".equals(outFile);
        try (ClientNode c = ClientNode.connect("read", from, b);
             FileChannel fileOut = outFile != null && !toStdout ? FileChannel.open(Path.of(outFile),
                     StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING) : null) {
            OutputStream stdout = toStdout ? System.out : null;
            while (got < length) {
                int want = (int) Math.min(max, length - got);
                long t0 = System.nanoTime();
                ReadResult r = c.peer.read(volume, needle, cookie, offset + got, want).get(60, TimeUnit.SECONDS);
                flags = r.blobFlags();
                nanos += System.nanoTime() - t0;
                used.add(r.transport());
                ByteBuffer data = r.data().duplicate();
                data.limit(data.position() + r.length());
                crc.update(data.duplicate());
                if (fileOut != null) {
                    while (data.hasRemaining()) {
                        fileOut.write(data);
                    }
                } else if (stdout != null) {
                    byte[] a = new byte[data.remaining()];
                    data.get(a);
                    stdout.write(a);
                }
                got += r.length();
                if (r.length() < want) {
                    break; // end of the needle
                }
            }
            if (stdout != null) {
                stdout.flush();
            }
            String summary = String.format(Locale.ROOT,
                    "read %d bytes of %s at offset %d from %s in %s (%.1f MB/s) over %s, CRC32C %08x%s%s%s",
                    got, fid != null ? "fid " + fid + " (volume " + volume + " needle " + Long.toHexString(needle) + ")"
                            : "volume " + volume + " needle " + needle, offset, Units.hostPort(from),
                    Units.micros(nanos), Units.mbPerSecond(got, nanos),
                    used.size() == 1 ? used.iterator().next() : used, crc.getValue(),
                    got < length && fid == null ? " (end of needle)" : "",
                    fid != null ? ", flags 0x" + String.format("%02x", flags) + " ("
                            + NeedleFormat.describeFlags(flags) + ")" : "",
                    fileOut != null ? ", written to " + outFile : "");
            if (toStdout) {
                CliLog.line(spec.commandLine().getErr(), java.util.logging.Level.INFO, "io.shardlink.cli.read", summary,
                        summary, io.shardlink.logging.LogFields.of(c.node.nodeId(), c.peer.nodeId())
                                .with("event", "read.done").with("bytes", got).with("transport",
                                        used.size() == 1 ? used.iterator().next().name() : used.toString()));
            } else {
                out.println(summary);
                out.flush();
            }
        } catch (RuntimeException | java.util.concurrent.ExecutionException e) {
            if (outFile != null && !toStdout && got == 0) {
                Files.deleteIfExists(Path.of(outFile));
            }
            throw e;
        }
        return 0;
    }

    /** Either --fid, or --volume + --needle + --length. */
    private void resolveTarget() {
        if (fid != null) {
            if (volumeOpt != null || needleOpt != null) {
                throw new CliException("give either --fid or --volume/--needle, not both", 2, null);
            }
            FileId f = FileId.parse(fid);
            volume = f.volumeId();
            needle = f.needleId();
            cookie = f.cookieValue();
            length = lengthOpt != null ? lengthOpt : Long.MAX_VALUE; // whole needle: until a short read
            return;
        }
        if (volumeOpt == null || needleOpt == null || lengthOpt == null) {
            throw new CliException("give --fid FID, or --volume, --needle and --length", 2, null);
        }
        volume = volumeOpt;
        needle = needleOpt;
        length = lengthOpt;
    }
}
