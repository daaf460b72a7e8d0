/*
 * cq.c - completion queues, their completion channels, and completion bookkeeping.
 *
 * Each CQ keeps a small table of the QPs that use it (wc.qp_num -> QP), so a completion can retire
 * its QP's outstanding request and, for an error completion (whose wc.opcode the verbs API leaves
 * undefined), report the opcode that was posted. RC send and receive queues complete in posting
 * order, so the oldest outstanding entry of the QP's ring is the one completing.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define POLL_BATCH 32
#define WAIT_SLICE_MS 100   /* poll_wait re-checks for a concurrent destroy this often */

int sl_cq_create(sl_handle dev_h, uint32_t depth, sl_handle *out)
{
    static const char fn[] = "sl_cq_create";
    sl_device *dev;
    sl_cq *cq;
    int rc, flags;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    if (depth == 0)
        return sl_fail(SL_EINVAL, 0, "%s: depth is 0", fn);
    rc = sl_handle_acquire(fn, dev_h, SL_TYPE_DEVICE, (void **)&dev);
    if (rc)
        return rc;
    if (depth > (uint32_t)dev->attr.max_cqe) {
        rc = sl_fail(SL_ERANGE, 0, "%s: depth %u is above the device's max_cqe %d", fn, depth,
                     dev->attr.max_cqe);
        goto out;
    }
    cq = calloc(1, sizeof(*cq));
    if (!cq) {
        rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
        goto out;
    }
    cq->dev = dev;
    rc = pthread_mutex_init(&cq->lock, NULL);
    if (rc) {
        free(cq);
        rc = sl_fail(SL_ENOMEM, rc, "%s: pthread_mutex_init failed", fn);
        goto out;
    }
    errno = 0;
    cq->channel = ibv_create_comp_channel(dev->ctx);
    if (!cq->channel) {
        rc = sl_fail_verbs(fn, "ibv_create_comp_channel", sl_verbs_errno(-1));
        goto fail_mutex;
    }
    flags = fcntl(cq->channel->fd, F_GETFL);
    if (flags < 0 || fcntl(cq->channel->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        rc = sl_fail_verbs(fn, "fcntl(O_NONBLOCK) on the completion channel", errno);
        goto fail_channel;
    }
    errno = 0;
    cq->cq = ibv_create_cq(dev->ctx, (int)depth, cq, cq->channel, 0);
    if (!cq->cq) {
        rc = sl_fail_verbs(fn, "ibv_create_cq", sl_verbs_errno(-1));
        goto fail_channel;
    }
    cq->depth = depth; /* what the caller asked for (the device may round up): predictable room checks */
    rc = sl_handle_alloc(fn, SL_TYPE_CQ, cq, &cq->h);
    if (rc)
        goto fail_cq;
    atomic_fetch_add(&dev->children, 1);
    *out = cq->h;
    sl_handle_release(dev_h);
    return SL_OK;

fail_cq:
    ibv_destroy_cq(cq->cq);
fail_channel:
    ibv_destroy_comp_channel(cq->channel);
fail_mutex:
    pthread_mutex_destroy(&cq->lock);
    free(cq);
out:
    sl_handle_release(dev_h);
    return rc;
}

/* Non-blocking: consumes every pending channel event and acknowledges them. */
static uint32_t drain_events(sl_cq *cq)
{
    struct ibv_cq *ev_cq;
    void *ev_ctx;
    uint32_t n = 0;

    while (ibv_get_cq_event(cq->channel, &ev_cq, &ev_ctx) == 0)
        n++;
    if (n)
        ibv_ack_cq_events(cq->cq, n);
    return n;
}

static int cq_busy(const char *fn, void *obj)
{
    sl_cq *cq = obj;
    unsigned children = atomic_load(&cq->children);

    if (!children)
        return 0;
    return sl_fail(SL_EBUSY, 0, "%s: %u queue pair(s) still use the completion queue: destroy "
                   "them first", fn, children);
}

int sl_cq_destroy(sl_handle h)
{
    static const char fn[] = "sl_cq_destroy";
    sl_cq *cq;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_CQ, (void **)&cq, cq_busy);

    if (rc)
        return rc;
    drain_events(cq); /* ibv_destroy_cq waits for every event read to be acknowledged */
    rc = ibv_destroy_cq(cq->cq);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_destroy_cq", sl_verbs_errno(rc));
    }
    rc = ibv_destroy_comp_channel(cq->channel);
    atomic_fetch_sub(&cq->dev->children, 1);
    sl_handle_close_finish(h);
    pthread_mutex_destroy(&cq->lock);
    free(cq->qps);
    free(cq);
    if (rc) /* the CQ is gone; only the channel's fd may have leaked */
        return sl_fail_verbs(fn, "ibv_destroy_comp_channel", sl_verbs_errno(rc));
    return SL_OK;
}

