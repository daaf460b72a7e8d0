/**
 * Serving needle reads straight from SeaweedFS volume files ({@code .dat} + {@code .idx}):
 * {@link io.shardlink.seaweedfs.SeaweedVolumes} is the {@link io.shardlink.api.BlobSource}; {@code Volume} one
 * volume (index, checks, reads); {@code NeedleIndex} the compact in-memory index; {@code NeedleFormat} and
 * {@code SuperBlock} the on-disk facts; {@link io.shardlink.seaweedfs.FileId} SeaweedFS's file ids.
 */
package io.shardlink.seaweedfs;
