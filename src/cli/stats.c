/* Bounded counters for the check summary. */
#include "stats.h"

#include <stddef.h>
#include <stdlib.h>

int cli_tally_init(cli_tally *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->e = calloc(cap ? cap : 1, sizeof *t->e);
    if (!t->e)
        return SW_ENOMEM;
    t->cap = cap ? cap : 1;
    return SW_OK;
}

void cli_tally_free(cli_tally *t)
{
    free(t->e);
    memset(t, 0, sizeof *t);
}

void cli_tally_add(cli_tally *t, sw_str name, uint64_t k)
{
    size_t len = name.len < CLI_TALLY_NAME - 1 ? name.len : CLI_TALLY_NAME - 1;
    /* Linear: tallies hold a few dozen names and are touched per message
     * class, not per byte. */
    for (size_t i = 0; i < t->n; i++) {
        if (t->e[i].len == len && memcmp(t->e[i].name, name.ptr, len) == 0) {
            t->e[i].count += k;
            return;
        }
    }
    if (t->n == t->cap) {
        t->other += k;
        return;
    }
    cli_tally_entry *e = &t->e[t->n++];
    if (len)
        memcpy(e->name, name.ptr, len);
    e->name[len] = '\0';
    e->len = (uint8_t)len;
    e->count = k;
}

/* Inserts item into slot[0..got), kept sorted by the uint64_t count at
 * count_off in each item, largest first, at most max long; ties keep their
 * arrival order.  Returns the new number of slots used. */
static size_t top_keep(const void **slot, size_t got, size_t max, const void *item, size_t count_off)
{
#define COUNT_OF(p) (*(const uint64_t *)(const void *)((const char *)(p) + count_off))
    uint64_t count = COUNT_OF(item);
    size_t at = got;
    while (at > 0 && COUNT_OF(slot[at - 1]) < count)
        at--;
#undef COUNT_OF
    if (at >= max)
        return got;
    size_t last = got < max ? got : max - 1;
    memmove(slot + at + 1, slot + at, (last - at) * sizeof *slot);
    slot[at] = item;
    return got < max ? got + 1 : got;
}

size_t cli_tally_top(const cli_tally *t, const cli_tally_entry **out, size_t max)
{
    size_t got = 0;
    for (size_t i = 0; i < t->n; i++)
        got = top_keep((const void **)out, got, max, &t->e[i], offsetof(cli_tally_entry, count));
    return got;
}

int cli_src_init(cli_src_table *t, size_t cap_pow2)
{
    memset(t, 0, sizeof *t);
    t->e = calloc(cap_pow2, sizeof *t->e);
    if (!t->e)
        return SW_ENOMEM;
    t->cap = cap_pow2;
    return SW_OK;
}

void cli_src_free(cli_src_table *t)
{
    free(t->e);
    memset(t, 0, sizeof *t);
}

static uint64_t addr_hash(const sw_addr *a)
{
    /* FNV-1a over the bytes that identify the endpoint. */
    uint64_t h = 1469598103934665603ull;
    size_t iplen = a->family == 4 ? 4 : 16;
    h = (h ^ a->family) * 1099511628211ull;
    h = (h ^ (a->port & 0xff)) * 1099511628211ull;
    h = (h ^ (a->port >> 8)) * 1099511628211ull;
    for (size_t i = 0; i < iplen; i++)
        h = (h ^ a->ip[i]) * 1099511628211ull;
    return h;
}

void cli_src_add(cli_src_table *t, const sw_addr *a)
{
    if (a->family == 0 || t->cap == 0) {
        t->other++;
        return;
    }
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)addr_hash(a) & mask, probes = 0; probes < t->cap;
         i = (i + 1) & mask, probes++) {
        cli_src_entry *e = &t->e[i];
        if (e->addr.family == 0) {
            if (t->n >= t->cap / 4 * 3) {
                t->other++; /* full: no growth under a flood */
                return;
            }
            e->addr = *a;
            e->count = 1;
            t->n++;
            return;
        }
        if (sw_addr_eq(&e->addr, a)) {
            e->count++;
            return;
        }
    }
    t->other++;
}

size_t cli_src_top(const cli_src_table *t, const cli_src_entry **out, size_t max)
{
    size_t got = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->e[i].addr.family != 0)
            got = top_keep((const void **)out, got, max, &t->e[i], offsetof(cli_src_entry, count));
    return got;
}
