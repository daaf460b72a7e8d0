package io.shardlink.cli;

import io.shardlink.api.ShardSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.zip.CRC32C;

/** Receives a shard without storing it: checks order and length and computes its CRC32C (demo, bench). */
final class VerifyingSink implements ShardSink {
    /** The received shard: its length and CRC32C (or -1 when {@code crc} was off). */
    record Received(long bytes, long crc32c) {}

    private final long total;
    private final CRC32C crc;
    private final CompletableFuture<Received> done = new CompletableFuture<>();
    private long next;

    VerifyingSink(long total, boolean crc) {
        this.total = total;
        this.crc = crc ? new CRC32C() : null;
    }

    CompletableFuture<Received> done() {
        return done;
    }

    @Override
    public void onChunk(long offset, ByteBuffer payload) throws IOException {
        if (offset != next) {
            throw new IOException("chunk at offset " + offset + ", expected " + next);
        }
        next += payload.remaining();
        if (next > total) {
            throw new IOException("received " + next + " bytes of a " + total + "-byte shard");
        }
        if (crc != null) {
            crc.update(payload);
        }
    }

    @Override
    public void onComplete() throws IOException {
        if (next != total) {
            throw new IOException("shard complete at " + next + " of " + total + " bytes");
        }
        done.complete(new Received(next, crc == null ? -1 : crc.getValue()));
    }

    @Override
    public void onAbort(Throwable cause) {
        done.completeExceptionally(cause);
    }
}
