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
 * with the number of messages it dropped.
 *
 * Blocks and the per-rule budget's counts live in the state store
 * (state.c), shared by every engine of the process: a block set by one
 * worker drops the offender's messages in all of them, and the budget
 * holds daemon-wide.  The (rule, offender) keys stay per engine. */
#include <stdio.h>
#include <string.h>

#include "engine/engine_int.h"

#define SW__GLOBAL_SLOTS 256

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

/* The incident an event belongs to: its offender (evidence "offender",
 * else its source as an offender key) and type, in a window kept in the
 * state store (shared by every worker), so that the events of one episode
 * carry one id and a new episode (after the window) gets another.  The
 * window starts with the episode's first event and lasts the detector's
 * window (at least the event window): a longer attack is a new incident
 * per window, each with its own id.  With e->inc_fixed set (a block's
 * summary) the incident is that of the block: offender, type and the
 * block's start, without asking the store. */
static void incident_of(sw_engine *e, sw_event *ev)
{
    char id[40];
    const char *off = NULL;
    size_t len = 0;
    for (unsigned i = 0; i < ev->nevidence && i < SW_EVENT_MAX_EVIDENCE; i++)
        if (ev->evidence[i].kind == SW_EVIDENCE_STR && ev->evidence[i].key &&
            strcmp(ev->evidence[i].key, "offender") == 0) {
            off = ev->evidence[i].str.ptr;
            len = ev->evidence[i].str.len;
            break;
        }
    if (!off || !len) {
        sw__key_source(&ev->src, id);
        off = id;
        len = strnlen(id, sizeof id);
    }
    const sw_engine_limits *L = &e->pol->limits;
    int64_t win = L->event_window_ns > 0 ? L->event_window_ns : 60 * SW_NS_S;
    if (e->inc_win > win)
        win = e->inc_win;
    uint64_t key = sw_hash64(off, len, UINT64_C(0x1c1de47000) + (uint64_t)ev->type);
    uint64_t h[2] = {key, (uint64_t)e->inc_fixed};
    if (!e->inc_fixed) {
        sw_state_window cur, rolled;
        (void)sw_state_window_hit(e->state, key, e->now, win, 1, UINT64_MAX, &cur, &rolled);
        h[1] = (uint64_t)cur.start;
    }
    uint64_t v = sw_hash64(h, sizeof h, 0x1c1de47u);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        ev->incident_id[i] = hex[(v >> (60 - 4 * i)) & 15];
    ev->incident_id[16] = '\0';
}

