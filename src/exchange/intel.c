/* Consuming partners' intelligence (include/sipwall/intel.h): FSE v1
 * decoding, per-producer versions, trust-weighted merge per (kind, value),
 * blocks in the shared state store with provenance, withdrawal.
 *
 * Two bounded tables, both sized at sw_intel_new:
 *   entries: (producer, indicator id) -> the producer's latest version
 *   targets: (offender kind, store key) -> up to SW__TARGET_REFS entries
 * Entry and target values stay at stable addresses until removed (table.h),
 * so targets point at their entries and entries at their target. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/internal.h"
#include "sipwall/detect.h"
#include "sipwall/event.h"
#include "sipwall/intel.h"
#include "sipwall/table.h"

#define SW__TARGET_REFS 8       /* producers per (kind, value) at most */
#define SW__KIND_NONE 254       /* a kind the engine cannot block on */
#define SW__PURGE_BATCH 256     /* withdrawn entries dropped per tick at most */
#define SW__REARM_SLACK_NS (INT64_C(3600) * SW_NS_S)
#define SW__RANGE_MIN_DIGITS 4  /* e164_prefix digits enforced at least */

typedef struct sw__ekey {
    char producer[SW_INTEL_PRODUCER_MAX];
    char id[SW_INTEL_ID_LEN];
} sw__ekey;

typedef struct sw__tkey {
    uint8_t kind;
    char key[SW_STATE_ID_MAX];
} sw__tkey;

struct sw__target;

typedef struct sw__entry {
    sw_intel_entry pub;
    struct sw__target *target;
} sw__entry;

typedef struct sw__target {
    sw__tkey key;
    uint32_t n;
    sw__entry *refs[SW__TARGET_REFS];
    sw_intel_state state;
} sw__target;

typedef struct sw__trust {
    char producer[SW_INTEL_PRODUCER_MAX];
    unsigned trust;
} sw__trust;

struct sw_intel {
    sw_intel_config cfg;
    sw_table *entries, *targets;
    sw__trust trust[SW_INTEL_TRUST_MAX_PARTNERS];
    uint32_t ntrust;
    sw_intel_stats st;
};

static const char *const state_names[] = {"logged",      "alert",    "enforced", "allowlisted", "unsupported",
                                          "withdrawn",   "stale",    "untrusted", "refused"};

const char *sw_intel_state_name(unsigned st)
{
    return st < sizeof state_names / sizeof state_names[0] ? state_names[st] : NULL;
}

/* ---- decoding ----------------------------------------------------------------------- */

