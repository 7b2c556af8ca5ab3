/* The screening pipeline (include/sipwall/engine.h):
 *   facts -> blocks -> cat 0 admission -> allow rules -> rules -> privacy
 *   -> detectors -> verdict, with every non-allow decision an event. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine_int.h"

#define NEAR_BYTES 40u

static const uint8_t severity[SW_ACTION__COUNT] = {
    [SW_ACTION_ALLOW] = 0, [SW_ACTION_TAG] = 1,        [SW_ACTION_REWRITE] = 2, [SW_ACTION_STRIP] = 3,
    [SW_ACTION_RATE_LIMIT] = 4, [SW_ACTION_REJECT] = 5, [SW_ACTION_DROP] = 6,
};

static void detect_config(const sw_policy *p, uint64_t seed, sw_detect_config *dc)
{
    memset(dc, 0, sizeof *dc);
    dc->conf = p->detectors;
    dc->limits = p->limits;
    dc->seed = seed;
    int32_t li = p->detectors[SW_DET_IRSF].list;
    if (li >= 0 && (uint32_t)li < p->nlists && p->lists[li]->kind == SW_LIST_NUMBERS)
        dc->irsf_hot = p->lists[li]->numbers;
}

static int needs_scratch(const sw_policy *p)
{
    int need = 0;
    for (unsigned i = 0; i < SW_F__COUNT; i++)
        need |= p->patterns[i] != NULL;
    return need;
}

sw_engine *sw_engine_new(const sw_engine_config *cfg)
{
    if (!cfg->policy)
        return NULL;
    sw_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    const sw_policy *p = cfg->policy;
    e->pol = p;
    e->sink = cfg->sink;
    e->passive = cfg->passive;
    if (cfg->sip_limits)
        e->lim = *cfg->sip_limits;
    else
        sw_sip_limits_default(&e->lim);
    e->cap = e->lim.max_headers ? e->lim.max_headers : 1;
    e->hdrs = calloc(e->cap, sizeof *e->hdrs);
    e->global = calloc(1, sw__global_size());

    const sw_engine_limits *L = &p->limits;
    sw_table_config tc = {.key_size = sizeof(sw__evkey), .value_size = sizeof(sw__evstate),
                          .capacity = L->event_keys ? L->event_keys : 65536, .seed = cfg->seed,
                          .on_evict = sw__events_evicted, .evict_ctx = e};
    e->events = sw_table_new(&tc);
    if (cfg->state) {
        e->state = cfg->state;
    } else {
        e->state = sw_state_mem_new(L->blocks ? L->blocks : 65536);
        e->own_state = 1;
    }
    if (e->state)
        e->block_kinds = sw_state_kinds(e->state);
    tc = (sw_table_config){.key_size = sizeof(sw__ratekey), .value_size = sizeof(sw__bucket),
                           .capacity = L->sources ? L->sources : 65536, .seed = cfg->seed};
    e->rates = sw_table_new(&tc);

    sw_detect_config dc;
    detect_config(p, cfg->seed, &dc);
    e->det = sw_detectors_new(&dc);
    sw_event_ids_init(&e->ids);
    e->wg_prefix_digits = (uint32_t)p->detectors[SW_DET_WANGIRI].params[SW_DP_WG_PREFIX_DIGITS];

    int need_scratch = needs_scratch(p);
    if (need_scratch)
        e->scratch = sw_policy_scratch_new(p);
    int rx_ok = sw__rindex_build(p, &e->rx) == SW_OK;
    int allow_ok = sw__allow_build(p, &e->allow) == SW_OK;

    if (!e->hdrs || !e->global || !e->events || !e->state || !e->rates || !e->det ||
        (need_scratch && !e->scratch) || !rx_ok || !allow_ok) {
        sw_engine_free(e);
        return NULL;
    }
    return e;
}

void sw_engine_free(sw_engine *e)
{
    if (!e)
        return;
    sw_detectors_free(e->det);
    sw_table_free(e->events);
    if (e->own_state)
        sw_state_free(e->state);
    sw_table_free(e->rates);
    sw_pattern_scratch_free(e->scratch);
    sw_location_feed_free(e->feed);
    sw__rindex_free(&e->rx);
    sw__allow_free(&e->allow);
    free(e->global);
    free(e->hdrs);
    free(e);
}

/* Copies a table's entries into a new one of another capacity, least
 * recently used first (so the most recent stay when it is smaller). */
typedef struct copy_ctx {
    sw_table *to;
    size_t value_size;
} copy_ctx;

static void copy_entry(void *ctx, const void *key, void *value)
{
    copy_ctx *c = ctx;
    void *v = sw_table_upsert(c->to, key, NULL);
    memcpy(v, value, c->value_size);
}

static sw_table *table_resized(size_t key_size, size_t value_size, uint32_t capacity,
                               sw_table_evict_fn fn, void *ctx)
{
    sw_table_config tc = {.key_size = key_size, .value_size = value_size, .capacity = capacity,
                          .on_evict = fn, .evict_ctx = ctx};
    return sw_table_new(&tc);
}

static void table_fill(sw_table *to, sw_table *from, size_t value_size, uint64_t *migrated,
                       uint64_t *dropped)
{
    uint32_t n = sw_table_count(from);
    copy_ctx c = {to, value_size};
    sw_table_foreach_oldest(from, copy_entry, &c);
    *migrated = sw_table_count(to);
    *dropped = n - *migrated;
}

