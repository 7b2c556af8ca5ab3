/* STIX 2.1 bundles from indicators (src/exchange/stix.c, xo.c): UUIDv5
 * against the STIX spec's vector, one pattern per indicator kind with
 * escaping, indicator checks, and every object of a bundle against our own
 * minimal schema (what always runs; the OASIS schemas run in
 * tests/scripts/test_exchange_export.sh where the corpus is). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sipwall/exchange_fmt.h"

#define T0 1764547200000000000LL /* 2025-12-01T00:00:00Z */
#define S 1000000000LL

static sw_xo_ind mk(const char *id, const char *kind, const char *value)
{
    sw_xo_ind x;
    memset(&x, 0, sizeof x);
    snprintf(x.id, sizeof x.id, "%s", id);
    x.event_type = "sip_scan";
    x.kind = kind;
    x.value = value;
    x.severity = "medium";
    x.action = "block";
    x.tlp = "AMBER";
    x.first_seen_ns = T0;
    x.last_seen_ns = T0 + 60 * S;
    x.modified_ns = T0 + 60 * S;
    x.valid_until_ns = T0 + 7 * 86400 * S;
    x.count = 12;
    x.confidence = 80;
    return x;
}

static void uuid5_vector(void **st)
{
    (void)st;
    /* STIX 2.1 §2.9: SCO namespace, name = JCS of {"value":"198.51.100.3"} */
    uint8_t ns[16];
    char out[SW_XO_UUID_LEN];
    const char *name = "{\"value\":\"198.51.100.3\"}";
    assert_int_equal(sw_xo_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", ns), SW_OK);
    assert_int_equal(sw_xo_uuid5(ns, name, strlen(name), out), SW_OK);
    assert_string_equal(out, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    assert_int_equal(sw_xo_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b", ns), SW_EINVAL);
    assert_int_equal(sw_xo_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9bx", ns), SW_EINVAL);
    assert_int_equal(sw_xo_uuid_parse("00abedb4xaa42-466c-9c01-fed23315a9b7", ns), SW_EINVAL);
    assert_int_equal(sw_xo_uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b77", ns), SW_EINVAL);
}

static void patterns(void **st)
{
    (void)st;
    static const struct {
        const char *kind, *value, *want;
    } cases[] = {
        {"ipv4", "203.0.113.7", "[ipv4-addr:value = '203.0.113.7']"},
        {"ipv6", "2001:db8::7", "[ipv6-addr:value = '2001:db8::7']"},
        {"cidr", "198.51.100.0/24", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"},
        {"cidr", "2001:db8::/32", "[ipv6-addr:value ISSUBSET '2001:db8::/32']"},
        {"e164", "+88213012345", "[phone-number:value = '+88213012345']"},
        {"e164_prefix", "+882130", "[phone-number:value LIKE '+882130%']"},
        {"user_agent", "it's a \\scanner", "[user-agent:value = 'it\\'s a \\\\scanner']"},
        {"sip_uri", "sip:100@198.51.100.9", "[url:value = 'sip:100@198.51.100.9']"},
        {"trunk", "carrier-x", "[x-sipwall-trunk:value = 'carrier-x']"},
    };
    char buf[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sw_xo_ind x = mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", cases[i].kind, cases[i].value);
        int n = sw_stix_pattern(&x, buf, sizeof buf);
        assert_int_equal(n, (int)strlen(cases[i].want));
        assert_string_equal(buf, cases[i].want);
        /* every buffer size below the need is refused, never overrun */
        for (size_t len = 0; len <= (size_t)n; len++)
            assert_int_equal(sw_stix_pattern(&x, buf, len), SW_ELIMIT);
    }
    char hex[65];
    memset(hex, 'a', 64);
    hex[64] = '\0';
    sw_xo_ind h = mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "e164_hmac", hex);
    h.hmac_key_id = "grp1:2026";
    assert_true(sw_stix_pattern(&h, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "x-sipwall-hashed-id:key_id = 'grp1:2026'"));
    assert_non_null(strstr(buf, "x-sipwall-hashed-id:id_type = 'e164'"));
    sw_xo_ind u = mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "bogus", "x");
    assert_int_equal(sw_stix_pattern(&u, buf, sizeof buf), SW_EINVAL);
}

static void checks(void **st)
{
    (void)st;
    const char *why;
    sw_xo_ind x = mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "ipv4", "203.0.113.7");
    assert_int_equal(sw_xo_ind_check(&x, &why), SW_OK);
    static const struct {
        const char *kind, *value;
    } bad[] = {
        {"ipv4", "203.0.113.256"}, {"ipv4", "2001:db8::1"}, {"ipv6", "203.0.113.7"},
        {"cidr", "198.51.100.0/33"}, {"cidr", "198.51.100.0"}, {"cidr", "198.51.100.0/x"},
        {"e164", "88213012345"},   {"e164", "+8821301234567890"}, {"e164", "+12a45678"},
        {"e164_prefix", "+"},      {"e164_hmac", "abc"},       {"user_agent", "a\nb"},
        {"user_agent", "\xff\xfe"}, {"user_agent", "\xc0\xaf"}, {"user_agent", "\xed\xa0\x80"},
        {"nope", "x"},             {"ipv4", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_xo_ind y = mk(x.id, bad[i].kind, bad[i].value);
        why = NULL;
        assert_int_equal(sw_xo_ind_check(&y, &why), SW_EINVAL);
        assert_non_null(why);
    }
    sw_xo_ind y = x;
    y.count = 0;
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
    y = x;
    y.confidence = 101;
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
    y = x;
    y.tlp = "WHITE";
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
    y = x;
    y.valid_until_ns = y.first_seen_ns;
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
    y = x;
    y.event_type = "Sip Scan";
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
    y = x;
    snprintf(y.id, sizeof y.id, "not-a-uuid");
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
    char hex[65];
    memset(hex, 'b', 64);
    hex[64] = '\0';
    y = mk(x.id, "imsi_hmac", hex);
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL); /* no key id */
    y.hmac_key_id = "k1";
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_OK);
    /* a key id on another kind would be rendered unchecked (fuzz finding
     * fuzz/regressions/xo_render/key-id-on-non-hmac-kind) */
    y = x;
    y.hmac_key_id = "\xff";
    assert_int_equal(sw_xo_ind_check(&y, NULL), SW_EINVAL);
}

/* ---- our minimal STIX 2.1 object schema ------------------------------------ */
static int is_ts(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SS.fffZ (at least three fraction digits, as the schemas want) */
    size_t n = strlen(s);
    if (n < 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[n - 1] != 'Z')
        return 0;
    return n - 21 >= 3;
}

static int is_id_of(const char *id, const char *type)
{
    size_t t = strlen(type);
    uint8_t u[16];
    if (strncmp(id, type, t) != 0 || strncmp(id + t, "--", 2) != 0 || sw_xo_uuid_parse(id + t + 2, u) != SW_OK)
        return 0;
    return (u[6] >> 4) >= 1 && (u[6] >> 4) <= 5 && (u[8] & 0xc0) == 0x80;
}

static void no_null_no_empty(json_t *v)
{
    const char *k;
    json_t *m;
    size_t i;
    assert_false(json_is_null(v));
    if (json_is_array(v)) {
        assert_true(json_array_size(v) > 0);
        json_array_foreach(v, i, m) no_null_no_empty(m);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, m) no_null_no_empty(m);
    }
}

static void check_object(json_t *o, const char *identity)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    assert_non_null(type);
    assert_string_equal(json_string_value(json_object_get(o, "spec_version")), "2.1");
    assert_true(is_id_of(json_string_value(json_object_get(o, "id")), type));
    const char *created = json_string_value(json_object_get(o, "created"));
    assert_non_null(created);
    assert_true(is_ts(created));
    const char *modified = json_string_value(json_object_get(o, "modified"));
    if (strcmp(type, "marking-definition") != 0) {
        assert_non_null(modified);
        assert_true(is_ts(modified));
        assert_true(strcmp(modified, created) >= 0); /* what the schemas cannot say */
    }
    no_null_no_empty(o);
    json_t *ext = json_object_get(o, "extensions");
    if (ext) {
        const char *k, *pk;
        json_t *e, *pv;
        json_object_foreach(ext, k, e) {
            assert_true(is_id_of(k, "extension-definition"));
            assert_string_equal(json_string_value(json_object_get(e, "extension_type")), "property-extension");
            json_object_foreach(e, pk, pv) {
                /* ^[a-z][a-z0-9_]{2,249}$ */
                size_t n = strlen(pk);
                assert_true(n >= 3 && n <= 250 && pk[0] >= 'a' && pk[0] <= 'z');
                for (size_t i = 0; i < n; i++)
                    assert_true((pk[i] >= 'a' && pk[i] <= 'z') || (pk[i] >= '0' && pk[i] <= '9') || pk[i] == '_');
            }
        }
    }
    if (!strcmp(type, "indicator")) {
        assert_string_equal(json_string_value(json_object_get(o, "created_by_ref")), identity);
        assert_string_equal(json_string_value(json_object_get(o, "pattern_type")), "stix");
        const char *p = json_string_value(json_object_get(o, "pattern"));
        assert_non_null(p);
        assert_true(p[0] == '[' && p[strlen(p) - 1] == ']');
        const char *vf = json_string_value(json_object_get(o, "valid_from"));
        const char *vu = json_string_value(json_object_get(o, "valid_until"));
        assert_true(is_ts(vf) && is_ts(vu) && strcmp(vu, vf) > 0);
        json_int_t c = json_integer_value(json_object_get(o, "confidence"));
        assert_true(c >= 0 && c <= 100);
        json_t *refs = json_object_get(o, "object_marking_refs");
        assert_int_equal(json_array_size(refs), 1);
    } else if (!strcmp(type, "sighting")) {
        json_int_t c = json_integer_value(json_object_get(o, "count"));
        assert_true(c >= 1 && c <= 999999999);
        assert_true(is_id_of(json_string_value(json_object_get(o, "sighting_of_ref")), "indicator"));
        const char *f = json_string_value(json_object_get(o, "first_seen"));
        const char *l = json_string_value(json_object_get(o, "last_seen"));
        assert_true(strcmp(l, f) >= 0);
    } else if (!strcmp(type, "extension-definition")) {
        assert_non_null(json_object_get(o, "created_by_ref"));
        assert_non_null(json_object_get(o, "schema"));
        assert_non_null(json_object_get(o, "version"));
    } else if (!strcmp(type, "marking-definition")) {
        if (json_object_get(o, "definition_type")) { /* TLP 1.0 */
            assert_string_equal(json_string_value(json_object_get(o, "definition_type")), "tlp");
            assert_string_equal(created, "2017-01-20T00:00:00.000Z");
            assert_non_null(json_string_value(json_object_get(json_object_get(o, "definition"), "tlp")));
        } else {
            assert_non_null(json_object_get(json_object_get(o, "extensions"),
                                            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"));
        }
    } else {
        assert_string_equal(type, "identity");
        assert_non_null(json_object_get(o, "name"));
    }
}

static void bundle_objects(void **st)
{
    (void)st;
    char hex[65];
    memset(hex, 'c', 64);
    hex[64] = '\0';
    sw_xo_ind v[4] = {
        mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "ipv4", "203.0.113.7"),
        mk("0c7b5b88-8ff7-5a4d-aa9d-feb398cd0061", "e164_prefix", "+882130"),
        mk("1d5d3c8c-1f7a-5b8a-9c3e-5a6b7c8d9e0f", "e164_hmac", hex),
        mk("2e6e4d9d-2a8b-5c9b-8d4f-6b7c8d9e0f1a", "user_agent", "friendly-scanner"),
    };
    v[1].event_type = "irsf_call";
    v[1].fraud_class = "irsf";
    v[1].tlp = "GREEN";
    v[2].hmac_key_id = "grp1:1";
    v[2].tlp = "RED";
    v[3].revoked = 1;
    v[3].sig = "eyJhbGciOiJFZERTQSJ9..AAAA";
    sw_xo_producer p = {.org = "ZZ01", .name = "Example Operator"};
    size_t len = 0, len2 = 0, badi = 99;
    const char *why = NULL;
    char *b = sw_stix_bundle(&p, v, 4, &len, &why, &badi);
    assert_non_null(b);
    assert_int_equal(strlen(b), len);
    char *b2 = sw_stix_bundle(&p, v, 4, &len2, &why, &badi);
    assert_non_null(b2);
    assert_int_equal(len, len2);
    assert_memory_equal(b, b2, len); /* deterministic */
    free(b2);

    json_error_t e;
    json_t *root = json_loads(b, JSON_REJECT_DUPLICATES, &e);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "type")), "bundle");
    assert_true(is_id_of(json_string_value(json_object_get(root, "id")), "bundle"));
    char ident[64];
    sw_xo_identity_id(&p, ident);
    json_t *objs = json_object_get(root, "objects"), *o;
    size_t i, n_ind = 0, n_sight = 0, n_mark = 0, n_ext = 0;
    int seen_red = 0, seen_green = 0, seen_amber = 0, revoked = 0, sig = 0;
    json_array_foreach(objs, i, o) {
        check_object(o, ident);
        const char *t = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        n_ind += !strcmp(t, "indicator");
        n_sight += !strcmp(t, "sighting");
        n_ext += !strcmp(t, "extension-definition");
        if (!strcmp(t, "marking-definition")) {
            n_mark++;
            seen_red |= !strcmp(id, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1");
            seen_green |= !strcmp(id, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb");
            seen_amber |= !strcmp(id, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421");
        }
        if (!strcmp(t, "indicator")) {
            revoked += json_is_true(json_object_get(o, "revoked"));
            json_t *ext = json_object_get(o, "extensions");
            const char *k;
            json_t *x;
            json_object_foreach(ext, k, x) sig += json_object_get(x, "sig") != NULL;
        }
    }
    assert_int_equal(n_ind, 4);
    assert_int_equal(n_sight, 3); /* not for the revoked one */
    assert_int_equal(n_mark, 3);
    assert_true(seen_red && seen_green && seen_amber);
    assert_int_equal(n_ext, 1);
    assert_int_equal(revoked, 1);
    assert_int_equal(sig, 1);
    json_t *first = json_array_get(objs, 0);
    assert_string_equal(json_string_value(json_object_get(first, "id")), ident);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "Example Operator");
    /* the indicator id is the FSE id */
    assert_non_null(strstr(b, "\"indicator--6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11\""));
    json_decref(root);

    /* a new version (modified) gives a new bundle id, same indicator ids */
    v[0].modified_ns += S;
    char *b3 = sw_stix_bundle(&p, v, 4, &len2, &why, &badi);
    assert_non_null(b3);
    assert_true(strncmp(b, b3, 60) != 0);
    assert_non_null(strstr(b3, "\"indicator--6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11\""));
    free(b3);
    free(b);

    /* a bad indicator names itself and nothing is produced */
    v[2].hmac_key_id = NULL;
    assert_null(sw_stix_bundle(&p, v, 4, &len, &why, &badi));
    assert_int_equal(badi, 2);
    assert_non_null(why);
    sw_xo_producer q = {.org = "bad\norg"};
    assert_null(sw_stix_bundle(&q, v, 0, &len, &why, NULL));
}

static void tlp1_markings(void **st)
{
    (void)st;
    sw_xo_ind v[3] = {
        mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "ipv4", "203.0.113.7"),
        mk("0c7b5b88-8ff7-5a4d-aa9d-feb398cd0061", "ipv4", "203.0.113.8"),
        mk("1d5d3c8c-1f7a-5b8a-9c3e-5a6b7c8d9e0f", "ipv4", "203.0.113.9"),
    };
    v[0].tlp = "CLEAR";
    v[1].tlp = "AMBER+STRICT";
    v[2].tlp = "RED";
    sw_xo_producer p = {.org = "ZZ01", .tlp1 = 1};
    size_t len = 0;
    const char *why = NULL;
    char *b = sw_stix_bundle(&p, v, 3, &len, &why, NULL);
    assert_non_null(b);
    json_error_t e;
    json_t *root = json_loads(b, JSON_REJECT_DUPLICATES, &e);
    assert_non_null(root);
    char ident[64];
    sw_xo_identity_id(&p, ident);
    json_t *o;
    size_t i, marks = 0;
    const char *white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
    const char *red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
    json_array_foreach(json_object_get(root, "objects"), i, o) {
        check_object(o, ident);
        const char *t = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "id"));
        if (!strcmp(t, "marking-definition")) {
            marks++;
            assert_true(!strcmp(id, white) || !strcmp(id, red));
        }
        if (!strcmp(t, "indicator")) {
            const char *m = json_string_value(json_array_get(json_object_get(o, "object_marking_refs"), 0));
            assert_string_equal(m, strstr(id, "6f1c2a1e") ? white : red); /* never looser */
        }
    }
    assert_int_equal(marks, 2); /* WHITE, and one RED for both */
    assert_null(strstr(b, "tlp_2_0"));
    json_decref(root);
    free(b);
}

static void tlp_ids(void **st)
{
    (void)st;
    assert_string_equal(sw_stix_tlp_id("CLEAR"), "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
    assert_string_equal(sw_stix_tlp_id("AMBER+STRICT"),
                        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003");
    assert_null(sw_stix_tlp_id("WHITE"));
    assert_null(sw_stix_tlp_id(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uuid5_vector), cmocka_unit_test(patterns), cmocka_unit_test(checks),
        cmocka_unit_test(bundle_objects), cmocka_unit_test(tlp1_markings), cmocka_unit_test(tlp_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
