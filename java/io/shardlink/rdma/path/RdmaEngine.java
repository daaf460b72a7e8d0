package io.shardlink.rdma.path;

import io.shardlink.rdma.CompletionQueue;
import io.shardlink.rdma.ProtectionDomain;
import io.shardlink.rdma.QueuePair;
import io.shardlink.rdma.QueuePairOptions;
import io.shardlink.rdma.RdmaDevice;
import io.shardlink.rdma.RdmaException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;

/**
 * The node-wide side of the RDMA path: {@code pollers} completion pollers, each a thread and a completion queue
 * shared by the queue pairs of many peers, so that threads grow with pollers, not with peers. A new peer goes to
 * the poller with the fewest; a poller (thread and CQ) exists only while it has peers, so a node without RDMA
 * peers runs no poller thread and holds no CQ.
 */
final class RdmaEngine {
    private static final System.Logger LOG = System.getLogger(RdmaEngine.class.getName());

    private final RdmaDevice device;
    private final RdmaEngineOptions options;
    private final int pollTimeoutMs;
    private final int peersPerPoller;
    private final int cqDepth;
    private final ThreadFactory threads;
    private final RdmaPathStats stats;
    /** Guarded by this; null where no poller runs. */
    private final CompletionPoller[] pollers;
    /** Pollers that ended or are ending and whose thread may still run (guarded by this). */
    private final List<CompletionPoller> ending = new ArrayList<>();
    private boolean closed;
    private volatile boolean inlineRefused;

    /** One registration: the poller an endpoint's queue pair uses, and the base of its work-request ids. */
    record Membership(CompletionPoller poller, long wrBase) {}

    /**
     * @param qpWorkRequests send + receive depth of one peer's queue pair (its room in a shared CQ)
     * @param maxCqe         the device's largest CQ: caps the peers per poller
     */
    RdmaEngine(RdmaDevice device, RdmaEngineOptions options, int pollTimeoutMs, int qpWorkRequests, long maxCqe,
               ThreadFactory threads, RdmaPathStats stats) {
        this.device = device;
        this.options = options;
        this.pollTimeoutMs = pollTimeoutMs;
        this.peersPerPoller = (int) Math.max(1, Math.min(options.peersPerPoller(), maxCqe / qpWorkRequests));
        this.cqDepth = peersPerPoller * qpWorkRequests;
        this.threads = threads;
        this.stats = stats;
        this.pollers = new CompletionPoller[options.effectivePollers()];
    }

    RdmaEngineOptions options() {
        return options;
    }

    int pollerCount() {
        return pollers.length;
    }

    /** Puts {@code ep} on the poller with the fewest peers (starting one if a slot is free). */
    synchronized Membership attach(RdmaEndpoint ep) throws RdmaException {
        if (closed) {
            throw new IllegalStateException("RDMA engine closed");
        }
        int best = -1;
        for (int i = 0; i < pollers.length; i++) {
            CompletionPoller p = pollers[i];
            int load = p == null ? 0 : p.count();
            if (load < peersPerPoller && (best < 0 || load < (pollers[best] == null ? 0 : pollers[best].count()))) {
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("this node's " + pollers.length + " RDMA pollers already serve "
                    + pollers.length * peersPerPoller + " peers (peersPerPoller " + peersPerPoller + ")");
        }
        CompletionPoller p = pollers[best];
        if (p == null) {
            p = new CompletionPoller(this, CompletionQueue.create(device, cqDepth), peersPerPoller,
                    options.pollMode(), options.spinMicros(), pollTimeoutMs, stats);
            pollers[best] = p;
            stats.livePollers.incrementAndGet();
            p.start(threads.newThread(p));
        }
        return new Membership(p, p.register(ep));
    }

    /**
     * A queue pair on a poller's shared CQ, with inline sends of up to {@code inlineBytes} if the device can (else
     * without, from then on: small frames then go by DMA from the send slot, as larger ones do).
     */
    QueuePair createQueuePair(ProtectionDomain pd, CompletionQueue cq, int sq, int rq, int gidIndex)
            throws RdmaException {
        QueuePairOptions o = QueuePairOptions.defaults().withSendDepth(sq).withRecvDepth(rq).withMaxSge(2)
                .withGidIndex(gidIndex);
        int inline = options.inlineBytes();
        if (inline > 0 && !inlineRefused) {
            try {
                return QueuePair.create(pd, cq, cq, o.withMaxInline(inline));
            } catch (RdmaException e) {
                inlineRefused = true;
                LOG.log(System.Logger.Level.INFO, () -> device.name() + " cannot inline " + inline + " bytes per "
                        + "send (" + e.getMessage() + "); small frames go without inline");
            }
        }
        return QueuePair.create(pd, cq, cq, o);
    }

    /** {@code ep}'s queue pair is destroyed: its poller forgets it, and ends if it was the last. */
    synchronized void detach(RdmaEndpoint ep, Membership m) {
        if (m.poller().unregister(ep, m.wrBase())) {
            for (int i = 0; i < pollers.length; i++) {
                if (pollers[i] == m.poller()) {
                    pollers[i] = null;
                    ending.add(m.poller());
                    stats.livePollers.decrementAndGet();
                }
            }
        }
    }

    /** Called by a poller's thread as it ends: its CQ has no queue pair left. */
    void pollerEnded(CompletionPoller p) {
        synchronized (this) {
            for (int i = 0; i < pollers.length; i++) {
                if (pollers[i] == p) { // ended by a crash, not by losing its last peer
                    pollers[i] = null;
                    stats.livePollers.decrementAndGet();
                }
            }
            ending.remove(p);
        }
        if (!RdmaDataPathProvider.closeQuietly(p.cq())) {
            LOG.log(System.Logger.Level.WARNING, "RDMA completion queue of poller " + p.thread().getName()
                    + " not destroyed");
        }
    }

    /** Waits up to {@code millis} for every poller thread to end (their peers are closed by then). */
    void close(long millis) {
        List<Thread> live = new ArrayList<>();
        synchronized (this) {
            closed = true;
            for (CompletionPoller p : pollers) {
                if (p != null) {
                    live.add(p.thread());
                }
            }
            for (CompletionPoller p : ending) {
                live.add(p.thread());
            }
        }
        long deadline = System.nanoTime() + millis * 1_000_000L;
        for (Thread t : live) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (t.isAlive()) {
                LOG.log(System.Logger.Level.WARNING, "RDMA poller " + t.getName() + " did not end within " + millis
                        + " ms");
            }
        }
    }
}
