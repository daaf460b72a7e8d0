package io.shardlink.rdma.path;

import io.shardlink.api.ShardlinkClosedException;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.Opcode;
import io.shardlink.transfer.TransferChannel;
import io.shardlink.transfer.TransferListener;
import io.shardlink.transfer.TransferSpec;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The sending end of one copy over RDMA: each chunk is one WRITE WITH IMMEDIATE of [header][payload straight from
 * the pooled chunk buffer] into the next slot of the receiver's ring; a slot is reused only once the receiver
 * acknowledged the chunk in it.
 */
final class OutgoingCopy implements TransferChannel {
    final TransferSpec spec;
    final TransferListener listener;
    final PathMessages.RingGrant ring;
    private final RdmaEndpoint ep;
    private final OutgoingCopies copies;
    /** Shard offset just past the chunk last written into each slot: the slot is free once acked past it. */
    private final long[] slotEnd;
    private long seq;
    private long acked;
    private final AtomicBoolean closed = new AtomicBoolean();

    OutgoingCopy(RdmaEndpoint ep, OutgoingCopies copies, TransferSpec spec, TransferListener listener,
                 PathMessages.RingGrant ring) {
        this.ep = ep;
        this.copies = copies;
        this.spec = spec;
        this.listener = listener;
        this.ring = ring;
        this.slotEnd = new long[ring.slots()];
        this.acked = spec.startOffset();
    }

    @Override
    public void sendChunk(long offset, PooledBuffer buffer, int length, int crc32c, boolean last) {
        if (closed.get()) {
            buffer.release();
            throw new IllegalStateException("RDMA transfer channel of " + spec + " is closed");
        }
        Throwable f = ep.failure();
        if (f != null || ep.isClosing()) {
            buffer.release();
            listener.onPathFailure(f != null ? f : new ShardlinkClosedException("RDMA path to " + ep.peerId()
                    + " closed"));
            return;
        }
        int s = (int) (seq % ring.slots());
        synchronized (this) {
            // the copy driver's window keeps this from waiting; it is the ring's own guard against overwriting
            // a slot whose chunk the receiver has not consumed
            long deadline = System.nanoTime() + ep.config().requestTimeout().toNanos();
            while (slotEnd[s] > acked && ep.failure() == null && !closed.get()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    buffer.release();
                    ep.fail(new IOException("RDMA ring slot " + s + " of transfer " + spec.transferId() + " at "
                            + ep.peerId() + " not acknowledged within " + ep.config().requestTimeout().toMillis()
                            + " ms"), true);
                    listener.onPathFailure(ep.failureOrClosed());
                    return;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    buffer.release();
                    listener.onPathFailure(e);
                    return;
                }
            }
            slotEnd[s] = offset + length;
            seq++;
        }
        MemoryRegion mr = ep.provider().region(buffer.registration());
        if (mr == null) {
            buffer.release();
            ep.fail(new IllegalStateException("chunk buffer " + buffer + " is not registered with the RDMA path"),
                    true);
            listener.onPathFailure(ep.failureOrClosed());
            return;
        }
        FrameHeader h = new FrameHeader(FrameType.DATA).id(spec.transferId()).object(spec.shardId()).offset(offset)
                .length(length).crc32c(crc32c);
        if (last) {
            h.addFlag(FrameHeader.FLAG_LAST);
        }
        if (!ep.sends().postLarge(Opcode.WRITE_IMM, Imm.copyData(ring.ring(), ring.generation(), s), ring.address()
                + (long) s * ring.slotSize(), ring.rkey(), h, mr, length, buffer, null, SendQueue.K_DATA)) {
            Throwable fl = ep.failure();
            listener.onPathFailure(fl != null ? fl : new ShardlinkClosedException("RDMA path to " + ep.peerId()
                    + " closed"));
        }
    }

    /** The receiver consumed everything below {@code nextExpected}: slots up to there are free. */
    void onAck(long nextExpected, int credits) {
        synchronized (this) {
            if (nextExpected > acked) {
                acked = nextExpected;
                notifyAll();
            }
        }
        listener.onAck(nextExpected, credits);
    }

    void pathFailed(Throwable cause) {
        synchronized (this) {
            notifyAll();
        }
        if (!closed.get()) {
            listener.onPathFailure(cause);
        }
    }

    @Override
    public void sendEnd(long totalLength) {
        ep.sends().postSmall(Opcode.SEND_IMM, Imm.send(Imm.S_TO_RECEIVER, 0), 0, 0, new FrameHeader(FrameType.COPY_END)
                .id(spec.transferId()).object(spec.shardId()).aux(totalLength), null);
    }

    @Override
    public void close(Throwable cause) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        copies.remove(spec.transferId());
        synchronized (this) {
            notifyAll();
        }
        if (cause != null && ep.failure() == null && !ep.isClosing()) {
            // tells the receiver to abort the copy and to revoke its ring (no WRITE of ours follows this SEND)
            ep.sends().postError(Imm.S_TO_RECEIVER, spec.transferId(), 0, new FrameException(ErrorCode.SHUTTING_DOWN,
                    "sender abandoned the copy: " + cause.getMessage()));
        }
    }
}
