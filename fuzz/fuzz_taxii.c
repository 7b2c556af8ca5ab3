/* fuzz_taxii — libFuzzer target for the TAXII 2.1 server side
 * (src/exchange/taxii_*.c): what partners send sipwalld's TAXII server.
 *
 * Byte 0 picks the entry point, the rest is the input:
 *   0  a query string (sw_taxii_query_parse)
 *   1  a timestamp (sw_taxii_parse_ts, then format and parse again)
 *   2  one STIX object into a small collection (sw_taxii_store_add), then
 *      one page of it
 *   3  a whole request to the handler (sw_taxii_handle): lines METHOD,
 *      TARGET, ACCEPT, CONTENT-TYPE, AUTHORIZATION ("" = a valid Basic
 *      credential, "-" = none), then the body; the server and its store
 *      live across inputs (an inbox of at most 32 objects)
 * Contracts beyond ASan/UBSan: a refused query or timestamp carries a
 * reason; an accepted query has limit 1..1000 and counts within
 * SW_TAXII_MATCH_MAX; a parsed timestamp formats and parses back to
 * itself; every response has a body that is one JSON object, a status
 * TAXII uses, an error message with the same http_status, both or none of
 * the X-TAXII-Date-Added headers (27 characters each); the inbox never
 * holds more than its ceiling. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/taxii.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define NOW 1796623200000000LL
#define PUB "3f0c5b8e-8a4d-4c1e-9b7a-2d6e1f0a9c31"
#define INBOX "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
#define INBOX_MAX 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sw_taxii_store *store;
static sw_taxii_server *srv;
static char basic[128];

static void conf_line(sw_taxii_conf *c, const char *a, const char *b, const char *c3, const char *d,
                      const char *e, const char *f, const char *g, size_t n)
{
    const char *w[7] = {a, b, c3, d, e, f, g};
    char err[300];
    FZ_CHECK(sw_taxii_conf_line(c, w, n, "", err, sizeof err) == SW_OK);
}

static void init(void)
{
    if (srv)
        return;
    char err[300], hash[crypto_pwhash_STRBYTES];
    FZ_CHECK(sodium_init() >= 0);
    FZ_CHECK(crypto_pwhash_str(hash, "fuzz-secret", 11, crypto_pwhash_OPSLIMIT_MIN,
                               crypto_pwhash_MEMLIMIT_MIN) == 0);
    sw_taxii_conf c;
    sw_taxii_conf_init(&c);
    conf_line(&c, "api-root", "api1", "max-content-length", "4096", NULL, NULL, NULL, 4);
    conf_line(&c, "collection", PUB, "publish", NULL, NULL, NULL, NULL, 3);
    conf_line(&c, "collection", INBOX, "writable", "max-objects", "32", NULL, NULL, 5);
    conf_line(&c, "user", "fz", "secret", hash, "read", PUB "," INBOX, NULL, 6);
    c.pending_write[0][0] = '\0';
    snprintf(c.pending_write[0], sizeof c.pending_write[0], "%s", INBOX);
    FZ_CHECK(sw_taxii_conf_finish(&c, NULL, err, sizeof err) == SW_OK);
    store = sw_taxii_store_open(NULL, err, sizeof err);
    FZ_CHECK(store);
    srv = sw_taxii_server_new(&c, store);
    FZ_CHECK(srv);
    static const char obj[] = "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--"
                              "00000000-0000-4000-8000-000000000001\",\"created\":\"2026-12-07T05:00:00.000Z\","
                              "\"modified\":\"2026-12-07T05:00:00.000Z\"}";
    FZ_CHECK(sw_taxii_server_add(srv, 0, obj, strlen(obj), NOW, err, sizeof err) == 1);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)"fz:fuzz-secret", 14, sodium_base64_VARIANT_ORIGINAL);
    snprintf(basic, sizeof basic, "Basic %s", b64);
}

static void check_query(const sw_taxii_query *q)
{
    FZ_CHECK(q->limit >= 1 && q->limit <= SW_TAXII_LIMIT_MAX);
    FZ_CHECK(q->nids <= SW_TAXII_MATCH_MAX && q->ntypes <= SW_TAXII_MATCH_MAX);
    FZ_CHECK(q->nversions <= SW_TAXII_MATCH_MAX && q->nspecs <= SW_TAXII_MATCH_MAX);
    for (size_t i = 0; i < q->nids; i++)
        FZ_CHECK(memchr(q->ids[i], '\0', SW_TAXII_ID_MAX));
    for (size_t i = 0; i < q->ntypes; i++)
        FZ_CHECK(memchr(q->types[i], '\0', SW_TAXII_NAME_MAX));
}

/* splits off the next line of [*p, end) into a NUL-terminated copy */
static char *line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

