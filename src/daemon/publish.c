/* sipwalld publishes its own indicators and serves TAXII 2.1
 * (docs/exchange-taxii.md).
 *
 * The TAXII server (src/exchange/taxii_server.c) is mounted on the admin
 * API's HTTPS server under /taxii2/.  The publisher is a thread of its
 * own: it reads the event store after its cursor (kept in the TAXII store,
 * so a restart resumes), turns detector events into FSE objects through
 * the export policy (sw_fse_from_event: the anti-echo rule drops events
 * whose enforcement a partner's indicator caused), signs them, renders
 * each as STIX (identity, TLP marking, extension-definition, indicator,
 * sighting) and adds the objects to the collection marked publish, each
 * with its own microsecond date_added.  A known indicator gets a new
 * version at most every `refresh` seconds; an operator's unblock of an
 * address (ctl/admin API) or `ctl exchange revoke ID` publishes a revoked
 * version at once.  The latest FSE object of every id is kept in the
 * store (kv "fse:ID") so versions increase across restarts.  Every signed
 * version (revocations too) is also queued for the intel-push receivers
 * (push.c), so partners get the node's own detections in seconds. */
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/publish.h"
#include "sipwall/admin.h"
#include "sipwall/exchange.h"
#include "sipwall/exchange_fmt.h"
#include "sipwall/taxii.h"

#define BATCH 256
/* the telco-fse extension-definition (src/exchange/stix.c, docs/exchange-stix.md) */
#define SWD_FSE_EXT_ID "extension-definition--2b8a5f0e-7c1d-4e4a-9f3b-6d0c8e1a4b72"
#define FSE_KV_MAX 8192

struct swd_publish {
    swd_daemon *d;
    sw_taxii_store *store;
    sw_taxii_server *srv;
    sw_admin_mount mount;
    int coll;                    /* the publish collection, -1 = none */
    sw_export_policy *policy;    /* NULL when nothing is published */
    sw_jws_key *key;
    char group[SW_FSE_NAME_MAX];
    int64_t refresh_ms;
    sw_event_store *events;      /* read-only handle, the thread's */
    pthread_t th;
    int started;
    atomic_int stop;
    pthread_mutex_t mu;          /* publishing: the thread, revocations from the control thread */
    atomic_uint_least64_t published, revoked, skipped, errors;
    int64_t kept_max;            /* FSE objects kept (the publish collection's ceiling) */
    unsigned since_trim;         /* publications since the last trim */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the TAXII mount ---------------------------------------------------------------------- */

static int mount_claims(void *ctx, const char *target)
{
    (void)ctx;
    return sw_taxii_path(target);
}

static void mount_handle(void *ctx, const sw_admin_mount_req *r, sw_admin_mount_resp *out)
{
    swd_publish *p = ctx;
    sw_taxii_request q = {.method = r->method, .target = r->target, .accept = r->accept,
                          .content_type = r->content_type, .authorization = r->authorization, .host = r->host,
                          .body = r->body, .body_len = r->body_len, .now_us = now_us()};
    sw_taxii_response resp;
    (void)sw_taxii_handle(p->srv, &q, &resp);
    out->status = resp.status;
    out->content_type = resp.content_type;
    out->body = resp.body;
    out->len = resp.len;
    int h = 0;
    if (resp.date_first[0]) {
        out->hname[h] = "X-TAXII-Date-Added-First";
        snprintf(out->hval[h++], sizeof out->hval[0], "%s", resp.date_first);
        out->hname[h] = "X-TAXII-Date-Added-Last";
        snprintf(out->hval[h++], sizeof out->hval[0], "%s", resp.date_last);
    }
    if (resp.www_authenticate) {
        out->hname[h] = "WWW-Authenticate";
        snprintf(out->hval[h++], sizeof out->hval[0], "Basic realm=\"sipwalld TAXII\"");
    }
    if (resp.status == 429) {
        out->hname[h] = "Retry-After";
        snprintf(out->hval[h++], sizeof out->hval[0], "1");
    }
    if (resp.status == 401 || (resp.status == 202 && r->method[0] == 'P')) {
        char at[SW_ADDR_STRLEN] = "?";
        if (r->from && r->from->family)
            (void)sw_addr_format(r->from, at, sizeof at);
        if (resp.status == 401)
            swd_warn("taxii", "refused login from %s", at);
        else
            swd_info("taxii", "%s posted objects from %s", resp.who, at);
    }
}

const sw_admin_mount *swd_publish_mount(swd_daemon *d)
{
    return d->publish ? &d->publish->mount : NULL;
}

/* ---- events into FSE ------------------------------------------------------------------------ */

static sw_str jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? sw_str_make(json_string_value(v), json_string_length(v)) : (sw_str){0};
}

