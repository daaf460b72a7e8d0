package io.shardlink.wire;

/**
 * What a receiver accepts: bulk payloads (DATA, READ_RESP) up to {@code maxSendSize}, every other payload
 * up to {@code maxControlPayload}.
 */
public record FrameLimits(int maxSendSize, int maxControlPayload) {
    public static final int DEFAULT_MAX_CONTROL_PAYLOAD = 64 * 1024;

    public FrameLimits {
        if (maxSendSize <= 0 || maxControlPayload <= 0) {
            throw new IllegalArgumentException("frame limits must be positive: maxSendSize=" + maxSendSize
                    + ", maxControlPayload=" + maxControlPayload);
        }
    }

    public static FrameLimits of(int maxSendSize) {
        return new FrameLimits(maxSendSize, DEFAULT_MAX_CONTROL_PAYLOAD);
    }

    public int maxPayload(FrameType type) {
        return type.bulk() ? maxSendSize : maxControlPayload;
    }
}