int sl_cq_fd(sl_handle h, int *fd)
{
    static const char fn[] = "sl_cq_fd";
    sl_cq *cq;
    int rc;

    if (!fd)
        return sl_fail(SL_EINVAL, 0, "%s: fd is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);
    if (rc)
        return rc;
    *fd = cq->channel->fd;
    sl_handle_release(h);
    return SL_OK;
}

int sl_cq_arm(sl_handle h, int solicited_only)
{
    static const char fn[] = "sl_cq_arm";
    sl_cq *cq;
    int rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);

    if (rc)
        return rc;
    rc = ibv_req_notify_cq(cq->cq, solicited_only ? 1 : 0);
    if (rc)
        rc = sl_fail_verbs(fn, "ibv_req_notify_cq", sl_verbs_errno(rc));
    sl_handle_release(h);
    return rc;
}

int sl_cq_ack_events(sl_handle h, uint32_t *events)
{
    static const char fn[] = "sl_cq_ack_events";
    sl_cq *cq;
    uint32_t n;
    int rc;

    if (!events)
        return sl_fail(SL_EINVAL, 0, "%s: events is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);
    if (rc)
        return rc;
    n = drain_events(cq);
    *events = n;
    sl_handle_release(h);
    return SL_OK;
}

/* ------------------------------------------------------------------ QP bookkeeping */

int sl_cq_attach(const char *fn, sl_cq *cq, sl_qp *qp, uint32_t entries)
{
    int rc = SL_OK;

    pthread_mutex_lock(&cq->lock);
    if (cq->committed + entries > cq->depth) {
        rc = sl_fail(SL_ERANGE, 0, "%s: completion queue 0x%016llx has %u entries, %llu already "
                     "promised to other queue pairs; this one needs %u more (sq_depth + rq_depth)",
                     fn, (unsigned long long)cq->h, cq->depth, (unsigned long long)cq->committed,
                     entries);
        goto out;
    }
    if (cq->nqps == cq->capqps) {
        uint32_t cap = cq->capqps ? cq->capqps * 2 : 4;
        sl_qp **p = realloc(cq->qps, cap * sizeof(*p));
        if (!p) {
            rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
            goto out;
        }
        cq->qps = p;
        cq->capqps = cap;
    }
    cq->qps[cq->nqps++] = qp;
    cq->committed += entries;
    atomic_fetch_add(&cq->children, 1);
out:
    pthread_mutex_unlock(&cq->lock);
    return rc;
}

void sl_cq_detach(sl_cq *cq, sl_qp *qp, uint32_t entries)
{
    pthread_mutex_lock(&cq->lock);
    for (uint32_t i = 0; i < cq->nqps; i++) {
        if (cq->qps[i] == qp) {
            cq->qps[i] = cq->qps[--cq->nqps];
            cq->committed -= entries;
            atomic_fetch_sub(&cq->children, 1);
            break;
        }
    }
    if (cq->last == qp)
        cq->last = NULL;
    pthread_mutex_unlock(&cq->lock);
}

/* Under cq->lock. */
static sl_qp *find_qp(sl_cq *cq, uint32_t qpn)
{
    if (cq->last && cq->last->qpn == qpn)
        return cq->last;
    for (uint32_t i = 0; i < cq->nqps; i++) {
        if (cq->qps[i]->qpn == qpn) {
            cq->last = cq->qps[i];
            return cq->last;
        }
    }
    return NULL;
}

static uint32_t send_opcode_from_wc(enum ibv_wc_opcode op)
{
    switch (op) {
    case IBV_WC_RDMA_WRITE: return SL_OP_WRITE;
    case IBV_WC_RDMA_READ: return SL_OP_READ;
    default: return SL_OP_SEND;
    }
}

static void mark_error(sl_qp *qp, uint32_t status)
{
    uint32_t cur = atomic_load(&qp->err_status);

    atomic_store(&qp->state, SL_QP_ERR);
    while ((cur == 0 || (cur == IBV_WC_WR_FLUSH_ERR && status != IBV_WC_WR_FLUSH_ERR)) &&
           !atomic_compare_exchange_weak(&qp->err_status, &cur, status))
        ;
}

/* Under cq->lock: translate one work completion and retire its request. */
static void complete_one(sl_cq *cq, const struct ibv_wc *wc, sl_completion *c)
{
    sl_qp *qp = find_qp(cq, wc->qp_num);
    int ok = wc->status == IBV_WC_SUCCESS;
    int is_recv = (wc->opcode & IBV_WC_RECV) != 0; /* valid for successes; rxe sets it always */
    uint64_t sq_tail = 0, sq_head = 0, rq_tail = 0, rq_head = 0;
    int sq_busy = 0, rq_busy = 0;
    uint32_t opcode;

    if (qp) {
        sq_tail = atomic_load(&qp->sq_tail);
        sq_head = atomic_load(&qp->sq_head);
        rq_tail = atomic_load(&qp->rq_tail);
        rq_head = atomic_load(&qp->rq_head);
        sq_busy = qp->send_cq == cq && sq_tail != sq_head;
        rq_busy = qp->recv_cq == cq && rq_tail != rq_head;
        if (qp->send_cq != qp->recv_cq) {
            is_recv = qp->recv_cq == cq;
        } else if (!ok) {
            /* Shared CQ and wc.opcode undefined: the oldest outstanding request with this wr_id. */
            int sm = sq_busy && atomic_load(&qp->sq_ring[sq_tail % qp->opts.sq_depth].wr_id) == wc->wr_id;
            int rm = rq_busy && atomic_load(&qp->rq_ring[rq_tail % qp->opts.rq_depth]) == wc->wr_id;
            if (sm != rm)
                is_recv = rm;
        }
    }

    memset(c, 0, sizeof(*c));
    c->wr_id = wc->wr_id;
    c->status = (uint32_t)wc->status;
    c->byte_len = wc->byte_len;
    c->qp_num = wc->qp_num;
    c->vendor_err = wc->vendor_err;
    if (is_recv) {
        opcode = SL_OP_RECV;
        if (ok && wc->opcode == IBV_WC_RECV_RDMA_WITH_IMM)
            opcode = SL_OP_RECV_IMM;
        if (ok && (wc->wc_flags & IBV_WC_WITH_IMM)) {
            c->flags |= SL_WC_WITH_IMM;
            c->imm = ntohl(wc->imm_data);
        }
        if (rq_busy)
            atomic_store(&qp->rq_tail, rq_tail + 1);
    } else {
        opcode = send_opcode_from_wc(wc->opcode);
        if (sq_busy) {
            opcode = atomic_load(&qp->sq_ring[sq_tail % qp->opts.sq_depth].opcode);
            atomic_store(&qp->sq_tail, sq_tail + 1);
        }
    }
    c->opcode = opcode;
    if (!ok && qp)
        mark_error(qp, (uint32_t)wc->status);
}

static int poll_cq(const char *fn, sl_cq *cq, sl_completion *out, uint32_t max, uint32_t *n)
{
    struct ibv_wc wcs[POLL_BATCH];
    uint32_t got = 0;
    int rc = SL_OK;

    pthread_mutex_lock(&cq->lock);
    while (got < max) {
        int k = (int)(max - got < POLL_BATCH ? max - got : POLL_BATCH);
        int r = ibv_poll_cq(cq->cq, k, wcs);
        if (r < 0) {
            if (got == 0)
                rc = sl_fail_verbs(fn, "ibv_poll_cq", r < -1 ? -r : EIO);
            break;
        }
        for (int i = 0; i < r; i++)
            complete_one(cq, &wcs[i], &out[got + (uint32_t)i]);
        got += (uint32_t)r;
        if (r < k)
            break;
    }
    pthread_mutex_unlock(&cq->lock);
    *n = got;
    return rc;
}

int sl_cq_poll(sl_handle h, sl_completion *out, uint32_t max, uint32_t *n)
{
    static const char fn[] = "sl_cq_poll";
    sl_cq *cq;
    int rc;

    if (!out || !n)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !out ? "out" : "n");
    if (max == 0)
        return sl_fail(SL_EINVAL, 0, "%s: max is 0", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);
    if (rc)
        return rc;
    rc = poll_cq(fn, cq, out, max, n);
    sl_handle_release(h);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl_cq_poll_wait(sl_handle h, sl_completion *out, uint32_t max, uint32_t *n, int timeout_ms)
{
    static const char fn[] = "sl_cq_poll_wait";
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    sl_cq *cq;
    int rc;

    if (!out || !n)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !out ? "out" : "n");
    if (max == 0)
        return sl_fail(SL_EINVAL, 0, "%s: max is 0", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);
    if (rc)
        return rc;
    for (;;) {
        rc = poll_cq(fn, cq, out, max, n);
        if (rc || *n)
            goto out;
        rc = ibv_req_notify_cq(cq->cq, 0);
        if (rc) {
            rc = sl_fail_verbs(fn, "ibv_req_notify_cq", sl_verbs_errno(rc));
            goto out;
        }
        rc = poll_cq(fn, cq, out, max, n); /* a completion that arrived before the arm */
        if (rc || *n)
            goto out;
        for (;;) {
            struct pollfd pfd = {.fd = cq->channel->fd, .events = POLLIN};
            int64_t left = deadline - now_ms();
            int slice = left < 0 ? 0 : left > WAIT_SLICE_MS ? WAIT_SLICE_MS : (int)left;
            int r = poll(&pfd, 1, slice);
            if (r < 0 && errno != EINTR) {
                rc = sl_fail_verbs(fn, "poll(2) on the completion channel", errno);
                goto out;
            }
            if (r > 0) {
                drain_events(cq);
                break; /* poll the CQ again; an event without a completion (raced) re-arms */
            }
            if (sl_handle_closing(h)) {
                rc = sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx was destroyed while waiting",
                             fn, (unsigned long long)h);
                goto out;
            }
            if (left <= 0)
                goto out; /* timed out: *n is 0, SL_OK */
        }
    }
out:
    sl_handle_release(h);
    return rc;
}
