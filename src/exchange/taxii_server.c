/* The TAXII 2.1 request handler (include/sipwall/taxii.h): one request in,
 * one response out, no I/O of its own beyond the store.  Mounted by
 * sipwalld on the admin API's HTTPS server (src/daemon/publish.c). */
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sipwall/taxii.h"

#define AUTH_PER_S 5 /* Argon2id verifications a second, all clients together */
#define STATUS_KEEP_MAX 16384 /* bytes of one kept status resource */

typedef struct status_rec {
    char id[37];
    int64_t at_us;
    int user;
    char *json;
} status_rec;

struct sw_taxii_server {
    sw_taxii_conf c;
    sw_taxii_store *store;
    pthread_mutex_t mu;   /* the store and the statuses */
    pthread_mutex_t amu;  /* the auth cache and bucket */
    uint8_t cache_key[crypto_generichash_KEYBYTES];
    uint8_t cached[SW_TAXII_USERS_MAX][crypto_generichash_BYTES];
    uint8_t has_cached[SW_TAXII_USERS_MAX];
    double tokens;
    int64_t refill_us;
    status_rec st[SW_TAXII_STATUS_MAX];
    size_t st_next;
    sw_taxii_stats stats;
};

sw_taxii_server *sw_taxii_server_new(const sw_taxii_conf *conf, sw_taxii_store *store)
{
    if (sodium_init() < 0)
        return NULL;
    sw_taxii_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->c = *conf;
    s->store = store;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->amu, NULL);
    randombytes_buf(s->cache_key, sizeof s->cache_key);
    s->tokens = AUTH_PER_S;
    return s;
}

void sw_taxii_server_free(sw_taxii_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < SW_TAXII_STATUS_MAX; i++)
        free(s->st[i].json);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->amu);
    sodium_memzero(s->cache_key, sizeof s->cache_key);
    free(s);
}

void sw_taxii_server_stats(sw_taxii_server *s, sw_taxii_stats *out)
{
    pthread_mutex_lock(&s->amu);
    *out = s->stats;
    pthread_mutex_unlock(&s->amu);
}

int sw_taxii_server_add(sw_taxii_server *s, size_t idx, const char *json, size_t len, int64_t now_us, char *err,
                        size_t errlen)
{
    if (idx >= s->c.ncoll)
        return SW_EUSAGE;
    pthread_mutex_lock(&s->mu);
    int rc = sw_taxii_store_add(s->store, s->c.coll[idx].id, json, len, now_us, s->c.coll[idx].max_objects, 1,
                                NULL, err, errlen);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int sw_taxii_path(const char *t) { return strncmp(t, "/taxii2/", 8) == 0 || strcmp(t, "/taxii2") == 0; }

/* ---- responses ------------------------------------------------------------------------------ */

static const char *title_of(int st)
{
    switch (st) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    default: return "Internal Server Error";
    }
}

static int set_body(sw_taxii_response *r, char *body)
{
    if (!body) {
        r->status = 500;
        r->body = strdup("{\"title\":\"Internal Server Error\",\"http_status\":\"500\"}");
        r->len = r->body ? strlen(r->body) : 0;
        return SW_ENOMEM;
    }
    r->body = body;
    r->len = strlen(body);
    return SW_OK;
}

static int error(sw_taxii_response *r, int status, const char *desc)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    r->status = status;
    r->date_first[0] = r->date_last[0] = '\0';
    json_t *o = json_pack("{s:s, s:s, s:s}", "title", title_of(status), "description", desc ? desc : "",
                          "http_status", code);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return set_body(r, t);
}

static int json_reply(sw_taxii_response *r, int status, json_t *o)
{
    r->status = status;
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return set_body(r, t);
}

/* ---- authentication ------------------------------------------------------------------------ */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One token of the global bucket; 0 when empty. */
static int take_token(sw_taxii_server *s)
{
    int64_t now = mono_us();
    pthread_mutex_lock(&s->amu);
    if (s->refill_us)
        s->tokens += (double)(now - s->refill_us) * AUTH_PER_S / 1e6;
    if (s->tokens > AUTH_PER_S)
        s->tokens = AUTH_PER_S;
    s->refill_us = now;
    int ok = s->tokens >= 1.0;
    if (ok)
        s->tokens -= 1.0;
    else
        s->stats.throttled++;
    pthread_mutex_unlock(&s->amu);
    return ok;
}

