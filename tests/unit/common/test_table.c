/* The bounded LRU hash table: basic operations, LRU order and eviction,
 * the eviction callback, capacity 1, constant memory, and a million
 * random keys through a small table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sipwall/table.h"

typedef struct val {
    uint64_t a;
    uint32_t b;
} val;

typedef struct evict_log {
    uint32_t n;
    uint32_t keys[64];
    uint64_t vals[64];
} evict_log;

static void on_evict(void *ctx, const void *key, void *value)
{
    evict_log *log = ctx;
    uint32_t k;
    memcpy(&k, key, sizeof k);
    if (log->n < 64) {
        log->keys[log->n] = k;
        log->vals[log->n] = ((val *)value)->a;
    }
    log->n++;
}

static sw_table *mk(uint32_t cap, evict_log *log)
{
    sw_table_config cfg = {.key_size = sizeof(uint32_t),
                           .value_size = sizeof(val),
                           .capacity = cap,
                           .on_evict = log ? on_evict : NULL,
                           .evict_ctx = log};
    sw_table *t = sw_table_new(&cfg);
    assert_non_null(t);
    return t;
}

static val *put(sw_table *t, uint32_t k, uint64_t a)
{
    int created = -1;
    val *v = sw_table_upsert(t, &k, &created);
    assert_non_null(v);
    assert_int_equal(created, 1);
    assert_int_equal(v->a, 0); /* zeroed on insert */
    v->a = a;
    return v;
}

static void test_bad_config(void **state)
{
    (void)state;
    sw_table_config cfg = {.key_size = 0, .value_size = 8, .capacity = 4};
    assert_null(sw_table_new(&cfg));
    cfg.key_size = 65;
    assert_null(sw_table_new(&cfg));
    cfg.key_size = 8;
    cfg.capacity = 0;
    assert_null(sw_table_new(&cfg));
    cfg.capacity = (1u << 26) + 1;
    assert_null(sw_table_new(&cfg));
    cfg.capacity = 4;
    cfg.value_size = 0; /* a set */
    sw_table *t = sw_table_new(&cfg);
    assert_non_null(t);
    uint64_t k = 7;
    assert_non_null(sw_table_upsert(t, &k, NULL));
    assert_non_null(sw_table_peek(t, &k));
    assert_int_equal(sw_table_count(t), 1);
    sw_table_free(t);
    sw_table_free(NULL);
}

static void test_insert_get_remove(void **state)
{
    (void)state;
    sw_table *t = mk(16, NULL);
    for (uint32_t k = 0; k < 10; k++)
        put(t, k * 977, k + 100);
    assert_int_equal(sw_table_count(t), 10);
    for (uint32_t k = 0; k < 10; k++) {
        uint32_t key = k * 977;
        val *v = sw_table_get(t, &key);
        assert_non_null(v);
        assert_int_equal(v->a, k + 100);
    }
    uint32_t missing = 5;
    assert_null(sw_table_get(t, &missing));
    assert_null(sw_table_peek(t, &missing));

    /* Upsert of an existing key returns the same value, not zeroed. */
    uint32_t k3 = 3 * 977;
    int created = -1;
    val *v = sw_table_upsert(t, &k3, &created);
    assert_int_equal(created, 0);
    assert_int_equal(v->a, 103);

    assert_int_equal(sw_table_remove(t, &k3), SW_OK);
    assert_int_equal(sw_table_remove(t, &k3), SW_ENOTFOUND);
    assert_null(sw_table_get(t, &k3));
    assert_int_equal(sw_table_count(t), 9);

    uint32_t k4 = 4 * 977;
    v = sw_table_get(t, &k4);
    sw_table_remove_value(t, v);
    assert_null(sw_table_peek(t, &k4));
    assert_int_equal(sw_table_count(t), 8);

    /* Re-inserting a removed key gives a fresh zeroed value. */
    put(t, k3, 1);
    assert_int_equal(sw_table_count(t), 9);
    assert_int_equal(sw_table_evictions(t), 0);
    sw_table_free(t);
}

static void test_lru_eviction_order(void **state)
{
    (void)state;
    evict_log log = {0};
    sw_table *t = mk(4, &log);
    for (uint32_t k = 1; k <= 4; k++)
        put(t, k, k * 10);
    /* get refreshes 1; peek does not refresh 2. */
    uint32_t k1 = 1, k2 = 2;
    assert_non_null(sw_table_get(t, &k1));
    assert_non_null(sw_table_peek(t, &k2));
    const void *okey = NULL;
    val *old = sw_table_oldest(t, &okey);
    assert_non_null(old);
    assert_int_equal(*(const uint32_t *)okey, 2);
    assert_int_equal(old->a, 20);

    put(t, 5, 50); /* evicts 2 */
    put(t, 6, 60); /* evicts 3 */
    assert_int_equal(log.n, 2);
    assert_int_equal(log.keys[0], 2);
    assert_int_equal(log.vals[0], 20);
    assert_int_equal(log.keys[1], 3);
    assert_int_equal(log.vals[1], 30);
    assert_int_equal(sw_table_evictions(t), 2);
    assert_int_equal(sw_table_count(t), 4);
    assert_null(sw_table_peek(t, &k2));
    assert_non_null(sw_table_peek(t, &k1));

    /* Upsert of an existing key refreshes it too. */
    uint32_t k4 = 4;
    assert_non_null(sw_table_upsert(t, &k4, NULL));
    put(t, 7, 70); /* evicts 1 (order now 4 6 5 1 from newest) */
    assert_int_equal(log.keys[2], 1);

    /* remove is not an eviction */
    uint32_t k5 = 5;
    assert_int_equal(sw_table_remove(t, &k5), SW_OK);
    assert_int_equal(log.n, 3);
    sw_table_free(t);
    assert_int_equal(log.n, 3); /* nor is free */
}

