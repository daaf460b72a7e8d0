package io.shardlink.transfer;

import io.shardlink.wire.Frame;

/**
 * The receiving node's entry point for frames that arrived on any path from one peer. The frame's header is
 * validated (magic, version, type, length limit); everything else (CRC, order, bounds) is checked here.
 * Ownership of {@code frame} passes to the callee (it releases it). May be called on a path's I/O thread:
 * it never blocks (sink and blob I/O run on the node's worker threads).
 */
public interface InboundFrames {
    void onFrame(Frame frame, ReplyChannel reply);
}
