package io.shardlink.api;

import io.shardlink.config.Transport;
import java.nio.ByteBuffer;

/**
 * A completed blob read.
 *
 * @param data      the bytes (position 0, limit = length); the caller's buffer for the in-place variant
 * @param length    bytes read (shorter than asked only at the needle's end)
 * @param transport the path that carried the answer
 * @param latencyNanos from the call to the verified answer
 * @param blobFlags the blob's flags as its source reports them (SeaweedFS: the needle's flags byte, e.g. 0x01 =
 *                  the data is gzip-compressed, 0x80 = it is a chunk manifest; served as stored); 0 = none
 */
public record ReadResult(long volumeId, long needleId, long offset, ByteBuffer data, int length, Transport transport,
                         long latencyNanos, int blobFlags) {
    public ReadResult(long volumeId, long needleId, long offset, ByteBuffer data, int length, Transport transport,
                      long latencyNanos) {
        this(volumeId, needleId, offset, data, length, transport, latencyNanos, 0);
    }
}
