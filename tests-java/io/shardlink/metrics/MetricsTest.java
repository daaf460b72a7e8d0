package io.shardlink.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.Transport;
import io.shardlink.state.PeerState;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void peerRecordsRollUpIntoTheNode() {
        TransportMetrics node = new TransportMetrics("n");
        TransportMetrics p = node.peer("p1", () -> PeerState.FAILED);
        node.peer("p2", () -> PeerState.UNAVAILABLE);
        p.record(Transport.QUIC, Direction.SENT, 100);
        p.record(Transport.RDMA, Direction.RECEIVED, 7);
        p.completion(CompletionStatus.OK);
        p.fallback("QpError: retry exceeded");
        p.readLatency(1500);
        MetricsSnapshot s = node.snapshot();
        assertThat(s.bytes(Transport.QUIC, Direction.SENT)).isEqualTo(100);
        assertThat(s.ops(Transport.RDMA, Direction.RECEIVED)).isEqualTo(1);
        assertThat(s.completions(CompletionStatus.OK)).isEqualTo(1);
        assertThat(s.fallbacks()).containsEntry("QpError: retry exceeded", 1L);
        assertThat(s.peersIn(PeerState.FAILED)).isEqualTo(1);
        assertThat(s.peersIn(PeerState.UNAVAILABLE)).isEqualTo(1);
        assertThat(s.readLatency().count()).isEqualTo(1);
        assertThat(s.peers().get("p1").state()).isEqualTo(PeerState.FAILED);
        assertThat(s.toString()).contains("QUIC: sent 100B/1ops");
    }

    @Test
    void histogramBucketsAreLog2() {
        assertThat(LatencyHistogram.bucketOf(0)).isZero();
        assertThat(LatencyHistogram.bucketOf(1)).isZero();
        assertThat(LatencyHistogram.bucketOf(2)).isEqualTo(1);
        assertThat(LatencyHistogram.bucketOf(1023)).isEqualTo(9);
        assertThat(LatencyHistogram.bucketOf(1024)).isEqualTo(10);
        assertThat(LatencyHistogram.bucketOf(Long.MAX_VALUE)).isEqualTo(62);
        LatencyHistogram h = new LatencyHistogram();
        for (int i = 0; i < 99; i++) {
            h.record(1000);
        }
        h.record(1_000_000);
        var s = h.snapshot();
        assertThat(s.quantileUpperBoundNanos(0.5)).isEqualTo(1024);
        assertThat(s.quantileUpperBoundNanos(1.0)).isEqualTo(1L << 20);
    }
}
