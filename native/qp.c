/*
 * qp.c - RC queue pairs: create (to INIT), endpoint blobs, connect (RTR, RTS), state, error.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "internal.h"

_Static_assert(SL_QP_RESET == IBV_QPS_RESET && SL_QP_INIT == IBV_QPS_INIT && SL_QP_RTR == IBV_QPS_RTR &&
               SL_QP_RTS == IBV_QPS_RTS && SL_QP_SQD == IBV_QPS_SQD && SL_QP_SQE == IBV_QPS_SQE &&
               SL_QP_ERR == IBV_QPS_ERR, "SL_QP_* are the ibv_qp_state values");
_Static_assert(sizeof(sl_endpoint) == 32, "sl_endpoint layout");

static const char *const state_names[] = {"RESET", "INIT", "RTR", "RTS", "SQD", "SQE", "ERR"};

static const char *state_name(uint32_t s)
{
    return s <= SL_QP_ERR ? state_names[s] : "UNKNOWN";
}

void sl_qp_opts_default(sl_qp_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->sq_depth = 64;
    opts->rq_depth = 64;
    opts->max_sge = 4;
    opts->max_inline = 0;
    opts->port = 1;
    opts->gid_index = 0;
    opts->signal_every = 0;
    opts->srq = SL_NULL_HANDLE;
    opts->tag = 0;
}

void sl_connect_opts_default(sl_connect_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->access = SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ;
    opts->mtu = 0;
    opts->timeout = 14;
    /* 6, not perftest's 7: rxe treats 7 as "retry forever", so a dead link or peer would never
     * surface as an error completion. 6 with timeout 14 gives up after ~10 s on rxe. */
    opts->retry_cnt = 6;
    opts->rnr_retry = 7;
    opts->min_rnr_timer = 12;
    opts->max_rd_atomic = 16;
}

static uint32_t random_psn(uint32_t salt)
{
    uint32_t v = 0;

    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned seed = (unsigned)(ts.tv_nsec ^ ts.tv_sec ^ salt);
        v = (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 12);
    }
    return v & 0xffffff;
}

