package io.shardlink.rdma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import io.shardlink.rdma.RdmaAvailability.Cause;

/** Opening real rxe devices (VM). */
@Tag("rdma")
class DeviceRdmaTest {

    @BeforeEach
    void rdma() {
        RdmaTestSupport.requireRdma(RdmaTestSupport.loopbackDevice());
    }

    @Test
    void availabilityNamesTheDevice() {
        String name = RdmaTestSupport.loopbackDevice();
        RdmaAvailability a = Rdma.availability(name, 1, 16L << 20);
        assertThat(a.available()).as(a.reason()).isTrue();
        assertThat(a.cause()).isEqualTo(Cause.AVAILABLE);
        assertThat(a.device()).isEqualTo(name);
        assertThat(a.reason()).contains(name).contains("ACTIVE");

        RdmaAvailability auto = Rdma.availability();
        assertThat(auto.available()).as(auto.reason()).isTrue();
        assertThat(auto.device()).isNotNull();

        RdmaAvailability missing = Rdma.availability("nosuchdev0", 1);
        assertThat(missing.available()).isFalse();
        assertThat(missing.cause()).isEqualTo(Cause.NO_DEVICE);
        assertThat(missing.reason()).contains("nosuchdev0").contains(name);
    }

    @Test
    void listsTheVmDevices() throws RdmaException {
        List<String> names = RdmaDevice.list().stream().map(DeviceInfo::name).collect(Collectors.toList());
        assertThat(names).contains(RdmaTestSupport.loopbackDevice());
        if (RdmaTestSupport.REQUIRED) {
            assertThat(names).contains(RdmaTestSupport.deviceA(), RdmaTestSupport.deviceB());
        }
        for (DeviceInfo d : RdmaDevice.list()) {
            assertThat(d.numPorts()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void openByNameReportsPortGidAndLimits() throws RdmaException {
        String name = RdmaTestSupport.loopbackDevice();
        try (RdmaDevice dev = RdmaDevice.open(name, 1)) {
            assertThat(dev.name()).isEqualTo(name);
            assertThat(dev.port()).isEqualTo(1);
            PortAttributes port = dev.portAttributes();
            assertThat(port.state()).isEqualTo(PortState.ACTIVE);
            assertThat(port.linkLayer()).isEqualTo(PortAttributes.LINK_LAYER_ETHERNET);
            assertThat(port.activeMtu()).isBetween(256, 4096);
            assertThat(port.maxMtu()).isGreaterThanOrEqualTo(port.activeMtu());
            assertThat(port.gidTableLength()).isPositive();
            byte[] gid = dev.gid(0);
            assertThat(gid).hasSize(16);
            assertThat(gid[0]).as("rxe's GID 0 is IPv6 link-local fe80::").isEqualTo((byte) 0xfe);
            assertThat(gid[1]).isEqualTo((byte) 0x80);
            assertThatThrownBy(() -> dev.gid(port.gidTableLength() + 10)).isInstanceOfSatisfying(RdmaException.class,
                    e -> assertThat(e.status()).isIn(RdmaException.ERANGE, RdmaException.EINVAL));
            DeviceLimits limits = dev.limits();
            assertThat(limits.maxQp()).isPositive();
            assertThat(limits.maxQpWr()).isPositive();
            assertThat(limits.maxSge()).isGreaterThanOrEqualTo(WorkRequestBatch.MAX_SGE);
            assertThat(limits.maxMrSize()).isNotZero();
            assertThat(limits.physPortCount()).isGreaterThanOrEqualTo(1);
        }
        MemlockLimit memlock = RdmaDevice.memlockLimit();
        assertThat(memlock.soft()).isPositive();
    }

    @Test
    void openAutoPicksAnActiveDevice() throws RdmaException {
        try (RdmaDevice dev = RdmaDevice.open(RdmaDevice.AUTO, 1)) {
            assertThat(dev.name()).isNotEqualTo(RdmaDevice.AUTO);
            assertThat(RdmaDevice.list().stream().map(DeviceInfo::name)).contains(dev.name());
            assertThat(dev.portAttributes().isActive()).isTrue();
        }
    }

    @Test
    void memlockBelowThePinnedBudgetIsReported() throws Exception {
        // a child JVM with a 1 MiB soft memlock limit asks for a 256 MiB budget
        String javaBin = java.nio.file.Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        String nativePath = System.getProperty(NativeLibrary.PATH_PROPERTY, "");
        String cmd = "ulimit -S -l 1024 && exec \"$0\" -Xmx64m -XX:TieredStopAtLevel=1 -Dshardlink.native.path=\"$1\""
                + " -cp \"$2\" io.shardlink.rdma.Rdma \"$3\" 1 268435456";
        Process p = new ProcessBuilder("bash", "-c", cmd, javaBin, nativePath, System.getProperty("java.class.path"),
                RdmaTestSupport.loopbackDevice()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("cause: MEMLOCK_TOO_LOW").contains("memlock limit (1 MiB")
                .contains("pinned-memory budget of 256 MiB").contains("ulimit -l");
    }

    @Test
    void unknownDeviceIsENODEV() {
        assertThatThrownBy(() -> RdmaDevice.open("nosuchdev0", 1)).isInstanceOfSatisfying(RdmaException.class,
                e -> assertThat(e.status()).isEqualTo(RdmaException.ENODEV));
    }

    @Test
    void deviceWithChildrenRefusesToCloseAndUseAfterCloseIsIllegalState() throws RdmaException {
        RdmaDevice dev = RdmaDevice.open(RdmaTestSupport.loopbackDevice(), 1);
        ProtectionDomain pd = ProtectionDomain.create(dev);
        assertThatThrownBy(dev::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("still in use");
        assertThat(dev.isClosed()).isFalse();
        assertThat(dev.portAttributes().isActive()).isTrue();
        pd.close();
        pd.close();
        dev.close();
        dev.close();
        assertThatThrownBy(dev::portAttributes).isInstanceOf(IllegalStateException.class)
                .hasMessage("RdmaDevice closed");
        assertThatThrownBy(() -> ProtectionDomain.create(dev)).isInstanceOf(IllegalStateException.class)
                .hasMessage("RdmaDevice closed");
    }
}
