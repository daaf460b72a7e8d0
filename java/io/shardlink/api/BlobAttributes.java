package io.shardlink.api;

/**
 * What a {@link BlobSource} reports about the blob besides its bytes, filled during one read and sent to the reader
 * in the READ_RESP ({@link ReadResult#blobFlags()}). Not shared between reads.
 */
public final class BlobAttributes {
    private int flags;

    /**
     * The blob's attribute flags as the source defines them (SeaweedFS: the needle's flags byte, e.g. 0x01 gzip,
     * 0x80 chunk manifest); 0 when the source has none.
     */
    public int flags() {
        return flags;
    }

    public BlobAttributes flags(int v) {
        flags = v;
        return this;
    }
}
