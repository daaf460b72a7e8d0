package io.shardlink.rdma.path;

import io.netty.buffer.ByteBuf;
import io.shardlink.api.BlobFileRange;
import io.shardlink.buffer.PooledBuffer;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.Transport;
import io.shardlink.rdma.MemoryRegion;
import io.shardlink.rdma.Opcode;
import io.shardlink.transfer.ReplyChannel;
import io.shardlink.transfer.SlowSourceGuard;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.Frame;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;

/**
 * Blob reads this node serves to one peer: a READ_REQ goes to the node's read service with a {@link ReplyChannel}
 * that WRITEs the answer ([READ_RESP][bytes] from a registered staging buffer, or an ERROR frame) WITH IMMEDIATE
 * into the pages of the peer's reply ring the request named. A read of a file-backed source
 * ({@link io.shardlink.api.FileRangeBlobSource}) is sent zero-copy when it can be: the WRITE's payload SGE points
 * into a registered read-only window of the file ({@link FileWindows}), so no payload byte is copied.
 */
final class ReadServer {
    private static final int HDR = FrameCodec.HEADER_SIZE;
    private static final int PAGE = RdmaEndpoint.PAGE;

    /** An in-place read slower than this counts as slow (the QUIC path's default limit too). */
    private static final long SLOW_IN_PLACE_NANOS = 5_000_000L;

    private final RdmaEndpoint ep;
    private final RdmaDataPathProvider provider;
    /** Sends this peer's reads to the reader threads for a while after slow ones on the poller (poller thread). */
    private final SlowSourceGuard guard = new SlowSourceGuard(SLOW_IN_PLACE_NANOS);
    private final ShardlinkConfig config;
    private final SlotBuf.Owner stagingOwner = b -> ((PooledBuffer) b.attachment).release();
    /** Releases a file-window lease when the WRITE that sent from the window completes. */
    private static final SlotBuf.Owner LEASE_OWNER = b -> ((FileWindows<?>.Lease) b.attachment).release();
    /** What a lease's hold token wraps: no bytes (the payload goes from the window's registration). */
    private static final ByteBuffer NO_BYTES = ByteBuffer.allocateDirect(0);

    ReadServer(RdmaEndpoint ep, RdmaDataPathProvider provider) {
        this.ep = ep;
        this.provider = provider;
        this.config = provider.config();
    }

    /** A READ_REQ from the peer whose answer goes to {@code page} of its reply ring (poller thread). */
    void onReadRequest(Frame f, int page) {
        if (ReadTrace.ON) {
            ReadTrace.stamp(ReadTrace.SERVER_RECEIVED);
        }
        FrameHeader h = f.header();
        PathMessages.Endpoint r = ep.remote();
        int need = PageAllocator.pagesFor(HDR + (long) Math.max(0, Math.min(h.requestedLength(), config.maxSendSize())),
                PAGE);
        if (h.type() != FrameType.READ_REQ || r == null || page < 0 || (long) page + need > r.replyRingPages()) {
            f.release();
            throw new FrameException(ErrorCode.PROTOCOL, "bad RDMA read request " + h + " for page " + page
                    + " of a " + (r == null ? 0 : r.replyRingPages()) + "-page reply ring");
        }
        ReadReply reply = new ReadReply(page, need * PAGE);
        long t0 = System.nanoTime();
        ep.inbound().onFrame(f, reply);
        if (reply.inPlace) {
            // a source declared non-blocking that blocks anyway stalls every peer of this poller: after two slow
            // reads in a row this peer's reads go to the reader threads for a while (as QUIC does on its loop).
            // Timed up to the answer's post: the post itself (on rxe a system call that sends) is not the source's
            long now = System.nanoTime();
            guard.record((reply.answeredAt != 0 ? reply.answeredAt : now) - t0, now);
        }
    }

    /** Answers one READ_REQ: WRITE WITH IMMEDIATE into the reader's reply pages. */
    private final class ReadReply implements ReplyChannel {
        private final int page;
        private final int capacity;
        /** A staging buffer taken on the poller for serving this read in place; handed out by payloadBuffer. */
        private PooledBuffer ready;
        /** Served on the poller (timed there, for the guard); when its answer was ready to post. */
        private boolean inPlace;
        private long answeredAt;

        ReadReply(int page, int capacity) {
            this.page = page;
            this.capacity = capacity;
        }

        @Override
        public boolean servesReadsInPlace() {
            return provider.engine().options().readsOnPoller() && readyOnPoller();
        }

        /**
         * A source declared {@link io.shardlink.api.BlobSource#nonBlocking()} is served on the poller whatever
         * readsOnPoller says, as QUIC serves it on its event loop: the hop to a reader thread and back costs two
         * thread wake-ups per read, about half of a small read's latency in the rxe VM (README, issue 7 results).
         */
        @Override
        public boolean servesNonBlockingReadsInPlace() {
            return readyOnPoller();
        }

        private boolean readyOnPoller() {
            if (!ep.onPoller() || !guard.allowsInPlace(System.nanoTime())) {
                return false;
            }
            if (ready == null) {
                ready = provider.stagingBufferIfFree(); // never wait on the poller: else the readers serve it
            }
            inPlace = ready != null;
            return inPlace;
        }

        private void answered() {
            if (inPlace && answeredAt == 0) {
                answeredAt = System.nanoTime();
            }
        }

