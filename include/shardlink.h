/*
 * shardlink.h - the native shim over libibverbs (rdma-core).
 *
 * A small libuv-style C API: opaque 64-bit handles, integer status codes, one header.
 *
 * Handles. Every object (device, protection domain, completion queue, queue pair, shared
 * receive queue, memory region) is named by an sl_handle: a 64-bit value that packs the object's type, a slot index
 * and a generation count. 0 is never a valid handle. A handle that was destroyed, that names an
 * object of another type, or that was never issued is rejected with SL_EBADHANDLE and an error
 * text; it never dereferences freed memory. The Java layer holds these handles as longs.
 *
 * Threads. Every call is thread-safe. A destroy that races with other calls on the same handle
 * waits for those calls to return, then frees; calls that start after the destroy fail with
 * SL_EBADHANDLE. Destroying an object that still has children (a PD with QPs, SRQs or MRs, a
 * CQ that a QP or an SRQ's receives use, an SRQ that QPs use, a device with a PD or CQ) fails
 * with SL_EBUSY and changes nothing. Destroy order: QPs, SRQs, CQs and MRs, PDs, the device.
 *
 * Errors. Every call returns SL_OK (0) or a negative sl_status. The calling thread's last
 * error text (sl_last_error) then says what was attempted and, for verbs failures, the errno
 * and its text, e.g. "sl_qp_connect: ibv_modify_qp(RTR) failed: Connection timed out
 * (errno 110)". Successful calls leave the last error unchanged.
 *
 * Layouts. sl_wr, sl_sge and sl_completion have fixed, documented layouts (native byte order,
 * no pointers) so that a caller can fill or read them in a shared buffer (Java: a direct
 * ByteBuffer) without marshalling. The endpoint blob has a fixed, big-endian layout and a version.
 */
#ifndef SHARDLINK_H
#define SHARDLINK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1

/* ------------------------------------------------------------------ status and errors */

typedef enum sl_status {
    SL_OK = 0,
    SL_EINVAL = -1,     /* bad argument: NULL pointer, zero length, unknown flag, bad options */
    SL_EBADHANDLE = -2, /* handle 0, never issued, already destroyed, or of the wrong type */
    SL_ENODEV = -3,     /* no RDMA device (or none by that name / with an ACTIVE port) */
    SL_ENOMEM = -4,     /* allocation or pinning failed (see the memlock limit) */
    SL_ESTATE = -5,     /* the object is not in a state that allows the call (e.g. send on a QP not in RTS) */
    SL_EFULL = -6,      /* posting would exceed the queue depth: poll completions first */
    SL_EVERBS = -7,     /* a verbs call failed; sl_last_errno() has its errno */
    SL_ETIMEDOUT = -8,  /* a wait ran out of time */
    SL_EBUSY = -9,      /* the object still has children or users */
    SL_ERANGE = -10,    /* a length or offset outside what the object or device allows */
    SL_EPROTO = -11,    /* a malformed or unsupported endpoint blob */
    SL_EACCES = -12,    /* memory region lacks the access a work request needs */
    SL_ENOTSUP = -13    /* the device does not support this (e.g. no shared receive queues) */
} sl_status;

/* Short name of a status, e.g. "SL_EBADHANDLE". Never NULL. */
const char *sl_status_name(int status);
/* The calling thread's last error text ("" if none). Valid until the thread's next failing call. */
const char *sl_last_error(void);
/* The errno behind the calling thread's last error (0 if it was not a system/verbs error). */
int sl_last_errno(void);
/* Clears the calling thread's last error. */
void sl_clear_error(void);

/* ------------------------------------------------------------------ handles */

typedef uint64_t sl_handle;
#define SL_NULL_HANDLE ((sl_handle)0)

/* ------------------------------------------------------------------ devices */

#define SL_NAME_MAX 64

