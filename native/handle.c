/*
 * handle.c - the global handle table: the shim's only global state. See handle.h.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "handle.h"
#include "internal.h"

#define GEN_SHIFT 40
#define GEN_MASK 0xffffffull
#define TYPE_SHIFT 32
#define LIVE (1ull << 31)
#define CLOSING (1ull << 30)
#define REFS_MASK ((1ull << 30) - 1)

#define CHUNK_SLOTS (1u << SL_HANDLE_CHUNK_BITS)

struct slot {
    _Atomic uint64_t state;
    _Atomic(void *) obj;
    uint32_t next_free;      /* freelist link, under table_lock */
};

struct chunk {
    struct slot slots[CHUNK_SLOTS];
};

static _Atomic(struct chunk *) chunks[SL_HANDLE_CHUNKS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t free_head = UINT32_MAX;   /* under table_lock */
static uint32_t next_unused;              /* under table_lock */
static atomic_uint live_count;

static const char *const type_names[] = {"invalid", "device", "pd", "cq", "qp", "mr", "test", "srq", "mw"};

const char *sl_type_name(unsigned type)
{
    if (type == 0 || type > SL_TYPE_MAX)
        return "unknown";
    return type_names[type];
}

static uint32_t h_index(sl_handle h) { return (uint32_t)h; }
static uint64_t h_gen(sl_handle h) { return (h >> 32) & GEN_MASK; }
static unsigned h_type(sl_handle h) { return (unsigned)(h >> 56); }
static uint64_t s_gen(uint64_t s) { return (s >> GEN_SHIFT) & GEN_MASK; }
static unsigned s_type(uint64_t s) { return (unsigned)((s >> TYPE_SHIFT) & 0xff); }

static struct slot *slot_of(uint32_t index)
{
    struct chunk *c;

    if (index >= SL_HANDLE_SLOTS)
        return NULL;
    c = atomic_load_explicit(&chunks[index >> SL_HANDLE_CHUNK_BITS], memory_order_acquire);
    if (!c)
        return NULL;
    return &c->slots[index & (CHUNK_SLOTS - 1)];
}

int sl_handle_alloc(const char *fn, unsigned type, void *obj, sl_handle *out)
{
    struct slot *s;
    uint32_t index;
    uint64_t st, gen;

    if (pthread_mutex_lock(&table_lock) != 0)
        return sl_fail(SL_ENOMEM, 0, "%s: cannot lock the handle table", fn);
    if (free_head != UINT32_MAX) {
        index = free_head;
        s = slot_of(index);
        free_head = s->next_free;
    } else {
        if (next_unused >= SL_HANDLE_SLOTS) {
            pthread_mutex_unlock(&table_lock);
            return sl_fail(SL_ENOMEM, 0, "%s: the handle table is full (%u live objects)", fn,
                           SL_HANDLE_SLOTS);
        }
        index = next_unused;
        if (!atomic_load_explicit(&chunks[index >> SL_HANDLE_CHUNK_BITS], memory_order_relaxed)) {
            struct chunk *c = calloc(1, sizeof(*c));
            if (!c) {
                pthread_mutex_unlock(&table_lock);
                return sl_fail(SL_ENOMEM, ENOMEM, "%s: cannot grow the handle table", fn);
            }
            atomic_store_explicit(&chunks[index >> SL_HANDLE_CHUNK_BITS], c, memory_order_release);
        }
        next_unused++;
        s = slot_of(index);
    }
    pthread_mutex_unlock(&table_lock);

    st = atomic_load_explicit(&s->state, memory_order_relaxed);
    gen = s_gen(st);
    atomic_store_explicit(&s->obj, obj, memory_order_relaxed);
    atomic_store_explicit(&s->state, (gen << GEN_SHIFT) | ((uint64_t)type << TYPE_SHIFT) | LIVE,
                          memory_order_release);
    atomic_fetch_add(&live_count, 1);
    *out = ((uint64_t)type << 56) | (gen << 32) | index;
    return SL_OK;
}

static int bad(const char *fn, sl_handle h, unsigned type)
{
    if (h == SL_NULL_HANDLE)
        return sl_fail(SL_EBADHANDLE, 0, "%s: handle 0 (SL_NULL_HANDLE) is not a valid %s handle",
                       fn, sl_type_name(type));
    return sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx was destroyed or never issued (expected a %s)",
                   fn, (unsigned long long)h, sl_type_name(type));
}

