package io.shardlink.rdma;

import java.io.IOException;

/**
 * A failed call into the native shim: its status (a negative {@code sl_status}), the status name
 * (e.g. {@code "SL_EBADHANDLE"}), the errno behind it (0 if none) and the shim's error text, which
 * names the call and, for verbs failures, the errno text, e.g.
 * {@code "sl_qp_connect: ibv_modify_qp(RTR) failed: Connection timed out (errno 110)"}.
 *
 * <p>Thrown by the JNI bridge (native/jni/jni_errors.c) through the 4-argument constructor.
 */
public class RdmaException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Bad argument: NULL pointer, zero length, unknown flag, bad options. */
    public static final int EINVAL = -1;
    /** Handle 0, never issued, already destroyed, or of the wrong type. */
    public static final int EBADHANDLE = -2;
    /** No RDMA device (or none by that name / with an ACTIVE port). */
    public static final int ENODEV = -3;
    /** Allocation or pinning failed (see the memlock limit). */
    public static final int ENOMEM = -4;
    /** The object is not in a state that allows the call (e.g. send on a QP not in RTS). */
    public static final int ESTATE = -5;
    /** Posting would exceed the queue depth: poll completions first. */
    public static final int EFULL = -6;
    /** A verbs call failed; {@link #errno()} has its errno. */
    public static final int EVERBS = -7;
    /** A wait ran out of time. */
    public static final int ETIMEDOUT = -8;
    /** The object still has children or users. */
    public static final int EBUSY = -9;
    /** A length or offset outside what the object or device allows. */
    public static final int ERANGE = -10;
    /** A malformed or unsupported endpoint blob. */
    public static final int EPROTO = -11;
    /** A memory region lacks the access a work request needs. */
    public static final int EACCES = -12;
    /** The device does not support this (e.g. it has no shared receive queues). */
    public static final int ENOTSUP = -13;

    private static final String[] NAMES = {
        "SL_OK", "SL_EINVAL", "SL_EBADHANDLE", "SL_ENODEV", "SL_ENOMEM", "SL_ESTATE", "SL_EFULL",
        "SL_EVERBS", "SL_ETIMEDOUT", "SL_EBUSY", "SL_ERANGE", "SL_EPROTO", "SL_EACCES", "SL_ENOTSUP",
    };

    private final int status;
    private final String statusName;
    private final int errno;

    /** Called from native code. */
    public RdmaException(int status, String statusName, int errno, String message) {
        super(message);
        this.status = status;
        this.statusName = statusName != null ? statusName : nameOf(status);
        this.errno = errno;
    }

    /** For failures detected on the Java side (e.g. the native library is not available). */
    public RdmaException(int status, int errno, String message) {
        this(status, nameOf(status), errno, message);
    }

    /** The shim's status code: one of the constants of this class (always negative). */
    public int status() {
        return status;
    }

    /** The status's name, e.g. {@code "SL_EFULL"}. */
    public String statusName() {
        return statusName;
    }

    /** The errno behind the failure, 0 if it was not a system or verbs error. */
    public int errno() {
        return errno;
    }

    /** Short name of a status code, e.g. {@code nameOf(-2)} is {@code "SL_EBADHANDLE"}. */
    public static String nameOf(int status) {
        int i = -status;
        return i >= 0 && i < NAMES.length ? NAMES[i] : "SL_UNKNOWN(" + status + ")";
    }

    @Override
    public String toString() {
        return getClass().getName() + ": [" + statusName + (errno != 0 ? ", errno " + errno : "") + "] "
                + getMessage();
    }
}
