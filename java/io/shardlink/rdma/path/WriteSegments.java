package io.shardlink.rdma.path;

/**
 * How a chunk longer than {@link #SEGMENT} crosses the wire: as several RDMA WRITEs of at most {@code SEGMENT}
 * bytes of the remote slot each, the last one WITH IMMEDIATE. RC delivers the parts in order, so when the
 * receiver sees the immediate, the whole [header][payload] is in the slot; the completion's byte count is the last
 * part's, {@link #lastPart}. Why: a large chunk (the default 4 MiB is 4096 packets at MTU 1024) then crosses the
 * wire as the 1 MiB messages the device moves best, and the parts of one chunk go in one doorbell (see
 * {@code RdmaEngineOptions.splitWrites} and the README's results). A receiver accepts a chunk whole or split, so
 * a sender may do either.
 */
final class WriteSegments {
    /** Bytes of the remote slot one WRITE covers at most. */
    static final int SEGMENT = 1 << 20;

    private WriteSegments() {}

    /** WRITEs needed for {@code total} bytes (header + payload). */
    static int count(long total) {
        return (int) Math.max(1, (total + SEGMENT - 1) / SEGMENT);
    }

    /** Bytes the last (immediate-carrying) WRITE of a split {@code total}-byte frame carries. */
    static long lastPart(long total) {
        return total - (count(total) - 1L) * SEGMENT;
    }
}