static void check_response(const sw_taxii_response *r)
{
    static const int ok[] = {200, 202, 400, 401, 403, 404, 405, 406, 413, 415, 422, 429, 500};
    int known = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        known |= r->status == ok[i];
    FZ_CHECK(known);
    FZ_CHECK(r->body && r->len == strlen(r->body));
    json_t *j = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
    FZ_CHECK(json_is_object(j));
    if (r->status >= 400) {
        char code[8];
        snprintf(code, sizeof code, "%d", r->status);
        const char *hs = json_string_value(json_object_get(j, "http_status"));
        FZ_CHECK(hs && strcmp(hs, code) == 0);
    }
    json_decref(j);
    FZ_CHECK((r->date_first[0] == '\0') == (r->date_last[0] == '\0'));
    FZ_CHECK(!r->date_first[0] || (strlen(r->date_first) == 27 && strlen(r->date_last) == 27));
    FZ_CHECK(!r->www_authenticate || r->status == 401);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    init();
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char err[300];
    err[0] = '\0';
    switch (data[0] % 4) {
    case 0: {
        sw_taxii_query q;
        int rc = sw_taxii_query_parse(in, n, &q, err, sizeof err);
        FZ_CHECK(rc == SW_OK || rc == SW_EINVAL);
        if (rc == SW_OK)
            check_query(&q);
        else
            FZ_CHECK(err[0] != '\0');
        break;
    }
    case 1: {
        int64_t us, back;
        char ts[SW_TAXII_TS_LEN];
        if (sw_taxii_parse_ts(in, n, &us) == SW_OK) {
            FZ_CHECK(us >= 0);
            FZ_CHECK(sw_taxii_format_ts(us, ts) == SW_OK);
            FZ_CHECK(sw_taxii_parse_ts(ts, strlen(ts), &back) == SW_OK && back == us);
        }
        break;
    }
    case 2: {
        char *o = malloc(n + 1);
        if (!o)
            return 0;
        memcpy(o, in, n);
        o[n] = '\0';
        int rc = sw_taxii_store_add(store, INBOX, o, n, NOW, INBOX_MAX, 1, NULL, err, sizeof err);
        free(o);
        FZ_CHECK(rc == 0 || rc == 1 || rc == SW_EINVAL);
        FZ_CHECK(sw_taxii_store_count(store, INBOX) <= INBOX_MAX);
        sw_taxii_query q;
        FZ_CHECK(sw_taxii_query_parse("match[version]=all&limit=3", 26, &q, err, sizeof err) == SW_OK);
        sw_taxii_page pg;
        FZ_CHECK(sw_taxii_store_page(store, INBOX, &q, SW_TAXII_MANIFEST, NULL, &pg) == SW_OK);
        json_t *j = json_loadb(pg.body, pg.len, 0, NULL);
        FZ_CHECK(json_is_object(j) && pg.count <= 3);
        json_decref(j);
        free(pg.body);
        break;
    }
    default: {
        const char *p = in, *end = in + n;
        char *method = line(&p, end), *target = line(&p, end), *accept = line(&p, end);
        char *ctype = line(&p, end), *auth = line(&p, end);
        sw_taxii_request rq = {.method = method, .target = target, .accept = accept, .content_type = ctype,
                               .authorization = !auth[0] ? basic : strcmp(auth, "-") == 0 ? NULL : auth,
                               .host = "127.0.0.1:8443", .body = p, .body_len = (size_t)(end - p), .now_us = NOW};
        sw_taxii_response r;
        FZ_CHECK(sw_taxii_handle(srv, &rq, &r) == SW_OK || r.status == 500);
        check_response(&r);
        free(r.body);
        FZ_CHECK(sw_taxii_store_count(store, INBOX) <= INBOX_MAX);
        free(method);
        free(target);
        free(accept);
        free(ctype);
        free(auth);
        break;
    }
    }
    return 0;
}