typedef struct order {
    uint32_t n;
    uint32_t keys[16];
} order;

static void visit(void *ctx, const void *key, void *value)
{
    order *o = ctx;
    (void)value;
    memcpy(&o->keys[o->n++], key, sizeof(uint32_t));
}

static void test_foreach_and_oldest(void **state)
{
    (void)state;
    sw_table *t = mk(8, NULL);
    assert_null(sw_table_oldest(t, NULL));
    const void *kp = (const void *)1;
    assert_null(sw_table_oldest(t, &kp));
    assert_null(kp);
    for (uint32_t k = 1; k <= 5; k++)
        put(t, k, k);
    uint32_t k3 = 3;
    assert_non_null(sw_table_get(t, &k3));
    order o = {0};
    sw_table_foreach(t, visit, &o);
    assert_int_equal(o.n, 5);
    uint32_t want[] = {3, 5, 4, 2, 1};
    for (int i = 0; i < 5; i++)
        assert_int_equal(o.keys[i], want[i]);

    /* Age-based expiry: remove oldest until empty. */
    uint32_t n = 0;
    val *v;
    while ((v = sw_table_oldest(t, NULL)) != NULL) {
        sw_table_remove_value(t, v);
        n++;
    }
    assert_int_equal(n, 5);
    assert_int_equal(sw_table_count(t), 0);
    sw_table_free(t);
}

static void test_capacity_one(void **state)
{
    (void)state;
    evict_log log = {0};
    sw_table *t = mk(1, &log);
    assert_int_equal(sw_table_capacity(t), 1);
    for (uint32_t k = 0; k < 10; k++) {
        put(t, k, k + 1);
        assert_int_equal(sw_table_count(t), 1);
        const void *okey;
        val *v = sw_table_oldest(t, &okey);
        assert_int_equal(*(const uint32_t *)okey, k);
        assert_int_equal(v->a, k + 1);
    }
    assert_int_equal(log.n, 9);
    assert_int_equal(log.keys[8], 8);
    uint32_t k9 = 9;
    assert_int_equal(sw_table_remove(t, &k9), SW_OK);
    assert_int_equal(sw_table_count(t), 0);
    put(t, 42, 1);
    assert_int_equal(log.n, 9);
    sw_table_free(t);
}

static void test_wide_keys(void **state)
{
    (void)state;
    /* 64-byte keys differing only in the last byte, odd value size. */
    sw_table_config cfg = {.key_size = 64, .value_size = 3, .capacity = 100, .seed = 1};
    sw_table *t = sw_table_new(&cfg);
    assert_non_null(t);
    uint8_t key[64] = {0};
    for (int i = 0; i < 100; i++) {
        key[63] = (uint8_t)i;
        uint8_t *v = sw_table_upsert(t, key, NULL);
        memset(v, i, 3);
    }
    for (int i = 0; i < 100; i++) {
        key[63] = (uint8_t)i;
        uint8_t *v = sw_table_peek(t, key);
        assert_non_null(v);
        assert_int_equal(v[0], i);
        assert_int_equal(v[2], i);
        assert_true(((uintptr_t)v & 15) == 0);
    }
    sw_table_free(t);
}

static void test_hash(void **state)
{
    (void)state;
    uint8_t buf[200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    /* Deterministic per seed, different across seeds and lengths. */
    for (size_t len = 0; len <= sizeof buf; len++) {
        uint64_t h = sw_hash64(buf, len, 1);
        assert_true(h == sw_hash64(buf, len, 1));
        assert_true(h != sw_hash64(buf, len, 2));
        if (len > 0)
            assert_true(h != sw_hash64(buf, len - 1, 1));
    }
    /* One flipped bit changes about half the output bits. */
    uint32_t total = 0;
    for (size_t bit = 0; bit < 8 * 40; bit++) {
        uint8_t k[40];
        memcpy(k, buf, 40);
        uint64_t h0 = sw_hash64(k, 40, 99);
        k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        total += (uint32_t)__builtin_popcountll(h0 ^ sw_hash64(k, 40, 99));
    }
    double avg = (double)total / (8 * 40);
    assert_true(avg > 28 && avg < 36);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void count_evict(void *ctx, const void *key, void *value)
{
    (void)key;
    (void)value;
    (*(uint64_t *)ctx)++;
}

static void test_million_random_keys(void **state)
{
    (void)state;
    uint64_t evicted = 0;
    sw_table_config cfg = {.key_size = 16, .value_size = 40, .capacity = 4096,
                           .on_evict = count_evict, .evict_ctx = &evicted};
    sw_table *t = sw_table_new(&cfg);
    assert_non_null(t);
    size_t mem = sw_table_memory(t);
    assert_true(mem >= 4096 * (16 + 40));
    const uint32_t n = 1000000;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t key[2] = {rnd(), i}; /* distinct by construction */
        int created = 0;
        uint64_t *v = sw_table_upsert(t, key, &created);
        assert_true(created);
        v[0] = i;
    }
    assert_int_equal(sw_table_count(t), 4096);
    assert_int_equal(sw_table_evictions(t), n - 4096);
    assert_int_equal(evicted, n - 4096);
    assert_int_equal(sw_table_memory(t), mem);
    /* The survivors are the last 4096 keys, newest first. */
    const void *okey;
    uint64_t *ov = sw_table_oldest(t, &okey);
    assert_int_equal(ov[0], n - 4096);
    sw_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_insert_get_remove),
        cmocka_unit_test(test_lru_eviction_order),
        cmocka_unit_test(test_foreach_and_oldest),
        cmocka_unit_test(test_capacity_one),
        cmocka_unit_test(test_wide_keys),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_million_random_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
