/* Blocks for operators (daemon.h "blocks for operators"): list, add and
 * lift blocks in the shared state store.  The local socket (`sipwalld ctl
 * blocks|block|unblock`) and the admin API both call these. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/publish.h"
#include "daemon/worker.h"
#include "sipwall/detect.h"

typedef struct listing {
    json_t *arr;
    size_t limit, total;
    int64_t now;
} listing;

static json_t *ts_json(int64_t ns)
{
    char buf[SW_EVENT_TS_LEN];
    if (sw_event_format_ts(ns, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

static void list_one(void *ctx, sw_state_block *b)
{
    listing *l = ctx;
    /* an entry outlives its block (repeat offences double): in force only */
    if (!b->active || b->until <= l->now)
        return;
    l->total++;
    if (json_array_size(l->arr) >= l->limit)
        return;
    const char *kind = sw_offender_kind_name(b->kind);
    const char *origin = sw_block_origin_name(b->origin);
    char id[SW_STATE_ID_MAX + 1], rule[SW_STATE_RULE_MAX + 1], reason[SW_STATE_REASON_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)strnlen(b->id, SW_STATE_ID_MAX), b->id);
    snprintf(rule, sizeof rule, "%.*s", (int)strnlen(b->rule, SW_STATE_RULE_MAX), b->rule);
    snprintf(reason, sizeof reason, "%.*s", (int)strnlen(b->reason, SW_STATE_REASON_MAX), b->reason);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind ? kind : "unknown"));
    /* keys are ASCII from the engine or checked by sw_state_block_key;
     * json_string refuses bad UTF-8, so fall back to a placeholder */
    json_t *k = json_string(id);
    json_object_set_new(o, "key", k ? k : json_string("?"));
    json_object_set_new(o, "origin", json_string(origin ? origin : "unknown"));
    json_t *r = json_string(rule);
    json_object_set_new(o, "rule", r ? r : json_string("?"));
    json_t *why = json_string(reason);
    json_object_set_new(o, "reason", why ? why : json_string("?"));
    const char *type = sw_event_type_name(b->type);
    json_object_set_new(o, "type", json_string(type ? type : "unknown"));
    json_object_set_new(o, "created", ts_json(b->since));
    json_object_set_new(o, "expires", ts_json(b->until));
    json_object_set_new(o, "expires_in_s", json_integer((json_int_t)((b->until - l->now) / 1000000000)));
    json_object_set_new(o, "hits", json_integer((json_int_t)b->hits));
    json_object_set_new(o, "offences", json_integer(b->offences));
    json_array_append_new(l->arr, o);
}

