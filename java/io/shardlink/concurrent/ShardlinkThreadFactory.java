package io.shardlink.concurrent;

import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names every thread shardlink starts: {@code shardlink-<node>-<role>-<n>}, daemon. Tests count live threads
 * with {@link #liveThreads(String)} to prove that close() leaves none behind.
 */
public final class ShardlinkThreadFactory implements ThreadFactory {
    public static final String PREFIX = "shardlink-";
    private final String prefix;
    private final AtomicInteger next = new AtomicInteger();

    public ShardlinkThreadFactory(String node, String role) {
        this.prefix = PREFIX + node + "-" + role + "-";
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new FastThreadLocalThread(r, prefix + next.getAndIncrement());
        t.setDaemon(true);
        return t;
    }

    /** Live threads whose name starts with {@code PREFIX + node + "-"} (all shardlink threads when node is null). */
    public static int liveThreads(String node) {
        String p = node == null ? PREFIX : PREFIX + node + "-";
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith(p)) {
                n++;
            }
        }
        return n;
    }
}
