/* ASCII case-insensitive string set: open addressing with linear probing
 * over FNV-1a hashes of the lower-cased bytes; the table stays at most half
 * full.  Keys are copied; lookups never allocate. */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

typedef struct sentry {
    char *key; /* NULL = empty slot */
    size_t len;
    uint64_t hash;
    uint32_t value;
} sentry;

struct sw_string_set {
    sentry *slots;
    size_t cap; /* power of two */
    size_t count;
};

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static uint64_t hash_ci(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= lower((unsigned char)p[i]);
        h *= 1099511628211ull;
    }
    return h;
}

static int eq_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

sw_string_set *sw_string_set_new(void)
{
    sw_string_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cap = 16;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

void sw_string_set_free(sw_string_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].key);
    free(s->slots);
    free(s);
}

static sentry *find_slot(sentry *slots, size_t cap, const char *p, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        sentry *e = &slots[i];
        if (!e->key || (e->hash == h && e->len == n && eq_ci(e->key, p, n)))
            return e;
        i = (i + 1) & (cap - 1);
    }
}

static int grow(sw_string_set *s)
{
    if (s->cap > SIZE_MAX / 2 / sizeof(sentry))
        return SW_ENOMEM;
    size_t ncap = s->cap * 2;
    sentry *n = calloc(ncap, sizeof *n);
    if (!n)
        return SW_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        sentry *e = &s->slots[i];
        if (e->key)
            *find_slot(n, ncap, e->key, e->len, e->hash) = *e;
    }
    free(s->slots);
    s->slots = n;
    s->cap = ncap;
    return SW_OK;
}

int sw_string_set_add(sw_string_set *s, sw_str v, uint32_t value)
{
    if (v.len && !v.ptr)
        return SW_EINVAL;
    if ((s->count + 1) * 2 > s->cap && grow(s) != SW_OK)
        return SW_ENOMEM;
    uint64_t h = hash_ci(v.ptr, v.len);
    sentry *e = find_slot(s->slots, s->cap, v.ptr, v.len, h);
    if (e->key) {
        e->value = value; /* the same string again replaces the value */
        return SW_OK;
    }
    char *k = malloc(v.len + 1);
    if (!k)
        return SW_ENOMEM;
    if (v.len)
        memcpy(k, v.ptr, v.len);
    k[v.len] = '\0';
    e->key = k;
    e->len = v.len;
    e->hash = h;
    e->value = value;
    s->count++;
    return SW_OK;
}

int sw_string_set_lookup(const sw_string_set *s, sw_str v, uint32_t *value)
{
    if (!s || (v.len && !v.ptr))
        return 0;
    uint64_t h = hash_ci(v.ptr, v.len);
    const sentry *e = find_slot(s->slots, s->cap, v.ptr, v.len, h);
    if (!e->key)
        return 0;
    if (value)
        *value = e->value;
    return 1;
}

size_t sw_string_set_count(const sw_string_set *s)
{
    return s ? s->count : 0;
}
