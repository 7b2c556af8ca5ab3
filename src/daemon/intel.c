/* Partners' intelligence in sipwalld (daemon.h "intel", docs/exchange-intel.md):
 * the consumer of include/sipwall/intel.h over the shared state store, the
 * partners' keys (a directory of ORG.jwks files) and a quarantine for what
 * does not verify.
 *
 * Everything here runs on the control thread (ctl commands, the admin
 * API's commands handed over to it, the tick), so the consumer needs no
 * lock.  Allowlists come from an engine of our own over the policy in
 * force (sharing the store, emitting nothing): swd_intel_policy switches
 * it while the old policy is still allocated (reload.c). */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/daemon.h"
#include "sipwall/detect.h"
#include "sipwall/intel.h"

#define INTEL_QUARANTINE 1024
#define INTEL_BATCH_FILE_MAX (64u << 20)

struct swd_intel {
    swd_daemon *d;
    sw_intel *in;
    sw_fse_keyring *kr;         /* NULL: no keys directory, nothing verifies */
    sw_quarantine *q;
    sw_engine *allow;           /* allowlists of the policy in force */
    const sw_policy *pol;       /* the policy allow was built on */
    int64_t last_tick;
    uint64_t batches, accepted, quarantined, changes;
};

static int allow_fn(void *ctx, uint8_t kind, const char *key, char *why, size_t whylen)
{
    swd_intel *x = ctx;
    if (kind == SW_OFFENDER_SOURCE && x->pol) {
        /* the engine never applies a source block to a partner: say so */
        char ip[SW_STATE_ID_MAX];
        snprintf(ip, sizeof ip, "%s", key);
        char *slash = strchr(ip, '/');
        if (slash)
            *slash = '\0';
        sw_addr a;
        if (sw_addr_parse(ip, &a) == SW_OK && sw_policy_partner_host(x->pol, &a)) {
            snprintf(why, whylen, "partner");
            return 1;
        }
    }
    return x->allow && sw_engine_allowlisted(x->allow, kind, key, why, whylen);
}

/* Every block intelligence sets or lifts is an event naming the producer
 * and the indicator (rule intel.ORG.ID, like the block itself). */
static void change_fn(void *ctx, const sw_intel_entry *by, uint8_t kind, const char *key, int enforced)
{
    swd_intel *x = ctx;
    x->changes++;
    char rule[SW_STATE_RULE_MAX], detail[300], k[SW_STATE_ID_MAX + 1];
    snprintf(rule, sizeof rule, "intel.%s.%s", by->ind.producer, by->ind.id);
    snprintf(k, sizeof k, "%.*s", (int)strnlen(key, SW_STATE_ID_MAX), key);
    const char *kn = sw_offender_kind_name(kind);
    snprintf(detail, sizeof detail, "%s %s %s: producer %s indicator %s score %u%s",
             enforced ? "blocked" : "lifted", kn ? kn : "?", k, by->ind.producer, by->ind.id, by->score,
             enforced ? "" : by->withdrawn ? " (withdrawn)" : " (score below the block score)");
    swd_audit(x->d, by->ind.type < SW_EVT__COUNT ? by->ind.type : SW_EVT_POLICY_VIOLATION, rule, "intel", NULL,
              enforced ? "intel.block" : "intel.lift", detail);
}

static int load_keys(swd_intel *x, const char *dir, char *err, size_t errlen)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        snprintf(err, errlen, "intel keys %s: cannot open the directory", dir);
        return SW_EIO;
    }
    x->kr = sw_fse_keyring_new();
    int rc = x->kr ? SW_OK : SW_ENOMEM;
    unsigned n = 0;
    for (struct dirent *de; rc == SW_OK && (de = readdir(dp));) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || strcmp(de->d_name + l - 5, ".jwks") != 0)
            continue;
        char org[SW_INTEL_PRODUCER_MAX], path[1024], why[200];
        if (l - 5 >= sizeof org) {
            snprintf(err, errlen, "intel keys %s/%s: the partner's org is longer than 16 bytes", dir, de->d_name);
            rc = SW_EINVAL;
            break;
        }
        memcpy(org, de->d_name, l - 5);
        org[l - 5] = '\0';
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        sw_jwks *k = sw_jwks_load(path, why, sizeof why);
        if (!k) {
            snprintf(err, errlen, "intel keys %s: %s", path, why);
            rc = SW_EINVAL;
        } else if ((rc = sw_fse_keyring_set(x->kr, org, k)) != SW_OK) {
            snprintf(err, errlen, "intel keys %s: %s", path, sw_strerror(rc));
        } else {
            n++;
        }
    }
    closedir(dp);
    if (rc == SW_OK)
        swd_info("intel", "keys of %u partners from %s", n, dir);
    return rc;
}

