/* Indicators from detector events: what `sipwall check --export-*` shares.
 *
 * Each event goes through the export policy (sw_fse_from_event: which
 * event types are shared, as what indicator, for which trust group, at
 * which TLP; the anti-echo rule; numbers in clear only where allowed) and
 * the resulting FSE objects are merged by id (the same kind, value and
 * event type from the same producer).  Without a policy a built-in one
 * shares the FSE defaults (docs/exchange.md "Offline export"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/xo_int.h"
#include "sipwall/exchange_fmt.h"

#define NS_PER_MS 1000000LL
#define BUILTIN_GROUP "local"

struct sw_xo_set {
    sw_event_sink sink; /* sw_xo_set_sink; first member */
    sw_export_policy *own; /* the built-in policy, or NULL */
    const sw_export_policy *policy;
    char group[SW_FSE_NAME_MAX];
    size_t n, max;
    uint64_t dropped;
    sw_fse *items;   /* max entries, allocated at new (pages touched as used) */
    sw_xo_ind *view; /* sw_xo_set_items */
    uint32_t *slots; /* open addressing on the id: item index + 1, 0 = free */
    size_t nslots;   /* a power of two >= 2 * max */
    int sorted;      /* items are sorted (slots must be rebuilt before an add) */
};

static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot of id: the one holding it, or the free one where it goes. */
static size_t slot_of(const sw_xo_set *s, const char *id)
{
    size_t i = id_hash(id) & (s->nslots - 1);
    while (s->slots[i] && strcmp(s->items[s->slots[i] - 1].id, id) != 0)
        i = (i + 1) & (s->nslots - 1);
    return i;
}

/* Sorting moved the items: index them again. */
static void reindex(sw_xo_set *s)
{
    memset(s->slots, 0, s->nslots * sizeof *s->slots);
    for (size_t k = 0; k < s->n; k++)
        s->slots[slot_of(s, s->items[k].id)] = (uint32_t)(k + 1);
    s->sorted = 0;
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

/* The FSE defaults (exchange.md 2.5): TTLs per family, the indicator each
 * family shares (the source address; the IRSF called range; the Wangiri
 * caller), TLP AMBER. */
static sw_export_policy *builtin_policy(const char *org)
{
    char ns[SW_FSE_UUID_LEN], node[SW_FSE_UUID_LEN], text[1024], err[256];
    if (sw_fse_producer_ns(org, ns) != SW_OK || sw_uuid5(ns, "node|offline", 12, node) != SW_OK)
        return NULL;
    int n = snprintf(text, sizeof text,
                     "producer %s %s\n"
                     "export sip_scan to " BUILTIN_GROUP " ttl 7d severity medium\n"
                     "export sip_bruteforce to " BUILTIN_GROUP " ttl 24h severity high\n"
                     "export sip_flood to " BUILTIN_GROUP " ttl 1h severity high action rate_limit\n"
                     "export irsf_call to " BUILTIN_GROUP " ttl 30d severity high\n"
                     "export wangiri_cli to " BUILTIN_GROUP " ttl 72h severity high\n",
                     org, node);
    if (n < 0 || (size_t)n >= sizeof text)
        return NULL;
    return sw_export_policy_parse(text, (size_t)n, err, sizeof err);
}

sw_xo_set *sw_xo_set_new(const char *org, const sw_export_policy *policy, const char *group, size_t max)
{
    sw_xo_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (max > UINT32_MAX / 4)
        goto fail;
    s->max = max;
    s->nslots = 2;
    while (s->nslots < 2 * max)
        s->nslots *= 2;
    s->items = calloc(max ? max : 1, sizeof *s->items);
    s->view = calloc(max ? max : 1, sizeof *s->view);
    s->slots = calloc(s->nslots, sizeof *s->slots);
    if (!s->items || !s->view || !s->slots)
        goto fail;
    if (!policy) {
        if (!org || !(s->own = builtin_policy(org)))
            goto fail;
        policy = s->own;
        group = BUILTIN_GROUP;
    }
    if (!group)
        group = sw_export_policy_group(policy, 0);
    if (!group || strlen(group) >= sizeof s->group)
        goto fail;
    int known = 0;
    for (size_t i = 0; sw_export_policy_group(policy, i); i++)
        known |= strcmp(sw_export_policy_group(policy, i), group) == 0;
    if (!known)
        goto fail; /* nothing would ever be shared: say so, not export nothing */
    snprintf(s->group, sizeof s->group, "%s", group);
    s->policy = policy;
    s->sink.ops = &set_ops;
    return s;
fail:
    sw_xo_set_free(s);
    return NULL;
}

void sw_xo_set_free(sw_xo_set *s)
{
    if (!s)
        return;
    sw_export_policy_free(s->own);
    free(s->items);
    free(s->view);
    free(s->slots);
    free(s);
}

sw_event_sink *sw_xo_set_sink(sw_xo_set *s) { return &s->sink; }

uint64_t sw_xo_set_dropped(const sw_xo_set *s) { return s->dropped; }

int sw_xo_set_add_fse(sw_xo_set *s, const sw_fse *o)
{
    if (s->sorted)
        reindex(s);
    size_t slot = slot_of(s, o->id);
    if (s->slots[slot]) {
        sw_fse *x = &s->items[s->slots[slot] - 1];
        /* One indicator seen again: widen the window, add the counts; the
         * newest observation is the version.  The signature is stale now. */
        if (o->first_seen_ms < x->first_seen_ms)
            x->first_seen_ms = o->first_seen_ms;
        if (o->last_seen_ms > x->last_seen_ms)
            x->last_seen_ms = o->last_seen_ms;
        if (o->modified_ms > x->modified_ms)
            x->modified_ms = o->modified_ms;
        if (o->valid_until_ms > x->valid_until_ms)
            x->valid_until_ms = o->valid_until_ms;
        x->count = x->count + o->count > SW_FSE_COUNT_MAX ? SW_FSE_COUNT_MAX : x->count + o->count;
        if (o->confidence > x->confidence)
            x->confidence = o->confidence;
        x->sig[0] = '\0';
        return 1;
    }
    if (s->n == s->max) {
        s->dropped++;
        return SW_ELIMIT;
    }
    s->items[s->n] = *o;
    s->items[s->n].sig[0] = '\0';
    s->n++;
    s->slots[slot] = (uint32_t)s->n;
    return 1;
}

int sw_xo_set_add_event(sw_xo_set *s, const sw_event *ev)
{
    sw_fse o;
    int r = sw_fse_from_event(s->policy, s->group, ev, &o);
    if (r <= 0)
        return r;
    return sw_xo_set_add_fse(s, &o);
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const sw_fse *)a)->id, ((const sw_fse *)b)->id);
}