static int valid_org(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SW_INTEL_PRODUCER_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static const char *const kinds[] = {"ipv4",      "ipv6",     "cidr",     "e164",     "e164_prefix", "e164_hmac",
                                    "imsi_hmac", "imei_hmac", "sip_uri", "user_agent", "trunk"};
static const char *const actions[] = {"monitor", "alert", "rate_limit", "block", "divert"};

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* A string member copied into out (cap bytes with NUL); 0 when missing,
 * not a string, empty or too long. */
static int get_str(json_t *o, const char *name, char *out, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return 0;
    size_t n = json_string_length(v);
    if (n == 0 || n >= cap || memchr(json_string_value(v), '\0', n))
        return 0;
    memcpy(out, json_string_value(v), n + 1);
    return 1;
}

/* An RFC 3339 UTC timestamp member in ns. */
static int get_time(json_t *o, const char *name, int64_t *out)
{
    char buf[40], err[8];
    if (!get_str(o, name, buf, sizeof buf))
        return 0;
    size_t n = strlen(buf);
    if (n < 20 || (buf[n - 1] != 'Z' && buf[n - 1] != 'z') || (buf[10] != 'T' && buf[10] != 't'))
        return 0;
    return sw_event_parse_time(buf, 0, out, err, sizeof err) == SW_OK;
}

/* The value's form for the kinds the engine enforces on. */
static int value_shape(const char *kind, const char *value)
{
    unsigned char buf[16];
    if (strcmp(kind, "ipv4") == 0)
        return inet_pton(AF_INET, value, buf) == 1;
    if (strcmp(kind, "ipv6") == 0)
        return inet_pton(AF_INET6, value, buf) == 1;
    if (strcmp(kind, "e164_prefix") == 0) {
        /* a range: "+" and 1..15 digits (sw_state_block_key's range form) */
        size_t n = strlen(value);
        if (value[0] != '+' || n < 2 || n > 16)
            return 0;
        for (size_t i = 1; i < n; i++)
            if (value[i] < '0' || value[i] > '9')
                return 0;
    }
    if (strcmp(kind, "e164") == 0) {
        const char *d = value[0] == '+' ? value + 1 : value;
        size_t n = strlen(d);
        if (n < 1 || n > 15)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (d[i] < '0' || d[i] > '9')
                return 0;
    }
    return 1;
}

int sw_intel_decode(const char *json, size_t len, sw_intel_ind *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > SW_INTEL_JSON_MAX) {
        sw_errf(err, errlen, "%s", "object larger than 64 KiB");
        return SW_ELIMIT;
    }
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        sw_errf(err, errlen, "not JSON: %s", je.text);
        return SW_EINVAL;
    }
    int rc = SW_EINVAL;
    const char *bad = NULL;
    char spec[8];
    json_t *p = json_object_get(o, "producer"), *ind = json_object_get(o, "indicator");
    json_t *conf = json_object_get(o, "confidence"), *rev = json_object_get(o, "revoked");
    char et[24];
    if (!json_is_object(o))
        bad = "not an object";
    else if (!get_str(o, "spec", spec, sizeof spec) || strcmp(spec, "fse/1") != 0)
        bad = "spec is not \"fse/1\"";
    else if (!get_str(o, "id", out->id, sizeof out->id) || !sw__uuid_lower_ok(out->id))
        bad = "id is not a lower-case UUID";
    else if (!json_is_object(p) || !get_str(p, "org", out->producer, sizeof out->producer) ||
             !valid_org(out->producer))
        bad = "producer.org missing or not 1..16 of [A-Za-z0-9_-]";
    else if (json_object_get(p, "kid") && !get_str(p, "kid", out->kid, sizeof out->kid))
        bad = "producer.kid not a string of 1..63 bytes";
    else if (!get_time(o, "modified", &out->modified))
        bad = "modified is not an RFC 3339 UTC timestamp";
    else if (!get_time(o, "valid_until", &out->valid_until))
        bad = "valid_until is not an RFC 3339 UTC timestamp";
    else if (!get_str(o, "event_type", et, sizeof et))
        bad = "event_type missing";
    else if (!json_is_object(ind) || !get_str(ind, "kind", out->kind, sizeof out->kind) ||
             !in_list(out->kind, kinds, sizeof kinds / sizeof kinds[0]))
        bad = "indicator.kind missing or unknown";
    else if (!get_str(ind, "value", out->value, sizeof out->value))
        bad = "indicator.value missing or longer than 63 bytes";
    else if (!json_is_integer(conf) || json_integer_value(conf) < 0 || json_integer_value(conf) > 100)
        bad = "confidence is not an integer 0..100";
    else if (!get_str(o, "action", out->action, sizeof out->action) ||
             !in_list(out->action, actions, sizeof actions / sizeof actions[0]))
        bad = "action missing or unknown";
    else if (rev && !json_is_boolean(rev))
        bad = "revoked is not a boolean";
    if (!bad) {
        for (const char *c = out->value; *c; c++)
            if ((unsigned char)*c < 0x21 || (unsigned char)*c == 0x7f) {
                bad = "indicator.value has a control character or blank";
                break;
            }
    }
    if (!bad && !value_shape(out->kind, out->value))
        bad = "indicator.value is not of its kind (ipv4, ipv6 address; e164: +digits; e164_prefix: + and 1..15 digits)";
    if (bad) {
        sw_errf(err, errlen, "%s", bad);
    } else {
        out->confidence = (unsigned)json_integer_value(conf);
        out->revoked = json_is_true(rev);
        if (sw_event_type_lookup(et, &out->type) != SW_OK)
            out->type = SW_EVT__COUNT;
        rc = SW_OK;
    }
    json_decref(o);
    if (rc != SW_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int sw_intel_from_fse(const sw_fse *o, sw_intel_ind *out)
{
    memset(out, 0, sizeof *out);
    const char *kind = sw_fse_kind_name(o->kind);
    size_t vl = strnlen(o->value, sizeof o->value);
    if (!kind || strlen(kind) >= sizeof out->kind || !valid_org(o->org) || !sw__uuid_lower_ok(o->id) ||
        o->confidence < 0 || o->confidence > 100 || strnlen(o->kid, sizeof o->kid) >= sizeof out->kid)
        return SW_EINVAL;
    if (vl == 0 || vl >= sizeof out->value)
        return SW_ELIMIT;
    memcpy(out->id, o->id, sizeof out->id);
    memcpy(out->producer, o->org, strlen(o->org) + 1);
    memcpy(out->kid, o->kid, strnlen(o->kid, sizeof o->kid));
    memcpy(out->kind, kind, strlen(kind) + 1);
    memcpy(out->value, o->value, vl);
    const char *act = sw_fse_action_name(o->action);
    snprintf(out->action, sizeof out->action, "%s", act ? act : "monitor");
    if (sw_event_type_lookup(o->event_type, &out->type) != SW_OK)
        out->type = SW_EVT__COUNT;
    /* ms on the wire; bounded by sw_fse_parse_ts to years 1970..9999 */
    out->modified = o->modified_ms * 1000000;
    out->valid_until = o->valid_until_ms * 1000000;
    out->confidence = (unsigned)o->confidence;
    out->revoked = o->revoked != 0;
    return SW_OK;
}

/* ---- the object ---------------------------------------------------------------------- */

sw_intel *sw_intel_new(const sw_intel_config *cfg)
{
    sw_intel_config c = *cfg;
    if (!c.max_indicators)
        c.max_indicators = SW_INTEL_DEFAULT_CAP;
    if (!c.block_score)
        c.block_score = 70;
    if (!c.alert_score)
        c.alert_score = 30;
    if (c.block_score > 100 || c.alert_score > c.block_score || c.max_indicators > (1u << 24))
        return NULL;
    sw_intel *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->cfg = c;
    sw_table_config ec = {.key_size = sizeof(sw__ekey), .value_size = sizeof(sw__entry),
                          .capacity = c.max_indicators};
    sw_table_config tc = {.key_size = sizeof(sw__tkey), .value_size = sizeof(sw__target),
                          .capacity = c.max_indicators};
    in->entries = sw_table_new(&ec);
    in->targets = sw_table_new(&tc);
    if (!in->entries || !in->targets) {
        sw_intel_free(in);
        return NULL;
    }
    in->st.capacity = c.max_indicators;
    return in;
}

void sw_intel_free(sw_intel *in)
{
    if (!in)
        return;
    sw_table_free(in->entries);
    sw_table_free(in->targets);
    free(in);
}

/* ---- trust ------------------------------------------------------------------------------ */

int sw_intel_trust_get(const sw_intel *in, const char *producer)
{
    for (uint32_t i = 0; i < in->ntrust; i++)
        if (strcmp(in->trust[i].producer, producer) == 0)
            return (int)in->trust[i].trust;
    return -1;
}

int sw_intel_trust_set(sw_intel *in, const char *producer, unsigned trust)
{
    if (!valid_org(producer) || trust > 100)
        return SW_EINVAL;
    for (uint32_t i = 0; i < in->ntrust; i++)
        if (strcmp(in->trust[i].producer, producer) == 0) {
            in->trust[i].trust = trust;
            return SW_OK;
        }
    if (in->ntrust >= SW_INTEL_TRUST_MAX_PARTNERS)
        return SW_ELIMIT;
    memset(in->trust[in->ntrust].producer, 0, SW_INTEL_PRODUCER_MAX);
    memcpy(in->trust[in->ntrust].producer, producer, strlen(producer)); /* valid_org: fits */
    in->trust[in->ntrust++].trust = trust;
    return SW_OK;
}

int sw_intel_trust_load(sw_intel *in, const char *name, const char *text, size_t len, char *err,
                        size_t errlen)
{
    sw__trust next[SW_INTEL_TRUST_MAX_PARTNERS];
    uint32_t n = 0;
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - ls) : len - pos;
        pos += ll + (nl ? 1 : 0);
        char line[256];
        if (ll >= sizeof line) {
            if (err && errlen)
                snprintf(err, errlen, "%s:%u: line longer than 255 bytes", name, lineno);
            return SW_EINVAL;
        }
        memcpy(line, ls, ll);
        line[ll] = '\0';
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char w[4][64];
        int nw = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
            if (nw == 4 || strlen(t) >= sizeof w[0]) {
                nw = 5;
                break;
            }
            snprintf(w[nw++], sizeof w[0], "%s", t);
        }
        if (nw == 0)
            continue;
        const char *why = NULL;
        char *end = NULL;
        long t = 0;
        if (nw != 4 || strcmp(w[0], "partner") != 0 || strcmp(w[2], "trust") != 0)
            why = "expected \"partner ORG trust N\"";
        else if (!valid_org(w[1]))
            why = "partner ORG must be 1..16 of [A-Za-z0-9_-]";
        else if ((t = strtol(w[3], &end, 10)) < 0 || t > 100 || *end || end == w[3])
            why = "trust must be an integer 0..100";
        else if (n >= SW_INTEL_TRUST_MAX_PARTNERS)
            why = "too many partners (256 at most)";
        for (uint32_t i = 0; !why && i < n; i++)
            if (strcmp(next[i].producer, w[1]) == 0)
                why = "partner listed twice";
        if (why) {
            if (err && errlen)
                snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
            return SW_EINVAL;
        }
        memset(next[n].producer, 0, sizeof next[n].producer);
        memcpy(next[n].producer, w[1], strlen(w[1])); /* valid_org: fits */
        next[n++].trust = (unsigned)t;
    }
    memcpy(in->trust, next, n * sizeof next[0]);
    in->ntrust = n;
    return SW_OK;
}

