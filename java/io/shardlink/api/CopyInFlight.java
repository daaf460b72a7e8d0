package io.shardlink.api;

import io.shardlink.config.Transport;
import io.shardlink.metrics.Direction;

/**
 * One shard copy in progress on a node, as seen at one instant (from {@link ShardlinkNode#copiesInFlight()}):
 * for status pages and monitoring, not for control.
 *
 * @param peer          the other end's node id
 * @param shardId       the shard being copied
 * @param transferId    the sender's transfer id (unique per peer connection and direction)
 * @param direction     SENT for a copy this node sends, RECEIVED for one it receives
 * @param bytesDone     bytes acknowledged by the receiver (SENT) or delivered to the sink (RECEIVED)
 * @param totalBytes    the copy's length
 * @param transport     the transport carrying it now; null before its first chunk
 * @param startedMillis when the copy started here (epoch milliseconds)
 */
public record CopyInFlight(String peer, long shardId, long transferId, Direction direction, long bytesDone,
                           long totalBytes, Transport transport, long startedMillis) {
}
