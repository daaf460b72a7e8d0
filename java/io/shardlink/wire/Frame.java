package io.shardlink.wire;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

/**
 * A decoded frame: its header and its payload (a retained slice; release the frame when done).
 * The header has been validated; the payload CRC has not (see {@link FrameCodec#verifyCrc}).
 */
public final class Frame extends AbstractReferenceCounted {
    private final FrameHeader header;
    private final ByteBuf payload;

    public Frame(FrameHeader header, ByteBuf payload) {
        this.header = header;
        this.payload = payload;
    }

    public FrameHeader header() {
        return header;
    }

    public FrameType type() {
        return header.type();
    }

    /** The payload (readable bytes = header length); empty buffer when length is 0. */
    public ByteBuf payload() {
        return payload;
    }

    @Override
    protected void deallocate() {
        payload.release();
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        payload.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return header.toString();
    }
}
