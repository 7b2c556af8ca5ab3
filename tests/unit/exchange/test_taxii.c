/* TAXII 2.1 server side (src/exchange/taxii_*.c): microsecond timestamps,
 * query parsing, the store's paging (never skips, even when every object
 * arrives within one microsecond; next cursor; limit bounds), match[]
 * filters, and the request handler's statuses, rights and headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "sipwall/taxii.h"

#define NOW 1796623200000000LL /* 2026-12-07T06:00:00Z in us */
#define COLL "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
#define INBOX "1d7d2a47-5b1c-4a3e-9f0e-6c1b2d3e4f50"
#define OTHER "2e8e3b58-6c2d-4b4f-8a1f-7d2c3e4f5a61"

static void ts(void **st)
{
    (void)st;
    char b[SW_TAXII_TS_LEN];
    int64_t us;
    assert_int_equal(sw_taxii_format_ts(NOW + 123456, b), SW_OK);
    assert_string_equal(b, "2026-12-07T06:00:00.123456Z");
    assert_int_equal(sw_taxii_parse_ts(b, strlen(b), &us), SW_OK);
    assert_int_equal(us, NOW + 123456);
    assert_int_equal(sw_taxii_parse_ts("2026-12-07T06:00:00Z", 20, &us), SW_OK);
    assert_int_equal(us, NOW);
    assert_int_equal(sw_taxii_parse_ts("2026-12-07T06:00:00.5Z", 22, &us), SW_OK);
    assert_int_equal(us, NOW + 500000);
    assert_int_equal(sw_taxii_parse_ts("2025-02-29T00:00:00Z", 20, &us), SW_EINVAL);
    assert_int_equal(sw_taxii_parse_ts("2026-12-07 06:00:00Z", 20, &us), SW_EINVAL);
    assert_int_equal(sw_taxii_parse_ts("2026-12-07T06:00:00.Z", 21, &us), SW_EINVAL);
    assert_int_equal(sw_taxii_parse_ts("2026-12-07T06:00:00+01:00", 25, &us), SW_EINVAL);
    assert_int_equal(sw_taxii_format_ts(-1, b), SW_ERANGE);
}

static void query(void **st)
{
    (void)st;
    sw_taxii_query q;
    char err[200];
    const char *s = "limit=5&added_after=2026-12-07T06:00:00.000001Z&match%5Btype%5D=indicator,sighting"
                    "&match[version]=first,2026-12-07T06:00:00Z&match[spec_version]=2.1&foo=bar";
    assert_int_equal(sw_taxii_query_parse(s, strlen(s), &q, err, sizeof err), SW_OK);
    assert_int_equal(q.limit, 5);
    assert_int_equal(q.added_after_us, NOW + 1);
    assert_int_equal(q.ntypes, 2);
    assert_string_equal(q.types[1], "sighting");
    assert_true(q.v_first);
    assert_false(q.v_last);
    assert_int_equal(q.nversions, 1);
    assert_int_equal(q.nspecs, 1);
    assert_int_equal(sw_taxii_query_parse("", 0, &q, err, sizeof err), SW_OK);
    assert_int_equal(q.limit, SW_TAXII_LIMIT_DEFAULT);
    assert_int_equal(q.added_after_us, -1);
    assert_int_equal(sw_taxii_query_parse("limit=100000", 12, &q, err, sizeof err), SW_OK);
    assert_int_equal(q.limit, SW_TAXII_LIMIT_MAX);
    static const char *const bad[] = {
        "limit=0", "limit=-1", "limit=x", "limit=1&limit=2", "added_after=yesterday", "next=abc",
        "match[id]=nope", "match[id]=indicator--1234", "match[type]=Bad!", "match[version]=latest",
        "match[spec_version]=3.0", "match[type]=a,,b", "limit", "match[type]=%zz", "match[type]=%00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(sw_taxii_query_parse(bad[i], strlen(bad[i]), &q, err, sizeof err), SW_EINVAL);
        assert_true(err[0] != '\0');
    }
}

static char *obj(const char *type, int n, const char *modified)
{
    char *b = malloc(512);
    snprintf(b, 512,
             "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s--00000000-0000-4000-8000-%012d\","
             "\"created\":\"2026-12-07T05:00:00.000Z\",\"modified\":\"%s\"}",
             type, type, n, modified);
    return b;
}

