/* The in-process state store (include/sipwall/engine.h "the state store"):
 * one table of blocks and one of windowed counters behind a mutex, shared
 * by every engine of the process.
 *
 * Blocks live in a bounded sw_table (capacity = the ceiling, so the table
 * itself never evicts) and in a binary min-heap on their end: a new entry
 * in a full store evicts the entry that expires soonest, which is an ended
 * block kept only for the repeat-offence doubling whenever there is one.
 * The per-kind counts are atomics written under the lock and read without
 * it: an engine that finds 0 for a kind never calls in. */
#include <pthread.h>
#include <stdlib.h>

#include "engine/engine_int.h"

#define WINDOW_KEYS 16384u /* rule budgets: one per rule that raised an event */

typedef struct blkey {
    uint8_t kind;
    uint8_t pad[7];
    char id[SW_STATE_ID_MAX];
} blkey;

typedef struct ment {
    sw_state_block b;
    uint32_t heap;                 /* index in the heap */
} ment;

typedef struct mem {
    pthread_mutex_t mu;
    sw_table *blocks;              /* blkey -> ment */
    ment **heap;                   /* min-heap on b.until */
    uint32_t cap, n;               /* heap capacity (= the ceiling) and size */
    sw_table *windows;             /* uint64_t -> sw_state_window */
    _Atomic uint32_t kinds[256];
    uint32_t active;
    uint64_t evictions, blocks_set, migrated, dropped;
} mem;

static void mk_key(blkey *k, uint8_t kind, const char *id)
{
    memset(k, 0, sizeof *k);
    k->kind = kind;
    memcpy(k->id, id, strnlen(id, SW_STATE_ID_MAX - 1));
}

/* kinds[kind] and the total move together (written under the lock) */
static void count_kind(mem *m, uint8_t kind, int up)
{
    _Atomic uint32_t *c[2] = {&m->kinds[kind], &m->kinds[SW_STATE_KIND_ALL]};
    for (unsigned i = 0; i < 2; i++) {
        uint32_t v = atomic_load_explicit(c[i], memory_order_relaxed);
        atomic_store_explicit(c[i], up ? v + 1 : v ? v - 1 : 0, memory_order_relaxed);
    }
}

/* ---- the heap ---------------------------------------------------------------------- */

static void heap_put(mem *m, uint32_t i, ment *e)
{
    m->heap[i] = e;
    e->heap = i;
}

static void sift_up(mem *m, uint32_t i)
{
    ment *e = m->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (m->heap[p]->b.until <= e->b.until)
            break;
        heap_put(m, i, m->heap[p]);
        i = p;
    }
    heap_put(m, i, e);
}

static void sift_down(mem *m, uint32_t i)
{
    ment *e = m->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= m->n)
            break;
        if (c + 1 < m->n && m->heap[c + 1]->b.until < m->heap[c]->b.until)
            c++;
        if (e->b.until <= m->heap[c]->b.until)
            break;
        heap_put(m, i, m->heap[c]);
        i = c;
    }
    heap_put(m, i, e);
}

/* Entry at i changed its end: up or down to its place. */
static void heap_fix(mem *m, uint32_t i)
{
    ment *e = m->heap[i];
    sift_up(m, i);
    sift_down(m, e->heap);
}

static void heap_remove(mem *m, uint32_t i)
{
    m->n--;
    if (i == m->n)
        return;
    heap_put(m, i, m->heap[m->n]);
    heap_fix(m, i);
}

/* Removes entry e from the table, the heap and the counts. */
static void drop_entry(mem *m, ment *e)
{
    uint8_t kind = e->b.kind;
    if (e->b.active && m->active)
        m->active--;
    heap_remove(m, e->heap);
    sw_table_remove_value(m->blocks, e);
    count_kind(m, kind, 0);
}

/* ---- ops ----------------------------------------------------------------------------- */

