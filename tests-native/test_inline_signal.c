/*
 * test_inline_signal - inline sends, selective signaling and the polling calls, rxea -> rxeb:
 *   inline SENDs and WRITEs of 1 B .. max_inline verified byte for byte although the source is
 *   overwritten as soon as the post returns; too-large inline refused (SL_ERANGE, nothing posted);
 *   a QP asking for more inline than the device has falls back to none. 20,000 SEND_IMMs with
 *   one in 32 signaled and 6,000 with none signaled by the caller: every one received in order
 *   (imm), completions only for the signaled (or shim-forced) ones, outstanding exact, the send
 *   queue never stuck. sl_cq_wake ends a wait at once; sl_cq_poll_adaptive spins, then sleeps.
 */
#include <pthread.h>
#include <unistd.h>

#include "t.h"

#define RQ 256u
#define SQ 128u
#define SMALL 64u

static sl_handle da, db;

/* b has RQ receives of SMALL bytes posted in rb; repost the ones in c. */
static void repost(t_end *b, t_buf *rb, const sl_completion *c, uint32_t n)
{
    sl_wr w[64];

    for (uint32_t i = 0; i < n; i++)
        w[i] = t_wr(c[i].wr_id, SL_OP_RECV, rb, (c[i].wr_id % RQ) * SMALL, SMALL);
    if (n)
        OK(sl_post_recv(b->qp, w, n, NULL));
}

static void inline_sends(t_end *a, t_end *b, t_buf *src, t_buf *dst)
{
    sl_qp_caps caps;
    uint32_t sizes[6], so, ro, p = 99;
    sl_completion c[2];

    OK(sl_qp_caps_query(a->qp, &caps));
    printf("inline: asked 256, granted %u\n", caps.max_inline);
    CHECKF(caps.max_inline >= 256, "rxe grants inline data (got %u)", caps.max_inline);
    sizes[0] = 1; sizes[1] = 8; sizes[2] = 63; sizes[3] = 64; sizes[4] = 200; sizes[5] = caps.max_inline;
    for (int i = 0; i < 6; i++) {
        uint32_t len = sizes[i];
        sl_wr rw = t_wr(100 + i, SL_OP_RECV, dst, 0, 4096);
        sl_wr sw = t_wr(200 + i, SL_OP_SEND, src, 0, len);
        sl_wr ww = t_wr(300 + i, SL_OP_WRITE, src, 4096, len);
        int64_t bad;
        sw.flags = SL_WR_INLINE;
        ww.flags = SL_WR_INLINE;
        ww.remote_addr = dst->info.addr + 8192;
        ww.rkey = dst->info.rkey;
        memset(dst->p, 0, 16384);
        t_fill(src->p, len, 500 + i);
        t_fill(src->p + 4096, len, 600 + i);
        OK(sl_post_recv(b->qp, &rw, 1, NULL));
        OK(sl_post_send(a->qp, &sw, 1, NULL));
        OK(sl_post_send(a->qp, &ww, 1, NULL));
        memset(src->p, 0xee, 8192); /* inline: the payload was copied when the post returned */
        COLLECT(a->cq, c, 2, 30000);
        CHECK(c[0].status == 0 && c[0].wr_id == 200u + i && c[1].status == 0 && c[1].wr_id == 300u + i);
        COLLECT(b->cq, c, 1, 30000);
        CHECK(c[0].status == 0 && c[0].wr_id == 100u + i && c[0].byte_len == len);
        bad = t_check(dst->p, len, 500 + i);
        CHECKF(bad < 0, "inline SEND of %u bytes differs at %lld", len, (long long)bad);
        bad = t_check(dst->p + 8192, len, 600 + i);
        CHECKF(bad < 0, "inline WRITE of %u bytes differs at %lld", len, (long long)bad);
    }
    printf("inline SEND and WRITE of 1 .. %u bytes: ok\n", caps.max_inline);
    {
        sl_wr sw[2];
        sw[0] = t_wr(1, SL_OP_SEND, src, 0, 8);
        sw[1] = t_wr(2, SL_OP_SEND, src, 0, caps.max_inline + 1);
        sw[0].flags = sw[1].flags = SL_WR_INLINE;
        EXPECT_RC(sl_post_send(a->qp, sw, 2, &p), SL_ERANGE);
        EXPECT_ERR_TEXT("wrs[1] inlines");
        CHECK(p == 0);
        OK(sl_qp_outstanding(a->qp, &so, &ro));
        CHECK(so == 0);
    }
}

