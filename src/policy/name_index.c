/* Case-sensitive name -> index map for the policy builder and the compiled
 * policy: open addressing with linear probing, at most half full, over
 * sw_hash64 of the name.  Names are not copied (the caller's definitions
 * own them). */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"
#include "sipwall/table.h"

#define NAME_SEED UINT64_C(0x5157a11c0de5eed5)

typedef struct nslot {
    const char *name; /* NULL: empty */
    uint64_t hash;
    uint32_t value;
} nslot;

struct sw__name_index {
    nslot *slots;
    size_t cap; /* power of two */
    size_t count;
    uint64_t *compares;
};

sw__name_index *sw__name_index_new(uint64_t *compares)
{
    sw__name_index *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->cap = 64;
    x->slots = calloc(x->cap, sizeof *x->slots);
    if (!x->slots) {
        free(x);
        return NULL;
    }
    x->compares = compares;
    return x;
}

void sw__name_index_free(sw__name_index *x)
{
    if (!x)
        return;
    free(x->slots);
    free(x);
}

/* The slot holding name, or the empty slot where it would go. */
static nslot *find(const sw__name_index *x, const char *name, uint64_t h)
{
    size_t mask = x->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        nslot *s = &x->slots[i];
        if (!s->name)
            return s;
        if (s->hash == h) {
            if (x->compares)
                (*x->compares)++;
            if (strcmp(s->name, name) == 0)
                return s;
        }
    }
}

int sw__name_index_get(const sw__name_index *x, const char *name, uint32_t *value)
{
    if (!x)
        return 0;
    nslot *s = find(x, name, sw_hash64(name, strlen(name), NAME_SEED));
    if (!s->name)
        return 0;
    *value = s->value;
    return 1;
}

static int grow(sw__name_index *x)
{
    size_t ncap = x->cap * 2;
    nslot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return SW_ENOMEM;
    for (size_t i = 0; i < x->cap; i++) {
        const nslot *s = &x->slots[i];
        if (!s->name)
            continue;
        size_t j = (size_t)s->hash & (ncap - 1);
        while (ns[j].name)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(x->slots);
    x->slots = ns;
    x->cap = ncap;
    return SW_OK;
}

int sw__name_index_put(sw__name_index *x, const char *name, uint32_t value)
{
    if ((x->count + 1) * 2 > x->cap && grow(x) != SW_OK)
        return SW_ENOMEM;
    uint64_t h = sw_hash64(name, strlen(name), NAME_SEED);
    nslot *s = find(x, name, h);
    if (!s->name)
        x->count++;
    s->name = name;
    s->hash = h;
    s->value = value;
    return SW_OK;
}
