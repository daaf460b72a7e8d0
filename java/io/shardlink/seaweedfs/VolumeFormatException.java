package io.shardlink.seaweedfs;

import java.io.IOException;

/** A volume file is not in the format this reader serves, or is truncated or corrupt; the message says where. */
public final class VolumeFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public VolumeFormatException(String message) {
        super(message);
    }
}
