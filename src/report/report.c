/* The HTML report's collecting side: a sink that keeps the first max_events
 * events in full (sanitised copies) and counts every event into bounded
 * aggregates, and the per-message timeline. */
#include <stdlib.h>

#include "report_int.h"

#define RP_NS 1000000000ll
#define RP_FIELD_SCRATCH ((RP__NSTR + SW_EVENT_MAX_EVIDENCE) * 3 * SW_EVENT_FIELD_MAX)

sw_report *sw_report_new(size_t max_events)
{
    sw_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->max_events = max_events;
    r->scratch_cap = RP_FIELD_SCRATCH;
    r->scratch = malloc(r->scratch_cap);
    if (!r->scratch) {
        free(r);
        return NULL;
    }
    sw__strtab_init(&r->names, 4096);
    return r;
}

void sw_report_free(sw_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nev; i++)
        free(r->ev[i].blob);
    free(r->ev);
    free(r->rules);
    free(r->off);
    free(r->scratch);
    sw__strtab_free(&r->names);
    free(r);
}

/* ---- timeline ------------------------------------------------------------------ */

static void tl_merge(rp_timeline *t)
{
    for (size_t j = 0; j < RP_TL_BUCKETS / 2; j++) {
        t->allow[j] = t->allow[2 * j] + t->allow[2 * j + 1];
        t->other[j] = t->other[2 * j] + t->other[2 * j + 1];
        t->events[j] = t->events[2 * j] + t->events[2 * j + 1];
    }
    size_t half = RP_TL_BUCKETS / 2;
    memset(t->allow + half, 0, half * sizeof t->allow[0]);
    memset(t->other + half, 0, half * sizeof t->other[0]);
    memset(t->events + half, 0, half * sizeof t->events[0]);
    t->lo /= 2;
    t->hi /= 2;
    t->width *= 2;
}

static void tl_shift(rp_timeline *t, size_t k)
{
    size_t n = t->hi + 1;
    memmove(t->allow + k, t->allow, n * sizeof t->allow[0]);
    memmove(t->other + k, t->other, n * sizeof t->other[0]);
    memmove(t->events + k, t->events, n * sizeof t->events[0]);
    memset(t->allow, 0, k * sizeof t->allow[0]);
    memset(t->other, 0, k * sizeof t->other[0]);
    memset(t->events, 0, k * sizeof t->events[0]);
    t->base -= (int64_t)k * t->width;
    t->lo += k;
    t->hi += k;
}

/* The bucket for ts, moving or widening the window as needed. */
static size_t tl_slot(rp_timeline *t, int64_t ts)
{
    if (!t->used) {
        t->used = 1;
        t->width = RP_NS;
        t->base = sw__sat_add(ts, -(((ts % RP_NS) + RP_NS) % RP_NS)); /* whole second */
        t->lo = t->hi = 0;
    }
    for (;;) {
        if (ts < t->base) {
            uint64_t diff = (uint64_t)t->base - (uint64_t)ts;
            uint64_t need = diff / (uint64_t)t->width + (diff % (uint64_t)t->width != 0);
            int64_t back, nbase;
            if (need < RP_TL_BUCKETS && t->hi + need < RP_TL_BUCKETS &&
                !__builtin_mul_overflow((int64_t)need, t->width, &back) &&
                !__builtin_sub_overflow(t->base, back, &nbase)) {
                tl_shift(t, (size_t)need);
                continue;
            }
            if (t->width > INT64_MAX / 4) /* absurd spread: clamp */
                return t->lo;
            tl_merge(t);
            continue;
        }
        uint64_t idx = ((uint64_t)ts - (uint64_t)t->base) / (uint64_t)t->width;
        if (idx >= RP_TL_BUCKETS) {
            if (t->width > INT64_MAX / 4)
                return RP_TL_BUCKETS - 1;
            tl_merge(t);
            continue;
        }
        if (idx < t->lo)
            t->lo = (size_t)idx;
        if (idx > t->hi)
            t->hi = (size_t)idx;
        return (size_t)idx;
    }
}

void sw_report_message(sw_report *r, int64_t ts_ns, sw_action action)
{
    r->messages++;
    r->msg_by_action[(unsigned)action < SW_ACTION__COUNT ? (unsigned)action : SW_ACTION__COUNT]++;
    if (ts_ns == 0) /* not timed */
        return;
    size_t b = tl_slot(&r->tl, ts_ns);
    if (action == SW_ACTION_ALLOW)
        r->tl.allow[b]++;
    else
        r->tl.other[b]++;
}

/* ---- aggregates ------------------------------------------------------------------ */

