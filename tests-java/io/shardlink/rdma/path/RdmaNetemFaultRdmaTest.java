package io.shardlink.rdma.path;

import static io.shardlink.rdma.path.FaultMatrixSupport.READ_LEN;
import static io.shardlink.rdma.path.FaultMatrixSupport.firstAt;
import static io.shardlink.rdma.path.FaultMatrixSupport.ms;
import static io.shardlink.rdma.path.RdmaPathTestSupport.MiB;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.api.CopyProgressListener;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.rdma.path.FaultMatrixSupport.Bytes;
import io.shardlink.rdma.path.FaultMatrixSupport.Moved;
import io.shardlink.rdma.path.FaultMatrixSupport.Workload;
import io.shardlink.state.PeerState;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The netem rows of the fault matrix (issue 11) on real rxe (VM): loss, delay with jitter, reordering and
 * duplication, put with {@code tc qdisc ... netem} on both ends (va, vb) of the veth pair that carries rxea <-> rxeb
 * (both directions: data and ACKs). The QUIC control connection runs over loopback and is not touched. Each fault is
 * on for a whole shard copy and a burst of 4 KiB reads from the same peer at the same time; then it is taken off.
 *
 * <p>Each run must end in one of exactly two documented behaviours, and says which ("FAULT-MATRIX" lines):
 * <ul>
 *   <li><b>stays on RDMA</b>: no FAILED move on either node, the copy and every read over RDMA, and the node's byte
 *       counters show RDMA moved exactly the copy and the reads, QUIC nothing;</li>
 *   <li><b>fails over</b> (rxe's retransmission under loss/reordering/duplication can end a queue pair): the path
 *       goes FAILED within {@link #DETECT_BOUND} of the fault, the copy finishes on QUIC, every read is answered
 *       (by RDMA or, once failed, QUIC), and after the fault is gone the peer is CONNECTED on RDMA again within
 *       {@link #RECOVERY_BOUND}.</li>
 * </ul>
 * In both: every chunk exactly once, in order, byte for byte; every read verified; the whole faulted workload done
 * within {@link Fault#bound}; afterwards a copy and reads go over RDMA (by the metrics).
 */
@Tag("rdma")
class RdmaNetemFaultRdmaTest {
    /** From the fault being put on to the first CONNECTED -> FAILED: QP retries (timeout 14, 6 retries) or ACK wait. */
    static final Duration DETECT_BOUND = Duration.ofSeconds(60);
    /** From the fault taken off (or the failure, if it recovered under the fault) to CONNECTED: backoff <= 4 s. */
    static final Duration RECOVERY_BOUND = Duration.ofSeconds(45);

    /**
     * The faults. Every netem gets {@code limit 100000}: its default queue of 1000 packets is shorter than the burst
     * of one 1 MiB RDMA WRITE (1024 packets at rxe's MTU 1024), so a mere delay would turn into tail drops. The delay's
     * jitter keeps packets in order ({@code rate 1gbit} makes netem send each packet after the one before it, as a
     * real path does within one flow); reordering is its own row.
     */
    enum Fault {
        LOSS_1("loss 1%", 8, 100, 120, "loss", "1%"),
        LOSS_10("loss 10%", 2, 100, 180, "loss", "10%"),
        DELAY_5MS_JITTER("delay 5 ms +- 1 ms", 4, 100, 120, "delay", "5ms", "1ms", "rate", "1gbit"),
        REORDER("reorder 25% (others delayed 2 ms)", 4, 150, 120, "delay", "2ms", "reorder", "25%", "50%"),
        DUPLICATE("duplicate 5%", 8, 150, 120, "duplicate", "5%");

        final String label;
        final int copyMiB;
        final int reads;
        /** Seconds the faulted copy + reads may take (emulated JVM, rxe retransmitting). */
        final long bound;
        final String[] netem;

        Fault(String label, int copyMiB, int reads, long bound, String... netem) {
            this.label = label;
            this.copyMiB = copyMiB;
            this.reads = reads;
            this.bound = bound;
            this.netem = netem;
        }
    }

    private static String[] links;
    private static RdmaDataPathProvider pa;
    private static RdmaDataPathProvider pb;
    private static ShardlinkNode na;
    private static ShardlinkNode nb;
    private static RdmaPathTestSupport.Sinks sinks;
    private static Peer p;
    private static Peer back;
    private static List<Moved> movesA;
    private static List<Moved> movesB;
    private static long shard;

    @BeforeAll
    static void startNodes() throws Exception {
        String a = RdmaPathTestSupport.deviceA();
        String b = RdmaPathTestSupport.deviceB();
        RdmaPathTestSupport.requireRdma(a, b);
        links = RdmaPathTestSupport.env("SHARDLINK_RXE_FAULT_LINKS", "va,vb").split(",");
        for (String l : links) {
            RdmaPathTestSupport.ip("link", "show", l);
            clear(l);
        }
        // the production QP settings (timeout 14, 6 retries, RNR forever); quick path retries
        pa = new RdmaDataPathProvider(RdmaPathOptions.defaults());
        pb = new RdmaDataPathProvider(RdmaPathOptions.defaults());
        na = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("netem-a", a)
                .rdmaRetry(Duration.ofSeconds(1), Duration.ofSeconds(4), Duration.ofSeconds(30)).build(), pa);
        nb = RdmaPathTestSupport.start(RdmaPathTestSupport.vmConfig("netem-b", b)
                .rdmaRetry(Duration.ofSeconds(1), Duration.ofSeconds(4), Duration.ofSeconds(30)).build(), pb);
        sinks = new RdmaPathTestSupport.Sinks();
        nb.onShardCopy(sinks);
        FaultMatrixSupport.serveBlobs(nb);
        p = na.connect(nb.localAddress());
        movesA = FaultMatrixSupport.record(p);
        assertThat(p.read(1, 1, 0, READ_LEN).get(60, TimeUnit.SECONDS).transport()).isEqualTo(Transport.RDMA);
        back = RdmaPathTestSupport.onlyPeer(nb);
        movesB = FaultMatrixSupport.record(back);
        RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopNodes() throws Exception {
        if (na != null) {
            na.close();
        }
        if (nb != null) {
            nb.close();
        }
    }

    @AfterEach
    void takeTheFaultOff() throws Exception {
        for (String l : links) {
            clear(l);
        }
    }

    private static void clear(String link) throws Exception {
        String q = FaultMatrixSupport.run("tc", "qdisc", "show", "dev", link);
        if (q.contains("netem")) {
            FaultMatrixSupport.run("tc", "qdisc", "del", "dev", link, "root");
        }
    }

    private static void put(Fault f) throws Exception {
        for (String l : links) {
            List<String> cmd = new ArrayList<>(List.of("tc", "qdisc", "replace", "dev", l, "root", "netem", "limit",
                    "100000"));
            cmd.addAll(Arrays.asList(f.netem));
            FaultMatrixSupport.run(cmd.toArray(String[]::new));
        }
    }

    @ParameterizedTest
    @EnumSource(Fault.class)
    void aFaultOnTheLinkUnderACopyAndReads(Fault f) throws Exception {
        // the previous fault's failover (if any) has recovered: both ends on RDMA before this one starts
        RdmaPathTestSupport.awaitState(p, PeerState.CONNECTED, RECOVERY_BOUND);
        RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, RECOVERY_BOUND);
        long s = ++shard;
        int size = f.copyMiB * MiB + 333;
        byte[] data = RdmaPathTestSupport.pattern(100 + s, size);
        long retries0 = na.metrics().pathRetries();

        long on = System.nanoTime();
        put(f);
        Workload w = FaultMatrixSupport.copyWithReads(na, p, s, data, 10 + s, f.reads, 0, null, f.bound);
        for (String l : links) {
            clear(l);
        }
        long off = System.nanoTime();

        // every chunk exactly once, in order, byte for byte
        RdmaPathTestSupport.Sinks.Received got = sinks.get(s);
        assertThat(got.problems).as("chunks in order, none twice").isEmpty();
        assertThat(got.chunks).as("every chunk exactly once").isEqualTo((size + MiB - 1) / MiB);
        assertThat(got.data).isEqualTo(data);

        long failedA = firstAt(movesA, PeerState.CONNECTED, PeerState.FAILED, on);
        long failedB = firstAt(movesB, PeerState.CONNECTED, PeerState.FAILED, on);
        String outcome;
        long detectMs = -1;
        long recoverMs = -1;
        if (failedA < 0 && failedB < 0) {
            outcome = "stayed on RDMA";
            assertThat(w.copy().transports()).containsExactly(Transport.RDMA);
            assertThat(w.readsBy().keySet()).containsOnly(Transport.RDMA);
            Bytes m = w.moved();
            assertThat(m.rdmaSent()).as("RDMA sent the copy, once").isEqualTo(size);
            assertThat(m.rdmaReceived()).as("RDMA brought every read").isEqualTo((long) w.reads() * READ_LEN);
            assertThat(m.quicSent() + m.quicReceived()).as("no data over QUIC").isZero();
        } else {
            outcome = "failed over to QUIC";
            long failed = failedA < 0 ? failedB : failedB < 0 ? failedA : Math.min(failedA, failedB);
            detectMs = ms(failed - on);
            assertThat(Duration.ofMillis(detectMs)).as("time to detect").isLessThanOrEqualTo(DETECT_BOUND);
            List<Transport> ts = w.copy().transports();
            assertThat(ts).as("the copy finished on QUIC").isNotEmpty().endsWith(Transport.QUIC);
            Bytes m = w.moved();
            assertThat(m.quicSent()).as("QUIC carried the rest of the copy").isPositive();
            assertThat(m.rdmaSent() + m.quicSent()).as("every byte sent at least once").isGreaterThanOrEqualTo(size);
            // back on RDMA once the fault is gone (or already under it)
            RdmaPathTestSupport.awaitTrue(() -> p.state() == PeerState.CONNECTED
                    && firstAt(movesA, PeerState.DISCONNECTED, PeerState.CONNECTED, failed) > 0,
                    RECOVERY_BOUND.plus(Duration.ofMillis(ms(System.nanoTime() - off))),
                    "A's peer to recover after " + f.label + " (moves " + FaultMatrixSupport.moves(movesA, on) + ")");
            long up = firstAt(movesA, PeerState.DISCONNECTED, PeerState.CONNECTED, failed);
            // from the fault taken off; from the failure if the path came back while the fault was still on
            recoverMs = up >= off ? ms(up - Math.max(failed, off)) : ms(up - failed);
            assertThat(Duration.ofMillis(recoverMs)).as("time to recover").isLessThanOrEqualTo(RECOVERY_BOUND);
            assertThat(na.metrics().pathRecoveries()).isPositive();
        }
        RdmaPathTestSupport.awaitState(back, PeerState.CONNECTED, RECOVERY_BOUND);

        // afterwards the path carries a copy and reads, by the metrics
        Bytes before = Bytes.of(na);
        long t = ++shard;
        CopyResult again = p.copyShard(t, ByteBuffer.wrap(data, 0, MiB), CopyProgressListener.NONE)
                .get(60, TimeUnit.SECONDS);
        assertThat(again.transports()).containsExactly(Transport.RDMA);
        assertThat(sinks.get(t).data).isEqualTo(Arrays.copyOf(data, MiB));
        for (int i = 0; i < 10; i++) {
            ReadResult rr = p.read(3, i, 7L * i, READ_LEN).get(60, TimeUnit.SECONDS);
            assertThat(rr.transport()).isEqualTo(Transport.RDMA);
            FaultMatrixSupport.verify(rr, 3, i, 7L * i, READ_LEN);
        }
        Bytes after = Bytes.of(na).since(before);
        assertThat(after.rdmaSent()).isEqualTo(MiB);
        assertThat(after.rdmaReceived()).isEqualTo(10L * READ_LEN);
        assertThat(after.quicSent() + after.quicReceived()).isZero();

        FaultMatrixSupport.report("" + f.label + ": " + outcome + "; detect "
                + (detectMs < 0 ? "-" : detectMs + " ms") + "; recover " + (recoverMs < 0 ? "-" : recoverMs + " ms")
                + "; fault on " + ms(off - on) + " ms; " + w + "; path retries "
                + (na.metrics().pathRetries() - retries0) + "; moves A " + FaultMatrixSupport.moves(movesA, on)
                + ", B " + FaultMatrixSupport.moves(movesB, on));
    }
}
