/*
 * cq.c - completion queues, their completion channels, and completion bookkeeping.
 *
 * Each CQ keeps a hash table of the QPs that use it (wc.qp_num -> QP), so that one CQ can serve
 * many QPs: a completion retires its QP's outstanding requests (or an entry of its shared
 * receive queue), carries the QP's tag and peer, and, for an error completion (whose wc.opcode
 * the verbs API leaves undefined), reports the opcode that was posted. RC send and receive
 * queues complete in posting order, so a send completion retires the oldest outstanding entries
 * of the QP's ring up to and including the one completing (earlier unsignaled ones).
 *
 * Room: every attachment reserves what it can have outstanding (see shardlink.h), so the CQ
 * cannot overflow. A QP destroyed with completions unpolled stays in a small "departed" list,
 * holding its reservation and routable by number, until a poll finds the CQ empty.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

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
    cq->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (cq->wake_fd < 0) {
        rc = sl_fail_verbs(fn, "eventfd", errno);
        free(cq);
        goto out;
    }
    rc = pthread_mutex_init(&cq->lock, NULL);
    if (rc) {
        close(cq->wake_fd);
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
    close(cq->wake_fd);
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
    return sl_fail(SL_EBUSY, 0, "%s: %u queue pair(s) / shared receive queue(s) still use the "
                   "completion queue: destroy them first", fn, children);
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
    close(cq->wake_fd);
    free(cq->table);
    free(cq->links);
    free(cq->departed);
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

/* ------------------------------------------------------------------ QP table (under cq->lock) */

static uint32_t qpn_slot(uint32_t qpn, uint32_t cap)
{
    return (qpn * 2654435761u) & (cap - 1);
}

static sl_qp *find_qp(sl_cq *cq, uint32_t qpn)
{
    if (!cq->tcap)
        return NULL;
    for (uint32_t i = qpn_slot(qpn, cq->tcap);; i = (i + 1) & (cq->tcap - 1)) {
        sl_qp *q = cq->table[i];
        if (!q || q->qpn == qpn)
            return q;
    }
}

static void table_put(sl_qp **table, uint32_t cap, sl_qp *qp)
{
    uint32_t i = qpn_slot(qp->qpn, cap);

    while (table[i])
        i = (i + 1) & (cap - 1);
    table[i] = qp;
}

/* Keeps the table at most half full. */
static int table_reserve(sl_cq *cq)
{
    uint32_t cap;
    sl_qp **t;

    if ((cq->nqps + 1) * 2 <= cq->tcap)
        return 0;
    cap = cq->tcap ? cq->tcap * 2 : 16;
    t = calloc(cap, sizeof(*t));
    if (!t)
        return -1;
    for (uint32_t i = 0; i < cq->tcap; i++)
        if (cq->table[i])
            table_put(t, cap, cq->table[i]);
    free(cq->table);
    cq->table = t;
    cq->tcap = cap;
    return 0;
}

/* Backward-shift deletion: the probe chains stay unbroken without tombstones. */
static int table_remove(sl_cq *cq, sl_qp *qp)
{
    uint32_t mask = cq->tcap - 1, i, j;

    if (!cq->tcap)
        return 0;
    for (i = qpn_slot(qp->qpn, cq->tcap); cq->table[i] != qp; i = (i + 1) & mask)
        if (!cq->table[i])
            return 0;
    cq->table[i] = NULL;
    for (j = (i + 1) & mask; cq->table[j]; j = (j + 1) & mask) {
        uint32_t k = qpn_slot(cq->table[j]->qpn, cq->tcap);
        /* move table[j] into the hole at i unless its home k lies cyclically in (i, j] */
        if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
            cq->table[i] = cq->table[j];
            cq->table[j] = NULL;
            i = j;
        }
    }
    cq->nqps--;
    return 1;
}