/* ---- enforcement --------------------------------------------------------------------- */

static const char *const emergency[] = {"112", "911", "999", "000", "110", "118", "119", "100",
                                        "101", "102", "103", "108", "15",  "17",  "18",  "116000"};

static int is_emergency(uint8_t kind, const char *key)
{
    const char *d = key[0] == '+' ? key + 1 : key;
    if (kind == SW_OFFENDER_CALLER_RANGE || kind == SW_OFFENDER_CALLEE_RANGE) {
        /* a range that holds an emergency number ("+1160" holds
         * 116000); a longer range that merely starts with one (+9112...,
         * a national range) holds none */
        size_t n = strnlen(d, SW_STATE_ID_MAX);
        for (size_t i = 0; i < sizeof emergency / sizeof emergency[0]; i++)
            if (n <= strlen(emergency[i]) && strncmp(d, emergency[i], n) == 0)
                return 1;
        return 0;
    }
    if (kind != SW_OFFENDER_CALLER && kind != SW_OFFENDER_CALLEE)
        return 0;
    return in_list(d, emergency, sizeof emergency / sizeof emergency[0]);
}

/* The offender kind an indicator is enforced on, or SW__KIND_NONE. */
static uint8_t offender_kind(const sw_intel_ind *ind)
{
    if (strcmp(ind->kind, "ipv4") == 0 || strcmp(ind->kind, "ipv6") == 0)
        return SW_OFFENDER_SOURCE;
    if (strcmp(ind->kind, "e164") == 0)
        return ind->type == SW_EVT_IRSF_CALL ? SW_OFFENDER_CALLEE : SW_OFFENDER_CALLER;
    /* a range: IRSF ranges are called numbers, Wangiri ranges calling
     * ones; one shorter than SW__RANGE_MIN_DIGITS (a country or more) is
     * held and listed, never enforced */
    if (strcmp(ind->kind, "e164_prefix") == 0 && strlen(ind->value) >= 1 + SW__RANGE_MIN_DIGITS &&
        (ind->type == SW_EVT_IRSF_CALL || ind->type == SW_EVT_WANGIRI_CLI))
        return ind->type == SW_EVT_IRSF_CALL ? SW_OFFENDER_CALLEE_RANGE : SW_OFFENDER_CALLER_RANGE;
    return SW__KIND_NONE;
}

