package io.shardlink.wire;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * HELLO payload, exchanged first on the control stream in both directions (big-endian):
 * <pre>
 *  u16  nodeId length N, then N bytes UTF-8 node id
 *  u16  protocol version (= {@link FrameCodec#VERSION})
 *  u32  capabilities ({@link #CAP_RDMA} = 0x1: this node has a usable RDMA device; {@link #CAP_READ_COOKIE} =
 *       0x2: it understands READ_REQ with FLAG_COOKIE; {@link #CAP_READ_STREAMS} = 0x4: it serves shared read
 *       streams, READ_REQ with FLAG_SHARED_STREAM)
 *  u32  maxSendSize the sender will accept
 *  u32  numMemoryRegions (ring slots = credits) the sender grants
 *  u32  endpoint blob length M, then M bytes: the RDMA endpoint and ring descriptors (opaque here;
 *       laid out by the RDMA path), empty without RDMA
 * </pre>
 */
public record Hello(String nodeId, int protocolVersion, int capabilities, int maxSendSize, int numMemoryRegions,
                    byte[] endpoint) {
    public static final int CAP_RDMA = 1;
    /** The node understands READ_REQ frames carrying a cookie ({@link FrameHeader#FLAG_COOKIE}). */
    public static final int CAP_READ_COOKIE = 2;
    /**
     * The node serves shared QUIC read streams (READ_REQ with {@link FrameHeader#FLAG_SHARED_STREAM}: many reads
     * pipelined on one long-lived stream, answered out of order by request id). A reader uses them only when the
     * peer advertises this; otherwise it opens a stream per read.
     */
    public static final int CAP_READ_STREAMS = 4;
    public static final int MAX_ENDPOINT = 16 * 1024;

    public Hello {
        endpoint = endpoint == null ? new byte[0] : endpoint;
    }

    public boolean rdmaCapable() {
        return (capabilities & CAP_RDMA) != 0;
    }

    public boolean readsWithCookie() {
        return (capabilities & CAP_READ_COOKIE) != 0;
    }

    public boolean servesReadStreams() {
        return (capabilities & CAP_READ_STREAMS) != 0;
    }

    public void encode(ByteBuf out) {
        byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
        out.writeShort(id.length);
        out.writeBytes(id);
        out.writeShort(protocolVersion);
        out.writeInt(capabilities);
        out.writeInt(maxSendSize);
        out.writeInt(numMemoryRegions);
        out.writeInt(endpoint.length);
        out.writeBytes(endpoint);
    }

    /** Decodes and checks a HELLO payload; malformed input is a FrameException(PROTOCOL), never an over-read. */
    public static Hello decode(ByteBuf in) {
        try {
            int idLen = readable(in, 2, "node id length").readUnsignedShort();
            if (idLen == 0 || idLen > 255) {
                throw bad("node id length " + idLen + " not in 1..255");
            }
            String id = readable(in, idLen, "node id").readCharSequence(idLen, StandardCharsets.UTF_8).toString();
            readable(in, 18, "fixed fields");
            int version = in.readUnsignedShort();
            int caps = in.readInt();
            int maxSend = in.readInt();
            int regions = in.readInt();
            int epLen = in.readInt();
            if (maxSend <= 0 || regions <= 0) {
                throw bad("maxSendSize " + maxSend + " and numMemoryRegions " + regions + " must be positive");
            }
            if (epLen < 0 || epLen > MAX_ENDPOINT) {
                throw bad("endpoint length " + epLen + " not in 0.." + MAX_ENDPOINT);
            }
            byte[] ep = new byte[epLen];
            readable(in, epLen, "endpoint").readBytes(ep);
            if (in.isReadable()) {
                throw bad(in.readableBytes() + " trailing bytes");
            }
            return new Hello(id, version, caps, maxSend, regions, ep);
        } catch (IndexOutOfBoundsException e) {
            throw bad("truncated");
        }
    }

    private static ByteBuf readable(ByteBuf in, int n, String what) {
        if (in.readableBytes() < n) {
            throw bad("truncated at " + what + ": need " + n + " bytes, " + in.readableBytes() + " left");
        }
        return in;
    }

    private static FrameException bad(String why) {
        return new FrameException(ErrorCode.PROTOCOL, "malformed HELLO: " + why);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hello h && h.nodeId.equals(nodeId) && h.protocolVersion == protocolVersion
                && h.capabilities == capabilities && h.maxSendSize == maxSendSize
                && h.numMemoryRegions == numMemoryRegions && Arrays.equals(h.endpoint, endpoint);
    }

    @Override
    public int hashCode() {
        return nodeId.hashCode() * 31 + Arrays.hashCode(endpoint);
    }

    @Override
    public String toString() {
        return "Hello{" + nodeId + ", v" + protocolVersion + ", caps=0x" + Integer.toHexString(capabilities)
                + ", maxSendSize=" + maxSendSize + ", regions=" + numMemoryRegions + ", endpoint=" + endpoint.length
                + "B}";
    }
}
