/*
 * mr.c - memory regions and shim-owned buffers.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define SL_ACCESS_ALL (SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ | SL_ACCESS_MW_BIND)

_Static_assert(SL_ACCESS_LOCAL_WRITE == IBV_ACCESS_LOCAL_WRITE, "access flag values");
_Static_assert(SL_ACCESS_REMOTE_WRITE == IBV_ACCESS_REMOTE_WRITE, "access flag values");
_Static_assert(SL_ACCESS_REMOTE_READ == IBV_ACCESS_REMOTE_READ, "access flag values");
_Static_assert(SL_ACCESS_MW_BIND == IBV_ACCESS_MW_BIND, "access flag values");

static int mr_register(const char *fn, sl_handle pd_h, void *addr, uint64_t length, uint32_t access,
                       void *owned_map, sl_handle *out);

int sl_mr_register(sl_handle pd_h, void *addr, uint64_t length, uint32_t access, sl_handle *out)
{
    return mr_register("sl_mr_register", pd_h, addr, length, access, NULL, out);
}

int sl_mr_register_file(sl_handle pd_h, const char *path, uint64_t offset, uint64_t length, uint32_t access,
                        sl_handle *out)
{
    static const char fn[] = "sl_mr_register_file";
    long page = sysconf(_SC_PAGESIZE);
    struct stat st;
    void *map;
    int fd, rc, err;
    char buf[128];

    if (!path || !out)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !path ? "path" : "out");
    if (access != 0)
        return sl_fail(SL_EINVAL, 0, "%s: access 0x%x: a file region is registered for local read only (0)", fn,
                       access);
    if (length == 0 || length > SIZE_MAX / 2)
        return sl_fail(SL_EINVAL, 0, "%s: length %llu", fn, (unsigned long long)length);
    if (page <= 0 || offset % (uint64_t)page)
        return sl_fail(SL_EINVAL, 0, "%s: offset %llu is not a multiple of the page size %ld", fn,
                       (unsigned long long)offset, page);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err = errno;
        return sl_fail(SL_EINVAL, err, "%s: open(%s) failed: %s (errno %d)", fn, path,
                       sl_strerror(err, buf, sizeof(buf)), err);
    }
    if (fstat(fd, &st) != 0) {
        err = errno;
        close(fd);
        return sl_fail(SL_EINVAL, err, "%s: fstat(%s) failed: %s (errno %d)", fn, path,
                       sl_strerror(err, buf, sizeof(buf)), err);
    }
    if (offset + length < offset || offset + length > (uint64_t)st.st_size) {
        close(fd);
        return sl_fail(SL_ERANGE, 0, "%s: bytes %llu..%llu are past the end of %s (%lld bytes)", fn,
                       (unsigned long long)offset, (unsigned long long)(offset + length), path,
                       (long long)st.st_size);
    }
    map = mmap(NULL, (size_t)length, PROT_READ, MAP_PRIVATE, fd, (off_t)offset);
    err = errno;
    close(fd);
    if (map == MAP_FAILED)
        return sl_fail(SL_ENOMEM, err, "%s: mmap of %llu bytes of %s failed: %s (errno %d)", fn,
                       (unsigned long long)length, path, sl_strerror(err, buf, sizeof(buf)), err);
    rc = mr_register(fn, pd_h, map, length, access, map, out);
    if (rc)
        munmap(map, (size_t)length);
    return rc;
}

static int mr_register(const char *fn, sl_handle pd_h, void *addr, uint64_t length, uint32_t access,
                       void *owned_map, sl_handle *out)
{
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
    mr->owned_map = owned_map;
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

static int mr_busy(const char *fn, void *obj)
{
    sl_mr *mr = obj;
    unsigned windows = atomic_load(&mr->windows);

    if (!windows)
        return 0;
    return sl_fail(SL_EBUSY, 0, "%s: %u memory window(s) are bound to the region: deallocate them first", fn,
                   windows);
}

int sl_mr_deregister(sl_handle h)
{
    static const char fn[] = "sl_mr_deregister";
    sl_mr *mr;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_MR, (void **)&mr, mr_busy);

    if (rc)
        return rc;
    rc = ibv_dereg_mr(mr->mr);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_dereg_mr", sl_verbs_errno(rc));
    }
    atomic_fetch_sub(&mr->pd->children, 1);
    sl_handle_close_finish(h);
    if (mr->owned_map)
        munmap(mr->owned_map, (size_t)mr->length);
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
