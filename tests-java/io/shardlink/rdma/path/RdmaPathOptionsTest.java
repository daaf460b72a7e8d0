package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RdmaPathOptionsTest {
    @Test
    void defaultsDoNotRetryForeverOnRxe() {
        RdmaPathOptions d = RdmaPathOptions.defaults();
        assertThat(d.retryCount()).isEqualTo(6);
        assertThat(d.rnrRetry()).isEqualTo(7);
        assertThat(d.qpTimeout()).isEqualTo(14);
        assertThat(d.withRetryCount(3).withQpTimeout(12).withReadRingBytes(1 << 20).withStagingBuffers(2)
                .withPollTimeoutMs(10).withRnrRetry(5))
                .isEqualTo(new RdmaPathOptions(12, 3, 5, 10, 1 << 20, 2));
    }

    @Test
    void systemPropertiesOverrideAndBadValuesNameTheOption() {
        System.setProperty("shardlink.rdma.retryCount", "3");
        System.setProperty("shardlink.rdma.readRingBytes", "65536");
        try {
            RdmaPathOptions o = RdmaPathOptions.fromSystemProperties();
            assertThat(o.retryCount()).isEqualTo(3);
            assertThat(o.readRingBytes()).isEqualTo(65536);
            assertThat(o.qpTimeout()).isEqualTo(14);
            System.setProperty("shardlink.rdma.retryCount", "x");
            assertThatThrownBy(RdmaPathOptions::fromSystemProperties).hasMessageContaining("shardlink.rdma.retryCount");
            System.setProperty("shardlink.rdma.retryCount", "8");
            assertThatThrownBy(RdmaPathOptions::fromSystemProperties).hasMessageContaining("retryCount must be 0..7");
        } finally {
            System.clearProperty("shardlink.rdma.retryCount");
            System.clearProperty("shardlink.rdma.readRingBytes");
        }
    }
}
