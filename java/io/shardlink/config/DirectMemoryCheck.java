package io.shardlink.config;

import java.lang.management.ManagementFactory;

/**
 * At node start: does the node's direct memory fit the JVM's limit? The pinned-memory budget
 * ({@link ShardlinkConfig#pinnedMemoryBudget()}) bounds everything the node allocates as direct buffers for
 * data: the chunk buffer pool and, on RDMA, the receive rings and staging buffers (all within that one budget).
 * The JVM refuses direct buffers past {@code -XX:MaxDirectMemorySize} (default: the max heap, -Xmx), so a
 * 256 MiB budget in a JVM run with -Xmx128m failed mid-copy with {@code OutOfMemoryError: Cannot reserve ...
 * bytes of direct buffer memory}.
 *
 * <p>Policy (chosen: keep working, loudly): the budget may use the JVM's limit less a reserve for Netty's QUIC
 * buffers and the application ({@link #reserve(long)}: a quarter of the limit, at least 16 MiB). A budget
 * larger than that is sized down to it (a multiple of maxSendSize; the window, numMemoryRegions, shrinks with it
 * when the budget no longer holds two windows) with a WARNING naming both numbers and the flag to raise. If not even {@link #MIN_CHUNKS} chunk buffers fit, the node refuses to start with a message
 * that says the same. Several nodes in one JVM each check against the whole limit: size them together.
 */
public final class DirectMemoryCheck {
    /** Chunk buffers a node needs at least (one being filled while one is on the wire). */
    public static final int MIN_CHUNKS = 2;
    private static final long MiB = 1024L * 1024;

    private DirectMemoryCheck() {}

    /** The outcome: the config to run with, and the warning to log (null when nothing changed). */
    public record Result(ShardlinkConfig config, String warning) {}

    /** The JVM's direct memory limit: -XX:MaxDirectMemorySize, or the max heap when it is not set. */
    public static long jvmLimit() {
        try {
            var hs = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long v = Long.parseLong(hs.getVMOption("MaxDirectMemorySize").getValue());
            if (v > 0) {
                return v;
            }
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot: the default below is what HotSpot does too
        }
        return Runtime.getRuntime().maxMemory();
    }

    /** What is kept out of the budget for Netty's QUIC buffers and the application. */
    public static long reserve(long limit) {
        return Math.max(limit / 4, 16 * MiB);
    }

    /** Checks {@code config} against {@code limit}; throws IllegalStateException when the node cannot run. */
    public static Result fit(ShardlinkConfig config, long limit) {
        long budget = config.pinnedMemoryBudget();
        long allowed = limit - reserve(limit);
        if (budget <= allowed) {
            return new Result(config, null);
        }
        long chunk = config.maxSendSize();
        long sized = allowed / chunk * chunk;
        String numbers = "node " + config.nodeId() + ": its pinned-memory budget (chunk buffer pool and RDMA rings) is "
                + budget + " bytes (" + budget / MiB + " MiB), but this JVM allows " + limit + " bytes ("
                + limit / MiB + " MiB) of direct memory, of which " + reserve(limit) / MiB
                + " MiB are kept for network buffers";
        String flag = "raise -XX:MaxDirectMemorySize (default: the max heap, -Xmx)";
        if (sized < MIN_CHUNKS * chunk) {
            throw new IllegalStateException(numbers + "; not even " + MIN_CHUNKS + " chunk buffers of maxSendSize "
                    + chunk + " bytes fit: " + flag + ", or lower maxSendSize");
        }
        // the config wants the budget to hold a receive ring and a send window: shrink the window with it
        int regions = (int) Math.min(config.numMemoryRegions(), sized / (2 * chunk));
        String window = regions == config.numMemoryRegions() ? ""
                : " and a window of " + regions + " chunks (numMemoryRegions, was " + config.numMemoryRegions() + ")";
        return new Result(config.toBuilder().pinnedMemoryBudget(sized).numMemoryRegions(regions).build(), numbers
                + "; using a budget of " + sized + " bytes (" + sized / MiB + " MiB)" + window + " instead: " + flag
                + ", or lower pinnedMemoryBudget to keep this warning away");
    }
}