static int ours(const sw_state_block *b)
{
    return b->origin == SW_BLOCK_ORIGIN_FEED && strncmp(b->rule, "intel.", 6) == 0;
}

static void lift(sw_intel *in, sw__target *t)
{
    if (!in->cfg.state || t->key.kind == SW__KIND_NONE)
        return;
    sw_state_block b;
    if (sw_state_block_get(in->cfg.state, t->key.kind, t->key.key, &b) == SW_OK && ours(&b))
        (void)sw_state_block_remove(in->cfg.state, t->key.kind, t->key.key);
}

static void enforce(sw_intel *in, sw__target *t, const sw__entry *by, int64_t now)
{
    if (!in->cfg.state)
        return;
    const sw_intel_ind *ind = &by->pub.ind;
    int64_t until = ind->valid_until; /* > now: enforced entries are live */
    if (until - now > SW_STATE_BLOCK_CAP_NS)
        until = now + SW_STATE_BLOCK_CAP_NS;
    char rule[SW_STATE_RULE_MAX];
    snprintf(rule, sizeof rule, "intel.%s.%s", ind->producer, ind->id);
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = t->key.kind;
    memcpy(b.id, t->key.key, sizeof b.id);
    memcpy(b.rule, rule, sizeof b.rule);
    b.type = ind->type < SW_EVT__COUNT ? ind->type : SW_EVT_POLICY_VIOLATION;
    b.category = SW_CAT_BEHAVIOURAL;
    b.since = now;
    b.until = until;
    b.active = 1;
    b.offences = 1;
    b.origin = SW_BLOCK_ORIGIN_FEED;
    char ver[SW_EVENT_TS_LEN];
    if (sw_event_format_ts(ind->modified, ver, sizeof ver) < 0)
        snprintf(ver, sizeof ver, "?");
    snprintf(b.reason, sizeof b.reason, "intel: producer %s indicator %s version %s score %u", ind->producer,
             ind->id, ver, by->pub.score);
    sw_state_block cur;
    int have = sw_state_block_get(in->cfg.state, t->key.kind, t->key.key, &cur) == SW_OK;
    if (have && cur.active && cur.until > now) {
        if (!ours(&cur))
            return; /* a rule's or an operator's block stays theirs */
        if (strncmp(cur.rule, b.rule, sizeof b.rule) == 0 && strncmp(cur.reason, b.reason, sizeof b.reason) == 0) {
            /* the same provenance: renewed only when the store's cap
             * would end it an hour or more before the indicator */
            if (cur.until + SW__REARM_SLACK_NS >= until)
                return;
            in->st.rearmed++;
        }
    }
    sw_state_block ev;
    int nev = 0;
    if (sw_state_block_put(in->cfg.state, &b, &ev, &nev) == SW_EUSAGE) {
        /* a backend without block_put (Redis): block_set's renewal rule
         * would double the duration for an earlier offence; without the
         * old entry of ours the block ends exactly at until (a rule's
         * entry keeps its history: the store's rule applies) */
        if (have && ours(&cur))
            (void)sw_state_block_remove(in->cfg.state, b.kind, b.id);
        (void)sw_state_block_set(in->cfg.state, &b, until - now, &ev, &nev);
    }
}

