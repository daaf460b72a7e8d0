package io.shardlink.api;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A {@link BlobSource} written against the cookie-and-attributes read only (a lambda can be one); a cookie-less
 * read is that read with {@link BlobSource#NO_COOKIE}.
 */
@FunctionalInterface
public interface CookieBlobSource extends BlobSource {
    @Override
    int read(long volumeId, long needleId, long cookie, long offset, int length, ByteBuffer dst,
             BlobAttributes attributes) throws IOException;

    @Override
    default int read(long volumeId, long needleId, long offset, int length, ByteBuffer dst) throws IOException {
        return read(volumeId, needleId, NO_COOKIE, offset, length, dst, new BlobAttributes());
    }
}