static void set_policy(swd_intel *x, const sw_policy *p)
{
    if (x->pol == p)
        return;
    if (x->allow) {
        if (sw_engine_set_policy(x->allow, p) != SW_OK)
            swd_warn("intel", "the allowlists of the new policy could not be taken; keeping the old ones");
        else
            x->pol = p;
        return;
    }
    sw_engine_config ec = {.policy = p, .state = x->d->state, .seed = 1};
    x->allow = sw_engine_new(&ec);
    x->pol = x->allow ? p : NULL;
}

void swd_intel_policy(swd_daemon *d, const sw_policy *p)
{
    if (d->intel)
        set_policy(d->intel, p);
}

int swd_intel_open(swd_daemon *d, char *err, size_t errlen)
{
    const swd_intel_cfg *c = &d->cfg->intel;
    if (!c->line)
        return SW_OK;
    swd_intel *x = calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "intel: out of memory");
        return SW_ENOMEM;
    }
    x->d = d;
    d->intel = x;
    sw_intel_config ic = {.max_indicators = c->max_indicators, .state = d->state, .allowlisted = allow_fn,
                          .allow_ctx = x, .block_score = c->block_score, .alert_score = c->alert_score,
                          .on_change = change_fn, .change_ctx = x};
    x->in = sw_intel_new(&ic);
    x->q = sw_quarantine_new(INTEL_QUARANTINE);
    if (!x->in || !x->q) {
        snprintf(err, errlen, "intel: out of memory");
        return SW_ENOMEM;
    }
    /* the config load checked the trust file; it is read again here */
    FILE *f = fopen(c->trust, "re");
    char *text = malloc(SW_INTEL_TRUST_FILE_MAX + 1);
    size_t n = f && text ? fread(text, 1, SW_INTEL_TRUST_FILE_MAX, f) : 0;
    if (f)
        fclose(f);
    int rc = text && f ? sw_intel_trust_load(x->in, c->trust, text, n, err, errlen) : SW_EIO;
    free(text);
    if (rc != SW_OK) {
        if (!f)
            snprintf(err, errlen, "intel trust %s: cannot read it", c->trust);
        return rc;
    }
    if (c->keys && (rc = load_keys(x, c->keys, err, errlen)) != SW_OK)
        return rc;
    const swd_policy_gen *g = atomic_load(&d->policy);
    if (g)
        set_policy(x, g->policy);
    x->last_tick = swd_now_ns();
    sw_intel_stats st;
    sw_intel_stats_get(x->in, &st);
    swd_info("intel", "consuming partners' indicators: at most %u held%s", st.capacity,
             x->kr ? "" : "; no keys directory: nothing verifies, every object is quarantined");
    return SW_OK;
}

void swd_intel_close(swd_daemon *d)
{
    swd_intel *x = d->intel;
    if (!x)
        return;
    sw_intel_free(x->in);
    sw_fse_keyring_free(x->kr);
    sw_quarantine_free(x->q);
    sw_engine_free(x->allow);
    free(x);
    d->intel = NULL;
}

void swd_intel_tick(swd_daemon *d)
{
    swd_intel *x = d->intel;
    if (!x)
        return;
    int64_t now = swd_now_ns();
    if (now - x->last_tick < (int64_t)d->cfg->intel.tick_s * SW_NS_S)
        return;
    x->last_tick = now;
    uint32_t n = sw_intel_tick(x->in, now);
    if (n)
        swd_info("intel", "%u indicators reached their valid_until: withdrawn", n);
}

