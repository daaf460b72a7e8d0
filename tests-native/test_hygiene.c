/*
 * test_hygiene - 1,000 create/destroy cycles of PD + CQ + QP + MR, 300 of PD + shared CQ + SRQ +
 * 4 QPs on it (and 100 device open/close cycles) leave the device's kernel resource counts
 * (`rdma -j resource show`: PD, CQ, QP, MR, SRQ, contexts) and the shim's handle table where they
 * were.
 */
#include "t.h"
#include "handle.h"

#define CYCLES 1000

struct counts {
    long pd, cq, qp, mr, ctx, srq;
};

static long field(const char *obj, const char *key)
{
    char pat[32];
    const char *p;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(obj, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static void read_counts(const char *dev, struct counts *c)
{
    static char out[65536];
    char pat[96], *obj, *end;
    size_t len = 0;
    FILE *f = popen("rdma -j resource show 2>&1", "r");

    CHECKF(f != NULL, "popen(rdma -j resource show) failed");
    while (len < sizeof(out) - 1) {
        size_t r = fread(out + len, 1, sizeof(out) - 1 - len, f);
        if (r == 0)
            break;
        len += r;
    }
    out[len] = '\0';
    CHECKF(pclose(f) == 0, "rdma -j resource show failed: %s", out);
    snprintf(pat, sizeof(pat), "\"ifname\":\"%s\"", dev);
    obj = strstr(out, pat);
    CHECKF(obj != NULL, "no %s in: %s", pat, out);
    end = strchr(obj, '}');
    CHECKF(end != NULL, "malformed: %s", out);
    *end = '\0';
    c->pd = field(obj, "pd");
    c->cq = field(obj, "cq");
    c->qp = field(obj, "qp");
    c->mr = field(obj, "mr");
    c->ctx = field(obj, "ctx");
    c->srq = field(obj, "srq");
    CHECKF(c->pd >= 0 && c->cq >= 0 && c->qp >= 0 && c->mr >= 0 && c->ctx >= 0 && c->srq >= 0,
           "cannot parse: %s", obj);
}

int main(void)
{
    const char *name = t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0");
    sl_handle dev = t_open(name);
    struct counts before, mid, after;
    uint32_t live0 = sl_handle_live_count();
    int64_t t0;
    void *buf;

    OK(sl_buf_alloc(65536, 0, &buf));
    read_counts(name, &before);
    printf("%s before: pd %ld cq %ld qp %ld mr %ld ctx %ld srq %ld\n", name, before.pd, before.cq, before.qp,
           before.mr, before.ctx, before.srq);

    /* the counts really move: one of each, held (and a second QP on the SRQ) */
    {
        sl_handle pd, cq, qp, mr, srq, sq;
        sl_qp_opts qo;
        OK(sl_pd_create(dev, &pd));
        OK(sl_cq_create(dev, 256, &cq));
        OK(sl_qp_create(pd, cq, cq, NULL, &qp));
        OK(sl_mr_register(pd, buf, 65536, SL_ACCESS_LOCAL_WRITE, &mr));
        OK(sl_srq_create(pd, 64, 1, &srq));
        sl_qp_opts_default(&qo);
        qo.srq = srq;
        OK(sl_qp_create(pd, cq, cq, &qo, &sq));
        read_counts(name, &mid);
        CHECKF(mid.pd == before.pd + 1 && mid.cq == before.cq + 1 && mid.qp == before.qp + 2 &&
               mid.mr == before.mr + 1 && mid.srq == before.srq + 1,
               "holding one of each: pd %ld cq %ld qp %ld mr %ld srq %ld", mid.pd, mid.cq, mid.qp, mid.mr, mid.srq);
        OK(sl_mr_deregister(mr));
        OK(sl_qp_destroy(sq));
        OK(sl_qp_destroy(qp));
        OK(sl_srq_destroy(srq));
        OK(sl_cq_destroy(cq));
        OK(sl_pd_destroy(pd));
    }

    t0 = t_now_ms();
    for (int i = 0; i < CYCLES; i++) {
        sl_handle pd, cq, qp, mr;
        OK(sl_pd_create(dev, &pd));
        OK(sl_cq_create(dev, 128, &cq));
        OK(sl_qp_create(pd, cq, cq, NULL, &qp));
        OK(sl_mr_register(pd, buf, 65536, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE, &mr));
        if (i % 2) { /* both destroy orders that are legal */
            OK(sl_mr_deregister(mr));
            OK(sl_qp_destroy(qp));
        } else {
            OK(sl_qp_destroy(qp));
            OK(sl_mr_deregister(mr));
        }
        OK(sl_cq_destroy(cq));
        OK(sl_pd_destroy(pd));
    }
    printf("%d cycles: %lld ms\n", CYCLES, (long long)(t_now_ms() - t0));
    t0 = t_now_ms();
    for (int i = 0; i < 300; i++) { /* a poller's objects: one CQ, one SRQ, several QPs on both */
        sl_handle pd, cq, srq, qp[4];
        sl_qp_opts qo;
        OK(sl_pd_create(dev, &pd));
        OK(sl_cq_create(dev, 4 * 16 + 32, &cq));
        OK(sl_srq_create(pd, 32, 1, &srq));
        sl_qp_opts_default(&qo);
        qo.sq_depth = 16;
        qo.srq = srq;
        for (int k = 0; k < 4; k++) {
            qo.tag = (uint64_t)k;
            OK(sl_qp_create(pd, cq, cq, &qo, &qp[k]));
        }
        EXPECT_RC(sl_srq_destroy(srq), SL_EBUSY);
        for (int k = 0; k < 4; k++)
            OK(sl_qp_destroy(qp[(k + i) % 4]));
        EXPECT_RC(sl_cq_destroy(cq), SL_EBUSY); /* the SRQ's room on it */
        OK(sl_srq_destroy(srq));
        OK(sl_cq_destroy(cq));
        OK(sl_pd_destroy(pd));
    }
    printf("300 SRQ cycles: %lld ms\n", (long long)(t_now_ms() - t0));
    for (int i = 0; i < 100; i++) {
        sl_handle d2;
        OK(sl_device_open(name, 1, &d2));
        OK(sl_device_close(d2));
    }

    read_counts(name, &after);
    printf("%s after:  pd %ld cq %ld qp %ld mr %ld ctx %ld srq %ld\n", name, after.pd, after.cq, after.qp,
           after.mr, after.ctx, after.srq);
    CHECK(after.pd == before.pd);
    CHECK(after.cq == before.cq);
    CHECK(after.qp == before.qp);
    CHECK(after.mr == before.mr);
    CHECK(after.ctx == before.ctx);
    CHECK(after.srq == before.srq);
    CHECK(sl_handle_live_count() == live0);
    OK(sl_buf_free(buf));
    OK(sl_device_close(dev));
    CHECK(sl_handle_live_count() == live0 - 1);
    printf("test_hygiene: OK\n");
    return 0;
}