typedef struct sl_device_info {
    char name[SL_NAME_MAX];   /* e.g. "mlx5_0", "rxe0" */
    uint64_t node_guid;       /* host byte order */
    uint32_t num_ports;
    uint32_t transport;       /* ibv_transport_type */
} sl_device_info;

/*
 * Lists up to max devices into out (out may be NULL when max is 0) and sets *count to the total
 * number of devices. Returns SL_ENODEV with a reason when the verbs library cannot list devices
 * at all (e.g. a kernel without RDMA: "no RDMA devices: ibv_get_device_list failed: Function not
 * implemented (errno 38): this kernel has no RDMA support"); returns SL_OK with *count 0 when it
 * can list and there are none.
 */
int sl_device_list(sl_device_info *out, uint32_t max, uint32_t *count);

/*
 * Opens a device by name, or "auto" for the first device whose port `port` is ACTIVE.
 * SL_ENODEV with a reason when there is none.
 */
int sl_device_open(const char *name, uint8_t port, sl_handle *out);
int sl_device_close(sl_handle dev);
/* Copies the device name (NUL-terminated, truncated to len). */
int sl_device_name(sl_handle dev, char *buf, size_t len);

#define SL_PORT_DOWN 1
#define SL_PORT_INIT 2
#define SL_PORT_ARMED 3
#define SL_PORT_ACTIVE 4

#define SL_LINK_LAYER_UNSPECIFIED 0
#define SL_LINK_LAYER_INFINIBAND 1
#define SL_LINK_LAYER_ETHERNET 2

typedef struct sl_port_attr {
    uint32_t state;         /* SL_PORT_* (ibv_port_state) */
    uint32_t max_mtu;       /* bytes: 256..4096 */
    uint32_t active_mtu;    /* bytes */
    uint32_t link_layer;    /* SL_LINK_LAYER_* */
    uint32_t gid_tbl_len;
    uint32_t max_msg_sz;
    uint16_t lid;
    uint16_t reserved;
} sl_port_attr;

int sl_port_query(sl_handle dev, uint8_t port, sl_port_attr *out);
/* Reads GID `index` of `port` (16 bytes, network order). SL_ERANGE for an index past the table. */
int sl_gid_query(sl_handle dev, uint8_t port, uint32_t index, uint8_t gid[16]);

typedef struct sl_device_limits {
    uint64_t max_mr_size;
    uint32_t max_qp;
    uint32_t max_qp_wr;
    uint32_t max_sge;
    uint32_t max_cq;
    uint32_t max_cqe;
    uint32_t max_mr;
    uint32_t max_pd;
    uint32_t max_qp_rd_atom;
    uint32_t max_qp_init_rd_atom;
    uint32_t phys_port_cnt;
    uint32_t max_srq;       /* 0: the device has no shared receive queues */
    uint32_t max_srq_wr;
    uint32_t max_srq_sge;
} sl_device_limits;

int sl_device_limits_query(sl_handle dev, sl_device_limits *out);

/* The process's RLIMIT_MEMLOCK (bytes; UINT64_MAX for unlimited). Registration pins memory. */
int sl_memlock_limit(uint64_t *soft, uint64_t *hard);

/* ------------------------------------------------------------------ protection domains */

int sl_pd_create(sl_handle dev, sl_handle *out);
int sl_pd_destroy(sl_handle pd);

/* ------------------------------------------------------------------ completion queues */

/*
 * Completion layout: 48 bytes, native byte order. qp_num, src_qp and qp_tag let one poller of a
 * CQ shared by many QPs (and of receives from a shared receive queue) route each completion
 * to its connection without a lookup of its own.
 */
