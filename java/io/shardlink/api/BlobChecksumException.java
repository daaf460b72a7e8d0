package io.shardlink.api;

import java.io.IOException;

/**
 * A blob's stored checksum does not match its bytes: the source refuses to serve it (sent to the reader as ERROR
 * CHECKSUM_MISMATCH). The message names the volume, the needle and both checksums.
 */
public class BlobChecksumException extends IOException {
    private static final long serialVersionUID = 1L;

    public BlobChecksumException(String message) {
        super(message);
    }
}