static void inline_limits(void)
{
    sl_qp_opts qo;
    sl_qp_caps caps;
    t_end a, b;
    t_buf s;
    sl_wr w;
    uint32_t p = 99;

    /* none asked: the device may still grant some (rxe: max_sge * 16); one byte more is refused */
    sl_qp_opts_default(&qo);
    t_end_init(&a, da, &qo, 0);
    t_end_init(&b, db, &qo, 0);
    t_connect(&a, &b, NULL);
    OK(sl_qp_caps_query(a.qp, &caps));
    printf("inline: asked 0, granted %u\n", caps.max_inline);
    t_buf_init(&s, a.pd, 4096, 0);
    w = t_wr(1, SL_OP_SEND, &s, 0, caps.max_inline + 1);
    w.flags = SL_WR_INLINE;
    EXPECT_RC(sl_post_send(a.qp, &w, 1, &p), SL_ERANGE);
    EXPECT_ERR_TEXT("granted");
    CHECK(p == 0);
    t_buf_fini(&s);
    t_end_fini(&a);
    t_end_fini(&b);
    /* far more than any device inlines: the QP is still created, without inline sends */
    qo.max_inline = 1u << 20;
    t_end_init(&a, da, &qo, 0);
    OK(sl_qp_caps_query(a.qp, &caps));
    printf("inline: asked 1 MiB, granted %u (fallback)\n", caps.max_inline);
    CHECK(caps.max_inline < (1u << 20));
    t_end_fini(&a);
}

/*
 * a sends `total` SEND_IMMs (imm = sequence) of SMALL bytes; every `every`-th is signaled by the
 * caller (0: none). b checks each arrives, in order. Returns the number of send completions, counted
 * until only `tail` (the unsignaled sends after the last signaled one) are outstanding: the last
 * receive at b can land before a has the ACK for it, so "all received" is not "all completed".
 */
static uint32_t signaled_stream(t_end *a, t_end *b, t_buf *src, t_buf *rb, uint32_t total, uint32_t every,
                                uint32_t base, uint32_t tail)
{
    sl_completion c[64];
    sl_wr w[32];
    sl_qp_caps caps;
    uint32_t posted = 0, recvd = 0, ncomp = 0, retired = 0, so, ro;
    int64_t t0 = t_now_ms();

    OK(sl_qp_caps_query(a->qp, &caps));
    while (recvd < total) {
        uint32_t n = 0, k = 0;
        OK(sl_qp_outstanding(a->qp, &so, &ro));
        CHECKF(so == posted - retired, "outstanding %u, posted %u, retired %u", so, posted, retired);
        while (k < 32 && posted + k < total && so + k < SQ) {
            uint32_t i = posted + k;
            w[k] = t_wr(base + i, SL_OP_SEND_IMM, src, (i % 64) * SMALL, SMALL);
            w[k].imm = base + i;
            if (!(every && i % every == every - 1))
                w[k].flags = SL_WR_UNSIGNALED;
            k++;
        }
        if (k) {
            OK(sl_post_send(a->qp, w, k, NULL)); /* one call, one doorbell per 32 */
            posted += k;
        }
        OK(sl_cq_poll(a->cq, c, 64, &n));
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = (uint32_t)c[j].wr_id - base;
            int user = every && i % every == every - 1;
            CHECKF(c[j].status == 0, "send %u: %s", i, sl_wc_status_str(c[j].status));
            CHECKF(user || (i + 1) % caps.signal_every == 0 || i + 1 - retired == caps.signal_every,
                   "completion for send %u, which was neither signaled nor due a forced signal", i);
            CHECKF(i + 1 > retired, "send %u completed twice or out of order", i);
            retired = i + 1; /* everything up to it is retired */
            ncomp++;
        }
        OK(sl_cq_poll_wait(b->cq, c, 64, &n, k ? 0 : 10));
        for (uint32_t j = 0; j < n; j++) {
            CHECKF(c[j].status == 0 && (c[j].flags & SL_WC_WITH_IMM), "receive %u: %s", recvd + j,
                   sl_wc_status_str(c[j].status));
            CHECKF(c[j].imm == base + recvd + j, "received %u, expected %u", c[j].imm - base, recvd + j);
            CHECK(c[j].byte_len == SMALL);
        }
        recvd += n;
        repost(b, rb, c, n);
        CHECKF(t_now_ms() - t0 < 600000, "stuck: %u posted, %u received", posted, recvd);
    }
    for (;;) {
        uint32_t n = 0;
        OK(sl_qp_outstanding(a->qp, &so, &ro));
        if (so <= tail)
            break;
        OK(sl_cq_poll_wait(a->cq, c, 64, &n, 1000));
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = (uint32_t)c[j].wr_id - base;
            CHECKF(c[j].status == 0, "send %u: %s", i, sl_wc_status_str(c[j].status));
            CHECKF(i + 1 > retired, "send %u completed twice or out of order", i);
            retired = i + 1;
            ncomp++;
        }
        CHECKF(t_now_ms() - t0 < 600000, "stuck: %u sends outstanding after all were received, expected %u", so,
               tail);
    }
    printf("%u SEND_IMMs, every %u signaled by the caller (shim bound %u): %u send completions, all %u "
           "received in order, %lld ms\n", total, every, caps.signal_every, ncomp, recvd,
           (long long)(t_now_ms() - t0));
    OK(sl_qp_outstanding(a->qp, &so, &ro));
    CHECKF(so == posted - retired, "outstanding %u, expected %u", so, posted - retired);
    return ncomp;
}

