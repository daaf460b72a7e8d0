package io.shardlink.rdma.path;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.nio.ByteBuffer;

/**
 * A Netty buffer over registered memory the RDMA path owns (a ring slot's payload, a reply-ring page, a read
 * staging buffer): no copy, and its release gives the memory back to its owner instead of freeing it. Readable
 * bytes = the region's remaining bytes when wrapped.
 */
final class SlotBuf extends UnpooledDirectByteBuf {
    /** Gets a region back when the buffer holding it is released. */
    interface Owner {
        void released(SlotBuf buf);
    }

    private final Owner owner;
    /** The owner's tag (a page, a slot). */
    final int tag;
    /** Set when the region is a registered staging buffer (the path sends from it without copying). */
    final Object attachment;

    SlotBuf(ByteBuffer region, Owner owner, int tag, Object attachment) {
        super(UnpooledByteBufAllocator.DEFAULT, region, region.remaining());
        this.owner = owner;
        this.tag = tag;
        this.attachment = attachment;
    }

    @Override
    protected void deallocate() {
        super.deallocate();
        owner.released(this);
    }
}
