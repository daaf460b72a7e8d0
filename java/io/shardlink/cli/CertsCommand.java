package io.shardlink.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Makes a CA (once) and node certificates for mutual TLS between shardlink processes. */
@Command(name = "certs", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Make a CA and node certificates for mutual TLS.",
        "Makes a CA in DIR (ca.pem, ca.key.pem) unless one is there, and issues node certificates "
                + "(NAME.crt.pem, NAME.key.pem) signed by it. Every node given --tls-dir DIR trusts every "
                + "other. Copy ca.pem and a node's NAME.* files to each host; keep ca.key.pem away from the "
                + "nodes."})
public final class CertsCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--dir", paramLabel = "DIR", required = true, description = "Where the CA and certificates go.")
    Path dir;

    @Option(names = "--name", paramLabel = "NAME", split = ",", defaultValue = "node",
            description = "Node identities to issue (comma-separated; default: ${DEFAULT-VALUE}).")
    List<String> names = new ArrayList<>(List.of("node"));

    @Option(names = "--san", paramLabel = "HOST|IP", split = ",",
            description = "Extra subject alternative names (besides localhost, 127.0.0.1, ::1 and this host's name).")
    List<String> sans = new ArrayList<>();

    @Option(names = "--days", paramLabel = "N", defaultValue = "365", description = "Validity in days (default 365).")
    int days = 365;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (days < 1) {
            throw new CliException("--days must be at least 1", 2, null);
        }
        boolean existed = Files.exists(dir.resolve(Pki.CA_CERT));
        Pki pki = Pki.openOrCreate(dir, "shardlink CA", days);
        out.println((existed ? "using CA " : "created CA ") + pki.caPem());
        for (String n : names) {
            Path[] kc = pki.issue(n, sans);
            out.println("issued " + n + ": " + kc[0] + " " + kc[1]);
        }
        out.println("use: shardlink serve|copy|read --tls-dir " + dir
                + (names.size() == 1 && names.get(0).equals("node") ? "" : " --tls-name NAME"));
        out.flush();
        return 0;
    }
}
