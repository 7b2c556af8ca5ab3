/* The state store's dispatch (include/sipwall/engine.h "the state store"):
 * one struct of function pointers per backend, and the renewal rule every
 * backend applies to a block. */
#include <stdlib.h>

#include "engine/engine_int.h"

struct sw_state_store {
    sw_state_ops ops;
    void *self;
};

sw_state_store *sw_state_new(const sw_state_ops *ops, void *self)
{
    sw_state_store *s = NULL;
    if (ops->block_set && ops->block_hit && ops->block_get && ops->block_remove && ops->block_foreach &&
        ops->kinds && ops->window_hit && ops->window_take_held && ops->resize && ops->stats && ops->free)
        s = calloc(1, sizeof *s);
    if (!s) {
        if (ops->free)
            ops->free(self);
        return NULL;
    }
    s->ops = *ops;
    s->self = self;
    return s;
}

void sw_state_free(sw_state_store *s)
{
    if (!s)
        return;
    s->ops.free(s->self);
    free(s);
}

int64_t sw_state_block_renew(const sw_state_block *old, const sw_state_block *b, int64_t dur_ns,
                             sw_state_block *nb)
{
    int64_t now = b->since;
    uint8_t offences = old ? old->offences : 0;
    /* a repeat offence within a day of the last block's end doubles it */
    if (old && offences && now - old->until < SW_STATE_BLOCK_CAP_NS) {
        for (unsigned i = 0; i < offences && dur_ns < SW_STATE_BLOCK_CAP_NS; i++)
            dur_ns *= 2;
    }
    if (dur_ns > SW_STATE_BLOCK_CAP_NS)
        dur_ns = SW_STATE_BLOCK_CAP_NS;
    nb->offences = (uint8_t)(offences < 16 ? offences + 1 : 16);
    nb->active = 1;
    nb->since = now;
    nb->until = now + dur_ns;
    return nb->until;
}

int64_t sw_state_block_set(sw_state_store *s, const sw_state_block *b, int64_t dur_ns,
                           sw_state_block *evicted, int *nevicted)
{
    *nevicted = 0;
    if (!b->id[0] || dur_ns <= 0 || b->kind == SW_STATE_KIND_ALL)
        return 0;
    return s->ops.block_set(s->self, b, dur_ns, evicted, nevicted);
}

int sw_state_block_hit(sw_state_store *s, uint8_t kind, const char *id, int64_t now,
                       const sw_state_where *at, sw_state_block *out, int *ended)
{
    *ended = 0;
    return s->ops.block_hit(s->self, kind, id, now, at, out, ended);
}

int sw_state_block_get(sw_state_store *s, uint8_t kind, const char *id, sw_state_block *out)
{
    return s->ops.block_get(s->self, kind, id, out);
}

int sw_state_block_remove(sw_state_store *s, uint8_t kind, const char *id)
{
    return s->ops.block_remove(s->self, kind, id);
}

void sw_state_block_foreach(sw_state_store *s, sw_state_block_fn fn, void *ctx)
{
    s->ops.block_foreach(s->self, fn, ctx);
}

const _Atomic uint32_t *sw_state_kinds(sw_state_store *s)
{
    return s->ops.kinds(s->self);
}

int sw_state_window_hit(sw_state_store *s, uint64_t key, int64_t now, int64_t win_ns, int take,
                        uint64_t limit, sw_state_window *cur, sw_state_window *rolled)
{
    return s->ops.window_hit(s->self, key, now, win_ns, take, limit, cur, rolled);
}

uint64_t sw_state_window_take_held(sw_state_store *s, uint64_t key)
{
    return s->ops.window_take_held(s->self, key);
}

int sw_state_resize(sw_state_store *s, uint32_t capacity, uint64_t *migrated, uint64_t *dropped)
{
    *migrated = *dropped = 0;
    if (capacity == 0)
        return SW_EINVAL;
    return s->ops.resize(s->self, capacity, migrated, dropped);
}

void sw_state_stats_get(sw_state_store *s, sw_state_stats *out)
{
    s->ops.stats(s->self, out);
}

int sw_state_block_put(sw_state_store *s, const sw_state_block *b, sw_state_block *evicted, int *nevicted)
{
    *nevicted = 0;
    if (!s->ops.block_put || !b->id[0] || b->kind == SW_STATE_KIND_ALL || b->until <= b->since)
        return SW_EUSAGE;
    return s->ops.block_put(s->self, b, evicted, nevicted);
}

/* ---- names and keys for operators ------------------------------------------------ */

static const char *const origin_names[] = {"rule", "admin", "feed"};

const char *sw_block_origin_name(unsigned origin)
{
    return origin < sizeof origin_names / sizeof origin_names[0] ? origin_names[origin] : NULL;
}

static const char *const kind_names[] = {
    [SW_OFFENDER_SOURCE] = "source", [SW_OFFENDER_CALLER] = "caller",
    [SW_OFFENDER_CALLER_PREFIX] = "caller_prefix", [SW_OFFENDER_CALLEE] = "callee",
    [SW_OFFENDER_USER] = "user", [SW_OFFENDER_PEER] = "peer",
    [SW_OFFENDER_CALLER_RANGE] = "caller_range", [SW_OFFENDER_CALLEE_RANGE] = "callee_range",
};

const char *sw_offender_kind_name(unsigned kind)
{
    return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : NULL;
}

int sw_offender_kind_lookup(const char *name, uint8_t *kind)
{
    for (unsigned i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(kind_names[i], name) == 0) {
            *kind = (uint8_t)i;
            return SW_OK;
        }
    }
    return SW_ENOTFOUND;
}

int sw_state_block_key(uint8_t kind, const char *text, char id[SW_STATE_ID_MAX])
{
    memset(id, 0, SW_STATE_ID_MAX);
    size_t n = strnlen(text, SW_STATE_ID_MAX);
    if (n == 0 || n >= SW_STATE_ID_MAX || !sw_offender_kind_name(kind))
        return SW_EINVAL;
    if (kind == SW_OFFENDER_SOURCE) {
        char ip[SW_STATE_ID_MAX];
        memcpy(ip, text, n + 1);
        if (n > 3 && strcmp(ip + n - 3, "/64") == 0)
            ip[n - 3] = '\0';
        sw_addr a;
        if (sw_addr_parse(ip, &a) != SW_OK || (a.family != 4 && a.family != 6))
            return SW_EINVAL;
        if (strchr(text, '/') && a.family != 6)
            return SW_EINVAL;
        sw__key_source(&a, id);
        return id[0] ? SW_OK : SW_EINVAL;
    }
    if (kind == SW_OFFENDER_CALLER_RANGE || kind == SW_OFFENDER_CALLEE_RANGE) {
        /* "+" and 1..15 digits: the form the engine's numbers take */
        if (text[0] != '+' || n < 2 || n > 16)
            return SW_EINVAL;
        for (size_t i = 1; i < n; i++)
            if (text[i] < '0' || text[i] > '9')
                return SW_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        if (text[i] <= 0x20 || text[i] >= 0x7f)
            return SW_EINVAL;
    memcpy(id, text, n);
    return SW_OK;
}
