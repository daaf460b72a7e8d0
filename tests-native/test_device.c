/*
 * test_device - open by name and by "auto", port, GID, limits, MTU, device list, parent/child rules.
 */
#include <fcntl.h>

#include "t.h"

int main(void)
{
    const char *name = t_dev_name("SHARDLINK_RXE_LOOPBACK", "rxe0");
    const char *na = t_dev_name("SHARDLINK_RXE_A", "rxea"), *nb = t_dev_name("SHARDLINK_RXE_B", "rxeb");
    static const uint8_t zero[16];
    sl_handle dev = t_open(name), dev2 = 0, autodev = 0, pd = 0, cq = 0, bogus = 0;
    sl_device_info info[16];
    sl_device_limits lim;
    sl_port_attr pa;
    sl_completion c[4];
    uint8_t gid[16];
    char buf[SL_NAME_MAX], small[3];
    uint32_t count = 0, n = 99, ev = 99;
    int found[3] = {0, 0, 0}, fd = -1;
    int64_t t0;

    /* name */
    OK(sl_device_name(dev, buf, sizeof(buf)));
    CHECKF(strcmp(buf, name) == 0, "name \"%s\" != \"%s\"", buf, name);
    OK(sl_device_name(dev, small, sizeof(small)));
    CHECK(strlen(small) == 2 && strncmp(small, name, 2) == 0);

    /* port: ACTIVE, Ethernet (RoCE), MTU in bytes */
    OK(sl_port_query(dev, 1, &pa));
    printf("%s port 1: state %u active_mtu %u max_mtu %u link_layer %u gid_tbl_len %u max_msg_sz %u lid %u\n",
           name, pa.state, pa.active_mtu, pa.max_mtu, pa.link_layer, pa.gid_tbl_len, pa.max_msg_sz, pa.lid);
    CHECK(pa.state == SL_PORT_ACTIVE);
    CHECKF(pa.active_mtu == 256 || pa.active_mtu == 512 || pa.active_mtu == 1024 || pa.active_mtu == 2048 ||
           pa.active_mtu == 4096, "active_mtu %u is not an MTU in bytes", pa.active_mtu);
    CHECK(pa.max_mtu >= pa.active_mtu && pa.max_mtu <= 4096);
    CHECK(pa.link_layer == SL_LINK_LAYER_ETHERNET);
    CHECK(pa.gid_tbl_len >= 1);
    CHECK(pa.max_msg_sz >= 1u << 20);
    EXPECT_RC(sl_port_query(dev, 0, &pa), SL_ERANGE);
    EXPECT_RC(sl_port_query(dev, 2, &pa), SL_ERANGE);

    /* GID 0: present, not zero, link-local on rxe */
    memset(gid, 0, sizeof(gid));
    OK(sl_gid_query(dev, 1, 0, gid));
    CHECK(memcmp(gid, zero, 16) != 0);
    printf("GID 0: ");
    for (int i = 0; i < 16; i += 2)
        printf("%02x%02x%s", gid[i], gid[i + 1], i < 14 ? ":" : "\n");
    EXPECT_RC(sl_gid_query(dev, 1, pa.gid_tbl_len, gid), SL_ERANGE);
    EXPECT_ERR_TEXT("past the table");

    /* limits */
    OK(sl_device_limits_query(dev, &lim));
    printf("limits: max_qp %u max_qp_wr %u max_sge %u max_cq %u max_cqe %u max_mr %u max_pd %u "
           "max_mr_size %llu rd_atom %u init_rd_atom %u ports %u\n", lim.max_qp, lim.max_qp_wr, lim.max_sge,
           lim.max_cq, lim.max_cqe, lim.max_mr, lim.max_pd, (unsigned long long)lim.max_mr_size,
           lim.max_qp_rd_atom, lim.max_qp_init_rd_atom, lim.phys_port_cnt);
    CHECK(lim.max_qp >= 64 && lim.max_qp_wr >= 64 && lim.max_sge >= 1 && lim.max_cq >= 64);
    CHECK(lim.max_cqe >= 128 && lim.max_mr >= 64 && lim.max_pd >= 1);
    CHECK(lim.max_mr_size >= (1ull << 30));
    CHECK(lim.max_qp_rd_atom >= 1 && lim.max_qp_init_rd_atom >= 1);
    CHECK(lim.phys_port_cnt == 1);

    /* device list: at least the three rxe devices */
    OK(sl_device_list(info, 16, &count));
    CHECKF(count >= 3, "%u devices", count);
    for (uint32_t i = 0; i < count && i < 16; i++) {
        found[0] |= strcmp(info[i].name, name) == 0;
        found[1] |= strcmp(info[i].name, na) == 0;
        found[2] |= strcmp(info[i].name, nb) == 0;
        CHECK(info[i].num_ports == 1);
    }
    CHECKF(found[0] && found[1] && found[2], "device list lacks one of %s %s %s", name, na, nb);

    /* open again by name: a distinct handle; "auto": a device with an ACTIVE port */
    OK(sl_device_open(name, 1, &dev2));
    CHECK(dev2 != 0 && dev2 != dev);
    OK(sl_device_close(dev2));
    OK(sl_device_open("auto", 1, &autodev));
    OK(sl_device_name(autodev, buf, sizeof(buf)));
    OK(sl_port_query(autodev, 1, &pa));
    CHECK(pa.state == SL_PORT_ACTIVE);
    printf("auto opened %s\n", buf);
    OK(sl_device_close(autodev));
    EXPECT_RC(sl_device_name(autodev, buf, sizeof(buf)), SL_EBADHANDLE);
    EXPECT_ERR_TEXT("was destroyed or never issued");

    /* errors: no such device (lists the names), no such port */
    EXPECT_RC(sl_device_open("nosuchdev0", 1, &bogus), SL_ENODEV);
    EXPECT_ERR_TEXT("no RDMA device named 'nosuchdev0'");
    EXPECT_ERR_TEXT(name);
    EXPECT_RC(sl_device_open(name, 9, &bogus), SL_ERANGE);
    EXPECT_RC(sl_device_open("auto", 9, &bogus), SL_ENODEV);
    CHECK(bogus == 0);

    /* a CQ: non-blocking channel fd, nothing pending, poll_wait times out with 0 */
    EXPECT_RC(sl_cq_create(dev, lim.max_cqe + 1, &cq), SL_ERANGE);
    OK(sl_cq_create(dev, 16, &cq));
    OK(sl_cq_fd(cq, &fd));
    CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK));
    OK(sl_cq_ack_events(cq, &ev));
    CHECK(ev == 0);
    OK(sl_cq_poll(cq, c, 4, &n));
    CHECK(n == 0);
    OK(sl_cq_arm(cq, 0));
    OK(sl_cq_arm(cq, 1));
    t0 = t_now_ms();
    OK(sl_cq_poll_wait(cq, c, 4, &n, 200));
    CHECK(n == 0);
    CHECKF(t_now_ms() - t0 >= 190, "poll_wait returned after %lld ms, expected ~200", (long long)(t_now_ms() - t0));

    /* parents with children refuse to go, and change nothing */
    OK(sl_pd_create(dev, &pd));
    EXPECT_RC(sl_device_close(dev), SL_EBUSY);
    EXPECT_ERR_TEXT("destroy them first");
    OK(sl_device_name(dev, buf, sizeof(buf)));
    OK(sl_pd_destroy(pd));
    EXPECT_RC(sl_device_close(dev), SL_EBUSY); /* the CQ */
    OK(sl_cq_destroy(cq));
    EXPECT_RC(sl_cq_destroy(cq), SL_EBADHANDLE);
    EXPECT_RC(sl_pd_destroy(pd), SL_EBADHANDLE);
    OK(sl_device_close(dev));
    EXPECT_RC(sl_device_close(dev), SL_EBADHANDLE);
    EXPECT_RC(sl_port_query(dev, 1, &pa), SL_EBADHANDLE);
    printf("test_device: OK\n");
    return 0;
}
