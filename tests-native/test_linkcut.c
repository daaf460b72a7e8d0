/*
 * test_linkcut - cut the veth link under a stream of WRITEs (rxea -> rxeb, ACK timeout 16 = ~268 ms,
 * retry_cnt 2) and expect a retry-exceeded completion (IBV_WC_RETRY_EXC_ERR, 12) within 30 s;
 * the QP reports ERR and the rest of its work flushes. Then the same with the default ACK timeout
 * (14) and retry_cnt 6 (the shim's default), bounded at 120 s, to measure how long a dead link takes
 * to notice. Then, as an observation only, retry_cnt 7: rxe's completer treats 7 as "retry forever"
 * (like rnr_retry 7), so no error is expected; the link comes back and what the stalled WRITEs do
 * is printed. The link is always restored (atexit too),
 * and the test waits for both ports to be ACTIVE with their GIDs back, so later tests are not
 * affected; then a fresh pair across the restored link must work.
 */
#include <signal.h>
#include <unistd.h>

#include "t.h"

#define DEPTH 16u
#define SLOT 4096u
#define BOUND_MS 30000

static char link_name[64];
static int link_down;

static int set_link(const char *state)
{
    char cmd[160];
    int rc;

    snprintf(cmd, sizeof(cmd), "ip link set %s %s", link_name, state);
    rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "'%s' exited with %d\n", cmd, rc);
    else
        link_down = strcmp(state, "down") == 0;
    return rc;
}

/* Port state straight from sysfs (works whatever state the shim is in). */
static int sysfs_active(const char *dev)
{
    char path[256], buf[64] = "";
    FILE *f;

    snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/state", dev);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    fclose(f);
    return strstr(buf, "ACTIVE") != NULL;
}

/* atexit: on any exit path, bring the link back and wait (bounded) for both ports. */
static void restore_link(void)
{
    const char *na = t_dev_name("SHARDLINK_RXE_A", "rxea"), *nb = t_dev_name("SHARDLINK_RXE_B", "rxeb");
    int64_t end;

    if (!link_down)
        return;
    fprintf(stderr, "restoring link %s\n", link_name);
    if (set_link("up") != 0)
        return;
    end = t_now_ms() + 30000;
    while (!(sysfs_active(na) && sysfs_active(nb)) && t_now_ms() < end)
        usleep(100 * 1000);
}

static void on_signal(int sig)
{
    restore_link();
    signal(sig, SIG_DFL);
    raise(sig);
}

/*
 * Streams WRITEs rxea -> rxeb over a pair connected with co and cuts the link after 200 succeeded.
 * expect_fail: asserts retry exceeded (12) within bound_ms, then the flushes and SL_QP_ERR.
 * Otherwise (observation only): reports whether any error arrived within bound_ms, restores the
 * link, and reports what became of the outstanding WRITEs within 60 s.
 * Always restores the link and waits for both ports.
 */
