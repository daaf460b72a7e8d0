package io.shardlink.cli;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import io.shardlink.logging.LogFields;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code shardlink}: the operator CLI. Subcommands: demo (default), probe, serve, copy, read, bench, certs.
 * Errors are one line on stderr and a non-zero exit (2 for usage errors, 1 otherwise); {@code --verbose}
 * adds the stack trace.
 */
@Command(name = "shardlink", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"RDMA transport for JVM storage servers, with a QUIC fallback.",
                "Without a subcommand, runs 'demo'."},
        subcommands = {DemoCommand.class, ProbeCommand.class, ServeCommand.class, CopyCommand.class,
                ReadCommand.class, BenchCommand.class, CertsCommand.class, RawBenchCommand.class,
                VolumesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
    /** Set by {@code --verbose} on any command. */
    static volatile boolean verbose;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() throws Exception {
        return new DemoCommand().call();
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this in-process). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int run(PrintWriter out, PrintWriter err, String... args) {
        configureLogging();
        verbose = false;
        CliLog.reset(args);
        CommandLine cl = commandLine(out, err);
        return cl.execute(args);
    }

    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            String name = c.getCommandSpec().qualifiedName();
            CliLog.line(c.getErr(), Level.SEVERE, "io.shardlink.cli", name + ": " + ex.getMessage() + " (see '" + name
                    + " --help')", ex.getMessage(), LogFields.of(null, null).with("event", "usage_error")
                    .with("command", name));
            if (verbose) {
                CliLog.stackTrace(c.getErr(), ex);
            }
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            String name = c.getCommandSpec().qualifiedName();
            Throwable t = Errors.unwrap(ex);
            CliLog.line(c.getErr(), Level.SEVERE, "io.shardlink.cli", name + ": " + Errors.describe(t),
                    Errors.describe(t), LogFields.of(null, null).with("event", "error").with("command", name)
                            .with("exit", t instanceof CliException ce ? ce.exitCode() : 1));
            if (verbose) {
                CliLog.stackTrace(c.getErr(), ex);
            }
            c.getErr().flush();
            return t instanceof CliException ce ? ce.exitCode() : 1;
        });
        return cl;
    }

    private static volatile boolean loggingConfigured;

    /** Netty logs through java.util.logging (not SLF4J, which has no provider here); warnings and up only. */
    static void configureLogging() {
        if (!loggingConfigured) {
            loggingConfigured = true;
            if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
                System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s: %5$s%6$s%n");
            }
            InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        }
        Logger.getLogger("").setLevel(Level.WARNING); // every run starts quiet (an earlier --verbose run may not)
    }

    /** Back to text lines on the root logger's handlers (after an in-process run with --log-format json). */
    static void textLogging() {
        for (var h : Logger.getLogger("").getHandlers()) {
            h.setFormatter(new java.util.logging.SimpleFormatter());
        }
    }

    static void setVerbose(boolean v) {
        verbose = v;
        if (v) {
            Logger root = Logger.getLogger("");
            root.setLevel(Level.INFO);
            for (var h : root.getHandlers()) {
                h.setLevel(Level.INFO);
            }
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"shardlink " + (v != null ? v : "0.1.0-SNAPSHOT"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
