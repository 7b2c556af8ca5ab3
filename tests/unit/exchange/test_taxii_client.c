/* What the TAXII 2.1 pull client reads (src/exchange/taxii_client.c):
 * envelopes, plain STIX patterns, timestamps, status resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/taxii_client.h"

#define EXT "extension-definition--2b8a5f0e-7c1d-4e4a-9f3b-6d0c8e1a4b72"
#define NOW 1796601600000000000LL /* 2026-12-07T00:00:00Z */

static int parse(const char *s, sw_taxii_envelope *pg)
{
    char err[200];
    return sw_taxii_envelope_parse(s, strlen(s), "ZZ01", NOW, pg, err, sizeof err);
}

static void test_envelope_kinds(void **state)
{
    (void)state;
    const char *env =
        "{\"more\":true,\"next\":\"tok-1\",\"objects\":["
        "{\"type\":\"identity\",\"id\":\"identity--8d5e3c1a-4f2b-4a6e-b7c9-0e1d2f3a4b5c\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--0f8fad5b-d9cb-469f-a165-70867728950e\","
        "\"pattern\":\"[ipv4-addr:value = '192.0.2.7']\",\"pattern_type\":\"stix\","
        "\"modified\":\"2026-12-07T06:00:00.000Z\",\"extensions\":{\"" EXT "\":{\"fse\":{\"spec\":\"fse/1\",\"id\":\"x\"}}}},"
        "{\"type\":\"indicator\",\"id\":\"indicator--5B7C2B1E-0D7C-5E4E-9B8A-0A4A3B2C1D0E\","
        "\"pattern\":\"[ipv4-addr:value = '198.51.100.20']\",\"pattern_type\":\"stix\","
        "\"modified\":\"2026-12-07T06:05:00.123456Z\",\"confidence\":80,\"indicator_types\":[\"malicious-activity\"]},"
        "{\"type\":\"indicator\",\"id\":\"indicator--9d1e0f3a-7b2c-5d4e-8f6a-1b2c3d4e5f60\","
        "\"pattern\":\"[phone-number:value = '+88213000111']\",\"pattern_type\":\"stix\","
        "\"modified\":\"2026-12-07T06:06:00Z\",\"valid_until\":\"2026-12-08T00:00:00Z\",\"revoked\":true,"
        "\"labels\":[\"sipwall:irsf_call\"]},"
        "{\"type\":\"indicator\",\"id\":\"indicator--7c9e6679-7425-50de-944b-e07fc1f90ae7\","
        "\"pattern\":\"[ipv4-addr:value ISSUBSET '198.51.100.0/24']\",\"pattern_type\":\"stix\","
        "\"modified\":\"2026-12-07T06:07:00Z\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--7c9e6679-7425-50de-944b-e07fc1f90ae8\","
        "\"pattern\":\"[ipv4-addr:value = '300.1.1.1']\",\"pattern_type\":\"stix\","
        "\"modified\":\"2026-12-07T06:07:00Z\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--7c9e6679-7425-50de-944b-e07fc1f90ae9\","
        "\"pattern\":\"[ipv4-addr:value = '192.0.2.9']\",\"pattern_type\":\"stix\","
        "\"modified\":\"2026-12-07T06:07:00Z\",\"confidence\":101}"
        "]}";
    sw_taxii_envelope pg;
    assert_int_equal(parse(env, &pg), SW_OK);
    assert_true(pg.more);
    assert_string_equal(pg.next, "tok-1");
    assert_int_equal(pg.objects, 7);
    assert_int_equal(pg.ignored, 1);
    assert_int_equal(pg.nfse, 1);
    /* the embedded object only, as received: verification decides */
    assert_string_equal(pg.fse, "[{\"spec\":\"fse/1\",\"id\":\"x\"}]");
    assert_int_equal(pg.nplain, 2);
    assert_int_equal(pg.unmapped, 1);  /* ISSUBSET */
    assert_int_equal(pg.malformed, 2); /* a bad address, confidence 101 */
    sw_intel_ind *a = &pg.plain[0], *b = &pg.plain[1];
    assert_string_equal(a->id, "5b7c2b1e-0d7c-5e4e-9b8a-0a4a3b2c1d0e");
    assert_string_equal(a->producer, "ZZ01");
    assert_string_equal(a->kind, "ipv4");
    assert_string_equal(a->value, "198.51.100.20");
    assert_string_equal(a->action, "block");
    assert_int_equal(a->confidence, 80);
    assert_int_equal(a->modified % 1000000000, 123456000);
    assert_int_equal(a->valid_until - a->modified, (int64_t)SW_TAXII_PLAIN_TTL_IP_S * 1000000000);
    assert_false(a->revoked);
    assert_string_equal(b->kind, "e164");
    assert_string_equal(b->value, "+88213000111");
    assert_string_equal(b->action, "alert");
    assert_int_equal(b->confidence, SW_TAXII_PLAIN_CONFIDENCE);
    assert_true(b->revoked);
    sw_event_type irsf;
    assert_int_equal(sw_event_type_lookup("irsf_call", &irsf), SW_OK);
    assert_int_equal(b->type, irsf);
    sw_taxii_envelope_clear(&pg);
}