int sw_engine_set_policy(sw_engine *e, const sw_policy *p)
{
    const sw_engine_limits *L = &p->limits;
    int resize = memcmp(&p->limits, &e->pol->limits, sizeof p->limits) != 0;
    sw_pattern_scratch *scratch = NULL;
    if (needs_scratch(p) && !(scratch = sw_policy_scratch_new(p)))
        return SW_ENOMEM;
    sw__rindex rx;
    if (sw__rindex_build(p, &rx) != SW_OK) {
        sw_pattern_scratch_free(scratch);
        return SW_ENOMEM;
    }
    sw__allow allow;
    if (sw__allow_build(p, &allow) != SW_OK) {
        sw__rindex_free(&rx);
        sw_pattern_scratch_free(scratch);
        return SW_ENOMEM;
    }
    sw_detect_config dc;
    detect_config(p, 0, &dc);
    sw_engine_migration mig;
    memset(&mig, 0, sizeof mig);
    sw_table *events = NULL, *rates = NULL;
    sw_detectors *det = NULL;
    int r = resize ? SW_ELIMIT : sw_detectors_reconfigure(e->det, &dc);
    if (r == SW_ELIMIT) {
        /* other table sizes or window shapes: new tables, filled with what
         * fits.  Allocated first, so a failure changes nothing. */
        mig.resized = (uint8_t)resize;
        det = sw_detectors_migrate(e->det, &dc, &mig.detect_migrated, &mig.detect_dropped,
                                   &mig.windows_reshaped);
        if (resize) {
            events = table_resized(sizeof(sw__evkey), sizeof(sw__evstate),
                                   L->event_keys ? L->event_keys : 65536, sw__events_evicted, e);
            rates = table_resized(sizeof(sw__ratekey), sizeof(sw__bucket),
                                  L->sources ? L->sources : 65536, NULL, NULL);
        }
        r = det && (!resize || (events && rates)) ? SW_OK : SW_ENOMEM;
        if (r == SW_OK && resize && e->own_state) {
            sw_state_stats ss;
            sw_state_stats_get(e->state, &ss);
            uint32_t cap = L->blocks ? L->blocks : 65536;
            if (cap != ss.capacity)
                r = sw_state_resize(e->state, cap, &mig.blocks_migrated, &mig.blocks_dropped);
        }
    }
    if (r != SW_OK) {
        sw_detectors_free(det);
        sw_table_free(events);
        sw_table_free(rates);
        sw_pattern_scratch_free(scratch);
        sw__rindex_free(&rx);
        sw__allow_free(&allow);
        return r == SW_ELIMIT ? SW_ENOMEM : r;
    }
    if (det) {
        sw_detectors_free(e->det);
        e->det = det;
    }
    if (events) {
        /* an entry that does not fit is evicted into a summary event */
        table_fill(events, e->events, sizeof(sw__evstate), &mig.events_migrated, &mig.events_dropped);
        sw_table_free(e->events);
        e->events = events;
    }
    if (rates) {
        table_fill(rates, e->rates, sizeof(sw__bucket), &mig.rates_migrated, &mig.rates_dropped);
        sw_table_free(e->rates);
        e->rates = rates;
    }
    mig.migrated = mig.detect_migrated + mig.events_migrated + mig.rates_migrated + mig.blocks_migrated;
    mig.dropped = mig.detect_dropped + mig.events_dropped + mig.rates_dropped + mig.blocks_dropped;
    e->mig = mig;
    e->st.state_migrated += mig.migrated;
    e->st.state_dropped += mig.dropped;
    sw_pattern_scratch_free(e->scratch);
    e->scratch = scratch;
    sw__rindex_free(&e->rx);
    e->rx = rx;
    sw__peer_memo_clear(e);
    e->pol = p;
    e->wg_prefix_digits = (uint32_t)p->detectors[SW_DET_WANGIRI].params[SW_DP_WG_PREFIX_DIGITS];
    sw__allow_free(&e->allow);
    e->allow = allow;
    /* an allowlisted source or number is never blocked: the new policy's
     * allowlists lift the blocks they cover (allow.c) */
    (void)sw__allow_lift(e);
    return SW_OK;
}

void sw_engine_last_migration(const sw_engine *e, sw_engine_migration *out)
{
    *out = e->mig;
}

sw_state_store *sw_engine_state(sw_engine *e)
{
    return e->state;
}

void sw_engine_set_location_feed(sw_engine *e, sw_location_feed *feed)
{
    sw_location_feed_free(e->feed);
    e->feed = feed;
}

/* ---- events ----------------------------------------------------------------- */

static void event_from_facts(sw_engine *e, sw_event *ev, const sw_engine_msg *in, sw_event_type type,
                             sw_category cat, const char *rule)
{
    const sw_facts *f = &e->facts;
    sw_event_init(ev, type, cat, rule);
    ev->ts_ns = f->ts_ns;
    /* The partner side of the message: its sender, or its receiver when
     * the core sent it (zones and the core are not partners). */
    const sw_peer *pp = f->peer && !f->peer->is_zone && f->peer->role != SW_ROLE_CORE ? f->peer
                      : f->dst_peer && !f->dst_peer->is_zone && f->dst_peer->role != SW_ROLE_CORE
                          ? f->dst_peer
                          : NULL;
    if (pp && pp->name)
        ev->peer = sw_str_make(pp->name, strlen(pp->name));
    ev->src = f->src;
    ev->dst = f->dst;
    ev->transport = f->transport;
    if (f->is_request)
        ev->method = f->method_name;
    else
        ev->status = f->status;
    ev->call_id = f->call_id;
    ev->from = f->from_user;
    ev->to = f->to_user;
    ev->pai = f->pai_user;
    ev->ruri = f->ruri_user;
    ev->frame = in->frame;
    ev->file = in->file;
    ev->listener = in->listener;
    ev->passive = e->msg_passive;
    if (in->capture_ts_ns)
        (void)sw_event_add_num(ev, "capture_ts", in->capture_ts_ns);
}

/* Formats the event's reason into e->reason (cut to fit). */
static void set_reason(sw_engine *e, sw_event *ev, const char *fmt, ...) SW_PRINTF(3, 4);
static void set_reason(sw_engine *e, sw_event *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    size_t n = k < 0 ? 0 : (size_t)k < sizeof e->reason ? (size_t)k : sizeof e->reason - 1;
    ev->reason = sw_str_make(e->reason, n);
}