int sl_qp_create(sl_handle pd_h, sl_handle scq_h, sl_handle rcq_h, const sl_qp_opts *opts_in, sl_handle *out)
{
    static const char fn[] = "sl_qp_create";
    struct ibv_qp_init_attr init = {0};
    struct ibv_qp_attr attr = {0};
    struct ibv_port_attr pa;
    sl_qp_opts opts;
    sl_pd *pd = NULL;
    sl_cq *scq = NULL, *rcq = NULL;
    sl_srq *srq = NULL;
    sl_qp *qp = NULL;
    int rc, shared;
    uint32_t dev_max_wr, rq_depth, scq_entries, rcq_entries;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    if (opts_in)
        opts = *opts_in;
    else
        sl_qp_opts_default(&opts);
    if (opts.sq_depth == 0 || (opts.rq_depth == 0 && !opts.srq))
        return sl_fail(SL_EINVAL, 0, "%s: %s is 0", fn, opts.sq_depth == 0 ? "sq_depth" : "rq_depth");
    if (opts.reserved)
        return sl_fail(SL_EINVAL, 0, "%s: opts.reserved is not 0", fn);
    if (opts.max_sge == 0 || opts.max_sge > SL_WR_MAX_SGE)
        return sl_fail(SL_EINVAL, 0, "%s: max_sge %u is not in 1..%d", fn, opts.max_sge, SL_WR_MAX_SGE);
    if (opts.port == 0)
        return sl_fail(SL_EINVAL, 0, "%s: port 0 is not a port (ports are numbered from 1)", fn);

    rc = sl_handle_acquire(fn, pd_h, SL_TYPE_PD, (void **)&pd);
    if (rc)
        return rc;
    rc = sl_handle_acquire(fn, scq_h, SL_TYPE_CQ, (void **)&scq);
    if (rc)
        goto release;
    rc = sl_handle_acquire(fn, rcq_h, SL_TYPE_CQ, (void **)&rcq);
    if (rc) {
        rcq = NULL;
        goto release;
    }
    if (opts.srq) {
        rc = sl_handle_acquire(fn, opts.srq, SL_TYPE_SRQ, (void **)&srq);
        if (rc) {
            srq = NULL;
            goto release;
        }
        if (srq->pd != pd) {
            rc = sl_fail(SL_EINVAL, 0, "%s: the shared receive queue belongs to another protection "
                         "domain than the queue pair", fn);
            goto release;
        }
    }
    shared = scq == rcq;
    rq_depth = srq ? 0 : opts.rq_depth;
    if (scq->dev != pd->dev || rcq->dev != pd->dev) {
        rc = sl_fail(SL_EINVAL, 0, "%s: the completion queues and the protection domain belong to "
                     "different devices", fn);
        goto release;
    }
    dev_max_wr = (uint32_t)pd->dev->attr.max_qp_wr;
    if (opts.sq_depth > dev_max_wr || rq_depth > dev_max_wr) {
        rc = sl_fail(SL_ERANGE, 0, "%s: sq_depth %u / rq_depth %u: the device allows at most %u work "
                     "requests per queue (max_qp_wr)", fn, opts.sq_depth, opts.rq_depth, dev_max_wr);
        goto release;
    }
    if (opts.max_sge > (uint32_t)pd->dev->attr.max_sge) {
        rc = sl_fail(SL_ERANGE, 0, "%s: max_sge %u is above the device's %d", fn, opts.max_sge,
                     pd->dev->attr.max_sge);
        goto release;
    }
    if (opts.port > pd->dev->attr.phys_port_cnt) {
        rc = sl_fail(SL_ERANGE, 0, "%s: %s has port(s) 1..%u, not %u", fn, pd->dev->name,
                     pd->dev->attr.phys_port_cnt, opts.port);
        goto release;
    }
    rc = ibv_query_port(pd->dev->ctx, opts.port, &pa);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_query_port", sl_verbs_errno(rc));
        goto release;
    }
    if (opts.gid_index >= pa.gid_tbl_len) {
        rc = sl_fail(SL_ERANGE, 0, "%s: gid_index %u is past the GID table (%d entries)", fn,
                     opts.gid_index, pa.gid_tbl_len);
        goto release;
    }

    qp = calloc(1, sizeof(*qp));
    if (!qp)
        goto nomem;
    opts.rq_depth = rq_depth;
    opts.srq = srq ? opts.srq : SL_NULL_HANDLE;
    qp->sq_ring = calloc(opts.sq_depth, sizeof(*qp->sq_ring));
    qp->rq_ring = rq_depth ? calloc(rq_depth, sizeof(*qp->rq_ring)) : NULL;
    if (!qp->sq_ring || (rq_depth && !qp->rq_ring))
        goto nomem;
    rc = pthread_mutex_init(&qp->post_lock, NULL);
    if (rc) {
        rc = sl_fail(SL_ENOMEM, rc, "%s: pthread_mutex_init failed", fn);
        goto free_qp;
    }
    qp->pd = pd;
    qp->send_cq = scq;
    qp->recv_cq = rcq;
    qp->opts = opts;
    qp->link_layer = pa.link_layer;
    qp->srq = srq;
    qp->tag = opts.tag;
    /* An unsignaled run is cut at signal_every: the ring then always holds a signaled request
     * behind all but the last signal_every - 1 entries, so a full ring always drains. */
    qp->signal_every = opts.signal_every == 0 ? (opts.sq_depth + 1) / 2
                       : opts.signal_every > opts.sq_depth ? opts.sq_depth : opts.signal_every;
    atomic_init(&qp->state, SL_QP_RESET);

    init.send_cq = scq->cq;
    init.recv_cq = rcq->cq;
    init.srq = srq ? srq->srq : NULL;
    init.qp_type = IBV_QPT_RC;
    init.sq_sig_all = 0; /* each request says (IBV_SEND_SIGNALED): selective signaling */
    init.cap.max_send_wr = opts.sq_depth;
    init.cap.max_recv_wr = rq_depth;
    init.cap.max_send_sge = opts.max_sge;
    init.cap.max_recv_sge = srq ? 0 : opts.max_sge;
    init.cap.max_inline_data = opts.max_inline;
    errno = 0;
    qp->qp = ibv_create_qp(pd->pd, &init);
    if (!qp->qp && opts.max_inline) {
        /* The device cannot inline that much (or at all): fall back to no inline sends. */
        init.cap.max_send_wr = opts.sq_depth;
        init.cap.max_recv_wr = rq_depth;
        init.cap.max_send_sge = opts.max_sge;
        init.cap.max_recv_sge = srq ? 0 : opts.max_sge;
        init.cap.max_inline_data = 0;
        errno = 0;
        qp->qp = ibv_create_qp(pd->pd, &init);
    }
    if (!qp->qp) {
        rc = sl_fail_verbs(fn, "ibv_create_qp", sl_verbs_errno(-1));
        goto free_mutex;
    }
    qp->max_inline = init.cap.max_inline_data;
    qp->qpn = qp->qp->qp_num;

    /* Room in the CQs: every outstanding request can complete without overrunning them. */
    scq_entries = shared ? opts.sq_depth + rq_depth : opts.sq_depth;
    rcq_entries = rq_depth;
    rc = sl_cq_attach(fn, scq, qp, scq_entries, shared ? srq : NULL);
    if (rc)
        goto destroy_qp;
    if (!shared) {
        rc = sl_cq_attach(fn, rcq, qp, rcq_entries, srq);
        if (rc) {
            sl_cq_detach(scq, qp, scq_entries, 0, 0);
            goto destroy_qp;
        }
    }
    qp->psn = random_psn(qp->qpn);

    /* INIT grants no remote access yet; sl_qp_connect sets it in the INIT->RTR transition. */
    attr.qp_state = IBV_QPS_INIT;
    attr.pkey_index = 0;
    attr.port_num = opts.port;
    attr.qp_access_flags = 0;
    rc = ibv_modify_qp(qp->qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_modify_qp(INIT)", sl_verbs_errno(rc));
        goto destroy;
    }
    atomic_store(&qp->state, SL_QP_INIT);
    rc = sl_handle_alloc(fn, SL_TYPE_QP, qp, &qp->h);
    if (rc)
        goto destroy;
    atomic_fetch_add(&pd->children, 1);
    if (srq)
        atomic_fetch_add(&srq->children, 1);
    *out = qp->h;
    rc = SL_OK;
    goto release;

