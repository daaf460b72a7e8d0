package io.shardlink.wire;

/**
 * A frame that cannot be accepted: malformed, oversized, out of bounds, corrupt, or not expected here.
 * The receiver answers it with an ERROR frame carrying {@link #code()} and {@link #getMessage()}.
 */
public class FrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public FrameException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public FrameException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    @Override
    public String toString() {
        return "FrameException[" + code + "]: " + getMessage();
    }
}
