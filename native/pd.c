/*
 * pd.c - protection domains.
 */
#include <stdlib.h>

#include "internal.h"

int sl_pd_create(sl_handle dev_h, sl_handle *out)
{
    static const char fn[] = "sl_pd_create";
    sl_device *dev;
    sl_pd *pd;
    int rc;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    rc = sl_handle_acquire(fn, dev_h, SL_TYPE_DEVICE, (void **)&dev);
    if (rc)
        return rc;
    pd = calloc(1, sizeof(*pd));
    if (!pd) {
        rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
        goto out;
    }
    pd->dev = dev;
    errno = 0;
    pd->pd = ibv_alloc_pd(dev->ctx);
    if (!pd->pd) {
        rc = sl_fail_verbs(fn, "ibv_alloc_pd", sl_verbs_errno(-1));
        free(pd);
        goto out;
    }
    rc = sl_handle_alloc(fn, SL_TYPE_PD, pd, &pd->h);
    if (rc) {
        ibv_dealloc_pd(pd->pd);
        free(pd);
        goto out;
    }
    atomic_fetch_add(&dev->children, 1);
    *out = pd->h;
out:
    sl_handle_release(dev_h);
    return rc;
}

static int pd_busy(const char *fn, void *obj)
{
    sl_pd *pd = obj;
    unsigned children = atomic_load(&pd->children);

    if (!children)
        return 0;
    return sl_fail(SL_EBUSY, 0, "%s: the protection domain still has %u queue pair(s) / memory "
                   "region(s): destroy them first", fn, children);
}

int sl_pd_destroy(sl_handle h)
{
    static const char fn[] = "sl_pd_destroy";
    sl_pd *pd;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_PD, (void **)&pd, pd_busy);

    if (rc)
        return rc;
    rc = ibv_dealloc_pd(pd->pd);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_dealloc_pd", sl_verbs_errno(rc));
    }
    atomic_fetch_sub(&pd->dev->children, 1);
    sl_handle_close_finish(h);
    free(pd);
    return SL_OK;
}
