package io.shardlink.concurrent;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Every thread one node starts, so that its close can wait for each of them to end. An executor's
 * {@code awaitTermination} and a Netty group's termination future complete while the last thread is still
 * on its way out (they are signalled from inside it), so a close that only awaited those returned, about
 * one time in 50, with a worker, reader or event loop thread still alive for a few ms.
 */
public final class NodeThreads {
    private final String node;
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    public NodeThreads(String node) {
        this.node = node;
    }

    /** A factory for threads named {@code shardlink-<node>-<role>-<n>} that this object tracks. */
    public ThreadFactory factory(String role) {
        ShardlinkThreadFactory names = new ShardlinkThreadFactory(node, role);
        return r -> {
            Thread t = names.newThread(r);
            // drop the threads that have ended (pools start and retire threads for as long as the node runs)
            threads.removeIf(old -> old.getState() == Thread.State.TERMINATED);
            threads.add(t);
            return t;
        };
    }

    /**
     * Waits up to {@code timeout} in all for every tracked thread except the calling one to end; returns
     * the names of those still alive (empty when all ended).
     */
    public List<String> awaitEnded(long timeout, TimeUnit unit) {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        List<String> alive = new ArrayList<>();
        for (Thread t : new ArrayList<>(threads)) {
            if (t == Thread.currentThread()) {
                continue;
            }
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    TimeUnit.NANOSECONDS.timedJoin(t, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                alive.add(t.getName());
            }
        }
        return alive;
    }

    /** Whether the calling thread is one of this node's. */
    public boolean isNodeThread() {
        return threads.contains(Thread.currentThread());
    }
}
