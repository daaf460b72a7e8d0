/*
 * test_concurrency - destroys race with calls on the same handles (rxe0). Threads hammer
 * sl_qp_state / sl_qp_outstanding on a QP, sl_cq_poll on a CQ, and block in sl_cq_poll_wait(-1),
 * while the main thread refuses (EBUSY) and then performs the destroys. Before the destroy every
 * call succeeds; after it every call fails with SL_EBADHANDLE; nothing crashes, nothing hangs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "t.h"

#define ROUNDS 20

struct hammer {
    sl_handle h;
    int kind;               /* 0: qp state/outstanding, 1: cq poll, 2: cq poll_wait(-1) */
    atomic_int destroyed;   /* set by main once the destroy returned */
    atomic_int started;
    atomic_long ok, bad;
    long after_ok, other;
    int other_rc;
};

static void *hammer(void *arg)
{
    struct hammer *hm = arg;
    sl_completion c[8];
    uint32_t a, b, n;

    atomic_store(&hm->started, 1);
    for (;;) {
        int was_destroyed = atomic_load(&hm->destroyed);
        int rc;
        if (hm->kind == 0) {
            rc = sl_qp_state(hm->h, &a);
            if (rc == SL_OK)
                rc = sl_qp_outstanding(hm->h, &a, &b);
        } else if (hm->kind == 1) {
            rc = sl_cq_poll(hm->h, c, 8, &n);
        } else {
            rc = sl_cq_poll_wait(hm->h, c, 8, &n, -1);
        }
        if (rc == SL_OK) {
            atomic_fetch_add(&hm->ok, 1);
            if (was_destroyed)
                hm->after_ok++;
        } else if (rc == SL_EBADHANDLE) {
            atomic_fetch_add(&hm->bad, 1);
            if (!strstr(sl_last_error(), "destroyed")) {
                hm->other++;
                hm->other_rc = rc;
            }
            return NULL;   /* once bad, always bad: checked by main afterwards */
        } else {
            hm->other++;
            hm->other_rc = rc;
            return NULL;
        }
    }
}

static void start(pthread_t *t, struct hammer *hm, sl_handle h, int kind)
{
    memset(hm, 0, sizeof(*hm));
    hm->h = h;
    hm->kind = kind;
    CHECK(pthread_create(t, NULL, hammer, hm) == 0);
}

static void check(struct hammer *hm, const char *what)
{
    CHECKF(hm->other == 0, "%s: a call failed with %s, not SL_EBADHANDLE", what, sl_status_name(hm->other_rc));
    CHECKF(hm->after_ok == 0, "%s: %ld calls succeeded after the destroy returned", what, hm->after_ok);
    CHECKF(atomic_load(&hm->bad) == 1, "%s: never saw SL_EBADHANDLE", what);
}

int main(void)
{
    sl_handle dev = t_open(t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0"));
    long qp_calls = 0, cq_calls = 0;

    for (int r = 0; r < ROUNDS; r++) {
        struct hammer hq, hc, hw;
        pthread_t tq, tc, tw;
        sl_handle pd, cq, qp;
        sl_completion c[2];
        uint32_t st, n;

        OK(sl_pd_create(dev, &pd));
        OK(sl_cq_create(dev, 256, &cq));
        OK(sl_qp_create(pd, cq, cq, NULL, &qp));
        start(&tq, &hq, qp, 0);
        start(&tc, &hc, cq, 1);
        start(&tw, &hw, cq, 2);
        /* let every hammer get going (under emulation + ASan threads start slowly) */
        {
            int64_t end = t_now_ms() + 30000;
            while ((atomic_load(&hq.ok) < 50 || atomic_load(&hc.ok) < 50 || !atomic_load(&hw.started)) &&
                   t_now_ms() < end)
                usleep(1000);
        }
        usleep((unsigned)(r % 5) * 3000);

        /* refused destroys change nothing, even under load */
        EXPECT_RC(sl_cq_destroy(cq), SL_EBUSY);
        EXPECT_RC(sl_pd_destroy(pd), SL_EBUSY);
        usleep(5000);
        CHECKF(atomic_load(&hc.bad) == 0 && atomic_load(&hw.bad) == 0 && atomic_load(&hq.bad) == 0,
               "a refused destroy was visible to other callers");

        OK(sl_qp_destroy(qp));
        atomic_store(&hq.destroyed, 1);
        CHECK(pthread_join(tq, NULL) == 0);
        check(&hq, "qp state/outstanding");
        EXPECT_RC(sl_qp_state(qp, &st), SL_EBADHANDLE);

        OK(sl_cq_destroy(cq));       /* waits for the poller and the blocked poll_wait */
        atomic_store(&hc.destroyed, 1);
        atomic_store(&hw.destroyed, 1);
        CHECK(pthread_join(tc, NULL) == 0);
        CHECK(pthread_join(tw, NULL) == 0);
        check(&hc, "cq poll");
        check(&hw, "cq poll_wait(-1)");
        EXPECT_RC(sl_cq_poll(cq, c, 2, &n), SL_EBADHANDLE);
        OK(sl_pd_destroy(pd));
        qp_calls += atomic_load(&hq.ok);
        cq_calls += atomic_load(&hc.ok);
        CHECKF(atomic_load(&hq.ok) >= 50 && atomic_load(&hc.ok) >= 50,
               "round %d: the hammers made too few successful calls before the destroy", r);
    }
    printf("%d rounds: %ld qp calls, %ld cq polls before the destroys\n", ROUNDS, qp_calls, cq_calls);
    OK(sl_device_close(dev));
    printf("test_concurrency: OK\n");
    return 0;
}
