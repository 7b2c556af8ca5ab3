/* Event limiting and summaries, blocks with expiry, per-rule rate limits.
 *
 * An attacker must not be able to turn us into an event storm: every
 * event goes through a (rule, offender) key that lets events-per-key
 * events out per event window and counts the rest, and each rule also has
 * a global budget per window (so a flood from a million random sources
 * stays a handful of events).  What was held back comes out as one summary
 * event when the window rolls over, when the key is evicted, or at flush.
 *
 * Blocks (from `block` on a rule or a detector trip) drop the offender's
 * requests until they expire; a repeat offence doubles the duration (cap
 * 24 h, specs/detections.md §1).  The end of a block is one summary event
 * with the number of messages it dropped. */
#include <stdio.h>
#include <string.h>

#include "engine/engine_int.h"

#define SW__GLOBAL_SLOTS 256
#define SW__BLOCK_CAP_NS (INT64_C(24) * 3600 * SW_NS_S)

uint64_t sw__rule_hash(const char *rule)
{
    return sw_hash64(rule, strlen(rule), 0x5157a11u);
}

void sw__key_source(const sw_addr *a, char id[40])
{
    sw_addr k = *a;
    k.port = 0;
    memset(id, 0, 40);
    if (k.family == 6) {
        memset(k.ip + 8, 0, 8); /* one subscriber or host = one /64 */
        char buf[SW_ADDR_STRLEN];
        int n = sw_addr_format_ip(&k, buf, sizeof buf);
        if (n > 0 && n <= 36) { /* a /64 prints in at most 20 bytes */
            memcpy(id, buf, (size_t)n);
            memcpy(id + n, "/64", 3);
        }
    } else if (k.family == 4) {
        (void)sw_addr_format_ip(&k, id, 40); /* no stdio: runs for every message */
    }
}

static void fill_summary(sw_engine *e, sw_event *ev, const char *rule, sw_event_type type,
                         sw_category cat, sw_action act, const char *offender, uint64_t n,
                         int64_t first, int64_t last, const char *what)
{
    sw_event_init(ev, type, cat, rule);
    ev->ts_ns = last ? last : e->now;
    ev->action = act;
    int k = snprintf(e->summary_reason, sizeof e->summary_reason,
                     "summary: %llu further %s of %s from %s not reported one by one",
                     (unsigned long long)n, what, rule, offender[0] ? offender : "many sources");
    if (k < 0)
        k = 0;
    if ((size_t)k >= sizeof e->summary_reason)
        k = (int)sizeof e->summary_reason - 1;
    ev->reason = sw_str_make(e->summary_reason, (size_t)k);
    (void)sw_event_add_num(ev, "suppressed", (int64_t)n);
    (void)sw_event_add_str(ev, "offender", sw_str_make(offender, strlen(offender)));
    if (first && last)
        (void)sw_event_add_num(ev, "span_ms", (last - first) / 1000000);
}

static void where_put(sw_event *ev, const sw__where *w)
{
    ev->src = w->src;
    ev->dst = w->dst;
    ev->transport = w->transport;
    ev->frame = w->frame;
    ev->file = w->file;
}

void sw__event_emit(sw_engine *e, sw_event *ev)
{
    e->st.events++;
    e->msg_events++;
    if (!e->sink)
        return;
    int r = sw_event_emit(e->sink, ev);
    if (r != SW_OK && e->sink_err == SW_OK)
        e->sink_err = r;
}

static void emit_state_summary(sw_engine *e, sw__evstate *s)
{
    if (!s->suppressed || !s->rule[0])
        return;
    sw_event ev;
    fill_summary(e, &ev, s->rule, s->type, s->category, s->action, s->offender, s->suppressed,
                 s->first_suppressed, s->last_suppressed, "hits");
    ev.monitor = s->monitor;
    where_put(&ev, &s->at);
    sw__event_emit(e, &ev);
    s->suppressed = 0;
}

/* the global per-rule budget */
typedef struct glob_slot {
    uint64_t rule_hash;
    int64_t window_start;
    uint32_t count, suppressed;
    char rule[SW__RULE_MAX];
    sw_event_type type;
    sw_category category;
    sw_action action;
    sw__where at;                  /* of the last hit held back */
} glob_slot;

