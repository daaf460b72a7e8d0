package io.shardlink.rdma.path;

import io.shardlink.wire.FrameCodec;

/**
 * How a chunk whose payload is longer than {@link #SEGMENT} crosses the wire: as several RDMA WRITEs of at most
 * {@code SEGMENT} payload bytes each (the first also carries the header in front), the last one WITH IMMEDIATE. RC
 * delivers the parts in order, so when the receiver sees the immediate, the whole [header][payload] is in the
 * slot; the completion's byte count is the last part's, {@link #lastPart}. Why: a large chunk (the default 4 MiB is 4096 packets at MTU 1024) then crosses the
 * wire as the 1 MiB messages the device moves best, and the parts of one chunk go in one doorbell (see
 * {@code RdmaEngineOptions.splitWrites} and the README's results). A receiver accepts a chunk whole or split, so
 * a sender may do either.
 */
final class WriteSegments {
    /** Payload bytes one WRITE carries at most. */
    static final int SEGMENT = 1 << 20;

    private WriteSegments() {}

    /** WRITEs for a chunk of {@code payload} bytes. */
    static int count(long payload) {
        return (int) Math.max(1, (payload + SEGMENT - 1) / SEGMENT);
    }

    /** Bytes the last (immediate-carrying) WRITE carries when a chunk of {@code payload} bytes is split. */
    static long lastPart(long payload) {
        int n = count(payload);
        return n == 1 ? FrameCodec.HEADER_SIZE + payload : payload - (n - 1L) * SEGMENT;
    }
}
