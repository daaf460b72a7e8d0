/*
 * wr.c - posting send and receive work requests, with validation.
 *
 * Every request of a call is checked before any is posted. The verbs chains are built on the
 * stack, POST_BATCH requests per doorbell; nothing is allocated per request.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

_Static_assert(sizeof(sl_sge) == 24, "sl_sge is 24 bytes");
_Static_assert(offsetof(sl_sge, mr) == 0 && offsetof(sl_sge, offset) == 8 &&
               offsetof(sl_sge, length) == 16 && offsetof(sl_sge, reserved) == 20, "sl_sge layout");
_Static_assert(sizeof(sl_wr) == 136, "sl_wr is 136 bytes");
_Static_assert(offsetof(sl_wr, wr_id) == 0 && offsetof(sl_wr, opcode) == 8 && offsetof(sl_wr, flags) == 12 &&
               offsetof(sl_wr, imm) == 16 && offsetof(sl_wr, num_sge) == 20 &&
               offsetof(sl_wr, remote_addr) == 24 && offsetof(sl_wr, rkey) == 32 &&
               offsetof(sl_wr, reserved) == 36 && offsetof(sl_wr, sge) == 40, "sl_wr layout");
_Static_assert(sizeof(sl_completion) == 48, "sl_completion is 48 bytes");
_Static_assert(offsetof(sl_completion, wr_id) == 0 && offsetof(sl_completion, status) == 8 &&
               offsetof(sl_completion, opcode) == 12 && offsetof(sl_completion, byte_len) == 16 &&
               offsetof(sl_completion, imm) == 20 && offsetof(sl_completion, qp_num) == 24 &&
               offsetof(sl_completion, flags) == 28 && offsetof(sl_completion, vendor_err) == 32 &&
               offsetof(sl_completion, src_qp) == 36 && offsetof(sl_completion, qp_tag) == 40,
               "sl_completion layout");
_Static_assert(sizeof(sl_qp_opts) == 40 && offsetof(sl_qp_opts, signal_every) == 20 &&
               offsetof(sl_qp_opts, srq) == 24 && offsetof(sl_qp_opts, tag) == 32, "sl_qp_opts layout");
_Static_assert(sizeof(sl_qp_caps) == 40, "sl_qp_caps layout");

#define POST_BATCH SL_POST_BATCH
#define WR_FLAGS_ALL (SL_WR_FENCE | SL_WR_SOLICITED | SL_WR_INLINE | SL_WR_UNSIGNALED)

static const char *const op_names[] = {"SEND", "SEND_IMM", "WRITE", "WRITE_IMM", "READ", "RECV", "RECV_IMM"};

/*
 * Checks the SGEs of wrs[i] and, when sges is not NULL, resolves them to verbs SGEs.
 * need: the SL_ACCESS_* the local memory must have.
 */
static int resolve_sges(const char *fn, sl_pd *pd, uint32_t i, const sl_wr *wr, uint32_t need,
                        struct ibv_sge *sges, uint64_t *total)
{
    *total = 0;
    for (uint32_t j = 0; j < wr->num_sge; j++) {
        const sl_sge *s = &wr->sge[j];
        char why[256];
        sl_mr *mr;
        int rc;

        if (s->length == 0)
            return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].sge[%u].length is 0", fn, i, j);
        rc = sl_handle_acquire(fn, s->mr, SL_TYPE_MR, (void **)&mr);
        if (rc) {
            snprintf(why, sizeof(why), "%s", sl_last_error());
            return sl_fail(rc, 0, "%s (wrs[%u].sge[%u].mr)", why, i, j);
        }
        if (mr->pd != pd)
            rc = sl_fail(SL_EINVAL, 0, "%s: wrs[%u].sge[%u]: memory region 0x%016llx belongs to another "
                         "protection domain than the queue", fn, i, j, (unsigned long long)s->mr);
        else if (s->offset > mr->length || s->length > mr->length - s->offset)
            rc = sl_fail(SL_ERANGE, 0, "%s: wrs[%u].sge[%u]: offset %llu + length %u is outside the memory "
                         "region's %llu bytes", fn, i, j, (unsigned long long)s->offset, s->length,
                         (unsigned long long)mr->length);
        else if ((mr->access & need) != need)
            rc = sl_fail(SL_EACCES, 0, "%s: wrs[%u] (%s) writes local memory: memory region 0x%016llx "
                         "lacks SL_ACCESS_LOCAL_WRITE", fn, i, op_names[wr->opcode],
                         (unsigned long long)s->mr);
        if (!rc && sges) {
            sges[j].addr = mr->addr + s->offset;
            sges[j].length = s->length;
            sges[j].lkey = mr->mr->lkey;
        }
        sl_handle_release(s->mr);
        if (rc)
            return rc;
        *total += s->length;
    }
    return SL_OK;
}

