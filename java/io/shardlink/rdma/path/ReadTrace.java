package io.shardlink.rdma.path;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Bench-only timestamps of the legs of one RDMA blob read, to find where its latency goes (RdmaEngineBench, reads
 * one at a time, both nodes in one JVM so one clock serves both). Off unless the system property
 * {@code shardlink.bench.readTrace} is true: {@link #ON} is a constant, so the JIT drops every stamp when off. One
 * fixed array for the whole JVM, nothing allocated per read; with reads in flight at once the stamps mix (the bench
 * only reads them when it issues one read at a time).
 */
final class ReadTrace {
    static final boolean ON = Boolean.getBoolean("shardlink.bench.readTrace");
    /**
     * The reader is about to post READ_REQ (ReadChannel, caller thread). Stamped before the post, as is
     * {@link #ANSWER_POSTING}: on rxe the post is a system call that may send the packet and have the peer's poller
     * take it before it returns, so a stamp after it could come later than the next leg's.
     */
    static final int REQUEST_POSTING = 0;
    /** The server's poller got the READ_REQ (ReadServer). */
    static final int SERVER_RECEIVED = 1;
    /** The thread that serves the read (a read worker, or the poller) asked for the answer's buffer. */
    static final int SERVE_STARTED = 2;
    /** The answer's WRITE WITH IMMEDIATE is about to be posted (the source has run, the CRC is computed). */
    static final int ANSWER_POSTING = 3;
    /** The reader's poller got the answer (ReadChannel), before it completes the caller's future. */
    static final int REPLY_POLLED = 4;
    static final int LEGS = 5;
    private static final AtomicLongArray STAMPS = new AtomicLongArray(LEGS);

    private ReadTrace() {}

    static void stamp(int leg) {
        STAMPS.set(leg, System.nanoTime());
    }

    static long get(int leg) {
        return STAMPS.get(leg);
    }

    static void clear() {
        for (int i = 0; i < LEGS; i++) {
            STAMPS.set(i, 0);
        }
    }
}
