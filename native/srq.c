/*
 * srq.c - shared receive queues: one pool of posted receives for many QPs (ibv_create_srq,
 * ibv_post_srq_recv), so that receive memory grows with pollers, not with peers.
 *
 * Accounting: head counts posted receives, tail the ones whose completions were polled (from the
 * CQ of whichever QP consumed them; cq.c retires them). head - tail never exceeds depth, which
 * every CQ that takes these receives has reserved (sl_cq_attach links the SRQ to the CQ).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"


int sl_srq_create(sl_handle pd_h, uint32_t depth, uint32_t max_sge, sl_handle *out)
{
    static const char fn[] = "sl_srq_create";
    struct ibv_srq_init_attr init;
    sl_device *dev;
    sl_srq *srq;
    sl_pd *pd;
    int rc;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    if (depth == 0)
        return sl_fail(SL_EINVAL, 0, "%s: depth is 0", fn);
    if (max_sge == 0)
        max_sge = 4;
    if (max_sge > SL_WR_MAX_SGE)
        return sl_fail(SL_EINVAL, 0, "%s: max_sge %u is not in 1..%d", fn, max_sge, SL_WR_MAX_SGE);
    rc = sl_handle_acquire(fn, pd_h, SL_TYPE_PD, (void **)&pd);
    if (rc)
        return rc;
    dev = pd->dev;
    if (dev->attr.max_srq <= 0) {
        rc = sl_fail(SL_ENOTSUP, 0, "%s: device %s has no shared receive queues (max_srq 0): give each "
                     "queue pair its own receive queue", fn, dev->name);
        goto out;
    }
    if (depth > (uint32_t)dev->attr.max_srq_wr || max_sge > (uint32_t)dev->attr.max_srq_sge) {
        rc = sl_fail(SL_ERANGE, 0, "%s: depth %u / max_sge %u: device %s allows at most %d / %d "
                     "(max_srq_wr / max_srq_sge)", fn, depth, max_sge, dev->name, dev->attr.max_srq_wr,
                     dev->attr.max_srq_sge);
        goto out;
    }
    srq = calloc(1, sizeof(*srq));
    if (!srq) {
        rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
        goto out;
    }
    srq->pd = pd;
    srq->depth = depth;
    srq->max_sge = max_sge;
    if ((rc = pthread_mutex_init(&srq->post_lock, NULL)) != 0) {
        free(srq);
        rc = sl_fail(SL_ENOMEM, rc, "%s: pthread_mutex_init failed", fn);
        goto out;
    }
    if ((rc = pthread_mutex_init(&srq->link_lock, NULL)) != 0) {
        pthread_mutex_destroy(&srq->post_lock);
        free(srq);
        rc = sl_fail(SL_ENOMEM, rc, "%s: pthread_mutex_init failed", fn);
        goto out;
    }
    memset(&init, 0, sizeof(init));
    init.attr.max_wr = depth;
    init.attr.max_sge = max_sge;
    init.attr.srq_limit = 0;
    errno = 0;
    srq->srq = ibv_create_srq(pd->pd, &init);
    if (!srq->srq) {
        rc = sl_fail_verbs(fn, "ibv_create_srq", sl_verbs_errno(-1));
        goto fail;
    }
    rc = sl_handle_alloc(fn, SL_TYPE_SRQ, srq, &srq->h);
    if (rc) {
        ibv_destroy_srq(srq->srq);
        goto fail;
    }
    atomic_fetch_add(&pd->children, 1);
    *out = srq->h;
    goto out;
fail:
    pthread_mutex_destroy(&srq->link_lock);
    pthread_mutex_destroy(&srq->post_lock);
    free(srq);
out:
    sl_handle_release(pd_h);
    return rc;
}

static int srq_busy(const char *fn, void *obj)
{
    sl_srq *srq = obj;
    unsigned children = atomic_load(&srq->children);

    if (!children)
        return 0;
    return sl_fail(SL_EBUSY, 0, "%s: %u queue pair(s) still take their receives from the shared receive "
                   "queue: destroy them first", fn, children);
}

int sl_srq_destroy(sl_handle h)
{
    static const char fn[] = "sl_srq_destroy";
    sl_srq *srq;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_SRQ, (void **)&srq, srq_busy);

    if (rc)
        return rc;
    rc = ibv_destroy_srq(srq->srq);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_destroy_srq", sl_verbs_errno(rc));
    }
    /* No QP uses it and new ones cannot (the handle is closing): the CQ list is ours alone. */
    for (uint32_t i = 0; i < srq->ncqs; i++)
        sl_cq_unlink_srq(srq->cqs[i], srq);
    atomic_fetch_sub(&srq->pd->children, 1);
    sl_handle_close_finish(h);
    pthread_mutex_destroy(&srq->link_lock);
    pthread_mutex_destroy(&srq->post_lock);
    free(srq->cqs);
    free(srq);
    return SL_OK;
}

