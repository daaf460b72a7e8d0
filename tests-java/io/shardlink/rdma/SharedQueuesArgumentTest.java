package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.UncheckedIOException;

import org.junit.jupiter.api.Test;

/**
 * Argument validation of the SRQ, adaptive-polling and selective-signaling API on any host (no
 * device): bad sizes and closed objects give clear exceptions, and a handle the shim never issued
 * (as after a native-side destroy) comes back as RdmaException SL_EBADHANDLE, never a crash.
 */
class SharedQueuesArgumentTest {
    /** Looks like an SRQ / CQ handle (type byte 7 / 3) but was never issued. */
    private static final long BOGUS_SRQ = 0x0700_00ab_7fff_fff0L;
    private static final long BOGUS_CQ = 0x0300_00ab_7fff_fff0L;

    @Test
    void optionsValidateSignalEvery() {
        QueuePairOptions d = QueuePairOptions.defaults();
        assertThat(d.signalEvery()).isZero();
        assertThat(d.withSignalEvery(16).signalEvery()).isEqualTo(16);
        assertThat(d.withSignalEvery(16).withDepth(128).signalEvery()).isEqualTo(16);
        assertThat(new QueuePairOptions(8, 8, 1, 0, 0, 0).signalEvery()).isZero();
        assertThatThrownBy(() -> d.withSignalEvery(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("signalEvery");
        assertThatThrownBy(() -> d.withMaxInline(-5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void createRejectsBadArgumentsBeforeNative() {
        assertThatThrownBy(() -> SharedReceiveQueue.create(null, 16)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("pd");
        assertThatThrownBy(() -> QueuePair.create(null, null, null, null, QueuePairOptions.defaults(), 1))
                .isInstanceOf(NullPointerException.class);
        assertThat(RdmaException.nameOf(RdmaException.ENOTSUP)).isEqualTo("SL_ENOTSUP");
        DeviceLimits none = new DeviceLimits(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0);
        assertThat(none.hasSharedReceiveQueues()).isFalse();
        assertThat(new DeviceLimits(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 64, 16384, 27).hasSharedReceiveQueues()).isTrue();
    }

    @Test
    void neverIssuedSrqHandleIsAnRdmaExceptionThenClosed() throws Exception {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        SharedReceiveQueue srq = new SharedReceiveQueue(BOGUS_SRQ, null, 16, 4);
        assertThatThrownBy(srq::outstanding).isInstanceOfSatisfying(RdmaException.class,
                e -> {
                    assertThat(e.status()).isEqualTo(RdmaException.EBADHANDLE);
                    assertThat(e.getMessage()).contains("sl_srq_outstanding").contains("never issued");
                });
        WorkRequestBatch batch = new WorkRequestBatch(2);
        batch.add().recv(1, LayoutTest.fakeRegion(0x0500_0000_0000_0001L, 64), 0, 64);
        assertThatThrownBy(() -> srq.postRecv(batch)).isInstanceOfSatisfying(RdmaException.class,
                e -> assertThat(e.status()).isEqualTo(RdmaException.EBADHANDLE));
        assertThat(srq.postRecv(new WorkRequestBatch(1))).isZero(); // empty: nothing to post
        // the shim refuses to destroy what it never issued: closed on the Java side all the same
        assertThatThrownBy(srq::close).isInstanceOf(UncheckedIOException.class);
        assertThat(srq.isClosed()).isTrue();
        srq.close(); // idempotent
        assertThatThrownBy(srq::outstanding).isInstanceOf(IllegalStateException.class)
                .hasMessage("SharedReceiveQueue closed");
        assertThatThrownBy(() -> srq.postRecv(batch)).isInstanceOf(IllegalStateException.class)
                .hasMessage("SharedReceiveQueue closed");
    }

    @Test
    void pollingArgumentsAndClosedQueue() throws Exception {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        CompletionQueue cq = new CompletionQueue(BOGUS_CQ, null, 16);
        CompletionBatch wc = new CompletionBatch(4);
        assertThatThrownBy(() -> cq.pollAdaptive(wc, -1, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spinMicros");
        assertThatThrownBy(() -> cq.pollAdaptive(wc, CompletionQueue.MAX_SPIN_MICROS + 1, 10))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cq.pollAdaptive(wc, 10, -2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeoutMs");
        assertThatThrownBy(cq::wake).isInstanceOfSatisfying(RdmaException.class,
                e -> assertThat(e.status()).isEqualTo(RdmaException.EBADHANDLE));
        assertThatThrownBy(() -> cq.pollAdaptive(wc, 10, 10)).isInstanceOfSatisfying(RdmaException.class,
                e -> assertThat(e.getMessage()).contains("sl_cq_poll_adaptive"));
        assertThat(wc.count()).isZero();
        assertThatThrownBy(cq::close).isInstanceOf(UncheckedIOException.class);
        assertThatThrownBy(cq::wake).isInstanceOf(IllegalStateException.class).hasMessage("CompletionQueue closed");
        assertThatThrownBy(() -> cq.pollWait(wc, 0)).isInstanceOf(IllegalStateException.class);
    }
}