static int check_send(const char *fn, sl_qp *qp, uint32_t i, const sl_wr *wr, struct ibv_sge *sges)
{
    uint64_t total;
    int rc;

    if (wr->opcode > SL_OP_READ)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].opcode %u is not a send-queue opcode (SEND, SEND_IMM, "
                       "WRITE, WRITE_IMM, READ)%s", fn, i, wr->opcode,
                       wr->opcode == SL_OP_RECV ? ": post receives with sl_post_recv" : "");
    if (wr->flags & ~WR_FLAGS_ALL)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].flags has unknown bits 0x%x", fn, i, wr->flags & ~WR_FLAGS_ALL);
    if (wr->num_sge > qp->opts.max_sge)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].num_sge %u is above the queue pair's max_sge %u", fn, i,
                       wr->num_sge, qp->opts.max_sge);
    if (wr->num_sge == 0 && (wr->opcode == SL_OP_WRITE || wr->opcode == SL_OP_READ))
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u] (%s) has no SGE", fn, i, op_names[wr->opcode]);
    if ((wr->flags & SL_WR_INLINE) && wr->opcode == SL_OP_READ)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u]: a READ cannot be SL_WR_INLINE", fn, i);
    rc = resolve_sges(fn, qp->pd, i, wr, wr->opcode == SL_OP_READ ? SL_ACCESS_LOCAL_WRITE : 0, sges, &total);
    if (rc)
        return rc;
    if (total > UINT32_MAX)
        return sl_fail(SL_ERANGE, 0, "%s: wrs[%u] totals %llu bytes, above 2^32-1", fn, i,
                       (unsigned long long)total);
    if ((wr->flags & SL_WR_INLINE) && total > qp->max_inline)
        return sl_fail(SL_ERANGE, 0, "%s: wrs[%u] inlines %llu bytes, above the %u the device granted the "
                       "queue pair (max_inline%s)", fn, i, (unsigned long long)total, qp->max_inline,
                       qp->max_inline ? "" : ": no inline sends on this queue pair");
    return SL_OK;
}

static int check_recv(const char *fn, sl_pd *pd, uint32_t max_sge, uint32_t i, const sl_wr *wr,
                      struct ibv_sge *sges)
{
    uint64_t total;

    if (wr->opcode != SL_OP_RECV)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].opcode %u is not SL_OP_RECV", fn, i, wr->opcode);
    if (wr->flags)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].flags 0x%x: receives take no flags", fn, i, wr->flags);
    if (wr->num_sge > max_sge)
        return sl_fail(SL_EINVAL, 0, "%s: wrs[%u].num_sge %u is above the queue's max_sge %u", fn, i,
                       wr->num_sge, max_sge);
    return resolve_sges(fn, pd, i, wr, SL_ACCESS_LOCAL_WRITE, sges, &total);
}

int sl_check_recvs(const char *fn, sl_pd *pd, uint32_t max_sge, const sl_wr *wrs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int rc = check_recv(fn, pd, max_sge, i, &wrs[i], NULL);
        if (rc)
            return rc;
    }
    return SL_OK;
}

