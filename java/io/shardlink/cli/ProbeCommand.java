package io.shardlink.cli;

import io.shardlink.config.ShardlinkConfig;
import io.shardlink.rdma.DeviceInfo;
import io.shardlink.rdma.DeviceLimits;
import io.shardlink.rdma.MemlockLimit;
import io.shardlink.rdma.NativeLibrary;
import io.shardlink.rdma.PortAttributes;
import io.shardlink.rdma.RdmaAvailability;
import io.shardlink.rdma.RdmaDevice;
import io.shardlink.rdma.RdmaException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Lists RDMA devices, ports, GIDs, limits and the memlock limit, and says in plain words whether RDMA is usable. */
@Command(name = "probe", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Show RDMA devices and limits, and whether RDMA is usable here.",
        "Lists RDMA devices (ports, states, MTU, GIDs, limits) and the memlock limit, and says "
                + "whether RDMA is usable here and, if not, why. Exit 0 (with --check: 1 when RDMA is not "
                + "usable)."})
public final class ProbeCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--device", paramLabel = "NAME", defaultValue = "auto",
            description = "Device to judge usability for (default: ${DEFAULT-VALUE}).")
    String device = "auto";

    @Option(names = "--port", paramLabel = "N", defaultValue = "1", description = "RDMA port (default 1).")
    int port = 1;

    @Option(names = "--check", description = "Exit 1 when RDMA is not usable.")
    boolean check;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        RdmaAvailability lib = NativeLibrary.status();
        out.println("native library: " + (NativeLibrary.isLoaded() ? "loaded from " + NativeLibrary.loadedFrom()
                : "not loaded (" + lib.reason() + ")"));
        if (NativeLibrary.isLoaded()) {
            listDevices(out);
        }
        out.println("memlock limit: " + memlock() + " (a node pins up to "
                + Units.bytes(ShardlinkConfig.DEFAULT_PINNED_MEMORY_BUDGET) + " by default)");
        RdmaAvailability a = RdmaStatus.hostAvailability(device, port);
        if (a == null) {
            out.println("RDMA: NOT usable here: the availability probe failed");
            out.flush();
            return check ? 1 : 0;
        }
        if (a.available()) {
            out.println("RDMA: usable here: " + a.reason());
        } else {
            out.println("RDMA: NOT usable here: " + plainWords(a));
            out.println("  (" + a.cause() + ": " + a.reason() + ")");
        }
        out.flush();
        return check && !a.available() ? 1 : 0;
    }

    private static void listDevices(PrintWriter out) {
        List<DeviceInfo> devices;
        try {
            devices = RdmaDevice.list();
        } catch (RdmaException e) {
            out.println("RDMA devices: none (" + e.getMessage() + ")");
            return;
        }
        if (devices.isEmpty()) {
            out.println("RDMA devices: none");
            return;
        }
        out.println("RDMA devices: " + devices.size());
        for (DeviceInfo d : devices) {
            out.printf(Locale.ROOT, "  %s: node GUID %016x, %d port(s), transport %s%n", d.name(), d.nodeGuid(),
                    d.numPorts(), d.transport() == 0 ? "InfiniBand/RoCE" : d.transport() == 1 ? "iWARP"
                            : "type " + d.transport());
            for (int p = 1; p <= Math.max(1, d.numPorts()); p++) {
                try (RdmaDevice dev = RdmaDevice.open(d.name(), p)) {
                    PortAttributes pa = dev.portAttributes();
                    out.printf(Locale.ROOT, "    port %d: %s, link %s, MTU active %d / max %d, LID %d, max message %s%n",
                            p, pa.state(), pa.linkLayerName(), pa.activeMtu(), pa.maxMtu(), pa.lid(),
                            Units.bytes(pa.maxMessageSize()));
                    List<String> gids = new ArrayList<>();
                    for (int i = 0; i < Math.min(pa.gidTableLength(), 16); i++) {
                        try {
                            byte[] g = dev.gid(i);
                            if (!allZero(g)) {
                                gids.add("[" + i + "] " + gidString(g));
                            }
                        } catch (RdmaException | RuntimeException e) {
                            // empty slot
                        }
                    }
                    out.println("    GIDs: " + (gids.isEmpty() ? "none" : String.join(", ", gids)));
                    if (p == 1) {
                        DeviceLimits l = dev.limits();
                        out.printf(Locale.ROOT, "    limits: max_qp %d, max_qp_wr %d, max_sge %d, max_cq %d, max_cqe %d, "
                                        + "max_mr %d, max_mr_size %s, max_pd %d, max_qp_rd_atom %d%n", l.maxQp(),
                                l.maxQpWr(), l.maxSge(), l.maxCq(), l.maxCqe(), l.maxMr(),
                                l.maxMrSize() < 0 ? "2^64-1" : Units.bytes(l.maxMrSize()), l.maxPd(), l.maxQpRdAtom());
                    }
                } catch (RdmaException | RuntimeException e) {
                    out.println("    port " + p + ": cannot open: " + e.getMessage());
                }
            }
        }
    }

    private static boolean allZero(byte[] g) {
        for (byte b : g) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    static String gidString(byte[] g) {
        try {
            InetAddress a = InetAddress.getByAddress(g);
            String s = a.getHostAddress();
            return a instanceof Inet6Address ? s.replaceAll("%.*$", "").replaceFirst("(^|:)0(:0)+(:|$)", "::") : s;
        } catch (IOException e) {
            StringBuilder sb = new StringBuilder();
            for (byte b : g) {
                sb.append(String.format("%02x", b));
            }
            return sb.toString();
        }
    }

    private static String memlock() {
        try {
            if (NativeLibrary.isLoaded()) {
                MemlockLimit m = RdmaDevice.memlockLimit();
                return "soft " + fmt(m.soft()) + ", hard " + fmt(m.hard());
            }
        } catch (RdmaException | RuntimeException e) {
            // fall back to /proc
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max locked memory")) {
                    String[] f = line.substring("Max locked memory".length()).trim().split("\\s+");
                    return "soft " + procValue(f[0]) + ", hard " + procValue(f[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return "unknown";
    }

    private static String procValue(String v) {
        return v.equals("unlimited") ? v : fmt(Long.parseLong(v));
    }

    private static String fmt(long v) {
        return v == MemlockLimit.UNLIMITED ? "unlimited" : Units.bytes(v);
    }

    /** The reason in plain words, with what to do about it. */
    static String plainWords(RdmaAvailability a) {
        return switch (a.cause()) {
            case NO_KERNEL_SUPPORT -> "this kernel has no RDMA support (ENOSYS): the running kernel was built without "
                    + "InfiniBand/RDMA (CONFIG_INFINIBAND) or has no RDMA modules; run on a kernel with RDMA "
                    + "(e.g. modprobe rdma_rxe for Soft-RoCE). Data goes over QUIC.";
            case NATIVE_LIBRARY_NOT_BUILT -> "shardlink's native library was not built (install libibverbs-dev and "
                    + "cmake, then rebuild). Data goes over QUIC.";
            case NATIVE_LIBRARY_BROKEN -> "shardlink's native library cannot be loaded or does not match this "
                    + "build; rebuild it. Data goes over QUIC.";
            case VERBS_LIBRARY_MISSING -> "libibverbs (rdma-core) is not installed (apt-get install ibverbs-providers "
                    + "libibverbs1). Data goes over QUIC.";
            case UNSUPPORTED_PLATFORM -> "no native library for this OS/CPU (only linux-x86_64 is built). Data goes "
                    + "over QUIC.";
            case NO_DEVICE -> "no RDMA device" + (a.device() != null ? " named " + a.device() : "")
                    + " (load a driver; for Soft-RoCE: modprobe rdma_rxe && rdma link add rxe0 type rxe netdev "
                    + "IFACE). Data goes over QUIC.";
            case PORT_NOT_ACTIVE -> "no ACTIVE RDMA port (bring the link up). Data goes over QUIC.";
            case MEMLOCK_TOO_LOW -> "the memlock limit is too low to pin shardlink's buffers (raise ulimit -l). "
                    + "Data goes over QUIC.";
            case DEVICE_ERROR -> "the RDMA device failed when probed. Data goes over QUIC.";
            case AVAILABLE -> "RDMA is usable";
        };
    }
}
