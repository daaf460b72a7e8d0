package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RdmaEngineOptionsTest {
    @Test
    void defaultsAreEventWithPollersSizedFromTheCores() {
        RdmaEngineOptions d = RdmaEngineOptions.defaults();
        assertThat(d.pollMode()).isEqualTo(PollMode.EVENT);
        assertThat(d.pollers()).isZero();
        int cores = Runtime.getRuntime().availableProcessors();
        assertThat(d.effectivePollers()).isEqualTo(Math.max(1, Math.min(8, cores / 4)));
        assertThat(d.withPollers(3).effectivePollers()).isEqualTo(3);
        assertThat(d.withPollMode(PollMode.BUSY).withSpinMicros(5).withPeersPerPoller(9).withInlineBytes(0)
                .withReadsOnPoller(true).withSplitWrites(false))
                .isEqualTo(new RdmaEngineOptions(0, PollMode.BUSY, 5, 9, 0, true, false));
        assertThat(d.splitWrites()).isTrue();
        assertThat(d.readsOnPoller()).isFalse();
    }

    @Test
    void systemPropertiesOverrideAndBadValuesNameTheOption() {
        System.setProperty("shardlink.rdma.pollMode", "busy");
        System.setProperty("shardlink.rdma.pollers", "2");
        try {
            RdmaEngineOptions o = RdmaEngineOptions.fromSystemProperties();
            assertThat(o.pollMode()).isEqualTo(PollMode.BUSY);
            assertThat(o.pollers()).isEqualTo(2);
            System.setProperty("shardlink.rdma.pollMode", "sometimes");
            assertThatThrownBy(RdmaEngineOptions::fromSystemProperties)
                    .hasMessageContaining("shardlink.rdma.pollMode").hasMessageContaining("BUSY, ADAPTIVE or EVENT");
            System.setProperty("shardlink.rdma.pollMode", "event");
            System.setProperty("shardlink.rdma.pollers", "65");
            assertThatThrownBy(RdmaEngineOptions::fromSystemProperties).hasMessageContaining("pollers must be 0..64");
        } finally {
            System.clearProperty("shardlink.rdma.pollMode");
            System.clearProperty("shardlink.rdma.pollers");
        }
        assertThatThrownBy(() -> RdmaEngineOptions.defaults().withInlineBytes(-1))
                .hasMessageContaining("inlineBytes must be 0..1024");
        assertThatThrownBy(() -> RdmaEngineOptions.defaults().withPollMode(null)).hasMessageContaining("pollMode");
    }
}
