package io.shardlink.metrics;

public enum Direction {
    SENT,
    RECEIVED
}
