package io.shardlink.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.ShardSink;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.testing.TestNodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * At start a node checks its direct memory needs (the pinned-memory budget: chunk pool and RDMA rings) against
 * the JVM's limit (-XX:MaxDirectMemorySize, default -Xmx): it sizes the budget down with a WARNING naming both
 * numbers and the flag, or refuses to start when not even two chunk buffers fit. Before, a node with the default
 * 256 MiB budget in a small JVM died mid-copy with "OutOfMemoryError: Cannot reserve ... direct buffer memory".
 */
class DirectMemoryCheckTest {
    static final long MiB = 1 << 20;

    @Test
    void fitsSizesDownOrRefuses() throws Exception {
        ShardlinkConfig c = TestNodes.config("dmc").build(); // 256 MiB budget, 4 MiB chunks
        assertThat(DirectMemoryCheck.fit(c, 1024 * MiB).warning()).isNull();
        assertThat(DirectMemoryCheck.fit(c, 1024 * MiB).config()).isSameAs(c);

        DirectMemoryCheck.Result small = DirectMemoryCheck.fit(c, 128 * MiB);
        assertThat(small.config().pinnedMemoryBudget()).isEqualTo(96 * MiB);
        assertThat(small.config().numMemoryRegions()).as("window shrinks to fit twice").isEqualTo(12);
        assertThat(small.warning()).contains(String.valueOf(256 * MiB)).contains(String.valueOf(128 * MiB))
                .contains("-XX:MaxDirectMemorySize").contains("dmc");

        assertThatThrownBy(() -> DirectMemoryCheck.fit(c, 20 * MiB)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(String.valueOf(256 * MiB)).hasMessageContaining(String.valueOf(20 * MiB))
                .hasMessageContaining("-XX:MaxDirectMemorySize");
    }

    record Run(int exit, String out) {
        String line(String key) {
            return out.lines().filter(l -> l.startsWith(key + " ")).map(l -> l.substring(key.length() + 1))
                    .findFirst().orElseThrow(() -> new AssertionError("no " + key + " line in:\n" + out));
        }
    }

    static Run child(List<String> jvm, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvm);
        cmd.add("-Dshardlink.native.path=/nonexistent");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DirectMemoryChild.class.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void aNodeInASmallJvmSizesItsBudgetDownWarnsAndCopies(@TempDir Path dir) throws Exception {
        int size = 48 << 20;
        byte[] data = new byte[size];
        new Random(8).nextBytes(data);
        Path file = dir.resolve("shard.bin");
        Files.write(file, data);
        CRC32C want = new CRC32C();
        want.update(data);
        data = null;
        Path[] kc = TestNodes.pki().issue("dm-child");
        CRC32C got = new CRC32C();
        AtomicLong bytes = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        try (ShardlinkNode b = ShardlinkNode.start(TestNodes.config("dm-recv").transportMode(TransportMode.QUIC_ONLY)
                .build())) {
            b.onShardCopy((peer, shard, total) -> new ShardSink() {
                public void onChunk(long offset, ByteBuffer payload) {
                    bytes.addAndGet(payload.remaining());
                    got.update(payload);
                }
                public void onComplete() {
                    done.countDown();
                }
                public void onAbort(Throwable cause) {}
            });
            // -Xmx64m and no -XX:MaxDirectMemorySize: the JVM allows about 64 MiB of direct buffers
            Run r = child(List.of("-Xmx64m"), kc[0].toString(), kc[1].toString(), TestNodes.pki().caPem().toString(),
                    b.localAddress().getAddress().getHostAddress(), String.valueOf(b.localAddress().getPort()),
                    file.toString());
            assertThat(r.exit()).as("child output:\n%s", r.out()).isZero();
            long limit = Long.parseLong(r.line("LIMIT"));
            long budget = Long.parseLong(r.line("BUDGET"));
            assertThat(limit).isBetween(32 * MiB, 64 * MiB);
            assertThat(budget).as("budget sized down below the limit").isLessThanOrEqualTo(limit - 16 * MiB)
                    .isPositive();
            assertThat(r.out()).contains("WARNING").contains("dm-child").contains(String.valueOf(256 * MiB))
                    .contains(String.valueOf(limit)).contains("-XX:MaxDirectMemorySize");
            assertThat(Long.parseLong(r.line("COPIED"))).isEqualTo(size);
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(bytes.get()).isEqualTo(size);
            assertThat(got.getValue()).isEqualTo(want.getValue());
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aNodeThatCannotFitTwoChunksRefusesToStartNamingBothNumbersAndTheFlag(@TempDir Path dir)
            throws IOException, Exception {
        Path[] kc = TestNodes.pki().issue("dm-child");
        Run r = child(List.of("-Xmx64m", "-XX:MaxDirectMemorySize=20m"), kc[0].toString(), kc[1].toString(),
                TestNodes.pki().caPem().toString(), "127.0.0.1", "1", dir.resolve("none").toString());
        assertThat(r.exit()).as("child output:\n%s", r.out()).isEqualTo(3);
        assertThat(r.line("REFUSED")).contains(String.valueOf(256 * MiB)).contains(String.valueOf(20 * MiB))
                .contains("-XX:MaxDirectMemorySize").contains("dm-child");
    }
}
