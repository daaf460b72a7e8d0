/*
 * test_loopback - an RC pair on one device (rxe0): SEND/RECV of 1 B, 4 KiB and 1 MiB verified byte
 * for byte, SEND WITH IMMEDIATE of 0 bytes, a 3-SGE gather, both directions; endpoint blob contents.
 */
#include "t.h"

#define BIG (1u << 20)

/* a sends len bytes (from src at offset 0) to b's dst; both completions are checked. */
static void send_recv(t_end *a, t_end *b, t_buf *src, t_buf *dst, uint32_t len, uint32_t seed)
{
    sl_completion c[2];
    sl_wr rw = t_wr(1000 + len, SL_OP_RECV, dst, 0, (uint32_t)dst->len);
    sl_wr sw = t_wr(2000 + len, SL_OP_SEND, src, 0, len);
    uint32_t posted = 99, so, ro;
    int64_t bad;

    t_fill(src->p, len, seed);
    memset(dst->p, 0, dst->len);
    OK(sl_post_recv(b->qp, &rw, 1, &posted));
    CHECK(posted == 1);
    OK(sl_qp_outstanding(b->qp, &so, &ro));
    CHECK(so == 0 && ro == 1);
    OK(sl_post_send(a->qp, &sw, 1, &posted));
    CHECK(posted == 1);
    COLLECT(a->cq, c, 1, 60000);
    CHECKF(c[0].status == 0, "send completion status %u (%s)", c[0].status, sl_wc_status_str(c[0].status));
    CHECK(c[0].wr_id == 2000 + len && c[0].opcode == SL_OP_SEND && c[0].flags == 0);
    COLLECT(b->cq, c + 1, 1, 60000);
    CHECKF(c[1].status == 0, "recv completion status %u (%s)", c[1].status, sl_wc_status_str(c[1].status));
    CHECK(c[1].wr_id == 1000 + len && c[1].opcode == SL_OP_RECV);
    CHECKF(c[1].byte_len == len, "byte_len %u, sent %u", c[1].byte_len, len);
    bad = t_check(dst->p, len, seed);
    CHECKF(bad < 0, "%u-byte message differs at byte %lld", len, (long long)bad);
    for (uint64_t i = len; i < dst->len; i++)
        CHECKF(dst->p[i] == 0, "byte %llu past the message was written", (unsigned long long)i);
    OK(sl_qp_outstanding(a->qp, &so, &ro));
    CHECK(so == 0 && ro == 0);
    OK(sl_qp_outstanding(b->qp, &so, &ro));
    CHECK(so == 0 && ro == 0);
    printf("SEND/RECV %u bytes: ok\n", len);
}

int main(void)
{
    sl_handle dev = t_open(t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0"));
    t_end a, b;
    t_buf sa, ra, sb, rb;
    uint8_t blob[SL_ENDPOINT_SIZE], gid[16];
    sl_endpoint ep;
    sl_port_attr pa;
    sl_completion c[2];
    uint32_t qpn;

    t_end_init(&a, dev, NULL, 0);
    t_end_init(&b, dev, NULL, 0);

    /* the endpoint blob says what this QP is */
    OK(sl_qp_endpoint(a.qp, blob));
    OK(sl_endpoint_decode(blob, sizeof(blob), &ep));
    OK(sl_qp_num(a.qp, &qpn));
    OK(sl_port_query(dev, 1, &pa));
    OK(sl_gid_query(dev, 1, 0, gid));
    CHECK(memcmp(blob, "SLEP", 4) == 0 && ep.version == SL_ENDPOINT_VERSION);
    CHECK(ep.qpn == qpn && ep.port == 1 && ep.gid_index == 0 && ep.lid == pa.lid);
    CHECKF((128u << ep.mtu) == pa.active_mtu, "blob mtu %u vs active %u bytes", ep.mtu, pa.active_mtu);
    CHECK(memcmp(ep.gid, gid, 16) == 0);
    CHECK(ep.psn <= 0xffffff);

    t_connect(&a, &b, NULL);
    t_buf_init(&sa, a.pd, BIG, 0);
    t_buf_init(&ra, a.pd, BIG, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&sb, b.pd, BIG, 0);
    t_buf_init(&rb, b.pd, BIG, SL_ACCESS_LOCAL_WRITE);

    send_recv(&a, &b, &sa, &rb, 1, 11);
    send_recv(&a, &b, &sa, &rb, 4096, 12);
    send_recv(&a, &b, &sa, &rb, BIG, 13);     /* 1 MiB: many MTU-sized packets */
    send_recv(&b, &a, &sb, &ra, BIG, 14);     /* and back */
    send_recv(&b, &a, &sb, &ra, 4097, 15);

    /* SEND WITH IMMEDIATE, no payload: the immediate arrives in host order */
    {
        sl_wr rw = t_wr(7, SL_OP_RECV, NULL, 0, 0);
        sl_wr sw = t_wr(8, SL_OP_SEND_IMM, NULL, 0, 0);
        sw.imm = 0xdeadbeef;
        OK(sl_post_recv(b.qp, &rw, 1, NULL));
        OK(sl_post_send(a.qp, &sw, 1, NULL));
        COLLECT(a.cq, c, 1, 60000);
        CHECK(c[0].status == 0 && c[0].wr_id == 8 && c[0].opcode == SL_OP_SEND_IMM);
        COLLECT(b.cq, c + 1, 1, 60000);
        CHECK(c[1].status == 0 && c[1].wr_id == 7 && c[1].opcode == SL_OP_RECV);
        CHECK((c[1].flags & SL_WC_WITH_IMM) && c[1].imm == 0xdeadbeef && c[1].byte_len == 0);
        printf("SEND_IMM 0 bytes: imm 0x%08x ok\n", c[1].imm);
    }

    /* a 3-SGE gather lands as one contiguous message */
    {
        sl_wr rw = t_wr(9, SL_OP_RECV, &rb, 0, 3 * 1000);
        sl_wr sw = t_wr(10, SL_OP_SEND, &sa, 0, 1000);
        t_fill(sa.p, 3 * 4096, 21);
        memset(rb.p, 0, 3 * 4096);
        sw.num_sge = 3;
        for (int i = 1; i < 3; i++) {
            sw.sge[i].mr = sa.mr;
            sw.sge[i].offset = (uint64_t)i * 1000;
            sw.sge[i].length = 1000;
        }
        OK(sl_post_recv(b.qp, &rw, 1, NULL));
        OK(sl_post_send(a.qp, &sw, 1, NULL));
        COLLECT(a.cq, c, 1, 60000);
        CHECK(c[0].status == 0 && c[0].wr_id == 10);
        COLLECT(b.cq, c + 1, 1, 60000);
        CHECK(c[1].status == 0 && c[1].wr_id == 9 && c[1].byte_len == 3000);
        CHECK(memcmp(rb.p, sa.p, 3000) == 0);
        printf("3-SGE gather: ok\n");
    }

    t_buf_fini(&sa);
    t_buf_fini(&ra);
    t_buf_fini(&sb);
    t_buf_fini(&rb);
    t_end_fini(&a);
    t_end_fini(&b);
    OK(sl_device_close(dev));
    printf("test_loopback: OK\n");
    return 0;
}
