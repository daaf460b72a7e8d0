package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaAvailability.Cause;

/**
 * Host tests: loading is tolerant and availability explains itself. On this project's hosts the
 * kernel has no RDMA (ibv_get_device_list fails with ENOSYS) and the library is built whenever
 * libibverbs-dev is installed (native/jni/build.sh).
 */
class NativeLibraryTest {

    /** build.sh builds the library whenever these headers exist; then it must load. */
    static boolean libraryExpected() {
        return Files.isRegularFile(Paths.get("/usr/include/infiniband/verbs.h"))
                && !Boolean.getBoolean("shardlink.native.skip");
    }

    /** ibv_get_device_list returns ENOSYS when the kernel exposes no uverbs ABI. */
    static boolean kernelWithoutRdma() {
        return !Files.exists(Paths.get("/sys/class/infiniband_verbs/abi_version"));
    }

    @Test
    void loadingNeverThrowsAndStatusIsStable() {
        RdmaAvailability first = NativeLibrary.status();
        RdmaAvailability again = NativeLibrary.status();
        assertThat(again).isSameAs(first);
        assertThat(first.reason()).isNotBlank();
        if (first.available()) {
            assertThat(NativeLibrary.loadedFrom()).isNotNull();
        } else {
            assertThat(first.reason()).startsWith("RDMA unavailable: ").endsWith("; using QUIC");
        }
    }

    @Test
    void libraryLoadsWhenItCouldBeBuilt() {
        assumeTrue(libraryExpected(), "libibverbs-dev not installed: the native library is not built here");
        assertThat(NativeLibrary.status().available()).as(NativeLibrary.status().reason()).isTrue();
    }

    @Test
    void notBuiltLibraryExplainsHowToFix() {
        assumeTrue(!NativeLibrary.isLoaded(), "the native library is loaded");
        RdmaAvailability a = Rdma.availability();
        assertThat(a.available()).isFalse();
        assertThat(a.cause()).isIn(Cause.NATIVE_LIBRARY_NOT_BUILT, Cause.NATIVE_LIBRARY_BROKEN,
                Cause.VERBS_LIBRARY_MISSING, Cause.UNSUPPORTED_PLATFORM);
    }

    @Test
    void hostWithoutKernelSupportIsUnavailableWithAReason() {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        assumeTrue(kernelWithoutRdma(), "this kernel has RDMA support");
        RdmaAvailability auto = Rdma.availability();
        assertThat(auto.available()).isFalse();
        assertThat(auto.cause()).isEqualTo(Cause.NO_KERNEL_SUPPORT);
        assertThat(auto.reason()).isEqualTo("RDMA unavailable: this kernel has no RDMA support "
                + "(ibv_get_device_list: Function not implemented, errno 38); using QUIC");

        RdmaAvailability named = Rdma.availability("rxe0", 1, 64L << 20);
        assertThat(named.available()).isFalse();
        assertThat(named.cause()).isEqualTo(Cause.NO_KERNEL_SUPPORT);
        assertThat(named.device()).isEqualTo("rxe0");
        assertThat(named.port()).isEqualTo(1);
    }

    @Test
    void deviceCallsOnAHostWithoutRdmaThrowRdmaExceptionWithErrno() {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        assumeTrue(kernelWithoutRdma(), "this kernel has RDMA support");
        assertThatThrownBy(RdmaDevice::list).isInstanceOfSatisfying(RdmaException.class, e -> {
            assertThat(e.status()).isEqualTo(RdmaException.ENODEV);
            assertThat(e.statusName()).isEqualTo("SL_ENODEV");
            assertThat(e.errno()).isEqualTo(38);
            assertThat(e.getMessage()).contains("ibv_get_device_list");
        });
        assertThatThrownBy(() -> RdmaDevice.open("auto", 1)).isInstanceOfSatisfying(RdmaException.class,
                e -> assertThat(e.status()).isEqualTo(RdmaException.ENODEV));
    }

