package io.shardlink.rdma.path;

import io.shardlink.api.BlobSource;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.config.TransportMode;
import io.shardlink.testing.TestNodes;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Measurement, not a test: where the time of one 4 KiB RDMA blob read goes (run in the rxe VM by
 * bench/rdma-vs-perftest.sh with {@code LEGS=...}, or alone). Needs {@code -Dshardlink.bench.readTrace=true}
 * ({@link ReadTrace}). Per case, two nodes (rxea -> rxeb, RDMA_ONLY), reads one at a time, and the p50 / p90 of
 * each leg: caller submit -> READ_REQ about to be posted -> the server's poller has it -> the serving thread starts
 * -> answer about to be posted -> the reader's poller has it -> the caller wakes from {@code get()}. A post on rxe is
 * a system call that sends the packet itself, so it counts in the leg after it.
 * Args: cases (comma list of MODE[+poller][+nb]: poll mode; +poller = readsOnPoller; +nb = the source declared
 * {@link BlobSource#nonBlocking()}), reads per case (1000). One {@code LEGS {json}} line per case.
 */
public final class ReadLegsBench {
    private static final String[] LEG_NAMES = {"submit_to_post", "post_to_server_poller", "server_poller_to_serve",
        "serve_to_answer_post", "answer_post_to_reader_poller", "reader_poller_to_caller"};

    private ReadLegsBench() {}

    public static void main(String[] args) throws Exception {
        if (!ReadTrace.ON) {
            throw new IllegalStateException("run with -Dshardlink.bench.readTrace=true");
        }
        String cases = args.length > 0 ? args[0] : "event,adaptive";
        int reads = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        for (String c : cases.split(",")) {
            measure(c.trim(), reads);
        }
    }

    private static void measure(String name, int reads) throws Exception {
        String[] parts = name.split("\\+");
        PollMode mode = PollMode.valueOf(parts[0].toUpperCase(Locale.ROOT));
        boolean onPoller = name.contains("+poller");
        boolean nonBlocking = name.contains("+nb");
        RdmaEngineOptions eo = RdmaEngineOptions.defaults().withPollMode(mode).withReadsOnPoller(onPoller);
        RdmaDataPathProvider pa = new RdmaDataPathProvider(RdmaPathOptions.defaults(), eo);
        RdmaDataPathProvider pb = new RdmaDataPathProvider(RdmaPathOptions.defaults(), eo);
        String tag = name.replace('+', '-');
        try (ShardlinkNode a = ShardlinkNode.start(TestNodes.config("legs-" + tag + "-a")
                .device(RdmaPathTestSupport.deviceA()).transportMode(TransportMode.RDMA_ONLY)
                .connectTimeout(Duration.ofSeconds(60)).build(), pa);
             ShardlinkNode b = ShardlinkNode.start(TestNodes.config("legs-" + tag + "-b")
                     .device(RdmaPathTestSupport.deviceB()).transportMode(TransportMode.RDMA_ONLY)
                     .connectTimeout(Duration.ofSeconds(60)).build(), pb)) {
            BlobSource quick = (v, n, off, len, dst) -> {
                dst.position(dst.position() + len); // the bytes already in place
                return len;
            };
            b.blobSource(nonBlocking ? BlobSource.nonBlocking(quick) : quick);
            Peer p = a.connect(b.localAddress());
            for (int i = 0; i < Math.max(200, reads / 5); i++) { // warm-up
                read(p, i);
            }
            long[][] legs = new long[LEG_NAMES.length + 1][reads];
            int incomplete = 0;
            for (int i = 0; i < reads; i++) {
                ReadTrace.clear();
                long t0 = System.nanoTime();
                read(p, i);
                long t6 = System.nanoTime();
                long[] t = {t0, ReadTrace.get(ReadTrace.REQUEST_POSTING), ReadTrace.get(ReadTrace.SERVER_RECEIVED),
                    ReadTrace.get(ReadTrace.SERVE_STARTED), ReadTrace.get(ReadTrace.ANSWER_POSTING),
                    ReadTrace.get(ReadTrace.REPLY_POLLED), t6};
                boolean ok = true;
                for (int k = 1; k < t.length; k++) {
                    ok &= t[k] >= t[k - 1] && t[k] != 0;
                }
                if (!ok) {
                    incomplete++; // e.g. the answer posted before the caller's own stamp: leg order unknown
                    legs[0][i] = t6 - t0;
                    for (int k = 0; k < LEG_NAMES.length; k++) {
                        legs[k + 1][i] = -1;
                    }
                    continue;
                }
                legs[0][i] = t6 - t0;
                for (int k = 0; k < LEG_NAMES.length; k++) {
                    legs[k + 1][i] = t[k + 1] - t[k];
                }
            }
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "LEGS {\"case\":\"%s\",\"reads\":%d,\"incomplete\":%d,\"total\":%s",
                    name, reads, incomplete, pct(legs[0])));
            for (int k = 0; k < LEG_NAMES.length; k++) {
                sb.append(",\"").append(LEG_NAMES[k]).append("\":").append(pct(legs[k + 1]));
            }
            System.out.println(sb.append('}'));
        }
    }

    private static void read(Peer p, int i) throws Exception {
        ReadResult r = p.read(1, i, 0, 4096).get(60, TimeUnit.SECONDS);
        if (r.transport() != Transport.RDMA || r.length() != 4096) {
            throw new IllegalStateException("read answered " + r);
        }
    }

    /** {"p50":us,"p90":us,"mean":us} over the non-negative entries. */
    private static String pct(long[] v) {
        long[] s = Arrays.stream(v).filter(x -> x >= 0).sorted().toArray();
        if (s.length == 0) {
            return "null";
        }
        double mean = Arrays.stream(s).average().orElse(0);
        return String.format(Locale.ROOT, "{\"p50\":%.1f,\"p90\":%.1f,\"mean\":%.1f}", s[s.length / 2] / 1e3,
                s[s.length * 9 / 10] / 1e3, mean / 1e3);
    }
}
