/*
 * device.c - listing, opening and querying RDMA devices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <sys/resource.h>

#include "internal.h"

uint32_t sl_mtu_bytes(enum ibv_mtu mtu)
{
    return (mtu >= IBV_MTU_256 && mtu <= IBV_MTU_4096) ? 128u << mtu : 0;
}

/* ibv_get_device_list, with the reason when it fails. */
static struct ibv_device **get_list(const char *fn, int *num)
{
    struct ibv_device **list;
    char buf[128];
    int err;

    errno = 0;
    list = ibv_get_device_list(num);
    if (list)
        return list;
    err = errno ? errno : EIO;
    sl_fail(SL_ENODEV, err, "%s: no RDMA devices: ibv_get_device_list failed: %s (errno %d)%s", fn,
            sl_strerror(err, buf, sizeof(buf)), err,
            err == ENOSYS ? ": this kernel has no RDMA support" : "");
    return NULL;
}

/* "rxe0, rxea, rxeb" into buf. */
static void list_names(struct ibv_device **list, int num, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < num && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ibv_get_device_name(list[i]));
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int sl_device_list(sl_device_info *out, uint32_t max, uint32_t *count)
{
    static const char fn[] = "sl_device_list";
    struct ibv_device **list;
    int num = 0;

    if (!count || (max > 0 && !out))
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !count ? "count" : "out");
    list = get_list(fn, &num);
    if (!list)
        return SL_ENODEV;
    for (int i = 0; i < num && (uint32_t)i < max; i++) {
        sl_device_info *d = &out[i];
        struct ibv_context *ctx;
        struct ibv_device_attr attr;

        memset(d, 0, sizeof(*d));
        snprintf(d->name, sizeof(d->name), "%s", ibv_get_device_name(list[i]));
        d->node_guid = be64toh(ibv_get_device_guid(list[i]));
        d->transport = (uint32_t)list[i]->transport_type;
        ctx = ibv_open_device(list[i]);
        if (ctx) {
            if (ibv_query_device(ctx, &attr) == 0)
                d->num_ports = attr.phys_port_cnt;
            ibv_close_device(ctx);
        }
    }
    *count = (uint32_t)num;
    ibv_free_device_list(list);
    return SL_OK;
}

static const char *port_state_name(enum ibv_port_state s)
{
    switch (s) {
    case IBV_PORT_DOWN: return "DOWN";
    case IBV_PORT_INIT: return "INIT";
    case IBV_PORT_ARMED: return "ARMED";
    case IBV_PORT_ACTIVE: return "ACTIVE";
    case IBV_PORT_ACTIVE_DEFER: return "ACTIVE_DEFER";
    default: return "NOP";
    }
}

