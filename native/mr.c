/*
 * mr.c - memory regions and shim-owned buffers.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define SL_ACCESS_ALL (SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ)

_Static_assert(SL_ACCESS_LOCAL_WRITE == IBV_ACCESS_LOCAL_WRITE, "access flag values");
_Static_assert(SL_ACCESS_REMOTE_WRITE == IBV_ACCESS_REMOTE_WRITE, "access flag values");
_Static_assert(SL_ACCESS_REMOTE_READ == IBV_ACCESS_REMOTE_READ, "access flag values");

int sl_mr_register(sl_handle pd_h, void *addr, uint64_t length, uint32_t access, sl_handle *out)
{
    static const char fn[] = "sl_mr_register";
    sl_pd *pd;
    sl_mr *mr;
    int rc, err;

    if (!addr || !out)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !addr ? "addr" : "out");
    if (length == 0)
        return sl_fail(SL_EINVAL, 0, "%s: length is 0", fn);
    if (access & ~SL_ACCESS_ALL)
        return sl_fail(SL_EINVAL, 0, "%s: unknown access flags 0x%x", fn, access & ~SL_ACCESS_ALL);
    if ((access & SL_ACCESS_REMOTE_WRITE) && !(access & SL_ACCESS_LOCAL_WRITE))
        return sl_fail(SL_EINVAL, 0, "%s: SL_ACCESS_REMOTE_WRITE needs SL_ACCESS_LOCAL_WRITE", fn);
    if ((uintptr_t)addr + length < (uintptr_t)addr)
        return sl_fail(SL_ERANGE, 0, "%s: addr + length wraps around", fn);
    rc = sl_handle_acquire(fn, pd_h, SL_TYPE_PD, (void **)&pd);
    if (rc)
        return rc;
    if (length > pd->dev->attr.max_mr_size) {
        rc = sl_fail(SL_ERANGE, 0, "%s: length %llu is above the device's max_mr_size %llu", fn,
                     (unsigned long long)length, (unsigned long long)pd->dev->attr.max_mr_size);
        goto out;
    }
    mr = calloc(1, sizeof(*mr));
    if (!mr) {
        rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
        goto out;
    }
    mr->pd = pd;
    mr->addr = (uint64_t)(uintptr_t)addr;
    mr->length = length;
    mr->access = access;
    errno = 0;
    mr->mr = ibv_reg_mr(pd->pd, addr, (size_t)length, (int)access);
    if (!mr->mr) {
        err = sl_verbs_errno(-1);
        if (err == ENOMEM || err == EAGAIN) {
            uint64_t soft = 0, hard = 0;
            char buf[128];
            sl_memlock_limit(&soft, &hard);
            rc = sl_fail(SL_ENOMEM, err, "%s: ibv_reg_mr(%llu bytes) failed: %s (errno %d): cannot pin "
                         "the memory; RLIMIT_MEMLOCK is %llu bytes (soft) / %llu (hard)", fn,
                         (unsigned long long)length, sl_strerror(err, buf, sizeof(buf)), err,
                         (unsigned long long)soft, (unsigned long long)hard);
        } else {
            rc = sl_fail_verbs(fn, "ibv_reg_mr", err);
        }
        free(mr);
        goto out;
    }
    rc = sl_handle_alloc(fn, SL_TYPE_MR, mr, &mr->h);
    if (rc) {
        ibv_dereg_mr(mr->mr);
        free(mr);
        goto out;
    }
    atomic_fetch_add(&pd->children, 1);
    *out = mr->h;
out:
    sl_handle_release(pd_h);
    return rc;
}

int sl_mr_query(sl_handle h, sl_mr_info *out)
{
    static const char fn[] = "sl_mr_query";
    sl_mr *mr;
    int rc;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_MR, (void **)&mr);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->addr = mr->addr;
    out->length = mr->length;
    out->lkey = mr->mr->lkey;
    out->rkey = mr->mr->rkey;
    out->access = mr->access;
    sl_handle_release(h);
    return SL_OK;
}

int sl_mr_deregister(sl_handle h)
{
    static const char fn[] = "sl_mr_deregister";
    sl_mr *mr;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_MR, (void **)&mr, NULL);

    if (rc)
        return rc;
    rc = ibv_dereg_mr(mr->mr);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_dereg_mr", sl_verbs_errno(rc));
    }
    atomic_fetch_sub(&mr->pd->children, 1);
    sl_handle_close_finish(h);
    free(mr);
    return SL_OK;
}

int sl_buf_alloc(uint64_t length, uint64_t alignment, void **out)
{
    static const char fn[] = "sl_buf_alloc";
    void *p = NULL;
    int err;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    if (length == 0)
        return sl_fail(SL_EINVAL, 0, "%s: length is 0", fn);
    if (alignment == 0) {
        long page = sysconf(_SC_PAGESIZE);
        alignment = page > 0 ? (uint64_t)page : 4096;
    }
    if (alignment & (alignment - 1))
        return sl_fail(SL_EINVAL, 0, "%s: alignment %llu is not a power of two", fn,
                       (unsigned long long)alignment);
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    if (length > SIZE_MAX / 2 || alignment > SIZE_MAX / 2)
        return sl_fail(SL_ENOMEM, ENOMEM, "%s: %llu bytes cannot be allocated", fn,
                       (unsigned long long)length);
    err = posix_memalign(&p, (size_t)alignment, (size_t)length);
    if (err) {
        char buf[128];
        return sl_fail(SL_ENOMEM, err, "%s: posix_memalign(%llu, %llu) failed: %s (errno %d)", fn,
                       (unsigned long long)alignment, (unsigned long long)length,
                       sl_strerror(err, buf, sizeof(buf)), err);
    }
    memset(p, 0, (size_t)length);
    *out = p;
    return SL_OK;
}

int sl_buf_free(void *buf)
{
    free(buf); /* like free(): NULL is a no-op */
    return SL_OK;
}
