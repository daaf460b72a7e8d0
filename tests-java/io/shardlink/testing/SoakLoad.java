package io.shardlink.testing;

import io.shardlink.api.BlobNotFoundException;
import io.shardlink.api.CopyResult;
import io.shardlink.api.Peer;
import io.shardlink.api.ReadResult;
import io.shardlink.api.ShardSink;
import io.shardlink.config.Transport;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Mixed read/copy load on one Peer for soak tests: blobs whose bytes are a function of (volume, needle, offset),
 * verified on arrival; copies to a sink that keeps nothing; every operation asserted to have used {@code transport}.
 */
public final class SoakLoad {
    private SoakLoad() {}

    /** Keeps nothing: the copies of soak tests are about the path, their bytes are counted by CopyResult. */
    public static final ShardSink DISCARD = new ShardSink() {
        @Override
        public void onChunk(long offset, ByteBuffer payload) {}

        @Override
        public void onComplete() {}

        @Override
        public void onAbort(Throwable cause) {}
    };

    public static byte blobByte(long vol, long needle, long pos) {
        return (byte) (vol * 31 + needle * 7 + pos);
    }

    /** A BlobSource: needle < 0 is not found. */
    public static int blob(long vol, long needle, long off, int len, ByteBuffer dst) throws BlobNotFoundException {
        if (needle < 0) {
            throw new BlobNotFoundException("no needle " + needle);
        }
        for (int i = 0; i < len; i++) {
            dst.put(blobByte(vol, needle, off + i));
        }
        return len;
    }

    public static void verify(ReadResult r, long vol, long needle, int len) {
        if (r.length() != len) {
            throw new AssertionError("read " + vol + "/" + needle + ": " + r.length() + " bytes, expected " + len);
        }
        ByteBuffer d = r.data();
        for (int i = 0; i < len; i++) {
            if (d.get(d.position() + i) != blobByte(vol, needle, i)) {
                throw new AssertionError("read " + vol + "/" + needle + " byte " + i + " wrong");
            }
        }
    }

    /**
     * {@code reads} reads of {@code readSize} bytes ({@code readDepth} in flight) with {@code copies} copies of
     * {@code copySize} bytes ({@code copyDepth} in flight) spread among them; throws on the first failure, a
     * wrong byte or an operation that did not use {@code transport}.
     */
    public static void run(Peer p, int reads, int readSize, int readDepth, int copies, int copySize, int copyDepth,
                           Transport transport) throws Exception {
        Semaphore readSlots = new Semaphore(readDepth);
        Semaphore copySlots = new Semaphore(copyDepth);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong verified = new AtomicLong();
        AtomicLong copied = new AtomicLong();
        int every = Math.max(1, reads / Math.max(1, copies));
        int copiesStarted = 0;
        for (int i = 0; i < reads && failure.get() == null; i++) {
            if (copiesStarted < copies && i % every == 0) {
                copySlots.acquire();
                int n = copiesStarted++;
                CompletableFuture<CopyResult> c = p.copyShard(n, ByteBuffer.allocate(copySize), null);
                c.whenComplete((r, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else if (r.bytes() != copySize || !r.transports().equals(java.util.List.of(transport))) {
                        failure.compareAndSet(null, new AssertionError("copy " + n + ": " + r));
                    } else {
                        copied.incrementAndGet();
                    }
                    copySlots.release();
                });
            }
            readSlots.acquire();
            long vol = i % 13;
            long needle = i;
            p.read(vol, needle, 0, readSize).whenComplete((r, e) -> {
                try {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    } else if (r.transport() != transport) {
                        failure.compareAndSet(null, new AssertionError("read " + needle + " went over "
                                + r.transport() + ", not " + transport));
                    } else {
                        verify(r, vol, needle, readSize);
                        verified.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    readSlots.release();
                }
            });
        }
        readSlots.acquire(readDepth);
        copySlots.acquire(copyDepth);
        if (failure.get() != null) {
            throw new AssertionError("soak failed after " + verified.get() + " reads and " + copied.get()
                    + " copies", failure.get());
        }
        if (verified.get() != reads || copied.get() != Math.min(copies, reads)) {
            throw new AssertionError(verified.get() + " reads and " + copied.get() + " copies verified of " + reads
                    + " and " + copies);
        }
    }

    /**
     * Direct memory in use: the JDK's direct buffers (BufferPoolMXBean "direct") plus Netty's own, which it allocates
     * without a Cleaner, outside that bean. Soak tests compare it with a warm baseline.
     */
    public static long directMemory() {
        long jdk = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                jdk = pool.getMemoryUsed();
            }
        }
        return jdk + Math.max(0, io.netty.util.internal.PlatformDependent.usedDirectMemory());
    }
}
