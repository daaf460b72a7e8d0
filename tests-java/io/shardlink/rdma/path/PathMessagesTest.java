package io.shardlink.rdma.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The RDMA path's own encodings: control messages, the endpoint blob, immediates, reply-ring pages. Host. */
class PathMessagesTest {
    @Test
    void controlMessagesRoundTrip() {
        PathMessages.Message req = PathMessages.decode(PathMessages.ringRequest(7, 42, 33_554_432L, 1 << 20));
        assertThat(req.type()).isEqualTo(PathMessages.RING_REQ);
        assertThat(req.request()).isEqualTo(new PathMessages.RingRequest(7, 42, 33_554_432L, 1 << 20));

        PathMessages.RingGrant g = new PathMessages.RingGrant(7, 1023, 15, 0x7f00_1234_5000L, 0xdeadbeef,
                (1 << 20) + 4096, 8);
        PathMessages.Message grant = PathMessages.decode(PathMessages.ringGrant(g));
        assertThat(grant.type()).isEqualTo(PathMessages.RING_GRANT);
        assertThat(grant.grant()).isEqualTo(g);

        PathMessages.Message decline = PathMessages.decode(PathMessages.ringDecline(7, "no room: 250.0 MiB of 256.0"));
        assertThat(decline.type()).isEqualTo(PathMessages.RING_DECLINE);
        assertThat(decline.transferId()).isEqualTo(7);
        assertThat(decline.text()).isEqualTo("no room: 250.0 MiB of 256.0");

        assertThat(PathMessages.decode(PathMessages.pathReady()).type()).isEqualTo(PathMessages.PATH_READY);
        assertThat(PathMessages.decode(PathMessages.ok()).type()).isEqualTo(PathMessages.OK);
        assertThat(PathMessages.decode(PathMessages.pathDown("retry exceeded")).text()).isEqualTo("retry exceeded");
        assertThat(PathMessages.decode(PathMessages.refused("ü")).text()).isEqualTo("ü");
        assertThat(PathMessages.decode(PathMessages.refused("x".repeat(10_000))).text()).hasSize(2000);
    }

    @Test
    void malformedControlMessagesAreRefusedWithAReason() {
        assertThatThrownBy(() -> PathMessages.decode(new byte[0])).hasMessageContaining("no answer");
        assertThatThrownBy(() -> PathMessages.decode(new byte[] {99})).hasMessageContaining("unknown RDMA control");
        byte[] req = PathMessages.ringRequest(1, 2, 3, 4);
        assertThatThrownBy(() -> PathMessages.decode(Arrays.copyOf(req, req.length - 1)))
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> PathMessages.decode(Arrays.copyOf(req, req.length + 1)))
                .hasMessageContaining("trailing");
    }

    @Test
    void endpointBlobRoundTripAndValidation() {
        byte[] qp = new byte[40];
        Arrays.fill(qp, (byte) 7);
        byte[] blob = PathMessages.endpoint(qp, 0x1000, 0x55, 514, 4096);
        assertThat(blob).hasSize(PathMessages.ENDPOINT_SIZE);
        PathMessages.Endpoint e = PathMessages.decodeEndpoint(blob);
        assertThat(e.qp()).isEqualTo(qp);
        assertThat(e.replyRingAddress()).isEqualTo(0x1000);
        assertThat(e.replyRingRkey()).isEqualTo(0x55);
        assertThat(e.replyRingPages()).isEqualTo(514);
        assertThat(e.pageSize()).isEqualTo(4096);

        assertThatThrownBy(() -> PathMessages.decodeEndpoint("fake-qp-of-x".getBytes()))
                .hasMessageContaining("must be " + PathMessages.ENDPOINT_SIZE + " bytes");
        byte[] bad = blob.clone();
        bad[0] = 'X';
        assertThatThrownBy(() -> PathMessages.decodeEndpoint(bad)).hasMessageContaining("magic");
        byte[] badVersion = blob.clone();
        badVersion[4] = 9;
        assertThatThrownBy(() -> PathMessages.decodeEndpoint(badVersion)).hasMessageContaining("version 9");
    }

    @Test
    void immediatesCarryRingGenerationSlotAndPage() {
        int imm = Imm.copyData(1023, 15, 65535);
        assertThat(Imm.kind(imm)).isEqualTo(Imm.W_COPY_DATA);
        assertThat(Imm.ring(imm)).isEqualTo(1023);
        assertThat(Imm.generation(imm)).isEqualTo(15);
        assertThat(Imm.slot(imm)).isEqualTo(65535);
        int r = Imm.readReply(Imm.MAX_PAGES - 1);
        assertThat(Imm.kind(r)).isEqualTo(Imm.W_READ_REPLY);
        assertThat(Imm.page(r)).isEqualTo(Imm.MAX_PAGES - 1);
        int s = Imm.send(Imm.S_READ_REQ, 12345);
        assertThat(Imm.kind(s)).isEqualTo(Imm.S_READ_REQ);
        assertThat(Imm.page(s)).isEqualTo(12345);
        assertThat(Imm.kind(Imm.send(Imm.S_TO_SENDER, 0))).isEqualTo(Imm.S_TO_SENDER);
        assertThat(Imm.kind(Imm.send(Imm.S_TO_RECEIVER, 0))).isEqualTo(Imm.S_TO_RECEIVER);
    }

    @Test
    void pageAllocatorFindsRunsAndQueuesNothingItCannotFit() {
        PageAllocator p = new PageAllocator(10);
        int a = p.allocate(4);
        int b = p.allocate(4);
        assertThat(a).isEqualTo(0);
        assertThat(b).isEqualTo(4);
        assertThat(p.allocate(3)).isEqualTo(-1);
        assertThat(p.free()).isEqualTo(2);
        p.free(a, 4);
        int c = p.allocate(3); // wraps around to the start
        assertThat(c).isEqualTo(0);
        assertThat(p.allocate(2)).isEqualTo(8);
        assertThat(p.allocate(1)).isEqualTo(3);
        assertThat(p.free()).isZero();
        assertThatThrownBy(() -> p.free(9, 2)).isInstanceOf(IllegalArgumentException.class);
        p.free(b, 4);
        assertThatThrownBy(() -> p.free(b, 4)).hasMessageContaining("not allocated");
        assertThat(PageAllocator.pagesFor(56 + 4096, 4096)).isEqualTo(2);
        assertThat(PageAllocator.pagesFor(56, 4096)).isEqualTo(1);
    }

    @Test
    void pinnedBudgetNeverGoesOverItsLimitForRings() {
        PinnedBudget b = new PinnedBudget(100);
        assertThat(b.tryReserve(60)).isTrue();
        assertThat(b.tryReserve(50)).isFalse();
        b.charge(50); // the pool's own buffers are bounded elsewhere
        assertThat(b.used()).isEqualTo(110);
        assertThat(b.tryReserve(1)).isFalse();
        b.release(60);
        assertThat(b.tryReserve(40)).isTrue();
        assertThatThrownBy(() -> b.release(1000)).isInstanceOf(IllegalStateException.class);
    }
}