static void selective_signaling(void)
{
    sl_qp_opts qo;
    t_end a, b;
    t_buf src, rb;
    sl_completion c[4];
    sl_wr w[RQ];
    uint32_t so, ro, n;

    sl_qp_opts_default(&qo);
    qo.sq_depth = SQ;
    qo.rq_depth = RQ;
    qo.max_inline = SMALL;
    t_end_init(&a, da, &qo, 0);
    t_end_init(&b, db, &qo, 0);
    t_connect(&a, &b, NULL);
    t_buf_init(&src, a.pd, 64 * SMALL, 0);
    t_buf_init(&rb, b.pd, RQ * SMALL, SL_ACCESS_LOCAL_WRITE);
    for (uint32_t i = 0; i < RQ; i++)
        w[i] = t_wr(i, SL_OP_RECV, &rb, i * SMALL, SMALL);
    OK(sl_post_recv(b.qp, w, RQ, NULL));

    /* one in 32 signaled: 625 completions for 20,000 sends */
    n = signaled_stream(&a, &b, &src, &rb, 20000, 32, 0, 0);
    CHECKF(n == 20000 / 32, "%u send completions, expected %u", n, 20000 / 32);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0);
    /* none signaled by the caller: the shim's forced signals keep the queue moving */
    n = signaled_stream(&a, &b, &src, &rb, 6000, 0, 100000, 6000 % (SQ / 2));
    CHECKF(n == 6000 / (SQ / 2), "%u forced completions, expected %u", n, 6000 / (SQ / 2));
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECKF(so == 6000 % (SQ / 2), "%u unsignaled sends outstanding, expected %u", so, 6000 % (SQ / 2));
    /* a signaled request retires the unsignaled tail */
    w[0] = t_wr(999999, SL_OP_SEND, NULL, 0, 0);
    OK(sl_post_send(a.qp, w, 1, NULL));
    COLLECT(a.cq, c, 1, 30000);
    CHECK(c[0].status == 0 && c[0].wr_id == 999999 && c[0].opcode == SL_OP_SEND);
    COLLECT(b.cq, c + 1, 1, 30000);
    CHECK(c[1].status == 0 && c[1].byte_len == 0);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0);
    t_buf_fini(&src);
    t_buf_fini(&rb);
    t_end_fini(&a);
    t_end_fini(&b);
}

struct waker {
    sl_handle cq;
    int delay_ms;
};

