/*
 * pingpong_lat - the floor of a shardlink-shaped two-sided exchange on rxe, over the shim:
 * the client (on DEV_A) SENDs a 64-byte request WITH IMMEDIATE, the server (on DEV_B) WRITEs 4 KiB
 * WITH IMMEDIATE back into the client's buffer, the client's receive completes. One exchange at a
 * time, round trip timed on the client; p50/p90/p99/max per polling mode:
 *   event     sl_cq_poll_wait (arm the completion channel and sleep)
 *   adaptive  sl_cq_poll_adaptive with SPIN_US (200) of polling first
 *   busy      sl_cq_poll in a loop
 * and with "+hops" (e.g. event+hops) the same with the thread hops of shardlink's Java read path:
 * the server's poller hands each request to a worker thread that posts the answer, and the client's
 * poller hands each answer to a waiting caller thread (mutex + condition variable), so one exchange
 * costs four thread wake-ups instead of two.
 * Not a test: bench/rdma-vs-perftest.sh runs it beside ib_send_lat / ib_read_lat in the rxe VM.
 * Usage: pingpong_lat [MODES (event,adaptive,busy)] [ITERS (2000)]; env DEV_A, DEV_B, SPIN_US.
 * Prints one line per mode: PINGPONG {json}.
 */
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "t.h"

#define REQ 64u
#define ANS 4096u
#define RECVS 16u
#define WAIT_MS 10000

enum { EVENT, ADAPTIVE, BUSY };

typedef struct handoff { /* one slot: a poller hands an item to a thread waiting on it */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int full;
    uint64_t item;
} handoff;

typedef struct side {
    t_end e;
    t_buf buf;        /* [0, ANS): answers land / are sent from here; [ANS, ANS + RECVS * REQ): requests */
    int mode;
    uint32_t spin_us;
    uint32_t inline_ok;
} side;

static side A, B;
static uint32_t peer_rkey;
static uint64_t peer_addr;
static volatile int stop;
static handoff to_worker, to_caller;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void hand(handoff *h, uint64_t item)
{
    pthread_mutex_lock(&h->mu);
    h->item = item;
    h->full = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static int take(handoff *h, uint64_t *item)
{
    struct timespec dl;
    int rc = 0, got;

    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&h->mu);
    while (!h->full && rc == 0 && !stop)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &dl);
    got = h->full;
    *item = h->item;
    h->full = 0;
    pthread_mutex_unlock(&h->mu);
    return got ? 0 : -1;
}

/* The next receive completion of s (send completions are consumed on the way); -1 on timeout. */
static int next_recv(side *s, sl_completion *out)
{
    int64_t end = now_ns() + (int64_t)WAIT_MS * 1000000;
    sl_completion wc[8];

    for (;;) {
        uint32_t n = 0;
        if (stop)
            return -1;
        if (s->mode == EVENT)
            OK(sl_cq_poll_wait(s->e.cq, wc, 8, &n, 200));
        else if (s->mode == ADAPTIVE)
            OK(sl_cq_poll_adaptive(s->e.cq, wc, 8, &n, s->spin_us, 200, NULL));
        else
            OK(sl_cq_poll(s->e.cq, wc, 8, &n));
        for (uint32_t i = 0; i < n; i++) {
            CHECKF(wc[i].status == 0, "completion status %u (%s)", wc[i].status, sl_wc_status_str(wc[i].status));
            if (wc[i].opcode == SL_OP_RECV || wc[i].opcode == SL_OP_RECV_IMM) {
                *out = wc[i]; /* one exchange at a time: at most one receive per batch */
                return 0;
            }
        }
        if (now_ns() > end)
            return -1;
    }
}

static void post_recv(side *s, uint64_t id)
{
    sl_wr w = t_wr(id, SL_OP_RECV, &s->buf, ANS + (id % RECVS) * REQ, REQ);
    OK(sl_post_recv(s->e.qp, &w, 1, NULL));
}

static void answer(uint32_t imm)
{
    sl_wr w = t_wr(imm, SL_OP_WRITE_IMM, &B.buf, 0, ANS);
    w.remote_addr = peer_addr;
    w.rkey = peer_rkey;
    w.imm = imm;
    OK(sl_post_send(B.e.qp, &w, 1, NULL));
}

static void *worker(void *arg)
{
    uint64_t imm;
    (void)arg;
    while (!stop)
        if (take(&to_worker, &imm) == 0)
            answer((uint32_t)imm);
    return NULL;
}

static void *server(void *arg)
{
    bool hops = *(bool *)arg;
    sl_completion c;

    while (next_recv(&B, &c) == 0) {
        post_recv(&B, c.wr_id + RECVS);
        if (hops)
            hand(&to_worker, c.imm);
        else
            answer(c.imm);
    }
    return NULL;
}

