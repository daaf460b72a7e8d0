/*
 * test_mw_isolation - type-2 memory windows keep one peer out of another peer's memory.
 *
 * A "node" R on rxea has ONE protection domain and two queue pairs, one to peer Y and one to peer X
 * (both on rxeb, traffic crosses the veth pair). R registers a ring LOCAL_WRITE | MW_BIND (no
 * remote rights) and binds a type-2 window to it through its QP to Y. Then:
 *   - Y writes through the window's rkey: lands, verified;
 *   - X writes with the SAME rkey and address: remote access error, the ring's bytes unchanged;
 *   - a third peer Z uses the region's own rkey: remote access error (the region grants nothing);
 *   - after sl_mw_dealloc (revoke), Y's next write with the old rkey: remote access error.
 * Plus the shim's argument checks (bad access, no MW_BIND, double bind, wrong state, busy
 * region / QP while bound, stale handles).
 */
#include "t.h"

#define RING (64u * 1024)
#define LEN 4096u

static void peer(t_end *remote_side, sl_handle dev_r, sl_handle pd_r, sl_handle cq_r, t_end *p, sl_handle dev_p)
{
    sl_qp_opts qo;

    sl_qp_opts_default(&qo);
    t_end_init(p, dev_p, &qo, 0);
    remote_side->dev = dev_r;
    remote_side->pd = pd_r;
    remote_side->cq = cq_r;
    OK(sl_qp_create(pd_r, cq_r, cq_r, &qo, &remote_side->qp));
    t_connect(remote_side, p, NULL);
}

/* p writes LEN bytes of pattern `seed` at ring+off with rkey; returns the completion status. */
static uint32_t write_from(t_end *p, t_buf *src, uint64_t raddr, uint32_t rkey, uint32_t seed, uint64_t id)
{
    sl_completion c;
    sl_wr w;

    t_fill(src->p, LEN, seed);
    w = t_wr(id, SL_OP_WRITE, src, 0, LEN);
    w.remote_addr = raddr;
    w.rkey = rkey;
    OK(sl_post_send(p->qp, &w, 1, NULL));
    COLLECT(p->cq, &c, 1, 60000);
    CHECK(c.wr_id == id);
    return c.status;
}