static void *wake_later(void *arg)
{
    struct waker *w = arg;

    usleep((useconds_t)w->delay_ms * 1000);
    OK(sl_cq_wake(w->cq));
    return NULL;
}

static void polling(void)
{
    sl_completion c[4];
    struct waker wk;
    pthread_t th;
    t_end a, b;
    t_buf s, r;
    sl_wr rw, sw;
    uint32_t n = 99;
    int64_t t0, ms;
    int woken = 7;

    t_end_init(&a, da, NULL, 0);
    t_end_init(&b, db, NULL, 0);
    t_connect(&a, &b, NULL);
    /* a wake ends an unbounded wait at once */
    wk.cq = a.cq;
    wk.delay_ms = 200;
    t0 = t_now_ms();
    CHECK(pthread_create(&th, NULL, wake_later, &wk) == 0);
    OK(sl_cq_poll_wait(a.cq, c, 4, &n, -1));
    ms = t_now_ms() - t0;
    CHECK(pthread_join(th, NULL) == 0);
    CHECKF(n == 0 && ms >= 150 && ms < 20000, "woken after %lld ms with %u completions", (long long)ms, n);
    printf("poll_wait(-1) woken by sl_cq_wake after %lld ms\n", (long long)ms);
    /* a wake before the wait is not lost; it is consumed once */
    OK(sl_cq_wake(a.cq));
    OK(sl_cq_wake(a.cq));
    t0 = t_now_ms();
    OK(sl_cq_poll_adaptive(a.cq, c, 4, &n, 100, 5000, &woken));
    CHECK(n == 0 && woken == 1 && t_now_ms() - t0 < 2500);
    t0 = t_now_ms();
    OK(sl_cq_poll_adaptive(a.cq, c, 4, &n, 2000, 300, &woken)); /* idle: spin 2 ms, then sleep: times out */
    ms = t_now_ms() - t0;
    CHECKF(n == 0 && woken == 0 && ms >= 290, "adaptive poll on an idle CQ: %u after %lld ms", n, (long long)ms);
    /* and it returns completions */
    t_buf_init(&s, a.pd, 64, 0);
    t_buf_init(&r, b.pd, 64, SL_ACCESS_LOCAL_WRITE);
    t_fill(s.p, 64, 9);
    rw = t_wr(5, SL_OP_RECV, &r, 0, 64);
    sw = t_wr(6, SL_OP_SEND, &s, 0, 64);
    OK(sl_post_recv(b.qp, &rw, 1, NULL));
    OK(sl_post_send(a.qp, &sw, 1, NULL));
    OK(sl_cq_poll_adaptive(b.cq, c, 4, &n, 50, 30000, &woken));
    CHECK(n == 1 && c[0].wr_id == 5 && c[0].status == 0 && t_check(r.p, 64, 9) < 0);
    OK(sl_cq_poll_adaptive(a.cq, c, 4, &n, 50, 30000, NULL));
    CHECK(n == 1 && c[0].wr_id == 6 && c[0].status == 0);
    printf("poll_adaptive: wake, timeout and completions: ok\n");
    t_buf_fini(&s);
    t_buf_fini(&r);
    t_end_fini(&a);
    t_end_fini(&b);
}

int main(void)
{
    sl_qp_opts qo;
    t_end a, b;
    t_buf src, dst;

    da = t_open(t_dev_name("SHARDLINK_RXE_A", "rxea"));
    db = t_open(t_dev_name("SHARDLINK_RXE_B", "rxeb"));
    sl_qp_opts_default(&qo);
    qo.max_inline = 256;
    t_end_init(&a, da, &qo, 0);
    t_end_init(&b, db, &qo, 0);
    t_connect(&a, &b, NULL);
    t_buf_init(&src, a.pd, 16384, 0);
    t_buf_init(&dst, b.pd, 16384, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    inline_sends(&a, &b, &src, &dst);
    t_buf_fini(&src);
    t_buf_fini(&dst);
    t_end_fini(&a);
    t_end_fini(&b);
    inline_limits();
    selective_signaling();
    polling();
    OK(sl_device_close(da));
    OK(sl_device_close(db));
    printf("test_inline_signal: OK\n");
    return 0;
}
