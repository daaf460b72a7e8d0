/*
 * t.h - tiny assertion and setup helpers shared by the native tests.
 *
 * Every failed assertion prints file:line, the expression, and the shim's last error, then exits 1.
 * Tests that need a device exit 77 (ctest: skipped) when none can be opened, unless
 * SHARDLINK_REQUIRE_RDMA=1, in which case they fail with the reason.
 */
#ifndef T_H
#define T_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardlink.h"

#define T_SKIP 77

void t_fail(const char *file, int line, const char *what, int rc) __attribute__((noreturn));
void t_failf(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));

/* A condition. */
#define CHECK(cond) do { if (!(cond)) t_fail(__FILE__, __LINE__, #cond, 1); } while (0)
/* A condition, with a printf-style explanation. */
#define CHECKF(cond, ...) do { if (!(cond)) t_failf(__FILE__, __LINE__, __VA_ARGS__); } while (0)
/* A shim call that must return SL_OK. */
#define OK(call) do { int rc_ = (call); if (rc_ != SL_OK) t_fail(__FILE__, __LINE__, #call, rc_); } while (0)
/* A shim call that must fail with `want`; on success of that check the error text is in sl_last_error(). */
#define EXPECT_RC(call, want) do { int rc_ = (call); if (rc_ != (want)) \
    t_failf(__FILE__, __LINE__, "%s returned %s (%d), expected %s", #call, sl_status_name(rc_), rc_, \
            sl_status_name(want)); } while (0)
/* The last error text contains s. */
#define EXPECT_ERR_TEXT(s) CHECKF(strstr(sl_last_error(), (s)) != NULL, \
    "last error \"%s\" does not contain \"%s\"", sl_last_error(), (s))

/* Prints the reason; exits 77, or 1 when SHARDLINK_REQUIRE_RDMA=1. */
void t_no_device(const char *why) __attribute__((noreturn));
/* The device name in env `var` (default `def`). */
const char *t_dev_name(const char *var, const char *def);
/* Opens a device by name or skips/fails the test. */
sl_handle t_open(const char *name);
/* Waits until port 1 of dev is ACTIVE and GID 0 is not zero, for at most timeout_ms. 0 if so. */
int t_wait_port(sl_handle dev, int timeout_ms);

/* One end of an RC connection. */
typedef struct t_end {
    sl_handle dev, pd, cq, qp;
} t_end;

/* PD + one CQ (for send and recv) + QP on dev; qo NULL = defaults. cq_depth 0 = sq+rq depth. */
void t_end_init(t_end *e, sl_handle dev, const sl_qp_opts *qo, uint32_t cq_depth);
/* Exchanges endpoint blobs and connects both ends (co NULL = defaults). */
void t_connect(t_end *a, t_end *b, const sl_connect_opts *co);
void t_end_fini(t_end *e);

/* A shim-allocated, registered buffer. */
typedef struct t_buf {
    uint8_t *p;
    uint64_t len;
    sl_handle mr;
    sl_mr_info info;
} t_buf;

void t_buf_init(t_buf *b, sl_handle pd, uint64_t len, uint32_t access);
void t_buf_fini(t_buf *b);
/* Deterministic pattern for (seed, offset). */
void t_fill(uint8_t *p, uint64_t len, uint32_t seed);
/* Index of the first byte that differs from the pattern, or -1. */
int64_t t_check(const uint8_t *p, uint64_t len, uint32_t seed);

/* A work request over one SGE. */
sl_wr t_wr(uint64_t wr_id, uint32_t opcode, const t_buf *b, uint64_t off, uint32_t len);

/* Collects exactly `want` completions from cq (sl_cq_poll_wait) within timeout_ms, or fails. */
#define COLLECT(cq, out, want, timeout_ms) t_collect(__FILE__, __LINE__, (cq), (out), (want), (timeout_ms))
void t_collect(const char *file, int line, sl_handle cq, sl_completion *out, uint32_t want, int timeout_ms);

/* Milliseconds on the monotonic clock. */
int64_t t_now_ms(void);

#endif
