package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.testing.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * serve --log-format json --ingest-limit in a child JVM: a copy (also --log-format json) is listed in
 * /status.json while it runs, with its bytes growing; the page and its assets come from the jar; every line
 * serve, copy and a failing read write is one JSON object with the documented members.
 */
class StatusPageAndJsonLogsTest {
    private static final List<String> ALWAYS = List.of("time", "level", "logger", "message", "node", "peer");

    @Test
    @Timeout(180)
    @SuppressWarnings("unchecked")
    void statusJsonShowsTheCopyInFlightAndEveryLogLineIsJson(@TempDir Path tmp) throws Exception {
        Path tls = tmp.resolve("tls");
        CliRunner.Result certs = CliRunner.run("certs", "--dir", tls.toString(), "--name", "server,client");
        assertThat(certs.exit()).as(certs.toString()).isZero();
        List<String> cmd = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--listen", "127.0.0.1:0", "--http-port", "0", "--dir", tmp.resolve("store").toString(),
                "--tls-dir", tls.toString(), "--tls-name", "server", "--node-id", "status-server",
                "--ingest-limit", "4m", "--log-format", "json", "--verbose"));
        Process server = new ProcessBuilder(cmd).start();
        List<String> out = new CopyOnWriteArrayList<>();
        List<String> err = new CopyOnWriteArrayList<>();
        pump(server.getInputStream(), out);
        pump(server.getErrorStream(), err);
        try {
            Map<String, Object> ready = null;
            String quic = null;
            String http = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ready == null) {
                assertThat(System.nanoTime()).as("serve not ready: " + out + err).isLessThan(deadline);
                assertThat(server.isAlive()).as("serve died: " + out + err).isTrue();
                for (String l : out) {
                    Map<String, Object> o = Json.object(l);
                    if ("serve.listening".equals(o.get("event"))) {
                        quic = (String) o.get("listen");
                    } else if ("serve.http".equals(o.get("event"))) {
                        http = (String) o.get("http");
                    } else if ("serve.ready".equals(o.get("event"))) {
                        ready = o;
                    }
                }
                Thread.sleep(100);
            }
            assertThat(ready).containsEntry("node", "status-server").containsEntry("level", "INFO")
                    .containsEntry("logger", "io.shardlink.cli.serve");
            assertThat(quic).isNotNull();
            assertThat(http).isNotNull();

            // 12 MiB at 4 MiB/s: in flight for about 3 s
            byte[] data = new byte[12 << 20];
            new Random(3).nextBytes(data);
            Path file = tmp.resolve("shard.bin");
            Files.write(file, data);
            String to = quic;
            CompletableFuture<CliRunner.Result> copy = CompletableFuture.supplyAsync(() -> CliRunner.run("copy",
                    file.toString(), "--to", to, "--shard", "5", "--tls-dir", tls.toString(), "--tls-name", "client",
                    "--log-format", "json"));
            HttpClient hc = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            long first = -1;
            long later = -1;
            Map<String, Object> seen = null;
            while (!copy.isDone() && later <= first) {
                Map<String, Object> s = Json.object(get(hc, http, "/status.json").body());
                List<Map<String, Object>> copies = (List<Map<String, Object>>) s.get("copies");
                if (!copies.isEmpty()) {
                    Map<String, Object> c = copies.get(0);
                    long done = (Long) c.get("bytes_done");
                    if (first < 0 && done > 0) {
                        first = done;
                        seen = s;
                    } else if (first > 0) {
                        later = done;
                    }
                }
                Thread.sleep(100);
            }
            CliRunner.Result copied = copy.get(60, TimeUnit.SECONDS);
            assertThat(copied.exit()).as(copied.toString()).isZero();
            assertThat(first).as("copy never seen in flight in /status.json").isPositive();
            assertThat(later).as("copy's bytes_done did not grow").isGreaterThan(first);
            Map<String, Object> c = ((List<Map<String, Object>>) seen.get("copies")).get(0);
            assertThat(c).containsEntry("shard", 5L).containsEntry("direction", "received")
                    .containsEntry("total_bytes", (long) data.length).containsEntry("transport", "QUIC");
            Map<String, Object> peer = ((List<Map<String, Object>>) seen.get("peers")).get(0);
            assertThat((String) peer.get("id")).startsWith("copy-").isEqualTo(c.get("peer"));
            assertThat(peer).containsKeys("address", "state", "last_cause", "bytes_in", "bytes_out", "fallbacks");
            assertThat((List<Object>) peer.get("transports")).containsExactly("QUIC");
            assertThat(Files.readAllBytes(tmp.resolve("store").resolve("shard-5"))).isEqualTo(data);

            CliRunner.Result read = CliRunner.run("read", "--from", quic, "--volume", "0", "--needle", "5",
                    "--length", "8m", "--out", tmp.resolve("read.bin").toString(), "--tls-dir", tls.toString(),
                    "--tls-name", "client",
                    "--log-format", "json");
            assertThat(read.exit()).as(read.err()).isZero();
            CliRunner.Result missing = CliRunner.run("read", "--from", quic, "--volume", "0", "--needle", "404",
                    "--length", "100", "--tls-dir", tls.toString(), "--tls-name", "client", "--log-format", "json");
            assertThat(missing.exit()).isEqualTo(1);
            CliRunner.Result usage = CliRunner.run("read", "--log-format=json", "--no-such-option");
            assertThat(usage.exit()).isEqualTo(2);

            // the page's document after the copy and the reads: history, totals, node
            Map<String, Object> s = Json.object(get(hc, http, "/status.json").body());
            Map<String, Object> node = (Map<String, Object>) s.get("node");
            assertThat(node).containsEntry("id", "status-server").containsEntry("listen", quic);
            assertThat((Map<String, Object>) node.get("rdma")).containsKeys("available", "reason", "device", "port",
                    "gid_index", "gid");
            Map<String, Object> h = (Map<String, Object>) s.get("history");
            int n = ((List<Object>) h.get("time")).size();
            assertThat(n).isPositive();
            for (String k : List.of("read_p50_us", "read_p99_us", "reads", "served_read_p50_us", "served_read_p99_us",
                    "served_reads")) {
                assertThat((List<Object>) h.get(k)).as(k).hasSize(n);
            }
            List<Object> recv = (List<Object>) ((Map<String, Object>) h.get("bytes_per_second")).get("quic_received");
            assertThat(recv).hasSize(n).anyMatch(v -> (Long) v > 0);
            long served = (Long) ((Map<String, Object>) s.get("totals")).get("served_reads");
            assertThat(served).isEqualTo(2); // 8 MiB = two 4 MiB reads (the missing needle is not timed)
            // zero-copy serving counters: present, and 0 here (reads served over QUIC are neither zero-copy nor
            // counted as RDMA copies)
            Map<String, Object> zc = (Map<String, Object>) s.get("zero_copy");
            assertThat(zc).containsEntry("reads", 0L).containsEntry("bytes", 0L).containsEntry("copied_reads", 0L)
                    .containsEntry("copied_bytes", 0L);
            assertThat((Map<String, Object>) zc.get("fallbacks")).containsOnlyKeys("no_room", "crosses_window",
                    "registration", "last_reason");
            assertThat((Map<String, Object>) zc.get("windows")).containsOnlyKeys("registered", "evicted", "remapped",
                    "private", "live", "pinned_bytes", "window_bytes", "limit_bytes").containsEntry("live", 0L);

            HttpResponse<String> page = get(hc, http, "/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
            assertThat(page.body()).contains("assets/uPlot.iife.min.js").contains("assets/status.js")
                    .doesNotContain("http://").doesNotContain("https://"); // nothing from outside
            for (String asset : List.of("/assets/uPlot.iife.min.js", "/assets/uPlot.min.css", "/assets/status.js",
                    "/assets/status.css")) {
                HttpResponse<String> a = get(hc, http, asset);
                assertThat(a.statusCode()).as(asset).isEqualTo(200);
                assertThat(a.body()).as(asset).isNotEmpty();
            }
            assertThat(get(hc, http, "/assets/../status.json").statusCode()).isEqualTo(404);
            assertThat(get(hc, http, "/nothing").statusCode()).isEqualTo(404);

            assertThat(server.toHandle().destroy()).isTrue();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(server.exitValue()).isZero();
            Thread.sleep(200); // the pumps read the last lines

            List<Map<String, Object>> serveLines = parseAll("serve stdout", out);
            parseAll("serve stderr", err);
            assertThat(serveLines).anySatisfy(o -> assertThat(o).containsEntry("event", "copy.stored")
                    .containsEntry("shard", 5L).containsEntry("bytes", (long) data.length)
                    .containsEntry("transport", "QUIC").containsEntry("level", "INFO"));
            assertThat(serveLines.get(serveLines.size() - 1)).containsEntry("event", "serve.stopped");
            List<Map<String, Object>> copyLines = parseAll("copy stderr", copied.errLines());
            assertThat(copyLines).anySatisfy(o -> assertThat(o).containsEntry("event", "copy.progress")
                    .containsEntry("total_bytes", (long) data.length).containsEntry("transport", "QUIC"));
            assertThat(copyLines).allSatisfy(o -> assertThat((String) o.get("node")).startsWith("copy-"));
            parseAll("read stderr", read.errLines());
            assertThat(read.out()).startsWith("read 8388608 bytes"); // the result on stdout stays a sentence
            assertThat(parseAll("failing read stderr", missing.errLines())).singleElement().satisfies(o -> assertThat(o)
                    .containsEntry("level", "ERROR").containsEntry("event", "error").containsEntry("exit", 1L)
                    .satisfies(x -> assertThat((String) x.get("message")).contains("NOT_FOUND")));
            assertThat(parseAll("usage error", usage.errLines())).singleElement().satisfies(o -> assertThat(o)
                    .containsEntry("event", "usage_error"));
        } finally {
            if (server.isAlive()) {
                server.destroyForcibly();
            }
        }
    }

    /** Every line is one JSON object with the members every log line has. */
    private static List<Map<String, Object>> parseAll(String what, List<String> lines) {
        List<Map<String, Object>> l = new ArrayList<>();
        for (String line : lines) {
            Map<String, Object> o;
            try {
                o = Json.object(line);
            } catch (IllegalArgumentException e) {
                throw new AssertionError(what + ": not one JSON object: " + line, e);
            }
            assertThat(o).as(what + ": " + line).containsKeys(ALWAYS.toArray(new String[0]));
            l.add(o);
        }
        return l;
    }

    private static HttpResponse<String> get(HttpClient hc, String http, String path) throws Exception {
        return hc.send(HttpRequest.newBuilder(URI.create("http://" + http + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void pump(InputStream in, List<String> into) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    into.add(l);
                }
            } catch (java.io.IOException ignored) {
                // process ended
            }
        });
        t.setDaemon(true);
        t.start();
    }
}
