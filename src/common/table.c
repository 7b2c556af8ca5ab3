/* Bounded hash table with LRU eviction (include/sipwall/table.h).
 *
 * One allocation of `capacity` fixed-size slots: a 16-byte header (hash
 * chain link, LRU links, bucket hash), the value (16-byte aligned, so it
 * can hold any scalar), then the key (8-byte aligned), the slot rounded up
 * to 16 bytes: a key that fits in the value's tail padding costs nothing.
 * Chains and the LRU list link slots by index, so the whole table is two
 * arrays and never grows.  Slots are handed out in order the first time
 * (`fresh`); released slots sit on a free list threaded through `next`.
 * The bucket array is a power of two at least twice the capacity, so
 * chains stay short (load factor <= 0.5) even when the table is full. */
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "sipwall/table.h"

#define NIL UINT32_MAX
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)
#define ALIGN16(n) (((n) + 15u) & ~(size_t)15u)

typedef struct ent_hdr {
    uint32_t hnext;   /* next slot in the same bucket */
    uint32_t prev;    /* LRU: toward the most recently used */
    uint32_t next;    /* LRU: toward the least recently used; free list link */
    uint32_t hash;    /* low 32 bits of the key's hash (bucket + quick reject) */
} ent_hdr;

_Static_assert(sizeof(ent_hdr) == 16, "slot header must keep the key 8-byte aligned");

struct sw_table {
    uint8_t *slots;
    uint32_t *buckets;
    size_t stride, key_size, value_size, key_off;
    uint32_t mask;      /* buckets - 1 */
    uint32_t capacity, count;
    uint32_t free_head;
    uint32_t fresh;     /* slots [fresh, capacity) were never used */
    uint32_t newest, oldest; /* LRU ends */
    uint64_t seed, mseed, evictions; /* mseed: mix_seed(seed), once */
    size_t memory;
    sw_table_evict_fn on_evict;
    void *evict_ctx;
};

/* ---- hashing ------------------------------------------------------------
 * A wyhash-style keyed hash: 64x64->128 multiply folded back to 64 bits
 * ("mum") over 16-byte blocks, three lanes for long inputs.  Fast on short
 * keys (the common case: addresses and 8-32 byte structs) and keyed, so a
 * remote sender cannot precompute colliding keys without the seed. */
#define K0 UINT64_C(0xa0761d6478bd642f)
#define K1 UINT64_C(0xe7037ed1a0b428db)
#define K2 UINT64_C(0x8ebc6af09c88c6e3)
#define K3 UINT64_C(0x589965cc75374cc3)

static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t mix_seed(uint64_t seed) { return seed ^ mum(seed ^ K0, K1); }

/* The hash with its seed already mixed (mix_seed). */
static inline uint64_t hash_mixed(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 4) {
            /* Two overlapping 4-byte reads from each end cover 4..16 bytes. */
            size_t mid = (len >> 3) << 2;
            a = (rd32(p) << 32) | rd32(p + mid);
            b = (rd32(p + len - 4) << 32) | rd32(p + len - 4 - mid);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t s1 = seed, s2 = seed;
            do {
                seed = mum(rd64(p) ^ K1, rd64(p + 8) ^ seed);
                s1 = mum(rd64(p + 16) ^ K2, rd64(p + 24) ^ s1);
                s2 = mum(rd64(p + 32) ^ K3, rd64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = mum(rd64(p) ^ K1, rd64(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        a = rd64(p + i - 16);
        b = rd64(p + i - 8);
    }
    a ^= K1;
    b ^= seed;
    __uint128_t r = (__uint128_t)a * b;
    return mum((uint64_t)r ^ K0 ^ len, (uint64_t)(r >> 64) ^ K1);
}

uint64_t sw_hash64(const void *data, size_t len, uint64_t seed)
{
    return hash_mixed(data, len, mix_seed(seed));
}

static uint64_t random_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) == (ssize_t)sizeof s && s != 0)
        return s;
    /* No entropy yet (early boot): clock and address layout still differ
     * per process, which is all a hash seed needs. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s = sw_hash64(&ts, sizeof ts, (uint64_t)(uintptr_t)&s);
    return s ? s : K0;
}

/* ---- slots --------------------------------------------------------------- */

static inline ent_hdr *slot(const sw_table *t, uint32_t i)
{
    return (ent_hdr *)(t->slots + (size_t)i * t->stride);
}

static inline uint8_t *slot_key(const sw_table *t, uint32_t i)
{
    return t->slots + (size_t)i * t->stride + t->key_off;
}

static inline void *slot_value(const sw_table *t, uint32_t i)
{
    return t->slots + (size_t)i * t->stride + sizeof(ent_hdr);
}

static inline int key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    /* The usual key sizes without a call: hashes, (hash, hash), addresses. */
    switch (n) {
    case 8:
        return rd64(a) == rd64(b);
    case 12:
        return rd64(a) == rd64(b) && rd32(a + 8) == rd32(b + 8);
    case 16:
        return ((rd64(a) ^ rd64(b)) | (rd64(a + 8) ^ rd64(b + 8))) == 0;
    default:
        return memcmp(a, b, n) == 0;
    }
}