static void *client_poller(void *arg)
{
    sl_completion c;
    (void)arg;
    while (next_recv(&A, &c) == 0) {
        post_recv(&A, c.wr_id + RECVS);
        hand(&to_caller, c.imm);
    }
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *name, int mode, bool hops, int iters, uint32_t spin_us)
{
    pthread_t srv, wk, cp;
    int64_t *lat = calloc((size_t)iters, sizeof(*lat));
    int warm = iters / 10 + 10, ticks = 0;
    sl_completion c;
    uint64_t imm;

    CHECK(lat != NULL);
    A.mode = B.mode = mode;
    A.spin_us = B.spin_us = spin_us;
    stop = 0;
    to_worker.full = to_caller.full = 0;
    CHECK(pthread_create(&srv, NULL, server, &hops) == 0);
    if (hops) {
        CHECK(pthread_create(&wk, NULL, worker, NULL) == 0);
        CHECK(pthread_create(&cp, NULL, client_poller, NULL) == 0);
    }
    for (int i = -warm; i < iters; i++) {
        uint32_t id = (uint32_t)(i + warm);
        sl_wr w = t_wr(id, SL_OP_SEND_IMM, &A.buf, ANS + RECVS * REQ, REQ);
        int64_t t0 = now_ns();
        w.imm = id;
        if (A.inline_ok)
            w.flags |= SL_WR_INLINE;
        OK(sl_post_send(A.e.qp, &w, 1, NULL));
        if (hops) {
            CHECKF(take(&to_caller, &imm) == 0, "%s: no answer to exchange %u within %d ms", name, id, WAIT_MS);
        } else {
            CHECKF(next_recv(&A, &c) == 0, "%s: no answer to exchange %u within %d ms", name, id, WAIT_MS);
            imm = c.imm;
            post_recv(&A, c.wr_id + RECVS);
        }
        CHECKF(imm == id, "%s: answer %llu to exchange %u", name, (unsigned long long)imm, id);
        if (i >= 0)
            lat[i] = now_ns() - t0;
    }
    stop = 1;
    pthread_mutex_lock(&to_worker.mu);
    pthread_cond_broadcast(&to_worker.cv);
    pthread_mutex_unlock(&to_worker.mu);
    CHECK(pthread_join(srv, NULL) == 0);
    if (hops) {
        CHECK(pthread_join(wk, NULL) == 0);
        CHECK(pthread_join(cp, NULL) == 0);
    }
    /* drain what is left (send completions) so the next mode starts clean */
    for (int k = 0; k < 4; k++) {
        sl_completion wc[16];
        uint32_t n;
        OK(sl_cq_poll(A.e.cq, wc, 16, &n));
        OK(sl_cq_poll(B.e.cq, wc, 16, &n));
    }
    qsort(lat, (size_t)iters, sizeof(*lat), cmp64);
    for (int i = 0; i < iters; i++)
        ticks += lat[i] >= 3000000;
    printf("PINGPONG {\"mode\":\"%s\",\"iters\":%d,\"spin_us\":%u,\"min_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
           "\"p99_us\":%.1f,\"max_us\":%.1f,\"over_3ms\":%d}\n", name, iters, mode == ADAPTIVE ? spin_us : 0,
           lat[0] / 1e3, lat[iters / 2] / 1e3, lat[iters * 9 / 10] / 1e3, lat[iters * 99 / 100] / 1e3,
           lat[iters - 1] / 1e3, ticks);
    fflush(stdout);
    free(lat);
}

static void side_init(side *s, const char *dev)
{
    sl_qp_opts qo;
    sl_qp_caps caps;

    sl_qp_opts_default(&qo);
    qo.max_inline = REQ;
    memset(s, 0, sizeof(*s));
    t_end_init(&s->e, t_open(dev), &qo, 0);
    t_buf_init(&s->buf, s->e.pd, ANS + (RECVS + 1) * REQ, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    OK(sl_qp_caps_query(s->e.qp, &caps));
    s->inline_ok = caps.max_inline >= REQ;
    for (uint64_t i = 0; i < RECVS; i++)
        post_recv(s, i);
}

int main(int argc, char **argv)
{
    char modes[256];
    int iters = argc > 2 ? atoi(argv[2]) : 2000;
    const char *spin = getenv("SPIN_US");
    uint32_t spin_us = spin ? (uint32_t)atoi(spin) : 200;

    snprintf(modes, sizeof(modes), "%s", argc > 1 ? argv[1] : "event,adaptive,busy");
    CHECKF(iters >= 10, "ITERS must be >= 10");
    pthread_mutex_init(&to_worker.mu, NULL);
    pthread_cond_init(&to_worker.cv, NULL);
    pthread_mutex_init(&to_caller.mu, NULL);
    pthread_cond_init(&to_caller.cv, NULL);
    side_init(&A, t_dev_name("DEV_A", t_dev_name("SHARDLINK_RXE_A", "rxea")));
    side_init(&B, t_dev_name("DEV_B", t_dev_name("SHARDLINK_RXE_B", "rxeb")));
    t_connect(&A.e, &B.e, NULL);
    peer_addr = A.buf.info.addr;
    peer_rkey = A.buf.info.rkey;
    for (char *save = NULL, *m = strtok_r(modes, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        bool hops = strstr(m, "+hops") != NULL;
        int mode = strncmp(m, "event", 5) == 0 ? EVENT : strncmp(m, "adaptive", 8) == 0 ? ADAPTIVE
                 : strncmp(m, "busy", 4) == 0 ? BUSY : -1;
        CHECKF(mode >= 0, "unknown mode %s (event, adaptive, busy, each optionally +hops)", m);
        run(m, mode, hops, iters, spin_us);
    }
    t_buf_fini(&A.buf);
    t_buf_fini(&B.buf);
    t_end_fini(&A.e);
    t_end_fini(&B.e);
    return 0;
}
