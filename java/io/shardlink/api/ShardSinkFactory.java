package io.shardlink.api;

import java.io.IOException;

/** Opens a {@link ShardSink} for each incoming shard copy. */
@FunctionalInterface
public interface ShardSinkFactory {
    /**
     * @param fromPeer    the sending node's id
     * @param shardId     the shard being copied
     * @param totalLength its length in bytes
     * @throws IOException to refuse the copy (the sender's future fails with this message)
     */
    ShardSink open(String fromPeer, long shardId, long totalLength) throws IOException;
}