typedef struct sl_completion {
    uint64_t wr_id;      /*  0: the caller's id from the work request */
    uint32_t status;     /*  8: ibv_wc_status; 0 = success (sl_wc_status_str for text) */
    uint32_t opcode;     /* 12: SL_OP_* of the work request; SL_OP_RECV or SL_OP_RECV_IMM for receives */
    uint32_t byte_len;   /* 16: bytes received (receives) */
    uint32_t imm;        /* 20: immediate data, host byte order, valid when flags & SL_WC_WITH_IMM */
    uint32_t qp_num;     /* 24: the local QP */
    uint32_t flags;      /* 28: SL_WC_* */
    uint32_t vendor_err; /* 32 */
    uint32_t src_qp;     /* 36: the QP number of the peer the local QP is connected to (0 before connect) */
    uint64_t qp_tag;     /* 40: the local QP's tag (sl_qp_opts.tag) */
} sl_completion;

#define SL_WC_WITH_IMM 1u
#define SL_WC_SRQ 2u        /* a receive that consumed an entry of a shared receive queue */
#define SL_WC_DEPARTED 4u   /* the QP was destroyed before this completion was polled */

const char *sl_wc_status_str(uint32_t status);

/*
 * Creates a CQ of at least `depth` entries with its own completion channel. The channel's fd is
 * non-blocking and can be waited on with poll/epoll (sl_cq_fd, sl_cq_arm, sl_cq_ack_events).
 *
 * Room. Many QPs may share one CQ (for sends, receives or both). Each QP reserves room for
 * everything it can have outstanding: its sq_depth on its send CQ, its rq_depth on its receive
 * CQ; a shared receive queue reserves its depth once on every CQ that its QPs' receives use
 * (until the SRQ is destroyed). sl_qp_create fails with SL_ERANGE, saying how much is promised,
 * when the reservations would exceed `depth`: the CQ can then never overflow. A QP destroyed
 * with completions still unpolled keeps its reservation until a poll finds the CQ empty.
 */
int sl_cq_create(sl_handle dev, uint32_t depth, sl_handle *out);
int sl_cq_destroy(sl_handle cq);
int sl_cq_fd(sl_handle cq, int *fd);
/* Requests an event on the channel for the next completion (solicited_only: only solicited ones). */
int sl_cq_arm(sl_handle cq, int solicited_only);
/* Consumes and acknowledges every pending channel event without blocking; *events = how many. */
int sl_cq_ack_events(sl_handle cq, uint32_t *events);
/*
 * Polls up to max completions into out (caller-provided; nothing is allocated) and sets *n.
 * Never blocks. Every completion is routed to its QP's bookkeeping (a table by QP number):
 * a send completion retires its request and every earlier unsignaled one of that QP, a receive
 * retires one entry of the QP's receive queue or of its shared receive queue. A completion with
 * an error status (other than a flush) marks its QP as being in the error state.
 */
int sl_cq_poll(sl_handle cq, sl_completion *out, uint32_t max, uint32_t *n);
/*
 * Polls; if nothing is there, arms the CQ, polls again (closing the race with the arm), and then
 * waits up to timeout_ms (-1: no limit) on the channel before polling once more. Sets *n (0 on
 * timeout, and returns SL_OK then: a timeout is not an error here). Returns early, SL_OK with
 * *n 0, when sl_cq_wake is called (or was called since the last wait returned for it).
 */
int sl_cq_poll_wait(sl_handle cq, sl_completion *out, uint32_t max, uint32_t *n, int timeout_ms);
/*
 * Adaptive polling in one call: polls without sleeping for up to spin_us microseconds, then
 * continues as sl_cq_poll_wait for the rest of timeout_ms (-1: no limit). A wake (sl_cq_wake)
 * or a destroy of the CQ ends the spin too. spin_us 0 is sl_cq_poll_wait. *woken (may be NULL)
 * is set to 1 when it returned because of a wake, else 0.
 */
int sl_cq_poll_adaptive(sl_handle cq, sl_completion *out, uint32_t max, uint32_t *n, uint32_t spin_us,
                        int timeout_ms, int *woken);
/*
 * Wakes a thread in sl_cq_poll_wait / sl_cq_poll_adaptive on this CQ (now, or at its next wait if
 * none is waiting): it returns SL_OK with *n 0. For closing a poller, or handing it new work.
 */
