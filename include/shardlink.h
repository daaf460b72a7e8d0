/*
 * shardlink.h - the native shim over libibverbs (rdma-core).
 *
 * A small libuv-style C API: opaque 64-bit handles, integer status codes, one header.
 *
 * Handles. Every object (device, protection domain, completion queue, queue pair, memory
 * region) is named by an sl_handle: a 64-bit value that packs the object's type, a slot index
 * and a generation count. 0 is never a valid handle. A handle that was destroyed, that names an
 * object of another type, or that was never issued is rejected with SL_EBADHANDLE and an error
 * text; it never dereferences freed memory. The Java layer holds these handles as longs.
 *
 * Threads. Every call is thread-safe. A destroy that races with other calls on the same handle
 * waits for those calls to return, then frees; calls that start after the destroy fail with
 * SL_EBADHANDLE. Destroying an object that still has children (a PD with QPs or MRs, a CQ
 * that a QP uses, a device with a PD or CQ) fails with SL_EBUSY and changes nothing.
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
    SL_EACCES = -12     /* memory region lacks the access a work request needs */
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
} sl_device_limits;

int sl_device_limits_query(sl_handle dev, sl_device_limits *out);

/* The process's RLIMIT_MEMLOCK (bytes; UINT64_MAX for unlimited). Registration pins memory. */
int sl_memlock_limit(uint64_t *soft, uint64_t *hard);

/* ------------------------------------------------------------------ protection domains */

int sl_pd_create(sl_handle dev, sl_handle *out);
int sl_pd_destroy(sl_handle pd);

/* ------------------------------------------------------------------ completion queues */

/* Completion layout: 40 bytes, native byte order. */
typedef struct sl_completion {
    uint64_t wr_id;      /*  0: the caller's id from the work request */
    uint32_t status;     /*  8: ibv_wc_status; 0 = success (sl_wc_status_str for text) */
    uint32_t opcode;     /* 12: SL_OP_* of the work request; SL_OP_RECV or SL_OP_RECV_IMM for receives */
    uint32_t byte_len;   /* 16: bytes received (receives) */
    uint32_t imm;        /* 20: immediate data, host byte order, valid when flags & SL_WC_WITH_IMM */
    uint32_t qp_num;     /* 24 */
    uint32_t flags;      /* 28: SL_WC_* */
    uint32_t vendor_err; /* 32 */
    uint32_t reserved;   /* 36 */
} sl_completion;

#define SL_WC_WITH_IMM 1u

const char *sl_wc_status_str(uint32_t status);

/*
 * Creates a CQ of at least `depth` entries with its own completion channel. The channel's fd is
 * non-blocking and can be waited on with poll/epoll (sl_cq_fd, sl_cq_arm, sl_cq_ack_events).
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
 * Send-queue completions retire outstanding work requests of their QP. A completion with an
 * error status (other than a flush) marks its QP as being in the error state.
 */
int sl_cq_poll(sl_handle cq, sl_completion *out, uint32_t max, uint32_t *n);
/*
 * Polls; if nothing is there, arms the CQ, polls again (closing the race with the arm), and then
 * waits up to timeout_ms (-1: no limit) on the channel before polling once more. Sets *n (0 on
 * timeout, and returns SL_OK then: a timeout is not an error here).
 */
int sl_cq_poll_wait(sl_handle cq, sl_completion *out, uint32_t max, uint32_t *n, int timeout_ms);

/* ------------------------------------------------------------------ memory */

#define SL_ACCESS_LOCAL_WRITE 1u   /* = IBV_ACCESS_LOCAL_WRITE */
#define SL_ACCESS_REMOTE_WRITE 2u  /* = IBV_ACCESS_REMOTE_WRITE (needs LOCAL_WRITE) */
#define SL_ACCESS_REMOTE_READ 4u   /* = IBV_ACCESS_REMOTE_READ */

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
    uint32_t rq_depth;    /* outstanding receive work requests; default 64 */
    uint32_t max_sge;     /* per work request, <= SL_WR_MAX_SGE; default 4 */
    uint32_t max_inline;  /* default 0 */
    uint8_t port;         /* default 1 */
    uint8_t gid_index;    /* default 0 */
    uint16_t reserved;
} sl_qp_opts;

void sl_qp_opts_default(sl_qp_opts *opts);

/* Creates an RC QP and moves it to INIT (receives may be posted from then on). */
int sl_qp_create(sl_handle pd, sl_handle send_cq, sl_handle recv_cq, const sl_qp_opts *opts, sl_handle *out);
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
#define SL_WR_INLINE 4u     /* copy the payload into the WQE (total <= max_inline) */

/* Work request: 136 bytes, native byte order. Every send-queue WR is signaled: each one yields
 * exactly one completion, which keeps outstanding-request accounting exact. */
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
 * on the local side). SL_ESTATE unless the QP is in RTS; SL_EFULL if n more would exceed
 * sq_depth outstanding. *posted (may be NULL) is set to how many went to the device (n on
 * success; fewer only after a verbs failure, which returns SL_EVERBS).
 */
int sl_post_send(sl_handle qp, const sl_wr *wrs, uint32_t n, uint32_t *posted);
/* The same for receive work requests (opcode SL_OP_RECV); allowed in INIT, RTR and RTS. */
int sl_post_recv(sl_handle qp, const sl_wr *wrs, uint32_t n, uint32_t *posted);
/* Outstanding (posted, not yet completed) send and receive requests. */
int sl_qp_outstanding(sl_handle qp, uint32_t *send, uint32_t *recv);

#ifdef __cplusplus
}
#endif

#endif /* SHARDLINK_H */
