package io.shardlink.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The RDMA retry policy on a clock the test drives (nanoseconds). */
class RetryBackoffTest {
    private static final long MS = 1_000_000L;

    private static RetryBackoff backoff(long initialMs, long maxMs, long stableMs) {
        return new RetryBackoff(new RetryBackoff.Policy(Duration.ofMillis(initialMs), Duration.ofMillis(maxMs),
                Duration.ofMillis(stableMs)));
    }

    @Test
    void waitsDoublePerFailureUpToTheCap() {
        RetryBackoff b = backoff(1000, 60_000, 30_000);
        long t = 0;
        long[] waits = new long[10];
        for (int i = 0; i < waits.length; i++) {
            waits[i] = b.onFailure(t) / MS;
            t += waits[i] * MS;
        }
        assertThat(waits).containsExactly(1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000);
        assertThat(b.failuresInARow()).isEqualTo(10);
    }

    @Test
    void aPathThatFailsSoonAfterComingUpKeepsGrowingTheWait() {
        // a flapping link: each retry connects, then fails 2 s later (shorter than the stable period)
        RetryBackoff b = backoff(1000, 16_000, 30_000);
        long t = 0;
        long[] waits = new long[6];
        for (int i = 0; i < waits.length; i++) {
            waits[i] = b.onFailure(t) / MS;
            t += waits[i] * MS;
            b.onConnected(t);
            t += 2000 * MS;
        }
        assertThat(waits).containsExactly(1000, 2000, 4000, 8000, 16_000, 16_000);
    }

    @Test
    void aPathUpForTheStablePeriodStartsAgainFromTheFirstWait() {
        RetryBackoff b = backoff(1000, 60_000, 30_000);
        long t = 0;
        for (int i = 0; i < 4; i++) {
            t += b.onFailure(t);
        }
        assertThat(b.nextWaitNanos()).isEqualTo(16_000 * MS);
        b.onConnected(t);
        t += 30_000 * MS; // exactly the stable period
        assertThat(b.onFailure(t)).isEqualTo(1000 * MS);
        assertThat(b.failuresInARow()).isEqualTo(1);
        assertThat(b.onFailure(t + 1000 * MS)).as("the retry failed too: double again").isEqualTo(2000 * MS);
    }

    @Test
    void oneMillisecondShortOfTheStablePeriodDoesNotReset() {
        RetryBackoff b = backoff(500, 60_000, 10_000);
        long t = b.onFailure(0);
        t += b.onFailure(t);
        b.onConnected(t);
        assertThat(b.onFailure(t + 9_999 * MS)).isEqualTo(2000 * MS);
    }

    @Test
    void hugeCapsDoNotOverflow() {
        RetryBackoff b = backoff(1, Long.MAX_VALUE / MS, 0);
        long last = 0;
        for (int i = 0; i < 100; i++) {
            long w = b.onFailure(0);
            assertThat(w).isGreaterThanOrEqualTo(last).isPositive();
            last = w;
        }
    }

    @Test
    void badPoliciesAreRefusedWithTheValues() {
        assertThatThrownBy(() -> backoff(0, 10, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initial PT0S");
        assertThatThrownBy(() -> backoff(10, 5, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("max PT0.005S");
        assertThatThrownBy(() -> backoff(10, 50, -1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stablePeriod");
    }
}
