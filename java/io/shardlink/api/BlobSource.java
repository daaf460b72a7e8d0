package io.shardlink.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Serves blob ("needle") reads on the node that holds the data. Called on the node's worker threads. */
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
}
