package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WriteSegmentsTest {
    private static final int MiB = 1 << 20;

    @Test
    void aChunkSplitsIntoWholeSegmentsAndARemainder() {
        assertThat(WriteSegments.count(56)).isEqualTo(1);
        assertThat(WriteSegments.lastPart(56)).isEqualTo(56);
        assertThat(WriteSegments.count(MiB)).isEqualTo(1);
        assertThat(WriteSegments.lastPart(MiB)).isEqualTo(MiB);
        // the default chunk: 56-byte header + 4 MiB = 4 full parts and 56 bytes
        assertThat(WriteSegments.count(56 + 4L * MiB)).isEqualTo(5);
        assertThat(WriteSegments.lastPart(56 + 4L * MiB)).isEqualTo(56);
        assertThat(WriteSegments.count(3L * MiB + 1)).isEqualTo(4);
        assertThat(WriteSegments.lastPart(3L * MiB + 1)).isEqualTo(1);
        assertThat(WriteSegments.count(0)).isEqualTo(1);
    }
}
