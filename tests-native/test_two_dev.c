/*
 * test_two_dev - a QP on rxea and one on rxeb (traffic crosses the veth pair): RDMA WRITE, WRITE
 * WITH IMMEDIATE and READ, each verified at the target.
 */
#include "t.h"

#define LEN (64u * 1024)   /* READs stay well below the veth backlog (see rxe-vm notes) */

int main(void)
{
    sl_handle da = t_open(t_dev_name("SHARDLINK_RXE_A", "rxea"));
    sl_handle db = t_open(t_dev_name("SHARDLINK_RXE_B", "rxeb"));
    t_end a, b;
    t_buf la, rb;
    sl_completion c[2];
    sl_wr w;
    int64_t bad;

    t_end_init(&a, da, NULL, 0);
    t_end_init(&b, db, NULL, 0);
    t_connect(&a, &b, NULL);
    t_buf_init(&la, a.pd, 4 * LEN, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&rb, b.pd, 4 * LEN, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ);

    /* WRITE: a's bytes appear in b's memory, b sees no completion */
    t_fill(la.p, LEN, 31);
    w = t_wr(1, SL_OP_WRITE, &la, 0, LEN);
    w.remote_addr = rb.info.addr + LEN;
    w.rkey = rb.info.rkey;
    OK(sl_post_send(a.qp, &w, 1, NULL));
    COLLECT(a.cq, c, 1, 60000);
    CHECKF(c[0].status == 0, "WRITE status %u (%s)", c[0].status, sl_wc_status_str(c[0].status));
    CHECK(c[0].wr_id == 1 && c[0].opcode == SL_OP_WRITE);
    bad = t_check(rb.p + LEN, LEN, 31);
    CHECKF(bad < 0, "WRITE target differs at byte %lld", (long long)bad);
    for (uint32_t i = 0; i < LEN; i++)
        CHECK(rb.p[i] == 0 && rb.p[2 * LEN + i] == 0);
    printf("WRITE %u bytes rxea -> rxeb: ok\n", LEN);

    /* WRITE WITH IMMEDIATE: bytes land, and a receive completes with the immediate */
    {
        sl_wr rw = t_wr(2, SL_OP_RECV, NULL, 0, 0);
        OK(sl_post_recv(b.qp, &rw, 1, NULL));
        t_fill(la.p, 4096, 32);
        w = t_wr(3, SL_OP_WRITE_IMM, &la, 0, 4096);
        w.remote_addr = rb.info.addr + 2 * LEN;
        w.rkey = rb.info.rkey;
        w.imm = 0x12345678;
        OK(sl_post_send(a.qp, &w, 1, NULL));
        COLLECT(a.cq, c, 1, 60000);
        CHECKF(c[0].status == 0, "WRITE_IMM status %u (%s)", c[0].status, sl_wc_status_str(c[0].status));
        CHECK(c[0].wr_id == 3 && c[0].opcode == SL_OP_WRITE_IMM);
        COLLECT(b.cq, c + 1, 1, 60000);
        CHECKF(c[1].status == 0, "recv status %u", c[1].status);
        CHECKF(c[1].wr_id == 2 && c[1].opcode == SL_OP_RECV_IMM, "recv wr_id %llu opcode %u",
               (unsigned long long)c[1].wr_id, c[1].opcode);
        CHECK(c[1].flags & SL_WC_WITH_IMM);
        CHECKF(c[1].imm == 0x12345678, "imm 0x%08x", c[1].imm);
        CHECKF(c[1].byte_len == 4096, "byte_len %u", c[1].byte_len);
        bad = t_check(rb.p + 2 * LEN, 4096, 32);
        CHECKF(bad < 0, "WRITE_IMM target differs at byte %lld", (long long)bad);
        printf("WRITE_IMM 4096 bytes, imm 0x%08x: ok\n", c[1].imm);
    }

    /* READ: b's bytes come back into a's memory */
    t_fill(rb.p + 3 * LEN, LEN, 33);
    memset(la.p, 0, la.len);
    w = t_wr(4, SL_OP_READ, &la, LEN, LEN);
    w.remote_addr = rb.info.addr + 3 * LEN;
    w.rkey = rb.info.rkey;
    OK(sl_post_send(a.qp, &w, 1, NULL));
    COLLECT(a.cq, c, 1, 60000);
    CHECKF(c[0].status == 0, "READ status %u (%s)", c[0].status, sl_wc_status_str(c[0].status));
    CHECK(c[0].wr_id == 4 && c[0].opcode == SL_OP_READ);
    bad = t_check(la.p + LEN, LEN, 33);
    CHECKF(bad < 0, "READ result differs at byte %lld", (long long)bad);
    for (uint32_t i = 0; i < LEN; i++)
        CHECK(la.p[i] == 0);
    printf("READ %u bytes rxeb -> rxea: ok\n", LEN);

    t_buf_fini(&la);
    t_buf_fini(&rb);
    t_end_fini(&a);
    t_end_fini(&b);
    OK(sl_device_close(da));
    OK(sl_device_close(db));
    printf("test_two_dev: OK\n");
    return 0;
}
