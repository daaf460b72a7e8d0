/*
 * test_host - API checks that need no RDMA device (runs on the host and in the VM).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "t.h"
#include "handle.h"

static void status_names(void)
{
    static const struct { int st; const char *name; } names[] = {
        {SL_OK, "SL_OK"}, {SL_EINVAL, "SL_EINVAL"}, {SL_EBADHANDLE, "SL_EBADHANDLE"},
        {SL_ENODEV, "SL_ENODEV"}, {SL_ENOMEM, "SL_ENOMEM"}, {SL_ESTATE, "SL_ESTATE"},
        {SL_EFULL, "SL_EFULL"}, {SL_EVERBS, "SL_EVERBS"}, {SL_ETIMEDOUT, "SL_ETIMEDOUT"},
        {SL_EBUSY, "SL_EBUSY"}, {SL_ERANGE, "SL_ERANGE"}, {SL_EPROTO, "SL_EPROTO"},
        {SL_EACCES, "SL_EACCES"}, {SL_ENOTSUP, "SL_ENOTSUP"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECKF(strcmp(sl_status_name(names[i].st), names[i].name) == 0, "sl_status_name(%d) = %s",
               names[i].st, sl_status_name(names[i].st));
    CHECK(strcmp(sl_status_name(-99), "SL_UNKNOWN") == 0);
    CHECK(strcmp(sl_status_name(5), "SL_UNKNOWN") == 0);
    CHECK(sl_wc_status_str(0) != NULL && strstr(sl_wc_status_str(0), "success") != NULL);
    CHECK(sl_wc_status_str(12) != NULL && strstr(sl_wc_status_str(12), "retry") != NULL);
    CHECK(sl_wc_status_str(9999) != NULL);

    sl_clear_error();
    CHECK(sl_last_error() != NULL && sl_last_error()[0] == '\0');
    CHECK(sl_last_errno() == 0);
}

static void layouts(void)
{
    CHECK(sizeof(sl_wr) == 136);
    CHECK(offsetof(sl_wr, opcode) == 8 && offsetof(sl_wr, flags) == 12 && offsetof(sl_wr, imm) == 16);
    CHECK(offsetof(sl_wr, num_sge) == 20 && offsetof(sl_wr, remote_addr) == 24);
    CHECK(offsetof(sl_wr, rkey) == 32 && offsetof(sl_wr, sge) == 40);
    CHECK(sizeof(sl_sge) == 24 && offsetof(sl_sge, offset) == 8 && offsetof(sl_sge, length) == 16);
    CHECK(sizeof(sl_completion) == 48);
    CHECK(offsetof(sl_completion, status) == 8 && offsetof(sl_completion, opcode) == 12);
    CHECK(offsetof(sl_completion, byte_len) == 16 && offsetof(sl_completion, imm) == 20);
    CHECK(offsetof(sl_completion, qp_num) == 24 && offsetof(sl_completion, flags) == 28);
    CHECK(offsetof(sl_completion, vendor_err) == 32 && offsetof(sl_completion, src_qp) == 36);
    CHECK(offsetof(sl_completion, qp_tag) == 40);
    CHECK(sizeof(sl_port_attr) == 28);
    CHECK(sizeof(sl_device_info) == SL_NAME_MAX + 16);
    CHECK(sizeof(sl_mr_info) == 32);
    CHECK(sizeof(sl_qp_opts) == 40 && offsetof(sl_qp_opts, srq) == 24 && offsetof(sl_qp_opts, tag) == 32);
    CHECK(sizeof(sl_qp_caps) == 40);
    CHECK(sizeof(sl_connect_opts) == 16);
}

/* Every handle-taking call rejects 0, never-issued and garbage handles with SL_EBADHANDLE. */
static void bad_handles(void)
{
    /* never issued: a live-looking type and a slot far beyond anything allocated */
    const sl_handle bogus[] = {
        SL_NULL_HANDLE,
        ((sl_handle)SL_TYPE_QP << 56) | 0x00abcdefull << 32 | 0x7fffffffu,
        ((sl_handle)SL_TYPE_CQ << 56) | 12345,
        0xffffffffffffffffull,
        0x0123456789abcdefull,
        ((sl_handle)SL_TYPE_DEVICE << 56),
    };
    sl_completion c[4];
    sl_wr wr;
    uint32_t u32, u32b;
    sl_port_attr pa;
    sl_device_limits lim;
    sl_mr_info mi;
    sl_qp_caps caps;
    uint8_t blob[SL_ENDPOINT_SIZE] = {0}, gid[16];
    char name[16];
    sl_handle out;
    int fd, x = 0;

    memset(&wr, 0, sizeof(wr));
    for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
        sl_handle h = bogus[i];
        sl_clear_error();
        EXPECT_RC(sl_device_close(h), SL_EBADHANDLE);
        CHECK(sl_last_error()[0] != '\0');
        if (h == 0)
            EXPECT_ERR_TEXT("handle 0 (SL_NULL_HANDLE) is not a valid device handle");
        else
            EXPECT_ERR_TEXT("was destroyed or never issued");
        EXPECT_RC(sl_device_name(h, name, sizeof(name)), SL_EBADHANDLE);
        EXPECT_RC(sl_port_query(h, 1, &pa), SL_EBADHANDLE);
        EXPECT_RC(sl_gid_query(h, 1, 0, gid), SL_EBADHANDLE);
        EXPECT_RC(sl_device_limits_query(h, &lim), SL_EBADHANDLE);
        EXPECT_RC(sl_pd_create(h, &out), SL_EBADHANDLE);
        EXPECT_RC(sl_pd_destroy(h), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_create(h, 16, &out), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_destroy(h), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_fd(h, &fd), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_arm(h, 0), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_ack_events(h, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_poll(h, c, 4, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_poll_wait(h, c, 4, &u32, 10), SL_EBADHANDLE);
        EXPECT_RC(sl_mr_register(h, &x, sizeof(x), 0, &out), SL_EBADHANDLE);
        EXPECT_RC(sl_mr_register_file(h, "/proc/self/exe", 0, 16, 0, &out), SL_EBADHANDLE);
        EXPECT_RC(sl_mr_query(h, &mi), SL_EBADHANDLE);
        EXPECT_RC(sl_mr_deregister(h), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_create(h, h, h, NULL, &out), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_destroy(h), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_state(h, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_num(h, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_set_error(h), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_endpoint(h, blob), SL_EBADHANDLE);
        EXPECT_RC(sl_post_send(h, &wr, 1, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_post_recv(h, &wr, 1, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_outstanding(h, &u32, &u32b), SL_EBADHANDLE);
        EXPECT_RC(sl_qp_caps_query(h, &caps), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_poll_adaptive(h, c, 4, &u32, 10, 10, NULL), SL_EBADHANDLE);
        EXPECT_RC(sl_cq_wake(h), SL_EBADHANDLE);
        EXPECT_RC(sl_srq_create(h, 16, 1, &out), SL_EBADHANDLE);
        EXPECT_RC(sl_srq_destroy(h), SL_EBADHANDLE);
        EXPECT_RC(sl_srq_post_recv(h, &wr, 1, &u32), SL_EBADHANDLE);
        EXPECT_RC(sl_srq_outstanding(h, &u32), SL_EBADHANDLE);
    }
}

/* A handle of the wrong type and a destroyed handle, made with the table itself (no device). */
static void wrong_type_and_destroyed(void)
{
    int obj = 42;
    void *p = NULL;
    sl_handle h;
    uint32_t st;
    char expect[128];

    OK(sl_handle_alloc("test", SL_TYPE_TEST, &obj, &h));
    CHECK(h != 0);
    CHECK((h >> 56) == SL_TYPE_TEST);
    EXPECT_RC(sl_qp_state(h, &st), SL_EBADHANDLE);
    snprintf(expect, sizeof(expect), "sl_qp_state: handle 0x%016llx is a test, expected a qp",
             (unsigned long long)h);
    CHECKF(strcmp(sl_last_error(), expect) == 0, "\"%s\" != \"%s\"", sl_last_error(), expect);
    EXPECT_RC(sl_cq_destroy(h), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("is a test, expected a cq");

    OK(sl_handle_close_begin("test", h, SL_TYPE_TEST, &p, NULL));
    CHECK(p == &obj);
    sl_handle_close_finish(h);
    EXPECT_RC(sl_handle_acquire("test", h, SL_TYPE_TEST, &p), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("was destroyed or never issued");
    EXPECT_RC(sl_qp_state(h, &st), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("was destroyed or never issued");
}

static void null_pointers(void)
{
    sl_handle h = ((sl_handle)SL_TYPE_QP << 56) | 77;
    sl_completion c;
    uint32_t u;
    uint64_t a;
    sl_wr wr;
    int x;

    memset(&wr, 0, sizeof(wr));
    EXPECT_RC(sl_device_list(NULL, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_device_list(NULL, 4, &u), SL_EINVAL);
    EXPECT_RC(sl_device_open(NULL, 1, &h), SL_EINVAL);
    EXPECT_RC(sl_device_open("rxe0", 1, NULL), SL_EINVAL);
    EXPECT_RC(sl_device_open("rxe0", 0, &h), SL_EINVAL);
    EXPECT_RC(sl_device_name(h, NULL, 10), SL_EINVAL);
    EXPECT_RC(sl_port_query(h, 1, NULL), SL_EINVAL);
    EXPECT_RC(sl_gid_query(h, 1, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_device_limits_query(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_memlock_limit(NULL, &a), SL_EINVAL);
    EXPECT_RC(sl_memlock_limit(&a, NULL), SL_EINVAL);
    EXPECT_RC(sl_pd_create(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_cq_create(h, 16, NULL), SL_EINVAL);
    EXPECT_RC(sl_cq_create(h, 0, &h), SL_EINVAL);
    EXPECT_RC(sl_cq_fd(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_cq_ack_events(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_cq_poll(h, NULL, 1, &u), SL_EINVAL);
    EXPECT_RC(sl_cq_poll(h, &c, 1, NULL), SL_EINVAL);
    EXPECT_RC(sl_cq_poll(h, &c, 0, &u), SL_EINVAL);
    EXPECT_RC(sl_cq_poll_wait(h, NULL, 1, &u, 0), SL_EINVAL);
    EXPECT_RC(sl_cq_poll_adaptive(h, NULL, 1, &u, 10, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_cq_poll_adaptive(h, &c, 0, &u, 10, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_qp_caps_query(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_srq_create(h, 16, 1, NULL), SL_EINVAL);
    EXPECT_RC(sl_srq_create(h, 0, 1, &h), SL_EINVAL);
    EXPECT_ERR_TEXT("depth is 0");
    EXPECT_RC(sl_srq_create(h, 16, SL_WR_MAX_SGE + 1, &h), SL_EINVAL);
    EXPECT_RC(sl_srq_post_recv(h, NULL, 1, &u), SL_EINVAL);
    EXPECT_RC(sl_srq_post_recv(h, &wr, 0, &u), SL_EINVAL);
    EXPECT_RC(sl_srq_outstanding(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_mr_register(h, NULL, 8, 0, &h), SL_EINVAL);
    EXPECT_RC(sl_mr_register(h, &x, 0, 0, &h), SL_EINVAL);
    EXPECT_RC(sl_mr_register(h, &x, sizeof(x), 0x80, &h), SL_EINVAL);
    EXPECT_ERR_TEXT("unknown access flags");
    EXPECT_RC(sl_mr_register(h, &x, sizeof(x), SL_ACCESS_REMOTE_WRITE, &h), SL_EINVAL);
    EXPECT_RC(sl_mr_register(h, &x, sizeof(x), 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_mr_register_file(h, NULL, 0, 16, 0, &h), SL_EINVAL);
    EXPECT_RC(sl_mr_register_file(h, "/proc/self/exe", 0, 16, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_mr_register_file(h, "/proc/self/exe", 0, 16, SL_ACCESS_LOCAL_WRITE, &h), SL_EINVAL);
    EXPECT_ERR_TEXT("local read only");
    EXPECT_RC(sl_mr_register_file(h, "/proc/self/exe", 0, 0, 0, &h), SL_EINVAL);
    EXPECT_RC(sl_mr_register_file(h, "/proc/self/exe", 1, 16, 0, &h), SL_EINVAL);
    EXPECT_ERR_TEXT("page size");
    EXPECT_RC(sl_mr_register_file(h, "/nonexistent/shardlink", 0, 16, 0, &h), SL_EINVAL);
    EXPECT_ERR_TEXT("No such file");
    EXPECT_RC(sl_mr_register_file(h, "/proc/self/exe", 0, 1ull << 40, 0, &h), SL_ERANGE);
    EXPECT_ERR_TEXT("past the end");
    EXPECT_RC(sl_mr_query(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_buf_alloc(16, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_qp_create(h, h, h, NULL, NULL), SL_EINVAL);
    EXPECT_RC(sl_qp_state(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_qp_num(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_qp_endpoint(h, NULL), SL_EINVAL);
    EXPECT_RC(sl_endpoint_decode(NULL, 40, NULL), SL_EINVAL);
    EXPECT_RC(sl_post_send(h, NULL, 1, NULL), SL_EINVAL);
    EXPECT_RC(sl_post_send(h, &wr, 0, NULL), SL_EINVAL);
    EXPECT_RC(sl_post_recv(h, NULL, 1, NULL), SL_EINVAL);
    EXPECT_RC(sl_qp_outstanding(h, NULL, &u), SL_EINVAL);
    EXPECT_RC(sl_qp_connect(h, NULL, 40, NULL), SL_EINVAL);
    sl_qp_opts_default(NULL);
    sl_connect_opts_default(NULL);
}

static void make_blob(uint8_t b[SL_ENDPOINT_SIZE])
{
    static const uint8_t gid[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};

    memset(b, 0, SL_ENDPOINT_SIZE);
    memcpy(b, "SLEP", 4);
    b[4] = SL_ENDPOINT_VERSION;
    b[5] = 3;           /* IBV_MTU_1024 */
    b[6] = 1;           /* port */
    b[7] = 2;           /* gid index */
    b[8] = 0x12; b[9] = 0x34;                       /* LID */
    b[12] = 0; b[13] = 0xab; b[14] = 0xcd; b[15] = 0xef; /* QPN */
    b[16] = 0; b[17] = 0x01; b[18] = 0x02; b[19] = 0x03; /* PSN */
    memcpy(b + 20, gid, 16);
}

static void endpoint_blob(void)
{
    uint8_t b[SL_ENDPOINT_SIZE], bad[SL_ENDPOINT_SIZE + 1];
    sl_endpoint ep;
    sl_connect_opts co;
    sl_qp_opts qo;

    make_blob(b);
    OK(sl_endpoint_decode(b, sizeof(b), &ep));
    CHECK(ep.version == 1 && ep.mtu == 3 && ep.port == 1 && ep.gid_index == 2);
    CHECK(ep.lid == 0x1234 && ep.qpn == 0xabcdef && ep.psn == 0x010203);
    CHECK(memcmp(ep.gid, b + 20, 16) == 0);

    EXPECT_RC(sl_endpoint_decode(b, SL_ENDPOINT_SIZE - 1, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("40 bytes");
    EXPECT_RC(sl_endpoint_decode(b, 0, &ep), SL_EPROTO);
    memcpy(bad, b, sizeof(b));
    bad[SL_ENDPOINT_SIZE] = 0;
    EXPECT_RC(sl_endpoint_decode(bad, sizeof(bad), &ep), SL_EPROTO);

    memcpy(bad, b, sizeof(b)); bad[0] = 'X';
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("bad magic");
    memcpy(bad, b, sizeof(b)); bad[4] = 2;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("version 2");
    memcpy(bad, b, sizeof(b)); bad[4] = 0;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    memcpy(bad, b, sizeof(b)); bad[10] = 1;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("reserved");
    memcpy(bad, b, sizeof(b)); bad[39] = 1;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("reserved");
    memcpy(bad, b, sizeof(b)); bad[12] = 1;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("QP number");
    memcpy(bad, b, sizeof(b)); bad[16] = 0x80;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    EXPECT_ERR_TEXT("PSN");
    memcpy(bad, b, sizeof(b)); bad[5] = 0;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);
    memcpy(bad, b, sizeof(b)); bad[5] = 6;
    EXPECT_RC(sl_endpoint_decode(bad, SL_ENDPOINT_SIZE, &ep), SL_EPROTO);

    /* a bad blob is rejected by connect before the handle is even looked at */
    memcpy(bad, b, sizeof(b)); bad[0] = 'X';
    EXPECT_RC(sl_qp_connect(((sl_handle)SL_TYPE_QP << 56) | 99, bad, SL_ENDPOINT_SIZE, NULL), SL_EPROTO);
    sl_connect_opts_default(&co);
    CHECK(co.access == (SL_ACCESS_REMOTE_WRITE | SL_ACCESS_REMOTE_READ) && co.mtu == 0);
    CHECK(co.timeout == 14 && co.retry_cnt == 6 && co.rnr_retry == 7 && co.min_rnr_timer == 12);
    CHECK(co.max_rd_atomic == 16);
    co.retry_cnt = 8;
    EXPECT_RC(sl_qp_connect(((sl_handle)SL_TYPE_QP << 56) | 99, b, SL_ENDPOINT_SIZE, &co), SL_EINVAL);
    sl_connect_opts_default(&co);
    co.access = SL_ACCESS_LOCAL_WRITE;
    EXPECT_RC(sl_qp_connect(((sl_handle)SL_TYPE_QP << 56) | 99, b, SL_ENDPOINT_SIZE, &co), SL_EINVAL);
    sl_qp_opts_default(&qo);
    CHECK(qo.sq_depth == 64 && qo.rq_depth == 64 && qo.max_sge == 4 && qo.max_inline == 0);
    CHECK(qo.port == 1 && qo.gid_index == 0);
    CHECK(qo.signal_every == 0 && qo.srq == SL_NULL_HANDLE && qo.tag == 0 && qo.reserved == 0);
}

static void device_list(void)
{
    sl_device_info info[16];
    uint32_t count = 99;
    const char *req = getenv("SHARDLINK_REQUIRE_RDMA");
    int rc = sl_device_list(info, 16, &count);
    sl_handle h = 0;

    if (req && strcmp(req, "1") == 0) {
        CHECKF(rc == SL_OK, "sl_device_list failed in an RDMA environment");
        CHECKF(count >= 3, "%u devices, expected rxe0, rxea and rxeb", count);
        for (uint32_t i = 0; i < count && i < 16; i++) {
            CHECK(info[i].name[0] != '\0');
            CHECK(info[i].num_ports >= 1);
            printf("device %u: %s guid %016llx ports %u transport %u\n", i, info[i].name,
                   (unsigned long long)info[i].node_guid, info[i].num_ports, info[i].transport);
        }
        OK(sl_device_list(NULL, 0, &count));
        CHECK(count >= 3);
        return;
    }
    if (rc == SL_OK) {
        printf("this host has %u RDMA device(s)\n", count);
        return;
    }
    CHECKF(rc == SL_ENODEV, "sl_device_list returned %s", sl_status_name(rc));
    EXPECT_ERR_TEXT("no RDMA devices");
    printf("host: %s\n", sl_last_error());
    if (sl_last_errno() == ENOSYS) {
        CHECK(strcmp(sl_last_error(), "sl_device_list: no RDMA devices: ibv_get_device_list failed: "
                                      "Function not implemented (errno 38): this kernel has no RDMA support") == 0);
    }
    EXPECT_RC(sl_device_open("auto", 1, &h), SL_ENODEV);
    EXPECT_ERR_TEXT("no RDMA devices");
    EXPECT_RC(sl_device_open("rxe0", 1, &h), SL_ENODEV);
    CHECK(h == 0);
}

static void buffers(void)
{
    static const uint64_t aligns[] = {0, 1, 8, 64, 4096, 65536, 2u << 20};
    uint64_t soft = 0, hard = 0;
    void *p;

    for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
        uint64_t a = aligns[i] ? aligns[i] : 4096;
        p = NULL;
        OK(sl_buf_alloc(10000, aligns[i], &p));
        CHECKF(((uintptr_t)p % a) == 0, "%p not aligned to %llu", p, (unsigned long long)a);
        for (int k = 0; k < 10000; k++)
            CHECK(((uint8_t *)p)[k] == 0);
        memset(p, 0xa5, 10000);
        OK(sl_buf_free(p));
    }
    EXPECT_RC(sl_buf_alloc(0, 0, &p), SL_EINVAL);
    EXPECT_RC(sl_buf_alloc(64, 48, &p), SL_EINVAL);
    EXPECT_ERR_TEXT("power of two");
    EXPECT_RC(sl_buf_alloc(UINT64_MAX, 0, &p), SL_ENOMEM);
    OK(sl_buf_free(NULL));
    OK(sl_memlock_limit(&soft, &hard));
    CHECK(soft <= hard);
    printf("RLIMIT_MEMLOCK soft %llu hard %llu\n", (unsigned long long)soft, (unsigned long long)hard);
}

int main(void)
{
    status_names();
    layouts();
    bad_handles();
    wrong_type_and_destroyed();
    null_pointers();
    endpoint_blob();
    device_list();
    buffers();
    /* a failing call leaves its text; a successful one leaves it unchanged */
    EXPECT_RC(sl_pd_create(0, NULL), SL_EINVAL);
    OK(sl_buf_free(NULL));
    EXPECT_ERR_TEXT("sl_pd_create: out is NULL");
    CHECK(sl_handle_live_count() == 0);
    printf("test_host: OK\n");
    return 0;
}