/* A block key from a number or name: NUL-padded, cut to 39 bytes. */
static void key_text(char id[40], const char *p, size_t len)
{
    memset(id, 0, 40);
    memcpy(id, p, len < 39 ? len : 39);
}

static const char *stage_name(int stage)
{
    return stage == 0 ? "framing" : stage == 1 ? "parse" : "validate";
}

/* The parser's findings as evidence, and the reason text "offset N: why". */
static size_t malformed_detail(sw_engine *e, sw_event *ev, const sw_engine_msg *in, char *buf,
                               size_t cap)
{
    const sw_facts *f = &e->facts;
    const char *why = f->error.reason ? f->error.reason : sw_strerror(e->mf_code);
    int n = snprintf(buf, cap, "offset %zu: %s", f->error.offset, why);
    if (n < 0)
        n = 0;
    if ((size_t)n >= cap)
        n = (int)cap - 1;
    const char *st = stage_name(e->mf_stage);
    const char *en = sw_errname(e->mf_code);
    (void)sw_event_add_str(ev, "stage", sw_str_make(st, strlen(st)));
    (void)sw_event_add_str(ev, "error", sw_str_make(en, strlen(en)));
    (void)sw_event_add_num(ev, "offset", (int64_t)f->error.offset);
    (void)sw_event_add_num(ev, "bytes", (int64_t)in->len);
    if (in->data && f->error.offset < in->len) {
        size_t k = in->len - f->error.offset < NEAR_BYTES ? in->len - f->error.offset : NEAR_BYTES;
        (void)sw_event_add_str(ev, "near", sw_str_make(in->data + f->error.offset, k));
    }
    return (size_t)n;
}

static void apply(sw_verdict *v, sw_action a, uint16_t status, uint32_t retry, const char *rule,
                  sw_category cat, sw_event_type type)
{
    if (severity[a] <= severity[v->action])
        return;
    v->action = a;
    v->status = a == SW_ACTION_REJECT ? status : 0;
    v->retry_after_s = a == SW_ACTION_REJECT ? retry : 0;
    v->rule = rule;
    v->category = cat;
    v->type = type;
}

/* A malformed request can only be answered when its top Via is usable;
 * responses and unroutable requests are dropped (no amplification). */
static void malformed_action(const sw_engine *e, sw_action *a, uint16_t *status)
{
    if (*a != SW_ACTION_REJECT)
        return;
    int routable = e->facts.msg ? 0 : e->ident.via_ok;
    if (e->facts.msg) {
        const sw_via *via;
        sw_sip_error err;
        routable = sw_sip_top_via((sw_sip_msg *)e->facts.msg, &via, &err) == SW_OK;
    }
    if (!e->facts.is_request || !routable) {
        *a = SW_ACTION_DROP;
        *status = 0;
    } else if (e->mf_code == SW_EVERSION) {
        *status = 505; /* RFC 3261 §21.5.6 */
    }
}

/* The source as an offender key (limiter.c), formatted on first use: most
 * messages raise no event and need no block check by source. */
static const char *source_id(sw_engine *e)
{
    if (!e->srcid_ok) {
        sw__key_source(&e->facts.src, e->srcid);
        e->srcid_ok = 1;
    }
    return e->srcid;
}

/* What happened to the message, as its events say it: the verdict's
 * action, with the status the proxy answers (sipwalld's worker: a reject
 * with its status, a rate-limit with 503); a response or a message that
 * did not parse cannot be answered and is dropped. */
static void actual_action(const sw_engine *e, const sw_verdict *v, sw_action *a, uint16_t *status)
{
    *a = v->action;
    *status = 0;
    if (*a != SW_ACTION_REJECT && *a != SW_ACTION_RATE_LIMIT)
        return;
    if (!e->facts.is_request || !e->facts.msg)
        *a = SW_ACTION_DROP;
    else
        *status = v->status ? v->status : 503;
}

/* 1 when the message was dropped, rejected or limited by another decision
 * than rule (the verdict's rule names it). */
static int stopped_by_other(const sw_verdict *v, const char *rule)
{
    return severity[v->action] >= severity[SW_ACTION_RATE_LIMIT] && v->rule && rule &&
           v->rule != rule && strcmp(v->rule, rule) != 0;
}

static void fired_add(sw_engine *e, const sw_rule *r, sw_action act, uint16_t status, int64_t expires)
{
    if (e->nfired < SW__FIRED_MAX)
        e->fired[e->nfired] = (struct sw__fired){r, act, status, expires};
    if (e->nfired < UINT8_MAX)
        e->nfired++;
}

static void run_rule(sw_engine *e, const sw_rule *r, sw_verdict *v, int *terminal)
{
    const sw_facts *f = &e->facts;
    sw_action act = r->act.action;
    uint16_t status = r->act.status;
    if (act == SW_ACTION_RATE_LIMIT && !r->monitor && sw__rate_allow(e, r))
        return; /* under its rate: nothing happens */
    if (r->event == SW_EVT_SIP_MALFORMED && f->malformed)
        malformed_action(e, &act, &status);
    int64_t expires = 0;
    if (r->monitor) {
        e->st.monitor_hits++;
        v->monitor_hits++;
    } else {
        if (act == SW_ACTION_STRIP) {
            v->strip.bits[0] |= r->act.strip.bits[0];
            v->strip.bits[1] |= r->act.strip.bits[1];
            for (uint32_t k2 = 0; k2 < r->act.nstrip_names && v->nstrip_names < SW_VERDICT_MAX_NAMES; k2++)
                v->strip_names[v->nstrip_names++] = r->act.strip_names[k2];
        }
        apply(v, act, status, r->act.retry_after_s, r->id, r->category, r->event);
        if (r->act.block_ns > 0 && f->peer->is_zone)
            expires = sw__block_set(e, SW_OFFENDER_SOURCE, source_id(e), r->act.block_ns, r->id,
                                    r->event, r->category, &f->src);
        if (act == SW_ACTION_DROP || act == SW_ACTION_REJECT || act == SW_ACTION_RATE_LIMIT)
            *terminal = 1;
    }
    fired_add(e, r, act, status, expires);
}

