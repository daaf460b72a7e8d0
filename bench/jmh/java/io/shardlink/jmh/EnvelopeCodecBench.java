package io.shardlink.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The shardlink envelope (io.shardlink.wire): 56-byte header encode/decode into Netty ByteBufs (QUIC) and
 * NIO ByteBuffers (RDMA ring slots), and the payload CRC32C that every DATA/READ_RESP frame carries.
 * Run with -prof gc to see allocation per operation (the header paths should be ~0 B/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m"})
public class EnvelopeCodecBench {
    @Param({"4096", "1048576"})
    public int payloadSize;

    private final FrameHeader header = new FrameHeader();
    private final FrameHeader decoded = new FrameHeader();
    private FrameLimits limits;
    private ByteBuf out;
    private ByteBuf encodedBuf;
    private ByteBuffer slot;
    private ByteBuffer payload;
    private ByteBuf payloadBuf;
    private long n;

    @Setup(Level.Trial)
    public void setup() {
        limits = FrameLimits.of(4 * 1024 * 1024);
        out = Unpooled.directBuffer(FrameCodec.HEADER_SIZE);
        payload = ByteBuffer.allocateDirect(payloadSize);
        for (int i = 0; i < payloadSize; i += 8) {
            payload.putLong(i, i * 0x9E3779B97F4A7C15L);
        }
        payloadBuf = Unpooled.wrappedBuffer(payload.duplicate());
        int crc = FrameCodec.crc32c(payload.duplicate());
        header.reset(FrameType.DATA).id(7).object(42).aux(1L << 30).offset(1L << 20).length(payloadSize).crc32c(crc);
        encodedBuf = Unpooled.directBuffer(FrameCodec.HEADER_SIZE);
        FrameCodec.encodeHeader(header, encodedBuf);
        slot = ByteBuffer.allocateDirect(FrameCodec.HEADER_SIZE + payloadSize);
        FrameCodec.encodeHeader(header, slot.duplicate());
        slot.put(FrameCodec.HEADER_SIZE, payload.duplicate(), 0, payloadSize);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        out.release();
        encodedBuf.release();
    }

    /** Header into a reused direct ByteBuf (QUIC stream write path). */
    @Benchmark
    public int encodeHeaderByteBuf() {
        out.clear();
        header.offset(n++);
        FrameCodec.encodeHeader(header, out);
        return out.writerIndex();
    }

    /** Header into an RDMA ring slot (ByteBuffer at an absolute position). */
    @Benchmark
    public int encodeHeaderSlot() {
        slot.clear();
        header.offset(n++);
        FrameCodec.encodeHeader(header, slot);
        return slot.position();
    }

    /** Validate + decode a header from a ByteBuf (QUIC receive path). */
    @Benchmark
    public long decodeHeaderByteBuf() {
        encodedBuf.readerIndex(0);
        return FrameCodec.decodeHeader(encodedBuf, decoded, limits).offset();
    }

    /** Decode a whole frame in a ring slot: header + payload slice (RDMA receive path), no CRC. */
    @Benchmark
    public int decodeFrameSlot() {
        slot.clear();
        return FrameCodec.decodeFrame(slot, decoded, limits).remaining();
    }

    /** CRC32C of the payload as a receiver verifies it (dominates per-chunk cost for large chunks). */
    @Benchmark
    public int verifyCrcByteBuffer() {
        FrameCodec.verifyCrc(header, payload.duplicate());
        return header.length();
    }

    @Benchmark
    public int crc32cByteBuf() {
        return FrameCodec.crc32c(payloadBuf, 0, payloadSize);
    }
}
