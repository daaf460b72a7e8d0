package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.config.Transport;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.MemoryWindow;
import io.shardlink.rdma.Opcode;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The receive ring of one incoming copy: {@code count} slots of {@code slotSize} bytes the sender WRITEs chunks
 * into (the region LOCAL_WRITE | MW_BIND; remote write only through {@code mw}, bound to the sender's queue pair),
 * and the {@link ReplyChannel} the copy receiver answers its frames through
 * (ACK and COPY_DONE by SEND to the sender).
 */
final class CopyRing {
    final int index;
    final int generation;
    final long transferId;
    final long shardId;
    final MemoryRegion mr;
    /** The window the sender writes through: bound to its queue pair only; closed before {@link #mr}. */
    final MemoryWindow mw;
    final ByteBuffer memory;
    final int slotSize;
    final int count;
    final long bytes;
    final ByteBuf view;
    final Reply reply;
    final AtomicBoolean released = new AtomicBoolean();
    /** The receiver refused the transfer: chunks are dropped until the sender stops. */
    volatile boolean closing;
    /** Last chunk written, COPY_BEGIN/END announced or answer sent (System.nanoTime): see RingIdleSweep. */
    volatile long lastActivity = System.nanoTime();

    CopyRing(IncomingCopies owner, int index, int generation, long transferId, long shardId, MemoryRegion mr,
             MemoryWindow mw, int slotSize, int count, long bytes) {
        this.index = index;
        this.generation = generation;
        this.transferId = transferId;
        this.shardId = shardId;
        this.mr = mr;
        this.mw = mw;
        this.memory = mr.buffer();
        this.slotSize = slotSize;
        this.count = count;
        this.bytes = bytes;
        this.view = Unpooled.wrappedBuffer(memory.duplicate().clear());
        this.reply = new Reply(owner);
    }

    /** Where the copy receiver answers frames of this copy: SEND to the sender. */
    final class Reply implements ReplyChannel {
        private final IncomingCopies owner;

        Reply(IncomingCopies owner) {
            this.owner = owner;
        }

        @Override
        public void send(FrameHeader header, ByteBuf payload) {
            if (payload != null) {
                payload.release(); // ACK and COPY_DONE have none
            }
            lastActivity = System.nanoTime(); // ACKs (busy heartbeats too): a slow sink is not an idle ring
            owner.sends().postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_SENDER, 0), 0, 0, header, null);
            if (header.type() == FrameType.COPY_DONE) {
                owner.release(CopyRing.this); // every chunk was acknowledged before COPY_END: nothing more comes
            }
        }

        @Override
        public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
            if (closeAfter) {
                closing = true; // revoked when the sender answers (its ERROR), or when the path goes
            }
            owner.sends().postError(Imm.S_TO_SENDER, id, offset, error);
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public String describe() {
            return "RDMA ring " + index + " of transfer " + transferId + " from " + owner.peerId();
        }
    }
}
