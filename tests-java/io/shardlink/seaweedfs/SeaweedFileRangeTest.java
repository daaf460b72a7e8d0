package io.shardlink.seaweedfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.BlobChecksumException;
import io.shardlink.api.BlobFileRange;
import io.shardlink.api.BlobNotFoundException;
import io.shardlink.testing.SeaweedFixtures;
import io.shardlink.testing.SeaweedFixtures.Needle;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zero-copy hook of the SeaweedFS source: the file range a read would return (same checks), and a whole needle's
 * CRC32C taken from its verified stored checksum, checked against the independent parse in SeaweedFixtures.
 */
class SeaweedFileRangeTest {
    @TempDir
    Path tmp;

    private static byte[] bytesAt(BlobFileRange r) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(r.length());
        while (b.hasRemaining()) {
            assertThat(r.channel().read(b, r.position() + b.position())).isPositive();
        }
        return b.array();
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    @Test
    void everyLiveNeedlesRangeHoldsItsDataAndAWholeNeedleCarriesItsCrc() throws Exception {
        Map<Long, Map<Long, Needle>> want = SeaweedFixtures.expected();
        try (SeaweedVolumes v = SeaweedVolumes.open(SeaweedFixtures.copyAll(tmp.resolve("vols"), true))) {
            int n = 0;
            for (Map<Long, Needle> vol : want.values()) {
                for (Needle nd : vol.values()) {
                    byte[] data = nd.data();
                    for (int round = 0; round < 2; round++) { // the second from the cached verdict
                        BlobFileRange r = v.locateRange(nd.volumeId(), nd.id(), nd.cookieValue(), 0, 4 << 20);
                        assertThat(r.length()).isEqualTo(data.length);
                        assertThat(r.flags()).isEqualTo(nd.flags());
                        assertThat(bytesAt(r)).as("needle %x", nd.id()).isEqualTo(data);
                        assertThat(r.knownCrc()).isTrue();
                        assertThat(r.crc32c()).isEqualTo(crc(data, 0, data.length));
                    }
                    if (data.length > 10) {
                        BlobFileRange part = v.locateRange(nd.volumeId(), nd.id(), nd.cookieValue(), 3, data.length);
                        assertThat(part.length()).as("cut at the end of the data").isEqualTo(data.length - 3);
                        assertThat(part.knownCrc()).isFalse();
                        assertThat(bytesAt(part)).isEqualTo(java.util.Arrays.copyOfRange(data, 3, data.length));
                    }
                    BlobFileRange past = v.locateRange(nd.volumeId(), nd.id(), nd.cookieValue(), data.length, 10);
                    assertThat(past.length()).isZero();
                    n++;
                }
            }
            assertThat(n).isEqualTo(305);
        }
    }

    @Test
    void wrongCookiesAndBadChecksumsAreRefusedAsByRead() throws Exception {
        Map<Long, Needle> ec = SeaweedFixtures.expected().get(SeaweedFixtures.EC);
        Path dir = SeaweedFixtures.copyAll(tmp.resolve("vols"), true);
        Needle bad = ec.values().stream().skip(100).findFirst().orElseThrow();
        Needle good = ec.values().stream().skip(101).findFirst().orElseThrow();
        SeaweedFixtures.flipDataByte(dir.resolve("pics_2.dat"), bad, bad.data().length / 2);
        try (SeaweedVolumes v = SeaweedVolumes.open(dir)) {
            for (int round = 0; round < 2; round++) {
                assertThatThrownBy(() -> v.locateRange(2, bad.id(), bad.cookieValue(), 0, 10))
                        .isInstanceOf(BlobChecksumException.class)
                        .hasMessageContaining("volume 2 needle " + Long.toHexString(bad.id()));
            }
            assertThatThrownBy(() -> v.locateRange(2, good.id(), good.cookieValue() ^ 1, 0, 10))
                    .isInstanceOf(BlobNotFoundException.class);
            assertThat(v.locateRange(2, good.id(), good.cookieValue(), 0, 10).length())
                    .isEqualTo(Math.min(10, good.data().length));
        }
    }

    @Test
    void theLegacyChecksumFormInvertsToTheCrc() {
        Random r = new Random(8);
        for (int i = 0; i < 100_000; i++) {
            int c = r.nextInt();
            assertThat(NeedleFormat.crc32cOfLegacy(NeedleFormat.legacyChecksum(c))).isEqualTo(c);
        }
    }
}
