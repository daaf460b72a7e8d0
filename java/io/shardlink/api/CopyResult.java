package io.shardlink.api;

import io.shardlink.config.Transport;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of a completed shard copy.
 *
 * @param shardId        the shard
 * @param bytes          bytes the receiver accepted (= the shard length)
 * @param chunks         DATA frames sent, including re-sent ones after a failover
 * @param transports     transports used, in order of use (e.g. [RDMA, QUIC] after a fallback)
 * @param duration       from the call to COPY_DONE
 * @param fallbacks      how many times the copy moved to another path
 * @param fallbackCauses why, in order
 */
public record CopyResult(long shardId, long bytes, long chunks, List<Transport> transports, Duration duration,
                         int fallbacks, List<String> fallbackCauses) {
    public CopyResult {
        transports = List.copyOf(transports);
        fallbackCauses = List.copyOf(fallbackCauses);
    }

    /** Throughput in MB/s (10^6 bytes per second). */
    public double megabytesPerSecond() {
        double s = duration.toNanos() / 1e9;
        return s <= 0 ? 0 : bytes / 1e6 / s;
    }
}