int sl_srq_post_recv(sl_handle h, const sl_wr *wrs, uint32_t n, uint32_t *posted)
{
    static const char fn[] = "sl_srq_post_recv";
    struct ibv_recv_wr vw[SL_POST_BATCH], *bad;
    struct ibv_sge vs[SL_POST_BATCH][SL_WR_MAX_SGE];
    uint64_t head, tail;
    uint32_t done = 0;
    sl_srq *srq;
    int rc;

    if (posted)
        *posted = 0;
    if (!wrs)
        return sl_fail(SL_EINVAL, 0, "%s: wrs is NULL", fn);
    if (n == 0)
        return sl_fail(SL_EINVAL, 0, "%s: n is 0", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_SRQ, (void **)&srq);
    if (rc)
        return rc;
    pthread_mutex_lock(&srq->post_lock);
    head = atomic_load(&srq->head);
    tail = atomic_load(&srq->tail); /* only grows meanwhile: the check stays safe */
    if (head - tail + n > srq->depth) {
        rc = sl_fail(SL_EFULL, 0, "%s: %llu outstanding would exceed the shared receive queue's depth %u",
                     fn, (unsigned long long)(head - tail + n), srq->depth);
        goto out;
    }
    rc = sl_check_recvs(fn, srq->pd, srq->max_sge, wrs, n);
    if (rc)
        goto out;
    while (done < n) {
        uint32_t k = n - done < SL_POST_BATCH ? n - done : SL_POST_BATCH;
        rc = sl_recv_chain(fn, srq->pd, srq->max_sge, wrs, done, k, vw, vs);
        if (rc)
            goto out;
        /* Count them before the device can consume them (a poller retires against head). */
        atomic_store(&srq->head, head + k);
        bad = NULL;
        rc = ibv_post_srq_recv(srq->srq, vw, &bad);
        if (rc) {
            uint32_t ok = bad ? (uint32_t)(bad - vw) : 0;
            char buf[128];
            int err = sl_verbs_errno(rc);
            atomic_store(&srq->head, head + ok);
            done += ok;
            rc = sl_fail(SL_EVERBS, err, "%s: ibv_post_srq_recv failed after %u request(s) went to the "
                         "device: %s (errno %d)", fn, done, sl_strerror(err, buf, sizeof(buf)), err);
            goto out;
        }
        head += k;
        done += k;
    }
    rc = SL_OK;
out:
    pthread_mutex_unlock(&srq->post_lock);
    sl_handle_release(h);
    if (posted)
        *posted = done;
    return rc;
}

int sl_srq_outstanding(sl_handle h, uint32_t *recv)
{
    static const char fn[] = "sl_srq_outstanding";
    sl_srq *srq;
    int rc;

    if (!recv)
        return sl_fail(SL_EINVAL, 0, "%s: recv is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_SRQ, (void **)&srq);
    if (rc)
        return rc;
    uint64_t t = atomic_load(&srq->tail);
    *recv = (uint32_t)(atomic_load(&srq->head) - t);
    sl_handle_release(h);
    return SL_OK;
}
