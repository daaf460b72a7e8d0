/*
 * test_errors - error completions and refused calls, on one device (rxe0):
 *   a READ with a wrong rkey completes with a remote access error and the QP reports ERR, its
 *   receives flush, and a fresh pair still works; queue depth limits (SL_EFULL, nothing posted);
 *   posting before RTS (SL_ESTATE); bad memory (handles, ranges, access, PD); destroyed handles;
 *   parents with children (SL_EBUSY); wrong handle types; connect twice; sl_qp_set_error flushes.
 */
#include "t.h"

static sl_handle dev;

/* Posts wr; expects `want`, nothing posted, nothing outstanding; and the error text. */
#define REFUSED(qp, wr, n, want, text) do { uint32_t p_ = 99, so_, ro_; \
    EXPECT_RC(sl_post_send((qp), (wr), (n), &p_), (want)); EXPECT_ERR_TEXT(text); CHECK(p_ == 0); \
    OK(sl_qp_outstanding((qp), &so_, &ro_)); CHECK(so_ == 0); } while (0)

static void pair(t_end *a, t_end *b, const sl_qp_opts *qo)
{
    t_end_init(a, dev, qo, 0);
    t_end_init(b, dev, qo, 0);
    t_connect(a, b, NULL);
}

static void sendrecv_works(t_end *a, t_end *b)
{
    t_buf s, r;
    sl_completion c[2];
    sl_wr rw, sw;

    t_buf_init(&s, a->pd, 4096, 0);
    t_buf_init(&r, b->pd, 4096, SL_ACCESS_LOCAL_WRITE);
    t_fill(s.p, 4096, 77);
    rw = t_wr(51, SL_OP_RECV, &r, 0, 4096);
    sw = t_wr(52, SL_OP_SEND, &s, 0, 4096);
    OK(sl_post_recv(b->qp, &rw, 1, NULL));
    OK(sl_post_send(a->qp, &sw, 1, NULL));
    COLLECT(a->cq, c, 1, 60000);
    COLLECT(b->cq, c + 1, 1, 60000);
    CHECK(c[0].status == 0 && c[1].status == 0 && c[1].byte_len == 4096);
    CHECK(t_check(r.p, 4096, 77) < 0);
    t_buf_fini(&s);
    t_buf_fini(&r);
}

static void bad_rkey_read(void)
{
    t_end a, b;
    t_buf la, rb;
    sl_completion c[3];
    sl_wr w, rw[2];
    uint32_t st, so, ro, nrecv = 0;
    int saw_read = 0;

    pair(&a, &b, NULL);
    t_buf_init(&la, a.pd, 8192, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&rb, b.pd, 8192, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_READ);
    rw[0] = t_wr(901, SL_OP_RECV, &la, 4096, 1024);
    rw[1] = t_wr(902, SL_OP_RECV, &la, 5120, 1024);
    OK(sl_post_recv(a.qp, rw, 2, NULL));
    w = t_wr(900, SL_OP_READ, &la, 0, 4096);
    w.remote_addr = rb.info.addr;
    w.rkey = rb.info.rkey ^ 0x5a5a00;
    OK(sl_post_send(a.qp, &w, 1, NULL));
    /* the READ fails; the QP goes to ERR and its two receives flush (same CQ, any order) */
    COLLECT(a.cq, c, 3, 60000);
    for (int i = 0; i < 3; i++) {
        printf("completion wr_id %llu status %u (%s) opcode %u vendor_err 0x%x\n",
               (unsigned long long)c[i].wr_id, c[i].status, sl_wc_status_str(c[i].status), c[i].opcode,
               c[i].vendor_err);
        if (c[i].wr_id == 900) {
            saw_read = 1;
            CHECKF(c[i].status == 10, "READ with a bad rkey: status %u (%s), expected 10 (remote access error)",
                   c[i].status, sl_wc_status_str(c[i].status));
            CHECKF(c[i].opcode == SL_OP_READ, "error completion opcode %u, expected SL_OP_READ", c[i].opcode);
        } else {
            CHECK(c[i].wr_id == 901 || c[i].wr_id == 902);
            CHECKF(c[i].status == 5, "receive status %u, expected 5 (flush)", c[i].status);
            CHECK(c[i].opcode == SL_OP_RECV);
            nrecv++;
        }
    }
    CHECK(saw_read && nrecv == 2);
    OK(sl_qp_state(a.qp, &st));
    CHECKF(st == SL_QP_ERR, "state %u after the error completion, expected SL_QP_ERR", st);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0 && ro == 0);
    w = t_wr(903, SL_OP_WRITE, &la, 0, 16);
    REFUSED(a.qp, &w, 1, SL_ESTATE, "error state after a completion failed");
    EXPECT_RC(sl_post_recv(a.qp, rw, 1, NULL), SL_ESTATE);
    OK(sl_qp_state(b.qp, &st));
    printf("responder QP state after the bad READ: %u\n", st);
    t_buf_fini(&la);
    t_buf_fini(&rb);
    t_end_fini(&a);
    t_end_fini(&b);

    /* the process carries on: a fresh pair works */
    pair(&a, &b, NULL);
    sendrecv_works(&a, &b);
    t_end_fini(&a);
    t_end_fini(&b);
    printf("bad rkey READ: ok\n");
}

