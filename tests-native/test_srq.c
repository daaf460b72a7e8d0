/*
 * test_srq - shared receive queues and shared completion queues on one device (rxe0):
 *   32 server QPs take their receives from one SRQ and complete on one CQ; 32 client QPs share
 *   another CQ. 1,600 SEND_IMMs, each verified byte for byte, demultiplexed by qp_tag, qp_num,
 *   src_qp and imm (in order per QP), counted per QP; the SRQ's outstanding count and reposting.
 *   Refusals: a full SRQ (SL_EFULL), sl_post_recv on an SRQ QP, an SRQ of another PD, a CQ that
 *   would overflow (SL_ERANGE) and its room coming back; a QP destroyed with a completion still in
 *   the CQ (SL_WC_DEPARTED, its tag, the SRQ entry retired, its room held until polled);
 *   destroy order (SL_EBUSY for SRQ, CQ and PD while used).
 */
#include "t.h"

#define NQP 32u
#define MSGS 50u          /* per QP */
#define MSG 1024u
#define SRQ_DEPTH 128u
#define SQ 8u
#define WINDOW 4u         /* sends in flight per client QP */
#define SERVER_TAG 0x5e000000ull
#define CLIENT_TAG 0xc1000000ull

static sl_handle dev;

struct side {
    sl_handle pd, cq, qp[NQP];
    uint32_t qpn[NQP];
};

static uint32_t seed_of(uint32_t q, uint32_t seq) { return q * 100000u + seq + 1; }

/* The server's CQ: SQ per QP + the SRQ's depth once. The client's: (SQ + 1 receive) per QP. */
static void setup(struct side *s, struct side *c, sl_handle *srq)
{
    sl_qp_opts qo;
    sl_qp_caps caps;

    OK(sl_pd_create(dev, &s->pd));
    OK(sl_pd_create(dev, &c->pd));
    OK(sl_cq_create(dev, NQP * SQ + SRQ_DEPTH, &s->cq));
    OK(sl_cq_create(dev, NQP * (SQ + 1), &c->cq));
    OK(sl_srq_create(s->pd, SRQ_DEPTH, 1, srq));
    for (uint32_t i = 0; i < NQP; i++) {
        uint8_t bs[SL_ENDPOINT_SIZE], bc[SL_ENDPOINT_SIZE];
        sl_qp_opts_default(&qo);
        qo.sq_depth = SQ;
        qo.srq = *srq;
        qo.tag = SERVER_TAG + i;
        OK(sl_qp_create(s->pd, s->cq, s->cq, &qo, &s->qp[i]));
        OK(sl_qp_caps_query(s->qp[i], &caps));
        CHECK(caps.srq == *srq && caps.rq_depth == 0 && caps.tag == SERVER_TAG + i && caps.sq_depth == SQ);
        sl_qp_opts_default(&qo);
        qo.sq_depth = SQ;
        qo.rq_depth = 1;
        qo.tag = CLIENT_TAG + i;
        OK(sl_qp_create(c->pd, c->cq, c->cq, &qo, &c->qp[i]));
        OK(sl_qp_num(s->qp[i], &s->qpn[i]));
        OK(sl_qp_num(c->qp[i], &c->qpn[i]));
        OK(sl_qp_endpoint(s->qp[i], bs));
        OK(sl_qp_endpoint(c->qp[i], bc));
        OK(sl_qp_connect(s->qp[i], bc, sizeof(bc), NULL));
        OK(sl_qp_connect(c->qp[i], bs, sizeof(bs), NULL));
    }
    /* Every CQ is now exactly full of promises: one more QP on either is refused. */
    {
        sl_handle extra = 0;
        sl_qp_opts_default(&qo);
        qo.sq_depth = 1;
        qo.srq = *srq;
        EXPECT_RC(sl_qp_create(s->pd, s->cq, s->cq, &qo, &extra), SL_ERANGE);
        EXPECT_ERR_TEXT("would overflow");
        CHECK(extra == 0);
        qo.srq = 0;
        qo.rq_depth = 1;
        EXPECT_RC(sl_qp_create(c->pd, c->cq, c->cq, &qo, &extra), SL_ERANGE);
        EXPECT_ERR_TEXT("would overflow");
    }
}

static sl_wr recv_wr(const t_buf *slots, uint32_t slot)
{
    return t_wr(slot, SL_OP_RECV, slots, (uint64_t)slot * MSG, MSG);
}