static int add(sw_taxii_store *s, const char *coll, const char *type, int n, const char *mod, int64_t now)
{
    char *o = obj(type, n, mod), err[200];
    int rc = sw_taxii_store_add(s, coll, o, strlen(o), now, 1000, 0, NULL, err, sizeof err);
    free(o);
    return rc;
}

static json_t *page(sw_taxii_store *s, const char *qs, sw_taxii_view v, const char *only, sw_taxii_page *pg)
{
    sw_taxii_query q;
    char err[200];
    assert_int_equal(sw_taxii_query_parse(qs, strlen(qs), &q, err, sizeof err), SW_OK);
    assert_int_equal(sw_taxii_store_page(s, COLL, &q, v, only, pg), SW_OK);
    json_t *j = json_loads(pg->body, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Twenty objects added "at the same instant": each still gets its own
 * date_added, and paging by next and by added_after both return every one
 * exactly once. */
static void paging_never_skips(void **st)
{
    (void)st;
    char err[200];
    sw_taxii_store *s = sw_taxii_store_open(NULL, err, sizeof err);
    assert_non_null(s);
    for (int i = 0; i < 20; i++)
        assert_int_equal(add(s, COLL, "indicator", i, "2026-12-07T05:00:00.000Z", NOW), 1);
    /* the same object again: not an error, nothing new */
    assert_int_equal(add(s, COLL, "indicator", 3, "2026-12-07T05:00:00.000Z", NOW), 0);
    assert_int_equal(sw_taxii_store_count(s, COLL), 20);

    int seen[20] = {0};
    char qs[128] = "limit=3";
    int pages = 0;
    int64_t prev_last = -1;
    for (;;) {
        sw_taxii_page pg;
        json_t *j = page(s, qs, SW_TAXII_OBJECTS, NULL, &pg);
        json_t *objs = json_object_get(j, "objects");
        assert_true(pg.count <= 3);
        assert_true(pg.first_us > prev_last);
        prev_last = pg.last_us;
        for (size_t i = 0; i < json_array_size(objs); i++) {
            const char *id = json_string_value(json_object_get(json_array_get(objs, i), "id"));
            int n = atoi(id + strlen(id) - 12);
            seen[n]++;
        }
        pages++;
        int more = json_is_true(json_object_get(j, "more"));
        assert_int_equal(more, pg.more);
        if (!more) {
            assert_null(json_object_get(j, "next"));
            json_decref(j);
            free(pg.body);
            break;
        }
        snprintf(qs, sizeof qs, "limit=3&next=%s", json_string_value(json_object_get(j, "next")));
        json_decref(j);
        free(pg.body);
    }
    assert_int_equal(pages, 7);
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[i], 1);

    /* by added_after = the last page's X-TAXII-Date-Added-Last */
    memset(seen, 0, sizeof seen);
    snprintf(qs, sizeof qs, "limit=4");
    for (int guard = 0; guard < 10; guard++) {
        sw_taxii_page pg;
        json_t *j = page(s, qs, SW_TAXII_OBJECTS, NULL, &pg);
        json_t *objs = json_object_get(j, "objects");
        for (size_t i = 0; i < json_array_size(objs); i++) {
            const char *id = json_string_value(json_object_get(json_array_get(objs, i), "id"));
            seen[atoi(id + strlen(id) - 12)]++;
        }
        char last[SW_TAXII_TS_LEN];
        size_t cnt = pg.count;
        if (cnt)
            assert_int_equal(sw_taxii_format_ts(pg.last_us, last), SW_OK);
        json_decref(j);
        free(pg.body);
        if (!cnt)
            break;
        snprintf(qs, sizeof qs, "limit=4&added_after=%s", last);
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[i], 1);

    /* nothing after the end: the empty envelope */
    sw_taxii_page pg;
    json_t *j = page(s, "added_after=2030-01-01T00:00:00Z", SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(json_object_size(j), 0);
    assert_int_equal(pg.first_us, -1);
    json_decref(j);
    free(pg.body);
    sw_taxii_store_close(s);
}

static void match_filters(void **st)
{
    (void)st;
    char err[200];
    sw_taxii_store *s = sw_taxii_store_open(NULL, err, sizeof err);
    assert_non_null(s);
    /* indicator 1 in three versions, sighting 2, identity 3 */
    assert_int_equal(add(s, COLL, "indicator", 1, "2026-12-07T05:00:00.000Z", NOW), 1);
    assert_int_equal(add(s, COLL, "indicator", 1, "2026-12-07T05:10:00.000Z", NOW), 1);
    assert_int_equal(add(s, COLL, "indicator", 1, "2026-12-07T05:20:00.000Z", NOW), 1);
    assert_int_equal(add(s, COLL, "sighting", 2, "2026-12-07T05:00:00.000Z", NOW), 1);
    assert_int_equal(add(s, COLL, "identity", 3, "2026-12-07T05:00:00.000Z", NOW), 1);
    /* another collection is not seen */
    assert_int_equal(add(s, OTHER, "indicator", 9, "2026-12-07T05:00:00.000Z", NOW), 1);
    sw_taxii_page pg;
    json_t *j = page(s, "", SW_TAXII_OBJECTS, NULL, &pg); /* default: last versions */
    assert_int_equal(pg.count, 3);
    json_decref(j);
    free(pg.body);
    j = page(s, "match[version]=all", SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(pg.count, 5);
    json_decref(j);
    free(pg.body);
    j = page(s, "match[version]=first&match[type]=indicator", SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(pg.count, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "objects"), 0),
                                                          "modified")),
                        "2026-12-07T05:00:00.000Z");
    json_decref(j);
    free(pg.body);
    j = page(s, "match[version]=first,last&match[type]=indicator", SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(pg.count, 2);
    json_decref(j);
    free(pg.body);
    j = page(s, "match[version]=2026-12-07T05:10:00Z", SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(pg.count, 1);
    json_decref(j);
    free(pg.body);
    j = page(s, "match[id]=sighting--00000000-0000-4000-8000-000000000002,identity--00000000-0000-4000-8000-000000000003",
             SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(pg.count, 2);
    json_decref(j);
    free(pg.body);
    j = page(s, "match[type]=indicator,identity&match[spec_version]=2.1", SW_TAXII_MANIFEST, NULL, &pg);
    assert_int_equal(pg.count, 2);
    json_t *m = json_array_get(json_object_get(j, "objects"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "version")), "2026-12-07T05:20:00.000Z");
    assert_string_equal(json_string_value(json_object_get(m, "media_type")), SW_TAXII_STIX_MEDIA);
    assert_int_equal(strlen(json_string_value(json_object_get(m, "date_added"))), SW_TAXII_TS_LEN - 1);
    json_decref(j);
    free(pg.body);
    j = page(s, "match[spec_version]=2.0", SW_TAXII_OBJECTS, NULL, &pg);
    assert_int_equal(pg.count, 0);
    json_decref(j);
    free(pg.body);
    j = page(s, "", SW_TAXII_VERSIONS, "indicator--00000000-0000-4000-8000-000000000001", &pg);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 3);
    json_decref(j);
    free(pg.body);
    sw_taxii_store_close(s);
}

static void ceiling(void **st)
{
    (void)st;
    char err[200];
    sw_taxii_store *s = sw_taxii_store_open(NULL, err, sizeof err);
    assert_non_null(s);
    for (int i = 0; i < 5; i++) {
        char *o = obj("indicator", i, "2026-12-07T05:00:00.000Z");
        assert_int_equal(sw_taxii_store_add(s, COLL, o, strlen(o), NOW, 3, 1, NULL, err, sizeof err), 1);
        free(o);
    }
    assert_int_equal(sw_taxii_store_count(s, COLL), 3);
    /* the kept count is the truth: the oldest two went */
    sw_taxii_query q;
    sw_taxii_page pg;
    assert_int_equal(sw_taxii_query_parse("match[version]=all&limit=1000", 29, &q, err, sizeof err), SW_OK);
    assert_int_equal(sw_taxii_store_page(s, COLL, &q, SW_TAXII_MANIFEST, NULL, &pg), SW_OK);
    assert_int_equal(pg.count, 3);
    assert_null(strstr(pg.body, "000000000000\""));
    assert_null(strstr(pg.body, "000000000001\""));
    assert_non_null(strstr(pg.body, "000000000004\""));
    free(pg.body);
    /* the kv records have a ceiling too: the least recently put go */
    for (int i = 0; i < 10; i++) {
        char k[32], v[8];
        snprintf(k, sizeof k, "fse:%d", i);
        snprintf(v, sizeof v, "v%d", i);
        assert_int_equal(sw_taxii_store_kv_put(s, k, v, strlen(v)), SW_OK);
    }
    assert_int_equal(sw_taxii_store_kv_put(s, "fse:0", "again", 5), SW_OK); /* fse:0 is now the newest */
    assert_int_equal(sw_taxii_store_kv_put(s, "publish.cursor", "7", 1), SW_OK);
    assert_int_equal(sw_taxii_store_kv_trim(s, "fse:", 4), 6);
    char v[16];
    assert_int_equal(sw_taxii_store_kv_get(s, "fse:0", v, sizeof v), SW_OK);
    assert_string_equal(v, "again");
    assert_int_equal(sw_taxii_store_kv_get(s, "fse:1", v, sizeof v), SW_ENOTFOUND);
    assert_int_equal(sw_taxii_store_kv_get(s, "fse:9", v, sizeof v), SW_OK);
    assert_int_equal(sw_taxii_store_kv_get(s, "publish.cursor", v, sizeof v), SW_OK);
    assert_int_equal(sw_taxii_store_kv_trim(s, "fse:", 4), 0);
    assert_int_equal(sw_taxii_store_kv_trim(s, "fse%", 4), SW_EUSAGE);
    char *o = obj("indicator", 7, "2026-12-07T05:00:00.000Z");
    assert_int_equal(sw_taxii_store_add(s, COLL, o, strlen(o), NOW, 3, 0, NULL, err, sizeof err), SW_ELIMIT);
    free(o);
    static const char *const bad[] = {
        "[]", "{\"type\":\"indicator\"}", "{\"type\":\"indicator\",\"id\":\"sighting--00000000-0000-4000-8000-000000000001\"}",
        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000001\",\"spec_version\":\"2.0\"}",
        "{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-000000000001\",\"modified\":\"now\"}",
        "{\"type\":\"indicator\",\"type\":\"indicator\"}", "{",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sw_taxii_store_add(s, INBOX, bad[i], strlen(bad[i]), NOW, 3, 0, NULL, err, sizeof err),
                         SW_EINVAL);
    sw_taxii_store_close(s);
}

/* ---- the handler ------------------------------------------------------------------------- */

static char hash_a[crypto_pwhash_STRBYTES], hash_b[crypto_pwhash_STRBYTES];

static int setup(void **st)
{
    (void)st;
    if (sodium_init() < 0)
        return -1;
    if (crypto_pwhash_str(hash_a, "secret-a", 8, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0 ||
        crypto_pwhash_str(hash_b, "secret-b", 8, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) != 0)
        return -1;
    return 0;
}

static int conf_line(sw_taxii_conf *c, const char *line, char *err, size_t errlen)
{
    char buf[1024], *w[32], *save = NULL;
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *t = strtok_r(buf, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    return sw_taxii_conf_line(c, (const char *const *)w, n, "", err, errlen);
}

static sw_taxii_server *mk_server(sw_taxii_store **store)
{
    sw_taxii_conf c;
    char err[300], line[600];
    sw_taxii_conf_init(&c);
    assert_int_equal(conf_line(&c, "api-root api1 max-content-length 2048", err, sizeof err), SW_OK);
    assert_int_equal(conf_line(&c, "collection " COLL " alias indicators publish", err, sizeof err), SW_OK);
    assert_int_equal(conf_line(&c, "collection " INBOX " alias inbox writable max-objects 4", err, sizeof err), SW_OK);
    assert_int_equal(conf_line(&c, "collection " OTHER " alias other", err, sizeof err), SW_OK);
    snprintf(line, sizeof line, "user alice secret %s read indicators,inbox write inbox", hash_a);
    assert_int_equal(conf_line(&c, line, err, sizeof err), SW_OK);
    snprintf(line, sizeof line, "user bob secret %s read indicators", hash_b);
    assert_int_equal(conf_line(&c, line, err, sizeof err), SW_OK);
    assert_int_equal(sw_taxii_conf_finish(&c, NULL, err, sizeof err), SW_OK);
    *store = sw_taxii_store_open(NULL, err, sizeof err);
    assert_non_null(*store);
    sw_taxii_server *s = sw_taxii_server_new(&c, *store);
    assert_non_null(s);
    return s;
}

static char basic_a[96], basic_b[96];

static void mk_basic(char *out, const char *up)
{
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)up, strlen(up), sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, 96, "Basic %s", b64);
}

static int req(sw_taxii_server *s, const char *method, const char *target, const char *auth, const char *body,
               sw_taxii_response *r)
{
    sw_taxii_request q = {.method = method, .target = target, .accept = SW_TAXII_MEDIA,
                          .content_type = body ? SW_TAXII_MEDIA : NULL, .authorization = auth,
                          .host = "127.232.0.1:8443", .body = body, .body_len = body ? strlen(body) : 0,
                          .now_us = NOW};
    assert_int_equal(sw_taxii_handle(s, &q, r), SW_OK);
    assert_non_null(r->body);
    /* every reply is JSON, every error a TAXII error message */
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    if (r->status >= 400) {
        char code[8];
        snprintf(code, sizeof code, "%d", r->status);
        assert_string_equal(json_string_value(json_object_get(j, "http_status")), code);
        assert_non_null(json_object_get(j, "title"));
    }
    json_decref(j);
    return r->status;
}

#define ROOT "/taxii2/api1/"
#define OBJS(c) ROOT "collections/" c "/objects/"

static void handler(void **st)
{
    (void)st;
    sw_taxii_store *store;
    sw_taxii_server *s = mk_server(&store);
    mk_basic(basic_a, "alice:secret-a");
    mk_basic(basic_b, "bob:secret-b");
    sw_taxii_response r;
    char err[200];

    /* credentials */
    assert_int_equal(req(s, "GET", "/taxii2/", NULL, NULL, &r), 401);
    assert_true(r.www_authenticate);
    free(r.body);
    char wrong[96];
    mk_basic(wrong, "alice:secret-b");
    assert_int_equal(req(s, "GET", "/taxii2/", wrong, NULL, &r), 401);
    free(r.body);
    assert_int_equal(req(s, "GET", "/taxii2/", basic_a, NULL, &r), 200);
    assert_string_equal(r.who, "taxii:alice");
    assert_non_null(strstr(r.body, "\"https://127.232.0.1:8443/taxii2/api1/\""));
    free(r.body);
    assert_int_equal(req(s, "GET", "/taxii2/", "Bearer secret-b", NULL, &r), 200);
    assert_string_equal(r.who, "taxii:bob");
    free(r.body);

    /* Accept */
    sw_taxii_request q = {.method = "GET", .target = ROOT, .accept = "application/json",
                          .authorization = basic_a, .now_us = NOW};
    assert_int_equal(sw_taxii_handle(s, &q, &r), SW_OK);
    assert_int_equal(r.status, 406);
    free(r.body);
    q.accept = "text/html, application/taxii+json; version=2.1";
    assert_int_equal(sw_taxii_handle(s, &q, &r), SW_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"max_content_length\":2048"));
    free(r.body);

    /* paths */
    assert_int_equal(req(s, "GET", "/taxii2/api2/", basic_a, NULL, &r), 404);
    free(r.body);
    assert_int_equal(req(s, "GET", "/taxii2/api1", basic_a, NULL, &r), 404);
    free(r.body);
    assert_int_equal(req(s, "DELETE", ROOT, basic_a, NULL, &r), 405);
    free(r.body);

    /* collections: each user sees only theirs */
    assert_int_equal(req(s, "GET", ROOT "collections/", basic_b, NULL, &r), 200);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "collections")), 1);
    json_decref(j);
    free(r.body);
    assert_int_equal(req(s, "GET", ROOT "collections/" OTHER "/", basic_a, NULL, &r), 404);
    free(r.body);
    assert_int_equal(req(s, "GET", OBJS(INBOX), basic_b, NULL, &r), 404);
    free(r.body);

    /* the producer's objects, read with headers */
    for (int i = 0; i < 3; i++) {
        char *o = obj("indicator", i, "2026-12-07T05:00:00.000Z");
        assert_int_equal(sw_taxii_server_add(s, 0, o, strlen(o), NOW, err, sizeof err), 1);
        free(o);
    }
    assert_int_equal(req(s, "GET", OBJS(COLL) "?limit=2", basic_b, NULL, &r), 200);
    assert_string_equal(r.date_first, "2026-12-07T06:00:00.000000Z");
    assert_string_equal(r.date_last, "2026-12-07T06:00:00.000001Z");
    assert_non_null(strstr(r.body, "\"more\":true"));
    free(r.body);
    assert_int_equal(req(s, "GET", OBJS(COLL) "?limit=0", basic_b, NULL, &r), 400);
    free(r.body);
    assert_int_equal(req(s, "GET", OBJS(COLL) "indicator--00000000-0000-4000-8000-000000000001/", basic_b, NULL, &r),
                     200);
    free(r.body);
    assert_int_equal(req(s, "GET", OBJS(COLL) "indicator--00000000-0000-4000-8000-000000000009/", basic_b, NULL, &r),
                     404);
    free(r.body);
    assert_int_equal(req(s, "GET", ROOT "collections/" COLL "/manifest/", basic_b, NULL, &r), 200);
    free(r.body);

    /* rights: bob may not write, nobody may write the producer's collection */
    const char *env = "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                      "\"id\":\"indicator--00000000-0000-4000-8000-000000000042\","
                      "\"created\":\"2026-12-07T05:00:00.000Z\",\"modified\":\"2026-12-07T05:00:00.000Z\"},"
                      "{\"type\":\"indicator\",\"id\":\"bad\"}]}";
    assert_int_equal(req(s, "POST", OBJS(COLL), basic_a, env, &r), 403);
    free(r.body);
    assert_int_equal(req(s, "POST", OBJS(INBOX), basic_b, env, &r), 404);
    free(r.body);
    assert_int_equal(req(s, "POST", OBJS(INBOX), basic_a, env, &r), 202);
    j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "success_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "failure_count")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "complete");
    char path[200];
    snprintf(path, sizeof path, ROOT "status/%s/", json_string_value(json_object_get(j, "id")));
    json_decref(j);
    free(r.body);
    assert_int_equal(req(s, "GET", path, basic_a, NULL, &r), 200);
    free(r.body);
    assert_int_equal(req(s, "GET", path, basic_b, NULL, &r), 404); /* someone else's status */
    free(r.body);
    /* re-posting is not an error */
    assert_int_equal(req(s, "POST", OBJS(INBOX), basic_a, env, &r), 202);
    assert_non_null(strstr(r.body, "\"success_count\":1"));
    free(r.body);
    /* media type, size, shape */
    q = (sw_taxii_request){.method = "POST", .target = OBJS(INBOX), .accept = SW_TAXII_MEDIA,
                           .content_type = "application/json", .authorization = basic_a, .body = env,
                           .body_len = strlen(env), .now_us = NOW};
    assert_int_equal(sw_taxii_handle(s, &q, &r), SW_OK);
    assert_int_equal(r.status, 415);
    free(r.body);
    char *big = malloc(4096);
    memset(big, ' ', 4095);
    big[0] = '{';
    big[4094] = '}';
    big[4095] = '\0';
    assert_int_equal(req(s, "POST", OBJS(INBOX), basic_a, big, &r), 413);
    free(r.body);
    free(big);
    assert_int_equal(req(s, "POST", OBJS(INBOX), basic_a, "{\"objects\":5}", &r), 422);
    free(r.body);
    assert_int_equal(req(s, "POST", OBJS(INBOX), basic_a, "not json", &r), 422);
    free(r.body);

    sw_taxii_stats stt;
    sw_taxii_server_stats(s, &stt);
    assert_true(stt.auth_failures >= 2);
    assert_int_equal(stt.posted_objects, 2);
    sw_taxii_server_free(s);
    sw_taxii_store_close(store);
}

