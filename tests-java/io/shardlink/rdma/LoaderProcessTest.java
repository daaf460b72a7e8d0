package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading paths that need a fresh JVM (a library loads once per process): from the jar resource,
 * with nothing packed, and with libibverbs.so.1 missing. Each runs {@code Rdma.main} in a child
 * JVM and reads what it says.
 */
class LoaderProcessTest {

    record Run(int exit, String out) {
    }

    static Path classesDir() throws Exception {
        return Paths.get(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    static Run run(String classpath, String... props) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx64m");
        cmd.addAll(List.of(props));
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(Rdma.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Path builtLibrary() throws Exception {
        Path lib = classesDir().resolve(NativeLibrary.RESOURCE);
        assumeTrue(Files.isRegularFile(lib), "the native library was not built into " + lib);
        return lib;
    }

    @Test
    void loadsFromTheJarResourceViaAPrivateTempCopy(@TempDir Path work) throws Exception {
        builtLibrary();
        Run r = run(classesDir().toString(), "-Dshardlink.native.workdir=" + work);
        assertThat(r.out()).contains("native library: jar:");
        if (NativeLibraryTest.kernelWithoutRdma()) {
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.out()).contains("this kernel has no RDMA support").contains("cause: NO_KERNEL_SUPPORT");
        }
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left).as("the extracted copy is deleted after loading").isEmpty();
        }
    }

    @Test
    void nothingPackedSaysHowToBuild(@TempDir Path work) throws Exception {
        // only this package's classes: no META-INF/native resource
        Path pkg = classesDir().resolve("io/shardlink/rdma");
        Path copy = Files.createDirectories(work.resolve("classes/io/shardlink/rdma"));
        try (Stream<Path> files = Files.list(pkg)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Run r = run(work.resolve("classes").toString(), "-Dshardlink.native.path=" + work.resolve("missing.so"));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).startsWith("RDMA unavailable: native library not built: install libibverbs-dev and rebuild")
                .contains("cause: NATIVE_LIBRARY_NOT_BUILT").contains("native library: not loaded")
                .doesNotContain("UnsatisfiedLinkError").doesNotContain("Exception");
    }

    @Test
    void missingLibibverbsSaysWhatToInstall(@TempDir Path work) throws Exception {
        // the same library, except that it needs libibverbs.so.9, which no system has
        byte[] elf = Files.readAllBytes(builtLibrary());
        byte[] needle = "libibverbs.so.1\0".getBytes(StandardCharsets.US_ASCII);
        int at = indexOf(elf, needle);
        assumeTrue(at >= 0, "DT_NEEDED libibverbs.so.1 not found in the library");
        elf[at + needle.length - 2] = '9';
        Path patched = work.resolve("libshardlink_jni.so");
        Files.write(patched, elf);
        Run r = run(classesDir().toString(), "-Dshardlink.native.path=" + patched);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).startsWith("RDMA unavailable: libibverbs.so.1 not found: install rdma-core "
                + "(apt-get install rdma-core ibverbs-providers); using QUIC")
                .contains("cause: VERBS_LIBRARY_MISSING").doesNotContain("Exception in thread");
    }

    @Test
    void aFileThatIsNotALibraryIsReportedNotThrown(@TempDir Path work) throws Exception {
        Path junk = Files.writeString(work.resolve("libshardlink_jni.so"), "not an ELF file");
        Run r = run(classesDir().toString(), "-Dshardlink.native.path=" + work);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("RDMA unavailable: cannot load " + junk).contains("cause: NATIVE_LIBRARY_BROKEN")
                .doesNotContain("Exception in thread");
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
