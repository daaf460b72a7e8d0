package io.shardlink.quic;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several threads, none of them the channel's event loop, write frames with payloads to one channel at once (the
 * control stream's writers: copy threads' ring requests, the RDMA poller's PATH_READY): every frame arrives whole,
 * its header followed by its own payload. With header and payload as two writes from another thread, a frame of
 * another thread landed between them (bad magic, CRC mismatch), as seen once in the VM.
 */
class FramesConcurrentWriteTest {
    private static final int THREADS = 4;
    private static final int FRAMES = 5_000;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void framesFromSeveralThreadsArriveWhole() throws Exception {
        DefaultEventLoopGroup group = new DefaultEventLoopGroup(2);
        ByteBuf received = Unpooled.buffer();
        int total = THREADS * FRAMES;
        try {
            LocalAddress addr = new LocalAddress("frames-" + System.nanoTime());
            Channel server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                    .childHandler(new ChannelInitializer<LocalChannel>() {
                        @Override
                        protected void initChannel(LocalChannel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ByteBuf b = (ByteBuf) msg;
                                    synchronized (received) {
                                        received.writeBytes(b);
                                    }
                                    b.release();
                                }
                            });
                        }
                    }).bind(addr).sync().channel();
            Channel client = new Bootstrap().group(group).channel(LocalChannel.class)
                    .handler(new ChannelInboundHandlerAdapter()).connect(addr).sync().channel();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                Thread w = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < FRAMES; i++) {
                        byte[] payload = new byte[1 + (i % 40)];
                        java.util.Arrays.fill(payload, (byte) thread);
                        Frames.writeWithPayload(client, new FrameHeader(FrameType.PATH_CTL).id(i).object(thread),
                                Unpooled.wrappedBuffer(payload));
                    }
                });
                writers.add(w);
                w.start();
            }
            start.countDown();
            for (Thread w : writers) {
                w.join();
            }
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).sync();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int expected = 0;
            for (int t = 0; t < THREADS; t++) {
                for (int i = 0; i < FRAMES; i++) {
                    expected += FrameCodec.HEADER_SIZE + 1 + (i % 40);
                }
            }
            while (System.nanoTime() < deadline) {
                synchronized (received) {
                    if (received.readableBytes() >= expected) {
                        break;
                    }
                }
                Thread.sleep(10);
            }
            client.close().sync();
            server.close().sync();

            int[] next = new int[THREADS];
            FrameHeader h = new FrameHeader();
            FrameLimits limits = FrameLimits.of(1 << 20);
            synchronized (received) {
                assertThat(received.readableBytes()).isEqualTo(expected);
                for (int n = 0; n < total; n++) {
                    FrameCodec.decodeHeader(received, h, limits); // throws on a torn frame (bad magic)
                    int crc = FrameCodec.crc32c(received, received.readerIndex(), h.length());
                    assertThat(crc).as("frame %d: its own payload follows its header", n).isEqualTo(h.crc32c());
                    int thread = (int) h.object();
                    assertThat(h.id()).as("thread %d's frames in its order", thread).isEqualTo(next[thread]++);
                    for (int k = 0; k < h.length(); k++) {
                        assertThat(received.readByte()).isEqualTo((byte) thread);
                    }
                }
            }
            assertThat(next).containsOnly(FRAMES);
        } finally {
            received.release();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
