package io.shardlink.cli;

import io.shardlink.seaweedfs.NeedleFormat;
import io.shardlink.seaweedfs.NeedleReport;
import io.shardlink.seaweedfs.SeaweedVolumes;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Lists the needles of a directory of SeaweedFS volumes, each checksum checked, before serving it. */
@Command(name = "volumes", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"List and check the SeaweedFS volumes in DIR (what 'serve --seaweedfs DIR' would serve).",
        "Opens every <vid>.dat / <collection>_<vid>.dat in DIR read-only as 'serve --seaweedfs' does (superblock, "
                + "index or .dat scan) and lists each live needle: file id, needle id, cookie, data bytes, flags, "
                + "and whether its checksum matches. Exits 1 if a volume cannot be opened or any needle would be "
                + "refused."})
public final class VolumesCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(paramLabel = "DIR", description = "Directory of SeaweedFS volume files.")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int bad = 0;
        int total = 0;
        try (SeaweedVolumes vols = SeaweedVolumes.open(dir, false)) {
            for (SeaweedVolumes.VolumeInfo v : vols.volumes()) {
                out.println(String.format(Locale.ROOT, "volume %d%s: version %d, %s, %d live needles, index %s",
                        v.id(), v.collection().isEmpty() ? "" : " (collection " + v.collection() + ")", v.version(),
                        v.scanned() ? v.dat().getFileName() + " (no .idx: indexed by scanning the .dat)"
                                : v.dat().getFileName() + " + " + v.idx().getFileName(),
                        v.liveNeedles(), Units.bytes(v.indexBytes())));
                List<NeedleReport> needles = vols.check(v.id());
                if (!needles.isEmpty()) {
                    out.println(String.format(Locale.ROOT, "  %-24s %-16s %-8s %10s %-5s %s", "FID", "NEEDLE", "COOKIE",
                            "DATA", "FLAGS", "CHECKSUM"));
                }
                for (NeedleReport n : needles) {
                    total++;
                    if (!n.checksumOk()) {
                        bad++;
                    }
                    out.println(String.format(Locale.ROOT, "  %-24s %-16x %08x %10d 0x%02x  %s", n.fileId(),
                            n.needleId(), n.cookie(), n.dataSize(), n.flags(),
                            n.checksumOk() ? "ok" + (n.flags() == 0 ? "" : " (" + NeedleFormat.describeFlags(n.flags())
                                    + ")") : "REFUSED: " + n.problem()));
                }
            }
            out.println(String.format(Locale.ROOT, "%d volume(s), %d live needle(s), %d would be refused",
                    vols.volumes().size(), total, bad));
        }
        out.flush();
        if (bad > 0) {
            throw new CliException(bad + " needle(s) in " + dir + " fail their checks (see REFUSED above)");
        }
        return 0;
    }
}
