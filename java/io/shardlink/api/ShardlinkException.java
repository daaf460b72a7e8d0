package io.shardlink.api;

import io.shardlink.wire.ErrorCode;

/**
 * A shardlink operation failed. The message says what (operation, shard/volume), to whom (peer) and why;
 * {@link #code()} is set when the peer answered with an ERROR frame.
 */
public class ShardlinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public ShardlinkException(String message, Throwable cause) {
        this(message, null, cause);
    }

    public ShardlinkException(String message) {
        this(message, null, null);
    }

    public ShardlinkException(String message, ErrorCode code, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The peer's error code, or null. */
    public ErrorCode code() {
        return code;
    }
}
