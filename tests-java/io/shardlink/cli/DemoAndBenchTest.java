package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DemoAndBenchTest {
    @Test
    void demoCopiesVerifiesAndReads() {
        CliRunner.Result r = CliRunner.run("demo", "--size", "16m", "--reads", "300");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("transport: ").contains("verified (CRC32C").contains("reads: 300 x 4.0 KiB")
                .contains("all verified").contains("p50").contains("p99").contains("demo OK");
        assertThat(r.out()).containsPattern("copy: 16\\.0 MiB in [0-9.]+ s = [0-9.]+ MB/s over (QUIC|RDMA)");
        if (!r.out().contains("over RDMA")) {
            assertThat(r.out()).contains("RDMA");
        }
    }

    static final List<String> FIELDS = List.of("transport", "op", "size", "count", "bytes", "seconds", "mb_per_s",
            "p50_us", "p99_us", "p999_us", "depth", "ops_per_s");
    private static final Pattern PAIR = Pattern.compile("\"([a-z0-9_]+)\":(\"[^\"]*\"|-?[0-9.eE+-]+)");

    /** Parses one flat JSON object of strings and numbers (what bench --json prints). */
    static Map<String, String> parse(String line) {
        assertThat(line).startsWith("{").endsWith("}");
        Map<String, String> m = new LinkedHashMap<>();
        Matcher x = PAIR.matcher(line);
        int end = 1;
        while (x.find()) {
            assertThat(x.start()).isEqualTo(end);
            m.put(x.group(1), x.group(2).replace("\"", ""));
            end = x.end() + 1;
        }
        assertThat(end).isEqualTo(line.length());
        return m;
    }

    @Test
    void benchJsonLinesCarryAllFields() {
        CliRunner.Result r = CliRunner.run("bench", "--json", "--transport", "quic", "--size", "8m", "--repeat", "2",
                "--reads", "200", "--read-size", "4k");
        assertThat(r.exit()).as(r.toString()).isZero();
        List<Map<String, String>> cases = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            Map<String, String> m = parse(line.strip());
            assertThat(m.keySet()).containsExactlyElementsOf(FIELDS);
            cases.add(m);
        }
        assertThat(cases).hasSize(2);
        Map<String, String> copy = cases.get(0);
        assertThat(copy.get("transport")).isEqualTo("quic");
        assertThat(copy.get("op")).isEqualTo("copy");
        assertThat(Long.parseLong(copy.get("size"))).isEqualTo(8L << 20);
        assertThat(Long.parseLong(copy.get("count"))).isEqualTo(2);
        assertThat(Long.parseLong(copy.get("bytes"))).isEqualTo(16L << 20);
        assertThat(Double.parseDouble(copy.get("mb_per_s"))).isPositive();
        Map<String, String> read = cases.get(1);
        assertThat(read.get("op")).isEqualTo("read");
        assertThat(Long.parseLong(read.get("count"))).isEqualTo(200);
        assertThat(Long.parseLong(read.get("size"))).isEqualTo(4096);
        double p50 = Double.parseDouble(read.get("p50_us"));
        double p99 = Double.parseDouble(read.get("p99_us"));
        double p999 = Double.parseDouble(read.get("p999_us"));
        assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
        assertThat(p99).isLessThanOrEqualTo(p999);
    }

    @Test
    void benchRdmaOnlyFailsClearlyWithoutRdma() {
        var a = io.shardlink.rdma.Rdma.availability();
        org.junit.jupiter.api.Assumptions.assumeFalse(a.available(), "RDMA is available here");
        CliRunner.Result r = CliRunner.run("bench", "--json", "--transport", "rdma", "--size", "1m", "--reads", "10");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).contains("RDMA unavailable");
        assertThat(r.out()).isEmpty();
    }
}
