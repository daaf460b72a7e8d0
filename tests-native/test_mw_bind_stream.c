/*
 * test_mw_bind_stream - memory-window binds on a queue pair that streams WRITE WITH IMMEDIATEs, under
 * packet loss: every bind completes, every WRITE completes, nothing stalls.
 *
 * The shape of a node that serves blob reads and receives a copy at the same time: its queue pair S -> R
 * streams read answers (WRITE WITH IMMEDIATE into R's reply ring, every request signaled, up to a full
 * send queue in flight), and every few answers a copy ring is granted to R: a type-2 window on S's ring
 * region is bound through that same queue pair (older windows are revoked, sl_mw_dealloc). R consumes
 * the immediates (reposting receives) and writes through each window once its bind completed; S checks
 * those bytes. netem drops packets on the veth end S sends from, so rxe's requester retries (go-back-N).
 *
 * Why: rxe (6.1, drivers/infiniband/sw/rxe) executes a bind when it reaches it in the send queue and
 * marks it done, but it completes (leaves the queue) only after every earlier request was ACKed. A
 * retry in between rewinds the requester to the oldest uncompleted request (req_retry leaves the done
 * bind as it is) and the requester executes the bind a second time; that fails (the window's rkey
 * changed with the first bind), which puts the requester in its error state without moving the QP to
 * ERR. A completer retry then sets need_retry, which only a requester in a good state clears, and the
 * completer returns early while it is set: no completion ever again, QP still RTS, no retry-exceeded.
 * IBV_SEND_FENCE does not help (rxe 6.1 fences only behind READs and atomics). What does: a bind goes
 * on an idle send queue (everything earlier completed) and nothing is posted behind it until its own
 * completion, so no retry can rewind over it. The RDMA data path follows that rule (SendQueue); this
 * test follows it and fails (stall or error completion) if it does not hold on rxe.
 *
 * Env: SHARDLINK_MWS_BINDS (default 600), SHARDLINK_MWS_EVERY (answers per bind, default 8; 0: none),
 * SHARDLINK_MWS_NETEM (netem options on the sender's veth end, default "loss 1%"; "none" for none),
 * SHARDLINK_MWS_LINK (default va, the netdev under rxea), SHARDLINK_MWS_UNSAFE=1 (bind among in-flight
 * WRITEs, the pattern that stalls: a demonstration, expected to fail).
 */
#include <unistd.h>

#include "t.h"

#define RING (1024u * 1024)     /* R's reply ring */
#define SLOT (64u * 1024)       /* one answer's slot in it */
#define CRING (256u * 1024)     /* S's copy ring (windows are bound to it) */
#define PROBE 512u              /* bytes R writes through each window */
#define KEEP 4                  /* bound windows kept before the oldest is revoked */
#define MAXW 64
#define BIND_ID (1ull << 62)
#define PROBE_ID (1ull << 61)
#define STALL_MS 30000

static char netem_dev[32];

static void netem(const char *opts)
{
    char cmd[256];
    int rc;

    if (opts)
        snprintf(cmd, sizeof(cmd), "tc qdisc replace dev %s root netem %s", netem_dev, opts);
    else
        snprintf(cmd, sizeof(cmd), "tc qdisc del dev %s root 2>/dev/null", netem_dev);
    rc = system(cmd);
    if (opts)
        CHECKF(rc == 0, "\"%s\" failed (%d)", cmd, rc);
}

static void netem_off(void) { netem(NULL); }