/* The fields sw_fse_from_event reads, from an event as the store has it.
 * Views point into root: valid while it lives.  0 when not an event. */
static int event_from_json(json_t *root, int64_t ts_ns, sw_event *ev)
{
    const char *type = json_string_value(json_object_get(root, "event_type"));
    const char *cat = json_string_value(json_object_get(root, "category"));
    sw_event_type t;
    sw_category c = 0;
    if (!type || sw_event_type_lookup(type, &t) != SW_OK)
        return 0;
    if (cat && sw_category_lookup(cat, &c) != SW_OK)
        c = 0;
    sw_event_init(ev, t, c, "publish");
    ev->ts_ns = ts_ns;
    json_t *conf = json_object_get(root, "confidence");
    ev->confidence = json_is_integer(conf) && json_integer_value(conf) >= 0 && json_integer_value(conf) <= 100
                         ? (uint8_t)json_integer_value(conf)
                         : 0;
    const char *src = json_string_value(json_object_get(root, "src"));
    if (src && sw_addr_parse(src, &ev->src) != SW_OK)
        memset(&ev->src, 0, sizeof ev->src);
    const char *tr = json_string_value(json_object_get(root, "transport"));
    for (int i = 0; tr && i < 8; i++)
        if (sw_transport_name((sw_transport)i) && strcmp(sw_transport_name((sw_transport)i), tr) == 0)
            ev->transport = (sw_transport)i;
    ev->method = jstr(root, "method");
    ev->from = jstr(root, "from");
    ev->to = jstr(root, "to");
    ev->pai = jstr(root, "pai");
    ev->ruri = jstr(root, "ruri");
    /* Anti-echo: what a partner's indicator made us enforce (a feed block's
     * rule "intel.PRODUCER.ID", or a message that block dropped while a
     * detector counted it: evidence dropped_by) is theirs to share.  The
     * export policy drops events with origin=feed. */
    const char *rule = json_string_value(json_object_get(root, "rule"));
    json_t *evid = json_object_get(root, "evidence");
    const char *dropped_by = json_string_value(json_object_get(evid, "dropped_by"));
    int feed = (rule && strncmp(rule, "intel.", 6) == 0) || (dropped_by && strncmp(dropped_by, "intel.", 6) == 0);
    if (feed)
        (void)sw_event_add_str(ev, SW_EXPORT_ORIGIN_KEY, SW_STR_LIT(SW_EXPORT_ORIGIN_FEED));
    /* Every scalar evidence item as the detector wrote it (the export
     * policy reads some: offender for calling ranges, count,
     * distinct_callees, user_agent, origin): no list here to drift from
     * the policy's.  Keys and strings point into root, like the views. */
    const char *key;
    json_t *v;
    json_object_foreach(evid, key, v) {
        if (feed && strcmp(key, SW_EXPORT_ORIGIN_KEY) == 0)
            continue;
        if (json_is_integer(v))
            (void)sw_event_add_num(ev, key, json_integer_value(v));
        else if (json_is_string(v))
            (void)sw_event_add_str(ev, key, sw_str_make(json_string_value(v), json_string_length(v)));
    }
    return 1;
}

/* Signs o, renders it as STIX and adds every object to the collection;
 * then keeps o as the latest version.  Under p->mu. */
