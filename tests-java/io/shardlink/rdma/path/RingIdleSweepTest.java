package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The idle-ring revocation timing on a clock the test drives (nanoseconds); host only, no RDMA needed. */
class RingIdleSweepTest {
    private static final long MS = 1_000_000L;

    @Test
    void aRingIsIdleOnlyPastTheTimeoutAndActivityRestartsIt() {
        long t0 = 5_000 * MS; // any origin: nanoTime may be negative or wrap, only differences count
        RingIdleSweep s = new RingIdleSweep(Duration.ofSeconds(60), t0);
        assertThat(s.idle(t0, t0 + 60_000 * MS)).isFalse();
        assertThat(s.idle(t0, t0 + 60_000 * MS + 1)).isTrue();
        long touched = t0 + 59_000 * MS; // a chunk or an ACK (busy heartbeat) just before the deadline
        assertThat(s.idle(touched, t0 + 61_000 * MS)).isFalse();
        assertThat(s.idle(touched, touched + 60_001 * MS)).isTrue();
        long wrapped = Long.MAX_VALUE - 10 * MS;
        assertThat(s.idle(wrapped, wrapped + 61_000 * MS)).isTrue(); // overflowed sum, still a 61 s difference
    }

    @Test
    void sweepsComeEveryQuarterTimeoutWithinBounds() {
        long t = 0;
        RingIdleSweep s = new RingIdleSweep(Duration.ofSeconds(2), t);
        assertThat(s.periodNanos()).isEqualTo(500 * MS);
        assertThat(s.due(499 * MS)).isFalse();
        assertThat(s.due(500 * MS)).isTrue();
        assertThat(s.due(500 * MS)).isFalse(); // once per period
        assertThat(s.due(999 * MS)).isFalse();
        assertThat(s.due(1000 * MS)).isTrue();
        // a late sweep (poller busy) sets the next one a period after it, not a burst of catch-ups
        assertThat(s.due(5000 * MS)).isTrue();
        assertThat(s.due(5100 * MS)).isFalse();
        assertThat(new RingIdleSweep(Duration.ofSeconds(60), 0).periodNanos()).isEqualTo(1000 * MS);
        assertThat(new RingIdleSweep(Duration.ofMillis(8), 0).periodNanos()).isEqualTo(10 * MS);
    }

    @Test
    void revokedWithinTimeoutPlusOnePeriodOfTheLastActivity() {
        long timeout = 2000 * MS;
        RingIdleSweep s = new RingIdleSweep(Duration.ofNanos(timeout), 0);
        long last = 123 * MS;
        long revokedAt = -1;
        for (long now = 0; now < 10_000 * MS; now += MS) { // the poller looks every ms
            if (s.due(now) && s.idle(last, now)) {
                revokedAt = now;
                break;
            }
        }
        assertThat(revokedAt - last).isGreaterThan(timeout).isLessThanOrEqualTo(timeout + s.periodNanos());
    }

    @Test
    void aTimeoutMustBePositive() {
        assertThatThrownBy(() -> new RingIdleSweep(Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("positive");
    }
}