int sl_cq_wake(sl_handle cq);

/* ------------------------------------------------------------------ memory */

#define SL_ACCESS_LOCAL_WRITE 1u   /* = IBV_ACCESS_LOCAL_WRITE */
#define SL_ACCESS_REMOTE_WRITE 2u  /* = IBV_ACCESS_REMOTE_WRITE (needs LOCAL_WRITE) */
#define SL_ACCESS_REMOTE_READ 4u   /* = IBV_ACCESS_REMOTE_READ */
#define SL_ACCESS_MW_BIND 16u      /* = IBV_ACCESS_MW_BIND: memory windows may be bound to the region */

typedef struct sl_mr_info {
    uint64_t addr;
    uint64_t length;
    uint32_t lkey;
    uint32_t rkey;
    uint32_t access;
    uint32_t reserved;
} sl_mr_info;

/*
 * Registers (pins) [addr, addr+length) with the given SL_ACCESS_* flags. length 0 is SL_EINVAL,
 * a length above the device's max_mr_size is SL_ERANGE, unknown flags are SL_EINVAL.
 */
int sl_mr_register(sl_handle pd, void *addr, uint64_t length, uint32_t access, sl_handle *out);
/*
 * Registers `length` bytes of the file at `path` from `offset` (a multiple of the page size) for local read
 * only: the shim opens the file read-only, maps it PROT_READ + MAP_PRIVATE (the mapping is the shim's, unmapped at
 * sl_mr_register_file's deregistration; sl_mr_query's addr is where it is) and registers that. `access` must be 0
 * (SL_EINVAL otherwise: a file is never written through a region). The range must lie inside the file (SL_ERANGE).
 * For kernels that cannot pin a read-only MAP_SHARED mapping (before Linux 6.2 ib_umem_get asks for write
 * access on every registration, and a read-only shared mapping refuses it with EFAULT): pinning a private
 * mapping there copies each page once, at registration (copy-on-write), into memory owned by the region.
 */
int sl_mr_register_file(sl_handle pd, const char *path, uint64_t offset, uint64_t length, uint32_t access,
                        sl_handle *out);
int sl_mr_query(sl_handle mr, sl_mr_info *out);
int sl_mr_deregister(sl_handle mr);

/* Page-aligned (alignment 0) or `alignment`-aligned (a power of two), zeroed memory owned by the shim. */
int sl_buf_alloc(uint64_t length, uint64_t alignment, void **out);
int sl_buf_free(void *buf);

/* ------------------------------------------------------------------ queue pairs */

#define SL_QP_RESET 0
#define SL_QP_INIT 1
#define SL_QP_RTR 2
#define SL_QP_RTS 3
#define SL_QP_SQD 4
#define SL_QP_SQE 5
#define SL_QP_ERR 6

typedef struct sl_qp_opts {
    uint32_t sq_depth;    /* outstanding send-queue work requests; default 64 */
    uint32_t rq_depth;    /* outstanding receive work requests; default 64; ignored with an srq */
    uint32_t max_sge;     /* per work request, <= SL_WR_MAX_SGE; default 4 */
    uint32_t max_inline;  /* inline payload bytes asked for; default 0 (sl_qp_caps: what was granted) */
    uint8_t port;         /* default 1 */
    uint8_t gid_index;    /* default 0 */
    uint16_t reserved;    /* 0 */
    uint32_t signal_every;/* an unsignaled run is signaled at its signal_every-th request; 0 = sq_depth/2 */
    sl_handle srq;        /* 0: the QP has its own receive queue; else its receives come from this SRQ */
    uint64_t tag;         /* the caller's tag, copied into every completion of the QP (qp_tag) */
} sl_qp_opts;

void sl_qp_opts_default(sl_qp_opts *opts);

