package io.shardlink.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Serves blob ("needle") reads on the node that holds the data. Called on the node's worker threads. */
@FunctionalInterface
public interface BlobSource {
    /**
     * Writes up to {@code length} bytes of needle {@code needleId} of volume {@code volumeId}, starting at
     * {@code offset} inside the needle, into {@code dst} at its position ({@code dst.remaining() == length}).
     *
     * @return bytes written (less than {@code length} only at the needle's end)
     * @throws BlobNotFoundException if there is no such volume or needle
     * @throws IOException           on a read error (the reader gets it as an ERROR)
     */
    int read(long volumeId, long needleId, long offset, int length, ByteBuffer dst) throws IOException;
}