typedef struct take_ctx {
    swd_intel *x;
    int64_t now;
    json_t *results;
    const char *expect_org; /* a pushing partner's org: others' objects refused */
    size_t refused_org;
} take_ctx;

static int take_one(void *arg, const sw_fse *o)
{
    take_ctx *c = arg;
    sw_intel_ind ind;
    sw_intel_state st = SW_INTEL_REFUSED;
    int rc = sw_intel_from_fse(o, &ind);
    if (rc == SW_OK && c->expect_org && strcmp(o->org, c->expect_org) != 0) {
        rc = SW_EAUTH; /* verified, but not the pushing partner's own: never relayed */
        c->refused_org++;
    }
    if (rc == SW_OK)
        rc = sw_intel_apply(c->x->in, &ind, c->now, &st);
    json_t *r = json_object();
    json_object_set_new(r, "id", json_string(o->id));
    json_object_set_new(r, "producer", json_string(o->org));
    json_object_set_new(r, "state", json_string(rc == SW_OK ? sw_intel_state_name(st) : "refused"));
    if (json_array_size(c->results) < 1000)
        json_array_append_new(c->results, r);
    else
        json_decref(r);
    return 0;
}

char *swd_intel_take(swd_daemon *d, const char *buf, size_t len, const char *who, char *msg, size_t msglen)
{
    return swd_intel_take_org(d, buf, len, NULL, who, msg, msglen);
}

char *swd_intel_take_org(swd_daemon *d, const char *buf, size_t len, const char *org, const char *who, char *msg,
                         size_t msglen)
{
    swd_intel *x = d->intel;
    if (!x) {
        snprintf(msg, msglen, "error: intel is not configured (an intel line in the config)");
        return NULL;
    }
    if (!x->kr) {
        snprintf(msg, msglen, "error: intel has no keys directory: nothing can be verified");
        return NULL;
    }
    take_ctx c = {.x = x, .now = swd_now_ns(), .results = json_array(), .expect_org = org};
    size_t quarantined = 0;
    char err[200];
    int n = sw_fse_verify_batch(x->kr, buf, len, x->q, c.now / 1000000, take_one, &c, &quarantined, err,
                                sizeof err);
    if (n < 0) {
        json_decref(c.results);
        snprintf(msg, msglen, "error: %s", err);
        return NULL;
    }
    n -= (int)c.refused_org;
    x->batches++;
    x->accepted += (uint64_t)n;
    x->quarantined += quarantined;
    swd_info("intel", "batch from %s: %d accepted, %zu quarantined%s", who, n, quarantined,
             c.refused_org ? ", some refused: not the pushing partner's own objects" : "");
    json_t *o = json_object();
    json_object_set_new(o, "accepted", json_integer(n));
    json_object_set_new(o, "quarantined", json_integer((json_int_t)quarantined));
    if (org)
        json_object_set_new(o, "refused_other_org", json_integer((json_int_t)c.refused_org));
    json_object_set_new(o, "results", c.results);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        snprintf(msg, msglen, "error: out of memory");
    return s;
}

/* Plain STIX indicators from a pulled collection (daemon/pull.c): already
 * mapped to the collection's partner, applied at its trust.  Counted as
 * a batch; results into *enforced (how many are enforced now). */
int swd_intel_take_plain(swd_daemon *d, const sw_intel_ind *v, size_t n, const char *who, size_t *enforced)
{
    swd_intel *x = d->intel;
    if (!x)
        return SW_ENOTFOUND;
    int64_t now = swd_now_ns();
    size_t applied = 0, enf = 0;
    for (size_t i = 0; i < n; i++) {
        sw_intel_state st = SW_INTEL_REFUSED;
        if (sw_intel_apply(x->in, &v[i], now, &st) == SW_OK) {
            applied++;
            enf += st == SW_INTEL_ENFORCED;
        }
    }
    x->batches++;
    x->accepted += applied;
    swd_info("intel", "plain STIX from %s: %zu of %zu applied, %zu enforced", who, applied, n, enf);
    if (enforced)
        *enforced = enf;
    return (int)applied;
}

