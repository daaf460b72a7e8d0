package io.shardlink.cli.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A blocking TCP request/response on loopback, the floor for a blob read over the kernel's stream stack: one
 * connection (TCP_NODELAY); the client writes a 56-byte request (first 4 bytes: the answer length) and reads the
 * answer; a server thread reads requests and answers from a prepared direct buffer. No TLS, framing or CRC.
 */
public final class RawTcpReads implements AutoCloseable {
    private final ServerSocketChannel listener;
    private final SocketChannel client;
    private final Thread serverThread;
    private final ByteBuffer answer;
    private final ByteBuffer req = ByteBuffer.allocateDirect(RawQuicReads.REQUEST);
    private final ByteBuffer in;

    public RawTcpReads(int maxAnswer) throws IOException {
        answer = ByteBuffer.allocateDirect(maxAnswer);
        for (int i = 0; i + 8 <= maxAnswer; i += 8) {
            answer.putLong(i, i * 0x9E3779B97F4A7C15L);
        }
        in = ByteBuffer.allocateDirect(maxAnswer);
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        serverThread = new Thread(this::serve, "rawtcp-reads-server");
        serverThread.setDaemon(true);
        serverThread.start();
        client = SocketChannel.open(listener.getLocalAddress());
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }

    private void serve() {
        try (SocketChannel s = listener.accept()) {
            s.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer r = ByteBuffer.allocateDirect(RawQuicReads.REQUEST);
            ByteBuffer out = answer.duplicate();
            while (true) {
                r.clear();
                while (r.hasRemaining()) {
                    if (s.read(r) < 0) {
                        return;
                    }
                }
                out.clear().limit(r.getInt(0));
                while (out.hasRemaining()) {
                    s.write(out);
                }
            }
        } catch (IOException e) {
            // closed
        }
    }

    /** One request for {@code length} bytes; returns the nanoseconds until the whole answer arrived. */
    public long request(int length) throws IOException {
        long t0 = System.nanoTime();
        req.clear();
        req.putInt(0, length);
        while (req.hasRemaining()) {
            client.write(req);
        }
        in.clear().limit(length);
        RawTcp.readFully(client, in);
        return System.nanoTime() - t0;
    }

    @Override
    public void close() throws IOException {
        client.close();
        listener.close();
    }
}