char *swd_blocks_json(swd_daemon *d, size_t limit)
{
    listing l = {.arr = json_array(), .limit = limit, .now = swd_now_ns()};
    if (!l.arr)
        return NULL;
    if (d->state)
        sw_state_block_foreach(d->state, list_one, &l);
    json_t *o = json_object();
    json_object_set_new(o, "blocks", l.arr);
    json_object_set_new(o, "total", json_integer((json_int_t)l.total));
    json_object_set_new(o, "truncated", json_boolean(l.total > json_array_size(l.arr)));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int key_of(const char *kind, const char *key, uint8_t *k, char id[SW_STATE_ID_MAX], char *msg,
                  size_t msglen)
{
    if (sw_offender_kind_lookup(kind, k) != SW_OK || *k == SW_OFFENDER_PEER) {
        snprintf(msg, msglen,
                 "error: unknown block kind '%.32s' (source, caller, caller_prefix, callee, user)", kind);
        return SW_EINVAL;
    }
    if (sw_state_block_key(*k, key, id) != SW_OK) {
        snprintf(msg, msglen, "error: '%.64s' is not a %s key%s", key, kind,
                 *k == SW_OFFENDER_SOURCE ? " (an IP address)" : " (1..39 printable characters)");
        return SW_EINVAL;
    }
    return SW_OK;
}

int swd_block_add(swd_daemon *d, const char *kind, const char *key, int64_t dur_s, const char *reason,
                  const char *who, const sw_addr *from, char *msg, size_t msglen)
{
    uint8_t k;
    char id[SW_STATE_ID_MAX];
    int rc = key_of(kind, key, &k, id, msg, msglen);
    if (rc != SW_OK)
        return rc;
    if (dur_s < 1 || dur_s > SW_STATE_BLOCK_CAP_NS / SW_NS_S) {
        snprintf(msg, msglen, "error: duration %lld s is out of range (1..%lld s)", (long long)dur_s,
                 (long long)(SW_STATE_BLOCK_CAP_NS / SW_NS_S));
        return SW_EINVAL;
    }
    if (!d->state) {
        snprintf(msg, msglen, "error: no state store");
        return SW_ENOTFOUND;
    }
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = k;
    memcpy(b.id, id, sizeof b.id);
    snprintf(b.rule, sizeof b.rule, "admin.block");
    b.type = SW_EVT_POLICY_VIOLATION;
    b.category = SW_CAT_CAT0;
    b.origin = SW_BLOCK_ORIGIN_ADMIN;
    snprintf(b.reason, sizeof b.reason, "%s", reason ? reason : "");
    for (char *p = b.reason; *p; p++) /* one line in logs and lists */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    b.since = swd_now_ns();
    if (k == SW_OFFENDER_SOURCE) {
        char ip[SW_STATE_ID_MAX];
        snprintf(ip, sizeof ip, "%s", id);
        char *slash = strchr(ip, '/');
        if (slash)
            *slash = '\0';
        if (sw_addr_parse(ip, &b.src) != SW_OK)
            memset(&b.src, 0, sizeof b.src);
    }
    if (k == SW_OFFENDER_SOURCE && b.src.family) {
        /* the engine never applies a source block to a configured partner
         * (an IPv6 /64 may be shared): say so rather than pretend */
        const swd_policy_gen *g = atomic_load(&d->policy);
        if (g && sw_policy_partner_host(g->policy, &b.src)) {
            snprintf(msg, msglen,
                     "error: %s is a configured partner's address; source blocks never apply to partners "
                     "(block its numbers, or change the policy)", id);
            return SW_ECONFLICT;
        }
    }
    /* an operator's duration is what it says: no repeat-offence doubling */
    (void)sw_state_block_remove(d->state, k, id);
    sw_state_block ev;
    int nev = 0;
    int64_t until = sw_state_block_set(d->state, &b, dur_s * SW_NS_S, &ev, &nev);
    if (!until) {
        snprintf(msg, msglen, "error: the block could not be set");
        return SW_EINVAL;
    }
    char detail[400];
    snprintf(detail, sizeof detail, "block %s %s for %lld s: %s", kind, id, (long long)dur_s,
             b.reason[0] ? b.reason : "(no reason given)");
    swd_audit(d, SW_EVT_ADMIN_CHANGE, "admin.block", who, from, "block", detail);
    snprintf(msg, msglen, "ok blocked %s %s for %lld s", kind, id, (long long)dur_s);
    return SW_OK;
}

int swd_unblock(swd_daemon *d, const char *kind, const char *key, const char *who,
                const sw_addr *from, char *msg, size_t msglen)
{
    uint8_t k;
    char id[SW_STATE_ID_MAX];
    int rc = key_of(kind, key, &k, id, msg, msglen);
    if (rc != SW_OK)
        return rc;
    sw_state_block b;
    int found = d->state && sw_state_block_get(d->state, k, id, &b) == SW_OK;
    int active = found && b.active && b.until > swd_now_ns();
    if (!found || sw_state_block_remove(d->state, k, id) != SW_OK) {
        snprintf(msg, msglen, "error: no block on %s %s", kind, id);
        return SW_ENOTFOUND;
    }
    char detail[300];
    snprintf(detail, sizeof detail, "unblock %s %s (%s, set by %s rule %.64s, %llu messages dropped)", kind,
             id, active ? "in force" : "expired", sw_block_origin_name(b.origin) ? sw_block_origin_name(b.origin) : "?",
             b.rule, (unsigned long long)b.hits);
    swd_audit(d, SW_EVT_ADMIN_CHANGE, "admin.unblock", who, from, "unblock", detail);
    swd_publish_unblocked(d, id, who); /* our published indicator on it is withdrawn */
    snprintf(msg, msglen, "ok unblocked %s %s", kind, id);
    return SW_OK;
}

char *swd_partners_json(swd_daemon *d)
{
    const swd_policy_gen *g = atomic_load(&d->policy);
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (uint32_t i = 0; g && i < g->policy->npeers; i++) {
        const sw_peer *p = g->policy->peers[i];
        if (p->is_zone)
            continue;
        json_t *o = json_object();
        json_t *name = json_string(p->name);
        json_object_set_new(o, "name", name ? name : json_string("?"));
        const char *role = sw_peer_role_name(p->role);
        json_object_set_new(o, "role", json_string(role ? role : "unknown"));
        json_object_set_new(o, "trusted", json_boolean(p->trusted));
        json_object_set_new(o, "addresses", json_integer(p->naddresses));
        json_object_set_new(o, "cps", json_integer(p->cps));
        json_object_set_new(o, "concurrency", json_integer(p->concurrency));
        swd_partners_add_json(d, g, i, o); /* live: messages, verdicts, blocked */
        json_array_append_new(arr, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "partners", arr);
    json_object_set_new(o, "policy_generation", json_integer(g ? (json_int_t)g->gen : 0));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
