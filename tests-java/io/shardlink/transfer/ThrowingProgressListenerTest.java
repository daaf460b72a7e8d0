package io.shardlink.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.testing.LogCapture;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A progress listener that throws (from onProgress on every ACK, and from onFallback) neither fails the copy
 * nor floods the log: one WARNING per copy, naming that copy, with the listener's exception.
 */
class ThrowingProgressListenerTest {
    static final class ThrowingListener implements CopyProgressListener {
        final AtomicInteger progressCalls = new AtomicInteger();
        final AtomicInteger fallbackCalls = new AtomicInteger();

        @Override
        public void onProgress(long acked, long total, Transport t) {
            progressCalls.incrementAndGet();
            throw new IllegalStateException("listener bug in onProgress");
        }

        @Override
        public void onFallback(Transport from, Transport to, long resumeOffset, Throwable cause) {
            fallbackCalls.incrementAndGet();
            throw new IllegalStateException("listener bug in onFallback");
        }
    }

    private static boolean aboutListener(String m) {
        return m.contains("progress listener");
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aThrowingListenerIsLoggedOncePerCopyAndTheCopiesComplete() throws Exception {
        byte[] shard = new byte[FailoverTest.SIZE];
        new Random(11).nextBytes(shard);
        // A's "RDMA" path fails after 5 chunks: the first copy falls back (its onFallback throws too), the second
        // runs over QUIC
        try (LogCapture log = new LogCapture();
             ShardlinkNode a = ShardlinkNode.start(FailoverTest.config("tpl-a").build(), new FaultInjectingProvider(5, true));
             ShardlinkNode b = ShardlinkNode.start(FailoverTest.config("tpl-b").build(),
                     new FaultInjectingProvider(1000, true))) {
            FailoverTest.RecordingSink[] sinks = new FailoverTest.RecordingSink[2];
            b.onShardCopy((peer, id, total) -> sinks[(int) id] = new FailoverTest.RecordingSink(total));
            Peer p = a.connect(b.localAddress());

            ThrowingListener first = new ThrowingListener();
            CopyResult r0 = p.copyShard(0, ByteBuffer.wrap(shard), first).get(45, TimeUnit.SECONDS);
            ThrowingListener second = new ThrowingListener();
            CopyResult r1 = p.copyShard(1, ByteBuffer.wrap(shard), second).get(45, TimeUnit.SECONDS);

            assertThat(r0.bytes()).isEqualTo(shard.length);
            assertThat(r1.bytes()).isEqualTo(shard.length);
            for (FailoverTest.RecordingSink s : sinks) {
                assertThat(s.problems).isEmpty();
                assertThat(s.completed).isTrue();
                assertThat(s.data).isEqualTo(shard);
            }
            assertThat(r0.transports()).containsExactly(Transport.RDMA, Transport.QUIC);
            assertThat(first.fallbackCalls.get()).as("the first copy fell back (its listener threw there)")
                    .isEqualTo(1);
            assertThat(second.progressCalls.get()).as("onProgress calls of copy 1").isGreaterThan(5);

            var warnings = log.warnings(ThrowingProgressListenerTest::aboutListener);
            assertThat(warnings).as("listener warnings: one per copy").hasSize(2);
            LogRecord w0 = warnings.stream().filter(w -> w.getMessage().contains("shard 0 ")).findFirst().orElseThrow();
            LogRecord w1 = warnings.stream().filter(w -> w.getMessage().contains("shard 1 ")).findFirst().orElseThrow();
            assertThat(w0.getThrown()).hasMessageStartingWith("listener bug in on");
            assertThat(w0.getMessage()).contains("from tpl-a to tpl-b");
            assertThat(w1.getThrown()).hasMessage("listener bug in onProgress");
        }
    }
}