/* "also": the ids of the fired rules but skip and the one named
 * dropped_by (and how many more). */
static void also_list(sw_engine *e, sw_event *ev, int skip, const char *dropped_by)
{
    size_t n = 0;
    unsigned named = 0, skipped = 0;
    for (unsigned i = 0; i < e->nfired && i < SW__FIRED_MAX; i++) {
        const char *id = e->fired[i].r ? e->fired[i].r->id : "cat0.admission";
        if ((int)i == skip || (dropped_by && strcmp(id, dropped_by) == 0)) {
            skipped++;
            continue;
        }
        int k = snprintf(e->also + n, sizeof e->also - n, "%s%s", n ? " " : "", id);
        if (k < 0 || (size_t)k >= sizeof e->also - n)
            break;
        n += (size_t)k;
        named++;
    }
    unsigned more = e->nfired - skipped - named;
    if (more) {
        int k = snprintf(e->also + n, sizeof e->also - n, "%s+%u more", n ? " " : "", more);
        if (k > 0 && (size_t)k < sizeof e->also - n)
            n += (size_t)k;
    }
    if (n)
        (void)sw_event_add_str(ev, "also", sw_str_make(e->also, n));
}

static const char admission_rule[] = "cat0.admission";
static void admission_event(sw_engine *e, const sw_engine_msg *in, sw_event *ev);

/* The one event of the rules that fired on this message (none when a
 * detector named the attack: its event says which rule stopped it). */
static void rules_event(sw_engine *e, const sw_engine_msg *in, const sw_verdict *v)
{
    const sw_facts *f = &e->facts;
    unsigned nf = e->nfired < SW__FIRED_MAX ? e->nfired : SW__FIRED_MAX;
    /* the event: the first rule that names an attack (an event type other
     * than policy_violation), else the verdict's rule, else the first
     * enforced, else the first; the verdict's rule, when it is another,
     * is named as dropped_by */
    int d = -1, named = -1, first_enf = -1;
    for (unsigned i = 0; i < nf; i++) {
        const sw_rule *r = e->fired[i].r;
        const char *id = r ? r->id : "cat0.admission";
        if (d < 0 && v->rule && strcmp(v->rule, id) == 0)
            d = (int)i;
        int mon = r ? r->monitor : f->peer->admit_monitor;
        if (first_enf < 0 && !mon)
            first_enf = (int)i;
        if (named < 0 && r && r->event != SW_EVT_POLICY_VIOLATION && !mon)
            named = (int)i;
    }
    if (named >= 0)
        d = named;
    if (d < 0)
        d = first_enf >= 0 ? first_enf : 0;
    const struct sw__fired *fd = &e->fired[d];
    const sw_rule *r = fd->r;
    sw_event *ev = &e->ev;
    uint8_t monitor;
    if (!r) {
        admission_event(e, in, ev);
        monitor = f->peer->admit_monitor;
    } else {
        event_from_facts(e, ev, in, r->event, r->category, r->id);
        ev->confidence = r->confidence;
        monitor = r->monitor;
        ev->expires_ns = fd->expires;
        size_t n = 0;
        if (f->malformed)
            n = malformed_detail(e, ev, in, e->reason, sizeof e->reason);
        const char *why = r->reason ? r->reason : "";
        int k = snprintf(e->reason + n, sizeof e->reason - n, "%s%s", n && why[0] ? " — " : "", why);
        if (k > 0)
            n += (size_t)k < sizeof e->reason - n ? (size_t)k : sizeof e->reason - n - 1;
        if (!n)
            n = (size_t)snprintf(e->reason, sizeof e->reason, "rule %s matched", r->id);
        ev->reason = sw_str_make(e->reason, n);
    }
    if (monitor) {
        /* what enforcement would have done */
        ev->monitor = 1;
        ev->action = fd->act;
        ev->action_status = fd->act == SW_ACTION_REJECT ? fd->status : 0;
    } else {
        actual_action(e, v, &ev->action, &ev->action_status);
    }
    const char *by = NULL;
    if (!monitor && stopped_by_other(v, r ? r->id : admission_rule)) {
        by = v->rule;
        (void)sw_event_add_str(ev, "dropped_by", sw_str_make(by, strlen(by)));
    }
    also_list(e, ev, d, by);
    if (!r) {
        /* one key per zone: a random-source flood stays one event per window */
        if (sw__event_allowed(e, "cat0.admission", 0xff, f->peer->name, ev))
            sw__event_emit(e, ev);
    } else if (sw__event_allowed(e, r->id, SW_OFFENDER_SOURCE, source_id(e), ev)) {
        sw__event_emit(e, ev);
    }
}

/* ---- privacy and topology (D8, D9) -------------------------------------------- */

/* Which header ids the message holds (bit 0: some header without an id). */
static void present_ids(const sw_sip_msg *m, sw_hdr_mask *pm)
{
    uint64_t b0 = 0, b1 = 0;
    for (uint16_t i = 0; i < m->nhdrs; i++) {
        unsigned id = m->hdrs[i].id;
        if (id < 64)
            b0 |= (uint64_t)1 << id;
        else
            b1 |= (uint64_t)1 << (id & 63);
    }
    pm->bits[0] = b0;
    pm->bits[1] = b1;
}

_Static_assert(SW_HDR__COUNT <= 128, "header ids fit an sw_hdr_mask");

/* The ids of `mask` the message holds (SW_HDR_OTHER never counts). */
static int mask_present(const sw_hdr_mask *pm, const sw_hdr_mask *mask, sw_hdr_mask *out)
{
    out->bits[0] = mask->bits[0] & pm->bits[0] & ~(uint64_t)1;
    out->bits[1] = mask->bits[1] & pm->bits[1];
    return (out->bits[0] | out->bits[1]) != 0;
}

