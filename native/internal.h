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
    atomic_uint children;          /* QPs, SRQs and MRs */
} sl_pd;

struct sl_qp;
struct sl_cq;

typedef struct sl_srq {
    sl_handle h;
    sl_pd *pd;
    struct ibv_srq *srq;
    uint32_t depth, max_sge;
    atomic_uint children;          /* QPs attached */
    pthread_mutex_t post_lock;     /* serialises posters: head and the doorbell */
    _Atomic uint64_t head, tail;   /* posted / retired by pollers of any CQ (tail: CAS) */
    pthread_mutex_t link_lock;     /* the CQ list below (appended under the CQ's lock) */
    struct sl_cq **cqs;            /* CQs this SRQ has reserved its depth on */
    uint32_t ncqs, capcqs;
} sl_srq;

/* A QP destroyed while completions of it may still sit in a CQ (cleared once the CQ polls empty). */
typedef struct sl_departed {
    uint32_t qpn;
    uint32_t src_qp;
    uint64_t tag;
    sl_srq *srq;                   /* NULL once the SRQ is destroyed */
    uint32_t held;                 /* CQ entries still reserved for it */
} sl_departed;

typedef struct sl_cq {
    sl_handle h;
    sl_device *dev;
    struct ibv_comp_channel *channel;
    struct ibv_cq *cq;
    int wake_fd;                   /* eventfd: sl_cq_wake ends a wait */
    uint32_t depth;                /* entries asked for (the device's cq->cqe may be more) */
    atomic_uint children;          /* QP attachments and SRQ links */
    pthread_mutex_t lock;          /* polling + every table below */
    uint64_t committed;            /* entries promised: QP depths, SRQ depths, departed holds */
    struct sl_qp **table;          /* open addressing by QP number (linear probing) */
    uint32_t tcap, nqps;
    sl_srq **links;                /* SRQs whose depth is reserved here */
    uint32_t nlinks, caplinks;
    sl_departed *departed;
    uint32_t ndeparted, capdeparted;
} sl_cq;

#define SL_SLOT_SIGNALED 0x100u    /* in sl_sq_slot.opcode: this request yields a completion */

/* One posted send WR, remembered until its completion (RC completes in order). */
typedef struct sl_sq_slot {
    _Atomic uint64_t wr_id;
    _Atomic uint32_t opcode;       /* SL_OP_* | SL_SLOT_SIGNALED */
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
    sl_srq *srq;                   /* NULL: own receive queue */
    uint64_t tag;
    uint32_t max_inline;           /* granted by the device */
    uint32_t signal_every;         /* 1..sq_depth */
    uint32_t unsig_run;            /* unsignaled requests since the last signaled one (post_lock) */
    _Atomic uint32_t dest_qpn;     /* the peer's QP number once connected */
    _Atomic uint32_t state;        /* cached SL_QP_*: our own transitions + error completions */
    _Atomic uint32_t err_status;   /* first failed completion status (0: none seen) */
    pthread_mutex_t post_lock;     /* serialises posters: ring heads and the doorbell */
    /* Rings of outstanding WRs: head advanced by posters, tail by the CQ poller (under the CQ lock). */
    sl_sq_slot *sq_ring;
    _Atomic uint64_t *rq_ring;     /* wr_ids */
    _Atomic uint64_t sq_head, sq_tail, rq_head, rq_tail;
    atomic_uint windows;           /* memory windows bound through this QP (destroy waits for none) */
} sl_qp;

typedef struct sl_mr {
    sl_handle h;
    sl_pd *pd;
    struct ibv_mr *mr;
    uint64_t addr, length;
    uint32_t access;
    void *owned_map; /* sl_mr_register_file's mapping, unmapped at deregistration; else NULL */
    atomic_uint windows;           /* memory windows bound to this region */
} sl_mr;

typedef struct sl_mw {
    sl_handle h;
    sl_pd *pd;
    struct ibv_mw *mw;
    uint32_t rkey;                 /* what the (one) bind gives it */
    sl_qp *qp;                     /* bound through (NULL until sl_mw_bind posted) */
    sl_mr *mr;                     /* bound to */
} sl_mw;

/*
 * cq.c: attach a QP to a CQ's bookkeeping: checks and commits `entries` of room, plus the SRQ's
 * depth if srq is not NULL and not linked to this CQ yet (the link lasts until the SRQ goes).
 */
SL_HIDDEN int sl_cq_attach(const char *fn, sl_cq *cq, sl_qp *qp, uint32_t entries, sl_srq *srq);
/*
 * Detaches; destroyed: the QP was destroyed (not a failed create), so its completions may still
 * be in the CQ: `held` entries stay reserved, and they stay routable by QP number, until a poll
 * finds the CQ empty.
 */
SL_HIDDEN void sl_cq_detach(sl_cq *cq, sl_qp *qp, uint32_t entries, int destroyed, uint32_t held);
/* srq.c's destroy: drops the SRQ's link (reservation) from every CQ it reserved room on. */
SL_HIDDEN void sl_cq_unlink_srq(sl_cq *cq, sl_srq *srq);

/* wr.c: receive requests for a QP's or an SRQ's queue. Validates all n (nothing is built). */
SL_HIDDEN int sl_check_recvs(const char *fn, sl_pd *pd, uint32_t max_sge, const sl_wr *wrs, uint32_t n);
/* Builds wrs[first .. first+k) into the linked verbs chain vw (k <= SL_POST_BATCH), SGEs in vs. */
SL_HIDDEN int sl_recv_chain(const char *fn, sl_pd *pd, uint32_t max_sge, const sl_wr *wrs, uint32_t first,
                            uint32_t k, struct ibv_recv_wr *vw, struct ibv_sge (*vs)[SL_WR_MAX_SGE]);
#define SL_POST_BATCH 32   /* work requests per doorbell */

/* wr.c: the QP-state and failed-doorbell errors of a post (post_lock held). */
SL_HIDDEN int sl_post_state_error(const char *fn, sl_qp *qp, uint32_t state, const char *allowed);
SL_HIDDEN int sl_post_failed(const char *fn, sl_qp *qp, const char *call, int ret, uint32_t posted);

/* device.c: ibv_mtu <-> bytes. */
SL_HIDDEN uint32_t sl_mtu_bytes(enum ibv_mtu mtu);

#endif
