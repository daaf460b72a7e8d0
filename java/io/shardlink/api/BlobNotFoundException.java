package io.shardlink.api;

import java.io.IOException;

/** No such volume or needle (sent to the reader as ERROR NOT_FOUND). */
public class BlobNotFoundException extends IOException {
    private static final long serialVersionUID = 1L;

    public BlobNotFoundException(String message) {
        super(message);
    }
}