destroy:
    if (!shared)
        sl_cq_detach(rcq, qp, rcq_entries, 0, 0);
    sl_cq_detach(scq, qp, scq_entries, 0, 0);
destroy_qp:
    ibv_destroy_qp(qp->qp);
free_mutex:
    pthread_mutex_destroy(&qp->post_lock);
    goto free_qp;
nomem:
    rc = sl_fail(SL_ENOMEM, ENOMEM, "%s: out of memory", fn);
free_qp:
    if (qp) {
        free(qp->sq_ring);
        free(qp->rq_ring);
        free(qp);
    }
release:
    if (srq)
        sl_handle_release(opts.srq);
    if (rcq)
        sl_handle_release(rcq_h);
    if (scq)
        sl_handle_release(scq_h);
    sl_handle_release(pd_h);
    return rc;
}

static int qp_busy(const char *fn, void *obj)
{
    sl_qp *qp = obj;
    unsigned windows = atomic_load(&qp->windows);

    if (!windows)
        return 0;
    return sl_fail(SL_EBUSY, 0, "%s: %u memory window(s) are bound through the queue pair: deallocate them "
                   "first", fn, windows);
}

int sl_qp_destroy(sl_handle h)
{
    static const char fn[] = "sl_qp_destroy";
    sl_qp *qp;
    int rc = sl_handle_close_begin(fn, h, SL_TYPE_QP, (void **)&qp, qp_busy);

    if (rc)
        return rc;
    rc = ibv_destroy_qp(qp->qp);
    if (rc) {
        sl_handle_close_abort(h);
        return sl_fail_verbs(fn, "ibv_destroy_qp", sl_verbs_errno(rc));
    }
    /* Completions of this QP still in the CQs keep their room there until polled; they come
     * back with its tag and SL_WC_DEPARTED. */
    {
        uint32_t so = (uint32_t)(atomic_load(&qp->sq_head) - atomic_load(&qp->sq_tail));
        uint32_t ro = (uint32_t)(atomic_load(&qp->rq_head) - atomic_load(&qp->rq_tail));
        if (qp->send_cq != qp->recv_cq) {
            sl_cq_detach(qp->recv_cq, qp, qp->opts.rq_depth, 1, ro);
            sl_cq_detach(qp->send_cq, qp, qp->opts.sq_depth, 1, so);
        } else {
            sl_cq_detach(qp->send_cq, qp, qp->opts.sq_depth + qp->opts.rq_depth, 1, so + ro);
        }
    }
    if (qp->srq)
        atomic_fetch_sub(&qp->srq->children, 1);
    atomic_fetch_sub(&qp->pd->children, 1);
    sl_handle_close_finish(h);
    pthread_mutex_destroy(&qp->post_lock);
    free(qp->sq_ring);
    free(qp->rq_ring);
    free(qp);
    return SL_OK;
}

