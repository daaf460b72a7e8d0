/*
 * test_handles - the handle table on its own (native/handle.c): generations, types, stale handles,
 * and a destroy racing with many concurrent users. Needs no device.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "t.h"
#include "handle.h"

#define N 10000          /* > 2 chunks of 4096 slots */
#define RACE_OBJS 64
#define RACE_THREADS 4
#define ALIVE 0xa11ce
#define DEAD 0xdead

static void basics(void)
{
    static sl_handle hs[N];
    static int objs[N];
    void *p;

    for (int i = 0; i < N; i++) {
        objs[i] = i;
        OK(sl_handle_alloc("t", SL_TYPE_TEST, &objs[i], &hs[i]));
        CHECK(hs[i] != 0);
    }
    CHECK(sl_handle_live_count() == N);
    for (int i = 0; i < N; i++) {
        OK(sl_handle_acquire("t", hs[i], SL_TYPE_TEST, &p));
        CHECK(p == &objs[i]);
        sl_handle_release(hs[i]);
        if (i > 0)
            CHECK(hs[i] != hs[i - 1]);
    }
    EXPECT_RC(sl_handle_acquire("t", hs[7], SL_TYPE_MR, &p), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("is a test, expected a mr");

    /* a destroy that is begun and aborted leaves the handle valid */
    OK(sl_handle_close_begin("t", hs[5], SL_TYPE_TEST, &p, NULL));
    EXPECT_RC(sl_handle_acquire("t", hs[5], SL_TYPE_TEST, &p), SL_EBADHANDLE); /* closing */
    EXPECT_RC(sl_handle_close_begin("t", hs[5], SL_TYPE_TEST, &p, NULL), SL_EBADHANDLE); /* one closer */
    sl_handle_close_abort(hs[5]);
    OK(sl_handle_acquire("t", hs[5], SL_TYPE_TEST, &p));
    sl_handle_release(hs[5]);

    /* destroy all; the slots are reused with a new generation, and old handles stay dead */
    for (int i = 0; i < N; i++) {
        OK(sl_handle_close_begin("t", hs[i], SL_TYPE_TEST, &p, NULL));
        sl_handle_close_finish(hs[i]);
    }
    CHECK(sl_handle_live_count() == 0);
    for (int i = 0; i < N; i++) {
        sl_handle h;
        EXPECT_RC(sl_handle_acquire("t", hs[i], SL_TYPE_TEST, &p), SL_EBADHANDLE);
        OK(sl_handle_alloc("t", SL_TYPE_TEST, &objs[i], &h));
        CHECK((uint32_t)h < N);                /* a reused slot */
        CHECK(h != hs[(uint32_t)h]);           /* ...under a new generation */
        EXPECT_RC(sl_handle_acquire("t", hs[(uint32_t)h], SL_TYPE_TEST, &p), SL_EBADHANDLE);
        EXPECT_ERR_TEXT("was destroyed or never issued");
        OK(sl_handle_close_begin("t", h, SL_TYPE_TEST, &p, NULL));
        sl_handle_close_finish(h);
    }
    CHECK(sl_handle_live_count() == 0);
}

struct race_obj {
    atomic_int magic;
};

static struct race_obj robjs[RACE_OBJS];
static sl_handle rhs[RACE_OBJS];
static atomic_int stop;
static atomic_long uses, misuses;

static void *user(void *arg)
{
    int dead[RACE_OBJS] = {0};
    unsigned seed = (unsigned)(uintptr_t)arg;

    while (!atomic_load(&stop)) {
        int i = (int)(rand_r(&seed) % RACE_OBJS);
        void *p;
        int rc = sl_handle_acquire("user", rhs[i], SL_TYPE_TEST, &p);
        if (rc == SL_OK) {
            struct race_obj *o = p;
            if (dead[i] || o != &robjs[i] || atomic_load(&o->magic) != ALIVE)
                atomic_fetch_add(&misuses, 1);
            sched_yield();
            if (atomic_load(&o->magic) != ALIVE)  /* the destroyer must wait for us */
                atomic_fetch_add(&misuses, 1);
            sl_handle_release(rhs[i]);
            atomic_fetch_add(&uses, 1);
        } else if (rc == SL_EBADHANDLE) {
            /* once a destroy finished it stays destroyed (closing may still abort: not used here) */
            if (sl_handle_closing(rhs[i]) && atomic_load(&robjs[i].magic) == DEAD)
                dead[i] = 1;
        } else {
            atomic_fetch_add(&misuses, 1);
        }
    }
    return NULL;
}

static void race(void)
{
    pthread_t th[RACE_THREADS];
    void *p;

    for (int i = 0; i < RACE_OBJS; i++) {
        atomic_store(&robjs[i].magic, ALIVE);
        OK(sl_handle_alloc("t", SL_TYPE_TEST, &robjs[i], &rhs[i]));
    }
    for (int t = 0; t < RACE_THREADS; t++)
        CHECK(pthread_create(&th[t], NULL, user, (void *)(uintptr_t)(t + 1)) == 0);
    for (int i = 0; i < RACE_OBJS; i++) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        OK(sl_handle_close_begin("destroyer", rhs[i], SL_TYPE_TEST, &p, NULL));
        CHECK(p == &robjs[i]);
        atomic_store(&robjs[i].magic, DEAD);   /* "free": nobody may be using it now */
        sl_handle_close_finish(rhs[i]);
        EXPECT_RC(sl_handle_acquire("t", rhs[i], SL_TYPE_TEST, &p), SL_EBADHANDLE);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < RACE_THREADS; t++)
        CHECK(pthread_join(th[t], NULL) == 0);
    printf("race: %ld successful uses, %ld misuses\n", atomic_load(&uses), atomic_load(&misuses));
    CHECK(atomic_load(&misuses) == 0);
    CHECK(atomic_load(&uses) > 0);
    CHECK(sl_handle_live_count() == 0);
}

int main(void)
{
    basics();
    race();
    printf("test_handles: OK\n");
    return 0;
}
