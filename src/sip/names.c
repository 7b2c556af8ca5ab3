/* Header-name and method tables, generated from the X-macro lists in sip.h.
 * Lookups hash (length, first, last character) into a small open-addressing
 * table built once at load time, so matching a known header costs one
 * probe and one case-insensitive compare (the lookup itself is inline in
 * internal.h, for the parser's loop). */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

const sw__hdr_def sw__hdr_defs[SW_HDR__COUNT] = {
    [SW_HDR_OTHER] = {"", 0, 0, 0},
#define HDR_DEF(id, nm, c, fl) [SW_HDR_##id] = {nm, sizeof(nm) - 1, c, fl},
    SW_HEADER_LIST(HDR_DEF)
#undef HDR_DEF
};

#define HASH_SIZE SW__HDR_HASH_SIZE
_Static_assert(SW_HDR__COUNT < HASH_SIZE / 2, "header hash table too full");
_Static_assert(sizeof("P-Charging-Function-Addresses") < 32, "a header name outgrew the lower-case names");

uint8_t sw__hdr_hash_table[HASH_SIZE]; /* sw_hdr_id, 0 = empty */
uint8_t sw__hdr_compact_table[26];
char sw__hdr_lower_names[SW_HDR__COUNT][32]; /* canonical names in lower case */

__attribute__((constructor)) static void build_tables(void)
{
    for (int id = 1; id < SW_HDR__COUNT; id++) {
        const sw__hdr_def *d = &sw__hdr_defs[id];
        unsigned h = sw__hdr_hash(d->name, d->len);
        while (sw__hdr_hash_table[h])
            h = (h + 1) & (HASH_SIZE - 1);
        sw__hdr_hash_table[h] = (uint8_t)id;
        for (size_t i = 0; i < d->len && i < 31; i++)
            sw__hdr_lower_names[id][i] = sw__lower(d->name[i]);
        if (d->compact)
            sw__hdr_compact_table[d->compact - 'a'] = (uint8_t)id;
    }
}

sw_hdr_id sw_hdr_lookup(const char *name, size_t len)
{
    return sw__hdr_lookup(name, len);
}

const char *sw_hdr_name(sw_hdr_id id)
{
    return (unsigned)id < SW_HDR__COUNT ? sw__hdr_defs[id].name : "";
}

unsigned sw_hdr_flags(sw_hdr_id id)
{
    return (unsigned)id < SW_HDR__COUNT ? sw__hdr_defs[id].flags : 0;
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
    for (int m = 1; m < SW_METHOD__COUNT; m++) {
        if (method_defs[m].len != len || method_defs[m].name[0] != name[0])
            continue;
        size_t i = 1; /* at most 9 bytes: no call to memcmp */
        while (i < len && method_defs[m].name[i] == name[i])
            i++;
        if (i == len)
            return (sw_method)m;
    }
    return SW_METHOD_OTHER;
}

const char *sw_method_name(sw_method m)
{
    return (unsigned)m < SW_METHOD__COUNT ? method_defs[m].name : "OTHER";
}
