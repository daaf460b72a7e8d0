package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The close-once / acquire-release lifecycle every owning class inherits, without a device. */
class NativeObjectTest {

    static final class Fake extends NativeObject {
        final AtomicInteger destroys = new AtomicInteger();
        volatile RdmaException failWith;

        Fake() {
            super(0x42, "QueuePair");
        }

        @Override
        void destroy(long handle) throws RdmaException {
            assertThat(handle).isEqualTo(0x42);
            destroys.incrementAndGet();
            RdmaException e = failWith;
            if (e != null) {
                failWith = null;
                throw e;
            }
        }

        /** A "native call": acquire, run, release. */
        void call(Runnable body) {
            acquire();
            try {
                body.run();
            } finally {
                release();
            }
        }
    }

    @Test
    void closeDestroysExactlyOnceAndIsIdempotent() {
        Fake f = new Fake();
        assertThat(f.isClosed()).isFalse();
        f.close();
        f.close();
        f.close();
        assertThat(f.destroys.get()).isEqualTo(1);
        assertThat(f.isClosed()).isTrue();
        assertThat(f.toString()).contains("closed");
    }

    @Test
    void useAfterCloseIsIllegalState() {
        Fake f = new Fake();
        f.close();
        assertThatThrownBy(() -> f.call(() -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessage("QueuePair closed");
        assertThatThrownBy(f::handleIfOpen).isInstanceOf(IllegalStateException.class).hasMessage("QueuePair closed");
    }

    @Test
    void closeWaitsForCallsInFlight() throws Exception {
        Fake f = new Fake();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread caller = new Thread(() -> f.call(() -> {
            inside.countDown();
            try {
                leave.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        caller.start();
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        Thread closer = new Thread(f::close);
        closer.start();
        closer.join(200);
        assertThat(closer.isAlive()).as("close must wait for the call in flight").isTrue();
        assertThat(f.destroys.get()).isZero();
        assertThatThrownBy(() -> f.call(() -> { })).as("no new calls once close started")
                .isInstanceOf(IllegalStateException.class);
        leave.countDown();
        closer.join(10_000);
        caller.join(10_000);
        assertThat(closer.isAlive()).isFalse();
        assertThat(f.destroys.get()).isEqualTo(1);
    }

    @Test
    void racingClosesAndCallsDestroyOnce() throws Exception {
        for (int round = 0; round < 50; round++) {
            Fake f = new Fake();
            int threads = 6;
            CyclicBarrier start = new CyclicBarrier(threads);
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            List<Thread> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                boolean closer = t % 2 == 0;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        if (closer) {
                            f.close();
                        } else {
                            for (int i = 0; i < 1000; i++) {
                                f.call(() -> assertThat(f.destroys.get()).isZero());
                            }
                        }
                    } catch (IllegalStateException expected) {
                        assertThat(expected).hasMessage("QueuePair closed");
                    } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                    }
                });
                all.add(th);
                th.start();
            }
            for (Thread th : all) {
                th.join(10_000);
            }
            assertThat(unexpected.get()).isNull();
            assertThat(f.destroys.get()).isEqualTo(1);
        }
    }

    @Test
    void busyObjectStaysOpen() {
        Fake f = new Fake();
        f.failWith = new RdmaException(RdmaException.EBUSY, 0, "sl_pd_destroy: 2 children");
        assertThatThrownBy(f::close).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("still in use").hasMessageContaining("2 children");
        assertThat(f.isClosed()).isFalse();
        f.call(() -> { }); // still usable
        f.close();
        assertThat(f.destroys.get()).isEqualTo(2);
        assertThat(f.isClosed()).isTrue();
    }

    @Test
    void otherDestroyFailuresStillCountAsClosed() {
        Fake f = new Fake();
        f.failWith = new RdmaException(RdmaException.EVERBS, 5, "sl_qp_destroy: ibv_destroy_qp failed");
        assertThatThrownBy(f::close).isInstanceOf(UncheckedIOException.class);
        assertThat(f.isClosed()).isTrue();
        f.close();
        assertThat(f.destroys.get()).isEqualTo(1);
    }

    @Test
    void heapBuffersAreRejected() {
        assertThatThrownBy(() -> MemoryRegion.register(null, ByteBuffer.allocate(64), EnumSet.of(Access.LOCAL_WRITE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("direct");
        assertThatThrownBy(() -> MemoryRegion.register(null, ByteBuffer.allocateDirect(0), Access.ALL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> MemoryRegion.register(null, ByteBuffer.allocateDirect(8).asReadOnlyBuffer(),
                Access.ALL)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only");
        assertThatThrownBy(() -> MemoryRegion.register(null, ByteBuffer.allocateDirect(8), 0x100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown access");
    }

    @Test
    void closedRegionCannotBeUsedInAWorkRequest() {
        MemoryRegion mr = LayoutTest.fakeRegion(0x0123_4567_89ab_cdefL, 64);
        if (NativeLibrary.isLoaded()) {
            // the made-up handle is rejected by the shim's deregister: the region still counts as closed
            assertThatThrownBy(mr::close).isInstanceOf(UncheckedIOException.class)
                    .hasRootCauseInstanceOf(RdmaException.class);
        } else {
            assertThatThrownBy(mr::close).isInstanceOf(UnsatisfiedLinkError.class);
        }
        assertThat(mr.isClosed()).isTrue();
        WorkRequestBatch batch = new WorkRequestBatch(1);
        assertThatThrownBy(() -> batch.add().send(1, mr, 0, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessage("MemoryRegion closed");
    }

    @Test
    void optionsAreValidated() {
        assertThat(QueuePairOptions.defaults().sendDepth()).isEqualTo(64);
        assertThat(QueuePairOptions.defaults().recvDepth()).isEqualTo(64);
        assertThat(QueuePairOptions.defaults().withDepth(8).recvDepth()).isEqualTo(8);
        assertThatThrownBy(() -> QueuePairOptions.defaults().withMaxSge(5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> QueuePairOptions.defaults().withSendDepth(0))
                .isInstanceOf(IllegalArgumentException.class);
        ConnectOptions c = ConnectOptions.defaults();
        assertThat(c.timeout()).isEqualTo(14);
        assertThat(c.retryCount()).isEqualTo(6);
        assertThat(c.rnrRetry()).isEqualTo(7);
        assertThat(c.access()).isEqualTo(Access.REMOTE_WRITE.bit() | Access.REMOTE_READ.bit());
        assertThatThrownBy(() -> c.withRetryCount(8)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Rdma.availability("rxe0", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Access.flags(EnumSet.allOf(Access.class))).isEqualTo(Access.REGION_ALL);
        assertThat(QpState.of(6)).isEqualTo(QpState.ERR);
        assertThat(MemlockLimit.fromNative(-1, -1).isUnlimited()).isTrue();
        assertThat(MemlockLimit.format(64L << 20)).isEqualTo("64 MiB");
    }
}
