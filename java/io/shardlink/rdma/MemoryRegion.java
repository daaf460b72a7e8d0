package io.shardlink.rdma;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Set;

/**
 * A registered (pinned) memory region over a direct ByteBuffer (native: native/jni/jni_mr.c).
 * It covers the buffer's bytes from its position to its limit at registration time;
 * {@link #buffer()} is a slice of exactly those bytes, and work requests name memory by offsets
 * into it. The region keeps the buffer strongly reachable until it is closed (deregistered).
 *
 * <p>Only direct buffers can be registered; heap buffers are rejected with
 * IllegalArgumentException. Registration pins memory: RLIMIT_MEMLOCK bounds the total
 * ({@link RdmaDevice#memlockLimit()}).
 */
public final class MemoryRegion extends NativeObject {
    private final ProtectionDomain pd;
    private final ByteBuffer buffer;
    private final long address;
    private final long length;
    private final int lkey;
    private final int rkey;
    private final int access;

    // package-private for tests (a region object over a made-up handle)
    MemoryRegion(long handle, ProtectionDomain pd, ByteBuffer buffer, long[] info) {
        super(handle, "MemoryRegion");
        this.pd = pd;
        this.buffer = buffer;
        this.address = info[0];
        this.length = info[1];
        this.lkey = (int) info[2];
        this.rkey = (int) info[3];
        this.access = (int) info[4];
    }

    /** Registers {@code buffer}'s remaining bytes with the given rights. */
    public static MemoryRegion register(ProtectionDomain pd, ByteBuffer buffer, Set<Access> access)
            throws RdmaException {
        Objects.requireNonNull(access, "access");
        return register(pd, buffer, Access.flags(access));
    }

    /**
     * Registers {@code buffer}'s remaining bytes with {@code SL_ACCESS_*} flags ({@link Access#bit()}
     * values ORed; REMOTE_WRITE needs LOCAL_WRITE).
     *
     * @throws IllegalArgumentException for a heap buffer, an empty one, unknown flags, or write
     *         access to a read-only buffer
     */
    public static MemoryRegion register(ProtectionDomain pd, ByteBuffer buffer, int accessFlags)
            throws RdmaException {
        Objects.requireNonNull(buffer, "buffer");
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("only direct ByteBuffers can be registered, got a heap buffer: "
                    + buffer);
        }
        if ((accessFlags & ~Access.REGION_ALL) != 0) {
            throw new IllegalArgumentException("unknown access flags 0x" + Integer.toHexString(accessFlags));
        }
        if (buffer.isReadOnly()
                && (accessFlags & (Access.LOCAL_WRITE.bit() | Access.REMOTE_WRITE.bit())) != 0) {
            throw new IllegalArgumentException("write access to a read-only buffer");
        }
        if (!buffer.hasRemaining()) {
            throw new IllegalArgumentException("cannot register an empty buffer: " + buffer);
        }
        Objects.requireNonNull(pd, "pd");
        ByteBuffer slice = buffer.slice();
        long start = DirectBuffers.address(slice);
        long[] info = new long[5];
        long h;
        long pdHandle = pd.acquire();
        try {
            h = nativeRegister(pdHandle, start, slice.capacity(), accessFlags);
        } finally {
            pd.release();
        }
        query(h, info);
        return new MemoryRegion(h, pd, slice, info);
    }

    /** Fills {@code info} for a fresh registration {@code h}; deregisters it if that fails. */
    private static void query(long h, long[] info) throws RdmaException {
        try {
            nativeQuery(h, info);
            if (info[0] == 0) {
                throw new IllegalStateException("registration has no address");
            }
        } catch (RdmaException | RuntimeException e) {
            try {
                nativeDeregister(h);
            } catch (RdmaException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Registers {@code length} bytes of {@code file} from {@code offset} (a multiple of the page size) for local read
     * only (access 0): the shim maps them read-only and privately, and unmaps them when the region is closed;
     * {@link #buffer()} is a read-only view of that mapping, valid only until the region is closed. On kernels that cannot pin a read-only shared mapping
     * (before Linux 6.2), pinning this private mapping copies each page once, at registration.
     *
     * @throws RdmaException with the shim's reason (file missing, range past its end, device refused)
     */
    public static MemoryRegion registerFile(ProtectionDomain pd, java.nio.file.Path file, long offset, int length)
            throws RdmaException {
        Objects.requireNonNull(pd, "pd");
        Objects.requireNonNull(file, "file");
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("file region at " + offset + " of " + length + " bytes");
        }
        long h;
        long pdHandle = pd.acquire();
        try {
            h = nativeRegisterFile(pdHandle, file.toString(), offset, length, 0);
        } finally {
            pd.release();
        }
        long[] info = new long[5];
        query(h, info);
        // the shim's mapping, seen from Java: read-only, and only while the region is open
        return new MemoryRegion(h, pd, nativeView(info[0], info[1]).asReadOnlyBuffer(), info);
    }

    public ProtectionDomain pd() {
        return pd;
    }

    /**
     * The registered bytes (a slice: index 0 is {@link #address()}). Shared, not a copy: its
     * position, limit and byte order are the caller's to manage.
     */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** Virtual address of the first registered byte (what a peer uses as remote address). */
    public long address() {
        return address;
    }

    public long length() {
        return length;
    }

    /** Local key (used by the shim when this region is in a local SGE). */
    public int lkey() {
        return lkey;
    }

    /** Remote key: give it, with {@link #address()}, to a peer that WRITEs or READs here. */
    public int rkey() {
        return rkey;
    }

    /** {@code SL_ACCESS_*} flags the region was registered with. */
    public int access() {
        return access;
    }

    @Override
    void destroy(long handle) throws RdmaException {
        nativeDeregister(handle);
    }

    @Override
    public String toString() {
        return "MemoryRegion[addr=0x" + Long.toHexString(address) + ", length=" + length + ", lkey=0x"
                + Integer.toHexString(lkey) + ", rkey=0x" + Integer.toHexString(rkey) + (isClosed() ? ", closed" : "")
                + "]";
    }

    // ------------------------------------------------------------------ natives (jni_mr.c)

    private static native long nativeRegister(long pd, long address, long length, int access) throws RdmaException;

    private static native void nativeQuery(long mr, long[] out) throws RdmaException;

    private static native long nativeRegisterFile(long pd, String path, long offset, long length, int access)
            throws RdmaException;

    private static native ByteBuffer nativeView(long address, long length);

    private static native void nativeDeregister(long mr) throws RdmaException;
}