static int allowlisted(sw_intel *in, const sw__target *t)
{
    if (is_emergency(t->key.kind, t->key.key))
        return 1;
    char why[64];
    return in->cfg.allowlisted && in->cfg.allowlisted(in->cfg.allow_ctx, t->key.kind, t->key.key, why, sizeof why);
}

/* Scores t's live entries with today's trust and sets or lifts its block. */
static void rescore(sw_intel *in, sw__target *t, int64_t now)
{
    sw__entry *best = NULL, *blocker = NULL;
    for (uint32_t i = 0; i < t->n; i++) {
        sw__entry *e = t->refs[i];
        int tr = sw_intel_trust_get(in, e->pub.ind.producer);
        e->pub.trust = tr < 0 ? 0 : (unsigned)tr;
        e->pub.score = e->pub.ind.confidence * e->pub.trust / 100;
        if (e->pub.withdrawn)
            continue;
        if (!best || e->pub.score > best->pub.score ||
            (e->pub.score == best->pub.score && e->pub.ind.modified > best->pub.ind.modified))
            best = e;
        if (e->pub.score >= in->cfg.block_score && strcmp(e->pub.ind.action, "block") == 0 &&
            (!blocker || e->pub.score > blocker->pub.score))
            blocker = e;
    }
    sw_intel_state was = t->state, st;
    if (!best)
        st = SW_INTEL_WITHDRAWN;
    else if (t->key.kind == SW__KIND_NONE)
        st = SW_INTEL_UNSUPPORTED;
    else if (blocker && allowlisted(in, t))
        st = SW_INTEL_ALLOWLISTED;
    else if (blocker)
        st = SW_INTEL_ENFORCED;
    else if (best->pub.score >= in->cfg.alert_score)
        st = SW_INTEL_ALERT;
    else
        st = SW_INTEL_LOGGED;
    if (st == SW_INTEL_ENFORCED)
        enforce(in, t, blocker, now);
    else if (was == SW_INTEL_ENFORCED || st == SW_INTEL_ALLOWLISTED)
        lift(in, t);
    if (st == SW_INTEL_ALLOWLISTED && was != SW_INTEL_ALLOWLISTED)
        in->st.allowlisted++;
    if (st == SW_INTEL_ENFORCED && was != SW_INTEL_ENFORCED)
        in->st.enforced++;
    else if (st != SW_INTEL_ENFORCED && was == SW_INTEL_ENFORCED)
        in->st.enforced--;
    t->state = st;
    for (uint32_t i = 0; i < t->n; i++)
        t->refs[i]->pub.state = t->refs[i]->pub.withdrawn ? SW_INTEL_WITHDRAWN : st;
    if (in->cfg.on_change && (st == SW_INTEL_ENFORCED) != (was == SW_INTEL_ENFORCED)) {
        const sw__entry *by = blocker ? blocker : best ? best : t->n ? t->refs[0] : NULL;
        if (by)
            in->cfg.on_change(in->cfg.change_ctx, &by->pub, t->key.kind, t->key.key, st == SW_INTEL_ENFORCED);
    }
}