const sw_fse *sw_xo_set_fse(sw_xo_set *s, size_t *n)
{
    qsort(s->items, s->n, sizeof *s->items, by_id);
    s->sorted = 1;
    *n = s->n;
    return s->items;
}

int sw_xo_set_sign(sw_xo_set *s, const sw_jws_key *k, sw_jws_alg alg)
{
    for (size_t i = 0; i < s->n; i++) {
        int r = sw_fse_sign(&s->items[i], k, alg, 0);
        if (r != SW_OK)
            return r;
    }
    return SW_OK;
}

const sw_xo_ind *sw_xo_set_items(sw_xo_set *s, size_t *n)
{
    const sw_fse *v = sw_xo_set_fse(s, n);
    for (size_t i = 0; i < *n; i++)
        sw_xo_from_fse(&v[i], &s->view[i]);
    return s->view;
}

static const char *opt(const char *s) { return s[0] ? s : NULL; }

void sw_xo_from_fse(const sw_fse *o, sw_xo_ind *x)
{
    memset(x, 0, sizeof *x);
    memcpy(x->id, o->id, sizeof x->id);
    x->event_type = o->event_type;
    x->fraud_class = opt(o->fraud_class);
    x->fs_category = opt(o->fs_category);
    x->kind = sw_fse_kind_name(o->kind);
    x->value = o->value;
    x->hmac_key_id = opt(o->key_id);
    x->severity = sw_fse_severity_name(o->severity);
    x->action = sw_fse_action_name(o->action);
    x->tlp = sw_fse_tlp_name(o->tlp);
    x->sig = opt(o->sig);
    x->first_seen_ns = o->first_seen_ms * NS_PER_MS;
    x->last_seen_ns = o->last_seen_ms * NS_PER_MS;
    x->modified_ns = o->modified_ms * NS_PER_MS;
    x->valid_until_ns = o->valid_until_ms * NS_PER_MS;
    x->count = o->count < 1 ? 1 : o->count > SW_FSE_COUNT_MAX ? SW_FSE_COUNT_MAX : (uint32_t)o->count;
    x->confidence = (uint8_t)(o->confidence < 0 ? 0 : o->confidence > 100 ? 100 : o->confidence);
    x->revoked = o->revoked != 0;
}