/* The device's view of the QP state; caches ERR. */
static int query_state(const char *fn, sl_qp *qp, uint32_t *state)
{
    struct ibv_qp_attr attr;
    struct ibv_qp_init_attr init;
    int rc = ibv_query_qp(qp->qp, &attr, IBV_QP_STATE, &init);

    if (rc)
        return sl_fail_verbs(fn, "ibv_query_qp", sl_verbs_errno(rc));
    *state = (uint32_t)attr.qp_state;
    if (*state == SL_QP_ERR)
        atomic_store(&qp->state, SL_QP_ERR);
    return SL_OK;
}

int sl_qp_state(sl_handle h, uint32_t *state)
{
    static const char fn[] = "sl_qp_state";
    sl_qp *qp;
    int rc;

    if (!state)
        return sl_fail(SL_EINVAL, 0, "%s: state is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    rc = query_state(fn, qp, state);
    sl_handle_release(h);
    return rc;
}

int sl_qp_caps_query(sl_handle h, sl_qp_caps *out)
{
    static const char fn[] = "sl_qp_caps_query";
    sl_qp *qp;
    int rc;

    if (!out)
        return sl_fail(SL_EINVAL, 0, "%s: out is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->sq_depth = qp->opts.sq_depth;
    out->rq_depth = qp->opts.rq_depth;
    out->max_sge = qp->opts.max_sge;
    out->max_inline = qp->max_inline;
    out->signal_every = qp->signal_every;
    out->srq = qp->opts.srq;
    out->tag = qp->tag;
    sl_handle_release(h);
    return SL_OK;
}

int sl_qp_num(sl_handle h, uint32_t *qpn)
{
    static const char fn[] = "sl_qp_num";
    sl_qp *qp;
    int rc;

    if (!qpn)
        return sl_fail(SL_EINVAL, 0, "%s: qpn is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    *qpn = qp->qpn;
    sl_handle_release(h);
    return SL_OK;
}

int sl_qp_set_error(sl_handle h)
{
    static const char fn[] = "sl_qp_set_error";
    struct ibv_qp_attr attr = {.qp_state = IBV_QPS_ERR};
    sl_qp *qp;
    int rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);

    if (rc)
        return rc;
    pthread_mutex_lock(&qp->post_lock);
    rc = ibv_modify_qp(qp->qp, &attr, IBV_QP_STATE);
    if (rc)
        rc = sl_fail_verbs(fn, "ibv_modify_qp(ERR)", sl_verbs_errno(rc));
    else
        atomic_store(&qp->state, SL_QP_ERR);
    pthread_mutex_unlock(&qp->post_lock);
    sl_handle_release(h);
    return rc;
}

/* ------------------------------------------------------------------ endpoint blob */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int sl_qp_endpoint(sl_handle h, uint8_t blob[SL_ENDPOINT_SIZE])
{
    static const char fn[] = "sl_qp_endpoint";
    struct ibv_port_attr pa;
    union ibv_gid gid;
    sl_qp *qp;
    int rc;

    if (!blob)
        return sl_fail(SL_EINVAL, 0, "%s: blob is NULL", fn);
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    rc = ibv_query_port(qp->pd->dev->ctx, qp->opts.port, &pa);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_query_port", sl_verbs_errno(rc));
        goto out;
    }
    errno = 0;
    rc = ibv_query_gid(qp->pd->dev->ctx, qp->opts.port, qp->opts.gid_index, &gid);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_query_gid", sl_verbs_errno(rc));
        goto out;
    }
    memset(blob, 0, SL_ENDPOINT_SIZE);
    memcpy(blob, "SLEP", 4);
    blob[4] = SL_ENDPOINT_VERSION;
    blob[5] = (uint8_t)pa.active_mtu;
    blob[6] = qp->opts.port;
    blob[7] = qp->opts.gid_index;
    put16(blob + 8, pa.lid);
    put32(blob + 12, qp->qpn & 0xffffff);
    put32(blob + 16, qp->psn);
    memcpy(blob + 20, gid.raw, 16);
out:
    sl_handle_release(h);
    return rc;
}