int sl_handle_acquire(const char *fn, sl_handle h, unsigned type, void **obj)
{
    struct slot *s = h ? slot_of(h_index(h)) : NULL;
    uint64_t st;

    if (!s)
        return bad(fn, h, type);
    st = atomic_load_explicit(&s->state, memory_order_acquire);
    for (;;) {
        if (!(st & LIVE) || s_gen(st) != h_gen(h) || s_type(st) != h_type(h))
            return bad(fn, h, type);
        if (h_type(h) != type)
            return sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx is a %s, expected a %s", fn,
                           (unsigned long long)h, sl_type_name(h_type(h)), sl_type_name(type));
        if (st & CLOSING)
            return sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx was destroyed or never issued "
                           "(its %s is being destroyed)", fn, (unsigned long long)h, sl_type_name(type));
        if ((st & REFS_MASK) == REFS_MASK)
            return sl_fail(SL_EBUSY, 0, "%s: handle 0x%016llx has too many concurrent users", fn,
                           (unsigned long long)h);
        if (atomic_compare_exchange_weak_explicit(&s->state, &st, st + 1, memory_order_acquire,
                                                  memory_order_acquire))
            break;
    }
    *obj = atomic_load_explicit(&s->obj, memory_order_relaxed);
    return SL_OK;
}

void sl_handle_release(sl_handle h)
{
    struct slot *s = slot_of(h_index(h));

    if (s)
        atomic_fetch_sub_explicit(&s->state, 1, memory_order_release);
}

int sl_handle_closing(sl_handle h)
{
    struct slot *s = slot_of(h_index(h));
    uint64_t st;

    if (!s)
        return 1;
    st = atomic_load_explicit(&s->state, memory_order_acquire);
    return (st & CLOSING) || !(st & LIVE) || s_gen(st) != h_gen(h);
}

static void backoff(unsigned *spins)
{
    if (++*spins < 64) {
        sched_yield();
    } else {
        struct timespec ts = {0, 100000}; /* 100 us */
        nanosleep(&ts, NULL);
    }
}

int sl_handle_close_begin(const char *fn, sl_handle h, unsigned type, void **obj, sl_busy_fn busy)
{
    struct slot *s;
    uint64_t st;
    unsigned spins = 0;
    int rc = sl_handle_acquire(fn, h, type, obj);

    if (rc)
        return rc;
    if (busy && (rc = busy(fn, *obj)) != 0) {
        sl_handle_release(h);
        return rc;
    }
    s = slot_of(h_index(h));
    st = atomic_load_explicit(&s->state, memory_order_acquire);
    do {
        if (st & CLOSING) {
            sl_handle_release(h);
            return sl_fail(SL_EBADHANDLE, 0, "%s: handle 0x%016llx was destroyed or never issued "
                           "(another thread is destroying it)", fn, (unsigned long long)h);
        }
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &st, st | CLOSING,
                                                    memory_order_acq_rel, memory_order_acquire));
    /* New acquires now fail; wait for the calls already inside to leave. */
    while ((atomic_load_explicit(&s->state, memory_order_acquire) & REFS_MASK) > 1)
        backoff(&spins);
    if (busy && (rc = busy(fn, *obj)) != 0) {
        sl_handle_close_abort(h);
        return rc;
    }
    return SL_OK;
}

void sl_handle_close_abort(sl_handle h)
{
    struct slot *s = slot_of(h_index(h));
    uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);

    while (!atomic_compare_exchange_weak_explicit(&s->state, &st, (st & ~CLOSING) - 1,
                                                  memory_order_acq_rel, memory_order_acquire))
        ;
}

void sl_handle_close_finish(sl_handle h)
{
    uint32_t index = h_index(h);
    struct slot *s = slot_of(index);
    uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);

    atomic_store_explicit(&s->obj, NULL, memory_order_relaxed);
    atomic_store_explicit(&s->state, ((s_gen(st) + 1) & GEN_MASK) << GEN_SHIFT, memory_order_release);
    atomic_fetch_sub(&live_count, 1);
    /* pthread_mutex_lock on a valid, default mutex does not fail; if it ever did, the slot leaks. */
    if (pthread_mutex_lock(&table_lock) != 0)
        return;
    s->next_free = free_head;
    free_head = index;
    pthread_mutex_unlock(&table_lock);
}

uint32_t sl_handle_live_count(void)
{
    return atomic_load(&live_count);
}