int sl_recv_chain(const char *fn, sl_pd *pd, uint32_t max_sge, const sl_wr *wrs, uint32_t first, uint32_t k,
                  struct ibv_recv_wr *vw, struct ibv_sge (*vs)[SL_WR_MAX_SGE])
{
    for (uint32_t b = 0; b < k; b++) {
        const sl_wr *w = &wrs[first + b];
        int rc = check_recv(fn, pd, max_sge, first + b, w, vs[b]); /* resolves lkeys */
        if (rc)
            return rc;
        memset(&vw[b], 0, sizeof(vw[b]));
        vw[b].wr_id = w->wr_id;
        vw[b].next = b + 1 < k ? &vw[b + 1] : NULL;
        vw[b].sg_list = w->num_sge ? vs[b] : NULL;
        vw[b].num_sge = (int)w->num_sge;
    }
    return SL_OK;
}

/* Unsignaled requests at the head of the ring since the last signaled one (after a failed post). */
static uint32_t trailing_unsignaled(sl_qp *qp)
{
    uint64_t head = atomic_load(&qp->sq_head), tail = atomic_load(&qp->sq_tail);
    uint32_t run = 0;

    while (head != tail &&
           !(atomic_load(&qp->sq_ring[(head - 1) % qp->opts.sq_depth].opcode) & SL_SLOT_SIGNALED)) {
        head--;
        run++;
    }
    return run;
}

static enum ibv_wr_opcode verbs_opcode(uint32_t op)
{
    switch (op) {
    case SL_OP_SEND_IMM: return IBV_WR_SEND_WITH_IMM;
    case SL_OP_WRITE: return IBV_WR_RDMA_WRITE;
    case SL_OP_WRITE_IMM: return IBV_WR_RDMA_WRITE_WITH_IMM;
    case SL_OP_READ: return IBV_WR_RDMA_READ;
    default: return IBV_WR_SEND;
    }
}

int sl_post_state_error(const char *fn, sl_qp *qp, uint32_t state, const char *allowed)
{
    uint32_t st = atomic_load(&qp->err_status);

    if (state == SL_QP_ERR)
        return sl_fail(SL_ESTATE, 0, "%s: the queue pair is in the error state%s%s%s (status %u): "
                       "destroy it and connect a new one", fn,
                       st ? " after a completion failed with \"" : "", st ? sl_wc_status_str(st) : "",
                       st ? "\"" : "", st);
    return sl_fail(SL_ESTATE, 0, "%s: the queue pair is in %s, not %s%s", fn,
                   state == SL_QP_INIT ? "INIT" : state == SL_QP_RTR ? "RTR" : state == SL_QP_RESET ? "RESET" : "another state",
                   allowed, state == SL_QP_INIT ? ": connect it first (sl_qp_connect)" : "");
}

/* A failed doorbell: the verbs error, and whether the device has put the QP in ERR meanwhile. */
int sl_post_failed(const char *fn, sl_qp *qp, const char *call, int ret, uint32_t posted)
{
    struct ibv_qp_attr attr;
    struct ibv_qp_init_attr init;
    char buf[128];
    int err = sl_verbs_errno(ret);
    int in_err = ibv_query_qp(qp->qp, &attr, IBV_QP_STATE, &init) == 0 && attr.qp_state == IBV_QPS_ERR;

    if (in_err)
        atomic_store(&qp->state, SL_QP_ERR);
    return sl_fail(SL_EVERBS, err, "%s: %s failed after %u request(s) went to the device: %s (errno %d)%s",
                   fn, call, posted, sl_strerror(err, buf, sizeof(buf)), err,
                   in_err ? ": the queue pair is in the error state" : "");
}