/*
 * Creates an RC QP and moves it to INIT (receives may be posted from then on). send_cq and
 * recv_cq may be the same CQ, and may be shared with other QPs (see sl_cq_create: room). With
 * opts->srq the QP takes its receives from that shared receive queue (same PD) and has no
 * receive queue of its own. max_inline: where the device cannot grant the asked-for inline size
 * (e.g. it has no inline support), the QP is created with none; sl_qp_caps says what it got.
 */
int sl_qp_create(sl_handle pd, sl_handle send_cq, sl_handle recv_cq, const sl_qp_opts *opts, sl_handle *out);

/* What a QP was granted at creation. */
typedef struct sl_qp_caps {
    uint32_t sq_depth;     /* outstanding send requests the shim allows (as asked) */
    uint32_t rq_depth;     /* outstanding receives (0 with an SRQ) */
    uint32_t max_sge;
    uint32_t max_inline;   /* inline payload bytes granted by the device (0: no inline sends) */
    uint32_t signal_every; /* effective selective-signaling bound */
    uint32_t reserved;
    sl_handle srq;         /* 0 if none */
    uint64_t tag;
} sl_qp_caps;

int sl_qp_caps_query(sl_handle qp, sl_qp_caps *out);
int sl_qp_destroy(sl_handle qp);
/* The QP's current state from the device (SL_QP_*). */
int sl_qp_state(sl_handle qp, uint32_t *state);
int sl_qp_num(sl_handle qp, uint32_t *qpn);
/* Moves the QP to the error state: outstanding work completes with flush errors. */
int sl_qp_set_error(sl_handle qp);

/*
 * The endpoint blob, exchanged out of band so that two QPs can connect. 40 bytes, big-endian:
 *   0  magic   "SLEP"
 *   4  u8      version (SL_ENDPOINT_VERSION)
 *   5  u8      active MTU as ibv_mtu (1=256 .. 5=4096)
 *   6  u8      port
 *   7  u8      gid index
 *   8  u16     LID (0 on RoCE)
 *  10  u16     reserved, 0
 *  12  u32     QP number (24 bits used)
 *  16  u32     initial packet sequence number (24 bits used)
 *  20  u8[16]  GID
 *  36  u32     reserved, 0
 */
#define SL_ENDPOINT_SIZE 40
#define SL_ENDPOINT_VERSION 1

typedef struct sl_endpoint {
    uint32_t qpn;
    uint32_t psn;
    uint16_t lid;
    uint8_t mtu;        /* ibv_mtu */
    uint8_t port;
    uint8_t gid_index;
    uint8_t version;
    uint8_t gid[16];
} sl_endpoint;

/* Writes this QP's endpoint blob (SL_ENDPOINT_SIZE bytes). */
int sl_qp_endpoint(sl_handle qp, uint8_t blob[SL_ENDPOINT_SIZE]);
/* Decodes and validates a blob (magic, version, reserved bytes, 24-bit fields). SL_EPROTO if bad. */
int sl_endpoint_decode(const uint8_t *blob, size_t len, sl_endpoint *out);

typedef struct sl_connect_opts {
    uint32_t access;        /* remote access this QP grants: SL_ACCESS_REMOTE_WRITE | _READ; default both */
    uint32_t mtu;           /* ibv_mtu to use; 0 = the smaller of the two ends' active MTUs */
    uint8_t timeout;        /* local ACK timeout exponent (4.096 us * 2^t); default 14 (~67 ms) */
    uint8_t retry_cnt;      /* 0..7; default 6 (rxe treats 7 as infinite: a dead peer is never reported) */
    uint8_t rnr_retry;      /* 0..7 (7 = infinite); default 7 */
    uint8_t min_rnr_timer;  /* default 12 */
    uint8_t max_rd_atomic;  /* outstanding RDMA READs, both as initiator and responder; default 16 */
    uint8_t reserved[3];
} sl_connect_opts;

void sl_connect_opts_default(sl_connect_opts *opts);