static int all_zero(const uint8_t *p, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

int main(void)
{
    sl_handle dr = t_open(t_dev_name("SHARDLINK_RXE_A", "rxea"));
    sl_handle dp = t_open(t_dev_name("SHARDLINK_RXE_B", "rxeb"));
    sl_handle pd, cq, mw, mw2;
    t_end ry, rx, rz, y, x, z;
    t_buf ring, plain, sy, sx, sz;
    sl_completion c;
    uint32_t rkey, st;
    int64_t bad;

    OK(sl_pd_create(dr, &pd));
    OK(sl_cq_create(dr, 512, &cq));
    peer(&ry, dr, pd, cq, &y, dp);
    peer(&rx, dr, pd, cq, &x, dp);
    peer(&rz, dr, pd, cq, &z, dp);
    t_buf_init(&ring, pd, RING, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_MW_BIND);
    t_buf_init(&plain, pd, RING, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&sy, y.pd, LEN, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&sx, x.pd, LEN, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&sz, z.pd, LEN, SL_ACCESS_LOCAL_WRITE);

    /* argument checks before any bind */
    OK(sl_mw_alloc(pd, &mw));
    OK(sl_mw_rkey(mw, &rkey));
    CHECKF(rkey != ring.info.rkey, "window rkey 0x%x equals the region's", rkey);
    EXPECT_RC(sl_mw_alloc(pd, NULL), SL_EINVAL);
    EXPECT_RC(sl_mw_alloc(cq, &mw2), SL_EBADHANDLE);
    EXPECT_RC(sl_mw_rkey(ring.mr, &st), SL_EBADHANDLE);
    EXPECT_RC(sl_mw_bind(ry.qp, mw, ring.mr, 0, RING, 0, 1), SL_EINVAL);
    EXPECT_RC(sl_mw_bind(ry.qp, mw, ring.mr, 0, RING, SL_ACCESS_LOCAL_WRITE, 1), SL_EINVAL);
    EXPECT_RC(sl_mw_bind(ry.qp, mw, ring.mr, 0, 0, SL_ACCESS_REMOTE_WRITE, 1), SL_EINVAL);
    EXPECT_RC(sl_mw_bind(ry.qp, mw, plain.mr, 0, RING, SL_ACCESS_REMOTE_WRITE, 1), SL_EACCES);
    EXPECT_ERR_TEXT("SL_ACCESS_MW_BIND");
    EXPECT_RC(sl_mw_bind(ry.qp, mw, ring.mr, 4096, RING, SL_ACCESS_REMOTE_WRITE, 1), SL_ERANGE);
    EXPECT_RC(sl_mw_bind(ry.qp, mw, sy.mr, 0, LEN, SL_ACCESS_REMOTE_WRITE, 1), SL_EINVAL); /* other PD */
    EXPECT_RC(sl_mw_bind(mw, mw, ring.mr, 0, RING, SL_ACCESS_REMOTE_WRITE, 1), SL_EBADHANDLE);

    /* bind through R's QP to Y */
    OK(sl_mw_bind(ry.qp, mw, ring.mr, 0, RING, SL_ACCESS_REMOTE_WRITE, 100));
    COLLECT(cq, &c, 1, 60000);
    CHECKF(c.status == 0, "bind status %u (%s)", c.status, sl_wc_status_str(c.status));
    CHECKF(c.wr_id == 100 && c.opcode == SL_OP_BIND_MW, "bind completion wr_id %llu opcode %u",
           (unsigned long long)c.wr_id, c.opcode);
    EXPECT_RC(sl_mw_bind(ry.qp, mw, ring.mr, 0, RING, SL_ACCESS_REMOTE_WRITE, 101), SL_ESTATE);
    EXPECT_RC(sl_mr_deregister(ring.mr), SL_EBUSY);
    EXPECT_RC(sl_qp_destroy(ry.qp), SL_EBUSY);
    printf("bound a type-2 window (rkey 0x%08x) through R's QP to Y; region rkey 0x%08x\n", rkey,
           ring.info.rkey);

    /* Y, the peer it was bound for: lands */
    st = write_from(&y, &sy, ring.info.addr, rkey, 41, 1);
    CHECKF(st == 0, "Y's WRITE through its window: status %u (%s)", st, sl_wc_status_str(st));
    bad = t_check(ring.p, LEN, 41);
    CHECKF(bad < 0, "Y's bytes differ at %lld", (long long)bad);
    printf("Y writes through the window: ok, verified\n");

    /* X, another peer of the same node and PD, with the window's real rkey and address: refused */
    st = write_from(&x, &sx, ring.info.addr + 2 * LEN, rkey, 42, 2);
    CHECKF(st == 10, "X's WRITE with Y's window rkey: status %u (%s), expected 10 (remote access error)", st,
           sl_wc_status_str(st));
    CHECK(all_zero(ring.p + LEN, RING - LEN));
    bad = t_check(ring.p, LEN, 41);
    CHECKF(bad < 0, "Y's bytes changed at %lld", (long long)bad);
    printf("X writes with Y's window rkey: status %u (%s), ring unchanged\n", st, sl_wc_status_str(st));

    /* Z with the region's own rkey: the region has no remote rights */
    st = write_from(&z, &sz, ring.info.addr + 4 * LEN, ring.info.rkey, 43, 3);
    CHECKF(st == 10, "Z's WRITE with the region's rkey: status %u (%s), expected 10", st, sl_wc_status_str(st));
    CHECK(all_zero(ring.p + LEN, RING - LEN));
    printf("Z writes with the region's rkey: status %u (%s), ring unchanged\n", st, sl_wc_status_str(st));

    /* Y still works (its QP is untouched by X's and Z's failures), then revoke */
    st = write_from(&y, &sy, ring.info.addr + LEN, rkey, 44, 4);
    CHECKF(st == 0, "Y's second WRITE: status %u (%s)", st, sl_wc_status_str(st));
    bad = t_check(ring.p + LEN, LEN, 44);
    CHECKF(bad < 0, "Y's second bytes differ at %lld", (long long)bad);
    OK(sl_mw_dealloc(mw));
    EXPECT_RC(sl_mw_dealloc(mw), SL_EBADHANDLE);
    EXPECT_RC(sl_mw_rkey(mw, &st), SL_EBADHANDLE);
    st = write_from(&y, &sy, ring.info.addr + 6 * LEN, rkey, 45, 5);
    CHECKF(st == 10, "Y's WRITE after the revoke: status %u (%s), expected 10", st, sl_wc_status_str(st));
    CHECK(all_zero(ring.p + 2 * LEN, RING - 2 * LEN));
    printf("after sl_mw_dealloc, Y's write with the old rkey: status %u (%s), ring unchanged\n", st,
           sl_wc_status_str(st));

    /* a window on a QP that is not in RTS (X's R side is in ERR now or soon: use a fresh INIT QP) */
    {
        sl_qp_opts qo;
        sl_handle q;
        sl_qp_opts_default(&qo);
        OK(sl_qp_create(pd, cq, cq, &qo, &q));
        OK(sl_mw_alloc(pd, &mw2));
        EXPECT_RC(sl_mw_bind(q, mw2, ring.mr, 0, RING, SL_ACCESS_REMOTE_WRITE, 200), SL_ESTATE);
        OK(sl_mw_dealloc(mw2)); /* never bound */
        OK(sl_qp_destroy(q));
    }

    t_buf_fini(&sz);
    t_buf_fini(&sx);
    t_buf_fini(&sy);
    t_buf_fini(&plain);
    t_buf_fini(&ring); /* the window is gone: the region deregisters */
    OK(sl_qp_destroy(rz.qp));
    OK(sl_qp_destroy(rx.qp));
    OK(sl_qp_destroy(ry.qp));
    /* drain whatever error/flush completions R's QPs left */
    {
        sl_completion cs[64];
        uint32_t n;
        do
            OK(sl_cq_poll(cq, cs, 64, &n));
        while (n);
    }
    OK(sl_cq_destroy(cq));
    OK(sl_pd_destroy(pd));
    t_end_fini(&z);
    t_end_fini(&x);
    t_end_fini(&y);
    OK(sl_device_close(dp));
    OK(sl_device_close(dr));
    printf("test_mw_isolation: ok\n");
    return 0;
}