static void detach(sw_intel *in, sw__entry *e)
{
    sw__target *t = e->target;
    if (!t)
        return;
    const sw__entry *last = e;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->refs[i] == e) {
            t->refs[i] = t->refs[--t->n];
            break;
        }
    e->target = NULL;
    if (t->n == 0) {
        if (t->state == SW_INTEL_ENFORCED) {
            lift(in, t);
            in->st.enforced--;
            if (in->cfg.on_change)
                in->cfg.on_change(in->cfg.change_ctx, &last->pub, t->key.kind, t->key.key, 0);
        }
        sw_table_remove_value(in->targets, t);
    }
}

int sw_intel_apply(sw_intel *in, const sw_intel_ind *ind, int64_t now, sw_intel_state *st)
{
    if (!valid_org(ind->producer) || !sw__uuid_lower_ok(ind->id) || ind->confidence > 100 || !ind->value[0] ||
        !memchr(ind->value, '\0', sizeof ind->value))
        return SW_EINVAL;
    sw__tkey tk;
    memset(&tk, 0, sizeof tk);
    tk.kind = offender_kind(ind);
    if (tk.kind == SW__KIND_NONE) {
        snprintf(tk.key, sizeof tk.key, "%.*s", (int)sizeof tk.key - 1, ind->value);
    } else if (sw_state_block_key(tk.kind, ind->value, tk.key) != SW_OK) {
        return SW_EINVAL;
    }
    if (sw_intel_trust_get(in, ind->producer) < 0) {
        in->st.untrusted++;
        *st = SW_INTEL_UNTRUSTED;
        return SW_OK;
    }
    sw__ekey ek;
    memset(&ek, 0, sizeof ek);
    memcpy(ek.producer, ind->producer, strlen(ind->producer));
    memcpy(ek.id, ind->id, strlen(ind->id));
    sw__entry *e = sw_table_get(in->entries, &ek);
    if (e && ind->modified <= e->pub.ind.modified) {
        in->st.stale++;
        *st = SW_INTEL_STALE;
        return SW_OK;
    }
    sw__target *t = sw_table_peek(in->targets, &tk);
    if (!e && sw_table_count(in->entries) >= sw_table_capacity(in->entries)) {
        in->st.refused++;
        *st = SW_INTEL_REFUSED;
        return SW_OK;
    }
    if ((!e || e->target != t) && t && t->n >= SW__TARGET_REFS) {
        in->st.refused++;
        *st = SW_INTEL_REFUSED;
        return SW_OK;
    }
    if (!t && sw_table_count(in->targets) >= sw_table_capacity(in->targets)) {
        in->st.refused++;
        *st = SW_INTEL_REFUSED;
        return SW_OK;
    }
    sw__target *old = NULL;
    if (!e) {
        e = sw_table_upsert(in->entries, &ek, NULL);
    } else if (e->target != t) {
        old = e->target; /* a new version about another value (cannot happen with deterministic ids) */
        e->target = NULL;
        for (uint32_t i = 0; old && i < old->n; i++)
            if (old->refs[i] == e) {
                old->refs[i] = old->refs[--old->n];
                break;
            }
    }
    if (!t) {
        t = sw_table_upsert(in->targets, &tk, NULL);
        t->key = tk;
        t->state = SW_INTEL_WITHDRAWN;
    }
    if (!e->target) {
        t->refs[t->n++] = e;
        e->target = t;
    }
    e->pub.ind = *ind;
    e->pub.received = now;
    e->pub.withdrawn = (ind->revoked || ind->valid_until <= now) ? now : 0;
    if (e->pub.withdrawn)
        in->st.withdrawn++;
    in->st.applied++;
    rescore(in, t, now);
    if (old) {
        if (old->n)
            rescore(in, old, now);
        else {
            if (old->state == SW_INTEL_ENFORCED) {
                lift(in, old);
                in->st.enforced--;
                if (in->cfg.on_change)
                    in->cfg.on_change(in->cfg.change_ctx, &e->pub, old->key.kind, old->key.key, 0);
            }
            sw_table_remove_value(in->targets, old);
        }
    }
    *st = e->pub.state;
    return SW_OK;
}

