package io.shardlink.rdma;

/**
 * Whether RDMA can be used here, and if not, why, in words a person can act on, e.g.
 * {@code "RDMA unavailable: this kernel has no RDMA support (ibv_get_device_list: Function not
 * implemented, errno 38); using QUIC"}. Obtained from {@link Rdma#availability(String, int, long)};
 * never an exception.
 *
 * @param available true if the device's port is ACTIVE and everything needed is in place
 * @param cause     the category, for code (metrics, tests)
 * @param reason    one line for a person: what is missing and how to fix it
 * @param device    the device that was (or would have been) used; null if none was found
 * @param port      the port asked for
 */
public record RdmaAvailability(boolean available, Cause cause, String reason, String device, int port) {

    /** Why RDMA is (un)available. */
    public enum Cause {
        /** Everything is in place. */
        AVAILABLE,
        /** No native library for this OS / CPU (only linux-x86_64 is built). */
        UNSUPPORTED_PLATFORM,
        /** libshardlink_jni.so is not in the jar (built without libibverbs-dev) nor at the given path. */
        NATIVE_LIBRARY_NOT_BUILT,
        /** libshardlink_jni.so exists but cannot be loaded or does not match this Java code. */
        NATIVE_LIBRARY_BROKEN,
        /** libibverbs.so.1 (rdma-core) is not installed. */
        VERBS_LIBRARY_MISSING,
        /** The kernel has no RDMA support (ibv_get_device_list: ENOSYS). */
        NO_KERNEL_SUPPORT,
        /** No RDMA device, or none by the requested name. */
        NO_DEVICE,
        /** The device's port is not ACTIVE (or, for "auto", no device has an ACTIVE port). */
        PORT_NOT_ACTIVE,
        /** RLIMIT_MEMLOCK is below the memory the caller wants to pin. */
        MEMLOCK_TOO_LOW,
        /** Any other failure while probing the device. */
        DEVICE_ERROR,
    }

    static RdmaAvailability up(String device, int port, String reason) {
        return new RdmaAvailability(true, Cause.AVAILABLE, reason, device, port);
    }

    static RdmaAvailability down(Cause cause, String reason, String device, int port) {
        return new RdmaAvailability(false, cause, reason, device, port);
    }

    RdmaAvailability withTarget(String device, int port) {
        return new RdmaAvailability(available, cause, reason, device, port);
    }

    @Override
    public String toString() {
        return reason;
    }
}
