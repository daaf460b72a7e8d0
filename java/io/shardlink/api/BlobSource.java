package io.shardlink.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Serves blob ("needle") reads on the node that holds the data. Called on the node's reader threads, or, for a
 * source that declares {@link #nonBlocking()}, on the thread that received the request: the QUIC connection's I/O
 * thread, or the RDMA completion poller.
 */
@FunctionalInterface
public interface BlobSource {
    /** The reader gave no cookie. */
    long NO_COOKIE = -1;

    /**
     * Writes up to {@code length} bytes of needle {@code needleId} of volume {@code volumeId}, starting at
     * {@code offset} inside the needle, into {@code dst} at its position ({@code dst.remaining() == length}).
     *
     * @return bytes written (less than {@code length} only at the needle's end)
     * @throws BlobNotFoundException if there is no such volume or needle
     * @throws IOException           on a read error (the reader gets it as an ERROR)
     */
    int read(long volumeId, long needleId, long offset, int length, ByteBuffer dst) throws IOException;

    /**
     * The read the node calls: as {@link #read(long, long, long, int, ByteBuffer)}, with the reader's
     * {@code cookie} (an unsigned 32-bit value, or {@link #NO_COOKIE}) and {@code attributes} to report the blob's
     * flags in. A source with cookies answers a wrong (or, if it requires one, a missing) cookie with
     * {@link BlobNotFoundException}, never data; a source that refuses a blob whose checksum does not match throws
     * {@link BlobChecksumException}. The default ignores the cookie and reports no flags.
     */
    default int read(long volumeId, long needleId, long cookie, long offset, int length, ByteBuffer dst,
                     BlobAttributes attributes) throws IOException {
        return read(volumeId, needleId, offset, length, dst);
    }

    /**
     * True if every read returns at once without blocking (the blobs are in memory): the node then serves QUIC
     * reads on the connection's I/O thread, and RDMA reads on the completion poller that received them (when a
     * registered staging buffer is free), instead of handing each to a reader thread and the answer back, which
     * measured about 40% less CPU and half the latency per 4 KiB read over QUIC, and half the latency over RDMA in
     * the rxe VM. A source that may block (disk, locks, a remote store) must return false (the default): while it
     * blocks there, every stream of that connection (every peer of that poller) waits. As a guard, two reads in a
     * row slower than 5 ms there send that connection's (peer's) reads to the reader threads for a second.
     */
    default boolean nonBlocking() {
        return false;
    }

    /** {@code source}, declared {@link #nonBlocking()} (for a lambda over memory). */
    static BlobSource nonBlocking(BlobSource source) {
        return new BlobSource() {
            @Override
            public int read(long volumeId, long needleId, long offset, int length, ByteBuffer dst) throws IOException {
                return source.read(volumeId, needleId, offset, length, dst);
            }

            @Override
            public int read(long volumeId, long needleId, long cookie, long offset, int length, ByteBuffer dst,
                            BlobAttributes attributes) throws IOException {
                return source.read(volumeId, needleId, cookie, offset, length, dst, attributes);
            }

            @Override
            public boolean nonBlocking() {
                return true;
            }
        };
    }
}
