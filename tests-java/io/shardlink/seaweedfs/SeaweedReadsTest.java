package io.shardlink.seaweedfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.Transport;
import io.shardlink.testing.SeaweedReadChecks;
import io.shardlink.testing.TestNodes;
import io.shardlink.wire.ErrorCode;
import io.shardlink.wire.FrameCodec;
import io.shardlink.wire.FrameException;
import io.shardlink.wire.FrameHeader;
import io.shardlink.wire.FrameLimits;
import io.shardlink.wire.FrameType;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SeaweedFS needle reads between two nodes over QUIC (the host has no RDMA; the VM twin is SeaweedReadsRdmaTest). */
class SeaweedReadsTest {
    @TempDir
    static Path tmp;
    static SeaweedReadChecks checks;
    static SeaweedVolumes volumes;
    static ShardlinkNode server;
    static ShardlinkNode client;
    static Peer peer;

    @BeforeAll
    static void start() throws Exception {
        checks = SeaweedReadChecks.prepare(tmp.resolve("vols"));
        volumes = SeaweedVolumes.open(tmp.resolve("vols"));
        server = ShardlinkNode.start(TestNodes.config("sw-server").requestTimeout(Duration.ofSeconds(180)).build());
        server.blobSource(volumes);
        // 1,000 reads in flight on a loaded 2-core CI host: room for the queue, not a latency assertion
        client = ShardlinkNode.start(TestNodes.config("sw-client").requestTimeout(Duration.ofSeconds(180)).build());
        peer = client.connect(server.localAddress());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
        volumes.close();
    }

    @Test
    void everyLiveNeedleByteExact() throws Exception {
        checks.everyLiveNeedleByteExact(peer, Transport.QUIC);
    }

    @Test
    void checksumMismatchForThatNeedleOnly() throws Exception {
        checks.checksumMismatchForThatNeedleOnly(peer, Transport.QUIC);
    }

    @Test
    void notFound() throws Exception {
        checks.notFoundCases(peer);
    }

    @Test
    void truncatedDat() throws Exception {
        checks.truncatedDat(peer, Transport.QUIC);
    }

    @Test
    void thousandConcurrentReads() throws Exception {
        checks.thousandConcurrentReads(peer, Transport.QUIC);
    }

    @Test
    void theCookieIsAVersionedAdditionToReadReq() {
        FrameLimits limits = FrameLimits.of(4 << 20);
        ByteBuf b = Unpooled.buffer();
        FrameHeader req = new FrameHeader(FrameType.READ_REQ).id(5).object(3).aux(1).arg(100).cookie(0xF37037D6L);
        FrameCodec.encodeHeader(req, b);
        assertThat(b.getInt(52)).isEqualTo(0xF37037D6);
        assertThat(b.getUnsignedShort(6)).isEqualTo(FrameHeader.FLAG_COOKIE);
        FrameHeader got = FrameCodec.decodeHeader(b, new FrameHeader(), limits);
        assertThat(got.cookie()).isEqualTo(0xF37037D6L);
        // without a cookie the frame is byte for byte what a first-version node sends
        b.clear();
        FrameCodec.encodeHeader(new FrameHeader(FrameType.READ_REQ).id(5).object(3).aux(1).arg(100).cookie(-1), b);
        assertThat(b.getUnsignedShort(6)).isZero();
        assertThat(b.getInt(52)).isZero();
        assertThat(FrameCodec.decodeHeader(b, new FrameHeader(), limits).cookie()).isEqualTo(-1);
        // the flag belongs to READ_REQ only, and the last word stays reserved everywhere else
        b.clear();
        FrameCodec.encodeHeader(new FrameHeader(FrameType.READ_RESP).id(5).flags(FrameHeader.FLAG_COOKIE).ext(9), b);
        assertThatThrownBy(() -> FrameCodec.decodeHeader(b, new FrameHeader(), limits))
                .isInstanceOf(FrameException.class).hasMessageContaining("only READ_REQ carries a cookie")
                .matches(e -> ((FrameException) e).code() == ErrorCode.BAD_HEADER);
        b.clear();
        FrameCodec.encodeHeader(new FrameHeader(FrameType.READ_REQ).id(5).ext(9), b);
        assertThatThrownBy(() -> FrameCodec.decodeHeader(b, new FrameHeader(), limits))
                .isInstanceOf(FrameException.class).hasMessageContaining("non-zero reserved field");
    }
}