static int publish_fse(swd_publish *p, sw_fse *o)
{
    if (sw_fse_sign(o, p->key, SW_JWS_EDDSA, 0) != SW_OK)
        return SW_EIO;
    sw_xo_ind x;
    sw_xo_from_fse(o, &x);
    sw_xo_producer prod = {.org = o->org};
    size_t len;
    const char *why = NULL;
    char *bundle = sw_stix_bundle(&prod, &x, 1, &len, &why, NULL);
    if (!bundle) {
        swd_warn("publish", "indicator %s: %s", o->id, why ? why : "cannot render");
        return SW_EINVAL;
    }
    json_t *b = json_loadb(bundle, len, 0, NULL);
    free(bundle);
    json_t *objs = json_object_get(b, "objects");
    int rc = SW_OK;
    /* The indicator's telco-fse extension also carries the signed FSE
     * object itself ("fse"): the signature covers its JCS, so a consumer
     * verifies it as received (sw_fse_verify, `sipwall exchange verify`)
     * and needs nothing else from the STIX rendering. */
    size_t flen;
    char *ftext = sw_fse_encode(o, 1, &flen);
    json_t *fobj = ftext ? json_loadb(ftext, flen, 0, NULL) : NULL;
    free(ftext);
    for (size_t i = 0; fobj && i < json_array_size(objs); i++) {
        json_t *ob = json_array_get(objs, i);
        json_t *ext = json_object_get(json_object_get(ob, "extensions"), SWD_FSE_EXT_ID);
        const char *type = json_string_value(json_object_get(ob, "type"));
        if (type && strcmp(type, "indicator") == 0 && json_is_object(ext))
            json_object_set(ext, "fse", fobj);
    }
    json_decref(fobj);
    int64_t t = now_us();
    for (size_t i = 0; i < json_array_size(objs); i++) {
        char *text = json_dumps(json_array_get(objs, i), JSON_COMPACT);
        char err[256];
        int r = text ? sw_taxii_server_add(p->srv, (size_t)p->coll, text, strlen(text), t, err, sizeof err) : SW_ENOMEM;
        free(text);
        if (r < 0) {
            swd_warn("publish", "indicator %s: %s", o->id, r == SW_ENOMEM ? "out of memory" : err);
            rc = r;
        }
    }
    json_decref(b);
    if (!objs)
        rc = SW_EINVAL;
    size_t elen;
    char *enc = sw_fse_encode(o, 1, &elen);
    char key[64];
    snprintf(key, sizeof key, "fse:%s", o->id);
    if (!enc || sw_taxii_store_kv_put(p->store, key, enc, elen) != SW_OK)
        rc = SW_EIO;
    /* the signed version to every intel-push receiver too (push.c: a
     * bounded queue per receiver; none configured: nothing) */
    if (enc)
        (void)swd_push_enqueue(p->d, enc, elen);
    free(enc);
    return rc;
}

/* The latest published version of id, or SW_ENOTFOUND. */
static int latest(swd_publish *p, const char *id, sw_fse *o)
{
    char key[64], *buf = malloc(FSE_KV_MAX);
    if (!buf)
        return SW_ENOMEM;
    snprintf(key, sizeof key, "fse:%s", id);
    int rc = sw_taxii_store_kv_get(p->store, key, buf, FSE_KV_MAX);
    if (rc == SW_OK && sw_fse_decode(buf, strlen(buf), o, NULL, 0) != SW_OK)
        rc = SW_EINVAL;
    free(buf);
    return rc;
}