int sl_endpoint_decode(const uint8_t *blob, size_t len, sl_endpoint *out)
{
    static const char fn[] = "sl_endpoint_decode";

    if (!blob || !out)
        return sl_fail(SL_EINVAL, 0, "%s: %s is NULL", fn, !blob ? "blob" : "out");
    if (len != SL_ENDPOINT_SIZE)
        return sl_fail(SL_EPROTO, 0, "%s: an endpoint blob is %d bytes, not %zu", fn, SL_ENDPOINT_SIZE, len);
    if (memcmp(blob, "SLEP", 4) != 0)
        return sl_fail(SL_EPROTO, 0, "%s: bad magic 0x%08x (expected \"SLEP\")", fn, get32(blob));
    if (blob[4] != SL_ENDPOINT_VERSION)
        return sl_fail(SL_EPROTO, 0, "%s: unsupported version %u (this shim speaks %d)", fn, blob[4],
                       SL_ENDPOINT_VERSION);
    if (blob[5] < IBV_MTU_256 || blob[5] > IBV_MTU_4096)
        return sl_fail(SL_EPROTO, 0, "%s: MTU code %u is not an ibv_mtu (1..5)", fn, blob[5]);
    if (blob[6] == 0)
        return sl_fail(SL_EPROTO, 0, "%s: port 0", fn);
    if (get16(blob + 10) != 0 || get32(blob + 36) != 0)
        return sl_fail(SL_EPROTO, 0, "%s: reserved bytes are not zero", fn);
    if (get32(blob + 12) > 0xffffff || get32(blob + 16) > 0xffffff)
        return sl_fail(SL_EPROTO, 0, "%s: %s does not fit in 24 bits", fn,
                       get32(blob + 12) > 0xffffff ? "QP number" : "PSN");
    memset(out, 0, sizeof(*out));
    out->version = blob[4];
    out->mtu = blob[5];
    out->port = blob[6];
    out->gid_index = blob[7];
    out->lid = get16(blob + 8);
    out->qpn = get32(blob + 12);
    out->psn = get32(blob + 16);
    memcpy(out->gid, blob + 20, 16);
    return SL_OK;
}

/* ------------------------------------------------------------------ connect */

static uint8_t clamp_u8(uint32_t v, int max)
{
    if (max < 0)
        max = 0;
    return (uint8_t)(v > (uint32_t)max ? (uint32_t)max : v);
}

