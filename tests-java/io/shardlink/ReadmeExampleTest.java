package io.shardlink;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's API example is code, not prose: this test cuts it out of README.md, compiles it against
 * the current classes and runs it, so the example cannot drift from the API.
 */
class ReadmeExampleTest {
    private static final Pattern EXAMPLE =
            Pattern.compile("```java\\n(// README example:.*?)```", Pattern.DOTALL);

    @Test
    void readmeExampleCompilesAndRuns(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = EXAMPLE.matcher(readme);
        assertThat(m.find()).as("README.md has a ```java block starting with '// README example:'").isTrue();
        Path src = tmp.resolve("src/Example.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, m.group(1));

        Path classes = Files.createDirectories(tmp.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-d", classes.toString(),
                "-cp", System.getProperty("java.class.path"), src.toString());
        assertThat(rc).as("javac output:\n%s", diagnostics.toString(StandardCharsets.UTF_8)).isZero();

        // the PKI layout `bin/shardlink certs` writes and the example expects: ca.pem, NODE.crt.pem, NODE.key.pem
        Path pkiDir = Files.createDirectories(tmp.resolve("pki"));
        TestPki pki = new TestPki("readme", tmp.resolve("pki-src"));
        Files.copy(pki.caPem(), pkiDir.resolve("ca.pem"));
        for (String node : List.of("source", "target")) {
            Path[] kc = pki.issue(node);
            Files.copy(kc[0], pkiDir.resolve(node + ".crt.pem"));
            Files.copy(kc[1], pkiDir.resolve(node + ".key.pem"));
        }
        Path shards = Files.createDirectories(tmp.resolve("shards"));

        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            Method main = loader.loadClass("Example").getMethod("main", String[].class);
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[] {pkiDir.toString(), shards.toString()});
        } finally {
            System.setOut(saved);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        saved.print(printed);
        // on this host there is no RDMA: the example must say QUIC did the work, and the state why
        assertThat(printed).contains("copied 8388608 bytes over [QUIC] (peer UNAVAILABLE); read 4096 bytes over QUIC");
        Path received = shards.resolve("shard-42");
        assertThat(received).exists();
        assertThat(Files.size(received)).isEqualTo(8L << 20);
        byte[] bytes = Files.readAllBytes(received);
        for (byte b : bytes) {
            if (b != 0) {
                throw new AssertionError("the received shard should be all zeros (a fresh direct buffer)");
            }
        }
    }
}
