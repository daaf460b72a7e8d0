package io.shardlink.rdma;

import java.nio.ByteBuffer;

/** Addresses of direct ByteBuffers (native/jni/jni_buffer.c), taken once at setup. */
final class DirectBuffers {
    private DirectBuffers() {
    }

    /**
     * The address of {@code buffer}'s first byte (index 0, not its position).
     *
     * @throws IllegalArgumentException if it is not a direct buffer
     */
    static long address(ByteBuffer buffer) throws RdmaException {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("not a direct ByteBuffer: " + buffer);
        }
        NativeLibrary.ensureLoaded();
        long address = nativeAddress(buffer);
        if (address == 0) {
            throw new IllegalArgumentException("direct ByteBuffer without an address: " + buffer);
        }
        return address;
    }

    private static native long nativeAddress(ByteBuffer buffer);
}