/* 1 when secret is user u's: the cached digest, else Argon2id (limited;
 * *throttled set when the bucket is empty). */
static int check_secret(sw_taxii_server *s, int u, const char *secret, size_t len, int *throttled)
{
    uint8_t d[crypto_generichash_BYTES];
    crypto_generichash(d, sizeof d, (const uint8_t *)secret, len, s->cache_key, sizeof s->cache_key);
    pthread_mutex_lock(&s->amu);
    int hit = s->has_cached[u] && sodium_memcmp(d, s->cached[u], sizeof d) == 0;
    pthread_mutex_unlock(&s->amu);
    if (hit)
        return 1;
    if (!take_token(s)) {
        *throttled = 1;
        return 0;
    }
    if (crypto_pwhash_str_verify(s->c.users[u].hash, secret, len) != 0)
        return 0;
    pthread_mutex_lock(&s->amu);
    memcpy(s->cached[u], d, sizeof d);
    s->has_cached[u] = 1;
    pthread_mutex_unlock(&s->amu);
    return 1;
}

/* The user index, or -1 (401) / -2 (429). */
static int authenticate(sw_taxii_server *s, const char *h)
{
    int throttled = 0;
    if (!h)
        return -1;
    if (strncasecmp(h, "Basic ", 6) == 0) {
        const char *b = h + 6;
        while (*b == ' ')
            b++;
        size_t bl = strlen(b);
        if (bl == 0 || bl > 512)
            return -1;
        unsigned char dec[400];
        size_t dl = 0;
        if (sodium_base642bin(dec, sizeof dec - 1, b, bl, NULL, &dl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            return -1;
        dec[dl] = '\0';
        char *colon = memchr(dec, ':', dl);
        if (!colon || memchr(dec, '\0', dl))
            return -1;
        *colon = '\0';
        for (size_t u = 0; u < s->c.nusers; u++)
            if (strcmp(s->c.users[u].name, (char *)dec) == 0) {
                const char *sec = colon + 1;
                size_t sl = dl - (size_t)(colon + 1 - (char *)dec);
                int ok = sl > 0 && check_secret(s, (int)u, sec, sl, &throttled);
                sodium_memzero(dec, sizeof dec);
                return ok ? (int)u : throttled ? -2 : -1;
            }
        /* an unknown user costs a token and a verification too (against
         * another user's hash, the result ignored): its answer takes as
         * long as a wrong secret's, so names cannot be probed */
        if (!take_token(s)) {
            sodium_memzero(dec, sizeof dec);
            return -2;
        }
        if (s->c.nusers) {
            int ignored = crypto_pwhash_str_verify(s->c.users[0].hash, colon + 1,
                                                   dl - (size_t)(colon + 1 - (char *)dec));
            (void)ignored;
        }
        sodium_memzero(dec, sizeof dec);
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) == 0) {
        const char *t = h + 7;
        while (*t == ' ')
            t++;
        size_t tl = strcspn(t, " \t");
        if (tl == 0 || tl > 256 || t[tl])
            return -1;
        for (size_t u = 0; u < s->c.nusers && !throttled; u++)
            if (check_secret(s, (int)u, t, tl, &throttled))
                return (int)u;
        return throttled ? -2 : -1;
    }
    return -1;
}

/* ---- media types ----------------------------------------------------------------------------- */

/* 1 when one of the comma-separated types of h is application/taxii+json
 * with version=2.1 or no version (any other parameter refused). */
static int taxii_media(const char *h, int list)
{
    if (!h)
        return 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", h);
    char *save = NULL;
    for (char *it = list ? strtok_r(buf, ",", &save) : buf; it; it = list ? strtok_r(NULL, ",", &save) : NULL) {
        /* strip spaces */
        char t[256];
        size_t o = 0;
        for (const char *p = it; *p && o + 1 < sizeof t; p++)
            if (*p != ' ' && *p != '\t')
                t[o++] = *p;
        t[o] = '\0';
        if (strcasecmp(t, "application/taxii+json") == 0 || strcasecmp(t, "application/taxii+json;version=2.1") == 0)
            return 1;
        if (!list)
            break;
    }
    return 0;
}

/* ---- routing ------------------------------------------------------------------------------------ */

#define SEG_MAX 8
typedef struct route {
    char seg[SEG_MAX][SW_TAXII_ID_MAX];
    size_t n;
    const char *query;
    size_t qlen;
} route;

/* Splits the path into segments; a path must end with '/' (§1.6.8).
 * 0, or -1 (404). */
static int split(const char *target, route *rt)
{
    memset(rt, 0, sizeof *rt);
    const char *q = strchr(target, '?');
    size_t pl = q ? (size_t)(q - target) : strlen(target);
    rt->query = q ? q + 1 : "";
    rt->qlen = q ? strlen(q + 1) : 0;
    if (pl == 0 || target[0] != '/' || target[pl - 1] != '/')
        return -1;
    size_t i = 1;
    while (i < pl) {
        size_t j = i;
        while (j < pl && target[j] != '/')
            j++;
        if (j == i || rt->n == SEG_MAX || j - i >= SW_TAXII_ID_MAX)
            return -1;
        for (size_t k = i; k < j; k++) {
            char c = target[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.'))
                return -1; /* no percent-encoding in our paths: ids are [a-z0-9-] */
        }
        memcpy(rt->seg[rt->n], target + i, j - i);
        rt->seg[rt->n][j - i] = '\0';
        rt->n++;
        i = j + 1;
    }
    return 0;
}

static json_t *collection_json(const sw_taxii_collection *k, const sw_taxii_user *u, size_t idx)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:[s]}", "id", k->id, "title", k->title, "can_read",
                          (int)((u->read >> idx) & 1), "can_write", (int)((u->write >> idx) & 1), "media_types",
                          SW_TAXII_STIX_MEDIA);
    if (o && k->description[0])
        json_object_set_new(o, "description", json_string(k->description));
    if (o && k->alias[0])
        json_object_set_new(o, "alias", json_string(k->alias));
    return o;
}

