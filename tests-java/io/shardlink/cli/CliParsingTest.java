package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.rdma.Rdma;
import io.shardlink.rdma.RdmaAvailability;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Path;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliParsingTest {
    @Test
    void unknownFlagIsOneLineAndExit2() {
        CliRunner.Result r = CliRunner.run("demo", "--bogus");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).contains("Unknown option: '--bogus'").contains("shardlink demo");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void unknownSubcommandAndBadValuesAreOneLine() {
        CliRunner.Result r = CliRunner.run("frobnicate");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);

        r = CliRunner.run("demo", "--size", "lots");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).contains("'lots' is not a size");

        r = CliRunner.run("read", "--from", "127.0.0.1:notaport", "--volume", "1", "--needle", "1", "--length", "1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).contains("is not an address");

        r = CliRunner.run("copy", "--to", "127.0.0.1:1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).contains("Missing required");
    }

    @Test
    void runtimeErrorIsOneLineWithoutStackTraceUnlessVerbose(@TempDir Path dir) {
        CliRunner.Result r = CliRunner.run("copy", dir.resolve("missing").toString(), "--to", "127.0.0.1:9",
                "--shard", "1");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).startsWith("shardlink copy: ").doesNotContain("\tat ");

        r = CliRunner.run("copy", dir.resolve("missing").toString(), "--to", "127.0.0.1:9", "--shard", "1", "--verbose");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("\tat ");
    }

    @Test
    void serveWithoutTlsSaysHowToMakeCertificates(@TempDir Path dir) {
        CliRunner.Result r = CliRunner.run("serve", "--listen", "127.0.0.1:0", "--dir", dir.toString());
        if (System.getenv("SHARDLINK_TLS_DIR") == null) {
            assertThat(r.exit()).as(r.toString()).isEqualTo(2);
            assertThat(r.errLines()).hasSize(1);
            assertThat(r.err()).contains("shardlink certs --dir");
        }
    }

    @Test
    void sizesAndAddresses() {
        assertThat(Units.parseSize("4096")).isEqualTo(4096);
        assertThat(Units.parseSize("4k")).isEqualTo(4096);
        assertThat(Units.parseSize("16m")).isEqualTo(16L << 20);
        assertThat(Units.parseSize("16MiB")).isEqualTo(16L << 20);
        assertThat(Units.parseSize("1G")).isEqualTo(1L << 30);
        assertThatThrownBy(() -> Units.parseSize("-1")).hasMessageContaining("not a size");
        assertThat(Units.parseAddress("127.0.0.1:7400").getPort()).isEqualTo(7400);
        assertThat(Units.parseAddress("[::1]:7400").getAddress().getHostAddress()).contains(":");
        assertThat(Units.parseAddress(":7400").getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    }

    @Test
    void linkLocalAddressesKeepTheirScope() throws Exception {
        // numeric scope: no interface lookup, so it parses on any machine
        InetSocketAddress n = Units.parseAddress("[fe80::1%1]:7400");
        assertThat(((Inet6Address) n.getAddress()).getScopeId()).isEqualTo(1);
        assertThat(Units.hostPort(n)).isEqualTo("[fe80:0:0:0:0:0:0:1%1]:7400");
        assertThat(Units.parseAddress(Units.hostPort(n))).isEqualTo(n);
        assertThatThrownBy(() -> Units.parseAddress("[fe80::1%no-such-if0]:7400"))
                .hasMessageContaining("no interface 'no-such-if0' with an IPv6 link-local address");
        // a named scope (what ci/rxe-pair.sh's guests use: fe80::...%plain0), through an interface that has one
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                if (a instanceof Inet6Address && a.isLinkLocalAddress()) {
                    String text = "[fe80::1234%" + ni.getName() + "]:7400";
                    InetSocketAddress s = Units.parseAddress(text);
                    assertThat(((Inet6Address) s.getAddress()).getScopedInterface()).isEqualTo(ni);
                    assertThat(Units.parseAddress(Units.hostPort(s))).isEqualTo(s);
                    return;
                }
            }
        }
    }

    @Test
    void probeSaysWhyRdmaIsOrIsNotUsable() {
        CliRunner.Result r = CliRunner.run("probe");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("native library:").contains("memlock limit:").contains("RDMA: ");
        RdmaAvailability a = Rdma.availability();
        if (a.cause() == RdmaAvailability.Cause.NO_KERNEL_SUPPORT) {
            assertThat(r.out()).contains("RDMA: NOT usable here: this kernel has no RDMA support (ENOSYS)");
            assertThat(CliRunner.run("probe", "--check").exit()).isEqualTo(1);
        } else if (a.available()) {
            assertThat(r.out()).contains("RDMA: usable here").contains("RDMA devices:").contains("GIDs:");
        } else {
            assertThat(r.out()).contains("RDMA: NOT usable here");
        }
    }

    @Test
    void helpListsEveryCommand() {
        CliRunner.Result r = CliRunner.run("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("demo", "probe", "serve", "copy", "read", "bench", "certs");
        for (String c : new String[] {"demo", "probe", "serve", "copy", "read", "bench", "certs"}) {
            CliRunner.Result h = CliRunner.run(c, "--help");
            assertThat(h.exit()).as(c + " --help: " + h).isZero();
            assertThat(h.out()).startsWith("Usage: shardlink " + c);
        }
    }
}
