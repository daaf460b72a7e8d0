package io.shardlink.api;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A sink that keeps a copy in memory and, when gated, blocks in every chunk until the test opens the gate: it
 * holds a copy open on the receiver so the limit tests can fill a per-peer limit with copies in flight.
 */
final class GatedSink implements ShardSink {
    private final ByteBuffer got;
    private final CountDownLatch gate;
    private final long gateTimeoutSeconds;
    private final Consumer<byte[]> onComplete;

    /** {@code gate} null: never blocks. */
    GatedSink(long total, CountDownLatch gate, long gateTimeoutSeconds, Consumer<byte[]> onComplete) {
        this.got = ByteBuffer.allocate((int) total);
        this.gate = gate;
        this.gateTimeoutSeconds = gateTimeoutSeconds;
        this.onComplete = onComplete;
    }

    @Override
    public void onChunk(long off, ByteBuffer p) throws IOException {
        if (gate != null) {
            try {
                if (!gate.await(gateTimeoutSeconds, TimeUnit.SECONDS)) {
                    throw new IOException("test never opened the gate");
                }
            } catch (InterruptedException e) {
                throw new InterruptedIOException();
            }
        }
        got.position((int) off);
        got.put(p);
    }

    @Override
    public void onComplete() {
        onComplete.accept(got.array());
    }

    @Override
    public void onAbort(Throwable t) {}
}