int sl_device_open(const char *name, uint8_t port, sl_handle *out)
{
    static const char fn[] = "sl_device_open";
    struct ibv_device **list;
    struct ibv_context *ctx = NULL;
    struct ibv_port_attr pattr;
    sl_device *dev;
    int num = 0, rc, err, found = -1, is_auto;
    char names[512], why[512];
    size_t used = 0;

    if (!name || !out)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !name ? "name" : "out");
    if (port == 0)
        return sl_fail(SL_EINVAL, 0, "%s: port 0 is not a port (ports are numbered from 1)", fn);
    list = get_list(fn, &num);
    if (!list)
        return SL_ENODEV;
    is_auto = strcmp(name, "auto") == 0;
    why[0] = '\0';
    for (int i = 0; i < num && found < 0; i++) {
        if (!is_auto) {
            if (strcmp(ibv_get_device_name(list[i]), name) == 0)
                found = i;
            continue;
        }
        /* auto: the first device whose port is ACTIVE */
        ctx = ibv_open_device(list[i]);
        if (!ctx)
            continue;
        rc = ibv_query_port(ctx, port, &pattr);
        if (rc == 0 && pattr.state == IBV_PORT_ACTIVE) {
            found = i;
            break;
        }
        if (used < sizeof(why)) {
            int w = snprintf(why + used, sizeof(why) - used, "%s%s port %u %s", used ? ", " : "",
                             ibv_get_device_name(list[i]), port,
                             rc ? "cannot be queried" : port_state_name(pattr.state));
            if (w > 0)
                used += (size_t)w;
        }
        ibv_close_device(ctx);
        ctx = NULL;
    }
    if (found < 0) {
        list_names(list, num, names, sizeof(names));
        ibv_free_device_list(list);
        if (num == 0)
            return sl_fail(SL_ENODEV, 0, "%s: no RDMA devices: the verbs library lists none", fn);
        if (is_auto)
            return sl_fail(SL_ENODEV, 0, "%s: no RDMA device has port %u ACTIVE (%s)", fn, port, why);
        return sl_fail(SL_ENODEV, 0, "%s: no RDMA device named '%s' (devices: %s)", fn, name, names);
    }
    if (!ctx) {
        ctx = ibv_open_device(list[found]);
        if (!ctx) {
            err = errno ? errno : EIO;
            ibv_free_device_list(list);
            return sl_fail_verbs(fn, "ibv_open_device", err);
        }
    }
    ibv_free_device_list(list);

    dev = calloc(1, sizeof(*dev));
    if (!dev) {
        ibv_close_device(ctx);
        return sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
    }
    dev->ctx = ctx;
    dev->port = port;
    snprintf(dev->name, sizeof(dev->name), "%s", ibv_get_device_name(ctx->device));
    rc = ibv_query_device(ctx, &dev->attr);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_query_device", sl_verbs_errno(rc));
        goto fail;
    }
    if (port > dev->attr.phys_port_cnt) {
        rc = sl_fail(SL_ERANGE, 0, "%s: %s has %u port(s), no port %u", fn, dev->name,
                     dev->attr.phys_port_cnt, port);
        goto fail;
    }
    rc = sl_handle_alloc(fn, SL_TYPE_DEVICE, dev, &dev->h);
    if (rc)
        goto fail;
    *out = dev->h;
    return SL_OK;
fail:
    ibv_close_device(ctx);
    free(dev);
    return rc;
}

static int device_busy(const char *fn, void *obj)
{
    sl_device *dev = obj;
    unsigned children = atomic_load(&dev->children);

    if (!children)
        return 0;
    return sl_fail(SL_EBUSY, 0, "%s: device %s still has %u protection domain(s) / completion "
                   "queue(s): destroy them first", fn, dev->name, children);
}

int sl_device_close(sl_handle h)
{
    static const char fn[] = "sl_device_close";
    sl_device *dev;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_DEVICE, (void **)&dev, device_busy);

    if (rc)
        return rc;
    rc = ibv_close_device(dev->ctx);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_close_device", sl_verbs_errno(rc));
    }
    sl_handle_close_finish(h);
    free(dev);
    return SL_OK;
}

int sl_device_name(sl_handle h, char *buf, size_t len)
{
    static const char fn[] = "sl_device_name";
    sl_device *dev;
    int rc;

    if (!buf || len == 0)
        return sl_fail(SL_EINVAL, 0, "%s: %s", fn, !buf ? "buf is NULL" : "len is 0");
    rc = sl_handle_acquire(fn, h, SL_TYPE_DEVICE, (void **)&dev);
    if (rc)
        return rc;
    snprintf(buf, len, "%s", dev->name);
    sl_handle_release(h);
    return SL_OK;
}

/* Checks that `port` exists on the device and reads its attributes. */
static int query_port(const char *fn, sl_device *dev, uint8_t port, struct ibv_port_attr *pa)
{
    int rc;

    if (port == 0 || port > dev->attr.phys_port_cnt)
        return sl_fail(SL_ERANGE, 0, "%s: %s has port(s) 1..%u, not %u", fn, dev->name,
                       dev->attr.phys_port_cnt, port);
    rc = ibv_query_port(dev->ctx, port, pa);
    if (rc)
        return sl_fail_verbs(fn, "ibv_query_port", sl_verbs_errno(rc));
    return SL_OK;
}