static inline uint32_t find(const sw_table *t, const void *key, uint32_t h)
{
    for (uint32_t i = t->buckets[h & t->mask]; i != NIL; i = slot(t, i)->hnext) {
        if (slot(t, i)->hash == h && key_eq(slot_key(t, i), key, t->key_size))
            return i;
    }
    return NIL;
}

static inline void lru_unlink(sw_table *t, uint32_t i)
{
    ent_hdr *e = slot(t, i);
    if (e->prev != NIL)
        slot(t, e->prev)->next = e->next;
    else
        t->newest = e->next;
    if (e->next != NIL)
        slot(t, e->next)->prev = e->prev;
    else
        t->oldest = e->prev;
}

static inline void lru_push_front(sw_table *t, uint32_t i)
{
    ent_hdr *e = slot(t, i);
    e->prev = NIL;
    e->next = t->newest;
    if (t->newest != NIL)
        slot(t, t->newest)->prev = i;
    t->newest = i;
    if (t->oldest == NIL)
        t->oldest = i;
}

static inline void touch(sw_table *t, uint32_t i)
{
    if (t->newest == i)
        return;
    lru_unlink(t, i);
    lru_push_front(t, i);
}

static void hash_unlink(sw_table *t, uint32_t i)
{
    uint32_t *pp = &t->buckets[slot(t, i)->hash & t->mask];
    while (*pp != i)
        pp = &slot(t, *pp)->hnext;
    *pp = slot(t, i)->hnext;
}

/* Unlinks slot i from chain and LRU and puts it on the free list. */
static void release(sw_table *t, uint32_t i)
{
    hash_unlink(t, i);
    lru_unlink(t, i);
    ent_hdr *e = slot(t, i);
    e->next = t->free_head;
    e->prev = e->hnext = NIL;
    t->free_head = i;
    t->count--;
}

static inline uint32_t key_hash(const sw_table *t, const void *key)
{
    return (uint32_t)hash_mixed(key, t->key_size, t->mseed);
}

/* ---- API ----------------------------------------------------------------- */

sw_table *sw_table_new(const sw_table_config *cfg)
{
    if (cfg->key_size < 1 || cfg->key_size > 64 || cfg->capacity < 1 ||
        cfg->capacity > (1u << 26) || cfg->value_size > ((size_t)1 << 24))
        return NULL;
    sw_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->key_size = cfg->key_size;
    t->value_size = cfg->value_size;
    t->key_off = sizeof(ent_hdr) + ALIGN8(cfg->value_size);
    t->stride = ALIGN16(t->key_off + cfg->key_size);
    t->capacity = cfg->capacity;
    uint32_t nb = 2;
    while (nb < 2 * (uint64_t)cfg->capacity)
        nb <<= 1;
    t->mask = nb - 1;
    t->seed = cfg->seed ? cfg->seed : random_seed();
    t->mseed = mix_seed(t->seed);
    t->on_evict = cfg->on_evict;
    t->evict_ctx = cfg->evict_ctx;
    t->slots = malloc(t->stride * cfg->capacity);
    t->buckets = malloc((size_t)nb * sizeof *t->buckets);
    if (!t->slots || !t->buckets) {
        sw_table_free(t);
        return NULL;
    }
    memset(t->buckets, 0xff, (size_t)nb * sizeof *t->buckets); /* all NIL */
    /* Touch every page now: the memory is committed at creation and the
     * process's resident size stays flat under a flood. */
    volatile uint8_t *page = t->slots;
    for (size_t o = 0; o < t->stride * cfg->capacity; o += 4096)
        page[o] = 0;
    t->free_head = NIL;
    t->fresh = 0;
    t->newest = t->oldest = NIL;
    t->memory = sizeof *t + t->stride * cfg->capacity + (size_t)nb * sizeof *t->buckets;
    return t;
}