static void cut_link(sl_handle da, sl_handle db, const sl_connect_opts *co, int expect_fail, int bound_ms)
{
    sl_qp_opts qo;
    sl_completion c[DEPTH];
    sl_wr w[DEPTH];
    t_end a, b;
    t_buf src, dst;
    uint32_t posted = 0, done = 0, ok_before = 0, flushed = 0, st, so, ro;
    uint32_t first_err = 0;
    int64_t t_cut = 0, t_err = 0, t_up = 0;
    uint32_t done_at_up = 0, out_at_up = 0, ok_after_up = 0;

    sl_qp_opts_default(&qo);
    qo.sq_depth = DEPTH;
    qo.rq_depth = 4;
    t_end_init(&a, da, &qo, 0);
    t_end_init(&b, db, &qo, 0);
    t_connect(&a, &b, co);
    t_buf_init(&src, a.pd, DEPTH * SLOT, 0);
    t_buf_init(&dst, b.pd, DEPTH * SLOT, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    t_fill(src.p, src.len, 5);

    for (;;) {
        uint32_t n = 0, k = 0;
        OK(sl_qp_state(a.qp, &st));
        while (st == SL_QP_RTS && first_err == 0 && !t_up && k < DEPTH - (posted - done)) {
            uint32_t s = (posted + k) % DEPTH;
            w[k] = t_wr(posted + k, SL_OP_WRITE, &src, (uint64_t)s * SLOT, SLOT);
            w[k].remote_addr = dst.info.addr + (uint64_t)s * SLOT;
            w[k].rkey = dst.info.rkey;
            k++;
        }
        if (k) {
            int rc = sl_post_send(a.qp, w, k, NULL);
            /* the QP may go to ERR between the state query and the post */
            CHECKF(rc == SL_OK || rc == SL_ESTATE, "sl_post_send: %s", sl_status_name(rc));
            if (rc == SL_OK)
                posted += k;
        }
        OK(sl_cq_poll_wait(a.cq, c, DEPTH, &n, 1000));
        for (uint32_t i = 0; i < n; i++) {
            if (c[i].status == 0) {
                CHECKF(first_err == 0, "a success after the error completion (wr_id %llu)",
                       (unsigned long long)c[i].wr_id);
                ok_before++;
                ok_after_up += t_up != 0;
            } else if (first_err == 0 && !t_up) {
                first_err = c[i].status;
                t_err = t_now_ms();
                printf("first error completion: wr_id %llu status %u (%s) opcode %u vendor_err 0x%x, "
                       "%lld ms after the cut\n", (unsigned long long)c[i].wr_id, c[i].status,
                       sl_wc_status_str(c[i].status), c[i].opcode, c[i].vendor_err,
                       (long long)(t_err - t_cut));
                CHECK(c[i].opcode == SL_OP_WRITE);
            } else if (t_up || !expect_fail) {
                printf("after link up: wr_id %llu status %u (%s)\n", (unsigned long long)c[i].wr_id,
                       c[i].status, sl_wc_status_str(c[i].status));
            } else {
                CHECKF(c[i].status == 5, "after the first error: status %u (%s), expected a flush",
                       c[i].status, sl_wc_status_str(c[i].status));
                flushed++;
            }
        }
        done += n;
        if (!t_cut && ok_before >= 200) {
            printf("%u WRITEs completed; cutting %s\n", ok_before, link_name);
            fflush(stdout);
            CHECKF(set_link("down") == 0 && link_down, "could not set %s down", link_name);
            t_cut = t_now_ms();
        }
        if (t_cut && expect_fail) {
            CHECKF(first_err || t_now_ms() - t_cut < bound_ms,
                   "no error completion %d ms after cutting the link (%u outstanding)", bound_ms, posted - done);
        } else if (t_cut) {
            if (!t_up && t_now_ms() - t_cut >= bound_ms) {
                printf("timeout %u retry_cnt %u: %s %d ms after the cut (%u outstanding); link up again\n",
                       co->timeout, co->retry_cnt, first_err ? "an error completion" : "NO error completion",
                       bound_ms, posted - done);
                fflush(stdout);
                CHECKF(set_link("up") == 0 && !link_down, "could not set %s up", link_name);
                t_up = t_now_ms();
                done_at_up = done;
                out_at_up = posted - done;
            }
            if (t_up && (done == posted || t_now_ms() - t_up > 60000)) {
                printf("%lld ms after link up: %u of the %u stalled WRITEs completed, %u of them successfully; "
                       "QP state %u\n", (long long)(t_now_ms() - t_up), done - done_at_up, out_at_up,
                       ok_after_up, st);
                break;
            }
        } else {
            CHECKF(first_err == 0, "error completion status %u (%s) before the link was cut", first_err,
                   sl_wc_status_str(first_err));
        }
        if (first_err && done == posted && expect_fail)
            break;
    }
    if (!expect_fail)
        goto restore;
    CHECKF(first_err == 12, "the link cut produced status %u (%s), expected 12 (retry exceeded)", first_err,
           sl_wc_status_str(first_err));
    OK(sl_qp_state(a.qp, &st));
    CHECK(st == SL_QP_ERR);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0 && ro == 0);
    printf("timeout %u retry_cnt %u: retry exceeded %lld ms after the cut; %u flushed\n", co->timeout,
           co->retry_cnt, (long long)(t_err - t_cut), flushed);

    CHECKF(set_link("up") == 0 && !link_down, "could not set %s up", link_name);
    t_up = t_now_ms();
restore:
    CHECKF(t_wait_port(da, 60000) == 0 && t_wait_port(db, 60000) == 0,
           "ports not ACTIVE with a GID 60 s after the link came back");
    printf("ports ACTIVE again %lld ms after link up\n", (long long)(t_now_ms() - t_up));

    t_buf_fini(&src);
    t_buf_fini(&dst);
    t_end_fini(&a);
    t_end_fini(&b);
}

int main(void)
{
    sl_handle da = t_open(t_dev_name("SHARDLINK_RXE_A", "rxea"));
    sl_handle db = t_open(t_dev_name("SHARDLINK_RXE_B", "rxeb"));
    sl_connect_opts co;
    sl_qp_opts qo;
    sl_completion c[1];
    sl_wr w[1];
    t_end a, b;
    t_buf src, dst;

    snprintf(link_name, sizeof(link_name), "%s", t_dev_name("SHARDLINK_RXE_CUT_LINK", "vb"));
    atexit(restore_link);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGABRT, on_signal);

    /* few retries: 2 retries of a 4.096 us * 2^16 = ~268 ms ACK timeout. (An ACK timeout of ~4 ms, tried
     * first, killed the queue pair before the cut when the host was busy: a guest vCPU under emulation can
     * be off its core for longer than 3 x 4 ms.) */
    sl_connect_opts_default(&co);
    co.timeout = 16;
    co.retry_cnt = 2;
    cut_link(da, db, &co, 1, BOUND_MS);
    /* the default ACK timeout (14 = ~67 ms) with 6 retries: how long a dead link takes to notice */
    sl_connect_opts_default(&co);
    co.retry_cnt = 6;
    cut_link(da, db, &co, 1, 4 * BOUND_MS);
    /* observation: rxe treats retry_cnt 7 (perftest's value) as "retry forever" */
    sl_connect_opts_default(&co);
    co.retry_cnt = 7;
    cut_link(da, db, &co, 0, 15000);

    sl_qp_opts_default(&qo);
    /* a fresh pair over the restored link works */
    t_end_init(&a, da, &qo, 0);
    t_end_init(&b, db, &qo, 0);
    t_connect(&a, &b, NULL);
    t_buf_init(&src, a.pd, SLOT, 0);
    t_buf_init(&dst, b.pd, SLOT, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    t_fill(src.p, SLOT, 6);
    w[0] = t_wr(777, SL_OP_WRITE, &src, 0, SLOT);
    w[0].remote_addr = dst.info.addr;
    w[0].rkey = dst.info.rkey;
    OK(sl_post_send(a.qp, w, 1, NULL));
    COLLECT(a.cq, c, 1, 60000);
    CHECKF(c[0].status == 0, "WRITE after restoring the link: status %u (%s)", c[0].status,
           sl_wc_status_str(c[0].status));
    CHECK(t_check(dst.p, SLOT, 6) < 0);
    printf("WRITE over the restored link: ok\n");
    t_buf_fini(&src);
    t_buf_fini(&dst);
    t_end_fini(&a);
    t_end_fini(&b);
    OK(sl_device_close(da));
    OK(sl_device_close(db));
    printf("test_linkcut: OK\n");
    return 0;
}
