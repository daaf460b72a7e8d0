package io.shardlink.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.shardlink.api.BlobSource;
import io.shardlink.api.CookieBlobSource;
import io.shardlink.api.CopyInFlight;
import io.shardlink.api.FileShardSink;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.seaweedfs.SeaweedVolumes;
import io.shardlink.config.Transport;
import io.shardlink.logging.LogFields;
import io.shardlink.metrics.Direction;
import io.shardlink.rdma.path.ZeroCopyStats;
import io.shardlink.status.StatusHistory;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A storage node: stores incoming shard copies in DIR ({@code DIR/shard-ID}) and serves blob reads from DIR
 * (see {@link DirBlobSource} for the naming), with an optional HTTP endpoint for /health and /metrics.
 * Runs until SIGINT or SIGTERM, then closes cleanly and exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Run a storage node: receive shard copies, serve blob reads, a status page, /health and /metrics.",
        "Runs a node: stores incoming shard copies as DIR/shard-ID and serves blob reads from DIR "
                + "(volume 0, needle N = DIR/shard-N; volume V >= 1, needle N = DIR/volume-V/needle-N). With "
                + "--http-port: GET / (a live status page), GET /status.json (what it shows), GET /health (200 "
                + "'ok' + peer states) and GET /metrics (Prometheus text). Runs "
                + "until SIGINT/SIGTERM; then closes cleanly and exits 0.",
        "With --seaweedfs DIR: serves needle reads from the SeaweedFS volumes in that directory (volume id and "
                + "needle id as in SeaweedFS file ids; reads must give the needle's cookie), opened read-only; "
                + "volume 0 stays the shards in --dir. Shard copies land in --dir when it is given (without --dir, "
                + "copies are refused)."})
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    NodeOptions node = new NodeOptions();

    @Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
            converter = Units.AddressConverter.class,
            description = "QUIC (UDP) address to listen on (default ${DEFAULT-VALUE}; port 0 picks one).")
    InetSocketAddress listen;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Storage directory (created if missing); required unless --seaweedfs is given.")
    Path dir;

    @Option(names = "--seaweedfs", paramLabel = "DIR",
            description = "Serve needle reads from the SeaweedFS volumes (<vid>.dat/.idx) in DIR, read-only.")
    Path seaweedfs;

    @Option(names = "--http-port", paramLabel = "PORT",
            description = "Serve the status page (/), /status.json, /health and /metrics over HTTP on this port "
                    + "(0 picks one). Default: no HTTP.")
    Integer httpPort;

    @Option(names = "--http-host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "HTTP bind address (default ${DEFAULT-VALUE}).")
    String httpHost;

    @Option(names = "--node-id", paramLabel = "ID", description = "This node's id (default: serve-<host>-<port>).")
    String nodeId;

    @Option(names = "--ingest-limit", paramLabel = "BYTES", converter = Units.SizeConverter.class,
            description = "Write incoming shard copies at most this many bytes per second, all copies together "
                    + "(e.g. 100m), leaving disk bandwidth to blob reads. Default: no limit.")
    Long ingestLimit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (dir == null && seaweedfs == null) {
            throw new CliException("give --dir DIR (shard storage) and/or --seaweedfs DIR (SeaweedFS volumes)", 2,
                    null);
        }
        if (dir != null) {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) {
                throw new CliException("storage directory " + dir + " is not writable");
            }
        }
        // opened before the node starts: a bad volume is one clear error line, not a half-started server
        SeaweedVolumes volumes = seaweedfs == null ? null : SeaweedVolumes.open(seaweedfs);
        String id = nodeId != null ? nodeId : "serve-" + hostName() + "-" + listen.getPort();
        ShardlinkConfig config = tls.apply(node.apply(ShardlinkConfig.builder())).nodeId(id).listenAddress(listen).build();
        CountDownLatch stop = new CountDownLatch(1);
        AtomicReference<String> signal = new AtomicReference<>("signal");
        boolean handled = Signals.on(() -> {
            signal.compareAndSet("signal", "SIGINT/SIGTERM");
            stop.countDown();
        }, "INT", "TERM");
        if (ingestLimit != null && ingestLimit <= 0) {
            throw new CliException("--ingest-limit must be more than 0 bytes per second");
        }
        IngestLimit limit = ingestLimit == null ? null : new IngestLimit(ingestLimit);
        HttpServer http = null;
        ExecutorService httpThreads = null;
        StatusHistory status = null;
        try (volumes; ShardlinkNode n = ShardlinkNode.start(config)) {
            if (dir != null) {
                n.onShardCopy((peer, shardId, total) -> logging(out, n, peer, shardId, total, limit,
                        FileShardSink.inDirectory(dir).open(peer, shardId, total)));
            }
            n.blobSource(blobSource(volumes));
            Thread hook = null;
            if (!handled) {
                hook = new Thread(() -> {
                    stop.countDown();
                    n.close();
                }, "shardlink-serve-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
            }
            CliLog.node(n.nodeId());
            event(out, Level.INFO, "node " + n.nodeId() + " listening on " + Units.hostPort(n.localAddress())
                    + " (QUIC/UDP, mutual TLS), " + (dir != null ? "storing shards in " + dir.toAbsolutePath()
                    : "not accepting shard copies (no --dir)"), fields(n, null, "serve.listening")
                    .with("listen", Units.hostPort(n.localAddress()))
                    .with("dir", dir != null ? dir.toAbsolutePath().toString() : ""));
            if (volumes != null) {
                int needles = volumes.volumes().stream().mapToInt(SeaweedVolumes.VolumeInfo::liveNeedles).sum();
                event(out, Level.INFO, "serving " + volumes.volumes().size() + " SeaweedFS volume(s), " + needles
                        + " live needle(s), from " + seaweedfs.toAbsolutePath() + " (read-only)",
                        fields(n, null, "serve.seaweedfs").with("volumes", volumes.volumes().size())
                                .with("needles", needles));
            }
            if (httpPort != null) {
                http = HttpServer.create(new InetSocketAddress(httpHost, httpPort), 16);
                httpThreads = Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "shardlink-http");
                    t.setDaemon(true);
                    return t;
                });
                http.setExecutor(httpThreads);
                boolean rdmaUsable = n.rdmaUnavailableReason() == null;
                http.createContext("/health", ex -> respond(ex, 200, "text/plain; charset=utf-8", health(n)));
                http.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                        Prometheus.format(n.nodeId(), n.metrics(), n.peers(), rdmaUsable, ZeroCopyStats.of(n))));
                status = StatusEndpoint.install(http, n); // GET / and /status.json
                http.start();
                event(out, Level.INFO, "http on " + Units.hostPort(http.getAddress())
                        + " (/ status page, /status.json, /health, /metrics)", fields(n, null, "serve.http")
                        .with("http", Units.hostPort(http.getAddress())));
            }
            String why = RdmaStatus.whyNot(n, null);
            event(out, Level.INFO, why == null ? "RDMA available (" + config.device() + ")" : why,
                    fields(n, null, "serve.rdma").with("rdma", why == null).with("cause", why));
            event(out, Level.INFO, "ready", fields(n, null, "serve.ready"));
            stop.await();
            event(out, Level.INFO, "stopping (" + signal.get() + ")", fields(n, null, "serve.stopping"));
            if (http != null) {
                http.stop(0);
            }
            if (status != null) {
                status.close();
            }
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // already shutting down
                }
            }
        } finally {
            if (status != null) {
                status.close();
            }
            if (httpThreads != null) {
                httpThreads.shutdownNow();
            }
        }
        event(out, Level.INFO, "stopped", fields(null, null, "serve.stopped").with("node", id));
        return 0;
    }

    /** Volume 0 = the shards in --dir; with --seaweedfs every other volume id is a SeaweedFS volume. */
    private BlobSource blobSource(SeaweedVolumes volumes) {
        DirBlobSource shards = dir == null ? null : new DirBlobSource(dir);
        if (volumes == null) {
            return shards;
        }
        return (CookieBlobSource) (v, needle, cookie, offset, length, dst, attributes) ->
                v == DirBlobSource.SHARD_VOLUME && shards != null ? shards.read(v, needle, offset, length, dst)
                        : volumes.read(v, needle, cookie, offset, length, dst, attributes);
    }

    private static String health(ShardlinkNode n) {
        StringBuilder sb = new StringBuilder("ok\n");
        sb.append("node ").append(n.nodeId()).append(' ').append(Units.hostPort(n.localAddress())).append('\n');
        String why = RdmaStatus.whyNot(n, null);
        sb.append("rdma ").append(why == null ? "available" : why).append('\n');
        for (Peer p : n.peers()) {
            sb.append("peer ").append(p.nodeId()).append(' ').append(Units.hostPort(p.remoteAddress())).append(' ')
                    .append(p.state()).append('\n');
        }
        return sb.toString();
    }

    private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
        try (ex) {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", type);
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(code, -1);
                return;
            }
            ex.sendResponseHeaders(code, b.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(b);
            }
        }
    }

    /** Logs each incoming copy's end on stdout; holds each chunk to the ingest limit, if any. */
    private static ShardSink logging(PrintWriter out, ShardlinkNode n, String peer, long shardId, long total,
                                     IngestLimit limit, ShardSink sink) {
        long t0 = System.nanoTime();
        return new ShardSink() {
            @Override
            public void onChunk(long offset, ByteBuffer payload) throws IOException {
                if (limit != null) {
                    limit.acquire(payload.remaining());
                }
                sink.onChunk(offset, payload);
            }

            @Override
            public void onComplete() throws IOException {
                sink.onComplete();
                long ns = System.nanoTime() - t0;
                event(out, Level.INFO, String.format(Locale.ROOT, "stored shard %d from %s: %s in %.2f s (%.1f MB/s)",
                        shardId, peer, Units.bytes(total), ns / 1e9, Units.mbPerSecond(total, ns)),
                        fields(n, peer, "copy.stored").with("shard", shardId).with("bytes", total)
                                .with("transport", transportOf(n, peer, shardId)).with("seconds", ns / 1e9)
                                .with("mb_per_s", Units.mbPerSecond(total, ns)));
            }

            @Override
            public void onAbort(Throwable cause) {
                sink.onAbort(cause);
                event(out, Level.WARNING, "shard " + shardId + " from " + peer + " aborted: " + Errors.describe(cause),
                        fields(n, peer, "copy.aborted").with("shard", shardId).with("total_bytes", total)
                                .with("transport", transportOf(n, peer, shardId)).with("cause", Errors.describe(cause)));
            }
        };
    }

    /** One of serve's event lines on stdout: "shardlink serve: MESSAGE", or JSON with --log-format json. */
    private static void event(PrintWriter out, Level level, String message, LogFields fields) {
        CliLog.line(out, level, "io.shardlink.cli.serve", "shardlink serve: " + message, message, fields);
    }

    private static LogFields fields(ShardlinkNode n, String peer, String event) {
        return LogFields.of(n == null ? null : n.nodeId(), peer).with("event", event);
    }

    /** The transport carrying an incoming copy now (its sink completes or aborts before the copy leaves the list). */
    private static Transport transportOf(ShardlinkNode n, String peer, long shardId) {
        for (CopyInFlight c : n.copiesInFlight()) {
            if (c.direction() == Direction.RECEIVED && c.shardId() == shardId && c.peer().equals(peer)) {
                return c.transport();
            }
        }
        return null;
    }

    private static String hostName() {
        try {
            String h = java.net.InetAddress.getLocalHost().getHostName();
            int dot = h.indexOf('.');
            return dot > 0 ? h.substring(0, dot) : h;
        } catch (IOException e) {
            return "node";
        }
    }
}
