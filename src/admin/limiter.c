/* The login limiter (include/sipwall/admin.h): refuses before any hashing.
 * Per source a token bucket in a bounded LRU table (sw_table), one global
 * bucket, and a cap on verifications at once; one mutex (the API has one
 * thread today, the limiter does not rely on it). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/admin.h"
#include "sipwall/table.h"

#define MILLI 1000 /* tokens are kept in thousandths */

typedef struct srckey {
    uint8_t family;
    uint8_t ip[16];
} srckey;

typedef struct bucket {
    int64_t tokens_milli;
    int64_t last_ns;
} bucket;

struct sw_admin_limiter {
    pthread_mutex_t mu;
    sw_table *src;
    sw_admin_limits lim;
    bucket global;
    unsigned busy;
    sw_admin_limiter_stats st;
};

sw_admin_limiter *sw_admin_limiter_new(const sw_admin_limits *l)
{
    sw_admin_limiter *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    if (l)
        x->lim = *l;
    if (!x->lim.capacity)
        x->lim.capacity = 4096;
    if (!x->lim.burst)
        x->lim.burst = 5;
    if (!x->lim.per_min)
        x->lim.per_min = 12;
    if (!x->lim.global_per_s)
        x->lim.global_per_s = 20;
    if (!x->lim.max_concurrent)
        x->lim.max_concurrent = 2;
    sw_table_config tc = {.key_size = sizeof(srckey), .value_size = sizeof(bucket),
                          .capacity = x->lim.capacity};
    if (!(x->src = sw_table_new(&tc))) {
        free(x);
        return NULL;
    }
    x->global.tokens_milli = (int64_t)x->lim.global_per_s * MILLI;
    pthread_mutex_init(&x->mu, NULL);
    return x;
}

void sw_admin_limiter_free(sw_admin_limiter *l)
{
    if (!l)
        return;
    sw_table_free(l->src);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* an IPv6 source is its /64: one host or subscriber has the whole of it */
static void key_of(const sw_addr *a, srckey *k)
{
    memset(k, 0, sizeof *k);
    k->family = a->family;
    memcpy(k->ip, a->ip, a->family == 6 ? 8 : 16);
}

static void refill(bucket *b, int64_t now, int64_t cap_milli, int64_t milli_per_s)
{
    int64_t dt = now - b->last_ns;
    if (dt < 0 || b->last_ns == 0) { /* a clock step back, or first use */
        b->last_ns = now;
        return;
    }
    /* at most a minute counts: no overflow (the cap applies anyway) */
    if (dt > 60 * INT64_C(1000000000))
        dt = 60 * INT64_C(1000000000);
    int64_t add = dt / 1000 * milli_per_s / 1000000; /* µs x milli/s */
    if (add == 0)
        return; /* too soon for a thousandth: keep last_ns, the time still counts */
    b->tokens_milli += add;
    if (b->tokens_milli > cap_milli)
        b->tokens_milli = cap_milli;
    b->last_ns = now;
}

int sw_admin_limiter_take(sw_admin_limiter *l, const sw_addr *src, int64_t now_ns)
{
    srckey k;
    key_of(src, &k);
    pthread_mutex_lock(&l->mu);
    int rc = SW_ELIMIT;
    int64_t cap = (int64_t)l->lim.burst * MILLI;
    int created;
    uint64_t ev0 = sw_table_evictions(l->src);
    bucket *b = sw_table_upsert(l->src, &k, &created);
    l->st.evictions += sw_table_evictions(l->src) - ev0;
    if (created) {
        b->tokens_milli = cap;
        b->last_ns = now_ns;
    }
    refill(b, now_ns, cap, (int64_t)l->lim.per_min * MILLI / 60);
    refill(&l->global, now_ns, (int64_t)l->lim.global_per_s * MILLI, (int64_t)l->lim.global_per_s * MILLI);
    if (b->tokens_milli < MILLI) {
        l->st.refused_source++;
    } else if (l->global.tokens_milli < MILLI) {
        l->st.refused_global++;
    } else if (l->busy >= l->lim.max_concurrent) {
        l->st.refused_busy++;
    } else {
        b->tokens_milli -= MILLI;
        l->global.tokens_milli -= MILLI;
        l->busy++;
        l->st.taken++;
        rc = SW_OK;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void sw_admin_limiter_done(sw_admin_limiter *l, const sw_addr *src, int ok)
{
    srckey k;
    key_of(src, &k);
    pthread_mutex_lock(&l->mu);
    if (l->busy)
        l->busy--;
    if (ok) {
        bucket *b = sw_table_peek(l->src, &k);
        int64_t cap = (int64_t)l->lim.burst * MILLI;
        if (b && (b->tokens_milli += MILLI) > cap)
            b->tokens_milli = cap;
    }
    pthread_mutex_unlock(&l->mu);
}

void sw_admin_limiter_stats_get(sw_admin_limiter *l, sw_admin_limiter_stats *out)
{
    pthread_mutex_lock(&l->mu);
    *out = l->st;
    pthread_mutex_unlock(&l->mu);
}