static unsigned long counter(const char *dev, const char *name)
{
    char path[256];
    unsigned long v = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%lu", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

static const char *const COUNTERS[] = {"completer_retry_err", "rcvd_seq_err", "out_of_seq_request",
                                       "duplicate_request", "retry_exceeded_err"};
#define NCOUNTERS (sizeof(COUNTERS) / sizeof(COUNTERS[0]))

static void counters(const char *dev, unsigned long *v)
{
    for (size_t i = 0; i < NCOUNTERS; i++)
        v[i] = counter(dev, COUNTERS[i]);
}

static long envl(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

typedef struct win {
    sl_handle mw;
    uint32_t rkey;
    uint64_t index;
    int bound;
} win;

int main(void)
{
    const char *dev_s = t_dev_name("SHARDLINK_RXE_A", "rxea");
    sl_handle ds = t_open(dev_s), dr = t_open(t_dev_name("SHARDLINK_RXE_B", "rxeb"));
    const char *nopts = getenv("SHARDLINK_MWS_NETEM");
    long binds = envl("SHARDLINK_MWS_BINDS", 600), every = envl("SHARDLINK_MWS_EVERY", 8);
    uint64_t total;
    unsigned long c0[NCOUNTERS], c1[NCOUNTERS];
    sl_qp_opts qo;
    t_end s, r;
    t_buf ring, src, cring, probe;
    win w[MAXW];
    uint32_t nw = 0, sq_out = 0, depth;
    uint64_t writes = 0, wdone = 0, bposted = 0, bdone = 0, imms = 0, probes = 0, revoked = 0;
    int probing = 0, bind_inflight = 0, unsafe = getenv("SHARDLINK_MWS_UNSAFE") != NULL;
    win probe_w = {0};
    int64_t start, last_progress;

    snprintf(netem_dev, sizeof(netem_dev), "%s", t_dev_name("SHARDLINK_MWS_LINK", "va"));
    if (!nopts)
        nopts = "loss 1%";
    if (every <= 0)
        binds = 0; /* a control run: the same stream, no binds */
    total = (uint64_t)envl("SHARDLINK_MWS_WRITES", binds * (every > 0 ? every : 1));
    sl_qp_opts_default(&qo);
    depth = qo.sq_depth;
    t_end_init(&s, ds, &qo, 0);
    t_end_init(&r, dr, &qo, 0);
    t_connect(&s, &r, NULL);
    t_buf_init(&ring, r.pd, RING, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    t_buf_init(&src, s.pd, SLOT, SL_ACCESS_LOCAL_WRITE);
    t_buf_init(&cring, s.pd, CRING, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_MW_BIND);
    t_buf_init(&probe, r.pd, PROBE, SL_ACCESS_LOCAL_WRITE);
    t_fill(src.p, SLOT, 7);
    for (uint32_t i = 0; i < qo.rq_depth; i++) {
        sl_wr rw;
        memset(&rw, 0, sizeof(rw));
        rw.wr_id = i;
        rw.opcode = SL_OP_RECV;
        OK(sl_post_recv(r.qp, &rw, 1, NULL));
    }
    if (strcmp(nopts, "none") != 0) {
        atexit(netem_off);
        netem(nopts);
    }
    counters(dev_s, c0);
    printf("streaming WRITE_IMMs %s -> peer, a window bind every %ld, %ld binds, netem on %s: %s; binds %s\n",
           dev_s, every, binds, netem_dev, nopts,
           unsafe ? "UNSAFE (among in-flight WRITEs)" : "on an idle send queue, nothing after until done");
    start = last_progress = t_now_ms();

    while (bdone < (uint64_t)binds || wdone < total || sq_out > 0 || probing) {
        sl_completion cs[32];
        uint32_t n;

        /* S: fill the send queue like the read path does (one slot kept free, as SendQueue's control frames) */
        while ((bposted < (uint64_t)binds || writes < total) && sq_out + 1 < depth) {
            if (bind_inflight && !unsafe)
                break; /* nothing goes after a bind until it completed */
            if (every > 0 && writes > 0 && writes % (uint64_t)every == 0 && bposted < writes / (uint64_t)every
                && bposted < (uint64_t)binds) {
                win *x;
                if (nw == MAXW || (sq_out > 0 && !unsafe))
                    break; /* a bind goes on an idle send queue only */
                x = &w[nw];
                memset(x, 0, sizeof(*x));
                OK(sl_mw_alloc(s.pd, &x->mw));
                OK(sl_mw_rkey(x->mw, &x->rkey));
                x->index = bposted;
                OK(sl_mw_bind(s.qp, x->mw, cring.mr, 0, CRING, SL_ACCESS_REMOTE_WRITE, BIND_ID | bposted));
                nw++;
                bposted++;
                sq_out++;
                bind_inflight = 1;
                continue;
            }
            {
                uint32_t len = writes % 4 == 3 ? 32u * 1024 : 4096u;
                sl_wr wr = t_wr(writes, SL_OP_WRITE_IMM, &src, 0, len);
                wr.remote_addr = ring.info.addr + (writes % (RING / SLOT)) * SLOT;
                wr.rkey = ring.info.rkey;
                wr.imm = (uint32_t)writes;
                OK(sl_post_send(s.qp, &wr, 1, NULL));
                writes++;
                sq_out++;
            }
        }

        OK(sl_cq_poll(s.cq, cs, 32, &n));
        for (uint32_t i = 0; i < n; i++) {
            sl_completion *c = &cs[i];
            CHECKF(c->status == 0, "S: completion wr_id 0x%llx opcode %u status %u (%s) after %llu writes, %llu binds",
                   (unsigned long long)c->wr_id, c->opcode, c->status, sl_wc_status_str(c->status),
                   (unsigned long long)wdone, (unsigned long long)bdone);
            CHECK(sq_out > 0);
            sq_out--;
            last_progress = t_now_ms();
            if (c->wr_id & BIND_ID) {
                uint64_t k = c->wr_id & ~BIND_ID;
                CHECKF(c->opcode == SL_OP_BIND_MW, "bind completion opcode %u", c->opcode);
                CHECKF(k == bdone, "bind %llu completed, expected %llu (binds complete in order)",
                       (unsigned long long)k, (unsigned long long)bdone);
                for (uint32_t j = 0; j < nw; j++)
                    if (w[j].index == k)
                        w[j].bound = 1;
                bdone++;
                bind_inflight = 0;
            } else {
                CHECKF(c->opcode == SL_OP_WRITE_IMM && c->wr_id == wdone,
                       "write completion wr_id %llu opcode %u, expected %llu", (unsigned long long)c->wr_id,
                       c->opcode, (unsigned long long)wdone);
                wdone++;
            }
        }

        /* R: consume the immediates, repost */
        OK(sl_cq_poll(r.cq, cs, 32, &n));
        for (uint32_t i = 0; i < n; i++) {
            sl_completion *c = &cs[i];
            CHECKF(c->status == 0, "R: completion wr_id 0x%llx opcode %u status %u (%s)",
                   (unsigned long long)c->wr_id, c->opcode, c->status, sl_wc_status_str(c->status));
            if (c->wr_id & PROBE_ID) {
                int64_t bad = t_check(cring.p + (probe_w.index % (CRING / PROBE)) * PROBE, PROBE,
                                      (uint32_t)probe_w.index + 1000);
                CHECKF(bad < 0, "R's bytes through window %llu differ at %lld",
                       (unsigned long long)probe_w.index, (long long)bad);
                probes++;
                probing = 0;
                last_progress = t_now_ms();
            } else {
                sl_wr rw;
                CHECKF(c->opcode == SL_OP_RECV_IMM && c->imm == (uint32_t)imms,
                       "R: receive opcode %u imm %u, expected RECV_IMM %u", c->opcode, c->imm, (uint32_t)imms);
                imms++;
                memset(&rw, 0, sizeof(rw));
                rw.wr_id = c->wr_id;
                rw.opcode = SL_OP_RECV;
                OK(sl_post_recv(r.qp, &rw, 1, NULL));
            }
        }

        /* R writes through the oldest bound, not yet probed window; S revokes windows past KEEP */
        if (!probing) {
            for (uint32_t j = 0; j < nw; j++) {
                if (w[j].bound == 1) {
                    sl_wr pw;
                    probe_w = w[j];
                    w[j].bound = 2;
                    t_fill(probe.p, PROBE, (uint32_t)probe_w.index + 1000);
                    pw = t_wr(PROBE_ID | probe_w.index, SL_OP_WRITE, &probe, 0, PROBE);
                    pw.remote_addr = cring.info.addr + (probe_w.index % (CRING / PROBE)) * PROBE;
                    pw.rkey = probe_w.rkey;
                    OK(sl_post_send(r.qp, &pw, 1, NULL));
                    probing = 1;
                    break;
                }
            }
        }
        while (nw > KEEP && w[0].bound == 2 && !(probing && probe_w.index == w[0].index)) {
            OK(sl_mw_dealloc(w[0].mw));
            revoked++;
            memmove(&w[0], &w[1], (nw - 1) * sizeof(w[0]));
            nw--;
        }

        if (t_now_ms() - last_progress > STALL_MS) {
            uint32_t st, so = 0, ro = 0;
            counters(dev_s, c1);
            OK(sl_qp_state(s.qp, &st));
            sl_qp_outstanding(s.qp, &so, &ro);
            fprintf(stderr, "STALL: no completion for %d s: S qp state %u, %u sends outstanding (ours %u); "
                    "writes %llu posted / %llu done, binds %llu posted / %llu done, immediates %llu, probes %llu\n",
                    STALL_MS / 1000, st, so, sq_out, (unsigned long long)writes, (unsigned long long)wdone,
                    (unsigned long long)bposted, (unsigned long long)bdone, (unsigned long long)imms,
                    (unsigned long long)probes);
            for (size_t i = 0; i < NCOUNTERS; i++)
                fprintf(stderr, "  %s %s: +%lu\n", dev_s, COUNTERS[i], c1[i] - c0[i]);
            CHECKF(0, "stalled");
        }
        if (n == 0)
            usleep(50);
    }

    counters(dev_s, c1);
    printf("%llu WRITE_IMMs and %llu binds completed, %llu immediates consumed, %llu windows written through "
           "and verified, %llu revoked, in %lld ms\n",
           (unsigned long long)wdone, (unsigned long long)bdone, (unsigned long long)imms,
           (unsigned long long)probes, (unsigned long long)revoked, (long long)(t_now_ms() - start));
    for (size_t i = 0; i < NCOUNTERS; i++)
        printf("  %s %s: +%lu\n", dev_s, COUNTERS[i], c1[i] - c0[i]);
    CHECK(wdone == writes && imms == writes && bdone == (uint64_t)binds);
    /* the point is binds among retries: without any, this run proved nothing */
    if (strcmp(nopts, "none") != 0)
        CHECKF(c1[0] - c0[0] > 0, "no retry (%s) during the run: raise the loss", COUNTERS[0]);

    for (uint32_t j = 0; j < nw; j++)
        OK(sl_mw_dealloc(w[j].mw));
    t_buf_fini(&probe);
    t_buf_fini(&cring);
    t_buf_fini(&src);
    t_buf_fini(&ring);
    t_end_fini(&r);
    t_end_fini(&s);
    OK(sl_device_close(dr));
    OK(sl_device_close(ds));
    printf("test_mw_bind_stream: ok\n");
    return 0;
}