static void depth_limits(void)
{
    sl_qp_opts qo;
    t_end a, b;
    t_buf la, rb;
    sl_completion c[4];
    sl_wr w[5], rw[5];
    uint32_t posted, so, ro;

    sl_qp_opts_default(&qo);
    qo.sq_depth = 4;
    qo.rq_depth = 4;
    pair(&a, &b, &qo);
    t_buf_init(&la, a.pd, 4096, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&rb, b.pd, 4096, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    for (int i = 0; i < 5; i++) {
        w[i] = t_wr(100 + (uint64_t)i, SL_OP_WRITE, &la, 0, 64);
        w[i].remote_addr = rb.info.addr;
        w[i].rkey = rb.info.rkey;
        rw[i] = t_wr(200 + (uint64_t)i, SL_OP_RECV, &rb, 0, 64);
    }
    REFUSED(a.qp, w, 5, SL_EFULL, "sl_post_send: 5 outstanding would exceed the send queue depth 4");
    OK(sl_post_send(a.qp, w, 4, &posted));
    CHECK(posted == 4);
    /* completions are retired only when polled: the fifth is refused, deterministically */
    posted = 99;
    EXPECT_RC(sl_post_send(a.qp, w + 4, 1, &posted), SL_EFULL);
    EXPECT_ERR_TEXT("5 outstanding would exceed the send queue depth 4");
    CHECK(posted == 0);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 4);
    COLLECT(a.cq, c, 4, 60000);
    for (int i = 0; i < 4; i++)
        CHECK(c[i].status == 0 && c[i].wr_id == 100 + (uint64_t)i);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0);
    OK(sl_post_send(a.qp, w + 4, 1, NULL));
    COLLECT(a.cq, c, 1, 60000);
    CHECK(c[0].status == 0 && c[0].wr_id == 104);

    EXPECT_RC(sl_post_recv(b.qp, rw, 5, &posted), SL_EFULL);
    EXPECT_ERR_TEXT("5 outstanding would exceed the receive queue depth 4");
    CHECK(posted == 0);
    OK(sl_post_recv(b.qp, rw, 4, &posted));
    CHECK(posted == 4);
    OK(sl_qp_outstanding(b.qp, &so, &ro));
    CHECK(ro == 4);

    /* sl_qp_set_error: the four receives flush, in order, as SL_OP_RECV */
    OK(sl_qp_set_error(b.qp));
    COLLECT(b.cq, c, 4, 60000);
    for (int i = 0; i < 4; i++) {
        CHECKF(c[i].status == 5 && c[i].opcode == SL_OP_RECV && c[i].wr_id == 200 + (uint64_t)i,
               "flush %d: status %u opcode %u wr_id %llu", i, c[i].status, c[i].opcode,
               (unsigned long long)c[i].wr_id);
    }
    OK(sl_qp_state(b.qp, &so));
    CHECK(so == SL_QP_ERR);
    OK(sl_qp_outstanding(b.qp, &so, &ro));
    CHECK(so == 0 && ro == 0);
    EXPECT_RC(sl_post_recv(b.qp, rw, 1, NULL), SL_ESTATE);
    t_buf_fini(&la);
    t_buf_fini(&rb);
    t_end_fini(&a);
    t_end_fini(&b);
    printf("queue depth limits, set_error flush: ok\n");
}