static int srq_linked(sl_cq *cq, sl_srq *srq)
{
    for (uint32_t i = 0; i < cq->nlinks; i++)
        if (cq->links[i] == srq)
            return 1;
    return 0;
}

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
    uint32_t c;
    void *p;

    if (need <= *cap)
        return 0;
    c = *cap ? *cap * 2 : 4;
    while (c < need)
        c *= 2;
    p = realloc(*arr, (size_t)c * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

/* ------------------------------------------------------------------ attach / detach */

int sl_cq_attach(const char *fn, sl_cq *cq, sl_qp *qp, uint32_t entries, sl_srq *srq)
{
    uint64_t need;
    int rc = SL_OK, link;

    pthread_mutex_lock(&cq->lock);
    link = srq && !srq_linked(cq, srq);
    need = (uint64_t)entries + (link ? srq->depth : 0);
    if (cq->committed + need > cq->depth) {
        uint64_t held = 0;
        for (uint32_t i = 0; i < cq->ndeparted; i++)
            held += cq->departed[i].held;
        rc = sl_fail(SL_ERANGE, 0, "%s: completion queue 0x%016llx would overflow: it has %u entries, "
                     "%llu already promised (%u queue pair(s), %u shared receive queue(s), %llu held for "
                     "destroyed queue pairs' unpolled completions); this queue pair needs %llu more "
                     "(sq_depth + rq_depth%s): create a larger CQ or spread the queue pairs", fn,
                     (unsigned long long)cq->h, cq->depth, (unsigned long long)cq->committed, cq->nqps,
                     cq->nlinks, (unsigned long long)held, (unsigned long long)need,
                     link ? " + the shared receive queue's depth" : "");
        goto out;
    }
    if (table_reserve(cq) != 0 || (link && grow((void **)&cq->links, &cq->caplinks, cq->nlinks + 1,
                                                 sizeof(*cq->links)) != 0)) {
        rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
        goto out;
    }
    if (link) {
        pthread_mutex_lock(&srq->link_lock);
        if (grow((void **)&srq->cqs, &srq->capcqs, srq->ncqs + 1, sizeof(*srq->cqs)) != 0) {
            pthread_mutex_unlock(&srq->link_lock);
            rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
            goto out;
        }
        srq->cqs[srq->ncqs++] = cq;
        pthread_mutex_unlock(&srq->link_lock);
        cq->links[cq->nlinks++] = srq;
        atomic_fetch_add(&cq->children, 1);
    }
    table_put(cq->table, cq->tcap, qp);
    cq->nqps++;
    cq->committed += need;
    atomic_fetch_add(&cq->children, 1);
out:
    pthread_mutex_unlock(&cq->lock);
    return rc;
}

void sl_cq_detach(sl_cq *cq, sl_qp *qp, uint32_t entries, int destroyed, uint32_t held)
{
    int keep;

    if (held > entries)
        held = entries;
    pthread_mutex_lock(&cq->lock);
    if (!table_remove(cq, qp)) {
        pthread_mutex_unlock(&cq->lock);
        return;
    }
    /* Worth remembering only if completions of it can still come out of this CQ. */
    keep = destroyed && (held > 0 || (qp->srq && qp->recv_cq == cq));
    if (keep && grow((void **)&cq->departed, &cq->capdeparted, cq->ndeparted + 1, sizeof(*cq->departed)) != 0)
        keep = 0; /* out of memory: its late completions come back without bookkeeping */
    if (keep) {
        sl_departed *d = &cq->departed[cq->ndeparted++];
        d->qpn = qp->qpn;
        d->src_qp = atomic_load(&qp->dest_qpn);
        d->tag = qp->tag;
        d->srq = qp->recv_cq == cq ? qp->srq : NULL;
        d->held = held;
        cq->committed -= entries - held;
    } else {
        cq->committed -= entries;
    }
    atomic_fetch_sub(&cq->children, 1);
    pthread_mutex_unlock(&cq->lock);
}

void sl_cq_unlink_srq(sl_cq *cq, sl_srq *srq)
{
    pthread_mutex_lock(&cq->lock);
    for (uint32_t i = 0; i < cq->nlinks; i++) {
        if (cq->links[i] == srq) {
            cq->links[i] = cq->links[--cq->nlinks];
            cq->committed -= srq->depth;
            atomic_fetch_sub(&cq->children, 1);
            break;
        }
    }
    for (uint32_t i = 0; i < cq->ndeparted; i++)
        if (cq->departed[i].srq == srq)
            cq->departed[i].srq = NULL;
    pthread_mutex_unlock(&cq->lock);
}

/* The CQ was seen empty: completions of QPs destroyed before this poll are all consumed. */
static void clear_departed(sl_cq *cq)
{
    for (uint32_t i = 0; i < cq->ndeparted; i++)
        cq->committed -= cq->departed[i].held;
    cq->ndeparted = 0;
}

static sl_departed *find_departed(sl_cq *cq, uint32_t qpn)
{
    for (uint32_t i = cq->ndeparted; i-- > 0;) /* newest first: QP numbers can be reused */
        if (cq->departed[i].qpn == qpn)
            return &cq->departed[i];
    return NULL;
}

/* ------------------------------------------------------------------ completions */

static uint32_t send_opcode_from_wc(enum ibv_wc_opcode op)
{
    switch (op) {
    case IBV_WC_RDMA_WRITE: return SL_OP_WRITE;
    case IBV_WC_RDMA_READ: return SL_OP_READ;
    case IBV_WC_BIND_MW: return SL_OP_BIND_MW;
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

/* One receive of an SRQ retired (pollers of several CQs may do this at once). */
static void srq_retire(sl_srq *srq)
{
    uint64_t t = atomic_load(&srq->tail);

    while (t < atomic_load(&srq->head) && !atomic_compare_exchange_weak(&srq->tail, &t, t + 1))
        ;
}

/*
 * A send completion: retires the oldest outstanding requests up to the one completing. A
 * successful completion belongs to a signaled request (earlier unsignaled ones retire with it);
 * a failed one may be any request (the device reports failed and flushed requests whether
 * signaled or not). Returns the posted opcode, or UINT32_MAX if no ring entry matched.
 */
static uint32_t retire_sends(sl_qp *qp, uint64_t wr_id, int ok)
{
    uint64_t tail = atomic_load(&qp->sq_tail), head = atomic_load(&qp->sq_head);
    uint32_t depth = qp->opts.sq_depth;

    for (uint64_t p = tail; p != head; p++) {
        sl_sq_slot *s = &qp->sq_ring[p % depth];
        uint32_t op = atomic_load_explicit(&s->opcode, memory_order_relaxed);
        if (atomic_load_explicit(&s->wr_id, memory_order_relaxed) == wr_id && (!ok || (op & SL_SLOT_SIGNALED))) {
            atomic_store(&qp->sq_tail, p + 1);
            return op & ~SL_SLOT_SIGNALED;
        }
    }
    if (!ok && tail != head) { /* an unknown wr_id: retire the oldest, which is what completes */
        uint32_t op = atomic_load_explicit(&qp->sq_ring[tail % depth].opcode, memory_order_relaxed);
        atomic_store(&qp->sq_tail, tail + 1);
        return op & ~SL_SLOT_SIGNALED;
    }
    return UINT32_MAX;
}

/* Under cq->lock: translate one work completion and retire its request. */
static void complete_one(sl_cq *cq, const struct ibv_wc *wc, sl_completion *c)
{
    sl_qp *qp = find_qp(cq, wc->qp_num);
    int ok = wc->status == IBV_WC_SUCCESS;
    int is_recv = (wc->opcode & IBV_WC_RECV) != 0; /* valid for successes; rxe sets it always */
    uint32_t opcode = UINT32_MAX;
    sl_srq *srq = NULL;

    memset(c, 0, sizeof(*c));
    c->wr_id = wc->wr_id;
    c->status = (uint32_t)wc->status;
    c->byte_len = wc->byte_len;
    c->qp_num = wc->qp_num;
    c->vendor_err = wc->vendor_err;

    if (qp) {
        uint64_t sq_tail = atomic_load(&qp->sq_tail), sq_head = atomic_load(&qp->sq_head);
        uint64_t rq_tail = atomic_load(&qp->rq_tail), rq_head = atomic_load(&qp->rq_head);
        int sq_busy = qp->send_cq == cq && sq_tail != sq_head;
        int rq_busy = qp->recv_cq == cq && rq_tail != rq_head;

        c->src_qp = atomic_load(&qp->dest_qpn);
        c->qp_tag = qp->tag;
        if (qp->send_cq != qp->recv_cq) {
            is_recv = qp->recv_cq == cq;
        } else if (!ok) {
            /* Shared CQ and wc.opcode undefined: is it an outstanding send with this wr_id? */
            int sm = 0;
            for (uint64_t p = sq_tail; sq_busy && p != sq_head && !sm; p++)
                sm = atomic_load(&qp->sq_ring[p % qp->opts.sq_depth].wr_id) == wc->wr_id;
            if (qp->srq) {
                is_recv = !sm;
            } else {
                int rm = rq_busy && atomic_load(&qp->rq_ring[rq_tail % qp->opts.rq_depth]) == wc->wr_id;
                if (sm != rm)
                    is_recv = rm;
            }
        }
        if (is_recv) {
            if (qp->srq)
                srq = qp->srq;
            else if (rq_busy)
                atomic_store(&qp->rq_tail, rq_tail + 1);
        } else if (sq_busy) {
            opcode = retire_sends(qp, wc->wr_id, ok);
        }
        if (!ok)
            mark_error(qp, (uint32_t)wc->status);
    } else {
        sl_departed *d = find_departed(cq, wc->qp_num);
        if (d) {
            c->flags |= SL_WC_DEPARTED;
            c->src_qp = d->src_qp;
            c->qp_tag = d->tag;
            if (is_recv)
                srq = d->srq;
        }
    }
    if (is_recv) {
        opcode = SL_OP_RECV;
        if (ok && wc->opcode == IBV_WC_RECV_RDMA_WITH_IMM)
            opcode = SL_OP_RECV_IMM;
        if (ok && (wc->wc_flags & IBV_WC_WITH_IMM)) {
            c->flags |= SL_WC_WITH_IMM;
            c->imm = ntohl(wc->imm_data);
        }
        if (srq) {
            c->flags |= SL_WC_SRQ;
            srq_retire(srq);
        }
    } else if (opcode == UINT32_MAX) {
        opcode = send_opcode_from_wc(wc->opcode);
    }
    c->opcode = opcode;
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
        if (r < k) {
            if (cq->ndeparted)
                clear_departed(cq);
            break;
        }
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

/* ------------------------------------------------------------------ waiting */

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Consumes a pending wake; 1 if there was one. */
static int take_wake(sl_cq *cq)
{
    uint64_t v;

    return read(cq->wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

/*
 * poll_wait's body: poll, arm, poll, then wait on the channel and the wake fd until deadline_us
 * (INT64_MAX: no limit). *n 0 on timeout or wake.
 */
static int wait_for(const char *fn, sl_handle h, sl_cq *cq, sl_completion *out, uint32_t max, uint32_t *n,
                    int64_t deadline_us, int *woken)
{
    int rc;

    for (;;) {
        rc = poll_cq(fn, cq, out, max, n);
        if (rc || *n)
            return rc;
        rc = ibv_req_notify_cq(cq->cq, 0);
        if (rc)
            return sl_fail_verbs(fn, "ibv_req_notify_cq", sl_verbs_errno(rc));
        rc = poll_cq(fn, cq, out, max, n); /* a completion that arrived before the arm */
        if (rc || *n)
            return rc;
        for (;;) {
            struct pollfd pfd[2] = {{.fd = cq->channel->fd, .events = POLLIN},
                                    {.fd = cq->wake_fd, .events = POLLIN}};
            int64_t left = deadline_us == INT64_MAX ? INT64_MAX : deadline_us - now_us();
            int slice = left <= 0 ? 0 : left >= (int64_t)WAIT_SLICE_MS * 1000 ? WAIT_SLICE_MS
                                                                                : (int)((left + 999) / 1000);
            int r = poll(pfd, 2, slice);
            if (r < 0 && errno != EINTR)
                return sl_fail_verbs(fn, "poll(2) on the completion channel", errno);
            if (r > 0 && (pfd[1].revents & POLLIN) && take_wake(cq)) {
                *woken = 1;
                return SL_OK; /* *n is 0 */
            }
            if (r > 0 && (pfd[0].revents & POLLIN)) {
                drain_events(cq);
                break; /* poll the CQ again; an event without a completion (raced) re-arms */
            }
            if (sl_handle_closing(h))
                return sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx was destroyed while waiting",
                               fn, (unsigned long long)h);
            if (left <= 0)
                return SL_OK; /* timed out: *n is 0 */
        }
    }
}

static int check_poll_args(const char *fn, sl_completion *out, uint32_t max, uint32_t *n)
{
    if (!out || !n)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !out ? "out" : "n");
    if (max == 0)
        return sl_fail(SL_EINVAL, 0, "%s: max is 0", fn);
    *n = 0;
    return SL_OK;
}

int sl_cq_poll_wait(sl_handle h, sl_completion *out, uint32_t max, uint32_t *n, int timeout_ms)
{
    static const char fn[] = "sl_cq_poll_wait";
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_us() + (int64_t)timeout_ms * 1000;
    sl_cq *cq;
    int woken = 0, rc = check_poll_args(fn, out, max, n);

    if (rc)
        return rc;
    rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);
    if (rc)
        return rc;
    rc = wait_for(fn, h, cq, out, max, n, deadline, &woken);
    sl_handle_release(h);
    return rc;
}

int sl_cq_poll_adaptive(sl_handle h, sl_completion *out, uint32_t max, uint32_t *n, uint32_t spin_us,
                        int timeout_ms, int *woken)
{
    static const char fn[] = "sl_cq_poll_adaptive";
    int64_t start = now_us();
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : start + (int64_t)timeout_ms * 1000;
    int64_t spin_end = start + spin_us;
    sl_cq *cq;
    int dummy, rc = check_poll_args(fn, out, max, n);

    if (rc)
        return rc;
    if (!woken)
        woken = &dummy;
    *woken = 0;
    rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);
    if (rc)
        return rc;
    if (spin_end > deadline)
        spin_end = deadline;
    for (unsigned i = 0;; i++) {
        rc = poll_cq(fn, cq, out, max, n);
        if (rc || *n)
            goto out;
        if ((i & 63) == 63) { /* a wake or a destroy ends the spin; checked now and then (a syscall) */
            if (take_wake(cq)) {
                *woken = 1;
                goto out;
            }
            if (sl_handle_closing(h)) {
                rc = sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx was destroyed while polling", fn,
                             (unsigned long long)h);
                goto out;
            }
        }
        if (now_us() >= spin_end)
            break;
    }
    if (now_us() < deadline || deadline == INT64_MAX)
        rc = wait_for(fn, h, cq, out, max, n, deadline, woken);
out:
    sl_handle_release(h);
    return rc;
}

int sl_cq_wake(sl_handle h)
{
    static const char fn[] = "sl_cq_wake";
    uint64_t one = 1;
    sl_cq *cq;
    int rc = sl_handle_acquire(fn, h, SL_TYPE_CQ, (void **)&cq);

    if (rc)
        return rc;
    /* EAGAIN: the counter is saturated, i.e. a wake is pending anyway */
    if (write(cq->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one) && errno != EAGAIN)
        rc = sl_fail_verbs(fn, "write(2) to the wake eventfd", errno);
    sl_handle_release(h);
    return rc;
}
