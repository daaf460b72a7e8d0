package io.shardlink.api;

/** The node or peer was closed (locally, or the connection was lost) while the operation was in flight. */
public class ShardlinkClosedException extends ShardlinkException {
    private static final long serialVersionUID = 1L;

    public ShardlinkClosedException(String message, Throwable cause) {
        super(message, cause);
    }

    public ShardlinkClosedException(String message) {
        super(message);
    }
}