/* Brings the QP from INIT to RTR and RTS towards the peer's endpoint blob. opts NULL = defaults. */
int sl_qp_connect(sl_handle qp, const uint8_t *peer_blob, size_t len, const sl_connect_opts *opts);

/* ------------------------------------------------------------------ work requests */

#define SL_OP_SEND 0u
#define SL_OP_SEND_IMM 1u
#define SL_OP_WRITE 2u
#define SL_OP_WRITE_IMM 3u
#define SL_OP_READ 4u
#define SL_OP_RECV 5u       /* receive work requests; also the opcode of receive completions */
#define SL_OP_RECV_IMM 6u   /* completion only: a WRITE WITH IMMEDIATE consumed a receive */
#define SL_OP_BIND_MW 7u    /* completion only: the bind posted by sl_mw_bind */

#define SL_WR_MAX_SGE 4

/* Scatter/gather entry: 24 bytes. Memory is named by an MR handle and an offset into it, so the
 * shim can check that it is registered and in range. */
typedef struct sl_sge {
    sl_handle mr;        /*  0 */
    uint64_t offset;     /*  8: from the MR's start */
    uint32_t length;     /* 16 */
    uint32_t reserved;   /* 20 */
} sl_sge;

#define SL_WR_FENCE 1u      /* wait for earlier READs before this one */
#define SL_WR_SOLICITED 2u  /* ask the receiver's CQ for a solicited event */
#define SL_WR_INLINE 4u     /* copy the payload into the WQE (total <= sl_qp_caps.max_inline); the
                             * buffer may be reused as soon as sl_post_send returns */
#define SL_WR_UNSIGNALED 8u /* no completion on success (selective signaling); see sl_post_send */

/* Work request: 136 bytes, native byte order. */
typedef struct sl_wr {
    uint64_t wr_id;        /*   0: returned in the completion */
    uint32_t opcode;       /*   8: SL_OP_* */
    uint32_t flags;        /*  12: SL_WR_* */
    uint32_t imm;          /*  16: host byte order, for *_IMM */
    uint32_t num_sge;      /*  20: 0..SL_WR_MAX_SGE */
    uint64_t remote_addr;  /*  24: WRITE / READ */
    uint32_t rkey;         /*  32: WRITE / READ */
    uint32_t reserved;     /*  36 */
    sl_sge sge[SL_WR_MAX_SGE]; /* 40 */
} sl_wr;

/*
 * Posts a chain of n send-queue work requests (SEND, SEND_IMM, WRITE, WRITE_IMM, READ), one
 * doorbell per 32 of them. Every request is validated before any is posted: opcodes, SGE count,
 * MR handles of this QP's PD, offset+length inside the MR, access flags (READ needs LOCAL_WRITE
 * on the local side), SL_WR_INLINE payloads within the granted max_inline (SL_ERANGE). SL_ESTATE
 * unless the QP is in RTS; SL_EFULL if n more would exceed sq_depth outstanding. *posted (may
 * be NULL) is set to how many went to the device (n on success; fewer only after a verbs
 * failure, which returns SL_EVERBS).
 *
 * Selective signaling. A request with SL_WR_UNSIGNALED yields no completion when it succeeds;
 * it stays outstanding until a later signaled request of the QP completes, which retires it
 * too (RC completes in order). So that the send queue can never fill with requests that
 * nothing will retire, the shim signals the signal_every-th request of an unsignaled run itself
 * (its completion then arrives like any other, with its wr_id). A failed or flushed request
 * yields a completion whether signaled or not.
 */
int sl_post_send(sl_handle qp, const sl_wr *wrs, uint32_t n, uint32_t *posted);
/* The same for receive work requests (opcode SL_OP_RECV); allowed in INIT, RTR and RTS.
 * SL_EINVAL for a QP that takes its receives from a shared receive queue. */
