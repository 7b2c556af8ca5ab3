/* Indicators from detector events: what `sipwall check --export-*` shares.
 *
 * Only abuse infrastructure leaves: a scanning / guessing / flooding
 * source address, an IRSF destination (range), a Wangiri A-number (range).
 * The callers and callees of ordinary calls, user names and raw SIP never
 * do: nothing of the event but those values is kept. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

#define NS_PER_S 1000000000LL

typedef struct xo_item {
    sw_xo_ind ind;
    char value[SW_XO_VALUE_MAX + 1];
} xo_item;

struct sw_xo_set {
    sw_event_sink sink; /* sw_xo_set_sink */
    uint8_t ns[16];
    size_t n, max;
    uint64_t dropped;
    xo_item *items; /* max entries, allocated at new */
    sw_xo_ind *view; /* sorted copy for sw_xo_set_items */
};

typedef struct share_rule {
    sw_event_type type;
    const char *event_type, *fraud_class, *severity, *action;
    int64_t ttl_s; /* FSE default TTLs (docs/exchange.md) */
} share_rule;

static const share_rule rules[] = {
    {SW_EVT_SIP_SCAN, "sip_scan", NULL, "medium", "block", 7 * 86400},
    {SW_EVT_SIP_BRUTEFORCE, "sip_bruteforce", "pbx_hacking", "high", "block", 86400},
    {SW_EVT_SIP_FLOOD, "sip_flood", NULL, "high", "rate_limit", 3600},
    {SW_EVT_IRSF_CALL, "irsf_call", "irsf", "high", "block", 30 * 86400},
    {SW_EVT_WANGIRI_CLI, "wangiri_cli", "wangiri", "high", "block", 72 * 3600},
};

static int ev_str(const sw_event *ev, const char *key, char *out, size_t len)
{
    for (unsigned i = 0; i < ev->nevidence && i < SW_EVENT_MAX_EVIDENCE; i++) {
        const sw_evidence *e = &ev->evidence[i];
        if (e->kind == SW_EVIDENCE_STR && strcmp(e->key, key) == 0 && e->str.len < len && e->str.ptr) {
            memcpy(out, e->str.ptr, e->str.len);
            out[e->str.len] = '\0';
            return 1;
        }
    }
    return 0;
}