static void traffic(struct side *s, struct side *c, sl_handle srq)
{
    t_buf slots, src;
    uint32_t sent[NQP] = {0}, acked[NQP] = {0}, got[NQP] = {0}, total = 0, so, ro, out;
    sl_completion cs[64];
    sl_wr w[SRQ_DEPTH];
    int64_t t0 = t_now_ms(), progress = t0;

    t_buf_init(&slots, s->pd, (uint64_t)SRQ_DEPTH * MSG, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&src, c->pd, (uint64_t)NQP * WINDOW * MSG, 0);
    for (uint32_t i = 0; i < SRQ_DEPTH; i++)
        w[i] = recv_wr(&slots, i);
    OK(sl_srq_post_recv(srq, w, SRQ_DEPTH, &out));
    CHECK(out == SRQ_DEPTH);
    OK(sl_srq_outstanding(srq, &out));
    CHECK(out == SRQ_DEPTH);
    /* full: nothing more goes in, nothing is posted */
    EXPECT_RC(sl_srq_post_recv(srq, w, 1, &out), SL_EFULL);
    CHECK(out == 0);
    /* an SRQ QP has no receive queue of its own */
    EXPECT_RC(sl_post_recv(s->qp[0], w, 1, NULL), SL_EINVAL);
    EXPECT_ERR_TEXT("sl_srq_post_recv");

    while (total < NQP * MSGS) {
        uint32_t n = 0;
        /* clients: keep WINDOW sends in flight on every QP */
        for (uint32_t q = 0; q < NQP; q++) {
            while (sent[q] < MSGS && sent[q] - acked[q] < WINDOW) {
                uint32_t seq = sent[q], off = (q * WINDOW + seq % WINDOW) * MSG;
                sl_wr sw = t_wr(((uint64_t)q << 32) | seq, SL_OP_SEND_IMM, &src, off, MSG);
                t_fill(src.p + off, MSG, seed_of(q, seq));
                sw.imm = q << 16 | seq;
                OK(sl_post_send(c->qp[q], &sw, 1, NULL));
                sent[q]++;
            }
        }
        /* client CQ: send completions, routed by tag */
        OK(sl_cq_poll(c->cq, cs, 64, &n));
        for (uint32_t k = 0; k < n; k++) {
            uint32_t q = (uint32_t)(cs[k].qp_tag - CLIENT_TAG);
            CHECKF(cs[k].status == 0, "client send: %s", sl_wc_status_str(cs[k].status));
            CHECKF(q < NQP && cs[k].qp_num == c->qpn[q], "client completion tag 0x%llx qp_num %u",
                   (unsigned long long)cs[k].qp_tag, cs[k].qp_num);
            CHECK(cs[k].opcode == SL_OP_SEND_IMM && cs[k].src_qp == s->qpn[q] && !(cs[k].flags & SL_WC_SRQ));
            CHECKF(cs[k].wr_id == (((uint64_t)q << 32) | acked[q]), "QP %u: send %u completed, expected %u", q,
                   (uint32_t)cs[k].wr_id, acked[q]);
            acked[q]++;
        }
        /* server CQ: receives from the SRQ, routed by tag, checked, reposted */
        if (n)
            progress = t_now_ms();
        OK(sl_cq_poll_wait(s->cq, cs, 64, &n, n ? 0 : 10));
        CHECKF(n || t_now_ms() - progress < 60000, "no progress for 60 s: %u of %u received", total,
               NQP * MSGS);
        for (uint32_t k = 0; k < n; k++) {
            const sl_completion *e = &cs[k];
            uint32_t q = (uint32_t)(e->qp_tag - SERVER_TAG), seq = e->imm & 0xffff;
            int64_t bad;
            CHECKF(e->status == 0, "server receive: %s", sl_wc_status_str(e->status));
            CHECKF(q < NQP, "server completion with tag 0x%llx", (unsigned long long)e->qp_tag);
            CHECK(e->qp_num == s->qpn[q] && e->src_qp == c->qpn[q]);
            CHECK(e->opcode == SL_OP_RECV && (e->flags & SL_WC_SRQ) && (e->flags & SL_WC_WITH_IMM));
            CHECKF(e->imm >> 16 == q, "imm 0x%x arrived on QP %u", e->imm, q);
            CHECKF(seq == got[q], "QP %u: message %u arrived, expected %u", q, seq, got[q]);
            CHECK(e->byte_len == MSG && e->wr_id < SRQ_DEPTH);
            bad = t_check(slots.p + e->wr_id * MSG, MSG, seed_of(q, seq));
            CHECKF(bad < 0, "QP %u message %u differs at byte %lld", q, seq, (long long)bad);
            memset(slots.p + e->wr_id * MSG, 0, MSG);
            w[k] = recv_wr(&slots, (uint32_t)e->wr_id);
            got[q]++;
        }
        total += n;
        if (n) {
            progress = t_now_ms();
            OK(sl_srq_outstanding(srq, &out));
            CHECKF(out == SRQ_DEPTH - n, "SRQ outstanding %u after %u receives, expected %u", out, n,
                   SRQ_DEPTH - n);
            OK(sl_srq_post_recv(srq, w, n, NULL));
        }
    }
    while (1) { /* the last send completions */
        uint32_t n = 0, left = 0;
        for (uint32_t q = 0; q < NQP; q++)
            left += sent[q] - acked[q];
        if (!left)
            break;
        OK(sl_cq_poll_wait(c->cq, cs, 64, &n, 30000));
        CHECK(n > 0);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t q = (uint32_t)(cs[k].qp_tag - CLIENT_TAG);
            CHECK(q < NQP && cs[k].status == 0 && (uint32_t)cs[k].wr_id == acked[q]);
            acked[q]++;
        }
    }
    for (uint32_t q = 0; q < NQP; q++) {
        CHECKF(got[q] == MSGS && acked[q] == MSGS, "QP %u: %u received, %u acked", q, got[q], acked[q]);
        OK(sl_qp_outstanding(c->qp[q], &so, &ro));
        CHECK(so == 0 && ro == 0);
        OK(sl_qp_outstanding(s->qp[q], &so, &ro));
        CHECK(so == 0 && ro == 0);
    }
    OK(sl_srq_outstanding(srq, &out));
    CHECK(out == SRQ_DEPTH);
    printf("%u messages of %u bytes over %u QPs sharing one SRQ (depth %u) and one CQ per side: %lld ms\n",
           NQP * MSGS, MSG, NQP, SRQ_DEPTH, (long long)(t_now_ms() - t0));

    /* Departed: a receive completes, its QP is destroyed before the poll. */
    {
        sl_completion e[4];
        sl_wr sw = t_wr(77, SL_OP_SEND_IMM, &src, 0, 16);
        uint32_t n = 0;
        sl_qp_opts qo;
        sw.imm = 0xabcd;
        OK(sl_post_send(c->qp[5], &sw, 1, NULL));
        COLLECT(c->cq, e, 1, 30000); /* acked: the server's receive completion is in its CQ */
        CHECK(e[0].status == 0 && e[0].wr_id == 77);
        OK(sl_qp_destroy(s->qp[5]));
        OK(sl_cq_poll(s->cq, e, 4, &n));
        CHECKF(n == 1, "%u completions after the destroy", n);
        CHECK(e[0].status == 0 && e[0].qp_num == s->qpn[5] && e[0].qp_tag == SERVER_TAG + 5);
        CHECK((e[0].flags & SL_WC_DEPARTED) && (e[0].flags & SL_WC_SRQ) && e[0].imm == 0xabcd);
        CHECK(e[0].src_qp == c->qpn[5] && e[0].byte_len == 16);
        OK(sl_srq_outstanding(srq, &out));
        CHECK(out == SRQ_DEPTH - 1);
        sl_qp_opts_default(&qo);
        qo.sq_depth = SQ;
        qo.srq = srq;
        qo.tag = SERVER_TAG + 5;
        OK(sl_qp_create(s->pd, s->cq, s->cq, &qo, &s->qp[5]));
        printf("departed QP: its late SRQ receive kept its tag and retired the SRQ entry\n");
    }
    /* Held room: a QP destroyed with a receive outstanding keeps that entry until a poll. */
    {
        t_buf rb;
        sl_wr rw;
        sl_qp_opts qo;
        sl_completion e[64];
        uint32_t n = 0;
        sl_handle extra = 0;
        t_buf_init(&rb, c->pd, 64, SL_ACCESS_LOCAL_WRITE);
        rw = t_wr(1, SL_OP_RECV, &rb, 0, 64);
        OK(sl_post_recv(c->qp[7], &rw, 1, NULL));
        OK(sl_qp_destroy(c->qp[7]));
        sl_qp_opts_default(&qo);
        qo.sq_depth = SQ;
        qo.rq_depth = 1;
        EXPECT_RC(sl_qp_create(c->pd, c->cq, c->cq, &qo, &extra), SL_ERANGE);
        EXPECT_ERR_TEXT("1 held for destroyed queue pairs");
        OK(sl_cq_poll(c->cq, e, 64, &n));
        for (uint32_t k = 0; k < n; k++)
            CHECK((e[k].flags & SL_WC_DEPARTED) && e[k].qp_tag == CLIENT_TAG + 7 && e[k].wr_id == 1);
        printf("held room: %u flushed completion(s) seen after the destroy; room back after the poll\n", n);
        OK(sl_qp_create(c->pd, c->cq, c->cq, &qo, &c->qp[7]));
        t_buf_fini(&rb);
    }
    t_buf_fini(&slots);
    t_buf_fini(&src);
}

