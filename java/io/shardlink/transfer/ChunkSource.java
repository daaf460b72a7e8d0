package io.shardlink.transfer;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Where a copy's bytes come from; read chunk by chunk, possibly again from an earlier offset after failover. */
public interface ChunkSource {
    long length();

    /** Fills {@code dst} [0, length) with the shard's bytes at {@code offset}; leaves dst's position at 0. */
    void read(long offset, ByteBuffer dst, int length) throws IOException;

    String describe();

    static ChunkSource of(ByteBuffer data) {
        ByteBuffer src = data.duplicate();
        int base = src.position();
        int len = src.remaining();
        return new ChunkSource() {
            @Override
            public long length() {
                return len;
            }

            @Override
            public void read(long offset, ByteBuffer dst, int length) {
                ByteBuffer s = src.duplicate();
                s.limit(base + (int) offset + length).position(base + (int) offset);
                dst.clear();
                dst.put(s);
                dst.flip();
            }

            @Override
            public String describe() {
                return "memory buffer of " + len + " bytes";
            }
        };
    }

    static ChunkSource of(FileChannel ch, long position, long length) {
        return new ChunkSource() {
            @Override
            public long length() {
                return length;
            }

            @Override
            public void read(long offset, ByteBuffer dst, int n) throws IOException {
                dst.clear().limit(n);
                long pos = position + offset;
                while (dst.hasRemaining()) {
                    int r = ch.read(dst, pos + dst.position());
                    if (r < 0) {
                        throw new EOFException("file ended at " + (pos + dst.position()) + " while reading chunk at shard"
                                + " offset " + offset + " (" + n + " bytes; the copy covers " + position + ".."
                                + (position + length) + ")");
                    }
                }
                dst.flip();
            }

            @Override
            public String describe() {
                return "file range " + position + "+" + length;
            }
        };
    }
}
