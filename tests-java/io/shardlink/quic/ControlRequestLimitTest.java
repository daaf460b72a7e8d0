package io.shardlink.quic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-peer token bucket of maxControlRequestsPerSecondPerPeer, on a driven clock. */
class ControlRequestLimitTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void aBurstOfTheLimitThenTheLimitPerSecond() {
        long t = 5_000_000_000L;
        ControlRequestLimit l = new ControlRequestLimit(100, t);
        for (int i = 0; i < 100; i++) {
            assertThat(l.tryAcquire(t)).as("burst request " + i).isTrue();
        }
        assertThat(l.tryAcquire(t)).isFalse();
        assertThat(l.tryAcquire(t + 9 * MS)).as("a token takes 10 ms to come back").isFalse();
        assertThat(l.tryAcquire(t + 10 * MS)).isTrue();
        assertThat(l.tryAcquire(t + 10 * MS)).isFalse();
        // a second later: 100 more at most, never more than a full bucket however long the peer was quiet
        int ok = 0;
        for (int i = 0; i < 1000; i++) {
            ok += l.tryAcquire(t + 1010 * MS) ? 1 : 0;
        }
        assertThat(ok).isEqualTo(100);
        ok = 0;
        for (int i = 0; i < 1000; i++) {
            ok += l.tryAcquire(t + 3_600_000 * MS) ? 1 : 0;
        }
        assertThat(ok).isEqualTo(100);
    }

    @Test
    void aSteadyFloodGetsExactlyTheRate() {
        long t = 0;
        ControlRequestLimit l = new ControlRequestLimit(1000, t);
        int ok = 0;
        for (int i = 0; i < 100_000; i++) { // 100,000 requests over 10 s, one every 100 us
            ok += l.tryAcquire(t + i * 100_000L) ? 1 : 0;
        }
        assertThat(ok).isBetween(1000 + 9_999, 1000 + 10_000); // the burst, then 1000 a second
    }

    @Test
    void refusalsAreLoggedAtMostOnceASecond() {
        ControlRequestLimit l = new ControlRequestLimit(1, 0);
        assertThat(l.tryAcquire(0)).isTrue();
        assertThat(l.refusedToLog(0)).isZero();
        assertThat(l.tryAcquire(0)).isFalse();
        assertThat(l.tryAcquire(1)).isFalse();
        assertThat(l.refusedToLog(1)).isEqualTo(2);
        assertThat(l.tryAcquire(2)).isFalse();
        assertThat(l.refusedToLog(2)).as("within the second").isZero();
        assertThat(l.refusedToLog(1_000_000_001L)).isEqualTo(1);
        assertThatThrownBy(() -> new ControlRequestLimit(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