int sl_post_recv(sl_handle qp, const sl_wr *wrs, uint32_t n, uint32_t *posted);
/* Outstanding (posted, not yet completed) send and receive requests (receive: 0 with an SRQ). */
int sl_qp_outstanding(sl_handle qp, uint32_t *send, uint32_t *recv);

/* ------------------------------------------------------------------ memory windows */

/*
 * Type-2 memory windows: remote access scoped to one queue pair. A window is bound (sl_mw_bind)
 * through one connected QP to a range of a region registered with SL_ACCESS_MW_BIND; from then on
 * the window's rkey grants its access to the peer of THAT queue pair only: a WRITE with the same
 * rkey arriving on any other QP (even of the same protection domain) fails with a remote access
 * error and lands nothing. Register the region LOCAL_WRITE | MW_BIND without remote rights, so the
 * region's own rkey grants nothing remote.
 *
 * A window is bound once (SL_ESTATE for a second bind). Revoke it with sl_mw_dealloc, which
 * invalidates it at once. While a window is bound, its region cannot be deregistered and its QP
 * cannot be destroyed (SL_EBUSY): deallocate windows first.
 */

/* Allocates a type-2 window in pd. SL_ENOTSUP when the device has no type-2 windows. */
int sl_mw_alloc(sl_handle pd, sl_handle *out);
/* The rkey the window answers to once bound (chosen at allocation, so it can be sent before the bind). */
int sl_mw_rkey(sl_handle mw, uint32_t *rkey);
/*
 * Posts a signaled bind of the window to [offset, offset+length) of mr with `access`
 * (SL_ACCESS_REMOTE_WRITE and/or SL_ACCESS_REMOTE_READ) on qp's send queue: the window is usable
 * once its completion (opcode SL_OP_BIND_MW, id wr_id) succeeds. qp, mw and mr must share one PD;
 * mr needs SL_ACCESS_MW_BIND (and LOCAL_WRITE for REMOTE_WRITE) (SL_EACCES); the range must lie
 * inside mr (SL_ERANGE); the QP must be in RTS (SL_ESTATE) with room on its send queue (SL_EFULL).
 * Post it on an idle send queue and nothing behind it until its completion: rxe (Linux 6.1) executes a
 * bind again when a retry rewinds over it before it completed, and the QP may then never complete
 * anything again while staying RTS (tests-native/test_mw_bind_stream). A fence does not prevent that.
 */
int sl_mw_bind(sl_handle qp, sl_handle mw, sl_handle mr, uint64_t offset, uint64_t length, uint32_t access,
               uint64_t wr_id);
/* Invalidates and frees the window (bound or not). */
int sl_mw_dealloc(sl_handle mw);

/* ------------------------------------------------------------------ shared receive queues */

/*
 * Creates a shared receive queue on pd holding up to `depth` posted receives of up to max_sge
 * SGEs (0 = 4): QPs created with sl_qp_opts.srq take their receives from it, so receive memory
 * does not grow with the number of QPs. SL_ENOTSUP when the device has no SRQs (max_srq 0),
 * SL_ERANGE above the device's max_srq_wr / max_srq_sge.
 */
int sl_srq_create(sl_handle pd, uint32_t depth, uint32_t max_sge, sl_handle *out);
/* SL_EBUSY while a QP uses it. Its posted receives are released with it. */
int sl_srq_destroy(sl_handle srq);
/*
 * Posts n receive work requests (opcode SL_OP_RECV, MRs of the SRQ's PD with LOCAL_WRITE), one
 * doorbell per 32. SL_EFULL if n more would exceed depth outstanding; a receive stays
 * outstanding until its completion is polled from the CQ of the QP that consumed it.
 */
int sl_srq_post_recv(sl_handle srq, const sl_wr *wrs, uint32_t n, uint32_t *posted);
/* Posted receives not yet polled as completions. */
int sl_srq_outstanding(sl_handle srq, uint32_t *recv);

#ifdef __cplusplus
}
#endif

#endif /* SHARDLINK_H */
