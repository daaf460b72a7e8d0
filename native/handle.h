/*
 * handle.h - the global handle table (private).
 *
 * A handle is [type:8][generation:24][slot index:32]; 0 is never valid (type 0 is never issued).
 * Slots live in chunks that are allocated once and never move or get freed, so a lookup with any
 * 64-bit value touches only memory that is valid for the life of the process. Each slot has one
 * atomic state word:
 *
 *   bits 40..63 generation   bits 32..39 type   bit 31 live   bit 30 closing   bits 0..29 refs
 *
 * acquire: CAS refs+1 if live, not closing, and generation and type match the handle.
 * release: refs-1.
 * close:   acquire, set closing (one closer wins), wait until the closer's ref is the only one.
 *          Then either abort (clear closing, release) or finish (generation+1, not live, slot
 *          back on the freelist): from then on the old handle is rejected.
 */
#ifndef SL_HANDLE_H
#define SL_HANDLE_H

#include <stdint.h>

#include "shardlink.h"

#define SL_HANDLE_HIDDEN __attribute__((visibility("hidden")))

enum sl_type {
    SL_TYPE_DEVICE = 1,
    SL_TYPE_PD = 2,
    SL_TYPE_CQ = 3,
    SL_TYPE_QP = 4,
    SL_TYPE_MR = 5,
    SL_TYPE_TEST = 6,   /* used by the handle table's own unit test */
    SL_TYPE_SRQ = 7,
    SL_TYPE_MW = 8,
    SL_TYPE_MAX = 8
};

#define SL_HANDLE_CHUNK_BITS 12u                        /* 4096 slots per chunk */
#define SL_HANDLE_CHUNKS 4096u                          /* at most 16 Mi live objects */
#define SL_HANDLE_SLOTS (SL_HANDLE_CHUNKS << SL_HANDLE_CHUNK_BITS)

/* "device", "pd", "cq", "qp", "mr", "srq", "mw" ("unknown" otherwise). */
SL_HANDLE_HIDDEN const char *sl_type_name(unsigned type);

/* Publishes obj under a fresh handle of the given type. SL_ENOMEM when the table is full. */
SL_HANDLE_HIDDEN int sl_handle_alloc(const char *fn, unsigned type, void *obj, sl_handle *out);

/*
 * Takes a reference on the object named by h if it is live and of the expected type; on failure
 * sets the last error ("fn: handle 0x... is a cq, expected a qp" / "... was destroyed or never
 * issued") and returns SL_EBADHANDLE. `what` names the argument in the message (e.g. "send_cq").
 */
SL_HANDLE_HIDDEN int sl_handle_acquire(const char *fn, sl_handle h, unsigned type, void **obj);
SL_HANDLE_HIDDEN void sl_handle_release(sl_handle h);

/* 1 if a destroy has started on h (for long waits that should give way to the destroyer). */
SL_HANDLE_HIDDEN int sl_handle_closing(sl_handle h);

/*
 * Starts a destroy: acquire, mark closing, wait for other calls to leave. SL_EBADHANDLE if h is
 * not live (or another destroy already owns it). busy (may be NULL) says whether the object still
 * has children (returns a status with the error set, or 0); it is asked before closing, so that a
 * refused destroy is not visible to concurrent callers, and again once they have left (a child
 * created meanwhile), in which case the destroy is aborted.
 */
typedef int (*sl_busy_fn)(const char *fn, void *obj);
SL_HANDLE_HIDDEN int sl_handle_close_begin(const char *fn, sl_handle h, unsigned type, void **obj,
                                           sl_busy_fn busy);
/* Gives up a destroy that was begun: the object stays valid. */
SL_HANDLE_HIDDEN void sl_handle_close_abort(sl_handle h);
/* Completes a destroy: the slot is retired (generation bumped) and reusable. */
SL_HANDLE_HIDDEN void sl_handle_close_finish(sl_handle h);

/* Live slots right now (for tests). */
SL_HANDLE_HIDDEN uint32_t sl_handle_live_count(void);

#endif