static int host_ok(const char *h)
{
    if (!h || !h[0] || strlen(h) > 255)
        return 0;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            return 0;
    return 1;
}

static void uuid4(char out[37])
{
    uint8_t b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int page_reply(sw_taxii_server *s, sw_taxii_response *r, size_t ci, const route *rt, sw_taxii_view view,
                      const char *only_id)
{
    sw_taxii_query q;
    char why[200];
    if (sw_taxii_query_parse(rt->query, rt->qlen, &q, why, sizeof why) != SW_OK)
        return error(r, 400, why);
    sw_taxii_page pg;
    pthread_mutex_lock(&s->mu);
    int rc = sw_taxii_store_page(s->store, s->c.coll[ci].id, &q, view, only_id, &pg);
    pthread_mutex_unlock(&s->mu);
    if (rc != SW_OK)
        return error(r, 500, "store unavailable");
    if (only_id && pg.count == 0 && !q.nids) {
        free(pg.body);
        return error(r, 404, "no such object (or no version matches)");
    }
    r->status = 200;
    if (pg.count) {
        (void)sw_taxii_format_ts(pg.first_us, r->date_first);
        (void)sw_taxii_format_ts(pg.last_us, r->date_last);
    }
    return set_body(r, pg.body);
}

static int post_objects(sw_taxii_server *s, const sw_taxii_request *rq, sw_taxii_response *r, size_t ci, int user)
{
    if (!rq->content_type || !taxii_media(rq->content_type, 0))
        return error(r, 415, "Content-Type must be " SW_TAXII_MEDIA);
    if (rq->body_len > s->c.max_content_length)
        return error(r, 413, "body above max_content_length");
    json_error_t je;
    json_t *env = rq->body ? json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
    json_t *objs = env ? json_object_get(env, "objects") : NULL;
    if (!env || !json_is_object(env) || !json_is_array(objs)) {
        json_decref(env);
        return error(r, 422, "the body is not a TAXII envelope {\"objects\":[...]}");
    }
    size_t n = json_array_size(objs);
    if (n > SW_TAXII_POST_OBJECTS_MAX) {
        json_decref(env);
        return error(r, 413, "more than 10000 objects in one envelope");
    }
    json_t *succ = json_array(), *fail = json_array();
    size_t nsucc = 0, nfail = 0;
    for (size_t i = 0; i < n && succ && fail; i++) {
        json_t *o = json_array_get(objs, i);
        char *t = json_is_object(o) ? json_dumps(o, JSON_COMPACT) : NULL;
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *ver = json_string_value(json_object_get(o, "modified"));
        if (!ver)
            ver = json_string_value(json_object_get(o, "created"));
        char why[200] = "not a JSON object";
        int rc = SW_EINVAL;
        if (t) {
            pthread_mutex_lock(&s->mu);
            rc = sw_taxii_store_add(s->store, s->c.coll[ci].id, t, strlen(t), rq->now_us, s->c.coll[ci].max_objects,
                                    0, NULL, why, sizeof why);
            pthread_mutex_unlock(&s->mu);
        }
        free(t);
        json_t *e = json_object();
        if (e) {
            json_object_set_new(e, "id", json_string(id && strlen(id) < SW_TAXII_ID_MAX ? id : "unknown"));
            if (ver && strlen(ver) < 40)
                json_object_set_new(e, "version", json_string(ver));
        }
        if (rc >= 0) {
            nsucc++;
            json_array_append_new(succ, e);
        } else {
            nfail++;
            if (e)
                json_object_set_new(e, "message", json_string(why));
            json_array_append_new(fail, e);
        }
    }
    json_decref(env);
    char sid[37], ts[SW_TAXII_TS_LEN];
    uuid4(sid);
    (void)sw_taxii_format_ts(rq->now_us, ts);
    json_t *st = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id", sid, "status", "complete",
                           "request_timestamp", ts, "total_count", (json_int_t)n, "success_count", (json_int_t)nsucc,
                           "failure_count", (json_int_t)nfail, "pending_count", (json_int_t)0);
    if (st && nsucc)
        json_object_set(st, "successes", succ);
    if (st && nfail)
        json_object_set(st, "failures", fail);
    json_decref(succ);
    json_decref(fail);
    char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
    json_decref(st);
    if (!text)
        return error(r, 500, "out of memory");
    pthread_mutex_lock(&s->amu);
    s->stats.posted_objects += nsucc;
    s->stats.post_failures += nfail;
    pthread_mutex_unlock(&s->amu);
    pthread_mutex_lock(&s->mu);
    status_rec *sr = &s->st[s->st_next];
    s->st_next = (s->st_next + 1) % SW_TAXII_STATUS_MAX;
    free(sr->json);
    snprintf(sr->id, sizeof sr->id, "%s", sid);
    sr->at_us = rq->now_us;
    sr->user = user;
    /* kept statuses stay small: beyond 16 KiB only the counts (1024 of
     * them at most: 16 MiB) */
    if (strlen(text) <= STATUS_KEEP_MAX) {
        sr->json = strdup(text);
    } else {
        json_t *sum = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id", sid, "status", "complete",
                                "request_timestamp", ts, "total_count", (json_int_t)n, "success_count",
                                (json_int_t)nsucc, "failure_count", (json_int_t)nfail, "pending_count", (json_int_t)0);
        sr->json = sum ? json_dumps(sum, JSON_COMPACT) : NULL;
        json_decref(sum);
    }
    pthread_mutex_unlock(&s->mu);
    r->status = 202;
    return set_body(r, text);
}