    @Test
    void memlockLimitNeedsNoDevice() throws RdmaException {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        MemlockLimit limit = RdmaDevice.memlockLimit();
        assertThat(limit.soft()).isPositive();
        assertThat(limit.hard()).isGreaterThanOrEqualTo(limit.soft());
    }

    @Test
    void nativeStatusNamesMatchJava() throws RdmaException {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        for (int status = 0; status >= RdmaException.EACCES; status--) {
            assertThat(NativeLibrary.statusName(status)).as("status %d", status).isEqualTo(RdmaException.nameOf(status));
        }
        assertThat(NativeLibrary.wcStatusText(0)).isNotBlank();
        assertThat(NativeLibrary.wcStatusText(10)).isNotBlank(); // IBV_WC_REM_ACCESS_ERR
    }

    @Test
    void staleHandlesBecomeRdmaExceptionsNotCrashes() throws RdmaException {
        assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.status().reason());
        CompletionBatch completions = new CompletionBatch(4);
        WorkRequestBatch wrs = new WorkRequestBatch(2);
        long bogus = 0x0123_4567_89ab_cdefL;
        for (long handle : new long[] {0L, bogus}) {
            assertThatThrownBy(() -> CompletionQueue.nativePoll(handle, completions.address(), 4))
                    .isInstanceOfSatisfying(RdmaException.class, e -> {
                        assertThat(e.status()).isEqualTo(RdmaException.EBADHANDLE);
                        assertThat(e.statusName()).isEqualTo("SL_EBADHANDLE");
                        assertThat(e.getMessage()).isNotBlank();
                    });
            assertThatThrownBy(() -> QueuePair.nativePostSend(handle, wrs.address(), 1))
                    .isInstanceOfSatisfying(RdmaException.class,
                            e -> assertThat(e.status()).isEqualTo(RdmaException.EBADHANDLE));
            assertThatThrownBy(() -> QueuePair.nativePostRecv(handle, wrs.address(), 1))
                    .isInstanceOfSatisfying(RdmaException.class,
                            e -> assertThat(e.status()).isEqualTo(RdmaException.EBADHANDLE));
        }
    }

    @Test
    void missingVerbsLibraryIsExplained() {
        String msg = "/tmp/libshardlink_jni-1.so: libibverbs.so.1: cannot open shared object file: "
                + "No such file or directory";
        assertThat(NativeLibrary.classifyLinkError(msg)).isEqualTo(Cause.VERBS_LIBRARY_MISSING);
        assertThat(NativeLibrary.reasonForLinkError(Path.of("/tmp/libshardlink_jni-1.so"), msg))
                .startsWith("RDMA unavailable: libibverbs.so.1 not found: install rdma-core "
                        + "(apt-get install rdma-core ibverbs-providers); using QUIC");
        String other = "/x/libshardlink_jni.so: invalid ELF header";
        assertThat(NativeLibrary.classifyLinkError(other)).isEqualTo(Cause.NATIVE_LIBRARY_BROKEN);
        assertThat(NativeLibrary.reasonForLinkError(Path.of("/x/libshardlink_jni.so"), other))
                .contains("invalid ELF header").contains("rebuild");
    }

    @Test
    void exceptionTextCarriesStatusAndErrno() {
        RdmaException e = new RdmaException(RdmaException.EVERBS, "SL_EVERBS", 110,
                "sl_qp_connect: ibv_modify_qp(RTR) failed: Connection timed out (errno 110)");
        assertThat(e).isInstanceOf(java.io.IOException.class);
        assertThat(e.toString()).contains("SL_EVERBS").contains("errno 110").contains("ibv_modify_qp");
        assertThat(RdmaException.nameOf(-12)).isEqualTo("SL_EACCES");
        assertThat(RdmaException.nameOf(-99)).isEqualTo("SL_UNKNOWN(-99)");
    }
}
