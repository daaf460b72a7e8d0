package io.shardlink.seaweedfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A volume's 8-byte superblock: version (u8), replica placement (u8), TTL (2), compaction revision (u16), extra size
 * (u16), then that many bytes of protobuf extra (skipped). Only versions 2 and 3 are served: version 1 needles have
 * no data-size field, so their bytes cannot be located the same way.
 */
record SuperBlock(int version, int replicaPlacement, int compactionRevision, int extraSize) {
    static final int SIZE = 8;

    /** Where the first needle starts (after the extra bytes, rounded up to the 8-byte needle alignment). */
    long firstNeedle() {
        long end = SIZE + extraSize;
        return (end + NeedleFormat.PADDING - 1) / NeedleFormat.PADDING * NeedleFormat.PADDING;
    }

    static SuperBlock read(FileChannel dat, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        long size = dat.size();
        if (size < SIZE) {
            throw new VolumeFormatException(file + ": " + size + " bytes, shorter than the 8-byte superblock "
                    + "(truncated or not a SeaweedFS volume)");
        }
        while (b.hasRemaining()) {
            if (dat.read(b, b.position()) < 0) {
                throw new VolumeFormatException(file + ": truncated superblock");
            }
        }
        int version = b.get(0) & 0xFF;
        if (version != 2 && version != 3) {
            throw new VolumeFormatException(file + ": superblock version " + version + " is not supported (only "
                    + "SeaweedFS volume versions 2 and 3 are served)");
        }
        SuperBlock sb = new SuperBlock(version, b.get(1) & 0xFF, b.getShort(4) & 0xFFFF, b.getShort(6) & 0xFFFF);
        if (sb.firstNeedle() > size) {
            throw new VolumeFormatException(file + ": superblock announces " + sb.extraSize + " extra bytes but the "
                    + "file has " + size + " bytes (truncated)");
        }
        return sb;
    }
}