/* '+' and 1..15 digits, copied from a view. */
static int e164_from(sw_str s, char *out, size_t len, size_t min_digits)
{
    if (!s.ptr || s.len < 1 + min_digits || s.len > 16 || s.len >= len || s.ptr[0] != '+')
        return 0;
    for (size_t i = 1; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
    memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return 1;
}

static int on_emit(sw_event_sink *sk, const sw_event *ev)
{
    int r = sw_xo_set_add_event((sw_xo_set *)sk, ev);
    return r < 0 && r != SW_ELIMIT ? r : SW_OK;
}

static int on_flush(sw_event_sink *sk)
{
    (void)sk;
    return SW_OK;
}

static int on_close(sw_event_sink *sk)
{
    (void)sk; /* the set owns the memory; sw_xo_set_free releases it */
    return SW_OK;
}

static const sw_event_sink_ops set_ops = {.name = "exchange", .emit = on_emit, .flush = on_flush,
                                          .close = on_close};

sw_xo_set *sw_xo_set_new(const sw_xo_producer *p, size_t max)
{
    sw_xo_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max = max;
    s->items = calloc(max ? max : 1, sizeof *s->items);
    s->view = calloc(max ? max : 1, sizeof *s->view);
    if (!s->items || !s->view) {
        sw_xo_set_free(s);
        return NULL;
    }
    sw_xo_producer_ns(p, s->ns);
    s->sink.ops = &set_ops;
    return s;
}

void sw_xo_set_free(sw_xo_set *s)
{
    if (!s)
        return;
    free(s->items);
    free(s->view);
    free(s);
}

sw_event_sink *sw_xo_set_sink(sw_xo_set *s) { return &s->sink; }

uint64_t sw_xo_set_dropped(const sw_xo_set *s) { return s->dropped; }

int sw_xo_set_add_event(sw_xo_set *s, const sw_event *ev)
{
    const share_rule *ru = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].type == ev->type)
            ru = &rules[i];
    if (!ru)
        return 0;
    char value[SW_XO_VALUE_MAX + 1], prefix[64];
    const char *kind;
    switch (ev->type) {
    case SW_EVT_SIP_SCAN:
    case SW_EVT_SIP_BRUTEFORCE:
    case SW_EVT_SIP_FLOOD:
        if (ev->src.family != 4 && ev->src.family != 6) /* sw_addr's own values */
            return 0;
        if (sw_addr_format_ip(&ev->src, value, sizeof value) < 0)
            return 0;
        kind = ev->src.family == 4 ? "ipv4" : "ipv6";
        break;
    case SW_EVT_IRSF_CALL:
        /* The destination range when the detector names it, else the
         * called (premium-rate) number itself: the fraudster's, not a
         * subscriber's.  The calling number is the victim's: never. */
        if (ev_str(ev, "prefix", prefix, sizeof prefix) &&
            e164_from(sw_str_make(prefix, strlen(prefix)), value, sizeof value, 1))
            kind = "e164_prefix";
        else if (e164_from(ev->ruri, value, sizeof value, 6))
            kind = "e164";
        else
            return 0;
        break;
    case SW_EVT_WANGIRI_CLI:
        /* wangiri.prefix names the rotating A-number range as offender. */
        if (ev_str(ev, "offender", prefix, sizeof prefix) &&
            e164_from(sw_str_make(prefix, strlen(prefix)), value, sizeof value, 1))
            kind = ev->rule && strcmp(ev->rule, "wangiri.prefix") == 0 ? "e164_prefix" : "e164";
        else if (e164_from(ev->from, value, sizeof value, 6))
            kind = "e164";
        else
            return 0;
        if (strcmp(kind, "e164") == 0 && strlen(value) < 7)
            kind = "e164_prefix";
        break;
    default:
        return 0;
    }

    char name[SW_XO_VALUE_MAX + 64], id[SW_XO_UUID_LEN];
    int n = snprintf(name, sizeof name, "%s|%s|%s", kind, value, ru->event_type);
    if (n < 0 || (size_t)n >= sizeof name)
        return 0;
    if (sw_xo_uuid5(s->ns, name, (size_t)n, id) != SW_OK)
        return SW_ENOMEM;
    int64_t ts = ev->ts_ns;
    for (size_t i = 0; i < s->n; i++) {
        sw_xo_ind *x = &s->items[i].ind;
        if (strcmp(x->id, id) != 0)
            continue;
        if (ts < x->first_seen_ns)
            x->first_seen_ns = ts;
        if (ts > x->last_seen_ns)
            x->last_seen_ns = ts;
        x->modified_ns = x->last_seen_ns;
        x->valid_until_ns = x->last_seen_ns + ru->ttl_s * NS_PER_S;
        if (x->count < 999999999u)
            x->count++;
        if (ev->confidence > x->confidence)
            x->confidence = ev->confidence > 100 ? 100 : ev->confidence;
        return 1;
    }
    if (s->n == s->max) {
        s->dropped++;
        return SW_ELIMIT;
    }
    xo_item *it = &s->items[s->n++];
    memset(it, 0, sizeof *it);
    memcpy(it->ind.id, id, sizeof id);
    snprintf(it->value, sizeof it->value, "%s", value);
    it->ind.event_type = ru->event_type;
    it->ind.fraud_class = ru->fraud_class;
    it->ind.fs_category = NULL;
    it->ind.kind = kind;
    it->ind.value = it->value;
    it->ind.severity = ru->severity;
    it->ind.action = ru->action;
    it->ind.tlp = "AMBER";
    it->ind.first_seen_ns = it->ind.last_seen_ns = it->ind.modified_ns = ts;
    it->ind.valid_until_ns = ts + ru->ttl_s * NS_PER_S;
    it->ind.count = 1;
    it->ind.confidence = ev->confidence > 100 ? 100 : ev->confidence;
    return 1;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const sw_xo_ind *)a)->id, ((const sw_xo_ind *)b)->id);
}

const sw_xo_ind *sw_xo_set_items(sw_xo_set *s, size_t *n)
{
    for (size_t i = 0; i < s->n; i++) {
        s->view[i] = s->items[i].ind;
        s->view[i].value = s->items[i].value;
    }
    qsort(s->view, s->n, sizeof *s->view, by_id);
    *n = s->n;
    return s->view;
}