int sl_port_query(sl_handle h, uint8_t port, sl_port_attr *out)
{
    static const char fn[] = "sl_port_query";
    struct ibv_port_attr pa;
    sl_device *dev;
    int rc;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_DEVICE, (void **)&dev);
    if (rc)
        return rc;
    rc = query_port(fn, dev, port, &pa);
    if (rc)
        goto out;
    memset(out, 0, sizeof(*out));
    out->state = pa.state;
    out->max_mtu = sl_mtu_bytes(pa.max_mtu);
    out->active_mtu = sl_mtu_bytes(pa.active_mtu);
    out->link_layer = pa.link_layer;
    out->gid_tbl_len = (uint32_t)pa.gid_tbl_len;
    out->max_msg_sz = pa.max_msg_sz;
    out->lid = pa.lid;
out:
    sl_handle_release(h);
    return rc;
}

int sl_gid_query(sl_handle h, uint8_t port, uint32_t index, uint8_t gid[16])
{
    static const char fn[] = "sl_gid_query";
    struct ibv_port_attr pa;
    union ibv_gid g;
    sl_device *dev;
    int rc;

    if (!gid)
        return sl_fail(SL_EINVAL, 0, "%s: gid is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_DEVICE, (void **)&dev);
    if (rc)
        return rc;
    rc = query_port(fn, dev, port, &pa);
    if (rc)
        goto out;
    if (index >= (uint32_t)pa.gid_tbl_len) {
        rc = sl_fail(SL_ERANGE, 0, "%s: GID index %u is past the table of %s port %u (%d entries)",
                     fn, index, dev->name, port, pa.gid_tbl_len);
        goto out;
    }
    errno = 0;
    rc = ibv_query_gid(dev->ctx, port, (int)index, &g);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_query_gid", sl_verbs_errno(rc));
        goto out;
    }
    memcpy(gid, g.raw, 16);
out:
    sl_handle_release(h);
    return rc;
}

int sl_device_limits_query(sl_handle h, sl_device_limits *out)
{
    static const char fn[] = "sl_device_limits_query";
    sl_device *dev;
    int rc;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_DEVICE, (void **)&dev);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->max_mr_size = dev->attr.max_mr_size;
    out->max_qp = (uint32_t)dev->attr.max_qp;
    out->max_qp_wr = (uint32_t)dev->attr.max_qp_wr;
    out->max_sge = (uint32_t)dev->attr.max_sge;
    out->max_cq = (uint32_t)dev->attr.max_cq;
    out->max_cqe = (uint32_t)dev->attr.max_cqe;
    out->max_mr = (uint32_t)dev->attr.max_mr;
    out->max_pd = (uint32_t)dev->attr.max_pd;
    out->max_qp_rd_atom = (uint32_t)dev->attr.max_qp_rd_atom;
    out->max_qp_init_rd_atom = (uint32_t)dev->attr.max_qp_init_rd_atom;
    out->phys_port_cnt = dev->attr.phys_port_cnt;
    out->max_srq = dev->attr.max_srq > 0 ? (uint32_t)dev->attr.max_srq : 0;
    out->max_srq_wr = dev->attr.max_srq_wr > 0 ? (uint32_t)dev->attr.max_srq_wr : 0;
    out->max_srq_sge = dev->attr.max_srq_sge > 0 ? (uint32_t)dev->attr.max_srq_sge : 0;
    sl_handle_release(h);
    return SL_OK;
}

int sl_memlock_limit(uint64_t *soft, uint64_t *hard)
{
    static const char fn[] = "sl_memlock_limit";
    struct rlimit rl;

    if (!soft || !hard)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !soft ? "soft" : "hard");
    if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
        char buf[128];
        int err = errno;
        return sl_fail(SL_EINVAL, err, "%s: getrlimit(RLIMIT_MEMLOCK) failed: %s (errno %d)", fn,
                       sl_strerror(err, buf, sizeof(buf)), err);
    }
    *soft = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    *hard = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
    return SL_OK;
}