int sl_qp_connect(sl_handle h, const uint8_t *peer_blob, size_t len, const sl_connect_opts *opts_in)
{
    static const char fn[] = "sl_qp_connect";
    struct ibv_qp_attr attr;
    struct ibv_port_attr pa;
    sl_connect_opts opts;
    sl_endpoint peer;
    /* Set by query_state on success; initialised anyway: sl_fail_verbs (another file) never returns SL_OK,
     * but GCC at -O3 cannot see that and warns (-Wmaybe-uninitialized). */
    uint32_t state = SL_QP_RESET;
    sl_qp *qp;
    int rc;

    if (opts_in)
        opts = *opts_in;
    else
        sl_connect_opts_default(&opts);
    if (opts.access & ~(SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ))
        return sl_fail(SL_EINVAL, 0, "%s: access 0x%x: only SL_ACCESS_REMOTE_WRITE and "
                       "SL_ACCESS_REMOTE_READ apply to a queue pair", fn, opts.access);
    if (opts.mtu > IBV_MTU_4096)
        return sl_fail(SL_EINVAL, 0, "%s: mtu %u is not an ibv_mtu (0 = auto, 1..5)", fn, opts.mtu);
    if (opts.timeout > 31 || opts.min_rnr_timer > 31)
        return sl_fail(SL_EINVAL, 0, "%s: %s %u is above 31", fn,
                       opts.timeout > 31 ? "timeout" : "min_rnr_timer",
                       opts.timeout > 31 ? opts.timeout : opts.min_rnr_timer);
    if (opts.retry_cnt > 7 || opts.rnr_retry > 7)
        return sl_fail(SL_EINVAL, 0, "%s: %s %u is above 7", fn,
                       opts.retry_cnt > 7 ? "retry_cnt" : "rnr_retry",
                       opts.retry_cnt > 7 ? opts.retry_cnt : opts.rnr_retry);
    rc = sl_endpoint_decode(peer_blob, len, &peer);
    if (rc)
        return rc;
    rc = sl_handle_acquire(fn, h, SL_TYPE_QP, (void **)&qp);
    if (rc)
        return rc;
    pthread_mutex_lock(&qp->post_lock);
    rc = query_state(fn, qp, &state);
    if (rc)
        goto out;
    if (state != SL_QP_INIT) {
        rc = sl_fail(SL_ESTATE, 0, "%s: the queue pair is in %s, not INIT (a queue pair connects once)",
                     fn, state_name(state));
        goto out;
    }
    rc = ibv_query_port(qp->pd->dev->ctx, qp->opts.port, &pa);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_query_port", sl_verbs_errno(rc));
        goto out;
    }

    memset(&attr, 0, sizeof(attr));
    attr.qp_state = IBV_QPS_RTR;
    if (opts.mtu)
        attr.path_mtu = (enum ibv_mtu)opts.mtu;
    else
        attr.path_mtu = pa.active_mtu < peer.mtu ? pa.active_mtu : (enum ibv_mtu)peer.mtu;
    attr.dest_qp_num = peer.qpn;
    attr.rq_psn = peer.psn;
    attr.max_dest_rd_atomic = clamp_u8(opts.max_rd_atomic, qp->pd->dev->attr.max_qp_rd_atom);
    attr.min_rnr_timer = opts.min_rnr_timer;
    attr.qp_access_flags = (int)opts.access;
    attr.ah_attr.dlid = peer.lid;
    attr.ah_attr.sl = 0;
    attr.ah_attr.src_path_bits = 0;
    attr.ah_attr.port_num = qp->opts.port;
    if (pa.link_layer == IBV_LINK_LAYER_ETHERNET || peer.lid == 0) {
        /* RoCE: addressed by GID (a GRH on every packet). */
        attr.ah_attr.is_global = 1;
        memcpy(attr.ah_attr.grh.dgid.raw, peer.gid, 16);
        attr.ah_attr.grh.sgid_index = qp->opts.gid_index;
        attr.ah_attr.grh.hop_limit = 64;
        attr.ah_attr.grh.traffic_class = 0;
        attr.ah_attr.grh.flow_label = 0;
    }
    rc = ibv_modify_qp(qp->qp, &attr, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
                       IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER |
                       IBV_QP_ACCESS_FLAGS);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_modify_qp(RTR)", sl_verbs_errno(rc));
        goto out;
    }
    atomic_store(&qp->dest_qpn, peer.qpn);
    atomic_store(&qp->state, SL_QP_RTR);

    memset(&attr, 0, sizeof(attr));
    attr.qp_state = IBV_QPS_RTS;
    attr.timeout = opts.timeout;
    attr.retry_cnt = opts.retry_cnt;
    attr.rnr_retry = opts.rnr_retry;
    attr.sq_psn = qp->psn;
    attr.max_rd_atomic = clamp_u8(opts.max_rd_atomic, qp->pd->dev->attr.max_qp_init_rd_atom);
    rc = ibv_modify_qp(qp->qp, &attr, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
                       IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
    if (rc) {
        rc = sl_fail_verbs(fn, "ibv_modify_qp(RTS)", sl_verbs_errno(rc));
        goto out;
    }
    atomic_store(&qp->state, SL_QP_RTS);
out:
    pthread_mutex_unlock(&qp->post_lock);
    sl_handle_release(h);
    return rc;
}