/* sw_sip_find(m, name) != NULL, with the name's id looked up beforehand
 * (ids[i]); a name without an id can only be among the headers without one. */
static int name_present(const sw_sip_msg *m, const sw_hdr_mask *pm, uint16_t id, const char *name)
{
    if (id != SW_HDR_OTHER)
        return m->first[id] != SW_HDR_NONE;
    return (pm->bits[0] & 1u) && sw_sip_find(m, name) != NULL;
}

/* Headers without an sw_hdr_id, listed by name, less those in `except`
 * (a peer's agreed headers): those present go into the verdict (and the
 * reason). */
static int names_present(const sw_sip_msg *m, const sw_hdr_mask *pm, char *const *names,
                         const uint16_t *ids, uint32_t n, char *const *except, uint32_t nexcept,
                         sw_verdict *v, int apply_to_verdict, char *buf, size_t cap, size_t *used)
{
    int any = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!names[i] || !name_present(m, pm, ids[i], names[i]))
            continue;
        int agreed = 0;
        for (uint32_t j = 0; j < nexcept && !agreed; j++)
            agreed = strcasecmp(names[i], except[j]) == 0;
        if (agreed)
            continue;
        any = 1;
        if (apply_to_verdict && v->nstrip_names < SW_VERDICT_MAX_NAMES)
            v->strip_names[v->nstrip_names++] = names[i];
        int k = snprintf(buf + *used, cap - *used, "%s%s", *used ? ", " : "", names[i]);
        if (k > 0 && (size_t)k < cap - *used)
            *used += (size_t)k;
    }
    return any;
}

static size_t mask_names(const sw_hdr_mask *m, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned id = 1; id < SW_HDR__COUNT; id++) {
        if (!sw_hdr_mask_has(m, id))
            continue;
        int k = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", sw_hdr_name((sw_hdr_id)id));
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
    }
    return n;
}

static void run_privacy(sw_engine *e, const sw_engine_msg *in, sw_verdict *v)
{
    const sw_facts *f = &e->facts;
    const sw_privacy *pv = &e->pol->privacy;
    const sw_sip_msg *m = f->msg;
    sw_hdr_mask present, pm;
    if (!m)
        return;
    int ingress = f->direction == SW_DIR_INGRESS && !f->peer->trusted;
    int egress = f->direction == SW_DIR_EGRESS && !f->dst_peer->trusted;
    if (!ingress && !egress)
        return;
    present_ids(m, &pm);
    char extra[256];
    size_t extra_len = 0;
    extra[0] = '\0';
    int by_name = ingress &&
                  names_present(m, &pm, pv->ingress_strip_names, e->rx.ingress_ids, pv->ningress_strip_names,
                                NULL, 0, v, !pv->monitor, extra, sizeof extra, &extra_len);
    if (ingress && (mask_present(&pm, &pv->ingress_strip, &present) || by_name)) {
        int identity = sw_hdr_mask_has(&present, SW_HDR_P_ASSERTED_IDENTITY) ||
                       sw_hdr_mask_has(&present, SW_HDR_P_PREFERRED_IDENTITY);
        sw_action act = pv->ingress_reject ? SW_ACTION_REJECT : SW_ACTION_STRIP;
        sw_event_type type = identity ? SW_EVT_PAI_INJECTION : SW_EVT_POLICY_VIOLATION;
        const char *rule = "privacy.trust-domain";
        sw_event *ev = &e->ev;
        event_from_facts(e, ev, in, type, SW_CAT_CAT1, rule);
        ev->action = act;
        ev->action_status = act == SW_ACTION_REJECT ? 403 : 0;
        ev->monitor = pv->monitor;
        ev->confidence = identity ? 90 : 70;
        char names[256];
        size_t nl = mask_names(&present, names, sizeof names);
        set_reason(e, ev,
                         "trust-domain headers (%s%s%s) from %s peer %s (RFC 3325: only meaningful inside the trust domain)",
                         names, nl && extra_len ? ", " : "", extra, "untrusted", f->peer->name);
        if (!pv->monitor) {
            v->strip.bits[0] |= present.bits[0];
            v->strip.bits[1] |= present.bits[1];
            apply(v, act, 403, 0, rule, SW_CAT_CAT1, type);
        } else {
            e->st.monitor_hits++;
            v->monitor_hits++;
        }
        /* From a configured untrusted partner (a transit carrier passing on
         * third-party identities) the strip is routine border hygiene and
         * only counted; from a source that is not a partner at all it is an
         * injection attempt and an event. */
        if ((f->peer->is_zone || pv->monitor) && !e->dr.retransmission &&
            sw__event_allowed(e, rule, SW_OFFENDER_SOURCE, source_id(e), ev))
            sw__event_emit(e, ev);
    }
    if (egress) {
        sw_hdr_mask leak = pv->egress_strip;
        leak.bits[0] &= ~f->dst_peer->agreed.bits[0];
        leak.bits[1] &= ~f->dst_peer->agreed.bits[1];
        /* headers without an id: the profile's names minus what the peer agreed */
        char egx[256];
        size_t egx_len = 0;
        egx[0] = '\0';
        names_present(m, &pm, pv->egress_strip_names, e->rx.egress_ids, pv->negress_strip_names,
                      f->dst_peer->agreed_names, f->dst_peer->nagreed_names, v, !pv->monitor, egx,
                      sizeof egx, &egx_len);
        if (mask_present(&pm, &leak, &present) || egx_len) {
            if (!pv->monitor) {
                v->strip.bits[0] |= present.bits[0];
                v->strip.bits[1] |= present.bits[1];
                apply(v, SW_ACTION_STRIP, 0, 0, "privacy.egress", SW_CAT_CAT1, SW_EVT_PRIVACY_LEAK);
            }
            if ((e->passive || pv->monitor) && !e->dr.retransmission) {
                /* passive: the proxy was not there to strip it, so it leaked */
                const char *rule = "privacy.egress";
                sw_event *ev = &e->ev;
                event_from_facts(e, ev, in, SW_EVT_PRIVACY_LEAK, SW_CAT_CAT1, rule);
                ev->action = SW_ACTION_STRIP;
                ev->monitor = pv->monitor;
                ev->confidence = 100;
                char names[256];
                size_t nl = mask_names(&present, names, sizeof names);
                set_reason(e, ev,
                                 "%s%s%s sent toward untrusted peer %s (location, charging or topology data leaves the network)",
                                 names, nl && egx_len ? ", " : "", egx, f->dst_peer->name);
                char dstid[40];
                sw__key_source(&f->dst, dstid);
                if (sw__event_allowed(e, rule, SW_OFFENDER_SOURCE, dstid, ev))
                    sw__event_emit(e, ev);
            }
        }
        /* version strings in User-Agent / Server / Warning: cut, no event */
        sw_hdr_mask san;
        mask_present(&pm, &pv->sanitize, &san);
        for (unsigned w = 0; w < 2; w++) {
            for (uint64_t bits = san.bits[w]; bits; bits &= bits - 1) {
                unsigned id = w * 64 + (unsigned)__builtin_ctzll(bits);
                sw_str val = m->hdrs[m->first[id]].value;
                for (size_t i = 0; i < val.len; i++)
                    if (val.ptr[i] >= '0' && val.ptr[i] <= '9') {
                        sw_hdr_mask_set(&v->sanitize, id);
                        break;
                    }
            }
        }
    }
}