typedef struct revoke_ctx {
    const char *id;
    sw__entry *hit[SW__TARGET_REFS * 4];
    uint32_t n;
} revoke_ctx;

static void revoke_visit(void *ctx, const void *key, void *value)
{
    revoke_ctx *c = ctx;
    const sw__ekey *k = key;
    if (strncmp(k->id, c->id, sizeof k->id) == 0 && c->n < sizeof c->hit / sizeof c->hit[0])
        c->hit[c->n++] = value;
}

int sw_intel_revoke(sw_intel *in, const char *id, int64_t now)
{
    revoke_ctx c = {.id = id};
    sw_table_foreach(in->entries, revoke_visit, &c);
    if (!c.n)
        return SW_ENOTFOUND;
    for (uint32_t i = 0; i < c.n; i++) {
        if (!c.hit[i]->pub.withdrawn) {
            c.hit[i]->pub.withdrawn = now;
            in->st.withdrawn++;
        }
        if (c.hit[i]->target)
            rescore(in, c.hit[i]->target, now);
    }
    return SW_OK;
}

typedef struct tick_ctx {
    sw_intel *in;
    int64_t now;
    uint32_t expired;
    sw__entry *purge[SW__PURGE_BATCH];
    uint32_t npurge;
} tick_ctx;

static void tick_expire(void *ctx, const void *key, void *value)
{
    (void)key;
    tick_ctx *c = ctx;
    sw__entry *e = value;
    if (!e->pub.withdrawn && e->pub.ind.valid_until <= c->now) {
        e->pub.withdrawn = c->now;
        c->expired++;
    }
    /* kept while a replay of an older version could still be valid */
    if (e->pub.withdrawn && e->pub.ind.valid_until <= c->now && c->npurge < SW__PURGE_BATCH)
        c->purge[c->npurge++] = e;
}

