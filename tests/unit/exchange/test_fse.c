/* The FSE v1 object: UUIDv5 ids (RFC 9562 vector), timestamps, the codec
 * (canonical encoding equals the JCS of the schema example, strict decoding
 * with named errors), signing, verification under the producer's keys, and
 * batch verification: a tampered, unsigned, unknown-producer or malformed
 * object is quarantined (kept, counted) while the rest is accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"
#include "sipwall/exchange.h"

#define GOLD SW_TEST_DATA "/exchange/golden"

static void test_uuid5(void **state)
{
    (void)state;
    char out[SW_FSE_UUID_LEN];
    /* RFC 9562 Appendix A.4: DNS namespace, "www.example.com" */
    assert_int_equal(sw_uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com", 15, out),
                     SW_OK);
    assert_string_equal(out, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    /* STIX 2.1 §2.9 SCO id vector */
    assert_int_equal(sw_uuid5("00abedb4-aa42-466c-9c01-fed23315a9b7",
                              "{\"value\":\"198.51.100.3\"}", 24, out),
                     SW_OK);
    assert_string_equal(out, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    assert_int_equal(sw_uuid5("not-a-uuid", "x", 1, out), SW_EINVAL);
    char a[SW_FSE_UUID_LEN], b[SW_FSE_UUID_LEN], c[SW_FSE_UUID_LEN];
    assert_int_equal(sw_fse_make_id("ZZ01", SW_FSE_KIND_IPV4, "192.0.2.1", "sip_scan", a), SW_OK);
    assert_int_equal(sw_fse_make_id("ZZ01", SW_FSE_KIND_IPV4, "192.0.2.1", "sip_scan", b), SW_OK);
    assert_string_equal(a, b); /* deterministic: dedup */
    assert_int_equal(sw_fse_make_id("ZZ02", SW_FSE_KIND_IPV4, "192.0.2.1", "sip_scan", c), SW_OK);
    assert_string_not_equal(a, c); /* per producer */
}

static void test_ts(void **state)
{
    (void)state;
    int64_t ms;
    char buf[SW_FSE_TS_LEN];
    assert_int_equal(sw_fse_parse_ts("2026-12-07T06:00:00.123Z", 24, &ms), SW_OK);
    assert_int_equal(ms, 1796623200123LL);
    assert_int_equal(sw_fse_format_ts(ms, buf), SW_OK);
    assert_string_equal(buf, "2026-12-07T06:00:00.123Z");
    assert_int_equal(sw_fse_parse_ts("2024-02-29T00:00:00.000Z", 24, &ms), SW_OK);
    static const char *const bad[] = {"2026-12-07T06:00:00Z", "2026-12-07T06:00:00.123+00:00",
                                      "2025-02-29T00:00:00.000Z", "2026-13-01T00:00:00.000Z",
                                      "2026-12-07t06:00:00.123Z", "1969-12-31T23:59:59.999Z",
                                      "2026-12-07T24:00:00.000Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sw_fse_parse_ts(bad[i], strlen(bad[i]), &ms), SW_EINVAL);
}

static void load_example(sw_fse *o)
{
    size_t len;
    char *t = xread(GOLD "/fse.json", &len), err[256];
    assert_non_null(t);
    if (sw_fse_decode(t, len, o, err, sizeof err) != SW_OK)
        fail_msg("decode: %s", err);
    free(t);
}

static void test_codec(void **state)
{
    (void)state;
    sw_fse o;
    load_example(&o);
    assert_string_equal(o.org, "ZZ01");
    assert_int_equal(o.kind, SW_FSE_KIND_E164);
    assert_int_equal(o.count, 412);
    assert_int_equal(o.ctx_distinct_callees, 377);
    size_t len, gl;
    char *enc = sw_fse_encode(&o, 0, &len), *gold = xread(GOLD "/fse.jcs", &gl);
    assert_non_null(enc);
    assert_non_null(gold);
    assert_int_equal(len, gl);
    assert_memory_equal(enc, gold, gl); /* our encoding is the canonical form */
    free(enc);
    free(gold);
}

static void test_decode_refusals(void **state)
{
    (void)state;
    size_t len;
    char *t = xread(GOLD "/fse.jcs", &len), err[256], buf[4096];
    assert_non_null(t);
    static const struct {
        const char *from, *to, *why;
    } muts[] = {
        {"\"count\":412", "\"count\":0", "count"},
        {"\"count\":412", "\"count\":1000000000", "count"},
        {"\"count\":412", "\"count\":412.5", "count"},
        {"\"confidence\":80", "\"confidence\":101", "confidence"},
        {"\"tlp\":\"AMBER\"", "\"tlp\":\"amber\"", "tlp"},
        {"\"spec\":\"fse/1\"", "\"spec\":\"fse/2\"", "spec"},
        {"\"kind\":\"e164\"", "\"kind\":\"imsi\"", "indicator.kind"},
        {"\"+88213012345\"", "\"88213012345\"", "indicator.value"},
        {"\"kind\":\"e164\"", "\"kind\":\"e164\",\"key_id\":\"k1\"", "key_id"},
        {"\"first_seen\":\"2026-12-07T05:00:00.000Z\"",
         "\"first_seen\":\"2026-12-07T07:00:00.000Z\"", "first_seen"},
        {"\"modified\":\"2026-12-07T06:00:00.000Z\"", "\"modified\":\"2026-12-07T06:00:00Z\"",
         "modified"},
        {"\"action\":\"block\"", "\"action\":\"block\",\"raw_sip\":\"INVITE\"", "unknown member"},
        {"\"action\":\"block\"", "\"action\":\"block\",\"action\":\"block\"", "duplicate"},
        {"\"transport\":\"udp\"", "\"transport\":\"udp\",\"note\":\"x\"", "context.note"},
        {"\"event_type\":\"wangiri_cli\"", "\"event_type\":\"privacy_leak\"", "event_type"},
        {"\"revoked\"", "", ""}, /* placeholder, skipped */
    };
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        char *at = strstr(t, muts[i].from);
        if (!at)
            continue;
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - t), t, muts[i].to,
                 at + strlen(muts[i].from));
        sw_fse o;
        err[0] = '\0';
        int rc = sw_fse_decode(buf, strlen(buf), &o, err, sizeof err);
        if (rc != SW_EINVAL || !strstr(err, muts[i].why))
            fail_msg("mutation %zu: rc %d err '%s' (want '%s')", i, rc, err, muts[i].why);
    }
    /* revoked must be a boolean; true round-trips */
    snprintf(buf, sizeof buf, "%.*s,\"revoked\":1}", (int)len - 1, t);
    sw_fse o;
    assert_int_equal(sw_fse_decode(buf, strlen(buf), &o, err, sizeof err), SW_EINVAL);
    snprintf(buf, sizeof buf, "%.*s,\"revoked\":true}", (int)len - 1, t);
    assert_int_equal(sw_fse_decode(buf, strlen(buf), &o, err, sizeof err), SW_OK);
    assert_int_equal(o.revoked, 1);
    /* too large */
    char *big = calloc(1, SW_FSE_JSON_MAX + 2);
    memset(big, ' ', SW_FSE_JSON_MAX + 1);
    assert_int_equal(sw_fse_decode(big, SW_FSE_JSON_MAX + 1, &o, err, sizeof err), SW_ELIMIT);
    free(big);
    free(t);
}

