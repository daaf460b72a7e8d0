package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
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
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** `serve` in a child JVM; copy and read from this JVM; /health and /metrics over HTTP; SIGTERM stops it cleanly. */
class ServeProcessTest {
    @Test
    @Timeout(120)
    void serveCopyReadHealthMetricsAndStop(@TempDir Path tmp) throws Exception {
        Path tls = tmp.resolve("tls");
        Path store = tmp.resolve("store");
        CliRunner.Result certs = CliRunner.run("certs", "--dir", tls.toString(), "--name", "server,client");
        assertThat(certs.exit()).as(certs.toString()).isZero();

        List<String> cmd = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "serve", "--listen", "127.0.0.1:0", "--http-port", "0", "--dir", store.toString(),
                "--tls-dir", tls.toString(), "--tls-name", "server", "--node-id", "test-server"));
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        StringBuffer log = new StringBuffer();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    log.append(l).append('\n');
                    lines.add(l);
                }
            } catch (java.io.IOException ignored) {
                // process ended
            }
        });
        pump.setDaemon(true);
        pump.start();
        try {
            String quic = null;
            String http = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                String l = lines.poll(1, TimeUnit.SECONDS);
                assertThat(System.nanoTime()).as("serve did not get ready:\n" + log).isLessThan(deadline);
                assertThat(server.isAlive() || l != null).as("serve died:\n" + log).isTrue();
                if (l == null) {
                    continue;
                }
                Matcher m = Pattern.compile("listening on (\\S+)").matcher(l);
                if (m.find()) {
                    quic = m.group(1);
                }
                m = Pattern.compile("http on (\\S+)").matcher(l);
                if (m.find()) {
                    http = m.group(1);
                }
                if (l.endsWith("ready")) {
                    break;
                }
            }
            assertThat(quic).isNotNull();
            assertThat(http).isNotNull();

            byte[] data = new byte[3 * 1024 * 1024 + 123];
            new Random(5).nextBytes(data);
            Path file = tmp.resolve("shard.bin");
            Files.write(file, data);
            CliRunner.Result copy = CliRunner.run("copy", file.toString(), "--to", quic, "--shard", "42",
                    "--tls-dir", tls.toString(), "--tls-name", "client", "--quiet");
            assertThat(copy.exit()).as(copy.toString()).isZero();
            assertThat(copy.out()).contains("as shard 42: " + data.length + " bytes").contains("MB/s over ");
            assertThat(Files.readAllBytes(store.resolve("shard-42"))).isEqualTo(data);

            Path got = tmp.resolve("needle.bin");
            CliRunner.Result read = CliRunner.run("read", "--from", quic, "--volume", "0", "--needle", "42",
                    "--offset", "1000", "--length", "5000", "--out", got.toString(),
                    "--tls-dir", tls.toString(), "--tls-name", "client");
            assertThat(read.exit()).as(read.toString()).isZero();
            assertThat(read.out()).contains("read 5000 bytes of volume 0 needle 42 at offset 1000");
            assertThat(Files.readAllBytes(got)).isEqualTo(java.util.Arrays.copyOfRange(data, 1000, 6000));

            // an operator-placed needle: DIR/volume-V/needle-N
            Files.createDirectories(store.resolve("volume-3"));
            Files.writeString(store.resolve("volume-3").resolve("needle-9"), "hello needle");
            read = CliRunner.run("read", "--from", quic, "--volume", "3", "--needle", "9", "--length", "100",
                    "--tls-dir", tls.toString(), "--tls-name", "client");
            assertThat(read.exit()).as(read.toString()).isZero();
            assertThat(read.out()).contains("read 12 bytes").contains("(end of needle)").contains("CRC32C");

            read = CliRunner.run("read", "--from", quic, "--volume", "3", "--needle", "10", "--length", "100",
                    "--tls-dir", tls.toString(), "--tls-name", "client");
            assertThat(read.exit()).isEqualTo(1);
            assertThat(read.errLines()).hasSize(1);
            assertThat(read.err()).contains("NOT_FOUND");

            HttpClient hc = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> health = hc.send(HttpRequest.newBuilder(URI.create("http://" + http + "/health"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).startsWith("ok\n").contains("node test-server").contains("rdma ");
            HttpResponse<String> metrics = hc.send(HttpRequest.newBuilder(URI.create("http://" + http + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
            String body = metrics.body();
            assertThat(body).contains("# TYPE shardlink_bytes_total counter")
                    .contains("shardlink_read_latency_seconds_bucket{le=\"+Inf\"}")
                    .contains("shardlink_completions_total{status=\"ok\"}");
            long received = 0;
            for (String l : body.split("\n")) {
                if (l.startsWith("shardlink_bytes_total{") && l.contains("direction=\"received\"")) {
                    received += Long.parseLong(l.substring(l.lastIndexOf(' ') + 1));
                }
                // every sample line is "name{labels} value" or "name value"
                if (!l.startsWith("#") && !l.isEmpty()) {
                    assertThat(l).matches("[a-z_]+(\\{[^}]*\\})? [0-9.eE+-]+|[a-z_]+(\\{[^}]*\\})? \\+?Inf");
                }
            }
            assertThat(received).isGreaterThanOrEqualTo(data.length);

            // SIGTERM; Process.destroy() would also close our end of its stdout before the last lines are read
            assertThat(server.toHandle().destroy()).isTrue();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as(log.toString()).isTrue();
            pump.join(5000);
            assertThat(server.exitValue()).as(log.toString()).isZero();
            assertThat(log.toString()).contains("stored shard 42").contains("shardlink serve: stopped");
        } finally {
            if (server.isAlive()) {
                server.destroyForcibly();
            }
        }
    }
}
