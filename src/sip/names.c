/* Header-name and method tables, generated from the X-macro lists in sip.h.
 * Lookups hash (length, first, last character) into a small open-addressing
 * table built once at load time, so matching a known header costs one
 * probe and one case-insensitive compare. */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

typedef struct hdr_def {
    const char *name;
    uint8_t len;
    char compact;
    uint8_t flags;
} hdr_def;

static const hdr_def hdr_defs[SW_HDR__COUNT] = {
    [SW_HDR_OTHER] = {"", 0, 0, 0},
#define HDR_DEF(id, nm, c, fl) [SW_HDR_##id] = {nm, sizeof(nm) - 1, c, fl},
    SW_HEADER_LIST(HDR_DEF)
#undef HDR_DEF
};

#define HASH_SIZE 256u
_Static_assert(SW_HDR__COUNT < HASH_SIZE / 2, "header hash table too full");
_Static_assert(sizeof("P-Charging-Function-Addresses") < 32, "a header name outgrew lower_names");

static uint8_t hdr_hash_table[HASH_SIZE]; /* sw_hdr_id, 0 = empty */
static uint8_t compact_table[26];
static char lower_names[SW_HDR__COUNT][32]; /* canonical names in lower case */

static inline unsigned hdr_hash(const char *name, size_t len)
{
    /* |0x20 folds the letters; other token characters never match a name */
    unsigned h = (unsigned)len * 7u;
    h += (unsigned)(unsigned char)(name[0] | 0x20) * 31u;
    h += (unsigned)(unsigned char)(name[len - 1] | 0x20) * 131u;
    return h & (HASH_SIZE - 1);
}

__attribute__((constructor)) static void build_tables(void)
{
    for (int id = 1; id < SW_HDR__COUNT; id++) {
        const hdr_def *d = &hdr_defs[id];
        unsigned h = hdr_hash(d->name, d->len);
        while (hdr_hash_table[h])
            h = (h + 1) & (HASH_SIZE - 1);
        hdr_hash_table[h] = (uint8_t)id;
        for (size_t i = 0; i < d->len && i < 31; i++)
            lower_names[id][i] = sw__lower(d->name[i]);
        if (d->compact)
            compact_table[d->compact - 'a'] = (uint8_t)id;
    }
}

/* Header names hold letters, digits and '-', and an input name holds token
 * characters only; for those, OR-ing 0x20 folds case without false matches,
 * so eight bytes compare at once. */
static inline int name_eq(const char *in, const char *lc, size_t n)
{
    if (n >= 8) {
        /* whole words, then the last 8 bytes (overlapping) */
        uint64_t a, b;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&a, in + i, 8);
            memcpy(&b, lc + i, 8);
            if ((a | 0x2020202020202020ull) != b)
                return 0;
        }
        memcpy(&a, in + n - 8, 8);
        memcpy(&b, lc + n - 8, 8);
        return (a | 0x2020202020202020ull) == b;
    }
    if (n >= 4) {
        uint32_t a, b, c, d;
        memcpy(&a, in, 4);
        memcpy(&b, lc, 4);
        memcpy(&c, in + n - 4, 4);
        memcpy(&d, lc + n - 4, 4);
        return (a | 0x20202020u) == b && (c | 0x20202020u) == d;
    }
    while (n--)
        if ((*in++ | 0x20) != *lc++)
            return 0;
    return 1;
}

sw_hdr_id sw_hdr_lookup(const char *name, size_t len)
{
    if (len == 0 || len > 255)
        return SW_HDR_OTHER;
    if (len == 1) {
        char c = sw__lower(name[0]);
        return (c >= 'a' && c <= 'z') ? (sw_hdr_id)compact_table[c - 'a'] : SW_HDR_OTHER;
    }
    unsigned h = hdr_hash(name, len);
    for (;;) {
        uint8_t id = hdr_hash_table[h];
        if (!id)
            return SW_HDR_OTHER;
        const hdr_def *d = &hdr_defs[id];
        if (d->len == len && name_eq(name, lower_names[id], len))
            return (sw_hdr_id)id;
        h = (h + 1) & (HASH_SIZE - 1);
    }
}

const char *sw_hdr_name(sw_hdr_id id)
{
    return (unsigned)id < SW_HDR__COUNT ? hdr_defs[id].name : "";
}

unsigned sw_hdr_flags(sw_hdr_id id)
{
    return (unsigned)id < SW_HDR__COUNT ? hdr_defs[id].flags : 0;
}

static const struct {
    const char *name;
    uint8_t len;
} method_defs[SW_METHOD__COUNT] = {
    [SW_METHOD_OTHER] = {"OTHER", 5},
#define METHOD_DEF(m) [SW_METHOD_##m] = {#m, sizeof(#m) - 1},
    SW_METHOD_LIST(METHOD_DEF)
#undef METHOD_DEF
};

sw_method sw_method_lookup(const char *name, size_t len)
{
    /* Methods are case-sensitive; a switch on the first letter keeps it to
     * one or two memcmp calls. */
    if (len < 3 || len > 9)
        return SW_METHOD_OTHER;
    for (int m = 1; m < SW_METHOD__COUNT; m++)
        if (method_defs[m].len == len && method_defs[m].name[0] == name[0] &&
            memcmp(method_defs[m].name, name, len) == 0)
            return (sw_method)m;
    return SW_METHOD_OTHER;
}

const char *sw_method_name(sw_method m)
{
    return (unsigned)m < SW_METHOD__COUNT ? method_defs[m].name : "OTHER";
}
