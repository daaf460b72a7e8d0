package io.shardlink.rdma;

import java.util.List;
import java.util.Objects;
import java.util.StringJoiner;

import io.shardlink.rdma.RdmaAvailability.Cause;

/**
 * Entry point: can RDMA be used here? {@link #availability(String, int, long)} loads the native
 * library (tolerantly), lists devices, opens the one asked for, checks its port is ACTIVE and
 * that RLIMIT_MEMLOCK covers the memory the caller means to pin, and closes it again. It never
 * throws for a missing library, kernel support, device or permission: it says why, so the caller
 * can log the reason and fall back to QUIC.
 */
public final class Rdma {
    /** errno ENOSYS: ibv_get_device_list on a kernel without RDMA support. */
    static final int ENOSYS = 38;

    private Rdma() {
    }

    /** {@code availability("auto", 1, 0)}. */
    public static RdmaAvailability availability() {
        return availability(RdmaDevice.AUTO, 1, 0);
    }

    /** {@code availability(device, port, 0)}: no memlock requirement. */
    public static RdmaAvailability availability(String device, int port) {
        return availability(device, port, 0);
    }

    /**
     * Whether {@code device} ("auto" for the first device with an ACTIVE {@code port}) can carry
     * traffic through {@code port}, with {@code pinnedBudgetBytes} of registered memory.
     */
    public static RdmaAvailability availability(String device, int port, long pinnedBudgetBytes) {
        Objects.requireNonNull(device, "device");
        RdmaDevice.checkPort(port);
        RdmaAvailability lib = NativeLibrary.status();
        if (!lib.available()) {
            return lib.withTarget(device.equals(RdmaDevice.AUTO) ? null : device, port);
        }
        try {
            return probe(device, port, pinnedBudgetBytes);
        } catch (RdmaException e) {
            return RdmaAvailability.down(Cause.DEVICE_ERROR, "RDMA unavailable: " + e.getMessage() + "; using QUIC",
                    device.equals(RdmaDevice.AUTO) ? null : device, port);
        } catch (RuntimeException e) {
            return RdmaAvailability.down(Cause.DEVICE_ERROR, "RDMA unavailable: unexpected failure probing "
                    + device + " port " + port + " (" + e + "); using QUIC",
                    device.equals(RdmaDevice.AUTO) ? null : device, port);
        }
    }

    /**
     * Diagnostic: {@code java -cp shardlink.jar io.shardlink.rdma.Rdma [DEVICE [PORT [PINNED_BYTES]]]}
     * prints whether RDMA is available and why, and where the native library came from; exits 0
     * if available, 1 if not.
     */
    public static void main(String[] args) {
        String device = args.length > 0 ? args[0] : RdmaDevice.AUTO;
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        long budget = args.length > 2 ? Long.parseLong(args[2]) : 0;
        RdmaAvailability a = availability(device, port, budget);
        System.out.println(a.reason());
        System.out.println("cause: " + a.cause());
        System.out.println("native library: " + (NativeLibrary.isLoaded() ? NativeLibrary.loadedFrom() : "not loaded"));
        System.exit(a.available() ? 0 : 1);
    }

    private static RdmaAvailability probe(String device, int port, long budget) throws RdmaException {
        boolean auto = device.equals(RdmaDevice.AUTO);
        String target = auto ? null : device;
        List<DeviceInfo> devices;
        try {
            devices = RdmaDevice.list();
        } catch (RdmaException e) {
            if (e.errno() == ENOSYS) {
                return RdmaAvailability.down(Cause.NO_KERNEL_SUPPORT,
                        "RDMA unavailable: this kernel has no RDMA support (ibv_get_device_list: Function not "
                                + "implemented, errno " + ENOSYS + "); using QUIC",
                        target, port);
            }
            return RdmaAvailability.down(Cause.NO_DEVICE, "RDMA unavailable: cannot list RDMA devices ("
                    + e.getMessage() + "); using QUIC", target, port);
        }
        if (devices.isEmpty()) {
            return RdmaAvailability.down(Cause.NO_DEVICE, "RDMA unavailable: no RDMA devices (load the driver and "
                    + "install ibverbs-providers; for Soft-RoCE: modprobe rdma_rxe && rdma link add rxe0 type rxe "
                    + "netdev <interface>); using QUIC", target, port);
        }
        StringJoiner names = new StringJoiner(", ");
        boolean found = auto;
        for (DeviceInfo d : devices) {
            names.add(d.name());
            found |= d.name().equals(device);
        }
        if (!found) {
            return RdmaAvailability.down(Cause.NO_DEVICE, "RDMA unavailable: no RDMA device named '" + device
                    + "' (found: " + names + "); using QUIC", target, port);
        }
        RdmaDevice dev;
        try {
            dev = RdmaDevice.open(device, port);
        } catch (RdmaException e) {
            if (auto && e.status() == RdmaException.ENODEV) {
                return RdmaAvailability.down(Cause.PORT_NOT_ACTIVE, "RDMA unavailable: no RDMA device (of " + names
                        + ") has port " + port + " ACTIVE (" + e.getMessage() + "): bring a link up; using QUIC",
                        null, port);
            }
            return RdmaAvailability.down(Cause.DEVICE_ERROR, "RDMA unavailable: cannot open " + device + " port "
                    + port + " (" + e.getMessage() + "); using QUIC", target, port);
        }
        try {
            String name = dev.name();
            PortAttributes attrs = dev.portAttributes();
            if (!attrs.isActive()) {
                return RdmaAvailability.down(Cause.PORT_NOT_ACTIVE, "RDMA unavailable: " + name + " port " + port
                        + " is " + attrs.state() + ", not ACTIVE: bring its link up (ip link set <netdev> up; "
                        + "on InfiniBand check the cable and the subnet manager); using QUIC", name, port);
            }
            if (budget > 0) {
                MemlockLimit limit = RdmaDevice.memlockLimit();
                if (!limit.allows(budget)) {
                    return RdmaAvailability.down(Cause.MEMLOCK_TOO_LOW, "RDMA unavailable: the memlock limit ("
                            + MemlockLimit.format(limit.soft()) + ", hard " + MemlockLimit.format(limit.hard())
                            + ") is below the pinned-memory budget of " + MemlockLimit.format(budget)
                            + ": raise it (ulimit -l, LimitMEMLOCK= in the systemd unit, or memlock in "
                            + "/etc/security/limits.conf) or lower the budget; using QUIC", name, port);
                }
            }
            return RdmaAvailability.up(name, port, "RDMA available: " + name + " port " + port + " ACTIVE ("
                    + attrs.linkLayerName() + ", active MTU " + attrs.activeMtu() + ")");
        } finally {
            try {
                dev.close();
            } catch (RuntimeException ignored) {
                // a probe must not fail on cleanup
            }
        }
    }
}