/* The entry of b->kind/b->id, created when missing (a full store evicts
 * the one that expires soonest first); under the lock. */
static ment *entry_for(mem *m, const sw_state_block *b, sw_state_block *evicted, int *nevicted, int *created)
{
    blkey k;
    mk_key(&k, b->kind, b->id);
    ment *e = sw_table_peek(m->blocks, &k);
    *created = 0;
    if (e)
        return e;
    if (m->n == m->cap) {
        ment *v = m->heap[0];
        *evicted = v->b;
        *nevicted = 1;
        m->evictions++;
        drop_entry(m, v);
    }
    int c;
    e = sw_table_upsert(m->blocks, &k, &c); /* never evicts: count < capacity */
    memset(&e->b, 0, sizeof e->b);
    e->b.kind = b->kind;
    memcpy(e->b.id, k.id, sizeof e->b.id);
    heap_put(m, m->n, e);
    m->n++;
    count_kind(m, b->kind, 1);
    *created = 1;
    return e;
}

/* What a set or a put copies from the request. */
static void copy_origin(sw_state_block *dst, const sw_state_block *b)
{
    memcpy(dst->rule, b->rule, sizeof dst->rule);
    dst->rule[SW_STATE_RULE_MAX - 1] = '\0';
    dst->type = b->type;
    dst->category = b->category;
    dst->src = b->src;
    dst->dst = b->dst;
    dst->transport = b->transport;
    dst->origin = b->origin;
    memcpy(dst->reason, b->reason, sizeof dst->reason);
    dst->reason[SW_STATE_REASON_MAX - 1] = '\0';
}

static int64_t m_block_set(void *self, const sw_state_block *b, int64_t dur_ns, sw_state_block *evicted,
                           int *nevicted)
{
    mem *m = self;
    int created;
    pthread_mutex_lock(&m->mu);
    ment *e = entry_for(m, b, evicted, nevicted, &created);
    uint8_t was_active = created ? 0 : e->b.active;
    sw_state_block nb = e->b;
    int64_t until = sw_state_block_renew(created ? NULL : &e->b, b, dur_ns, &nb);
    e->b.since = nb.since;
    e->b.until = nb.until;
    e->b.offences = nb.offences;
    e->b.active = 1;
    if (!was_active)
        m->active++;
    heap_fix(m, e->heap);
    copy_origin(&e->b, b);
    m->blocks_set++;
    pthread_mutex_unlock(&m->mu);
    return until;
}

static int m_block_put(void *self, const sw_state_block *b, sw_state_block *evicted, int *nevicted)
{
    mem *m = self;
    int created;
    pthread_mutex_lock(&m->mu);
    ment *e = entry_for(m, b, evicted, nevicted, &created);
    uint8_t was_active = created ? 0 : e->b.active;
    e->b.since = b->since;
    e->b.until = b->until;
    e->b.offences = b->offences;
    e->b.active = b->active ? 1 : 0;
    if (was_active != e->b.active) {
        if (e->b.active)
            m->active++;
        else if (m->active)
            m->active--;
    }
    heap_fix(m, e->heap);
    copy_origin(&e->b, b);
    pthread_mutex_unlock(&m->mu);
    return SW_OK;
}

