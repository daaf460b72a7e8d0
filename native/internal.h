/*
 * internal.h - private declarations shared by the shim's C files (not installed, no JNI).
 */
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#include "shardlink.h"
#include "handle.h"

#define SL_HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------------ error.c */

/* Sets the thread's last error (text from fmt, errno err) and returns status. */
SL_HIDDEN int sl_fail(int status, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "fn: call failed: strerror (errno N)"; status SL_EVERBS (SL_ENOMEM when err is ENOMEM). */
SL_HIDDEN int sl_fail_verbs(const char *fn, const char *call, int err);
/* The errno of a verbs call that returned ret (ret > 0 is an errno itself; -1 means see errno). */
SL_HIDDEN int sl_verbs_errno(int ret);
/* Thread-safe strerror. */
SL_HIDDEN const char *sl_strerror(int err, char *buf, size_t len);

/* ------------------------------------------------------------------ objects */

typedef struct sl_device {
    sl_handle h;
    struct ibv_context *ctx;
    struct ibv_device_attr attr;
    uint8_t port;
    char name[SL_NAME_MAX];
    atomic_uint children;          /* PDs and CQs */
} sl_device;

typedef struct sl_pd {
    sl_handle h;
    sl_device *dev;
    struct ibv_pd *pd;
    atomic_uint children;          /* QPs and MRs */
} sl_pd;

struct sl_qp;

typedef struct sl_cq {
    sl_handle h;
    sl_device *dev;
    struct ibv_comp_channel *channel;
    struct ibv_cq *cq;
    uint32_t depth;                /* entries asked for (the device's cq->cqe may be more) */
    atomic_uint children;          /* QP uses (a QP using it for send and recv counts twice) */
    pthread_mutex_t lock;          /* polling + the attached-QP table below */
    uint64_t committed;            /* entries promised to attached QPs (sq/rq depths) */
    struct sl_qp **qps;            /* attached QPs, for wc.qp_num -> QP bookkeeping */
    uint32_t nqps, capqps;
    struct sl_qp *last;            /* last lookup hit */
} sl_cq;

/* One posted send WR, remembered until its completion (RC completes in order). */
typedef struct sl_sq_slot {
    _Atomic uint64_t wr_id;
    _Atomic uint32_t opcode;
} sl_sq_slot;

typedef struct sl_qp {
    sl_handle h;
    sl_pd *pd;
    sl_cq *send_cq, *recv_cq;
    struct ibv_qp *qp;
    uint32_t qpn;
    sl_qp_opts opts;
    uint32_t psn;
    uint8_t link_layer;
    _Atomic uint32_t state;        /* cached SL_QP_*: our own transitions + error completions */
    _Atomic uint32_t err_status;   /* first failed completion status (0: none seen) */
    pthread_mutex_t post_lock;     /* serialises posters: ring heads and the doorbell */
    /* Rings of outstanding WRs: head advanced by posters, tail by the CQ poller (under the CQ lock). */
    sl_sq_slot *sq_ring;
    _Atomic uint64_t *rq_ring;     /* wr_ids */
    _Atomic uint64_t sq_head, sq_tail, rq_head, rq_tail;
} sl_qp;

typedef struct sl_mr {
    sl_handle h;
    sl_pd *pd;
    struct ibv_mr *mr;
    uint64_t addr, length;
    uint32_t access;
} sl_mr;

/* cq.c: attach/detach a QP to a CQ's bookkeeping (checks and commits `entries` of room). */
SL_HIDDEN int sl_cq_attach(const char *fn, sl_cq *cq, sl_qp *qp, uint32_t entries);
SL_HIDDEN void sl_cq_detach(sl_cq *cq, sl_qp *qp, uint32_t entries);

/* device.c: ibv_mtu <-> bytes. */
SL_HIDDEN uint32_t sl_mtu_bytes(enum ibv_mtu mtu);

#endif