static void tick_rescore(void *ctx, const void *key, void *value)
{
    (void)key;
    tick_ctx *c = ctx;
    sw__target *t = value;
    rescore(c->in, t, c->now);
}

uint32_t sw_intel_tick(sw_intel *in, int64_t now)
{
    tick_ctx c = {.in = in, .now = now};
    sw_table_foreach(in->entries, tick_expire, &c);
    in->st.withdrawn += c.expired;
    sw_table_foreach(in->targets, tick_rescore, &c);
    for (uint32_t i = 0; i < c.npurge; i++) {
        detach(in, c.purge[i]);
        sw_table_remove_value(in->entries, c.purge[i]);
    }
    return c.expired;
}

typedef struct each_ctx {
    sw_intel_fn fn;
    void *ctx;
} each_ctx;

static void each_visit(void *ctx, const void *key, void *value)
{
    (void)key;
    each_ctx *c = ctx;
    c->fn(c->ctx, &((sw__entry *)value)->pub);
}

void sw_intel_foreach(sw_intel *in, sw_intel_fn fn, void *ctx)
{
    each_ctx c = {fn, ctx};
    sw_table_foreach(in->entries, each_visit, &c);
}

int sw_intel_get(sw_intel *in, const char *id, sw_intel_entry *out)
{
    revoke_ctx c = {.id = id};
    sw_table_foreach(in->entries, revoke_visit, &c);
    const sw__entry *best = NULL;
    for (uint32_t i = 0; i < c.n; i++)
        if (!best || c.hit[i]->pub.score > best->pub.score)
            best = c.hit[i];
    if (!best)
        return SW_ENOTFOUND;
    *out = best->pub;
    return SW_OK;
}

json_t *sw_intel_entry_json(const sw_intel_entry *e)
{
    char m[SW_EVENT_TS_LEN], v[SW_EVENT_TS_LEN], r[SW_EVENT_TS_LEN];
    (void)sw_event_format_ts(e->ind.modified, m, sizeof m);
    (void)sw_event_format_ts(e->ind.valid_until, v, sizeof v);
    (void)sw_event_format_ts(e->received, r, sizeof r);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "id", json_string(e->ind.id));
    json_object_set_new(o, "producer", json_string(e->ind.producer));
    json_object_set_new(o, "kid", json_string(e->ind.kid));
    json_object_set_new(o, "modified", json_string(m));
    const char *et = sw_event_type_name(e->ind.type);
    json_object_set_new(o, "event_type", et ? json_string(et) : json_null());
    json_object_set_new(o, "kind", json_string(e->ind.kind));
    json_t *val = json_string(e->ind.value);
    json_object_set_new(o, "value", val ? val : json_string("?"));
    json_object_set_new(o, "action", json_string(e->ind.action));
    json_object_set_new(o, "confidence", json_integer(e->ind.confidence));
    json_object_set_new(o, "trust", json_integer(e->trust));
    json_object_set_new(o, "score", json_integer(e->score));
    json_object_set_new(o, "state", json_string(sw_intel_state_name(e->state)));
    json_object_set_new(o, "valid_until", json_string(v));
    json_object_set_new(o, "revoked", json_boolean(e->ind.revoked));
    json_object_set_new(o, "received", json_string(r));
    if (e->withdrawn) {
        char w[SW_EVENT_TS_LEN];
        (void)sw_event_format_ts(e->withdrawn, w, sizeof w);
        json_object_set_new(o, "withdrawn", json_string(w));
    }
    return o;
}

void sw_intel_stats_get(const sw_intel *in, sw_intel_stats *out)
{
    *out = in->st;
    out->held = sw_table_count(in->entries);
    out->capacity = sw_table_capacity(in->entries);
}
