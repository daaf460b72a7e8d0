package io.shardlink.api;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a shard into a file: chunks go to {@code <target>.part}, which is fsynced and renamed to
 * {@code target} on completion and deleted on abort.
 */
public final class FileShardSink implements ShardSink {
    private final Path target;
    private final Path part;
    private final long totalLength;
    private final FileChannel ch;
    private long written;

    public FileShardSink(Path target, long totalLength) throws IOException {
        this.target = target;
        this.part = target.resolveSibling(target.getFileName() + ".part");
        this.totalLength = totalLength;
        this.ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** A factory writing shard {@code S} into {@code dir/shard-S} (the name can be changed by {@code namer}). */
    public static ShardSinkFactory inDirectory(Path dir) {
        return (peer, shardId, total) -> new FileShardSink(dir.resolve("shard-" + shardId), total);
    }

    @Override
    public void onChunk(long offset, ByteBuffer payload) throws IOException {
        long pos = offset;
        while (payload.hasRemaining()) {
            pos += ch.write(payload, pos);
        }
        written = Math.max(written, pos);
    }

    @Override
    public void onComplete() throws IOException {
        try (FileChannel c = ch) {
            if (written != totalLength) {
                throw new IOException("shard file " + part + " has " + written + " bytes, expected " + totalLength);
            }
            c.force(true);
        }
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void onAbort(Throwable cause) {
        try {
            ch.close();
            Files.deleteIfExists(part);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    public Path target() {
        return target;
    }
}