int sw__event_allowed(sw_engine *e, const char *rule, uint8_t kind, const char *id,
                      const sw_event *proto)
{
    const sw_engine_limits *L = &e->pol->limits;
    int64_t win = L->event_window_ns > 0 ? L->event_window_ns : 60 * SW_NS_S;
    uint32_t per_key = L->events_per_key ? L->events_per_key : 10;
    sw__evkey k;
    memset(&k, 0, sizeof k);
    k.rule_hash = sw__rule_hash(rule);
    k.kind = kind;
    if (id)
        memcpy(k.id, id, strnlen(id, sizeof k.id));
    int created;
    sw__evstate *s = sw_table_upsert(e->events, &k, &created);
    if (created || e->now - s->window_start >= win || e->now < s->window_start) {
        if (!created)
            emit_state_summary(e, s);
        s->window_start = e->now;
        s->count = 0;
    }
    sw__rule_copy(s->rule, rule);
    s->type = proto->type;
    s->category = proto->category;
    s->action = proto->action;
    s->monitor = proto->monitor;
    s->at.src = proto->src;
    s->at.dst = proto->dst;
    s->at.transport = proto->transport;
    if (id)
        snprintf(s->offender, sizeof s->offender, "%s", id);
    /* global budget per rule: 100 keys' worth of events per window */
    uint32_t slot = (uint32_t)(k.rule_hash % SW__GLOBAL_SLOTS);
    glob_slot *g = &((glob_slot *)e->global)[slot];
    if (g->rule_hash != k.rule_hash || e->now - g->window_start >= win || e->now < g->window_start) {
        if (g->suppressed && g->rule[0]) {
            sw_event ev;
            fill_summary(e, &ev, g->rule, g->type, g->category, g->action, "", g->suppressed, 0,
                         e->now, "hits (global event budget)");
            where_put(&ev, &g->at);
            sw__event_emit(e, &ev);
        }
        g->rule_hash = k.rule_hash;
        g->window_start = e->now;
        g->count = g->suppressed = 0;
        sw__rule_copy(g->rule, rule);
        g->type = proto->type;
        g->category = proto->category;
        g->action = proto->action;
    }
    if (s->count < per_key && g->count < per_key * 100u) {
        s->count++;
        g->count++;
        return 1;
    }
    if (s->count >= per_key) {
        if (!s->suppressed)
            s->first_suppressed = e->now;
        s->suppressed++;
        s->last_suppressed = e->now;
        s->at.frame = e->cur_frame;
        s->at.file = e->cur_file;
    } else {
        g->suppressed++; /* the key had room: it is the global budget that held it */
        g->at.src = proto->src;
        g->at.dst = proto->dst;
        g->at.transport = proto->transport;
        g->at.frame = e->cur_frame;
        g->at.file = e->cur_file;
    }
    e->st.events_suppressed++;
    return 0;
}

void sw__events_evicted(void *ctx, const void *key, void *value)
{
    (void)key;
    emit_state_summary((sw_engine *)ctx, (sw__evstate *)value);
}

static void emit_block_summary(sw_engine *e, const sw__blkey *k, sw__block *b)
{
    if (!b->suppressed || !b->rule[0])
        return;
    sw_event ev;
    fill_summary(e, &ev, b->rule, b->type, b->category, SW_ACTION_DROP, k->id, b->suppressed,
                 b->since, b->last, "messages dropped by the block");
    where_put(&ev, &b->at);
    ev.expires_ns = b->until;
    sw__event_emit(e, &ev);
    b->suppressed = 0;
}

void sw__blocks_evicted(void *ctx, const void *key, void *value)
{
    sw_engine *e = ctx;
    const sw__blkey *k = key;
    emit_block_summary(e, k, (sw__block *)value);
    if (e->block_kinds[k->kind])
        e->block_kinds[k->kind]--; /* entries leave the table only this way */
}

static void make_blkey(sw__blkey *k, uint8_t kind, const char *id)
{
    memset(k, 0, sizeof *k);
    k->kind = kind;
    memcpy(k->id, id, strnlen(id, sizeof k->id));
}

