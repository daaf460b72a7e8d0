package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.testing.SeaweedFixtures;
import io.shardlink.testing.SeaweedFixtures.Needle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `volumes DIR` on the fixtures, and the argument errors of `read --fid` and `serve --seaweedfs` (in-process). */
class SeaweedCliTest {
    @TempDir
    Path tmp;

    @Test
    void volumesListsEveryNeedleAndFlagsADamagedOne() throws Exception {
        Path dir = SeaweedFixtures.copyAll(tmp.resolve("ok"), true);
        CliRunner.Result r = CliRunner.run("volumes", dir.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("volume 2 (collection pics): version 3, pics_2.dat + pics_2.idx, 298 live needles")
                .contains("3 volume(s), 305 live needle(s), 0 would be refused");
        for (Map<Long, Needle> vol : SeaweedFixtures.expected().values()) {
            for (Needle n : vol.values()) {
                String fid = io.shardlink.seaweedfs.FileId.parse(n.volumeId() + "," + Long.toHexString(n.id())
                        + String.format("%08x", n.cookie())).toString();
                assertThat(r.out()).containsPattern("(?m)^  " + fid + " +" + Long.toHexString(n.id()) + " +"
                        + String.format("%08x", n.cookie()) + " +" + n.data().length + " 0x"
                        + String.format("%02x", n.flags()) + "  ok");
            }
        }
        Needle bad = SeaweedFixtures.expected().get(SeaweedFixtures.HEALTHY).values().iterator().next();
        SeaweedFixtures.flipDataByte(dir.resolve("1.dat"), bad, 3);
        r = CliRunner.run("volumes", dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("1 would be refused").containsPattern("REFUSED: volume 1 needle "
                + Long.toHexString(bad.id()) + " .*stored checksum 0x");
        assertThat(r.err().strip().lines().count()).isEqualTo(1);
    }

    @Test
    void aBadDirectoryOrBadArgumentsAreOneLine() throws Exception {
        Path v1 = tmp.resolve("v1");
        SeaweedFixtures.copy("healthy_volume", v1, "4", true);
        byte[] dat = Files.readAllBytes(v1.resolve("4.dat"));
        dat[0] = 1;
        Files.write(v1.resolve("4.dat"), dat);
        CliRunner.Result r = CliRunner.run("volumes", v1.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("superblock version 1 is not supported");
        assertThat(r.err().strip().lines().count()).isEqualTo(1);

        r = CliRunner.run("read", "--from", "127.0.0.1:7", "--fid", "3,01637");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("bad SeaweedFS file id '3,01637'");
        r = CliRunner.run("read", "--from", "127.0.0.1:7");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("give --fid FID, or --volume, --needle and --length");
        r = CliRunner.run("read", "--from", "127.0.0.1:7", "--fid", "3,01637037d6", "--volume", "3");
        assertThat(r.exit()).isEqualTo(2);
        r = CliRunner.run("serve", "--listen", "127.0.0.1:0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("give --dir DIR (shard storage) and/or --seaweedfs DIR");
        r = CliRunner.run("serve", "--listen", "127.0.0.1:0", "--seaweedfs", v1.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("superblock version 1 is not supported");
    }
}
