package io.shardlink.rdma;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An open RDMA device and the port it is used through (native: native/jni/jni_device.c).
 *
 * <pre>{@code
 * try (RdmaDevice dev = RdmaDevice.open("auto", 1);
 *      ProtectionDomain pd = ProtectionDomain.create(dev);
 *      CompletionQueue cq = CompletionQueue.create(dev, 256)) { ... }
 * }</pre>
 *
 * Closing a device that still has protection domains or completion queues throws
 * IllegalStateException and leaves it open.
 */
public final class RdmaDevice extends NativeObject {
    /** Device name meaning "the first device whose port is ACTIVE". */
    public static final String AUTO = "auto";

    private final String name;
    private final int port;

    private RdmaDevice(long handle, String name, int port) {
        super(handle, "RdmaDevice");
        this.name = name;
        this.port = port;
    }

    /**
     * Opens a device by name, or {@link #AUTO} for the first one whose {@code port} is ACTIVE.
     *
     * @throws RdmaException SL_ENODEV with a reason when there is none (or the native library is
     *         not available: {@link Rdma#availability(String, int)} says why, without throwing)
     */
    public static RdmaDevice open(String name, int port) throws RdmaException {
        Objects.requireNonNull(name, "name");
        checkPort(port);
        NativeLibrary.ensureLoaded();
        long h = nativeOpen(name, port);
        String actual;
        try {
            actual = nativeName(h);
        } catch (RdmaException | RuntimeException e) {
            try {
                nativeClose(h);
            } catch (RdmaException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new RdmaDevice(h, actual, port);
    }

    /** Every RDMA device of this host (an empty list if there are none). */
    public static List<DeviceInfo> list() throws RdmaException {
        NativeLibrary.ensureLoaded();
        int max = 16;
        for (;;) {
            String[] names = new String[max];
            long[] guids = new long[max];
            int[] ports = new int[max];
            int[] transports = new int[max];
            int total = nativeList(names, guids, ports, transports);
            if (total <= max) {
                List<DeviceInfo> out = new ArrayList<>(total);
                for (int i = 0; i < total; i++) {
                    out.add(new DeviceInfo(names[i], guids[i], ports[i], transports[i]));
                }
                return Collections.unmodifiableList(out);
            }
            max = total; // devices appeared between the calls: ask again with room for all
        }
    }

    /** This process's RLIMIT_MEMLOCK, which bounds how much memory can be registered (pinned). */
    public static MemlockLimit memlockLimit() throws RdmaException {
        NativeLibrary.ensureLoaded();
        long[] v = new long[2];
        nativeMemlock(v);
        return MemlockLimit.fromNative(v[0], v[1]);
    }

    /** The device's name (for "auto": the device that was chosen). */
    public String name() {
        return name;
    }

    /** The port this device was opened for (1-based). */
    public int port() {
        return port;
    }

    /** Attributes of the port this device was opened for. */
    public PortAttributes portAttributes() throws RdmaException {
        return portAttributes(port);
    }

    public PortAttributes portAttributes(int port) throws RdmaException {
        checkPort(port);
        int[] v = new int[7];
        long h = acquire();
        try {
            nativePortQuery(h, port, v);
        } finally {
            release();
        }
        return new PortAttributes(PortState.of(v[0]), v[1], v[2], v[3], v[4], Integer.toUnsignedLong(v[5]), v[6]);
    }

    /** GID {@code index} of this device's port: 16 bytes, network order. */
    public byte[] gid(int index) throws RdmaException {
        if (index < 0) {
            throw new IllegalArgumentException("negative GID index " + index);
        }
        byte[] gid = new byte[16];
        long h = acquire();
        try {
            nativeGid(h, port, index, gid);
        } finally {
            release();
        }
        return gid;
    }

    /** The device's capabilities. */
    public DeviceLimits limits() throws RdmaException {
        long[] v = new long[14];
        long h = acquire();
        try {
            nativeLimits(h, v);
        } finally {
            release();
        }
        return new DeviceLimits(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12],
                v[13]);
    }

    @Override
    void destroy(long handle) throws RdmaException {
        nativeClose(handle);
    }

    @Override
    public String toString() {
        return "RdmaDevice[" + name + " port " + port + (isClosed() ? ", closed" : "") + "]";
    }

    static void checkPort(int port) {
        if (port < 1 || port > 255) {
            throw new IllegalArgumentException("port must be 1..255, got " + port);
        }
    }

    // ------------------------------------------------------------------ natives (jni_device.c)

    private static native int nativeList(String[] names, long[] guids, int[] numPorts, int[] transports)
            throws RdmaException;

    private static native long nativeOpen(String name, int port) throws RdmaException;

    private static native void nativeClose(long dev) throws RdmaException;

    private static native String nativeName(long dev) throws RdmaException;

    private static native void nativePortQuery(long dev, int port, int[] out) throws RdmaException;

    private static native void nativeGid(long dev, int port, int index, byte[] out) throws RdmaException;

    private static native void nativeLimits(long dev, long[] out) throws RdmaException;

    private static native void nativeMemlock(long[] out) throws RdmaException;
}