int sw__block_check(sw_engine *e, uint8_t kind, const char *id, sw_verdict *v)
{
    sw__blkey k;
    if (!e->block_kinds[kind]) /* no entry of this kind: nothing to find */
        return 0;
    if (!id[0])
        return 0;
    make_blkey(&k, kind, id);
    sw__block *b = sw_table_peek(e->blocks, &k);
    if (!b || !b->active)
        return 0;
    if (e->now >= b->until) {
        emit_block_summary(e, &k, b);
        b->active = 0; /* kept for the repeat-offence doubling */
        if (e->st.active_blocks)
            e->st.active_blocks--;
        return 0;
    }
    b->suppressed++;
    b->last = e->now;
    b->at.frame = e->cur_frame;
    b->at.file = e->cur_file;
    b->at.dst = e->facts.dst;
    b->at.transport = e->facts.transport;
    v->action = SW_ACTION_DROP;
    v->blocked = 1;
    v->rule = b->rule;
    v->type = b->type;
    v->category = b->category;
    return 1;
}

int64_t sw__block_set(sw_engine *e, uint8_t kind, const char *id, int64_t dur_ns, const char *rule,
                      sw_event_type type, sw_category cat, const sw_addr *src)
{
    sw__blkey k;
    if (!id[0] || dur_ns <= 0)
        return 0;
    make_blkey(&k, kind, id);
    int created;
    sw__block *b = sw_table_upsert(e->blocks, &k, &created);
    if (created)
        e->block_kinds[kind]++;
    if (!created && b->offences && e->now - b->until < SW__BLOCK_CAP_NS) {
        for (unsigned i = 0; i < b->offences && dur_ns < SW__BLOCK_CAP_NS; i++)
            dur_ns *= 2;
    }
    if (dur_ns > SW__BLOCK_CAP_NS)
        dur_ns = SW__BLOCK_CAP_NS;
    if (!b->active)
        e->st.active_blocks++;
    if (b->offences < 16)
        b->offences++;
    b->active = 1;
    b->since = e->now;
    b->until = e->now + dur_ns;
    sw__rule_copy(b->rule, rule);
    b->type = type;
    b->category = cat;
    if (src)
        b->at.src = *src;
    b->at.dst = sw_addr_eq(&b->at.src, &e->facts.src) ? e->facts.dst : e->facts.src;
    b->at.transport = e->facts.transport;
    return b->until;
}

int sw__rate_allow(sw_engine *e, const sw_rule *r)
{
    sw__ratekey k;
    memset(&k, 0, sizeof k);
    k.rule_hash = sw__rule_hash(r->id);
    memcpy(k.ip, e->facts.src.ip, 16);
    int created;
    sw__bucket *b = sw_table_upsert(e->rates, &k, &created);
    int64_t cap = (int64_t)(r->act.burst ? r->act.burst : r->act.rate) * 1000;
    if (created) {
        b->tokens_milli = cap;
        b->last_ns = e->now;
    }
    int64_t dt = e->now - b->last_ns;
    if (dt > 0) {
        b->tokens_milli += dt / 1000000 * (int64_t)r->act.rate; /* rate per s = rate milli-tokens per ms */
        if (b->tokens_milli > cap)
            b->tokens_milli = cap;
        b->last_ns = e->now;
    }
    if (b->tokens_milli >= 1000) {
        b->tokens_milli -= 1000;
        return 1;
    }
    return 0;
}

typedef struct flush_ctx {
    sw_engine *e;
} flush_ctx;

static void flush_event(void *ctx, const void *key, void *value)
{
    (void)key;
    emit_state_summary(((flush_ctx *)ctx)->e, (sw__evstate *)value);
}

static void flush_block(void *ctx, const void *key, void *value)
{
    emit_block_summary(((flush_ctx *)ctx)->e, (const sw__blkey *)key, (sw__block *)value);
}

void sw__summaries_flush(sw_engine *e, int64_t now)
{
    flush_ctx c = {e};
    e->now = now;
    sw_table_foreach(e->events, flush_event, &c);
    sw_table_foreach(e->blocks, flush_block, &c);
    glob_slot *g = (glob_slot *)e->global;
    for (unsigned i = 0; i < SW__GLOBAL_SLOTS; i++) {
        if (g[i].suppressed && g[i].rule[0]) {
            sw_event ev;
            fill_summary(e, &ev, g[i].rule, g[i].type, g[i].category, g[i].action, "", g[i].suppressed,
                         0, now, "hits (global event budget)");
            where_put(&ev, &g[i].at);
            sw__event_emit(e, &ev);
            g[i].suppressed = 0;
        }
    }
}

size_t sw__global_size(void)
{
    return SW__GLOBAL_SLOTS * sizeof(glob_slot);
}