static void not_connected(void)
{
    t_end a;
    t_buf la;
    sl_wr w, rw;
    uint32_t so, ro;

    t_end_init(&a, dev, NULL, 0);
    t_buf_init(&la, a.pd, 4096, SL_ACCESS_LOCAL_WRITE);
    w = t_wr(1, SL_OP_SEND, &la, 0, 8);
    REFUSED(a.qp, &w, 1, SL_ESTATE, "is in INIT, not RTS");
    rw = t_wr(2, SL_OP_RECV, &la, 0, 8);
    OK(sl_post_recv(a.qp, &rw, 1, NULL));       /* receives may be posted in INIT */
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0 && ro == 1);
    t_buf_fini(&la);
    t_end_fini(&a);                              /* destroying with a receive outstanding is fine */
    printf("posting before RTS: ok\n");
}

static void bad_memory(void)
{
    t_end a, b;
    t_buf ro_buf, rw_buf, other;
    sl_handle other_pd, dead_mr;
    sl_wr w[3], rwr;
    void *p;

    pair(&a, &b, NULL);
    t_buf_init(&ro_buf, a.pd, 4096, 0);
    t_buf_init(&rw_buf, a.pd, 4096, SL_ACCESS_LOCAL_WRITE);
    OK(sl_pd_create(dev, &other_pd));
    t_buf_init(&other, other_pd, 4096, SL_ACCESS_LOCAL_WRITE);

    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, 0, 16);
    w[0].sge[0].mr = 0x0500000000001234ull;     /* an MR-typed handle never issued */
    REFUSED(a.qp, w, 1, SL_EBADHANDLE, "wrs[0].sge[0].mr");
    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, 0, 16);
    w[0].sge[0].mr = a.cq;                      /* wrong type */
    REFUSED(a.qp, w, 1, SL_EBADHANDLE, "is a cq, expected a mr");
    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, 4000, 97);
    REFUSED(a.qp, w, 1, SL_ERANGE, "outside the memory region");
    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, UINT64_MAX - 8, 16);
    REFUSED(a.qp, w, 1, SL_ERANGE, "outside the memory region");
    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, 0, 16);
    w[0].sge[0].length = 0;
    REFUSED(a.qp, w, 1, SL_EINVAL, "length is 0");
    w[0] = t_wr(1, SL_OP_READ, &ro_buf, 0, 16);
    REFUSED(a.qp, w, 1, SL_EACCES, "lacks SL_ACCESS_LOCAL_WRITE");
    w[0] = t_wr(1, SL_OP_WRITE, &other, 0, 16);
    REFUSED(a.qp, w, 1, SL_EINVAL, "another protection domain");
    w[0] = t_wr(1, 9, &rw_buf, 0, 16);
    REFUSED(a.qp, w, 1, SL_EINVAL, "not a send-queue opcode");
    w[0] = t_wr(1, SL_OP_RECV, &rw_buf, 0, 16);
    REFUSED(a.qp, w, 1, SL_EINVAL, "sl_post_recv");
    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, 0, 16);
    w[0].flags = 0x100;
    REFUSED(a.qp, w, 1, SL_EINVAL, "unknown bits");
    w[0] = t_wr(1, SL_OP_WRITE, &rw_buf, 0, 16);
    w[0].num_sge = 5;
    REFUSED(a.qp, w, 1, SL_EINVAL, "max_sge");
    w[0] = t_wr(1, SL_OP_WRITE, NULL, 0, 0);
    REFUSED(a.qp, w, 1, SL_EINVAL, "has no SGE");
    {   /* inline beyond what the device granted (rxe grants some even when none was asked) */
        sl_qp_caps caps;
        OK(sl_qp_caps_query(a.qp, &caps));
        w[0] = t_wr(1, SL_OP_SEND, &rw_buf, 0, caps.max_inline + 1);
        w[0].flags = SL_WR_INLINE;
        REFUSED(a.qp, w, 1, SL_ERANGE, "max_inline");
    }
    /* one bad request in a chain: nothing of the chain is posted */
    w[0] = t_wr(1, SL_OP_SEND, &rw_buf, 0, 16);
    w[1] = t_wr(2, SL_OP_SEND, &rw_buf, 0, 16);
    w[2] = t_wr(3, SL_OP_READ, &ro_buf, 0, 16);
    REFUSED(a.qp, w, 3, SL_EACCES, "wrs[2]");
    /* a deregistered MR */
    OK(sl_mr_register(a.pd, rw_buf.p, 4096, SL_ACCESS_LOCAL_WRITE, &dead_mr));
    OK(sl_mr_deregister(dead_mr));
    w[0] = t_wr(1, SL_OP_SEND, &rw_buf, 0, 16);
    w[0].sge[0].mr = dead_mr;
    REFUSED(a.qp, w, 1, SL_EBADHANDLE, "was destroyed or never issued");
    /* receives need LOCAL_WRITE too, and the right opcode */
    rwr = t_wr(1, SL_OP_RECV, &ro_buf, 0, 16);
    EXPECT_RC(sl_post_recv(a.qp, &rwr, 1, NULL), SL_EACCES);
    rwr = t_wr(1, SL_OP_SEND, &rw_buf, 0, 16);
    EXPECT_RC(sl_post_recv(a.qp, &rwr, 1, NULL), SL_EINVAL);
    /* registration arguments */
    EXPECT_RC(sl_mr_register(a.pd, rw_buf.p, 0, 0, &dead_mr), SL_EINVAL);
    EXPECT_RC(sl_mr_register(a.pd, rw_buf.p, 4096, 0x20, &dead_mr), SL_EINVAL); /* 0x10 is SL_ACCESS_MW_BIND */
    OK(sl_buf_alloc(4096, 0, &p));
    OK(sl_buf_free(p));

    /* a PD with a live MR: SL_EBUSY, and the MR still works */
    EXPECT_RC(sl_pd_destroy(other_pd), SL_EBUSY);
    EXPECT_ERR_TEXT("destroy them first");
    OK(sl_mr_query(other.mr, &other.info));
    t_buf_fini(&other);
    OK(sl_pd_destroy(other_pd));
    EXPECT_RC(sl_pd_destroy(other_pd), SL_EBADHANDLE);

    sendrecv_works(&a, &b);                     /* nothing above disturbed the pair */
    t_buf_fini(&ro_buf);
    t_buf_fini(&rw_buf);
    t_end_fini(&a);
    t_end_fini(&b);
    printf("bad memory, PD busy: ok\n");
}

