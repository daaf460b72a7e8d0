package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WriteSegmentsTest {
    private static final int MiB = 1 << 20;

    @Test
    void aChunkSplitsIntoWholeSegmentsOfPayloadAndARemainder() {
        // up to 1 MiB of payload: one WRITE of header + payload
        assertThat(WriteSegments.count(0)).isEqualTo(1);
        assertThat(WriteSegments.lastPart(0)).isEqualTo(56);
        assertThat(WriteSegments.count(MiB)).isEqualTo(1);
        assertThat(WriteSegments.lastPart(MiB)).isEqualTo(56 + MiB);
        // the default 4 MiB chunk: [header + 1 MiB], 1 MiB, 1 MiB, and the last 1 MiB with the immediate
        assertThat(WriteSegments.count(4L * MiB)).isEqualTo(4);
        assertThat(WriteSegments.lastPart(4L * MiB)).isEqualTo(MiB);
        assertThat(WriteSegments.count(3L * MiB + 1)).isEqualTo(4);
        assertThat(WriteSegments.lastPart(3L * MiB + 1)).isEqualTo(1);
    }
}