void sw__event_emit(sw_engine *e, sw_event *ev)
{
    if (e->passive)
        ev->passive = 1;
    if (!ev->incident_id[0])
        incident_of(e, ev);
    sw_event_id_next(&e->ids, ev->ts_ns, ev->event_id);
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

/* The global per-rule budget: the counts are the store's (shared); what
 * the summary needs (the rule and where the last held-back hit was) is
 * kept here, per engine, with what this engine last learnt of the shared
 * window: while that window is current, a hit that would not take from
 * the budget (its key is full, or the budget is) is settled here without
 * calling the store, so a flood costs the store's lock only for the
 * events that go out. */
typedef struct glob_slot {
    uint64_t rule_hash;
    char rule[SW__RULE_MAX];
    sw_event_type type;
    sw_category category;
    sw_action action;
    uint8_t have;                  /* win_start and full are known */
    uint8_t full;                  /* the window was full when last seen */
    int64_t win_start;             /* the shared window last seen */
    uint64_t held;                 /* held back here, not yet in a summary */
    sw__where at;                  /* of the last hit held back */
} glob_slot;

static void emit_global_summary(sw_engine *e, const char *rule, sw_event_type type, sw_category cat,
                                sw_action act, const sw__where *at, uint64_t held)
{
    sw_event ev;
    fill_summary(e, &ev, rule, type, cat, act, "", held, 0, e->now, "hits (global event budget)");
    where_put(&ev, at);
    sw__event_emit(e, &ev);
}

/* What slot g's rule held back here, plus more (the store's share), comes
 * out as one summary. */
static void global_flush_slot(sw_engine *e, glob_slot *g, uint64_t more)
{
    uint64_t held = g->held + more;
    g->held = 0;
    if (held && g->rule[0])
        emit_global_summary(e, g->rule, g->type, g->category, g->action, &g->at, held);
}

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
    /* global budget per rule: 100 keys' worth of events per window, counted
     * in the store (daemon-wide); taken from only when the key has room */
    uint32_t slot = (uint32_t)(k.rule_hash % SW__GLOBAL_SLOTS);
    glob_slot *g = &((glob_slot *)e->global)[slot];
    int take = s->count < per_key;
    if (g->rule_hash != k.rule_hash) {
        /* the slot changes rule: what the other rule held back is reported
         * now, while its name is known here */
        if (g->rule[0])
            global_flush_slot(e, g, sw_state_window_take_held(e->state, g->rule_hash));
        memset(g, 0, sizeof *g);
        g->rule_hash = k.rule_hash;
    }
    int current = g->have && e->now >= g->win_start && e->now - g->win_start < win;
    int r = 0, asked = !current || (take && !g->full);
    if (asked) {
        sw_state_window cur, rolled;
        r = sw_state_window_hit(e->state, k.rule_hash, e->now, win, take, (uint64_t)per_key * 100u,
                                &cur, &rolled);
        if (!g->have || cur.start != g->win_start) {
            /* a new window: what the last one held back (here, and in the
             * store when this call rolled it) is reported */
            sw__where here = {.src = proto->src, .dst = proto->dst, .transport = proto->transport,
                              .frame = e->cur_frame, .file = e->cur_file};
            uint64_t more = r & 2 ? rolled.held : 0;
            if (g->rule[0]) {
                if (!g->at.src.family)
                    g->at = here;
                global_flush_slot(e, g, more);
            } else if (more) {
                emit_global_summary(e, rule, proto->type, proto->category, proto->action, &here, more);
            }
            g->have = 1;
            g->win_start = cur.start;
            sw__rule_copy(g->rule, rule);
            g->type = proto->type;
            g->category = proto->category;
            g->action = proto->action;
            memset(&g->at, 0, sizeof g->at);
        }
        g->full = cur.count >= (uint64_t)per_key * 100u;
    }
    if (take && (r & 1)) {
        s->count++;
        return 1;
    }
    if (!take) {
        if (!s->suppressed)
            s->first_suppressed = e->now;
        s->suppressed++;
        s->last_suppressed = e->now;
        s->at.frame = e->cur_frame;
        s->at.file = e->cur_file;
    } else {
        /* the key had room: it is the global budget that held it (counted
         * in the store when it was asked, else here) */
        if (!asked)
            g->held++;
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

void sw__block_summary(sw_engine *e, const sw_state_block *b)
{
    if (!b->suppressed || !b->rule[0])
        return;
    sw_event ev;
    fill_summary(e, &ev, b->rule, b->type, b->category, SW_ACTION_DROP, b->id, b->suppressed, b->since,
                 b->last, "messages dropped by the block");
    sw__where at = {.src = b->src, .dst = b->dst, .transport = b->transport, .frame = b->frame,
                    .file = b->file};
    where_put(&ev, &at);
    ev.expires_ns = b->until;
    /* the block's own incident (offender, type, start of the block): this
     * may run inside the store's foreach, which must not call the store */
    e->inc_fixed = b->since ? b->since : 1;
    sw__event_emit(e, &ev);
    e->inc_fixed = 0;
}

int sw__block_check(sw_engine *e, uint8_t kind, const char *id, sw_verdict *v)
{
    /* no entry of this kind anywhere: nothing to find, no lock taken */
    if (!atomic_load_explicit(&e->block_kinds[kind], memory_order_relaxed))
        return 0;
    if (!id[0])
        return 0;
    if (e->pol->monitor) {
        /* policy-wide monitor mode: a block in force drops nothing; it
         * counts as a monitor hit (the block's own event said why) */
        sw_state_block b;
        if (sw_state_block_get(e->state, kind, id, &b) == SW_OK && b.active && b.until > e->now) {
            e->st.monitor_hits++;
            v->monitor_hits++;
        }
        return 0;
    }
    sw_state_where at = {.dst = e->facts.dst, .transport = e->facts.transport, .frame = e->cur_frame,
                         .file = e->cur_file};
    sw_state_block b;
    int ended;
    if (!sw_state_block_hit(e->state, kind, id, e->now, &at, &b, &ended)) {
        if (ended)
            sw__block_summary(e, &b);
        return 0;
    }
    /* the verdict's rule must outlive this call (until the next message) */
    sw__rule_copy(e->block_rule, b.rule);
    v->action = SW_ACTION_DROP;
    v->blocked = 1;
    v->rule = e->block_rule;
    v->type = b.type;
    v->category = b.category;
    return 1;
}

int64_t sw__block_set(sw_engine *e, uint8_t kind, const char *id, int64_t dur_ns, const char *rule,
                      sw_event_type type, sw_category cat, const sw_addr *src)
{
    if (!id[0] || dur_ns <= 0)
        return 0;
    if (sw__allowlisted(e, kind, id)) {
        e->st.blocks_refused++; /* an allowlisted source or number is never blocked */
        return 0;
    }
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    memcpy(b.id, id, strnlen(id, SW_STATE_ID_MAX - 1));
    sw__rule_copy(b.rule, rule);
    b.type = type;
    b.category = cat;
    b.since = e->now;
    if (src)
        b.src = *src;
    b.dst = sw_addr_eq(&b.src, &e->facts.src) ? e->facts.dst : e->facts.src;
    b.transport = e->facts.transport;
    sw_state_block ev;
    int nev;
    int64_t until = sw_state_block_set(e->state, &b, dur_ns, &ev, &nev);
    if (nev)
        sw__block_summary(e, &ev); /* pushed out by this one: what it dropped is reported */
    return until;
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

static void flush_block(void *ctx, sw_state_block *b)
{
    sw__block_summary(((flush_ctx *)ctx)->e, b);
    b->suppressed = 0;
}

void sw__summaries_flush(sw_engine *e, int64_t now)
{
    flush_ctx c = {e};
    e->now = now;
    sw_table_foreach(e->events, flush_event, &c);
    sw_state_block_foreach(e->state, flush_block, &c);
    glob_slot *g = (glob_slot *)e->global;
    for (unsigned i = 0; i < SW__GLOBAL_SLOTS; i++)
        if (g[i].rule[0])
            global_flush_slot(e, &g[i], sw_state_window_take_held(e->state, g[i].rule_hash));
}

size_t sw__global_size(void)
{
    return SW__GLOBAL_SLOTS * sizeof(glob_slot);
}
