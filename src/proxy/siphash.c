/* SipHash-2-4, written from the paper's description (2 compression rounds
 * per 8-byte word, 4 finalisation rounds, the length in the top byte of the
 * last word). */
#include "proxy/siphash.h"

#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(s)                                                         \
    do {                                                                    \
        (s)->v0 += (s)->v1;                                                 \
        (s)->v1 = ROTL((s)->v1, 13);                                        \
        (s)->v1 ^= (s)->v0;                                                 \
        (s)->v0 = ROTL((s)->v0, 32);                                        \
        (s)->v2 += (s)->v3;                                                 \
        (s)->v3 = ROTL((s)->v3, 16);                                        \
        (s)->v3 ^= (s)->v2;                                                 \
        (s)->v0 += (s)->v3;                                                 \
        (s)->v3 = ROTL((s)->v3, 21);                                        \
        (s)->v3 ^= (s)->v0;                                                 \
        (s)->v2 += (s)->v1;                                                 \
        (s)->v1 = ROTL((s)->v1, 17);                                        \
        (s)->v1 ^= (s)->v2;                                                 \
        (s)->v2 = ROTL((s)->v2, 32);                                        \
    } while (0)

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void compress(sw__siphash *s, uint64_t m)
{
    s->v3 ^= m;
    SIPROUND(s);
    SIPROUND(s);
    s->v0 ^= m;
}

void sw__siphash_init(sw__siphash *s, const uint8_t key[16])
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ULL;
    s->v1 = k1 ^ 0x646f72616e646f6dULL;
    s->v2 = k0 ^ 0x6c7967656e657261ULL;
    s->v3 = k1 ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->ntail = 0;
    s->total = 0;
}

void sw__siphash_update(sw__siphash *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->total += n;
    if (s->ntail) { /* fill the pending word first */
        size_t need = 8 - s->ntail;
        size_t k = n < need ? n : need;
        for (size_t i = 0; i < k; i++)
            s->tail |= (uint64_t)p[i] << (8 * (s->ntail + i));
        s->ntail += (unsigned)k;
        p += k;
        n -= k;
        if (s->ntail < 8)
            return;
        compress(s, s->tail);
        s->tail = 0;
        s->ntail = 0;
    }
    for (; n >= 8; p += 8, n -= 8)
        compress(s, load_le64(p));
    for (size_t i = 0; i < n; i++)
        s->tail |= (uint64_t)p[i] << (8 * i);
    s->ntail = (unsigned)n;
}

uint64_t sw__siphash_final(sw__siphash *s)
{
    uint64_t b = s->tail | (s->total & 0xff) << 56;
    compress(s, b);
    s->v2 ^= 0xff;
    SIPROUND(s);
    SIPROUND(s);
    SIPROUND(s);
    SIPROUND(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

void sw__siphash_field(sw__siphash *s, const void *data, size_t n)
{
    uint8_t len[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    sw__siphash_update(s, len, sizeof len);
    if (n)
        sw__siphash_update(s, data, n);
}
