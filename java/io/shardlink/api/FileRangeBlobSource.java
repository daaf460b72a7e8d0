package io.shardlink.api;

import java.io.IOException;

/**
 * A {@link BlobSource} whose blobs lie in files, so a transport can send them straight from the file's pages (the
 * RDMA path registers a read-only mapping) instead of copying them into a buffer first.
 */
public interface FileRangeBlobSource extends BlobSource {
    /**
     * The file range a {@code read(volumeId, needleId, cookie, offset, length, ...)} would return, after the same
     * checks (a missing blob or wrong cookie is {@link BlobNotFoundException}, a bad checksum
     * {@link BlobChecksumException}); the range is cut short at the end of the blob (length 0 past it).
     */
    BlobFileRange locateRange(long volumeId, long needleId, long cookie, long offset, int length) throws IOException;
}