        /** The in-place buffer was not used (the read failed before it got one): give it back. */
        private void releaseReady() {
            PooledBuffer pb = ready;
            if (pb != null) {
                ready = null;
                pb.release();
            }
        }

        @Override
        public ByteBuf payloadBuffer(int cap) {
            if (ReadTrace.ON) {
                ReadTrace.stamp(ReadTrace.SERVE_STARTED);
            }
            if (ready != null && cap <= config.maxSendSize()) {
                PooledBuffer pb = ready;
                ready = null;
                return new SlotBuf(pb.buffer().duplicate().clear().slice(0, cap), stagingOwner, 0, pb);
            }
            if (ep.onPoller() || cap > config.maxSendSize()) {
                return null;
            }
            PooledBuffer pb = provider.stagingBuffer(config.requestTimeout().toMillis());
            if (pb == null) {
                return null;
            }
            return new SlotBuf(pb.buffer().duplicate().clear().slice(0, cap), stagingOwner, 0, pb);
        }

        @Override
        public boolean sendsFileRanges() {
            return provider.fileWindows() != null;
        }

        @Override
        public boolean sendFileRange(FrameHeader h, BlobFileRange range) {
            answered();
            FileWindows<MemoryRegion> fw = provider.fileWindows();
            int n = range.length();
            if (fw == null || n == 0 || HDR + n > capacity) {
                return false; // nothing to send from the file, or the copy path's TOO_LARGE answer
            }
            FileWindows<MemoryRegion>.Lease lease = fw.acquire(range.channel(), range.file(), range.position(), n);
            if (lease == null) {
                return false; // counted by the windows: the copy path serves it
            }
            // the frame's CRC32C: a whole needle's comes from its verified stored checksum; a part is summed by
            // reading the mapping (a read, not a copy)
            h.crc32c(range.knownCrc() ? range.crc32c() : FrameCodec.crc32c(lease.bytes(n)));
            releaseReady();
            PathMessages.Endpoint r = ep.remote();
            long raddr = r.replyRingAddress() + (long) page * PAGE;
            fw.zeroCopyReads.increment();
            fw.zeroCopyBytes.add(n);
            ep.sends().postLarge(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h, lease.region(),
                    lease.offset(), n, null, new SlotBuf(NO_BYTES, LEASE_OWNER, 0, lease), SendQueue.K_READ_REPLY);
            return true;
        }

        @Override
        public void send(FrameHeader h, ByteBuf payload) {
            answered();
            releaseReady();
            int n = h.length();
            FileWindows<MemoryRegion> fw = provider.fileWindows();
            if (fw != null && n > 0 && payload != null) {
                fw.copiedReads.increment(); // the read service copied the blob into this payload
                fw.copiedBytes.add(n);
            }
            PathMessages.Endpoint r = ep.remote();
            long raddr = r.replyRingAddress() + (long) page * PAGE;
            SendQueue sends = ep.sends();
            if (HDR + n > capacity) {
                if (payload != null) {
                    payload.release();
                }
                sendError(h.id(), h.offset(), new FrameException(ErrorCode.TOO_LARGE, "read answer of " + n
                        + " bytes does not fit the " + (capacity - HDR) + " bytes the reader made room for"), true);
                return;
            }
            if (n == 0 || payload == null) {
                if (payload != null) {
                    payload.release();
                }
                sends.postSmall(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h.length(0).crc32c(0),
                        null);
                return;
            }
            if (payload instanceof SlotBuf sb && sb.attachment instanceof PooledBuffer pb) {
                MemoryRegion mr = provider.region(pb.registration());
                if (mr != null) {
                    if (ReadTrace.ON) {
                        ReadTrace.stamp(ReadTrace.ANSWER_POSTING);
                    }
                    sends.postLarge(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h, mr, n, null,
                            payload, SendQueue.K_READ_REPLY);
                    return;
                }
            }
            // not registered memory: stage it (one copy)
            PooledBuffer pb = ep.onPoller() ? null : provider.stagingBuffer(config.requestTimeout().toMillis());
            MemoryRegion mr = pb == null ? null : provider.region(pb.registration());
            if (mr == null) {
                if (pb != null) {
                    pb.release();
                }
                payload.release();
                sendError(h.id(), h.offset(), new FrameException(ErrorCode.INTERNAL, ep.local() + " has no registered "
                        + "buffer free to answer the read over RDMA"), true);
                return;
            }
            payload.getBytes(payload.readerIndex(), pb.buffer().duplicate().clear().limit(n));
            payload.release();
            sends.postLarge(Opcode.WRITE_IMM, Imm.readReply(page), raddr, r.replyRingRkey(), h, mr, n, pb, null,
                    SendQueue.K_READ_REPLY);
        }

        @Override
        public void sendError(long id, long offset, FrameException error, boolean closeAfter) {
            answered();
            releaseReady();
            PathMessages.Endpoint r = ep.remote();
            FrameHeader h = new FrameHeader(FrameType.ERROR).id(id).offset(offset).arg(error.code().code());
            ep.sends().postSmall(Opcode.WRITE_IMM, Imm.readReply(page), r.replyRingAddress() + (long) page * PAGE,
                    r.replyRingRkey(), h, SendQueue.errorText(error.getMessage(),
                            Math.min(capacity, RdmaEndpoint.CTRL) - HDR));
        }

        @Override
        public Transport transport() {
            return Transport.RDMA;
        }

        @Override
        public String describe() {
            return "RDMA read reply at page " + page + " of " + ep.peerId() + "'s reply ring";
        }
    }
}
