package io.shardlink.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.TransportMetrics;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rates and latency quantiles per interval from cumulative counters; a bounded ring. */
class StatusHistoryTest {
    @Test
    void ratesAndQuantilesComeFromTheDifferenceBetweenSamples() throws Exception {
        TransportMetrics m = new TransportMetrics("n");
        StatusHistory h = StatusHistory.manual(m::snapshot, 1000, 4);
        h.sample(); // baseline
        assertThat(h.samples().size()).isZero();

        m.record(Transport.QUIC, Direction.RECEIVED, 50_000_000);
        for (int i = 0; i < 99; i++) {
            m.servedReadLatency(3_000); // bucket [2048, 4096) ns
        }
        m.servedReadLatency(1_000_000); // bucket [2^19, 2^20)
        long t0 = System.nanoTime();
        Thread.sleep(200);
        h.sample();
        double secs = (System.nanoTime() - t0) / 1e9;
        StatusHistory.Samples s = h.samples();
        assertThat(s.size()).isEqualTo(1);
        double rate = s.bytesPerSecond()[StatusHistory.Samples.series(Transport.QUIC, Direction.RECEIVED)][0];
        assertThat(rate).isCloseTo(50_000_000 / secs, within(50_000_000 / secs * 0.2)).isLessThan(50_000_000 / 0.2);
        assertThat(s.bytesPerSecond()[StatusHistory.Samples.series(Transport.RDMA, Direction.SENT)][0]).isZero();
        assertThat(s.served()[0]).isEqualTo(100);
        assertThat(s.servedP50Micros()[0]).isEqualTo(4.096);
        assertThat(s.servedP99Micros()[0]).isEqualTo(4.096); // rank 99 of 100 is still in the low bucket
        assertThat(s.reads()[0]).isZero();
        assertThat(s.readP50Micros()[0]).isNaN(); // no reads made: a gap, not a zero

        // the next interval sees only what happened in it
        m.servedReadLatency(1_000_000);
        h.sample();
        s = h.samples();
        assertThat(s.served()[1]).isEqualTo(1);
        assertThat(s.servedP99Micros()[1]).isEqualTo((1 << 20) / 1e3);
        assertThat(s.bytesPerSecond()[StatusHistory.Samples.series(Transport.QUIC, Direction.RECEIVED)][1]).isZero();
    }

    @Test
    void keepsTheLastCapacitySamplesOldestFirst() {
        TransportMetrics m = new TransportMetrics("n");
        StatusHistory h = StatusHistory.manual(m::snapshot, 1000, 3);
        h.sample();
        for (int i = 1; i <= 5; i++) {
            m.servedReadLatency(1L << (10 + i)); // interval i: one read in bucket 10 + i
            h.sample();
        }
        StatusHistory.Samples s = h.samples();
        assertThat(s.size()).isEqualTo(3);
        assertThat(List.of(s.servedP50Micros()[0], s.servedP50Micros()[1], s.servedP50Micros()[2]))
                .containsExactly((1 << 14) / 1e3, (1 << 15) / 1e3, (1 << 16) / 1e3);
        assertThat(s.timeMillis()[0]).isLessThanOrEqualTo(s.timeMillis()[2]);
    }
}
