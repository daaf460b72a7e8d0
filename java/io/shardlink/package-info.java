/**
 * shardlink: RDMA transport for JVM storage servers, with a QUIC fallback.
 * Public API lives in {@code io.shardlink.api}; configuration in {@code io.shardlink.config}.
 */
package io.shardlink;
