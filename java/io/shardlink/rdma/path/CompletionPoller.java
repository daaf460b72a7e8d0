package io.shardlink.rdma.path;

import io.shardlink.rdma.CompletionBatch;
import io.shardlink.rdma.CompletionQueue;
import io.shardlink.rdma.QueuePair;
import java.util.concurrent.TimeUnit;

/**
 * The loop of one endpoint's completion poller thread: waits on the completion queue (completion channel,
 * {@code pollTimeoutMs} at most, to notice close), hands send completions to the {@link SendQueue} and receive
 * completions to the {@link ReceiveQueue}, reposts receives once per batch. After a failure it keeps polling until
 * every flushed work request came back (or {@value #DRAIN_SECONDS} s passed), then tears the endpoint down.
 */
final class CompletionPoller implements Runnable {
    private static final int DRAIN_SECONDS = 3;
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
    private static final System.Logger LOG = System.getLogger(CompletionPoller.class.getName());

    private final RdmaEndpoint ep;
    private final CompletionQueue cq;
    private final QueuePair qp;
    private final SendQueue sends;
    private final ReceiveQueue receives;
    private final RdmaPathStats stats;
    private final int pollTimeoutMs;
    private final CompletionBatch wc = new CompletionBatch(64);

    CompletionPoller(RdmaEndpoint ep, CompletionQueue cq, QueuePair qp, SendQueue sends, ReceiveQueue receives,
                     RdmaPathStats stats, int pollTimeoutMs) {
        this.ep = ep;
        this.cq = cq;
        this.qp = qp;
        this.sends = sends;
        this.receives = receives;
        this.stats = stats;
        this.pollTimeoutMs = pollTimeoutMs;
    }

    @Override
    public void run() {
        stats.livePollers.incrementAndGet();
        try {
            while (!ep.isClosing()) {
                int n;
                try {
                    n = cq.pollWait(wc, pollTimeoutMs);
                } catch (IllegalStateException e) {
                    break; // torn down under us by close()
                }
                for (int i = 0; i < n; i++) {
                    try {
                        onCompletion(i);
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.WARNING, ep.local() + ": handling an RDMA completion from "
                                + ep.peerId() + " failed", e);
                        ep.fail(e, true);
                    }
                }
                if (ep.failure() == null) {
                    receives.repost(qp);
                } else if (drained() || System.nanoTime() - ep.failedAt() > DRAIN_NANOS) {
                    break;
                }
            }
        } catch (Throwable t) {
            if (!ep.isClosing()) {
                ep.fail(t, true);
            }
        } finally {
            ep.teardown();
            stats.livePollers.decrementAndGet();
        }
    }

    private void onCompletion(int i) {
        long id = wc.wrId(i);
        if (id < ReceiveQueue.RECV_BASE) {
            sends.onCompletion(wc, i, (int) id, wc.status(i));
        } else {
            receives.onCompletion(wc, i, (int) (id - ReceiveQueue.RECV_BASE));
        }
    }

    /** Every work request of the queue pair has come back. */
    private boolean drained() {
        return sends.idle() && receives.posted() == 0;
    }
}