/* ---- detectors ------------------------------------------------------------------ */

/* sw__key_source reads the family and the address (IPv4) or its /64 (IPv6). */
static int same_source_key(const sw_addr *a, const sw_addr *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == 4)
        return memcmp(a->ip, b->ip, 4) == 0;
    if (a->family == 6)
        return memcmp(a->ip, b->ip, 8) == 0;
    return 1;
}

static void offender_id(sw_engine *e, const sw_detect_hit *h, char id[40])
{
    if (h->offender_kind == SW_OFFENDER_SOURCE) {
        if (same_source_key(&h->offender_addr, &e->facts.src))
            memcpy(id, source_id(e), 40); /* the message's source, formatted once */
        else
            sw__key_source(&h->offender_addr, id);
    } else {
        key_text(id, h->offender, strnlen(h->offender, sizeof h->offender));
    }
}

/* 1 when hit h is about the message's sender, the offender its rules are
 * about: its source, its calling number or its credentials.  A hit about
 * another offender (the called number, a partner, the receiver of a
 * response) is another incident: the rules' event stays separate. */
static int hit_on_sender(const sw_engine *e, const sw_detect_hit *h)
{
    switch (h->offender_kind) {
    case SW_OFFENDER_SOURCE: return same_source_key(&h->offender_addr, &e->facts.src);
    case SW_OFFENDER_CALLER:
    case SW_OFFENDER_CALLER_PREFIX:
    case SW_OFFENDER_USER: return 1;
    default: return 0;
    }
}

/* 1 when a detector's hit on this message is about its sender: the
 * detector, not the rules, names what the message is.  An IRSF pattern
 * about the sending trunk (offender PEER) names the incident too: rules
 * that test irsf.pattern (cat2.irsf-hot-destination) add no event of
 * their own to it, one incident, one event. */
static int classified(const sw_engine *e)
{
    for (unsigned i = 0; i < e->dr.nhits && i < SW_DETECT_MAX_HITS; i++)
        if (hit_on_sender(e, &e->dr.hits[i]) || e->dr.hits[i].detector == SW_DET_IRSF)
            return 1;
    return 0;
}

/* The window an incident of detector d's offender lasts (limiter.c). */
static int64_t detector_window(const sw_engine *e, sw_detector_id d)
{
    const int64_t *p = e->pol->detectors[d].params;
    switch (d) {
    case SW_DET_SCAN: return p[SW_DP_SCAN_WINDOW];
    case SW_DET_BRUTEFORCE: return p[SW_DP_BF_WINDOW];
    case SW_DET_MALFORMED: return p[SW_DP_MF_WINDOW];
    case SW_DET_IRSF: return p[SW_DP_IRSF_WINDOW];
    case SW_DET_WANGIRI: return p[SW_DP_WG_WINDOW];
    case SW_DET_LOCATION_PROBE: return p[SW_DP_LP_WINDOW];
    default: return 0; /* floods: the event window */
    }
}

/* The detectors' hits on this message (e->dr, observed before the rules):
 * enforced into va (blocks set), then one event per trip, whose action is
 * what happened to the message (vt: the final verdict) and which names
 * the decision that stopped it when that was another ("dropped_by"). */
static void detector_hits(sw_engine *e, sw_verdict *va)
{
    const sw_detect_result *dr = &e->dr;
    for (unsigned i = 0; i < dr->nhits && i < SW_DETECT_MAX_HITS; i++) {
        const sw_detect_hit *h = &dr->hits[i];
        e->det_expires[i] = 0;
        if (!h->monitor) {
            apply(va, h->action, h->status, h->retry_after_s, h->rule, h->category, h->type);
            if (h->trip && h->block_ns > 0 && h->offender_kind != SW_OFFENDER_PEER &&
                !(h->offender_kind == SW_OFFENDER_SOURCE &&
                  !(e->facts.is_request ? e->facts.peer : e->facts.dst_peer)->is_zone)) {
                char id[40];
                offender_id(e, h, id);
                const sw_addr *who = &e->facts.src;
                if (h->offender_kind == SW_OFFENDER_SOURCE && !e->facts.is_request)
                    who = &e->facts.dst; /* tripped by the answer to the offender */
                e->det_expires[i] = sw__block_set(e, h->offender_kind, id, h->block_ns, h->rule, h->type,
                                           h->category, who);
            }
        } else if (h->trip) {
            e->st.monitor_hits++;
            va->monitor_hits++;
        }
        if (!h->trip)
            e->st.events_suppressed++;
    }
}

