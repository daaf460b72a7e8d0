package io.shardlink.transfer;

/**
 * What a {@link DataPath} needs to open (or resume) one shard transfer.
 *
 * @param transferId  unique per sending node and peer connection
 * @param shardId     the shard being copied
 * @param totalLength bytes in the shard
 * @param startOffset first offset to be sent (0, or the receiver's next expected offset when resuming)
 * @param resume      whether this continues a transfer the receiver already knows (COPY_BEGIN with FLAG_RESUME)
 * @param chunkSize   payload bytes per DATA frame (the last may be shorter)
 */
public record TransferSpec(long transferId, long shardId, long totalLength, long startOffset, boolean resume,
                           int chunkSize) {
}