static void conf_errors(void **st)
{
    (void)st;
    sw_taxii_conf c;
    char err[300];
    sw_taxii_conf_init(&c);
    assert_int_equal(conf_line(&c, "collection NOT-A-UUID", err, sizeof err), SW_EINVAL);
    assert_int_equal(conf_line(&c, "user eve", err, sizeof err), SW_EINVAL);
    assert_non_null(strstr(err, "no default credentials"));
    assert_int_equal(conf_line(&c, "user eve secret password", err, sizeof err), SW_EINVAL);
    assert_int_equal(conf_line(&c, "api-root taxii2", err, sizeof err), SW_EINVAL);
    assert_int_equal(conf_line(&c, "bogus", err, sizeof err), SW_EINVAL);
    assert_int_equal(sw_taxii_conf_finish(&c, NULL, err, sizeof err), SW_EINVAL);
    assert_int_equal(conf_line(&c, "collection " COLL, err, sizeof err), SW_OK);
    char line[400];
    snprintf(line, sizeof line, "user eve secret %s write " COLL, hash_a);
    assert_int_equal(conf_line(&c, line, err, sizeof err), SW_OK);
    c.user_line[0] = 7;
    int bad_line = 0;
    assert_int_equal(sw_taxii_conf_finish(&c, &bad_line, err, sizeof err), SW_EINVAL); /* not writable */
    assert_int_equal(bad_line, 7);
    assert_non_null(strstr(err, "not writable"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ts),      cmocka_unit_test(query),   cmocka_unit_test(paging_never_skips),
        cmocka_unit_test(match_filters), cmocka_unit_test(ceiling), cmocka_unit_test(handler),
        cmocka_unit_test(conf_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