static void take_event(swd_publish *p, const sw_event *ev)
{
    sw_fse o, prev;
    if (sw_fse_from_event(p->policy, p->group, ev, &o) != 1) {
        atomic_fetch_add(&p->skipped, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (latest(p, o.id, &prev) == SW_OK) {
        if (!prev.revoked && o.last_seen_ms - prev.modified_ms < p->refresh_ms) {
            pthread_mutex_unlock(&p->mu);
            return; /* known and fresh: the next version at the refresh */
        }
        if (prev.first_seen_ms < o.first_seen_ms)
            o.first_seen_ms = prev.first_seen_ms;
        if (!prev.revoked)
            o.count = prev.count + o.count > SW_FSE_COUNT_MAX ? SW_FSE_COUNT_MAX : prev.count + o.count;
        if (o.modified_ms <= prev.modified_ms)
            o.modified_ms = prev.modified_ms + 1;
        if (o.last_seen_ms < o.first_seen_ms)
            o.last_seen_ms = o.first_seen_ms;
        if (o.valid_until_ms < o.modified_ms)
            o.valid_until_ms = o.modified_ms;
    }
    if (publish_fse(p, &o) == SW_OK)
        atomic_fetch_add(&p->published, 1);
    else
        atomic_fetch_add(&p->errors, 1);
    /* the FSE objects kept (one per indicator ever published) have the
     * collection's ceiling: the least recently published go */
    if (++p->since_trim >= 256) {
        p->since_trim = 0;
        if (sw_taxii_store_kv_trim(p->store, "fse:", p->kept_max) < 0)
            swd_warn("publish", "cannot trim the kept FSE objects");
    }
    pthread_mutex_unlock(&p->mu);
}

typedef struct rowbuf {
    int64_t id[BATCH], ts[BATCH];
    char *json[BATCH];
    size_t n;
} rowbuf;

static int copy_row(void *arg, const sw_event_row *row)
{
    rowbuf *b = arg;
    char *j = malloc(row->json_len + 1);
    if (!j)
        return 1;
    memcpy(j, row->json, row->json_len);
    j[row->json_len] = '\0';
    b->id[b->n] = row->id;
    b->ts[b->n] = row->ts_ns;
    b->json[b->n++] = j;
    return b->n == BATCH;
}

static void *publish_main(void *arg)
{
    swd_publish *p = arg;
    char cur[32];
    int64_t cursor = 0;
    if (sw_taxii_store_kv_get(p->store, "publish.cursor", cur, sizeof cur) == SW_OK)
        cursor = strtoll(cur, NULL, 10);
    while (!atomic_load(&p->stop)) {
        rowbuf b;
        b.n = 0;
        int n = sw_event_store_scan(p->events, cursor, BATCH, copy_row, &b);
        for (size_t i = 0; i < b.n; i++) {
            json_t *root = json_loads(b.json[i], 0, NULL);
            sw_event ev;
            if (root && event_from_json(root, b.ts[i], &ev))
                take_event(p, &ev);
            json_decref(root);
            free(b.json[i]);
            cursor = b.id[i];
        }
        if (b.n) {
            snprintf(cur, sizeof cur, "%lld", (long long)cursor);
            pthread_mutex_lock(&p->mu);
            (void)sw_taxii_store_kv_put(p->store, "publish.cursor", cur, strlen(cur));
            pthread_mutex_unlock(&p->mu);
        }
        if (n < BATCH) {
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ---- life ------------------------------------------------------------------------------------ */

static void give_to_user(const swd_config *cfg, const char *db)
{
    if (!cfg->user)
        return;
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw)
        return;
    gid_t gid = pw->pw_gid;
    if (cfg->group) {
        struct group *gr = getgrnam(cfg->group);
        if (gr)
            gid = gr->gr_gid;
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s", db, suffix[i]);
        if (lchown(path, pw->pw_uid, gid) < 0 && errno != ENOENT)
            swd_warn("taxii", "cannot give %s to %s: %s", path, cfg->user, strerror(errno));
    }
}

int swd_publish_open(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    if (!cfg->taxii)
        return SW_OK;
    swd_publish *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    d->publish = p;
    p->d = d;
    p->coll = -1;
    pthread_mutex_init(&p->mu, NULL);
    char why[512];
    p->store = sw_taxii_store_open(cfg->taxii_store, why, sizeof why);
    if (!p->store) {
        snprintf(err, errlen, "taxii store %s: %s", cfg->taxii_store, why);
        return SW_EIO;
    }
    give_to_user(cfg, cfg->taxii_store);
    p->srv = sw_taxii_server_new(cfg->taxii, p->store);
    if (!p->srv) {
        snprintf(err, errlen, "taxii: out of memory");
        return SW_ENOMEM;
    }
    p->mount = (sw_admin_mount){.claims = mount_claims, .handle = mount_handle, .ctx = p,
                                .body_max = cfg->taxii->max_content_length};
    for (size_t i = 0; i < cfg->taxii->ncoll; i++)
        if (cfg->taxii->coll[i].publish) {
            p->coll = (int)i;
            p->kept_max = (int64_t)cfg->taxii->coll[i].max_objects;
        }
    if (!cfg->publish.line)
        return SW_OK;
    const swd_publish_cfg *pc = &cfg->publish;
    p->policy = sw_export_policy_load(pc->policy, why, sizeof why);
    if (!p->policy) {
        snprintf(err, errlen, "publish (line %d): %s", pc->line, why);
        return SW_EINVAL;
    }
    const char *g = pc->group ? pc->group : sw_export_policy_group(p->policy, 0);
    if (!g) {
        snprintf(err, errlen, "publish (line %d): the export policy has no export rule", pc->line);
        return SW_EINVAL;
    }
    snprintf(p->group, sizeof p->group, "%s", g);
    p->key = sw_jws_key_load(pc->key, pc->kid, why, sizeof why);
    if (!p->key) {
        snprintf(err, errlen, "publish (line %d): sign-key: %s", pc->line, why);
        return SW_EINVAL;
    }
    p->refresh_ms = (int64_t)pc->refresh_s * 1000;
    sw_event_store_opts o = {.readonly = 1};
    p->events = sw_event_store_open(cfg->events_db, &o, why, sizeof why);
    if (!p->events) {
        snprintf(err, errlen, "publish (line %d): events-db: %s", pc->line, why);
        return SW_EIO;
    }
    return SW_OK;
}

int swd_publish_start(swd_daemon *d, char *err, size_t errlen)
{
    swd_publish *p = d->publish;
    if (!p || !p->policy)
        return SW_OK;
    int e = pthread_create(&p->th, NULL, publish_main, p);
    if (e) {
        snprintf(err, errlen, "publish thread: %s", strerror(e));
        return SW_EIO;
    }
    p->started = 1;
    swd_info("publish", "publishing group %s of %s into TAXII collection %s (refresh %lld s)", p->group,
             sw_export_policy_org(p->policy), d->cfg->taxii->coll[p->coll].id, (long long)(p->refresh_ms / 1000));
    return SW_OK;
}

void swd_publish_close(swd_daemon *d)
{
    swd_publish *p = d->publish;
    if (!p)
        return;
    if (p->started) {
        atomic_store(&p->stop, 1);
        pthread_join(p->th, NULL);
    }
    swd_info("publish", "stopped: published=%llu revoked=%llu errors=%llu",
             (unsigned long long)atomic_load(&p->published), (unsigned long long)atomic_load(&p->revoked),
             (unsigned long long)atomic_load(&p->errors));
    if (p->events)
        sw_event_store_close(p->events);
    sw_taxii_server_free(p->srv);
    sw_taxii_store_close(p->store);
    sw_export_policy_free(p->policy);
    sw_jws_key_free(p->key);
    pthread_mutex_destroy(&p->mu);
    free(p);
    d->publish = NULL;
}

/* ---- revocation ------------------------------------------------------------------------------ */

static int revoke_locked(swd_publish *p, const char *id, char *msg, size_t msglen)
{
    sw_fse o;
    int rc = latest(p, id, &o);
    if (rc != SW_OK) {
        snprintf(msg, msglen, "error: no published indicator %s", id);
        return SW_ENOTFOUND;
    }
    if (o.revoked) {
        snprintf(msg, msglen, "ok %s already revoked", id);
        return SW_OK;
    }
    int64_t now_ms = now_us() / 1000;
    if (sw_fse_revoke(&o, now_ms) != SW_OK || publish_fse(p, &o) != SW_OK) {
        snprintf(msg, msglen, "error: cannot publish the revocation of %s", id);
        return SW_EIO;
    }
    atomic_fetch_add(&p->revoked, 1);
    snprintf(msg, msglen, "ok revoked %s (version %lld)", id, (long long)o.modified_ms);
    return SW_OK;
}

int swd_publish_revoke(swd_daemon *d, const char *id, const char *who, const sw_addr *from, char *msg,
                       size_t msglen)
{
    swd_publish *p = d->publish;
    if (!p || !p->policy) {
        snprintf(msg, msglen, "error: nothing is published (no publish line)");
        return SW_ENOTFOUND;
    }
    if (strlen(id) != 36) {
        snprintf(msg, msglen, "error: an indicator id is a UUID");
        return SW_EINVAL;
    }
    pthread_mutex_lock(&p->mu);
    int rc = revoke_locked(p, id, msg, msglen);
    pthread_mutex_unlock(&p->mu);
    swd_info("publish", "revoke %s by %s: %s", id, who ? who : "?", msg);
    if (rc == SW_OK && strncmp(msg, "ok revoked", 10) == 0) { /* a new revoked version went out */
        char detail[120];
        snprintf(detail, sizeof detail, "our indicator %.40s revoked and published", id);
        swd_audit(d, SW_EVT_ADMIN_CHANGE, "admin.exchange-revoke", who, from, "exchange revoke", detail);
    }
    return rc;
}

void swd_publish_unblocked(swd_daemon *d, const char *key, const char *who)
{
    swd_publish *p = d->publish;
    if (!p || !p->policy)
        return;
    sw_addr a;
    sw_fse_kind kinds[2];
    size_t nk = 0;
    char value[SW_FSE_VALUE_MAX];
    if (sw_addr_parse(key, &a) == SW_OK && a.family) {
        kinds[nk++] = a.family == 4 ? SW_FSE_KIND_IPV4 : SW_FSE_KIND_IPV6;
        if (sw_addr_format_ip(&a, value, sizeof value) < 0)
            return;
    } else {
        snprintf(value, sizeof value, "%s%s", key[0] == '+' ? "" : "+", key);
        kinds[nk++] = SW_FSE_KIND_E164;
        kinds[nk++] = SW_FSE_KIND_E164_PREFIX;
    }
    const char *org = sw_export_policy_org(p->policy);
    pthread_mutex_lock(&p->mu);
    for (size_t k = 0; k < nk; k++)
        for (int t = 0; t < SW_EVT__COUNT; t++) {
            const char *name = sw_event_type_name((sw_event_type)t);
            char id[SW_FSE_UUID_LEN], msg[200];
            sw_fse o;
            if (!name || sw_fse_make_id(org, kinds[k], value, name, id) != SW_OK || latest(p, id, &o) != SW_OK)
                continue;
            if (revoke_locked(p, id, msg, sizeof msg) == SW_OK)
                swd_info("publish", "unblock %s by %s: %s", value, who ? who : "?", msg);
        }
    pthread_mutex_unlock(&p->mu);
}

char *swd_publish_stats_json(swd_daemon *d)
{
    swd_publish *p = d->publish;
    if (!p)
        return NULL;
    sw_taxii_stats st;
    sw_taxii_server_stats(p->srv, &st);
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "published",
                          (json_int_t)atomic_load(&p->published), "revoked", (json_int_t)atomic_load(&p->revoked),
                          "errors", (json_int_t)atomic_load(&p->errors), "taxii_requests", (json_int_t)st.requests,
                          "taxii_auth_failures", (json_int_t)st.auth_failures, "taxii_throttled",
                          (json_int_t)st.throttled, "taxii_posted", (json_int_t)st.posted_objects,
                          "taxii_post_failures", (json_int_t)st.post_failures);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}
