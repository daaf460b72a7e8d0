/*
 * mw.c - type-2 memory windows: remote access bound to one queue pair.
 *
 * A region registered LOCAL_WRITE | MW_BIND grants nothing remote by itself; a window bound to
 * it through one QP grants remote access to that QP's peer only (the device checks the QP on
 * every incoming request). So one node-wide protection domain no longer means that one peer's
 * rkey works for another peer's memory.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MW_ACCESS (SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ)

int sl_mw_alloc(sl_handle pd_h, sl_handle *out)
{
    static const char fn[] = "sl_mw_alloc";
    sl_pd *pd;
    sl_mw *mw;
    int rc, err;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    rc = sl_handle_acquire(fn, pd_h, SL_TYPE_PD, (void **)&pd);
    if (rc)
        return rc;
    mw = calloc(1, sizeof(*mw));
    if (!mw) {
        rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
        goto out;
    }
    mw->pd = pd;
    errno = 0;
    mw->mw = ibv_alloc_mw(pd->pd, IBV_MW_TYPE_2);
    if (!mw->mw) {
        err = sl_verbs_errno(-1);
        if (err == EOPNOTSUPP || err == ENOSYS) {
            char buf[128];
            rc = sl_fail(SL_ENOTSUP, err, "%s: ibv_alloc_mw(type 2) failed: %s (errno %d): the device has no "
                         "type-2 memory windows", fn, sl_strerror(err, buf, sizeof(buf)), err);
        } else {
            rc = sl_fail_verbs(fn, "ibv_alloc_mw", err);
        }
        free(mw);
        goto out;
    }
    mw->rkey = ibv_inc_rkey(mw->mw->rkey); /* the key part the bind installs: never the unbound one */
    rc = sl_handle_alloc(fn, SL_TYPE_MW, mw, &mw->h);
    if (rc) {
        ibv_dealloc_mw(mw->mw);
        free(mw);
        goto out;
    }
    atomic_fetch_add(&pd->children, 1);
    *out = mw->h;
out:
    sl_handle_release(pd_h);
    return rc;
}

