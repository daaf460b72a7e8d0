package io.shardlink.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** copy, read, serve and bench take the same TLS and connect options from one mixin each, with one meaning. */
class CliMixinsTest {
    private static final String[] COMMANDS = {"copy", "read", "serve", "bench"};

    @Test
    void everyNodeCommandHasTheSameTlsAndConnectOptions() {
        CommandLine root = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        for (String name : COMMANDS) {
            CommandLine.Model.CommandSpec spec = root.getSubcommands().get(name).getCommandSpec();
            assertThat(spec.mixins()).as(name).containsKeys("tls");
            for (String opt : new String[] {"--tls-dir", "--tls-name", "--cert", "--key", "--trust", "--device",
                    "--gid-index", "--udp-payload", "--connect-timeout", "--verbose"}) {
                assertThat(spec.findOption(opt)).as(name + " " + opt).isNotNull();
            }
            // one description per option across commands: they come from the same mixin
            assertThat(spec.findOption("--connect-timeout").description())
                    .isEqualTo(root.getSubcommands().get("copy").getCommandSpec().findOption("--connect-timeout")
                            .description());
        }
    }

    @Test
    void theOptionsMeanTheSameInEveryCommand(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "x");
        Files.writeString(dir.resolve("n1.crt.pem"), "x");
        Files.writeString(dir.resolve("n1.key.pem"), "x");
        List<String> common = List.of("--tls-dir", dir.toString(), "--tls-name", "n1", "--device", "rxe7",
                "--gid-index", "3", "--udp-payload", "1400", "--connect-timeout", "45");
        for (String name : COMMANDS) {
            CommandLine root = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
            List<String> args = new ArrayList<>(List.of(name));
            args.addAll(common);
            args.addAll(switch (name) {
                case "copy" -> List.of("f", "--to", "127.0.0.1:1", "--shard", "1");
                case "read" -> List.of("--from", "127.0.0.1:1", "--volume", "1", "--needle", "1", "--length", "1");
                case "serve" -> List.of("--dir", dir.toString());
                default -> List.of();
            });
            CommandLine.ParseResult parsed = root.parseArgs(args.toArray(String[]::new));
            CommandLine.Model.CommandSpec spec = parsed.subcommand().commandSpec();
            ShardlinkConfig.Builder b = ShardlinkConfig.builder();
            TlsOptions tls = (TlsOptions) spec.mixins().get("tls").userObject();
            boolean bench = spec.userObject() instanceof BenchCommand;
            if (bench) {
                ((ConnectOptions) spec.mixins().get("connectOptions").userObject()).apply(b);
            } else {
                ((NodeOptions) spec.mixins().get("node").userObject()).apply(b);
            }
            ShardlinkConfig c = tls.apply(b).build();
            assertThat(c.device()).as(name).isEqualTo("rxe7");
            assertThat(c.gidIndex()).as(name).isEqualTo(3);
            assertThat(c.quicUdpPayloadSize()).as(name).isEqualTo(1400);
            assertThat(c.connectTimeout()).as(name).isEqualTo(Duration.ofSeconds(45));
            assertThat(c.requestTimeout()).as(name).isEqualTo(Duration.ofSeconds(45));
            assertThat(c.certChainPem()).as(name).isEqualTo(dir.resolve("n1.crt.pem"));
            assertThat(c.privateKeyPem()).as(name).isEqualTo(dir.resolve("n1.key.pem"));
            assertThat(c.trustCertsPem()).as(name).isEqualTo(ca);
            if (!bench) {
                assertThat(c.transportMode()).as(name).isEqualTo(TransportMode.AUTO);
            }
        }
    }
}
