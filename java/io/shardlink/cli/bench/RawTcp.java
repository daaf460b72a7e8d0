package io.shardlink.cli.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Plain TCP on loopback with blocking java.nio sockets: the ceiling a copy over the kernel's stream stack can
 * reach here. One connection; per transfer the client writes an 8-byte length and the bytes from a 1 MiB direct
 * buffer, the server reads them into a 1 MiB direct buffer and answers one byte.
 */
public final class RawTcp implements AutoCloseable {
    private static final int BUF = 1 << 20;
    private final ServerSocketChannel listener;
    private final SocketChannel client;
    private final Thread serverThread;
    private final ByteBuffer src = ByteBuffer.allocateDirect(BUF);
    private final ByteBuffer one = ByteBuffer.allocateDirect(1);

    public RawTcp() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        serverThread = new Thread(this::serve, "rawtcp-server");
        serverThread.setDaemon(true);
        serverThread.start();
        client = SocketChannel.open(listener.getLocalAddress());
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        for (int i = 0; i < BUF; i += 8) {
            src.putLong(i, i * 0x9E3779B97F4A7C15L);
        }
    }

    private void serve() {
        try (SocketChannel s = listener.accept()) {
            s.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer buf = ByteBuffer.allocateDirect(BUF);
            ByteBuffer len = ByteBuffer.allocate(8);
            ByteBuffer ack = ByteBuffer.allocateDirect(1);
            while (true) {
                len.clear();
                while (len.hasRemaining()) {
                    if (s.read(len) < 0) {
                        return;
                    }
                }
                long remaining = len.flip().getLong();
                while (remaining > 0) {
                    buf.clear().limit((int) Math.min(BUF, remaining));
                    int n = s.read(buf);
                    if (n < 0) {
                        return;
                    }
                    remaining -= n;
                }
                ack.clear().put((byte) 1).flip();
                s.write(ack);
            }
        } catch (IOException e) {
            // closed
        }
    }

    /** Nanoseconds from the first write to the answer. */
    public long transfer(long size) throws IOException {
        long t0 = System.nanoTime();
        ByteBuffer len = ByteBuffer.allocate(8).putLong(size).flip();
        while (len.hasRemaining()) {
            client.write(len);
        }
        long sent = 0;
        while (sent < size) {
            src.clear().limit((int) Math.min(BUF, size - sent));
            while (src.hasRemaining()) {
                sent += client.write(src);
            }
        }
        one.clear();
        readFully(client, one);
        return System.nanoTime() - t0;
    }

    /** Reads until {@code b} is full; the server closing first is an error. */
    static void readFully(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("server closed");
            }
        }
    }

    @Override
    public void close() throws IOException {
        client.close();
        listener.close();
    }
}