static void detector_events(sw_engine *e, const sw_engine_msg *in, const sw_verdict *vt)
{
    const sw_detect_result *dr = &e->dr;
    for (unsigned i = 0; i < dr->nhits && i < SW_DETECT_MAX_HITS; i++) {
        const sw_detect_hit *h = &dr->hits[i];
        if (!h->trip)
            continue;
        char id[40];
        offender_id(e, h, id);
        sw_event *ev = &e->ev;
        event_from_facts(e, ev, in, h->type, h->category, h->rule);
        if (!e->facts.is_request && h->offender_kind == SW_OFFENDER_SOURCE &&
            h->offender_addr.family == e->facts.dst.family &&
            memcmp(h->offender_addr.ip, e->facts.dst.ip, 16) == 0) {
            /* tripped by the answer to the offender: report the offender as src */
            ev->src = e->facts.dst;
            ev->dst = e->facts.src;
        }
        int other = stopped_by_other(vt, h->rule);
        if (other || !h->monitor) {
            actual_action(e, vt, &ev->action, &ev->action_status);
        } else {
            ev->action = h->action; /* monitor: what enforcement would have done */
            ev->action_status = h->action == SW_ACTION_REJECT ? h->status : 0;
            ev->monitor = 1;
        }
        ev->confidence = h->confidence;
        ev->expires_ns = e->det_expires[i];
        ev->reason = sw_str_make(h->reason, strnlen(h->reason, sizeof h->reason));
        (void)sw_event_add_str(ev, "offender", sw_str_make(id, strnlen(id, 40)));
        if (h->username[0])
            (void)sw_event_add_str(ev, "username",
                                   sw_str_make(h->username, strnlen(h->username, sizeof h->username)));
        if (other)
            (void)sw_event_add_str(ev, "dropped_by", sw_str_make(vt->rule, strlen(vt->rule)));
        if (e->nfired && hit_on_sender(e, h))
            also_list(e, ev, -1, other ? vt->rule : NULL);
        for (unsigned k = 0; k < h->nevidence && k < SW_DETECT_MAX_EVIDENCE; k++)
            if (h->evidence[k].key)
                (void)sw_event_add_num(ev, h->evidence[k].key, h->evidence[k].num);
        e->inc_win = detector_window(e, h->detector);
        if (sw__event_allowed(e, h->rule, h->offender_kind, id, ev))
            sw__event_emit(e, ev);
        e->inc_win = 0;
    }
}

/* ---- the pipeline ------------------------------------------------------------------- */

/* A range block (kind CALLER_RANGE or CALLEE_RANGE) over number num
 * ("+" and digits): the longest range held that num starts with decides,
 * one store lookup per length, 16 at most (E.164: 15 digits). */
static int range_blocked(sw_engine *e, uint8_t kind, const char *num, size_t len, sw_verdict *v)
{
    if (len < 2 || num[0] != '+')
        return 0;
    char id[40];
    key_text(id, num, len > 16 ? 16 : len);
    for (size_t l = len > 16 ? 16 : len; l >= 2; l--) {
        id[l] = '\0';
        if (sw__block_check(e, kind, id, v))
            return 1;
    }
    return 0;
}

static int blocked(sw_engine *e, sw_verdict *v)
{
    const sw_facts *f = &e->facts;
    /* Source blocks never fall on a configured partner (specs: never
     * auto-block a partner; rate-limit and alert) — an IPv6 block covers a
     * /64 that a partner may share with an attacker. */
    /* (a kind without any entry in the table cannot block: its key is not
     * even made) */
    const _Atomic uint32_t *kinds = e->block_kinds;
#define KIND(k) atomic_load_explicit(&kinds[(k)], memory_order_relaxed)
    if (!KIND(SW_STATE_KIND_ALL)) /* no block anywhere: the common case, one load */
        return 0;
    if (f->peer->is_zone && KIND(SW_OFFENDER_SOURCE) &&
        sw__block_check(e, SW_OFFENDER_SOURCE, source_id(e), v))
        return 1;
    if (!f->is_request)
        return 0;
    char id[40];
    if (f->a_len && (KIND(SW_OFFENDER_CALLER) || KIND(SW_OFFENDER_CALLER_PREFIX))) {
        key_text(id, f->a, f->a_len);
        if (sw__block_check(e, SW_OFFENDER_CALLER, id, v))
            return 1;
        if (e->wg_prefix_digits && f->a_e164 && f->a_len > e->wg_prefix_digits + 1) {
            id[f->a_len - e->wg_prefix_digits] = '\0';
            if (sw__block_check(e, SW_OFFENDER_CALLER_PREFIX, id, v))
                return 1;
        }
    }
    if (f->b_len && f->method == SW_METHOD_INVITE && KIND(SW_OFFENDER_CALLEE)) {
        key_text(id, f->b, f->b_len);
        if (sw__block_check(e, SW_OFFENDER_CALLEE, id, v))
            return 1;
    }
    if (f->method == SW_METHOD_INVITE) {
        if (f->a_e164 && KIND(SW_OFFENDER_CALLER_RANGE) &&
            range_blocked(e, SW_OFFENDER_CALLER_RANGE, f->a, f->a_len, v))
            return 1;
        if (f->b_e164 && KIND(SW_OFFENDER_CALLEE_RANGE) &&
            range_blocked(e, SW_OFFENDER_CALLEE_RANGE, f->b, f->b_len, v))
            return 1;
    }
    if (f->has_credentials && f->auth_user.len && KIND(SW_OFFENDER_USER)) {
        key_text(id, f->auth_user.ptr, f->auth_user.len);
        if (sw__block_check(e, SW_OFFENDER_USER, id, v))
            return 1;
    }
#undef KIND
    return 0;
}