char *swd_intel_take_file(swd_daemon *d, const char *path, const char *who, char *msg, size_t msglen)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > INTEL_BATCH_FILE_MAX) {
        snprintf(msg, msglen, "error: %.200s: not a readable regular file of at most 64 MiB", path);
        return NULL;
    }
    FILE *f = fopen(path, "re");
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t n = f && buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    if (f)
        fclose(f);
    if (!f || !buf) {
        free(buf);
        snprintf(msg, msglen, "error: %.200s: cannot read it", path);
        return NULL;
    }
    char *r = swd_intel_take(d, buf, n, who, msg, msglen);
    free(buf);
    return r;
}

typedef struct list_ctx {
    json_t *arr;
    size_t limit, total;
} list_ctx;

static void list_one(void *ctx, const sw_intel_entry *e)
{
    list_ctx *l = ctx;
    l->total++;
    if (json_array_size(l->arr) < l->limit)
        json_array_append_new(l->arr, sw_intel_entry_json(e));
}

char *swd_intel_list_json(swd_daemon *d, size_t limit)
{
    swd_intel *x = d->intel;
    json_t *o = json_object();
    list_ctx l = {.arr = json_array(), .limit = limit};
    if (x)
        sw_intel_foreach(x->in, list_one, &l);
    json_object_set_new(o, "indicators", l.arr);
    json_object_set_new(o, "total", json_integer((json_int_t)l.total));
    json_object_set_new(o, "truncated", json_boolean(l.total > json_array_size(l.arr)));
    json_object_set_new(o, "configured", json_boolean(x != NULL));
    if (x) {
        sw_intel_stats st;
        sw_intel_stats_get(x->in, &st);
        json_t *s = json_object();
        json_object_set_new(s, "held", json_integer(st.held));
        json_object_set_new(s, "capacity", json_integer(st.capacity));
        json_object_set_new(s, "enforced", json_integer(st.enforced));
        json_object_set_new(s, "applied", json_integer((json_int_t)st.applied));
        json_object_set_new(s, "stale", json_integer((json_int_t)st.stale));
        json_object_set_new(s, "untrusted", json_integer((json_int_t)st.untrusted));
        json_object_set_new(s, "refused", json_integer((json_int_t)st.refused));
        json_object_set_new(s, "allowlisted", json_integer((json_int_t)st.allowlisted));
        json_object_set_new(s, "withdrawn", json_integer((json_int_t)st.withdrawn));
        json_object_set_new(s, "batches", json_integer((json_int_t)x->batches));
        json_object_set_new(s, "quarantined", json_integer((json_int_t)x->quarantined));
        sw_quarantine_stats qs = sw_quarantine_stats_get(x->q);
        json_object_set_new(s, "quarantine_held", json_integer((json_int_t)qs.held));
        json_object_set_new(o, "stats", s);
    }
    char *str = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return str;
}

char *swd_intel_show_json(swd_daemon *d, const char *id, char *msg, size_t msglen)
{
    swd_intel *x = d->intel;
    sw_intel_entry e;
    if (!x || sw_intel_get(x->in, id, &e) != SW_OK) {
        snprintf(msg, msglen, "error: no indicator %.40s", id);
        return NULL;
    }
    json_t *o = sw_intel_entry_json(&e);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int swd_intel_revoke(swd_daemon *d, const char *id, const char *who, const sw_addr *from, char *msg,
                     size_t msglen)
{
    swd_intel *x = d->intel;
    if (!x || sw_intel_revoke(x->in, id, swd_now_ns()) != SW_OK) {
        snprintf(msg, msglen, "error: no indicator %.40s", id);
        return SW_ENOTFOUND;
    }
    char detail[120];
    snprintf(detail, sizeof detail, "indicator %.40s revoked here (every producer's copy)", id);
    swd_audit(d, SW_EVT_ADMIN_CHANGE, "admin.intel-revoke", who, from, "intel revoke", detail);
    snprintf(msg, msglen, "ok indicator %.40s revoked", id);
    return SW_OK;
}