/* ---- signing, verification, quarantine ---- */

typedef struct acc {
    int n;
    char ids[8][SW_FSE_UUID_LEN];
} acc;

static int on_accept(void *arg, const sw_fse *o)
{
    acc *a = arg;
    if (a->n < 8)
        snprintf(a->ids[a->n], SW_FSE_UUID_LEN, "%s", o->id);
    a->n++;
    return 0;
}

static char *signed_text(sw_fse *o, const sw_jws_key *k, const char *value)
{
    snprintf(o->value, sizeof o->value, "%s", value);
    assert_int_equal(sw_fse_make_id(o->org, o->kind, o->value, o->event_type, o->id), SW_OK);
    assert_int_equal(sw_fse_sign(o, k, SW_JWS_EDDSA, 0), SW_OK);
    size_t len;
    char *t = sw_fse_encode(o, 1, &len);
    assert_non_null(t);
    return t;
}

static void test_verify_batch(void **state)
{
    (void)state;
    char err[256];
    sw_jws_key *k = sw_jws_key_load(GOLD "/rfc8037-a1.pem", "ZZ01:1", err, sizeof err);
    assert_non_null(k);
    sw_fse_keyring *kr = sw_fse_keyring_new();
    assert_int_equal(sw_fse_keyring_set(kr, "ZZ01", sw_jwks_load(GOLD "/rfc8037-a1.jwks", err,
                                                                 sizeof err)),
                     SW_OK);
    sw_fse o;
    load_example(&o);
    char *good1 = signed_text(&o, k, "+88213012345");
    char *good2 = signed_text(&o, k, "+88213012346");
    char *tampered = signed_text(&o, k, "+88213012347");
    char *p = strstr(tampered, "\"count\":412");
    assert_non_null(p);
    p[9] = '3'; /* count 413: valid object, signature no longer matches */
    /* an object claiming another producer with ZZ01's signature */
    char *other = signed_text(&o, k, "+88213012348");
    p = strstr(other, "\"org\":\"ZZ01\"");
    assert_non_null(p);
    p[10] = '9';
    /* unsigned */
    sw_fse u = o;
    u.sig[0] = '\0';
    size_t ul;
    char *unsig = sw_fse_encode(&u, 1, &ul);
    assert_non_null(unsig);

    /* verify one by one */
    sw_fse out;
    assert_int_equal(sw_fse_verify(kr, good1, strlen(good1), &out, err, sizeof err), SW_OK);
    assert_string_equal(out.value, "+88213012345");
    assert_int_equal(sw_fse_verify(kr, tampered, strlen(tampered), &out, err, sizeof err),
                     SW_EAUTH);
    assert_int_equal(sw_fse_verify(kr, other, strlen(other), &out, err, sizeof err),
                     SW_ENOTFOUND);
    assert_int_equal(sw_fse_verify(kr, unsig, ul, &out, err, sizeof err), SW_EAUTH);

    size_t cap = strlen(good1) * 8 + 1024;
    char *batch = malloc(cap);
    snprintf(batch, cap, "[\n%s,\n%s,\n{\"spec\":\"fse/1\",\"id\":[1,2,{\"x\":\"],\"}]},%s,%s,"
                         "{\"a\":1,\"a\":2},%s\n]",
             good1, tampered, other, unsig, good2);
    sw_quarantine *q = sw_quarantine_new(3);
    acc a = {0};
    size_t nq = 0;
    int n = sw_fse_verify_batch(kr, batch, strlen(batch), q, 42, on_accept, &a, &nq, err,
                                sizeof err);
    assert_int_equal(n, 2);
    assert_int_equal(a.n, 2);
    assert_int_equal(nq, 5);
    sw_quarantine_stats st = sw_quarantine_stats_get(q);
    assert_int_equal(st.total, 5);
    assert_int_equal(st.held, 3); /* bounded: the two oldest pushed out */
    assert_int_equal(st.dropped, 2);
    const sw_quarantine_entry *e = sw_quarantine_get(q, 2);
    assert_non_null(e);
    assert_int_equal(e->at_ms, 42);
    assert_non_null(strstr(e->reason, "duplicate"));
    e = sw_quarantine_get(q, 1);
    assert_int_equal(e->error, SW_EAUTH);
    assert_non_null(strstr(e->reason, "unsigned"));
    e = sw_quarantine_get(q, 0);
    assert_int_equal(e->error, SW_ENOTFOUND);
    assert_string_equal(e->org, "ZZ09");
    assert_int_equal(e->raw_len, strlen(other)); /* kept as received */
    assert_memory_equal(e->raw, other, e->raw_len);
    assert_null(sw_quarantine_get(q, 3));
    /* not an array: nothing processed */
    assert_int_equal(sw_fse_verify_batch(kr, "{}", 2, q, 0, on_accept, &a, &nq, err, sizeof err),
                     SW_EINVAL);
    assert_int_equal(sw_fse_verify_batch(kr, "[]", 2, q, 0, on_accept, &a, &nq, err, sizeof err),
                     0);
    assert_int_equal(nq, 0);
    /* truncated batch: the complete objects still count */
    snprintf(batch, cap, "[%s,%s", good1, good2);
    batch[strlen(batch) - 10] = '\0';
    a.n = 0;
    assert_int_equal(sw_fse_verify_batch(kr, batch, strlen(batch), q, 0, on_accept, &a, &nq, err,
                                         sizeof err),
                     1);
    assert_int_equal(nq, 1);
    free(batch);
    sw_quarantine_free(q);
    free(good1);
    free(good2);
    free(tampered);
    free(other);
    free(unsig);
    sw_fse_keyring_free(kr);
    sw_jws_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid5),           cmocka_unit_test(test_ts),
        cmocka_unit_test(test_codec),           cmocka_unit_test(test_decode_refusals),
        cmocka_unit_test(test_verify_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