static int m_block_hit(void *self, uint8_t kind, const char *id, int64_t now, const sw_state_where *at,
                       sw_state_block *out, int *ended)
{
    mem *m = self;
    blkey k;
    mk_key(&k, kind, id);
    int r = 0;
    pthread_mutex_lock(&m->mu);
    ment *e = sw_table_peek(m->blocks, &k);
    if (e && e->b.active) {
        if (now >= e->b.until) {
            /* kept (inactive) for the repeat-offence doubling; the one
             * caller that sees the end reports what the block dropped */
            e->b.active = 0;
            if (m->active)
                m->active--;
            if (e->b.suppressed) {
                *out = e->b;
                *ended = 1;
                e->b.suppressed = 0;
            }
        } else {
            e->b.suppressed++;
            e->b.hits++;
            e->b.last = now;
            e->b.frame = at->frame;
            e->b.file = at->file;
            e->b.dst = at->dst;
            e->b.transport = at->transport;
            *out = e->b;
            r = 1;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return r;
}

static int m_block_get(void *self, uint8_t kind, const char *id, sw_state_block *out)
{
    mem *m = self;
    blkey k;
    mk_key(&k, kind, id);
    pthread_mutex_lock(&m->mu);
    ment *e = sw_table_peek(m->blocks, &k);
    if (e)
        *out = e->b;
    pthread_mutex_unlock(&m->mu);
    return e ? SW_OK : SW_ENOTFOUND;
}

static int m_block_remove(void *self, uint8_t kind, const char *id)
{
    mem *m = self;
    blkey k;
    mk_key(&k, kind, id);
    pthread_mutex_lock(&m->mu);
    ment *e = sw_table_peek(m->blocks, &k);
    if (e)
        drop_entry(m, e);
    pthread_mutex_unlock(&m->mu);
    return e ? SW_OK : SW_ENOTFOUND;
}

typedef struct visit {
    sw_state_block_fn fn;
    void *ctx;
    mem *m;
} visit;

static void visit_one(void *ctx, const void *key, void *value)
{
    (void)key;
    visit *v = ctx;
    ment *e = value;
    uint8_t was = e->b.active;
    sw_state_block b = e->b;
    v->fn(v->ctx, &b);
    /* what the callback may change */
    e->b.suppressed = b.suppressed;
    e->b.last = b.last;
    e->b.active = b.active ? was : 0;
    if (was && !e->b.active && v->m->active)
        v->m->active--;
}

static void m_block_foreach(void *self, sw_state_block_fn fn, void *ctx)
{
    mem *m = self;
    visit v = {fn, ctx, m};
    pthread_mutex_lock(&m->mu);
    sw_table_foreach(m->blocks, visit_one, &v);
    pthread_mutex_unlock(&m->mu);
}

static const _Atomic uint32_t *m_kinds(void *self)
{
    return ((mem *)self)->kinds;
}

static int m_window_hit(void *self, uint64_t key, int64_t now, int64_t win_ns, int take, uint64_t limit,
                        sw_state_window *cur, sw_state_window *rolled)
{
    mem *m = self;
    int r = 0, created;
    pthread_mutex_lock(&m->mu);
    sw_state_window *w = sw_table_upsert(m->windows, &key, &created);
    if (created) {
        w->start = now;
    } else if (now - w->start >= win_ns || now < w->start) {
        *rolled = *w;
        r |= 2;
        w->start = now;
        w->count = w->held = 0;
    }
    if (take) {
        if (w->count < limit) {
            w->count++;
            r |= 1;
        } else {
            w->held++;
        }
    }
    *cur = *w;
    pthread_mutex_unlock(&m->mu);
    return r;
}

static uint64_t m_window_take_held(void *self, uint64_t key)
{
    mem *m = self;
    uint64_t n = 0;
    pthread_mutex_lock(&m->mu);
    sw_state_window *w = sw_table_peek(m->windows, &key);
    if (w) {
        n = w->held;
        w->held = 0;
    }
    pthread_mutex_unlock(&m->mu);
    return n;
}

typedef struct collect {
    sw_state_block *v;
    uint32_t n;
} collect;

static void collect_one(void *ctx, const void *key, void *value)
{
    (void)key;
    collect *c = ctx;
    c->v[c->n++] = ((ment *)value)->b;
}

static int later_end_first(const void *a, const void *b)
{
    int64_t x = ((const sw_state_block *)a)->until, y = ((const sw_state_block *)b)->until;
    return x > y ? -1 : x < y ? 1 : 0;
}

static int m_resize(void *self, uint32_t capacity, uint64_t *migrated, uint64_t *dropped)
{
    mem *m = self;
    sw_table_config tc = {.key_size = sizeof(blkey), .value_size = sizeof(ment), .capacity = capacity};
    sw_table *t = sw_table_new(&tc);
    ment **heap = calloc(capacity, sizeof *heap);
    pthread_mutex_lock(&m->mu);
    sw_state_block *all = m->n ? malloc((size_t)m->n * sizeof *all) : NULL;
    if (!t || !heap || (m->n && !all)) {
        pthread_mutex_unlock(&m->mu);
        sw_table_free(t);
        free(heap);
        free(all);
        return SW_ENOMEM;
    }
    collect c = {all, 0};
    sw_table_foreach(m->blocks, collect_one, &c);
    /* the blocks that end last are kept: the soonest to end would be the
     * first evicted anyway */
    qsort(all, c.n, sizeof *all, later_end_first);
    uint32_t keep = c.n < capacity ? c.n : capacity;
    sw_table_free(m->blocks);
    free(m->heap);
    m->blocks = t;
    m->heap = heap;
    m->cap = capacity;
    m->n = 0;
    m->active = 0;
    for (unsigned k = 0; k < 256; k++)
        atomic_store_explicit(&m->kinds[k], 0, memory_order_relaxed);
    for (uint32_t i = 0; i < keep; i++) {
        blkey k;
        mk_key(&k, all[i].kind, all[i].id);
        ment *e = sw_table_upsert(t, &k, NULL);
        e->b = all[i];
        heap_put(m, m->n, e);
        m->n++;
        sift_up(m, m->n - 1);
        m->active += all[i].active;
        count_kind(m, all[i].kind, 1);
    }
    *migrated = keep;
    *dropped = c.n - keep;
    m->migrated += keep;
    m->dropped += c.n - keep;
    pthread_mutex_unlock(&m->mu);
    free(all);
    return SW_OK;
}

static void m_stats(void *self, sw_state_stats *out)
{
    mem *m = self;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&m->mu);
    out->capacity = m->cap;
    out->entries = m->n;
    out->active = m->active;
    out->evictions = m->evictions;
    out->blocks_set = m->blocks_set;
    out->migrated = m->migrated;
    out->dropped = m->dropped;
    out->memory = sizeof *m + sw_table_memory(m->blocks) + sw_table_memory(m->windows) +
                  (size_t)m->cap * sizeof *m->heap;
    pthread_mutex_unlock(&m->mu);
}

static void m_free(void *self)
{
    mem *m = self;
    if (!m)
        return;
    sw_table_free(m->blocks);
    sw_table_free(m->windows);
    free(m->heap);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const sw_state_ops mem_ops = {
    .block_set = m_block_set,
    .block_hit = m_block_hit,
    .block_get = m_block_get,
    .block_remove = m_block_remove,
    .block_foreach = m_block_foreach,
    .kinds = m_kinds,
    .window_hit = m_window_hit,
    .window_take_held = m_window_take_held,
    .resize = m_resize,
    .stats = m_stats,
    .free = m_free,
    .block_put = m_block_put,
};

sw_state_store *sw_state_mem_new(uint32_t capacity)
{
    if (capacity == 0 || capacity > (1u << 26))
        return NULL;
    mem *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->mu, NULL);
    sw_table_config tc = {.key_size = sizeof(blkey), .value_size = sizeof(ment), .capacity = capacity};
    m->blocks = sw_table_new(&tc);
    tc = (sw_table_config){.key_size = sizeof(uint64_t), .value_size = sizeof(sw_state_window),
                           .capacity = WINDOW_KEYS};
    m->windows = sw_table_new(&tc);
    m->heap = calloc(capacity, sizeof *m->heap);
    m->cap = capacity;
    if (!m->blocks || !m->windows || !m->heap) {
        m_free(m);
        return NULL;
    }
    return sw_state_new(&mem_ops, m);
}
