package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;
import io.shardlink.metrics.MetricsSnapshot;
import io.shardlink.state.PeerState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Shared by the fault-matrix tests of issue 11 ({@link RdmaNetemFaultRdmaTest}, {@link RdmaPeerPauseRestartRdmaTest}):
 * the workload a fault is applied under (one shard copy and, at the same time, a burst of verified 4 KiB reads from
 * the same peer), the peer's recorded state moves, the node's byte counters per transport, and running a tool.
 */
final class FaultMatrixSupport {
    static final int READ_LEN = 4096;

    private FaultMatrixSupport() {}

    record Moved(PeerState from, PeerState to, long atNanos) {}

    /** Every state move of {@code p} from now on, timestamped. */
    static List<Moved> record(Peer p) {
        List<Moved> l = new CopyOnWriteArrayList<>();
        p.addStateListener((peer, from, to, cause) -> l.add(new Moved(from, to, System.nanoTime())));
        return l;
    }

    /** When {@code from -> to} first happened at or after {@code after} (nanoTime), or -1. */
    static long firstAt(List<Moved> l, PeerState from, PeerState to, long after) {
        for (Moved m : l) {
            if (m.from() == from && m.to() == to && m.atNanos() >= after) {
                return m.atNanos();
            }
        }
        return -1;
    }

    static List<String> moves(List<Moved> l, long after) {
        return l.stream().filter(m -> m.atNanos() >= after).map(m -> m.from() + "->" + m.to()).toList();
    }

    /**
     * One measured row of the fault matrix: printed as "FAULT-MATRIX ..." and, when the system property
     * {@code shardlink.faultReport} names a file (ci/vm-stage.sh sets it), appended there, so the README's fault table
     * is read off the CI run that produced it (ci/test.sh prints the file after the VM stage).
     */
    static synchronized void report(String row) {
        String line = "FAULT-MATRIX " + row;
        System.out.println(line);
        String file = System.getProperty("shardlink.faultReport");
        if (file != null && !file.isBlank()) {
            try {
                java.nio.file.Files.writeString(java.nio.file.Path.of(file), line + System.lineSeparator(),
                        java.nio.charset.StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot append the fault-matrix row to " + file, e);
            }
        }
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Serves the blobs {@link RdmaPathTestSupport#blobByte} defines. */
    static void serveBlobs(ShardlinkNode n) {
        n.blobSource((v, needle, off, len, dst) -> {
            for (int i = 0; i < len; i++) {
                dst.put(RdmaPathTestSupport.blobByte(v, needle, off + i));
            }
            return len;
        });
    }

    static void verify(ReadResult r, long v, long needle, long off, int len) {
        assertThat(r.length()).isEqualTo(len);
        ByteBuffer d = r.data();
        for (int i = 0; i < len; i++) {
            if (d.get(d.position() + i) != RdmaPathTestSupport.blobByte(v, needle, off + i)) {
                fail("read of needle " + needle + " at " + off + ": byte " + i + " differs (over " + r.transport() + ")");
            }
        }
    }

    /** The node's byte counters for both transports, both directions, at one moment. */
    record Bytes(long rdmaSent, long quicSent, long rdmaReceived, long quicReceived) {
        static Bytes of(ShardlinkNode n) {
            MetricsSnapshot m = n.metrics();
            return new Bytes(m.bytes(Transport.RDMA, Direction.SENT), m.bytes(Transport.QUIC, Direction.SENT),
                    m.bytes(Transport.RDMA, Direction.RECEIVED), m.bytes(Transport.QUIC, Direction.RECEIVED));
        }

        Bytes since(Bytes before) {
            return new Bytes(rdmaSent - before.rdmaSent, quicSent - before.quicSent,
                    rdmaReceived - before.rdmaReceived, quicReceived - before.quicReceived);
        }
    }

    /** What a copy and the reads beside it came to. */
    record Workload(CopyResult copy, long copyMs, int reads, Map<Transport, Integer> readsBy, long slowestReadMs,
                    Bytes moved) {
        int readsOver(Transport t) {
            return readsBy.getOrDefault(t, 0);
        }

        @Override
        public String toString() {
            return "copy " + copy.bytes() + " B in " + copyMs + " ms over " + copy.transports() + " (fallbacks "
                    + copy.fallbackCauses() + "), " + reads + " reads by transport " + readsBy + " (slowest "
                    + slowestReadMs + " ms), bytes moved " + moved;
        }
    }

    /**
     * Copies {@code data} as {@code shard} to {@code p} and, while it runs, reads 4 KiB needles of {@code volume}
     * from {@code p} one after another, each verified, until the copy is done and at least {@code minReads} were
     * read. {@code atProgress} runs (on its own thread) once the copy has {@code triggerAt} bytes acknowledged.
     */
    static Workload copyWithReads(ShardlinkNode n, Peer p, long shard, byte[] data, long volume, int minReads,
                                  long triggerAt, Runnable atProgress, long timeoutSeconds) throws Exception {
        Bytes before = Bytes.of(n);
        AtomicBoolean triggered = new AtomicBoolean(atProgress == null);
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        CompletableFuture<CopyResult> copy = p.copyShard(shard, ByteBuffer.wrap(data), (acked, total, t) -> {
            if (acked >= triggerAt && triggered.compareAndSet(false, true)) {
                CompletableFuture.runAsync(atProgress);
            }
        });
        long[] copyDone = new long[1];
        copy.whenComplete((r, e) -> copyDone[0] = System.nanoTime());
        Map<Transport, Integer> readsBy = new EnumMap<>(Transport.class);
        int k = 0;
        long slowest = 0;
        while (!copy.isDone() || k < minReads) {
            if (System.nanoTime() > deadline) {
                fail("copy + reads not done after " + timeoutSeconds + " s: copy done " + copy.isDone() + ", " + k
                        + " reads " + readsBy);
            }
            long off = 13L * k;
            long t0 = System.nanoTime();
            ReadResult r = p.read(volume, k, off, READ_LEN).get(timeoutSeconds, TimeUnit.SECONDS);
            slowest = Math.max(slowest, ms(System.nanoTime() - t0));
            verify(r, volume, k, off, READ_LEN);
            readsBy.merge(r.transport(), 1, Integer::sum);
            k++;
        }
        CopyResult r = copy.get(timeoutSeconds, TimeUnit.SECONDS);
        assertThat(r.bytes()).isEqualTo(data.length);
        return new Workload(r, ms(copyDone[0] - start), k, readsBy, slowest, Bytes.of(n).since(before));
    }

    /** Runs a command (tc, kill: the VM's own links and processes only); its output, or an IOException with it. */
    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.trim());
        }
        return out;
    }
}