int sl_post_send(sl_handle h, const sl_wr *wrs, uint32_t n, uint32_t *posted)
{
    static const char fn[] = "sl_post_send";
    struct ibv_send_wr vw[POST_BATCH], *bad;
    struct ibv_sge vs[POST_BATCH][SL_WR_MAX_SGE];
    uint64_t head, tail;
    uint32_t state, done = 0;
    sl_qp *qp;
    int rc;

    if (posted)
        *posted = 0;
    if (!wrs)
        return sl_fail(SL_EINVAL, 0, "%s: wrs is NULL", fn);
    if (n == 0)
        return sl_fail(SL_EINVAL, 0, "%s: n is 0", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    pthread_mutex_lock(&qp->post_lock);
    state = atomic_load(&qp->state);
    if (state != SL_QP_RTS) {
        rc = sl_post_state_error(fn, qp, state, "RTS");
        goto out;
    }
    head = atomic_load(&qp->sq_head);
    tail = atomic_load(&qp->sq_tail); /* only grows while we hold post_lock */
    if (head - tail + n > qp->opts.sq_depth) {
        rc = sl_fail(SL_EFULL, 0, "%s: %llu outstanding would exceed the send queue depth %u", fn,
                     (unsigned long long)(head - tail + n), qp->opts.sq_depth);
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        rc = check_send(fn, qp, i, &wrs[i], NULL);
        if (rc)
            goto out;
    }
    while (done < n) {
        uint32_t k = n - done < POST_BATCH ? n - done : POST_BATCH;
        for (uint32_t b = 0; b < k; b++) {
            const sl_wr *w = &wrs[done + b];
            sl_sq_slot *slot = &qp->sq_ring[(head + b) % qp->opts.sq_depth];
            uint32_t signaled;
            rc = check_send(fn, qp, done + b, w, vs[b]); /* resolves lkeys; fails only on a racing deregister */
            if (rc) {
                qp->unsig_run = trailing_unsignaled(qp);
                goto out;
            }
            /* selective signaling, with a forced signal that bounds every unsignaled run */
            signaled = !(w->flags & SL_WR_UNSIGNALED) || qp->unsig_run + 1 >= qp->signal_every;
            qp->unsig_run = signaled ? 0 : qp->unsig_run + 1;
            memset(&vw[b], 0, sizeof(vw[b]));
            vw[b].wr_id = w->wr_id;
            vw[b].next = b + 1 < k ? &vw[b + 1] : NULL;
            vw[b].sg_list = w->num_sge ? vs[b] : NULL;
            vw[b].num_sge = (int)w->num_sge;
            vw[b].opcode = verbs_opcode(w->opcode);
            vw[b].send_flags = signaled ? IBV_SEND_SIGNALED : 0;
            if (w->flags & SL_WR_FENCE)
                vw[b].send_flags |= IBV_SEND_FENCE;
            if (w->flags & SL_WR_SOLICITED)
                vw[b].send_flags |= IBV_SEND_SOLICITED;
            if (w->flags & SL_WR_INLINE)
                vw[b].send_flags |= IBV_SEND_INLINE;
            if (w->opcode == SL_OP_SEND_IMM || w->opcode == SL_OP_WRITE_IMM)
                vw[b].imm_data = htonl(w->imm);
            if (w->opcode == SL_OP_WRITE || w->opcode == SL_OP_WRITE_IMM || w->opcode == SL_OP_READ) {
                vw[b].wr.rdma.remote_addr = w->remote_addr;
                vw[b].wr.rdma.rkey = w->rkey;
            }
            atomic_store_explicit(&slot->wr_id, w->wr_id, memory_order_relaxed);
            atomic_store_explicit(&slot->opcode, w->opcode | (signaled ? SL_SLOT_SIGNALED : 0),
                                  memory_order_relaxed);
        }
        /* Publish the ring entries before the device can complete them. */
        atomic_store(&qp->sq_head, head + k);
        bad = NULL;
        rc = ibv_post_send(qp->qp, vw, &bad);
        if (rc) {
            uint32_t ok = bad ? (uint32_t)(bad - vw) : 0;
            atomic_store(&qp->sq_head, head + ok);
            qp->unsig_run = trailing_unsignaled(qp);
            done += ok;
            rc = sl_post_failed(fn, qp, "ibv_post_send", rc, done);
            goto out;
        }
        head += k;
        done += k;
    }
    rc = SL_OK;
out:
    pthread_mutex_unlock(&qp->post_lock);
    sl_handle_release(h);
    if (posted)
        *posted = done;
    return rc;
}

int sl_post_recv(sl_handle h, const sl_wr *wrs, uint32_t n, uint32_t *posted)
{
    static const char fn[] = "sl_post_recv";
    struct ibv_recv_wr vw[POST_BATCH], *bad;
    struct ibv_sge vs[POST_BATCH][SL_WR_MAX_SGE];
    uint64_t head, tail;
    uint32_t state, done = 0;
    sl_qp *qp;
    int rc;

    if (posted)
        *posted = 0;
    if (!wrs)
        return sl_fail(SL_EINVAL, 0, "%s: wrs is NULL", fn);
    if (n == 0)
        return sl_fail(SL_EINVAL, 0, "%s: n is 0", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    if (qp->srq) {
        rc = sl_fail(SL_EINVAL, 0, "%s: the queue pair takes its receives from shared receive queue "
                     "0x%016llx: post them with sl_srq_post_recv", fn, (unsigned long long)qp->opts.srq);
        sl_handle_release(h);
        return rc;
    }
    pthread_mutex_lock(&qp->post_lock);
    state = atomic_load(&qp->state);
    if (state != SL_QP_INIT && state != SL_QP_RTR && state != SL_QP_RTS) {
        rc = sl_post_state_error(fn, qp, state, "INIT, RTR or RTS");
        goto out;
    }
    head = atomic_load(&qp->rq_head);
    tail = atomic_load(&qp->rq_tail);
    if (head - tail + n > qp->opts.rq_depth) {
        rc = sl_fail(SL_EFULL, 0, "%s: %llu outstanding would exceed the receive queue depth %u", fn,
                     (unsigned long long)(head - tail + n), qp->opts.rq_depth);
        goto out;
    }
    rc = sl_check_recvs(fn, qp->pd, qp->opts.max_sge, wrs, n);
    if (rc)
        goto out;
    while (done < n) {
        uint32_t k = n - done < POST_BATCH ? n - done : POST_BATCH;
        rc = sl_recv_chain(fn, qp->pd, qp->opts.max_sge, wrs, done, k, vw, vs);
        if (rc)
            goto out;
        for (uint32_t b = 0; b < k; b++)
            atomic_store_explicit(&qp->rq_ring[(head + b) % qp->opts.rq_depth], wrs[done + b].wr_id,
                                  memory_order_relaxed);
        atomic_store(&qp->rq_head, head + k);
        bad = NULL;
        rc = ibv_post_recv(qp->qp, vw, &bad);
        if (rc) {
            uint32_t ok = bad ? (uint32_t)(bad - vw) : 0;
            atomic_store(&qp->rq_head, head + ok);
            done += ok;
            rc = sl_post_failed(fn, qp, "ibv_post_recv", rc, done);
            goto out;
        }
        head += k;
        done += k;
    }
    rc = SL_OK;
out:
    pthread_mutex_unlock(&qp->post_lock);
    sl_handle_release(h);
    if (posted)
        *posted = done;
    return rc;
}

int sl_qp_outstanding(sl_handle h, uint32_t *send, uint32_t *recv)
{
    static const char fn[] = "sl_qp_outstanding";
    sl_qp *qp;
    int rc;

    if (!send || !recv)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !send ? "send" : "recv");
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    /* tail first: the head read after it is never behind it */
    uint64_t st = atomic_load(&qp->sq_tail), rt = atomic_load(&qp->rq_tail);
    *send = (uint32_t)(atomic_load(&qp->sq_head) - st);
    *recv = (uint32_t)(atomic_load(&qp->rq_head) - rt);
    sl_handle_release(h);
    return SL_OK;
}