/* The cat0 event of the message (rules_event emits it). */
static void admission_event(sw_engine *e, const sw_engine_msg *in, sw_event *ev)
{
    const sw_peer *z = e->facts.peer;
    event_from_facts(e, ev, in, SW_EVT_POLICY_VIOLATION, SW_CAT_CAT0, admission_rule);
    ev->confidence = 100;
    set_reason(e, ev,
               "source is not a configured partner (zone %s admits nothing); further drops are summarised per zone",
               z->name);
}

static void admission(sw_engine *e, sw_verdict *v)
{
    const sw_peer *z = e->facts.peer;
    if (!z->admit_monitor) {
        apply(v, SW_ACTION_DROP, 0, 0, admission_rule, SW_CAT_CAT0, SW_EVT_POLICY_VIOLATION);
        v->admission = 1;
        e->st.admission_drops++;
    } else {
        e->st.monitor_hits++;
        v->monitor_hits++;
    }
    fired_add(e, NULL, SW_ACTION_DROP, 0, 0);
}

sw_sip_msg *sw_engine_preparse(sw_engine *e, const sw_engine_msg *in)
{
    e->pre_data = NULL;
    if (!in->data || (in->framing_error && in->framing_error->code != 0))
        return NULL;
    sw_sip_error err;
    if (sw_sip_parse(&e->msg, e->hdrs, e->cap, in->data, in->len, in->framing,
                     in->sip_limits ? in->sip_limits : &e->lim, &err) <= 0)
        return NULL;
    /* validated now, so that the caller's reads hit the strict parses the
     * validation memoises instead of parsing the same headers again */
    memset(&e->pre_err, 0, sizeof e->pre_err);
    e->pre_vr = sw_sip_validate(&e->msg, &e->pre_err);
    e->pre_data = in->data;
    e->pre_len = in->len;
    return &e->msg;
}

int sw_engine_screen(sw_engine *e, const sw_engine_msg *in, sw_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->action = SW_ACTION_ALLOW;
    e->now = in->ts_ns;
    e->cur_frame = in->frame;
    e->cur_file = in->file;
    e->sink_err = SW_OK;
    e->msg_events = 0;
    sw__facts_build(e, in);
    e->pre_data = NULL;
    const sw_facts *f = &e->facts;
    e->cls = sw__msg_class(f);
    v->facts = f;
    e->st.messages++;
    if (f->malformed)
        e->st.malformed++;

    e->srcid_ok = 0;
    e->nfired = 0;
    e->msg_passive = e->passive || in->observed;
    if (blocked(e, v)) {
        /* enforcement stays the block's drop, but the detectors still
         * learn what the blocked source is doing (a scanner that turns to
         * password guessing is reported as such, dropped_by the block) */
        e->st.blocked++;
        sw_detectors_observe(e->det, &e->facts, &e->dr);
        if (e->dr.retransmission)
            e->st.retransmissions++;
        v->retransmission = e->dr.retransmission;
        sw_verdict dv;
        memset(&dv, 0, sizeof dv);
        detector_hits(e, &dv);
        detector_events(e, in, v);
        goto done;
    }

    /* Only the rules that may match this message's class (index.c); the
     * others are false for it, and evaluating them would change nothing. */
    const sw_policy *p = e->pol;
    const uint32_t *rl = e->rx.list + e->rx.start[e->cls];
    const uint32_t *rend = e->rx.list + e->rx.start[e->cls + 1];
    for (; rl < rend && *rl < e->rx.nallow; rl++) {
        if (sw__cond_eval(e, p->rules[*rl].cond)) {
            v->rule = p->rules[*rl].id; /* allowlists always win */
            goto done;
        }
    }
    /* The detectors see the message first (their state does not depend on
     * the verdict), so that what they make of it decides the event: a
     * classified offender's message is reported as the attack, whatever
     * rule stops it, and a retransmission is reported by nothing. */
    sw_detectors_observe(e->det, &e->facts, &e->dr);
    v->retransmission = e->dr.retransmission;
    if (e->dr.retransmission)
        e->st.retransmissions++;
    if (f->peer->is_zone && f->peer->admit == SW_ADMIT_DROP)
        admission(e, v);
    int terminal = 0;
    for (; rl < rend && !terminal; rl++) {
        const sw_rule *r = &p->rules[*rl];
        if (sw__cond_eval(e, r->cond))
            run_rule(e, r, v, &terminal);
    }
    run_privacy(e, in, v);
    detector_hits(e, v);
    if (e->nfired && !e->dr.retransmission && !classified(e))
        rules_event(e, in, v);
    detector_events(e, in, v);
done:
    e->st.verdicts[v->action]++;
    v->events = e->msg_events;
    return e->sink_err;
}

int sw_engine_flush(sw_engine *e, int64_t now_ns)
{
    e->sink_err = SW_OK;
    sw__summaries_flush(e, now_ns);
    if (e->sink) {
        int r = sw_event_sink_flush(e->sink);
        if (r != SW_OK && e->sink_err == SW_OK)
            e->sink_err = r;
    }
    return e->sink_err;
}

void sw_engine_get_stats(const sw_engine *e, sw_engine_stats *out)
{
    *out = e->st;
    sw_state_stats ss;
    sw_state_stats_get(e->state, &ss);
    out->active_blocks = ss.active;
    sw_detectors_stats(e->det, &out->detect);
}

size_t sw_engine_memory(const sw_engine *e)
{
    size_t own = 0;
    if (e->own_state) {
        sw_state_stats ss;
        sw_state_stats_get(e->state, &ss);
        own = ss.memory;
    }
    return sizeof *e + (size_t)e->cap * sizeof *e->hdrs + sw__global_size() +
           sw_table_memory(e->events) + own + sw_table_memory(e->rates) + sw_detectors_memory(e->det);
}