static void count_rule(sw_report *r, const sw_event *ev, const char *name)
{
    rp_rule *ru = NULL;
    if (name) {
        for (size_t i = 0; i < r->nrules; i++) {
            if (r->rules[i].name == name) {
                ru = &r->rules[i];
                break;
            }
        }
    }
    if (!ru) {
        if (!name || r->nrules >= RP_MAX_RULES) {
            r->rules_other++;
            return;
        }
        if (r->nrules == r->caprules) {
            size_t nc = r->caprules ? r->caprules * 2 : 16;
            rp_rule *nv = realloc(r->rules, nc * sizeof *nv);
            if (!nv) {
                r->rules_other++;
                return;
            }
            r->rules = nv;
            r->caprules = nc;
        }
        ru = &r->rules[r->nrules++];
        memset(ru, 0, sizeof *ru);
        ru->name = name;
        ru->type = (uint8_t)ev->type;
        ru->category = (uint8_t)ev->category;
    }
    ru->n++;
    if (ev->monitor)
        ru->monitor++;
    if ((unsigned)ev->action < SW_ACTION__COUNT)
        ru->by_action[ev->action]++;
}

static uint64_t ip_hash(const sw_addr *a)
{
    uint64_t h = 1469598103934665603ull ^ a->family;
    for (size_t i = 0; i < 16; i++) {
        h ^= a->ip[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int off_grow(sw_report *r)
{
    size_t nc = r->offcap ? r->offcap * 2 : 256;
    rp_offender *nv = calloc(nc, sizeof *nv);
    if (!nv)
        return SW_ENOMEM;
    for (size_t i = 0; i < r->offcap; i++) {
        if (!r->off[i].ip.family)
            continue;
        size_t j = (size_t)ip_hash(&r->off[i].ip) & (nc - 1);
        while (nv[j].ip.family)
            j = (j + 1) & (nc - 1);
        nv[j] = r->off[i];
    }
    free(r->off);
    r->off = nv;
    r->offcap = nc;
    return SW_OK;
}

static void count_offender(sw_report *r, const sw_event *ev)
{
    if (ev->src.family != 4 && ev->src.family != 6) {
        r->off_unknown++;
        return;
    }
    sw_addr key;
    memset(&key, 0, sizeof key);
    key.family = ev->src.family;
    memcpy(key.ip, ev->src.ip, ev->src.family == 4 ? 4 : 16);
    rp_offender *o = NULL;
    if (r->offcap) {
        size_t j = (size_t)ip_hash(&key) & (r->offcap - 1);
        while (r->off[j].ip.family) {
            if (memcmp(&r->off[j].ip, &key, sizeof key) == 0) {
                o = &r->off[j];
                break;
            }
            j = (j + 1) & (r->offcap - 1);
        }
    }
    if (!o) {
        if (r->noff >= RP_MAX_OFFENDERS ||
            ((r->noff + 1) * 2 > r->offcap && off_grow(r) != SW_OK)) {
            r->off_other++;
            return;
        }
        size_t j = (size_t)ip_hash(&key) & (r->offcap - 1);
        while (r->off[j].ip.family)
            j = (j + 1) & (r->offcap - 1);
        o = &r->off[j];
        o->ip = key;
        o->first = o->last = ev->ts_ns;
        r->noff++;
    }
    o->n++;
    if (!ev->monitor && ev->action != SW_ACTION_ALLOW && ev->action != SW_ACTION_TAG)
        o->enforced++;
    if ((unsigned)ev->type < 32)
        o->types |= 1u << ev->type;
    if (ev->ts_ns < o->first)
        o->first = ev->ts_ns;
    if (ev->ts_ns > o->last)
        o->last = ev->ts_ns;
}

/* ---- keeping an event ------------------------------------------------------------- */

static rp_kstr keep_str(sw_report *r, sw_str s, size_t *used)
{
    rp_kstr k = {0, 0, 0};
    if (!s.ptr || s.len == 0)
        return k;
    int cut = 0;
    size_t n = sw_event_sanitize(s, SW_EVENT_FIELD_MAX, r->scratch + *used, &cut);
    k.off = (uint32_t)*used;
    k.len = (uint32_t)n;
    k.orig = cut ? (uint32_t)(s.len > UINT32_MAX ? UINT32_MAX : s.len) : 0;
    *used += n;
    return k;
}

static int keep_event(sw_report *r, const sw_event *ev, const char *rule)
{
    if (r->nev == r->capev) {
        size_t nc = r->capev ? r->capev * 2 : 64;
        if (nc > r->max_events)
            nc = r->max_events;
        rp_event *nv = realloc(r->ev, nc * sizeof *nv);
        if (!nv)
            return SW_ENOMEM;
        r->ev = nv;
        r->capev = nc;
    }
    rp_event *k = &r->ev[r->nev];
    memset(k, 0, sizeof *k);
    const sw_str fields[RP__NSTR] = {
        [RP_REASON] = ev->reason, [RP_METHOD] = ev->method, [RP_CALLID] = ev->call_id,
        [RP_FROM] = ev->from,     [RP_TO] = ev->to,         [RP_PAI] = ev->pai,
        [RP_RURI] = ev->ruri,     [RP_FILE] = ev->file,
    };
    size_t used = 0;
    for (int i = 0; i < RP__NSTR; i++)
        k->s[i] = keep_str(r, fields[i], &used);
    unsigned nevid = ev->nevidence <= SW_EVENT_MAX_EVIDENCE ? ev->nevidence : SW_EVENT_MAX_EVIDENCE;
    rp_evid evid[SW_EVENT_MAX_EVIDENCE];
    for (unsigned i = 0; i < nevid; i++) {
        const sw_evidence *e = &ev->evidence[i];
        memset(&evid[i], 0, sizeof evid[i]);
        const char *key = e->key ? e->key : "?";
        evid[i].key = sw__strtab_intern(&r->names, key, strnlen(key, 64));
        if (!evid[i].key)
            evid[i].key = "?";
        evid[i].kind = e->kind;
        evid[i].num = e->num;
        if (e->kind == SW_EVIDENCE_STR)
            evid[i].str = keep_str(r, e->str, &used);
    }
    size_t head = nevid * sizeof(rp_evid);
    char *blob = malloc(head + used + 1);
    if (!blob)
        return SW_ENOMEM;
    if (nevid)
        memcpy(blob, evid, head);
    memcpy(blob + head, r->scratch, used);
    blob[head + used] = '\0';
    k->blob = blob;
    k->evid = nevid ? (rp_evid *)(void *)blob : NULL;
    /* string offsets are relative to the blob's string area */
    k->ts = ev->ts_ns;
    k->expires = ev->expires_ns;
    k->frame = ev->frame;
    k->src = ev->src;
    k->dst = ev->dst;
    k->rule = rule;
    k->status = ev->status;
    k->action_status = ev->action_status;
    k->type = (uint8_t)ev->type;
    k->category = (uint8_t)ev->category;
    k->action = (uint8_t)ev->action;
    k->confidence = ev->confidence > 100 ? 100 : ev->confidence;
    k->monitor = ev->monitor != 0;
    k->passive = ev->passive != 0;
    k->transport = (uint8_t)ev->transport;
    k->nevid = (uint8_t)nevid;
    r->nev++;
    return SW_OK;
}

static int report_emit(sw_event_sink *s, const sw_event *ev);

typedef struct report_sink {
    sw_event_sink base;
    sw_report *r;
} report_sink;

static int report_emit(sw_event_sink *s, const sw_event *ev)
{
    sw_report *r = ((report_sink *)s)->r;
    r->events++;
    r->by_type[(unsigned)ev->type < SW_EVT__COUNT ? (unsigned)ev->type : SW_EVT__COUNT]++;
    if (ev->monitor)
        r->type_monitor[(unsigned)ev->type < SW_EVT__COUNT ? (unsigned)ev->type : SW_EVT__COUNT]++;
    r->by_cat[(unsigned)ev->category < SW_CAT__COUNT ? (unsigned)ev->category : SW_CAT__COUNT]++;
    r->by_action[(unsigned)ev->action < SW_ACTION__COUNT ? (unsigned)ev->action
                                                         : SW_ACTION__COUNT]++;
    if (ev->monitor)
        r->monitor++;
    if (ev->passive)
        r->passive++;
    const char *rname = ev->rule ? ev->rule : "(none)";
    const char *rule = sw__strtab_intern(&r->names, rname, strnlen(rname, 128));
    count_rule(r, ev, rule);
    count_offender(r, ev);
    if (ev->ts_ns != 0) {
        if (r->events == 1 || ev->ts_ns < r->ev_first || r->ev_first == 0)
            r->ev_first = ev->ts_ns;
        if (ev->ts_ns > r->ev_last)
            r->ev_last = ev->ts_ns;
        r->tl.events[tl_slot(&r->tl, ev->ts_ns)]++;
    }
    if (r->nev < r->max_events)
        return keep_event(r, ev, rule ? rule : "(other rules)");
    return SW_OK;
}

static int report_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}

static int report_close(sw_event_sink *s)
{
    free(s);
    return SW_OK;
}

static const sw_event_sink_ops report_ops = {
    .name = "report",
    .emit = report_emit,
    .flush = report_flush,
    .close = report_close,
};

sw_event_sink *sw_report_sink(sw_report *r)
{
    report_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &report_ops;
    s->r = r;
    return &s->base;
}
