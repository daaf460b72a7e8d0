/*
 * test_pipeline - 10,000 pipelined 4 KiB RDMA WRITEs, 64 outstanding, rxea -> rxeb. Every wr_id is
 * unique; a bitmap shows no completion lost or duplicated; the target holds the last write of each
 * slot; outstanding returns to 0.
 */
#include "t.h"

#define TOTAL 10000u
#define DEPTH 64u
#define SLOT 4096u
#define ID0 0x5100000000ull

int main(void)
{
    sl_handle da = t_open(t_dev_name("SHARDLINK_RXE_A", "rxea"));
    sl_handle db = t_open(t_dev_name("SHARDLINK_RXE_B", "rxeb"));
    static uint8_t seen[TOTAL];
    sl_completion c[DEPTH];
    sl_wr w[DEPTH];
    sl_qp_opts qo;
    t_end a, b;
    t_buf src, dst;
    uint32_t posted = 0, done = 0, so, ro, max_out = 0, calls = 0;
    int64_t t0 = t_now_ms(), ms;

    sl_qp_opts_default(&qo);
    qo.sq_depth = DEPTH;
    qo.rq_depth = 4;
    t_end_init(&a, da, &qo, 0);
    t_end_init(&b, db, &qo, 0);
    t_connect(&a, &b, NULL);
    t_buf_init(&src, a.pd, DEPTH * SLOT, 0);
    t_buf_init(&dst, b.pd, DEPTH * SLOT, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    for (uint32_t s = 0; s < DEPTH; s++)
        t_fill(src.p + s * SLOT, SLOT, 1000 + s);

    while (done < TOTAL) {
        uint32_t room = DEPTH - (posted - done), k = 0, n = 0;
        while (k < room && posted + k < TOTAL) {
            uint32_t i = posted + k, s = i % DEPTH;
            /* slot s was last used by write i - DEPTH, which has completed (RC completes in order) */
            memcpy(src.p + s * SLOT, &i, sizeof(i));
            w[k] = t_wr(ID0 + i, SL_OP_WRITE, &src, (uint64_t)s * SLOT, SLOT);
            w[k].remote_addr = dst.info.addr + (uint64_t)s * SLOT;
            w[k].rkey = dst.info.rkey;
            k++;
        }
        if (k) {
            uint32_t got = 0;
            OK(sl_post_send(a.qp, w, k, &got));
            CHECK(got == k);
            posted += k;
            calls++;
        }
        OK(sl_qp_outstanding(a.qp, &so, &ro));
        CHECKF(so == posted - done, "outstanding %u, expected %u", so, posted - done);
        if (so > max_out)
            max_out = so;
        OK(sl_cq_poll_wait(a.cq, c, DEPTH, &n, 30000));
        CHECKF(n > 0, "no completion for 30 s with %u outstanding (%u of %u done)", posted - done, done, TOTAL);
        for (uint32_t j = 0; j < n; j++) {
            uint64_t id = c[j].wr_id - ID0;
            CHECKF(c[j].status == 0, "write %llu: status %u (%s)", (unsigned long long)id, c[j].status,
                   sl_wc_status_str(c[j].status));
            CHECK(c[j].opcode == SL_OP_WRITE);
            CHECKF(id < posted, "completion for wr_id %llu never posted", (unsigned long long)c[j].wr_id);
            CHECKF(!seen[id], "duplicate completion for write %llu", (unsigned long long)id);
            CHECKF(id == done + j, "write %llu completed out of order (expected %u)", (unsigned long long)id, done + j);
            seen[id] = 1;
        }
        done += n;
    }
    ms = t_now_ms() - t0;
    for (uint32_t i = 0; i < TOTAL; i++)
        CHECKF(seen[i], "write %u never completed", i);
    OK(sl_qp_outstanding(a.qp, &so, &ro));
    CHECK(so == 0 && ro == 0);
    CHECKF(max_out == DEPTH, "the pipeline peaked at %u outstanding, not %u", max_out, DEPTH);
    for (uint32_t s = 0; s < DEPTH; s++) {
        uint32_t last = (TOTAL - 1) - ((TOTAL - 1 - s) % DEPTH), got;
        memcpy(&got, dst.p + s * SLOT, sizeof(got));
        CHECKF(got == last, "slot %u holds write %u, expected %u", s, got, last);
        /* the rest of the slot is the pattern the source was filled with (never rewritten) */
        CHECKF(memcmp(dst.p + s * SLOT + 4, src.p + s * SLOT + 4, SLOT - 4) == 0, "slot %u payload differs", s);
    }
    printf("%u WRITEs of %u bytes, %u outstanding, %u post calls: %lld ms (%.1f MB/s)\n", TOTAL, SLOT,
           DEPTH, calls, (long long)ms, ms ? (double)TOTAL * SLOT / 1e3 / (double)ms : 0.0);

    t_buf_fini(&src);
    t_buf_fini(&dst);
    t_end_fini(&a);
    t_end_fini(&b);
    OK(sl_device_close(da));
    OK(sl_device_close(db));
    printf("test_pipeline: OK\n");
    return 0;
}