void sw_table_free(sw_table *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t->buckets);
    free(t);
}

void *sw_table_get(sw_table *t, const void *key)
{
    uint32_t i = find(t, key, key_hash(t, key));
    if (i == NIL)
        return NULL;
    touch(t, i);
    return slot_value(t, i);
}

void *sw_table_peek(const sw_table *t, const void *key)
{
    uint32_t i = find(t, key, key_hash(t, key));
    return i == NIL ? NULL : slot_value(t, i);
}

void *sw_table_upsert(sw_table *t, const void *key, int *created)
{
    uint32_t h = key_hash(t, key);
    uint32_t i = find(t, key, h);
    if (i != NIL) {
        touch(t, i);
        if (created)
            *created = 0;
        return slot_value(t, i);
    }
    if (t->free_head == NIL && t->fresh < t->capacity) {
        i = t->fresh++;
        slot(t, i)->next = NIL;
        t->free_head = i;
    } else if (t->free_head == NIL) {
        /* Full: the least recently used entry makes room.  The callback
         * runs before the slot is reused so it can read what it owned. */
        uint32_t victim = t->oldest;
        if (t->on_evict)
            t->on_evict(t->evict_ctx, slot_key(t, victim), slot_value(t, victim));
        release(t, victim);
        t->evictions++;
    }
    i = t->free_head;
    ent_hdr *e = slot(t, i);
    t->free_head = e->next;
    e->hash = h;
    memcpy(slot_key(t, i), key, t->key_size);
    memset(slot_value(t, i), 0, t->value_size);
    e->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = i;
    lru_push_front(t, i);
    t->count++;
    if (created)
        *created = 1;
    return slot_value(t, i);
}

int sw_table_remove(sw_table *t, const void *key)
{
    uint32_t i = find(t, key, key_hash(t, key));
    if (i == NIL)
        return SW_ENOTFOUND;
    release(t, i);
    return SW_OK;
}

void sw_table_remove_value(sw_table *t, void *value)
{
    size_t off = (size_t)((uint8_t *)value - t->slots) - sizeof(ent_hdr);
    uint32_t i = (uint32_t)(off / t->stride);
    if (i < t->fresh && off % t->stride == 0)
        release(t, i);
}

void *sw_table_oldest(sw_table *t, const void **key_out)
{
    if (t->oldest == NIL) {
        if (key_out)
            *key_out = NULL;
        return NULL;
    }
    if (key_out)
        *key_out = slot_key(t, t->oldest);
    return slot_value(t, t->oldest);
}

void sw_table_foreach(sw_table *t, sw_table_visit_fn fn, void *ctx)
{
    for (uint32_t i = t->newest; i != NIL; i = slot(t, i)->next)
        fn(ctx, slot_key(t, i), slot_value(t, i));
}

void sw_table_foreach_oldest(sw_table *t, sw_table_visit_fn fn, void *ctx)
{
    for (uint32_t i = t->oldest; i != NIL; i = slot(t, i)->prev)
        fn(ctx, slot_key(t, i), slot_value(t, i));
}

uint32_t sw_table_count(const sw_table *t) { return t->count; }
uint32_t sw_table_capacity(const sw_table *t) { return t->capacity; }
size_t sw_table_value_size(const sw_table *t) { return t->value_size; }
size_t sw_table_key_size(const sw_table *t) { return t->key_size; }
uint64_t sw_table_evictions(const sw_table *t) { return t->evictions; }
size_t sw_table_memory(const sw_table *t) { return t->memory; }