static void teardown(struct side *s, struct side *c, sl_handle srq)
{
    sl_completion e[64];
    uint32_t n;

    EXPECT_RC(sl_srq_destroy(srq), SL_EBUSY);
    EXPECT_ERR_TEXT("queue pair(s) still take their receives");
    EXPECT_RC(sl_pd_destroy(s->pd), SL_EBUSY);
    for (uint32_t i = 0; i < NQP; i++) {
        OK(sl_qp_destroy(c->qp[i]));
        OK(sl_qp_destroy(s->qp[i]));
    }
    OK(sl_cq_poll(s->cq, e, 64, &n));
    OK(sl_cq_poll(c->cq, e, 64, &n));
    /* the SRQ still holds room on the server CQ, and its place in the PD */
    EXPECT_RC(sl_cq_destroy(s->cq), SL_EBUSY);
    EXPECT_RC(sl_pd_destroy(s->pd), SL_EBUSY);
    OK(sl_srq_destroy(srq));
    EXPECT_RC(sl_srq_destroy(srq), SL_EBADHANDLE);
    EXPECT_RC(sl_srq_outstanding(srq, &n), SL_EBADHANDLE);
    OK(sl_cq_destroy(s->cq));
    OK(sl_cq_destroy(c->cq));
    OK(sl_pd_destroy(s->pd));
    OK(sl_pd_destroy(c->pd));
}

