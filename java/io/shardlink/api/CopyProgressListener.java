package io.shardlink.api;

import io.shardlink.config.Transport;

/** Progress of one outgoing copy. Called on transport threads: keep it quick. */
public interface CopyProgressListener {
    /** The receiver acknowledged {@code bytesAcked} of {@code totalLength} bytes. */
    void onProgress(long bytesAcked, long totalLength, Transport transport);

    /** The copy left {@code from} after {@code cause} and resumes over {@code to} at {@code resumeOffset}. */
    default void onFallback(Transport from, Transport to, long resumeOffset, Throwable cause) {}

    CopyProgressListener NONE = (a, t, tr) -> {};
}
