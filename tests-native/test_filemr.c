/*
 * test_filemr - registering file bytes for local read only (what the zero-copy read path does with a volume
 * file). A read-only shared mapping with access 0: pinned on Linux >= 6.2; refused with EFAULT before (ib_umem_get
 * asks for write access on every registration there), and this test checks which one the running kernel does.
 * sl_mr_register_file (the shim's private read-only mapping): access 0 accepted and the NIC sends from it (a 2-SGE
 * WRITE: a header from an ordinary buffer, then bytes at an offset in the file), verified byte for byte; write
 * access, an unaligned offset, a range past the end, a missing file, unmapped memory: clear errors, never a crash.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "t.h"

/* Kernel >= major.minor? */
static int kernel_at_least(int major, int minor)
{
    struct utsname u;
    int ma = 0, mi = 0;

    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
        return 0;
    return ma > major || (ma == major && mi >= minor);
}

#define FILE_LEN (3 * 4096 + 100)

int main(void)
{
    sl_handle dev = t_open(t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0"));
    t_end a, b;
    t_buf head, dst;
    sl_handle fmr = SL_NULL_HANDLE, bad = SL_NULL_HANDLE;
    sl_mr_info fi;
    sl_completion c[1];
    char path[] = "/tmp/sl-filemr-XXXXXX";
    uint8_t *pattern = malloc(FILE_LEN);
    int fd, rc;
    void *map, *gone;

    CHECK(pattern != NULL);
    t_fill(pattern, FILE_LEN, 31);
    fd = mkstemp(path);
    CHECKF(fd >= 0, "mkstemp failed");
    CHECK(write(fd, pattern, FILE_LEN) == FILE_LEN);
    map = mmap(NULL, FILE_LEN, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED);

    t_end_init(&a, dev, NULL, 0);
    t_end_init(&b, dev, NULL, 0);
    t_connect(&a, &b, NULL);

    /* access 0 on a PROT_READ shared mapping: pinned from 6.2 on, EFAULT before */
    rc = sl_mr_register(a.pd, map, FILE_LEN, 0, &fmr);
    if (kernel_at_least(6, 2)) {
        OK(rc);
        OK(sl_mr_deregister(fmr));
        printf("read-only shared file mapping registered with access 0\n");
    } else {
        CHECKF(rc == SL_EVERBS && strstr(sl_last_error(), "errno 14"), "shared read-only mapping on a kernel before "
               "6.2: %s (%s), expected EFAULT", sl_status_name(rc), sl_last_error());
        printf("read-only shared file mapping refused by this kernel, as expected before 6.2: %s\n", sl_last_error());
    }
    fmr = SL_NULL_HANDLE;

    /* sl_mr_register_file: its arguments checked, then a private read-only mapping registered with access 0 */
    EXPECT_RC(sl_mr_register_file(a.pd, path, 0, FILE_LEN, SL_ACCESS_LOCAL_WRITE, &fmr), SL_EINVAL);
    EXPECT_ERR_TEXT("local read only");
    EXPECT_RC(sl_mr_register_file(a.pd, path, 100, 4096, 0, &fmr), SL_EINVAL);
    EXPECT_ERR_TEXT("page size");
    EXPECT_RC(sl_mr_register_file(a.pd, path, 4096, FILE_LEN, 0, &fmr), SL_ERANGE);
    EXPECT_ERR_TEXT("past the end");
    EXPECT_RC(sl_mr_register_file(a.pd, "/nonexistent/sl-filemr", 0, 4096, 0, &fmr), SL_EINVAL);
    EXPECT_ERR_TEXT("No such file");
    EXPECT_RC(sl_mr_register_file(a.pd, NULL, 0, 4096, 0, &fmr), SL_EINVAL);
    CHECK(fmr == SL_NULL_HANDLE);
    OK(sl_mr_register_file(a.pd, path, 0, FILE_LEN, 0, &fmr));
    OK(sl_mr_query(fmr, &fi));
    CHECK(fi.access == 0 && fi.length == FILE_LEN && fi.addr != 0);
    CHECK(memcmp((const void *)(uintptr_t)fi.addr, pattern, FILE_LEN) == 0);
    printf("sl_mr_register_file: access 0, lkey 0x%x\n", fi.lkey);

    /* write access to a read-only mapping: refused with a reason */
    rc = sl_mr_register(a.pd, map, FILE_LEN, SL_ACCESS_LOCAL_WRITE, &bad);
    CHECKF(rc != SL_OK, "LOCAL_WRITE registration of a PROT_READ mapping succeeded");
    CHECK(bad == SL_NULL_HANDLE);
    CHECK(sl_last_error()[0] != '\0');
    printf("LOCAL_WRITE on it: %s (%s)\n", sl_status_name(rc), sl_last_error());

    /* memory that is not mapped: refused, no crash */
    gone = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(gone != MAP_FAILED);
    CHECK(munmap(gone, 2 * 4096) == 0);
    rc = sl_mr_register(a.pd, gone, 2 * 4096, 0, &bad);
    CHECKF(rc != SL_OK, "registering unmapped memory succeeded");
    printf("unmapped memory: %s (%s)\n", sl_status_name(rc), sl_last_error());

    /* a WRITE gathering a 64-byte header and 5000 file bytes from offset 4096 + 7 */
    t_buf_init(&head, a.pd, 64, 0);
    t_buf_init(&dst, b.pd, 8192, SL_ACCESS_LOCAL_WRITE | SL_ACCESS_REMOTE_WRITE);
    memset(head.p, 0xab, 64);
    memset(dst.p, 0, 8192);
    {
        sl_wr w = t_wr(41, SL_OP_WRITE, &head, 0, 64);
        w.remote_addr = dst.info.addr;
        w.rkey = dst.info.rkey;
        w.num_sge = 2;
        w.sge[1].mr = fmr;
        w.sge[1].offset = 4096 + 7;
        w.sge[1].length = 5000;
        OK(sl_post_send(a.qp, &w, 1, NULL));
        COLLECT(a.cq, c, 1, 60000);
        CHECKF(c[0].status == 0, "WRITE completion status %u (%s)", c[0].status, sl_wc_status_str(c[0].status));
        for (int i = 0; i < 64; i++)
            CHECK(dst.p[i] == 0xab);
        CHECKF(memcmp(dst.p + 64, pattern + 4096 + 7, 5000) == 0, "file bytes differ at the receiver");
        for (int i = 64 + 5000; i < 8192; i++)
            CHECK(dst.p[i] == 0);
        printf("2-SGE WRITE from the file mapping: ok\n");
    }
    /* past the registered length: refused before posting */
    {
        sl_wr w = t_wr(42, SL_OP_WRITE, &head, 0, 64);
        w.remote_addr = dst.info.addr;
        w.rkey = dst.info.rkey;
        w.num_sge = 2;
        w.sge[1].mr = fmr;
        w.sge[1].offset = FILE_LEN - 10;
        w.sge[1].length = 11;
        EXPECT_RC(sl_post_send(a.qp, &w, 1, NULL), SL_ERANGE);
    }

    OK(sl_mr_deregister(fmr));
    t_buf_fini(&head);
    t_buf_fini(&dst);
    t_end_fini(&a);
    t_end_fini(&b);
    OK(sl_device_close(dev));
    CHECK(munmap(map, FILE_LEN) == 0);
    close(fd);
    unlink(path);
    free(pattern);
    printf("test_filemr: OK\n");
    return 0;
}
