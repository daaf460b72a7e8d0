package io.shardlink.cli.bench;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU and allocation spent by this process over a measured window (bench --cpu): a measure that does not depend
 * on how busy the machine is, unlike latency. Taken from the JVM's own counters:
 * <ul>
 *   <li>process CPU (user + sys, every thread, including the JIT compilers and GC);</li>
 *   <li>the CPU of the application's Java threads (event loops, workers, the caller; no JIT, no GC);</li>
 *   <li>bytes allocated on the heap by those threads;</li>
 *   <li>time the JIT compilers spent in the window (a window that still compiles is not steady state).</li>
 * </ul>
 * Threads that end inside the window are not counted in the per-thread figures (none do in steady state).
 * The Java threads' CPU is also given per thread name (digits folded to #), to show where it goes; and the
 * host's UDP datagrams sent per operation and receive-buffer drops in the window (/proc/net/snmp: the whole
 * host's, so other UDP traffic counts too; on an otherwise quiet host they are this benchmark's packets).
 */
public final class CpuMeter {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private final long processCpu;
    private final long jitMillis;
    /** The host's UDP counters (/proc/net/snmp): datagrams sent, datagrams dropped for a full receive buffer. */
    private final long[] udp;
    /** Per live thread id: {CPU ns, allocated bytes}. */
    private final Map<Long, long[]> threads;
    private final Map<Long, String> names;

    private CpuMeter(long processCpu, long jitMillis, Map<Long, long[]> threads, Map<Long, String> names) {
        this.udp = udpCounters();
        this.processCpu = processCpu;
        this.jitMillis = jitMillis;
        this.threads = threads;
        this.names = names;
    }

    /** The counters now. */
    public static CpuMeter start() {
        long[] ids = THREADS.getAllThreadIds();
        long[] cpu = THREADS.getThreadCpuTime(ids);
        long[] alloc = THREADS.getThreadAllocatedBytes(ids);
        Map<Long, long[]> threads = new HashMap<>();
        Map<Long, String> names = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (cpu[i] >= 0 && alloc[i] >= 0) {
                threads.put(ids[i], new long[] {cpu[i], alloc[i]});
            }
        }
        for (java.lang.management.ThreadInfo t : THREADS.getThreadInfo(ids)) {
            if (t != null) {
                names.put(t.getThreadId(), t.getThreadName());
            }
        }
        var jit = ManagementFactory.getCompilationMXBean();
        return new CpuMeter(OS.getProcessCpuTime(),
                jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0,
                threads, names);
    }

    /** {OutDatagrams, RcvbufErrors} of the host (Linux), or {-1, -1}. */
    private static long[] udpCounters() {
        try {
            List<String> lines = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/snmp"));
            for (int i = 0; i + 1 < lines.size(); i++) {
                if (lines.get(i).startsWith("Udp:") && lines.get(i + 1).startsWith("Udp:")) {
                    List<String> k = List.of(lines.get(i).trim().split("\\s+"));
                    String[] v = lines.get(i + 1).trim().split("\\s+");
                    return new long[] {Long.parseLong(v[k.indexOf("OutDatagrams")]),
                            Long.parseLong(v[k.indexOf("RcvbufErrors")])};
                }
            }
        } catch (Exception e) {
            // not Linux, or no procfs: not reported
        }
        return new long[] {-1, -1};
    }

    /**
     * What was spent since {@link #start()}, per operation of {@code ops}: threads alive at both ends count
     * their difference, threads started in between count in full (threads that ended in between are lost).
     */
    public Usage perOp(long ops) {
        CpuMeter now = start();
        double n = Math.max(1, ops);
        long cpu = 0;
        long alloc = 0;
        Map<String, Long> byGroup = new TreeMap<>();
        for (Map.Entry<Long, long[]> e : now.threads.entrySet()) {
            long[] before = threads.getOrDefault(e.getKey(), new long[2]);
            long c = e.getValue()[0] - before[0];
            cpu += c;
            alloc += e.getValue()[1] - before[1];
            String name = now.names.getOrDefault(e.getKey(), "?").replaceAll("[0-9]+", "#");
            byGroup.merge(name, c, Long::sum);
        }
        StringBuilder groups = new StringBuilder();
        byGroup.entrySet().stream().filter(e -> e.getValue() / n >= 500) // >= 0.5 us per op
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> groups.append(groups.length() == 0 ? "" : "; ").append(e.getKey()).append(' ')
                        .append(String.format(Locale.ROOT, "%.1f", e.getValue() / 1e3 / n)));
        boolean udpKnown = udp[0] >= 0 && now.udp[0] >= 0;
        return new Usage((now.processCpu - processCpu) / 1e3 / n, cpu / 1e3 / n, alloc / n,
                now.jitMillis - jitMillis, groups.toString(), udpKnown ? (now.udp[0] - udp[0]) / n : -1,
                udpKnown ? now.udp[1] - udp[1] : -1);
    }

    /**
     * Per operation: process CPU (us), the Java threads' CPU (us), heap bytes allocated; and the JIT's
     * milliseconds in the whole window.
     */
    public record Usage(double processCpuUs, double threadCpuUs, double allocBytes, long jitMillis,
                        String byThread, double udpOut, long udpDrops) {
        /** The JSON fields (with a leading comma) appended to a bench line. */
        public String jsonFields() {
            return String.format(Locale.ROOT, ",\"cpu_us_per_op\":%.1f,\"thread_cpu_us_per_op\":%.1f,"
                    + "\"alloc_bytes_per_op\":%.1f,\"jit_ms\":%d,\"thread_cpu_us_by_name\":\"%s\","
                    + "\"host_udp_datagrams_per_op\":%.2f,\"host_udp_rcvbuf_drops\":%d", processCpuUs,
                    threadCpuUs, allocBytes, jitMillis, byThread.replace("\"", "'"), udpOut, udpDrops);
        }
    }
}
