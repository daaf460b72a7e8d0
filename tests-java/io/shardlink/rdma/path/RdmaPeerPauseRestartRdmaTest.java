package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.FaultMatrixSupport.READ_LEN;
import static io.shardlink.rdma.path.FaultMatrixSupport.ms;
import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.rdma.path.FaultMatrixSupport.Bytes;
import io.shardlink.rdma.path.FaultMatrixSupport.Moved;
import io.shardlink.rdma.path.FaultMatrixSupport.Workload;
import io.shardlink.state.PeerState;
import io.shardlink.testing.TestNodes;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The peer-process rows of the fault matrix (issue 11) on real rxe (VM). The peer is a separate JVM
 * ({@link RdmaFaultPeer} on rxeb) that the test stops and continues with {@code /bin/kill -STOP/-CONT} and kills with
 * SIGKILL ({@link Process#destroyForcibly}); this JVM's node (on rxea) copies to it and
 * reads from it at the same time. Both use idleTimeout 10 s, requestTimeout 20 s.
 * <ol>
 *   <li>paused 3 s (SIGSTOP, SIGCONT) mid-copy, shorter than every timeout: survives on RDMA, no fallback, no
 *       FAILED move; the stalled copy and reads resume within {@link #RESUME_BOUND} of SIGCONT;</li>
 *   <li>killed (SIGKILL) mid-copy, then restarted on the same address: the copy fails with a clear error within
 *       {@link #KILL_DETECT_BOUND}; the same Peer reconnects to the new process within {@link #RESTART_BOUND} of its
 *       LISTENING line and the next copy and reads go over RDMA, verified by the new process; nothing of the old
 *       incarnation reaches it (it opens only the new copy) and only the new endpoint is left.</li>
 * </ol>
 */
@Tag("rdma")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RdmaPeerPauseRestartRdmaTest {
    static final long PAUSE_MS = 3000;
    /** From SIGCONT to the copy done and the slowest read answered. */
    static final Duration RESUME_BOUND = Duration.ofSeconds(20);
    /** From SIGKILL to the copy's failure: QP retries, then the QUIC idle timeout (10 s) or request timeout (20 s). */
    static final Duration KILL_DETECT_BOUND = Duration.ofSeconds(60);
    /** From the restarted process listening to the Peer CONNECTED on RDMA again (reconnect backoff <= 2 s). */
    static final Duration RESTART_BOUND = Duration.ofSeconds(60);

    /** One incarnation of the peer process. */
    static final class Child {
        final Process proc;
        final List<String> out = new CopyOnWriteArrayList<>();
        final CompletableFuture<Integer> port = new CompletableFuture<>();
        final long startedAt = System.nanoTime();
        volatile long listeningAt;

        Child(int listenPort) throws Exception {
            Path[] kc = TestNodes.pki().issue("fault-b");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1"));
            String nativePath = System.getProperty("shardlink.native.path");
            if (nativePath != null) {
                cmd.add("-Dshardlink.native.path=" + nativePath);
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RdmaFaultPeer.class.getName(),
                    "fault-b", kc[0].toString(), kc[1].toString(), TestNodes.pki().caPem().toString(),
                    RdmaPathTestSupport.deviceB(), String.valueOf(listenPort)));
            proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        out.add(line);
                        if (line.startsWith("LISTENING ")) {
                            listeningAt = System.nanoTime();
                            port.complete(Integer.parseInt(line.substring(10).trim()));
                        }
                    }
                } catch (Exception ignored) {
                    // the process is gone
                }
                port.completeExceptionally(new IllegalStateException("peer process exited before listening: " + out));
            }, "fault-peer-output");
            reader.setDaemon(true);
            reader.start();
        }

        int awaitListening() throws Exception {
            int p = port.get(180, TimeUnit.SECONDS);
            assertThat(out).as("the peer process's RDMA").contains("RDMA ok");
            return p;
        }

        String awaitLine(String prefix, Duration timeout) {
            RdmaPathTestSupport.awaitTrue(() -> out.stream().anyMatch(l -> l.startsWith(prefix)), timeout,
                    "the peer process to print '" + prefix + "' (printed " + out + ")");
            return out.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
        }

        void signal(String sig) {
            try {
                FaultMatrixSupport.run("/bin/kill", "-" + sig, String.valueOf(proc.pid()));
            } catch (Exception e) {
                throw new IllegalStateException("kill -" + sig + " " + proc.pid(), e);
            }
        }

        void destroy() throws InterruptedException {
            proc.destroyForcibly();
            proc.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Child child;
    private static int port;
    private static RdmaDataPathProvider pa;
    private static ShardlinkNode na;
    private static Peer p;
    private static List<Moved> moves;

    @BeforeAll
    static void start() throws Exception {
        String a = RdmaPathTestSupport.deviceA();
        RdmaPathTestSupport.requireRdma(a, RdmaPathTestSupport.deviceB());
        child = new Child(0);
        pa = new RdmaDataPathProvider(RdmaPathOptions.defaults());
        na = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("fault-a", a)
                .requestTimeout(Duration.ofSeconds(20)).idleTimeout(Duration.ofSeconds(10))
                .reconnectBackoff(Duration.ofMillis(200), Duration.ofSeconds(2))
                .rdmaRetry(Duration.ofSeconds(1), Duration.ofSeconds(4), Duration.ofSeconds(30)).build(), pa);
        port = child.awaitListening();
        System.out.println("peer process listening " + ms(child.listeningAt - child.startedAt) + " ms after start");
        p = na.connect(new InetSocketAddress("127.0.0.1", port));
        moves = FaultMatrixSupport.record(p);
        assertThat(p.state()).as("peer state (cause %s)", p.lastCause()).isEqualTo(PeerState.CONNECTED);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (child != null) {
                child.destroy();
            }
        } finally {
            if (na != null) {
                na.close();
                assertThat(na.liveThreads()).isZero();
            }
        }
    }

    @Test
    @Order(1)
    void aPeerPausedThreeSecondsMidCopyStaysOnRdma() throws Exception {
        long shard = 1;
        int size = 12 * MiB + 333;
        byte[] data = RdmaPathTestSupport.pattern(shard, size);
        long[] stopCont = new long[2];
        CompletableFuture<Void> paused = new CompletableFuture<>();
        long start = System.nanoTime();
        // 2 MiB acknowledged: the other 10 MiB cannot all fit the 8-slot ring, so the copy must wait for the peer
        Workload w = FaultMatrixSupport.copyWithReads(na, p, shard, data, 21, 200, 2L * MiB, () -> {
            try {
                child.signal("STOP");
                stopCont[0] = System.nanoTime();
                Thread.sleep(PAUSE_MS);
                child.signal("CONT");
                stopCont[1] = System.nanoTime();
                paused.complete(null);
            } catch (Throwable e) {
                child.signal("CONT");
                paused.completeExceptionally(e);
            }
        }, 120);
        long done = System.nanoTime();
        paused.get(30, TimeUnit.SECONDS);
        String line = child.awaitLine("DONE " + shard + " ", Duration.ofSeconds(30));
        assertThat(line).isEqualTo("DONE " + shard + " " + size + " " + (size + MiB - 1) / MiB + " ok");
        assertThat(done).as("the copy outlasted the pause").isGreaterThan(stopCont[1]);

        assertThat(FaultMatrixSupport.moves(moves, start)).as("no move of the peer's state").isEmpty();
        assertThat(p.state()).isEqualTo(PeerState.CONNECTED);
        assertThat(w.copy().transports()).containsExactly(Transport.RDMA);
        assertThat(w.copy().fallbacks()).isZero();
        assertThat(w.readsBy().keySet()).containsOnly(Transport.RDMA);
        Bytes m = w.moved();
        assertThat(m.rdmaSent()).isEqualTo(size);
        assertThat(m.rdmaReceived()).isEqualTo((long) w.reads() * READ_LEN);
        assertThat(m.quicSent() + m.quicReceived()).as("no data over QUIC").isZero();
        long resumeMs = ms(done - stopCont[1]);
        assertThat(Duration.ofMillis(resumeMs)).as("copy done after SIGCONT").isLessThanOrEqualTo(RESUME_BOUND);
        assertThat(Duration.ofMillis(w.slowestReadMs()))
                .isLessThanOrEqualTo(RESUME_BOUND.plusMillis(PAUSE_MS));
        FaultMatrixSupport.report("peer paused " + ms(stopCont[1] - stopCont[0]) + " ms: stayed on RDMA;"
                + " detect -; copy done " + resumeMs + " ms after SIGCONT; " + w);
    }

    @Test
    @Order(2)
    void aPeerKilledMidCopyAndRestartedOnTheSameAddressGetsTheNextCopyOverRdma() throws Exception {
        RdmaPathTestSupport.awaitState(p, PeerState.CONNECTED, Duration.ofSeconds(30));
        long shard = 2;
        int size = 16 * MiB;
        byte[] data = RdmaPathTestSupport.pattern(shard, size);
        long[] killedAt = new long[1];
        CompletableFuture<CopyResult> f = p.copyShard(shard, ByteBuffer.wrap(data), (acked, total, t) -> {
            if (acked >= 3L * MiB && killedAt[0] == 0) {
                // SIGKILL straight from this thread (Process.destroyForcibly): with /bin/kill run from another
                // thread, 15 of the 16 MiB were once acknowledged before the peer died (VM run 3)
                killedAt[0] = System.nanoTime();
                child.proc.destroyForcibly();
            }
        });
        // reads beside the copy: verified while the peer lives, a clear error once it is gone
        int readsOk = 0;
        List<String> readErrors = new ArrayList<>();
        for (int k = 0; !f.isDone(); k++) {
            try {
                ReadResult r = p.read(22, k, 5L * k, READ_LEN).get(90, TimeUnit.SECONDS);
                FaultMatrixSupport.verify(r, 22, k, 5L * k, READ_LEN);
                readsOk++;
            } catch (ExecutionException e) {
                assertThat(killedAt[0]).as("a read failed before the kill: %s", e.getCause()).isPositive();
                assertThat(e.getCause()).isInstanceOf(ShardlinkException.class);
                readErrors.add(e.getCause().getClass().getSimpleName());
            }
        }
        Throwable failure = null;
        try {
            fail("the copy to a killed peer completed: " + f.get(KILL_DETECT_BOUND.toSeconds(), TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            failure = e.getCause();
        }
        long detectMs = ms(System.nanoTime() - killedAt[0]);
        assertThat(killedAt[0]).isPositive();
        assertThat(failure).isInstanceOf(ShardlinkException.class);
        assertThat(failure.getMessage()).contains("fault-b").contains("shard " + shard);
        assertThat(Duration.ofMillis(detectMs)).as("time to detect the kill").isLessThanOrEqualTo(KILL_DETECT_BOUND);
        assertThat(child.proc.waitFor(30, TimeUnit.SECONDS)).isTrue();
        List<String> oldOut = List.copyOf(child.out);
        assertThat(oldOut).as("the killed incarnation never finished the copy").noneMatch(l -> l.startsWith("DONE 2"));

        // the same address, a new process
        long restartAt = System.nanoTime();
        child = new Child(port);
        assertThat(child.awaitListening()).isEqualTo(port);
        long listening = child.listeningAt;
        RdmaPathTestSupport.awaitTrue(() -> p.isConnected() && p.state() == PeerState.CONNECTED, RESTART_BOUND,
                "the Peer to reconnect to the restarted process on RDMA (state " + p.state() + ", cause "
                        + p.lastCause() + ")");
        long recoverMs = ms(System.nanoTime() - listening);
        assertThat(p.reconnects()).as("a new connection, not the old one").isGreaterThanOrEqualTo(1);

        long next = 3;
        int nextSize = 8 * MiB + 333;
        byte[] nextData = RdmaPathTestSupport.pattern(next, nextSize);
        Workload w = FaultMatrixSupport.copyWithReads(na, p, next, nextData, 23, 100, 0, null, 120);
        String line = child.awaitLine("DONE " + next + " ", Duration.ofSeconds(30));
        assertThat(line).isEqualTo("DONE " + next + " " + nextSize + " " + (nextSize + MiB - 1) / MiB + " ok");
        assertThat(w.copy().transports()).containsExactly(Transport.RDMA);
        assertThat(w.readsBy().keySet()).containsOnly(Transport.RDMA);
        Bytes m = w.moved();
        assertThat(m.rdmaSent()).isEqualTo(nextSize);
        assertThat(m.rdmaReceived()).isEqualTo((long) w.reads() * READ_LEN);
        assertThat(m.quicSent() + m.quicReceived()).as("no data over QUIC").isZero();
        // nothing of the old incarnation: the new process opened only the new copy, and one endpoint is left here
        assertThat(child.out.stream().filter(l -> l.startsWith("OPEN ") || l.startsWith("ABORT ")).toList())
                .containsExactly("OPEN " + next + " " + nextSize);
        RdmaPathTestSupport.awaitTrue(() -> pa.liveEndpoints() == 1, Duration.ofSeconds(30),
                "one endpoint left (" + pa.stats() + ")");
        FaultMatrixSupport.report("peer killed and restarted: copy failed " + detectMs + " ms after SIGKILL ("
                + failure + "); reads beside it: " + readsOk + " verified, failed " + readErrors + "; new process"
                + " listening " + ms(listening - restartAt) + " ms after start; Peer CONNECTED on RDMA " + recoverMs
                + " ms after that (reconnects " + p.reconnects() + "); next: " + w + "; moves "
                + FaultMatrixSupport.moves(moves, 0) + "; old incarnation printed " + oldOut);
    }
}
