/*
 * test_fuzz_endpoint.c - fuzzes sl_endpoint_decode (the peer's QP endpoint blob, untrusted input) with a
 * seeded random and mutation loop. Host-only: decoding touches no device.
 *
 * Every input sits at the very end of its own heap allocation of exactly its length, so under ASan any read
 * past it is a heap-buffer-overflow. For each input the result must be SL_OK or SL_EPROTO (never another
 * status, never a crash), must match an independent model of the documented rules (shardlink.h: size, magic,
 * version, MTU 1..5, port != 0, reserved bytes 0, 24-bit QPN/PSN), must leave `out` untouched on failure, and
 * on success must hold exactly the blob's fields.
 *
 *   SL_FUZZ_SEED (default 11)   SL_FUZZ_ITERS (default 300000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a seed, so a failure can be replayed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The documented rules, written independently of qp.c. */
static int model_valid(const uint8_t *b, size_t len)
{
    if (len != SL_ENDPOINT_SIZE)
        return 0;
    if (memcmp(b, "SLEP", 4) != 0 || b[4] != SL_ENDPOINT_VERSION)
        return 0;
    if (b[5] < 1 || b[5] > 5 || b[6] == 0)
        return 0;
    if (b[10] != 0 || b[11] != 0 || be32(b + 36) != 0)
        return 0;
    return be32(b + 12) <= 0xffffff && be32(b + 16) <= 0xffffff;
}

static void valid_blob(uint8_t b[SL_ENDPOINT_SIZE])
{
    uint64_t r = rnd();
    memset(b, 0, SL_ENDPOINT_SIZE);
    memcpy(b, "SLEP", 4);
    b[4] = SL_ENDPOINT_VERSION;
    b[5] = (uint8_t)(1 + r % 5);
    b[6] = (uint8_t)(1 + (r >> 8) % 255);
    b[7] = (uint8_t)(r >> 16);
    b[8] = (uint8_t)(r >> 24);
    b[9] = (uint8_t)(r >> 32);
    b[13] = (uint8_t)(r >> 40); b[14] = (uint8_t)(r >> 48); b[15] = (uint8_t)(r >> 56);
    r = rnd();
    b[17] = (uint8_t)r; b[18] = (uint8_t)(r >> 8); b[19] = (uint8_t)(r >> 16);
    for (int i = 20; i < 36; i++)
        b[i] = (uint8_t)rnd();
}

/* One input: copied to the end of an exact-size allocation, decoded, checked. */
static void check(const uint8_t *src, size_t len, uint64_t iter, int *ok_count)
{
    uint8_t *in = malloc(len ? len : 1);
    sl_endpoint out, before;
    int rc, want;

    CHECK(in != NULL);
    if (len)
        memcpy(in, src, len);
    memset(&out, 0xAB, sizeof(out));
    before = out;
    rc = sl_endpoint_decode(in, len, &out);
    want = model_valid(src, len);
    CHECKF(rc == SL_OK || rc == SL_EPROTO, "iteration %llu: status %s (%d) for a %zu-byte blob",
           (unsigned long long)iter, sl_status_name(rc), rc, len);
    CHECKF((rc == SL_OK) == (want != 0), "iteration %llu: decode says %s, the documented rules say %s (%zu bytes)",
           (unsigned long long)iter, sl_status_name(rc), want ? "valid" : "invalid", len);
    if (rc != SL_OK) {
        CHECKF(memcmp(&out, &before, sizeof(out)) == 0, "iteration %llu: a failed decode wrote to out",
               (unsigned long long)iter);
        CHECKF(sl_last_error()[0] != '\0', "iteration %llu: SL_EPROTO without an error text", (unsigned long long)iter);
    } else {
        CHECK(out.version == src[4] && out.mtu == src[5] && out.port == src[6] && out.gid_index == src[7]);
        CHECK(out.lid == ((uint16_t)src[8] << 8 | src[9]));
        CHECK(out.qpn == be32(src + 12) && out.psn == be32(src + 16));
        CHECK(memcmp(out.gid, src + 20, 16) == 0);
        (*ok_count)++;
    }
    free(in);
}

int main(void)
{
    const char *s = getenv("SL_FUZZ_SEED");
    const char *n = getenv("SL_FUZZ_ITERS");
    uint64_t seed = s ? strtoull(s, NULL, 0) : 11;
    uint64_t iters = n ? strtoull(n, NULL, 0) : 300000;
    uint8_t buf[SL_ENDPOINT_SIZE + 24];
    int ok_count = 0;

    rng_state = seed ? seed : 1;
    EXPECT_RC(sl_endpoint_decode(NULL, SL_ENDPOINT_SIZE, NULL), SL_EINVAL);
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t mode = rnd() % 4;
        size_t len = SL_ENDPOINT_SIZE;
        if (mode == 0) {
            /* random bytes of a random length around the real one */
            len = (size_t)(rnd() % sizeof(buf));
            for (size_t k = 0; k < len; k++)
                buf[k] = (uint8_t)rnd();
        } else {
            valid_blob(buf);
            if (mode >= 2) {
                /* mutate: flip bits or set bytes, 1..4 times */
                int flips = 1 + (int)(rnd() % 4);
                for (int f = 0; f < flips; f++) {
                    size_t at = (size_t)(rnd() % SL_ENDPOINT_SIZE);
                    uint64_t r = rnd();
                    buf[at] = (r & 1) ? (uint8_t)(buf[at] ^ (1u << (r >> 1) % 8)) : (uint8_t)(r >> 8);
                }
            }
            if (mode == 3 && rnd() % 3 == 0) {
                /* truncated or extended */
                len = (size_t)(rnd() % sizeof(buf));
                for (size_t k = SL_ENDPOINT_SIZE; k < len; k++)
                    buf[k] = (uint8_t)rnd();
            }
        }
        check(buf, len, i, &ok_count);
    }
    /* the loop must have exercised both answers, or it tested nothing */
    CHECKF(ok_count > 1000 && (uint64_t)ok_count < iters, "only %d of %llu inputs decoded", ok_count,
           (unsigned long long)iters);
    printf("test_fuzz_endpoint: seed %llu, %llu inputs, %d valid, %llu refused with SL_EPROTO\n",
           (unsigned long long)seed, (unsigned long long)iters, ok_count,
           (unsigned long long)(iters - (uint64_t)ok_count));
    return 0;
}
