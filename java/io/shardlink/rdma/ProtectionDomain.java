package io.shardlink.rdma;

import java.util.Objects;

/**
 * A protection domain (native: native/jni/jni_pd.c). Queue pairs and memory regions belong to
 * one; closing it while any is open throws IllegalStateException and leaves it open.
 */
public final class ProtectionDomain extends NativeObject {
    private final RdmaDevice device;

    private ProtectionDomain(long handle, RdmaDevice device) {
        super(handle, "ProtectionDomain");
        this.device = device;
    }

    public static ProtectionDomain create(RdmaDevice device) throws RdmaException {
        Objects.requireNonNull(device, "device");
        long dev = device.acquire();
        try {
            return new ProtectionDomain(nativeCreate(dev), device);
        } finally {
            device.release();
        }
    }

    public RdmaDevice device() {
        return device;
    }

    @Override
    void destroy(long handle) throws RdmaException {
        nativeDestroy(handle);
    }

    // ------------------------------------------------------------------ natives (jni_pd.c)

    private static native long nativeCreate(long dev) throws RdmaException;

    private static native void nativeDestroy(long pd) throws RdmaException;
}