int sw_taxii_handle(sw_taxii_server *s, const sw_taxii_request *rq, sw_taxii_response *r)
{
    memset(r, 0, sizeof *r);
    r->content_type = SW_TAXII_MEDIA;
    pthread_mutex_lock(&s->amu);
    s->stats.requests++;
    pthread_mutex_unlock(&s->amu);

    int u = authenticate(s, rq->authorization);
    if (u == -2)
        return error(r, 429, "too many authentication attempts");
    if (u < 0) {
        pthread_mutex_lock(&s->amu);
        s->stats.auth_failures++;
        pthread_mutex_unlock(&s->amu);
        r->www_authenticate = 1;
        return error(r, 401, rq->authorization ? "wrong credentials" : "credentials required");
    }
    const sw_taxii_user *us = &s->c.users[u];
    snprintf(r->who, sizeof r->who, "taxii:%s", us->name);
    if (!taxii_media(rq->accept, 1))
        return error(r, 406, "Accept must include " SW_TAXII_MEDIA);
    route rt;
    if (split(rq->target, &rt) != 0 || rt.n == 0 || strcmp(rt.seg[0], "taxii2") != 0)
        return error(r, 404, "no such resource");
    int get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
    if (rt.n == 1) { /* discovery (§4.1) */
        if (!get)
            return error(r, 405, "GET only");
        char url[400];
        if (host_ok(rq->host))
            snprintf(url, sizeof url, "https://%s/taxii2/%s/", rq->host, s->c.api_root);
        else
            snprintf(url, sizeof url, "/taxii2/%s/", s->c.api_root);
        return json_reply(r, 200,
                          json_pack("{s:s, s:s, s:s, s:[s]}", "title", "sipwall TAXII 2.1", "description",
                                    "sipwalld: fraud and security indicators (FSE v1 as STIX 2.1)", "default", url,
                                    "api_roots", url));
    }
    if (strcmp(rt.seg[1], s->c.api_root) != 0)
        return error(r, 404, "no such API root");
    if (rt.n == 2) { /* API root (§4.2) */
        if (!get)
            return error(r, 405, "GET only");
        return json_reply(r, 200,
                          json_pack("{s:s, s:[s], s:I}", "title", s->c.title, "versions", SW_TAXII_MEDIA,
                                    "max_content_length", (json_int_t)s->c.max_content_length));
    }
    if (strcmp(rt.seg[2], "status") == 0) { /* §4.3 */
        if (rt.n != 4)
            return error(r, 404, "no such resource");
        if (!get)
            return error(r, 405, "GET only");
        char *copy = NULL;
        int found = 0;
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < SW_TAXII_STATUS_MAX; i++)
            if (s->st[i].json && strcmp(s->st[i].id, rt.seg[3]) == 0 && s->st[i].user == u &&
                rq->now_us - s->st[i].at_us < (int64_t)SW_TAXII_STATUS_TTL_S * 1000000) {
                found = 1;
                copy = strdup(s->st[i].json);
            }
        pthread_mutex_unlock(&s->mu);
        if (!found)
            return error(r, 404, "no such status");
        r->status = 200;
        return set_body(r, copy);
    }
    if (strcmp(rt.seg[2], "collections") != 0)
        return error(r, 404, "no such resource");
    if (rt.n == 3) { /* §5.1 */
        if (!get)
            return error(r, 405, "GET only");
        json_t *arr = json_array();
        for (size_t i = 0; i < s->c.ncoll && arr; i++)
            if (((us->read | us->write) >> i) & 1)
                json_array_append_new(arr, collection_json(&s->c.coll[i], us, i));
        if (arr && json_array_size(arr) == 0) {
            json_decref(arr);
            return json_reply(r, 200, json_object());
        }
        return json_reply(r, 200, arr ? json_pack("{s:o}", "collections", arr) : NULL);
    }
    int ci = -1;
    for (size_t i = 0; i < s->c.ncoll; i++)
        if (strcmp(s->c.coll[i].id, rt.seg[3]) == 0)
            ci = (int)i;
    /* a collection the user may not see does not exist for them (§5.2) */
    if (ci < 0 || !(((us->read | us->write) >> ci) & 1))
        return error(r, 404, "no such collection");
    int can_read = (us->read >> ci) & 1, can_write = (us->write >> ci) & 1;
    if (rt.n == 4) {
        if (!get)
            return error(r, 405, "GET only");
        return json_reply(r, 200, collection_json(&s->c.coll[ci], us, (size_t)ci));
    }
    if (strcmp(rt.seg[4], "manifest") == 0 && rt.n == 5) {
        if (!get)
            return error(r, 405, "GET only");
        if (!can_read)
            return error(r, 403, "no read access to this collection");
        return page_reply(s, r, (size_t)ci, &rt, SW_TAXII_MANIFEST, NULL);
    }
    if (strcmp(rt.seg[4], "objects") != 0)
        return error(r, 404, "no such resource");
    if (rt.n == 5) {
        if (get) {
            if (!can_read)
                return error(r, 403, "no read access to this collection");
            return page_reply(s, r, (size_t)ci, &rt, SW_TAXII_OBJECTS, NULL);
        }
        if (post) {
            if (!can_write)
                return error(r, 403, "no write access to this collection");
            return post_objects(s, rq, r, (size_t)ci, u);
        }
        return error(r, 405, "GET or POST");
    }
    if (rt.n == 6 || (rt.n == 7 && strcmp(rt.seg[6], "versions") == 0)) {
        if (!get)
            return error(r, 405, "GET only (objects are not deleted through TAXII here)");
        if (!can_read)
            return error(r, 403, "no read access to this collection");
        return page_reply(s, r, (size_t)ci, &rt, rt.n == 6 ? SW_TAXII_OBJECTS : SW_TAXII_VERSIONS, rt.seg[5]);
    }
    return error(r, 404, "no such resource");
}