/* Room: reservations add up, refusals say why, and destroys give room back. */
static void cq_room(void)
{
    sl_handle pd, pd2, cq, srq, srq2, q1, q2, q3 = 0;
    sl_qp_opts qo;

    OK(sl_pd_create(dev, &pd));
    OK(sl_pd_create(dev, &pd2));
    OK(sl_cq_create(dev, 100, &cq));
    OK(sl_srq_create(pd, 64, 1, &srq));
    OK(sl_srq_create(pd2, 8, 1, &srq2));
    sl_qp_opts_default(&qo);
    qo.sq_depth = 16;
    qo.srq = srq2; /* another PD's SRQ */
    EXPECT_RC(sl_qp_create(pd, cq, cq, &qo, &q1), SL_EINVAL);
    EXPECT_ERR_TEXT("another protection domain");
    qo.srq = srq;
    OK(sl_qp_create(pd, cq, cq, &qo, &q1));     /* 16 + 64 = 80 */
    OK(sl_qp_create(pd, cq, cq, &qo, &q2));     /* + 16 = 96: the SRQ counts once */
    EXPECT_RC(sl_qp_create(pd, cq, cq, &qo, &q3), SL_ERANGE); /* 112 > 100 */
    EXPECT_ERR_TEXT("96 already promised (2 queue pair(s), 1 shared receive queue(s)");
    CHECK(q3 == 0);
    OK(sl_qp_destroy(q2)); /* nothing outstanding: its 16 come back at once */
    OK(sl_qp_create(pd, cq, cq, &qo, &q3));
    OK(sl_qp_destroy(q3));
    OK(sl_qp_destroy(q1));
    OK(sl_srq_destroy(srq));
    OK(sl_srq_destroy(srq2));
    /* the SRQ's 64 are released with it: 6 QPs of 16 fit now */
    {
        sl_handle qs[6];
        qo.srq = 0;
        qo.rq_depth = 1;
        qo.sq_depth = 15;
        for (int i = 0; i < 6; i++)
            OK(sl_qp_create(pd, cq, cq, &qo, &qs[i]));
        EXPECT_RC(sl_qp_create(pd, cq, cq, &qo, &q3), SL_ERANGE);
        for (int i = 0; i < 6; i++)
            OK(sl_qp_destroy(qs[i]));
    }
    OK(sl_cq_destroy(cq));
    OK(sl_pd_destroy(pd));
    OK(sl_pd_destroy(pd2));
    printf("CQ room: reservations, refusal, release: ok\n");
}

int main(void)
{
    static struct side s, c;
    sl_device_limits lim;
    sl_handle srq;

    dev = t_open(t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0"));
    OK(sl_device_limits_query(dev, &lim));
    printf("device limits: max_srq %u max_srq_wr %u max_srq_sge %u max_cqe %u\n", lim.max_srq, lim.max_srq_wr,
           lim.max_srq_sge, lim.max_cqe);
    CHECKF(lim.max_srq > 0, "rxe has shared receive queues");
    {
        sl_handle pd, x;
        OK(sl_pd_create(dev, &pd));
        EXPECT_RC(sl_srq_create(pd, lim.max_srq_wr + 1, 1, &x), SL_ERANGE);
        EXPECT_ERR_TEXT("max_srq_wr");
        OK(sl_pd_destroy(pd));
    }
    cq_room();
    setup(&s, &c, &srq);
    traffic(&s, &c, srq);
    teardown(&s, &c, srq);
    OK(sl_device_close(dev));
    printf("test_srq: OK\n");
    return 0;
}