static void handles_and_states(void)
{
    t_end a, b;
    sl_handle qp2, cq2, mr;
    sl_completion c[2];
    sl_qp_opts qo;
    sl_mr_info mi;
    uint8_t blob[SL_ENDPOINT_SIZE];
    sl_device_limits lim;
    uint32_t st, n;
    int x[16];

    pair(&a, &b, NULL);
    /* connect twice */
    OK(sl_qp_endpoint(b.qp, blob));
    EXPECT_RC(sl_qp_connect(a.qp, blob, sizeof(blob), NULL), SL_ESTATE);
    EXPECT_ERR_TEXT("is in RTS, not INIT");
    blob[0] = 'X';
    EXPECT_RC(sl_qp_connect(a.qp, blob, sizeof(blob), NULL), SL_EPROTO);
    /* wrong types */
    EXPECT_RC(sl_qp_state(a.cq, &st), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("is a cq, expected a qp");
    EXPECT_RC(sl_cq_poll(a.qp, c, 2, &n), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("is a qp, expected a cq");
    EXPECT_RC(sl_pd_destroy(dev), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("is a device, expected a pd");
    /* parents in use */
    EXPECT_RC(sl_cq_destroy(a.cq), SL_EBUSY);
    EXPECT_RC(sl_pd_destroy(a.pd), SL_EBUSY);
    EXPECT_RC(sl_device_close(dev), SL_EBUSY);
    OK(sl_qp_state(a.qp, &st));
    CHECK(st == SL_QP_RTS);

    /* QP creation limits */
    OK(sl_device_limits_query(dev, &lim));
    sl_qp_opts_default(&qo);
    qo.sq_depth = lim.max_qp_wr + 1;
    EXPECT_RC(sl_qp_create(a.pd, a.cq, a.cq, &qo, &qp2), SL_ERANGE);
    EXPECT_ERR_TEXT("max_qp_wr");
    sl_qp_opts_default(&qo);
    qo.max_sge = SL_WR_MAX_SGE + 1;
    EXPECT_RC(sl_qp_create(a.pd, a.cq, a.cq, &qo, &qp2), SL_EINVAL);
    sl_qp_opts_default(&qo);
    qo.gid_index = 255;
    EXPECT_RC(sl_qp_create(a.pd, a.cq, a.cq, &qo, &qp2), SL_ERANGE);
    OK(sl_cq_create(dev, 100, &cq2));            /* 100 < 64 + 64 */
    EXPECT_RC(sl_qp_create(a.pd, cq2, cq2, NULL, &qp2), SL_ERANGE);
    EXPECT_ERR_TEXT("needs 128 more");
    /* the CQ of a's QP is fully promised already */
    EXPECT_RC(sl_qp_create(a.pd, a.cq, cq2, NULL, &qp2), SL_ERANGE);

    /* destroyed handles */
    sl_qp_opts_default(&qo);
    qo.sq_depth = 32;
    qo.rq_depth = 32;
    OK(sl_qp_create(a.pd, cq2, cq2, &qo, &qp2));
    EXPECT_RC(sl_cq_destroy(cq2), SL_EBUSY);
    OK(sl_qp_destroy(qp2));
    EXPECT_RC(sl_qp_state(qp2, &st), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("was destroyed or never issued");
    EXPECT_RC(sl_qp_destroy(qp2), SL_EBADHANDLE);
    OK(sl_cq_destroy(cq2));
    EXPECT_RC(sl_cq_poll(cq2, c, 2, &n), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("was destroyed or never issued");
    OK(sl_mr_register(a.pd, x, sizeof(x), 0, &mr));
    OK(sl_mr_query(mr, &mi));
    CHECK(mi.addr == (uint64_t)(uintptr_t)x && mi.length == sizeof(x) && mi.access == 0);
    OK(sl_mr_deregister(mr));
    EXPECT_RC(sl_mr_query(mr, &mi), SL_EBADHANDLE);
    EXPECT_RC(sl_mr_deregister(mr), SL_EBADHANDLE);

    t_end_fini(&a);
    t_end_fini(&b);
    printf("handles and states: ok\n");
}

int main(void)
{
    dev = t_open(t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0"));
    bad_rkey_read();
    depth_limits();
    not_connected();
    bad_memory();
    handles_and_states();
    OK(sl_device_close(dev));
    printf("test_errors: OK\n");
    return 0;
}