static void test_envelope_refusals(void **state)
{
    (void)state;
    sw_taxii_envelope pg;
    assert_int_equal(parse("{}", &pg), SW_OK); /* an empty collection */
    assert_int_equal(pg.objects, 0);
    assert_false(pg.more);
    sw_taxii_envelope_clear(&pg);
    static const char *bad[] = {
        "[]", "{\"more\":1}", "{\"next\":\"\"}", "{\"next\":\"a b\"}", "{\"objects\":{}}",
        "{\"more\":true,\"more\":false}", "{\"objects\":[", "{\"next\":\"\\u0001\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &pg), SW_EINVAL);
        assert_null(pg.fse);
        assert_null(pg.plain);
    }
    char err[100];
    assert_int_equal(sw_taxii_envelope_parse("{}", 2, "bad org!", NOW, &pg, err, sizeof err), SW_EUSAGE);
    /* too many objects */
    size_t n = SW_TAXII_PAGE_OBJECTS + 1, len = 20 + n * 3;
    char *big = malloc(len);
    size_t o = (size_t)sprintf(big, "{\"objects\":[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(big + o, i ? ",{}" : "{}");
    sprintf(big + o, "]}");
    assert_int_equal(parse(big, &pg), SW_ELIMIT);
    free(big);
    assert_int_equal(sw_taxii_envelope_parse("{}", SW_TAXII_PAGE_MAX + 1, "ZZ01", NOW, &pg, err, sizeof err), SW_ELIMIT);
}

static void test_patterns(void **state)
{
    (void)state;
    char kind[16], value[SW_INTEL_VALUE_MAX];
    assert_int_equal(sw_taxii_pattern_map("[ipv6-addr:value = '2001:DB8::0:1']", kind, value), SW_OK);
    assert_string_equal(kind, "ipv6");
    assert_string_equal(value, "2001:db8::1");
    assert_int_equal(sw_taxii_pattern_map("[ipv4-addr:value='192.0.2.1']", kind, value), SW_OK);
    static const char *notours[] = {
        "[ipv4-addr:value = '192.0.2.1'] AND [ipv4-addr:value = '192.0.2.2']",
        "[ipv4-addr:value = '192.0.2.1' OR ipv4-addr:value = '192.0.2.2']",
        "[phone-number:value LIKE '+882%']",
        "[url:value = 'sip:a@b']",
        "[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES",
        "ipv4-addr:value = '192.0.2.1'",
    };
    for (size_t i = 0; i < sizeof notours / sizeof notours[0]; i++)
        assert_int_equal(sw_taxii_pattern_map(notours[i], kind, value), SW_ENOTFOUND);
    static const char *bad[] = {
        "[ipv4-addr:value = '192.0.2.0/24']", "[ipv4-addr:value = '2001:db8::1']",
        "[ipv6-addr:value = '192.0.2.1']",    "[phone-number:value = '882130']",
        "[phone-number:value = '+88a']",      "[ipv4-addr:value = '1.2.3.4\\'']",
        "[ipv4-addr:value = '']",             "[ipv4-addr:value = '192.0.2.1:5060']",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sw_taxii_pattern_map(bad[i], kind, value), SW_EINVAL);
}

/* The client reads timestamps with taxii.h's reader (microseconds): the
 * forms a server sends, and what it refuses. */
static void test_timestamps(void **state)
{
    (void)state;
    int64_t us;
#define PARSE(t) sw_taxii_parse_ts(t, strlen(t), &us)
    assert_int_equal(PARSE("2026-12-07T00:00:00Z"), SW_OK);
    assert_int_equal(us * 1000, NOW);
    assert_int_equal(PARSE("2026-12-07T00:00:00.000001Z"), SW_OK);
    assert_int_equal(us * 1000, NOW + 1000);
    char out[SW_TAXII_TS_LEN];
    assert_int_equal(sw_taxii_format_ts((NOW + 1000) / 1000, out), SW_OK);
    assert_string_equal(out, "2026-12-07T00:00:00.000001Z");
    assert_int_equal(PARSE("2024-02-29T23:59:59.9Z"), SW_OK);
    static const char *bad[] = {"2026-02-29T00:00:00Z", "2026-12-07 00:00:00Z", "2026-12-07T00:00:00",
                                "2026-12-07T00:00:00.Z", "2026-12-07T00:00:00.1234567890Z", "1969-12-31T23:59:59Z",
                                "2026-13-01T00:00:00Z", "2026-12-07T24:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(PARSE(bad[i]), SW_EINVAL);
#undef PARSE
}

static void test_status(void **state)
{
    (void)state;
    sw_taxii_status st;
    char err[100];
    const char *ok = "{\"id\":\"2d086da7-4bdc-4f91-900e-d77486753710\",\"status\":\"complete\",\"total_count\":4,"
                     "\"success_count\":3,\"failure_count\":1,\"pending_count\":0,\"failures\":[]}";
    assert_int_equal(sw_taxii_status_parse(ok, strlen(ok), &st, err, sizeof err), SW_OK);
    assert_int_equal(st.success, 3);
    assert_int_equal(st.failure, 1);
    assert_string_equal(st.status, "complete");
    const char *sum = "{\"id\":\"a\",\"status\":\"complete\",\"total_count\":4,\"success_count\":4,"
                      "\"failure_count\":1,\"pending_count\":0}";
    assert_int_equal(sw_taxii_status_parse(sum, strlen(sum), &st, err, sizeof err), SW_EINVAL);
    const char *neg = "{\"id\":\"a\",\"status\":\"done\",\"total_count\":0,\"success_count\":0,"
                      "\"failure_count\":0,\"pending_count\":0}";
    assert_int_equal(sw_taxii_status_parse(neg, strlen(neg), &st, err, sizeof err), SW_EINVAL);
    assert_int_equal(sw_taxii_status_parse("{}", 2, &st, err, sizeof err), SW_EINVAL);
}

/* A signed FSE object wrapped as a STIX indicator comes back out of an
 * envelope as the very same object. */
static void test_wrap_roundtrip(void **state)
{
    (void)state;
    sw_fse o;
    memset(&o, 0, sizeof o);
    snprintf(o.org, sizeof o.org, "OPA");
    snprintf(o.node, sizeof o.node, "6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11");
    snprintf(o.event_type, sizeof o.event_type, "wangiri_cli");
    o.kind = SW_FSE_KIND_E164;
    snprintf(o.value, sizeof o.value, "+882130100111");
    assert_int_equal(sw_fse_make_id(o.org, o.kind, o.value, o.event_type, o.id), SW_OK);
    o.first_seen_ms = 1796601600000;
    o.last_seen_ms = o.modified_ms = 1796601660000;
    o.valid_until_ms = 1796688000000;
    o.count = 22;
    o.confidence = 90;
    o.severity = SW_FSE_SEV_HIGH;
    o.action = SW_FSE_ACT_BLOCK;
    o.tlp = SW_FSE_TLP_AMBER;
    o.revoked = 1;
    sw_jws_key *k = sw_jws_key_generate("OPA:1");
    assert_non_null(k);
    assert_int_equal(sw_fse_sign(&o, k, SW_JWS_EDDSA, 0), SW_OK);
    sw_jws_key_free(k);
    size_t len, wl;
    char *text = sw_fse_encode(&o, 1, &len), err[200];
    assert_non_null(text);
    char *w = sw_taxii_wrap_fse(text, len, &wl, err, sizeof err);
    assert_non_null(w);
    assert_non_null(strstr(w, "\"pattern\":\"[phone-number:value = '+882130100111']\""));
    assert_non_null(strstr(w, "\"revoked\":true"));
    char env[8192];
    snprintf(env, sizeof env, "{\"objects\":[%s]}", w);
    sw_taxii_envelope pg;
    assert_int_equal(parse(env, &pg), SW_OK);
    assert_int_equal(pg.nfse, 1);
    assert_int_equal(pg.nplain, 0);
    sw_fse back;
    /* the array of one: strip the brackets */
    assert_int_equal(sw_fse_decode(pg.fse + 1, pg.fse_len - 2, &back, err, sizeof err), SW_OK);
    assert_string_equal(back.sig, o.sig);
    assert_string_equal(back.value, o.value);
    assert_int_equal(back.revoked, 1);
    sw_taxii_envelope_clear(&pg);
    free(w);
    free(text);
    /* not an FSE object */
    assert_null(sw_taxii_wrap_fse("{}", 2, &wl, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_kinds), cmocka_unit_test(test_envelope_refusals),
        cmocka_unit_test(test_patterns),       cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_status),         cmocka_unit_test(test_wrap_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
