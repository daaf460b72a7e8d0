package io.shardlink.buffer;

import java.nio.ByteBuffer;

/**
 * Registers pool memory with a data path when it is created and deregisters it when the pool drops it
 * (e.g. ibv_reg_mr / ibv_dereg_mr through the RDMA path), so chunks go out zero-copy.
 */
public interface BufferRegistrar {
    /** Registers a new direct buffer; returns a non-zero handle. */
    long register(ByteBuffer buffer) throws Exception;

    /** Deregisters a handle returned by {@link #register}. */
    void deregister(long handle);

    BufferRegistrar NONE = new BufferRegistrar() {
        @Override
        public long register(ByteBuffer buffer) {
            return 0;
        }

        @Override
        public void deregister(long handle) {}
    };
}