int sl_mw_rkey(sl_handle h, uint32_t *rkey)
{
    static const char fn[] = "sl_mw_rkey";
    sl_mw *mw;
    int rc;

    if (!rkey)
        return sl_fail(SL_EINVAL, 0, "%s: rkey is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_MW, (void **)&mw);
    if (rc)
        return rc;
    *rkey = mw->rkey;
    sl_handle_release(h);
    return SL_OK;
}

/* Checks the bind (nothing is posted); qp->post_lock held. */
static int check_bind(const char *fn, sl_qp *qp, sl_mw *mw, sl_mr *mr, uint64_t offset, uint64_t length,
                      uint32_t access)
{
    uint32_t state = atomic_load(&qp->state);
    uint64_t head = atomic_load(&qp->sq_head), tail = atomic_load(&qp->sq_tail);

    if (mw->qp)
        return sl_fail(SL_ESTATE, 0, "%s: the window is already bound (a window is bound once: allocate "
                       "another)", fn);
    if (qp->pd != mw->pd || mr->pd != mw->pd)
        return sl_fail(SL_EINVAL, 0, "%s: the %s belongs to another protection domain than the window", fn,
                       qp->pd != mw->pd ? "queue pair" : "memory region");
    if (!(mr->access & SL_ACCESS_MW_BIND))
        return sl_fail(SL_EACCES, 0, "%s: the memory region was registered without SL_ACCESS_MW_BIND", fn);
    if ((access & SL_ACCESS_REMOTE_WRITE) && !(mr->access & SL_ACCESS_LOCAL_WRITE))
        return sl_fail(SL_EACCES, 0, "%s: remote write through a window needs SL_ACCESS_LOCAL_WRITE on the "
                       "region", fn);
    if (offset > mr->length || length > mr->length - offset)
        return sl_fail(SL_ERANGE, 0, "%s: offset %llu + length %llu is outside the memory region's %llu bytes",
                       fn, (unsigned long long)offset, (unsigned long long)length,
                       (unsigned long long)mr->length);
    if (state != SL_QP_RTS)
        return sl_post_state_error(fn, qp, state, "RTS");
    if (head - tail + 1 > qp->opts.sq_depth)
        return sl_fail(SL_EFULL, 0, "%s: %llu outstanding would exceed the send queue depth %u", fn,
                       (unsigned long long)(head - tail + 1), qp->opts.sq_depth);
    return SL_OK;
}

int sl_mw_bind(sl_handle qp_h, sl_handle mw_h, sl_handle mr_h, uint64_t offset, uint64_t length, uint32_t access,
               uint64_t wr_id)
{
    static const char fn[] = "sl_mw_bind";
    struct ibv_send_wr wr, *bad = NULL;
    sl_qp *qp;
    sl_mw *mw;
    sl_mr *mr;
    uint64_t head;
    int rc;

    if (length == 0)
        return sl_fail(SL_EINVAL, 0, "%s: length is 0", fn);
    if (access == 0 || (access & ~MW_ACCESS))
        return sl_fail(SL_EINVAL, 0, "%s: access 0x%x: a window grants SL_ACCESS_REMOTE_WRITE and/or "
                       "SL_ACCESS_REMOTE_READ, nothing else", fn, access);
    rc = sl_handle_acquire(fn, qp_h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    rc = sl_handle_acquire(fn, mw_h, SL_TYPE_MW, (void **)&mw);
    if (rc)
        goto out_qp;
    rc = sl_handle_acquire(fn, mr_h, SL_TYPE_MR, (void **)&mr);
    if (rc)
        goto out_mw;
    pthread_mutex_lock(&qp->post_lock);
    rc = check_bind(fn, qp, mw, mr, offset, length, access);
    if (rc)
        goto out;
    memset(&wr, 0, sizeof(wr));
    wr.wr_id = wr_id;
    wr.opcode = IBV_WR_BIND_MW;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.bind_mw.mw = mw->mw;
    wr.bind_mw.rkey = mw->rkey;
    wr.bind_mw.bind_info.mr = mr->mr;
    wr.bind_mw.bind_info.addr = mr->addr + offset;
    wr.bind_mw.bind_info.length = length;
    wr.bind_mw.bind_info.mw_access_flags = (unsigned)access;
    head = atomic_load(&qp->sq_head);
    atomic_store_explicit(&qp->sq_ring[head % qp->opts.sq_depth].wr_id, wr_id, memory_order_relaxed);
    atomic_store_explicit(&qp->sq_ring[head % qp->opts.sq_depth].opcode, SL_OP_BIND_MW | SL_SLOT_SIGNALED,
                          memory_order_relaxed);
    atomic_store(&qp->sq_head, head + 1);
    rc = ibv_post_send(qp->qp, &wr, &bad);
    if (rc) {
        atomic_store(&qp->sq_head, head);
        rc = sl_post_failed(fn, qp, "ibv_post_send(BIND_MW)", rc, 0);
        goto out;
    }
    qp->unsig_run = 0;
    /* the window now holds the QP and the region: neither may go before the window does */
    mw->qp = qp;
    mw->mr = mr;
    atomic_fetch_add(&qp->windows, 1);
    atomic_fetch_add(&mr->windows, 1);
    rc = SL_OK;
out:
    pthread_mutex_unlock(&qp->post_lock);
    sl_handle_release(mr_h);
out_mw:
    sl_handle_release(mw_h);
out_qp:
    sl_handle_release(qp_h);
    return rc;
}

int sl_mw_dealloc(sl_handle h)
{
    static const char fn[] = "sl_mw_dealloc";
    sl_mw *mw;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_MW, (void **)&mw, NULL);

    if (rc)
        return rc;
    rc = ibv_dealloc_mw(mw->mw); /* invalidates a bound window */
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_dealloc_mw", sl_verbs_errno(rc));
    }
    if (mw->qp) {
        atomic_fetch_sub(&mw->qp->windows, 1);
        atomic_fetch_sub(&mw->mr->windows, 1);
    }
    atomic_fetch_sub(&mw->pd->children, 1);
    sl_handle_close_finish(h);
    free(mw);
    return SL_OK;
}
