/*
 * t.c - see t.h.
 */
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "t.h"

static void print_last_error(void)
{
    fprintf(stderr, "  shim last error: \"%s\" (errno %d)\n", sl_last_error(), sl_last_errno());
}

void t_fail(const char *file, int line, const char *what, int rc)
{
    if (rc == 1)
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    else
        fprintf(stderr, "%s:%d: FAILED: %s returned %s (%d)\n", file, line, what, sl_status_name(rc), rc);
    print_last_error();
    exit(1);
}

void t_failf(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_last_error();
    exit(1);
}

void t_no_device(const char *why)
{
    const char *req = getenv("SHARDLINK_REQUIRE_RDMA");

    if (req && strcmp(req, "1") == 0) {
        fprintf(stderr, "FAILED: an RDMA device is required (SHARDLINK_REQUIRE_RDMA=1): %s\n", why);
        exit(1);
    }
    fprintf(stderr, "SKIPPED: no usable RDMA device: %s\n", why);
    exit(T_SKIP);
}

const char *t_dev_name(const char *var, const char *def)
{
    const char *v = getenv(var);

    return v && *v ? v : def;
}

sl_handle t_open(const char *name)
{
    sl_handle dev = 0;

    if (sl_device_open(name, 1, &dev) != SL_OK)
        t_no_device(sl_last_error());
    return dev;
}

int64_t t_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int t_wait_port(sl_handle dev, int timeout_ms)
{
    int64_t end = t_now_ms() + timeout_ms;
    static const uint8_t zero[16];

    for (;;) {
        sl_port_attr pa;
        uint8_t gid[16];
        if (sl_port_query(dev, 1, &pa) == SL_OK && pa.state == SL_PORT_ACTIVE &&
            sl_gid_query(dev, 1, 0, gid) == SL_OK && memcmp(gid, zero, 16) != 0)
            return 0;
        if (t_now_ms() > end)
            return -1;
        usleep(100 * 1000);
    }
}

void t_end_init(t_end *e, sl_handle dev, const sl_qp_opts *qo, uint32_t cq_depth)
{
    sl_qp_opts d;

    if (!qo) {
        sl_qp_opts_default(&d);
        qo = &d;
    }
    memset(e, 0, sizeof(*e));
    e->dev = dev;
    OK(sl_pd_create(dev, &e->pd));
    OK(sl_cq_create(dev, cq_depth ? cq_depth : qo->sq_depth + qo->rq_depth, &e->cq));
    OK(sl_qp_create(e->pd, e->cq, e->cq, qo, &e->qp));
}

void t_connect(t_end *a, t_end *b, const sl_connect_opts *co)
{
    uint8_t ba[SL_ENDPOINT_SIZE], bb[SL_ENDPOINT_SIZE];
    uint32_t st;

    OK(sl_qp_endpoint(a->qp, ba));
    OK(sl_qp_endpoint(b->qp, bb));
    OK(sl_qp_connect(a->qp, bb, sizeof(bb), co));
    OK(sl_qp_connect(b->qp, ba, sizeof(ba), co));
    OK(sl_qp_state(a->qp, &st));
    CHECKF(st == SL_QP_RTS, "qp state %u after connect, expected RTS", st);
    OK(sl_qp_state(b->qp, &st));
    CHECKF(st == SL_QP_RTS, "qp state %u after connect, expected RTS", st);
}

void t_end_fini(t_end *e)
{
    OK(sl_qp_destroy(e->qp));
    OK(sl_cq_destroy(e->cq));
    OK(sl_pd_destroy(e->pd));
    memset(e, 0, sizeof(*e));
}

void t_buf_init(t_buf *b, sl_handle pd, uint64_t len, uint32_t access)
{
    void *p = NULL;

    memset(b, 0, sizeof(*b));
    OK(sl_buf_alloc(len, 0, &p));
    b->p = p;
    b->len = len;
    OK(sl_mr_register(pd, p, len, access, &b->mr));
    OK(sl_mr_query(b->mr, &b->info));
}

void t_buf_fini(t_buf *b)
{
    OK(sl_mr_deregister(b->mr));
    OK(sl_buf_free(b->p));
    memset(b, 0, sizeof(*b));
}

static uint8_t pattern(uint32_t seed, uint64_t i)
{
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 29;
    return (uint8_t)(x ^ (x >> 17));
}

void t_fill(uint8_t *p, uint64_t len, uint32_t seed)
{
    for (uint64_t i = 0; i < len; i++)
        p[i] = pattern(seed, i);
}

int64_t t_check(const uint8_t *p, uint64_t len, uint32_t seed)
{
    for (uint64_t i = 0; i < len; i++)
        if (p[i] != pattern(seed, i))
            return (int64_t)i;
    return -1;
}

sl_wr t_wr(uint64_t wr_id, uint32_t opcode, const t_buf *b, uint64_t off, uint32_t len)
{
    sl_wr w;

    memset(&w, 0, sizeof(w));
    w.wr_id = wr_id;
    w.opcode = opcode;
    if (b && len) {
        w.num_sge = 1;
        w.sge[0].mr = b->mr;
        w.sge[0].offset = off;
        w.sge[0].length = len;
    }
    return w;
}

void t_collect(const char *file, int line, sl_handle cq, sl_completion *out, uint32_t want, int timeout_ms)
{
    int64_t end = t_now_ms() + timeout_ms;
    uint32_t got = 0;

    while (got < want) {
        uint32_t n = 0;
        int64_t left = end - t_now_ms();
        int rc;
        if (left <= 0)
            t_failf(file, line, "only %u of %u completions within %d ms", got, want, timeout_ms);
        rc = sl_cq_poll_wait(cq, out + got, want - got, &n, (int)left);
        if (rc != SL_OK)
            t_fail(file, line, "sl_cq_poll_wait", rc);
        got += n;
    }
}
