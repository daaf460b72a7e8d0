package io.shardlink.rdma.path;

import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.CompletionQueue;
import io.shardlink.rdma.RdmaException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One completion poller of the {@link RdmaEngine}: a thread and one completion queue shared by the queue pairs of
 * up to {@code capacity} peers. A completion's work-request id names its endpoint (a key in the upper bits, see
 * {@link #wrBase}) and what it completed (a send slot or a receive buffer, in the lower 33 bits). After each
 * batch it reposts the receives of the endpoints the batch touched (doorbell batching), and looks after endpoints
 * that failed or closed: a failed one is torn down once every flushed work request came back (or after
 * {@value #DRAIN_SECONDS} s), a closed one at once. The poller ends when its last endpoint is gone, and destroys
 * its completion queue; the engine starts a new one for the next peer.
 */
final class CompletionPoller implements Runnable {
    /** Bits of a work-request id that belong to the endpoint (send slot, or RECV_BASE + receive buffer). */
    static final int LOCAL_BITS = 33;
    static final long LOCAL_MASK = (1L << LOCAL_BITS) - 1;
    private static final int DRAIN_SECONDS = 3;
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
    private static final System.Logger LOG = System.getLogger(CompletionPoller.class.getName());

    private final RdmaEngine engine;
    private final CompletionQueue cq;
    private final PollMode mode;
    private final int spinMicros;
    private final int pollTimeoutMs;
    private final RdmaPathStats stats;
    private final AtomicReferenceArray<RdmaEndpoint> endpoints;
    private final int[] generations;
    private final CompletionBatch wc = new CompletionBatch(64);
    private final ConcurrentLinkedQueue<RdmaEndpoint> attention = new ConcurrentLinkedQueue<>();
    private final List<RdmaEndpoint> watched = new ArrayList<>();
    private final List<RdmaEndpoint> touched = new ArrayList<>();
    private Thread thread;
    // guarded by the engine
    private int count;
    private volatile boolean ending;
    /** When to next ask the endpoints for idle-ring sweeps (each keeps its own period). */
    private long nextSweepCheck = System.nanoTime();

    CompletionPoller(RdmaEngine engine, CompletionQueue cq, int capacity, PollMode mode, int spinMicros,
                     int pollTimeoutMs, RdmaPathStats stats) {
        this.engine = engine;
        this.cq = cq;
        this.mode = mode;
        this.spinMicros = spinMicros;
        this.pollTimeoutMs = pollTimeoutMs;
        this.stats = stats;
        this.endpoints = new AtomicReferenceArray<>(capacity);
        this.generations = new int[capacity];
    }

    void start(Thread t) {
        this.thread = t;
        t.start();
    }

    CompletionQueue cq() {
        return cq;
    }

    boolean isPollerThread() {
        return Thread.currentThread() == thread;
    }

    Thread thread() {
        return thread;
    }

    // ------------------------------------------------------------------ membership (engine lock held)

    int count() {
        return count;
    }

    boolean isEnding() {
        return ending;
    }

    /** Registers {@code ep}; returns the base of its work-request ids, or -1 if this poller is full. */
    long register(RdmaEndpoint ep) {
        for (int s = 0; s < endpoints.length(); s++) {
            if (endpoints.get(s) == null) {
                generations[s] = (generations[s] + 1) & 0x7FFF;
                endpoints.set(s, ep);
                count++;
                return ((long) (generations[s] << 16 | s)) << LOCAL_BITS;
            }
        }
        return -1;
    }

    /** Forgets {@code ep} (its queue pair is destroyed); true if this poller has no endpoint left and ends. */
    boolean unregister(RdmaEndpoint ep, long wrBase) {
        int s = (int) (wrBase >>> LOCAL_BITS) & 0xFFFF;
        if (s < endpoints.length() && endpoints.compareAndSet(s, ep, null)) {
            count--;
        }
        if (count == 0) {
            ending = true;
            return true;
        }
        return false;
    }

    /** {@code ep} failed or closed: look at it after the current batch (waking the poller if it sleeps). */
    void attention(RdmaEndpoint ep) {
        attention.add(ep);
        try {
            cq.wake();
        } catch (RdmaException | RuntimeException ignored) {
            // the CQ is gone with the poller: nothing left to look after
        }
    }

    // ------------------------------------------------------------------ the loop

    @Override
    public void run() {
        Throwable crash = null;
        try {
            while (!ending) {
                int n;
                switch (mode) {
                    case EVENT -> n = cq.pollWait(wc, pollTimeoutMs);
                    case BUSY -> {
                        n = cq.poll(wc);
                        if (n == 0) {
                            Thread.onSpinWait();
                        }
                    }
                    default -> n = cq.pollAdaptive(wc, spinMicros, pollTimeoutMs); // spin, then arm and sleep
                }
                for (int i = 0; i < n; i++) {
                    dispatch(i);
                }
                afterBatch();
                if (!attention.isEmpty() || !watched.isEmpty()) {
                    lookAfterFailed();
                }
                long now = System.nanoTime();
                if (now - nextSweepCheck >= 0) {
                    nextSweepCheck = now + RingIdleSweep.MIN_PERIOD_NANOS;
                    sweepIdleRings(now);
                }
            }
        } catch (Throwable t) {
            crash = t;
            LOG.log(System.Logger.Level.ERROR, "RDMA completion poller " + thread.getName() + " failed", t);
        } finally {
            ending = true;
            for (int s = 0; s < endpoints.length(); s++) {
                RdmaEndpoint ep = endpoints.get(s);
                if (ep != null) {
                    ep.fail(crash != null ? crash : new IllegalStateException("RDMA poller ended"), true);
                    ep.teardown();
                }
            }
            engine.pollerEnded(this);
        }
    }

    private void dispatch(int i) {
        long id = wc.wrId(i);
        int key = (int) (id >>> LOCAL_BITS);
        int s = key & 0xFFFF;
        RdmaEndpoint ep = s < endpoints.length() ? endpoints.get(s) : null;
        if (ep == null || ep.wrBase() != (id & ~LOCAL_MASK)) {
            stats.staleCompletions.increment(); // of a queue pair already destroyed
            return;
        }
        try {
            ep.onCompletion(wc, i, id & LOCAL_MASK);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, ep.local() + ": handling an RDMA completion from " + ep.peerId()
                    + " failed", e);
            ep.fail(e, true);
        }
        if (!ep.pollerTouched) {
            ep.pollerTouched = true;
            touched.add(ep);
        }
    }

    /** Reposts, in one batch per endpoint, the receives this batch consumed. */
    private void afterBatch() {
        for (int k = 0; k < touched.size(); k++) {
            RdmaEndpoint ep = touched.get(k);
            ep.pollerTouched = false;
            try {
                ep.repostReceives();
            } catch (Exception | LinkageError e) {
                ep.fail(e, true);
            }
        }
        touched.clear();
    }

    private void sweepIdleRings(long now) {
        for (int s = 0; s < endpoints.length(); s++) {
            RdmaEndpoint ep = endpoints.get(s);
            if (ep != null && !ep.isTornDown()) {
                try {
                    ep.sweepIdleRings(now);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, ep.local() + ": revoking idle rings of " + ep.peerId()
                            + " failed", e);
                }
            }
        }
    }

    /** Tears down closed endpoints now, failed ones once drained (or after DRAIN_SECONDS). */
    private void lookAfterFailed() {
        RdmaEndpoint ep;
        while ((ep = attention.poll()) != null) {
            if (!watched.contains(ep)) {
                watched.add(ep);
            }
        }
        long now = System.nanoTime();
        for (int k = watched.size() - 1; k >= 0; k--) {
            RdmaEndpoint w = watched.get(k);
            if (w.isTornDown()) {
                watched.remove(k);
            } else if (w.isClosing() || w.failure() != null && (w.drained() || now - w.failedAt() > DRAIN_NANOS)) {
                watched.remove(k);
                w.teardown();
            }
        }
    }
}
