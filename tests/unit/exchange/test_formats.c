/* MISP feed, CSV, APIBAN and the event -> indicator set
 * (src/exchange/misp.c, csv.c, apiban.c, set.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "sipwall/exchange_fmt.h"

#define T0 1764547200000000000LL /* 2025-12-01T00:00:00Z */
#define S 1000000000LL

static sw_xo_ind mk(const char *id, const char *et, const char *kind, const char *value)
{
    sw_xo_ind x;
    memset(&x, 0, sizeof x);
    snprintf(x.id, sizeof x.id, "%s", id);
    x.event_type = et;
    x.kind = kind;
    x.value = value;
    x.severity = "high";
    x.action = "block";
    x.tlp = "AMBER";
    x.first_seen_ns = T0;
    x.last_seen_ns = T0 + 60 * S;
    x.modified_ns = T0 + 60 * S;
    x.valid_until_ns = T0 + 7 * 86400 * S;
    x.count = 3;
    x.confidence = 70;
    return x;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, fp);
    b[n] = '\0';
    fclose(fp);
    return b;
}

/* MISP describeTypes.json category_type_mappings, for the types we write. */
static int category_ok(const char *type, const char *cat)
{
    static const struct {
        const char *type, *cats;
    } allowed[] = {
        {"ip-src", "|Payload delivery|Network activity|External analysis|"},
        {"phone-number", "|Financial fraud|Person|Other|"},
        {"prtn", "|Financial fraud|"},
        {"user-agent", "|Payload delivery|Network activity|External analysis|"},
        {"uri", "|Network activity|"},
        {"text", "|Internal reference|Antivirus detection|Payload delivery|Artifacts dropped|"
                 "Payload installation|Persistence mechanism|Network activity|Payload type|"
                 "Attribution|External analysis|Financial fraud|Support Tool|Social network|Person|Other|"},
    };
    char pat[64];
    snprintf(pat, sizeof pat, "|%s|", cat);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (!strcmp(type, allowed[i].type))
            return strstr(allowed[i].cats, pat) != NULL;
    return 0;
}

static void misp_feed(void **st)
{
    (void)st;
    char dir[] = "/tmp/sw-misp-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char hex[65];
    memset(hex, 'd', 64);
    hex[64] = '\0';
    sw_xo_ind v[6] = {
        mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "sip_scan", "ipv4", "203.0.113.7"),
        mk("0c7b5b88-8ff7-5a4d-aa9d-feb398cd0061", "sip_scan", "user_agent", "friendly-scanner"),
        mk("1d5d3c8c-1f7a-5b8a-9c3e-5a6b7c8d9e0f", "irsf_call", "e164_prefix", "+882130"),
        mk("2e6e4d9d-2a8b-5c9b-8d4f-6b7c8d9e0f1a", "wangiri_cli", "e164", "+2250712345007"),
        mk("3f7f5eae-3b9c-5dac-9e5a-7c8d9e0f1a2b", "subscription_fraud", "e164_hmac", hex),
        mk("4a8a6fbf-4cad-5ebd-af6b-8d9e0f1a2b3c", "sip_scan", "ipv4", "198.51.100.9"),
    };
    v[4].hmac_key_id = "grp:1";
    v[5].revoked = 1;
    v[2].last_seen_ns += 86400 * S; /* another day: another event */
    v[2].modified_ns = v[2].last_seen_ns;
    sw_xo_producer p = {.org = "ZZ01"};
    char err[256] = "";
    assert_int_equal(sw_misp_feed_write(dir, &p, v, 6, err, sizeof err), SW_OK);

    char path[512];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *mtext = slurp(path);
    assert_non_null(mtext);
    json_error_t je;
    json_t *man = json_loads(mtext, JSON_REJECT_DUPLICATES, &je);
    free(mtext);
    assert_non_null(man);
    assert_int_equal(json_object_size(man), 4); /* scan, irsf (day 2), wangiri, subscription */
    const char *uuid;
    json_t *m;
    size_t nattr = 0;
    json_object_foreach(man, uuid, m) {
        snprintf(path, sizeof path, "%s/%s.json", dir, uuid);
        char *t = slurp(path);
        assert_non_null(t);
        json_t *root = json_loads(t, JSON_REJECT_DUPLICATES, &je);
        free(t);
        assert_non_null(root);
        assert_int_equal(json_object_size(root), 1);
        json_t *ev = json_object_get(root, "Event");
        assert_string_equal(json_string_value(json_object_get(ev, "uuid")), uuid);
        assert_string_equal(json_string_value(json_object_get(ev, "info")),
                            json_string_value(json_object_get(m, "info")));
        assert_string_equal(json_string_value(json_object_get(ev, "timestamp")),
                            json_string_value(json_object_get(m, "timestamp")));
        json_t *a;
        size_t i;
        json_array_foreach(json_object_get(ev, "Attribute"), i, a) {
            const char *type = json_string_value(json_object_get(a, "type"));
            const char *cat = json_string_value(json_object_get(a, "category"));
            assert_true(category_ok(type, cat));
            assert_true(json_is_boolean(json_object_get(a, "to_ids")));
            assert_string_not_equal(json_string_value(json_object_get(a, "value")), "198.51.100.9");
            if (!strcmp(json_string_value(json_object_get(a, "value")), "+882130"))
                assert_string_equal(type, "prtn");
            if (!strcmp(json_string_value(json_object_get(a, "value")), hex))
                assert_false(json_is_true(json_object_get(a, "to_ids")));
            nattr++;
        }
        json_decref(root);
    }
    json_decref(man);
    assert_int_equal(nattr, 5); /* the revoked one is left out */

    /* hashes.csv: md5(value),event-uuid per attribute */
    snprintf(path, sizeof path, "%s/hashes.csv", dir);
    char *h = slurp(path);
    assert_non_null(h);
    uint8_t md[16];
    unsigned mdn = 0;
    char want[33];
    assert_int_equal(EVP_Digest("203.0.113.7", 11, md, &mdn, EVP_md5(), NULL), 1);
    for (int i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_non_null(strstr(h, want));
    size_t lines = 0;
    for (char *q = h; *q; q++)
        lines += *q == '\n';
    assert_int_equal(lines, 5);
    free(h);

    /* deterministic: a second run writes the same bytes */
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *a1 = slurp(path);
    assert_int_equal(sw_misp_feed_write(dir, &p, v, 6, err, sizeof err), SW_OK);
    char *a2 = slurp(path);
    assert_string_equal(a1, a2);
    free(a1);
    free(a2);

    /* a bad indicator is refused with its index, nothing half-written */
    v[0].value = "not-an-ip";
    assert_int_equal(sw_misp_feed_write(dir, &p, v, 6, err, sizeof err), SW_EINVAL);
    assert_non_null(strstr(err, "indicator 0"));
    /* a directory that does not exist */
    v[0].value = "203.0.113.7";
    sw_xo_producer badname = {.org = "ZZ01", .name = "\xff"};
    assert_int_equal(sw_misp_feed_write(dir, &badname, v, 6, err, sizeof err), SW_EINVAL);
    assert_string_equal(err, "producer name not printable");
    assert_int_equal(sw_misp_feed_write("/nonexistent/sw-misp", &p, v, 6, err, sizeof err), SW_EIO);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void csv_out(void **st)
{
    (void)st;
    sw_xo_ind v[3] = {
        mk("6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11", "sip_scan", "user_agent", "=HYPERLINK(\"x\")"),
        mk("0c7b5b88-8ff7-5a4d-aa9d-feb398cd0061", "wangiri_cli", "e164", "+2250712345007"),
        mk("1d5d3c8c-1f7a-5b8a-9c3e-5a6b7c8d9e0f", "sip_scan", "ipv4", "203.0.113.7"),
    };
    v[2].revoked = 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    assert_int_equal(sw_xo_csv_write(fp, v, 3), SW_OK);
    fclose(fp);
    assert_non_null(strstr(buf, "id,modified,event_type,kind,value,confidence,severity,action,tlp,"
                                "valid_until,revoked,count\r\n"));
    /* quotes doubled, formula neutralised */
    assert_non_null(strstr(buf, "\"'=HYPERLINK(\"\"x\"\")\""));
    /* a number keeps its + (it is not free text) */
    assert_non_null(strstr(buf, ",\"+2250712345007\","));
    assert_non_null(strstr(buf, "2025-12-01T00:01:00.000Z,\"wangiri_cli\""));
    assert_non_null(strstr(buf, ",true,3\r\n"));
    size_t lines = 0;
    for (char *q = buf; *q; q++)
        lines += *q == '\n';
    assert_int_equal(lines, 4);
    free(buf);
}

static void apiban(void **st)
{
    (void)st;
    sw_xo_ind out[4];
    char vals[4][64], cur[32];
    size_t skipped = 99;
    const char *why = NULL;
    const char *ok = "{\"ipaddress\":[\"198.51.100.7\",\"2001:DB8:0:0::1\",\"no new bans\",7,"
                     "\"198.51.100.8\"],\"ID\":\"1700000123\"}";
    int n = sw_apiban_parse(ok, strlen(ok), T0, 60, out, vals, 4, &skipped, cur, sizeof cur, &why);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 2);
    assert_string_equal(cur, "1700000123");
    assert_string_equal(out[0].value, "198.51.100.7");
    assert_string_equal(out[0].kind, "ipv4");
    assert_string_equal(out[1].value, "2001:db8::1"); /* canonical text */
    assert_string_equal(out[1].kind, "ipv6");
    assert_string_equal(out[2].event_type, "sip_scan");
    for (int i = 0; i < n; i++) {
        assert_int_equal(sw_xo_ind_check(&out[i], &why), SW_OK);
        assert_int_equal(out[i].valid_until_ns - out[i].first_seen_ns, 7 * 86400 * S);
        assert_int_equal(out[i].confidence, 60);
    }
    /* the same address gives the same id on every read */
    sw_xo_ind again[1];
    char v2[1][64];
    const char *one = "{\"ipaddress\":[\"198.51.100.7\"],\"ID\":42}";
    assert_int_equal(sw_apiban_parse(one, strlen(one), T0 + S, 60, again, v2, 1, &skipped, cur, sizeof cur, &why), 1);
    assert_string_equal(again[0].id, out[0].id);
    assert_string_equal(cur, "42");

    /* capacity: the rest is counted, not stored */
    assert_int_equal(sw_apiban_parse(ok, strlen(ok), T0, 60, out, vals, 1, &skipped, cur, sizeof cur, &why), 1);
    assert_int_equal(skipped, 4);
    /* the cursor is kept URL-safe and cut to its buffer */
    const char *odd = "{\"ipaddress\":[],\"ID\":\"12/../34?x=1&y\"}";
    assert_int_equal(sw_apiban_parse(odd, strlen(odd), T0, 60, out, vals, 4, &skipped, cur, 6, &why), 0);
    assert_string_equal(cur, "12..");
    /* not APIBAN */
    static const char *const bad[] = {
        "", "[]", "{}", "{\"ipaddress\":\"198.51.100.7\"}", "{\"ipaddress\":[] ",
        "{\"ipaddress\":[],\"ipaddress\":[]}", "\"x\"", "{\"ipaddress\":[\"1.2.3.4\"]}x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(sw_apiban_parse(bad[i], strlen(bad[i]), T0, 60, out, vals, 4, &skipped, cur, sizeof cur, &why),
                         SW_EINVAL);
        assert_non_null(why);
    }
    assert_int_equal(sw_apiban_parse(NULL, 0, T0, 60, out, vals, 4, &skipped, cur, sizeof cur, &why), SW_EINVAL);

    /* as FSE objects: valid, encodable, the same ids as above */
    sw_fse f[3];
    char err[256];
    n = sw_apiban_parse_fse(ok, strlen(ok), T0 / 1000000, 60, f, 3, &skipped, cur, sizeof cur, &why);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 2);
    for (int i = 0; i < n; i++) {
        assert_int_equal(sw_fse_validate(&f[i], err, sizeof err), SW_OK);
        assert_string_equal(f[i].org, SW_APIBAN_ORG);
        assert_int_equal(f[i].tlp, SW_FSE_TLP_CLEAR);
        assert_int_equal(f[i].valid_until_ms - f[i].first_seen_ms, 7 * 86400 * 1000LL);
    }
    assert_string_equal(f[0].id, out[0].id);
    assert_string_equal(f[1].value, "2001:db8::1");
    char id[SW_FSE_UUID_LEN];
    assert_int_equal(sw_fse_make_id("apiban", SW_FSE_KIND_IPV4, "198.51.100.7", "sip_scan", id), SW_OK);
    assert_string_equal(f[0].id, id);
    size_t elen = 0;
    char *enc = sw_fse_encode(&f[0], 1, &elen);
    assert_non_null(enc);
    sw_fse back;
    assert_int_equal(sw_fse_decode(enc, elen, &back, err, sizeof err), SW_OK);
    free(enc);
    assert_int_equal(sw_apiban_parse_fse("[]", 2, T0 / 1000000, 60, f, 3, &skipped, cur, sizeof cur, &why),
                     SW_EINVAL);
    assert_int_equal(sw_apiban_parse(ok, SW_APIBAN_MAX_BYTES + 1, T0, 60, out, vals, 4, &skipped, cur, sizeof cur,
                                     &why),
                     SW_ELIMIT);
}

static sw_event scan_event(const char *ip, int64_t ts, uint8_t conf)
{
    sw_event ev;
    sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan.sweep");
    ev.ts_ns = ts;
    ev.confidence = conf;
    assert_int_equal(sw_addr_parse(ip, &ev.src), SW_OK);
    ev.from = SW_STR_LIT("+447700900123"); /* a victim's number: never shared */
    ev.to = SW_STR_LIT("+447700900124");
    return ev;
}

static void event_set(void **st)
{
    (void)st;
    sw_xo_set *s = sw_xo_set_new("ZZ01", NULL, NULL, 3);
    assert_non_null(s);
    sw_event a = scan_event("203.0.113.7:5060", T0, 60);
    sw_event a2 = scan_event("203.0.113.7:5062", T0 + 30 * S, 85);
    assert_int_equal(sw_event_add_num(&a2, "count", 5), SW_OK);
    assert_int_equal(sw_xo_set_add_event(s, &a), 1);
    assert_int_equal(sw_xo_set_add_event(s, &a2), 1);

    sw_event w;
    sw_event_init(&w, SW_EVT_WANGIRI_CLI, SW_CAT_BEHAVIOURAL, "wangiri.prefix");
    w.ts_ns = T0 + 5 * S;
    w.confidence = 85;
    w.from = SW_STR_LIT("+2250712345007"); /* the Wangiri caller: shared */
    w.to = SW_STR_LIT("+447700900555");    /* the victim: never */
    assert_int_equal(sw_xo_set_add_event(s, &w), 1);

    sw_event irsf;
    sw_event_init(&irsf, SW_EVT_IRSF_CALL, SW_CAT_CAT2, "cat2.irsf-hot-destination");
    irsf.ts_ns = T0 + 6 * S;
    irsf.confidence = 75;
    irsf.from = SW_STR_LIT("+493090182856"); /* the compromised PBX's caller */
    irsf.ruri = SW_STR_LIT("+882345678010");
    assert_int_equal(sw_xo_set_add_event(s, &irsf), 1);

    /* not shareable under the built-in policy */
    sw_event pv;
    sw_event_init(&pv, SW_EVT_PAI_INJECTION, SW_CAT_CAT1, "privacy.trust-domain");
    pv.ts_ns = T0;
    pv.from = SW_STR_LIT("+33639800151");
    assert_int_equal(sw_xo_set_add_event(s, &pv), 0);
    sw_event noip;
    sw_event_init(&noip, SW_EVT_SIP_FLOOD, SW_CAT_BEHAVIOURAL, "flood.source");
    assert_int_equal(sw_xo_set_add_event(s, &noip), 0);
    /* anti-echo: a block caused by a partner's indicator is not re-shared */
    sw_event echo = scan_event("198.51.100.99:5060", T0, 90);
    assert_int_equal(sw_event_add_str(&echo, SW_EXPORT_ORIGIN_KEY, SW_STR_LIT(SW_EXPORT_ORIGIN_FEED)), SW_OK);
    assert_int_equal(sw_xo_set_add_event(s, &echo), 0);

    /* full: the fourth distinct indicator is dropped and counted */
    sw_event b = scan_event("[2001:db8::9]:5060", T0, 60);
    assert_int_equal(sw_xo_set_add_event(s, &b), SW_ELIMIT);
    assert_int_equal(sw_xo_set_dropped(s), 1);

    size_t n = 0;
    const sw_xo_ind *v = sw_xo_set_items(s, &n);
    assert_int_equal(n, 3);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        assert_int_equal(sw_xo_ind_check(&v[i], &why), SW_OK);
        assert_true(i == 0 || strcmp(v[i - 1].id, v[i].id) < 0);
        assert_null(strstr(v[i].value, "447700900"));
        assert_null(strstr(v[i].value, "49309018"));
        if (!strcmp(v[i].value, "203.0.113.7")) {
            found |= 1;
            assert_string_equal(v[i].kind, "ipv4");
            assert_int_equal(v[i].count, 6); /* 1 + the second event's count 5 */
            assert_int_equal(v[i].confidence, 85);
            assert_int_equal(v[i].first_seen_ns, T0);
            assert_int_equal(v[i].last_seen_ns, T0 + 30 * S);
            assert_int_equal(v[i].modified_ns, T0 + 30 * S);
            assert_int_equal(v[i].valid_until_ns, T0 + 30 * S + 7 * 86400 * S);
            assert_string_equal(v[i].tlp, "AMBER");
        } else if (!strcmp(v[i].value, "+2250712345007")) {
            found |= 2;
            assert_string_equal(v[i].kind, "e164");
            assert_string_equal(v[i].event_type, "wangiri_cli");
            assert_int_equal(v[i].valid_until_ns - v[i].last_seen_ns, 72 * 3600 * S);
        } else if (!strcmp(v[i].value, "+8823456")) {
            found |= 4; /* the called range, 7 digits, never the full number */
            assert_string_equal(v[i].kind, "e164_prefix");
            assert_string_equal(v[i].fraud_class, "irsf");
        }
    }
    assert_int_equal(found, 7);

    /* ids are ex-a's deterministic FSE ids */
    char id[SW_FSE_UUID_LEN];
    assert_int_equal(sw_fse_make_id("ZZ01", SW_FSE_KIND_IPV4, "203.0.113.7", "sip_scan", id), SW_OK);
    int same = 0;
    for (size_t i = 0; i < n; i++)
        same += !strcmp(v[i].id, id);
    assert_int_equal(same, 1);

    /* signing: every object gets a detached JWS that verifies */
    sw_jws_key *k = sw_jws_key_generate("ZZ01:1");
    assert_non_null(k);
    assert_int_equal(sw_xo_set_sign(s, k, SW_JWS_EDDSA), SW_OK);
    char *jwks_text = sw_jws_key_public_jwks(k);
    char err[256];
    sw_jwks *jwks = sw_jwks_parse(jwks_text, strlen(jwks_text), err, sizeof err);
    assert_non_null(jwks);
    sw_fse_keyring *kr = sw_fse_keyring_new();
    assert_int_equal(sw_fse_keyring_set(kr, "ZZ01", jwks), SW_OK);
    size_t nf = 0;
    const sw_fse *f = sw_xo_set_fse(s, &nf);
    assert_int_equal(nf, 3);
    for (size_t i = 0; i < nf; i++) {
        size_t len = 0;
        char *t = sw_fse_encode(&f[i], 1, &len);
        assert_non_null(t);
        sw_fse back;
        assert_int_equal(sw_fse_verify(kr, t, len, &back, err, sizeof err), SW_OK);
        free(t);
    }
    v = sw_xo_set_items(s, &n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(v[i].sig);
    /* merging a new observation drops the stale signature */
    assert_int_equal(sw_xo_set_add_event(s, &a), 1);
    v = sw_xo_set_items(s, &n);
    int unsigned_n = 0;
    for (size_t i = 0; i < n; i++)
        unsigned_n += v[i].sig == NULL;
    assert_int_equal(unsigned_n, 1);
    sw_fse_keyring_free(kr);
    free(jwks_text);
    sw_jws_key_free(k);

    /* through the sink */
    sw_xo_set *s2 = sw_xo_set_new("ZZ01", NULL, NULL, 3);
    sw_event_sink *sk = sw_xo_set_sink(s2);
    assert_int_equal(sw_event_emit(sk, &w), SW_OK);
    assert_int_equal(sw_event_emit(sk, &pv), SW_OK);
    size_t n2 = 0;
    (void)sw_xo_set_items(s2, &n2);
    assert_int_equal(n2, 1);
    assert_int_equal(sw_event_sink_close(sk), SW_OK);
    sw_xo_set_free(s2);
    sw_xo_set_free(s);

    /* an explicit policy and group; a group it does not export to */
    const char *pol = "producer ZZ02 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\n"
                      "export sip_scan to partners tlp GREEN ttl 2d confidence 40\n";
    sw_export_policy *ep = sw_export_policy_parse(pol, strlen(pol), err, sizeof err);
    assert_non_null(ep);
    assert_null(sw_xo_set_new(NULL, ep, "nobody", 3));
    sw_xo_set *s3 = sw_xo_set_new(NULL, ep, NULL, 3);
    assert_non_null(s3);
    assert_int_equal(sw_xo_set_add_event(s3, &a), 1);
    assert_int_equal(sw_xo_set_add_event(s3, &w), 0);
    const sw_fse *f3 = sw_xo_set_fse(s3, &n2);
    assert_int_equal(n2, 1);
    assert_string_equal(f3[0].org, "ZZ02");
    assert_int_equal(f3[0].tlp, SW_FSE_TLP_GREEN);
    assert_int_equal(f3[0].confidence, 40);
    sw_xo_set_free(s3);
    sw_export_policy_free(ep);
}

/* Many indicators: the id index finds every repeat, also after the items
 * were sorted (sw_xo_set_items) and more come in; the ceiling holds. */
static void set_scale(void **st)
{
    (void)st;
    enum { MAX = 3000 };
    sw_xo_set *s = sw_xo_set_new("ZZ01", NULL, NULL, MAX);
    assert_non_null(s);
    char ip[64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < MAX + 50; i++) {
            snprintf(ip, sizeof ip, "10.%d.%d.%d:5060", i / 65536, (i / 256) % 256, i % 256);
            sw_event e = scan_event(ip, T0 + (int64_t)(round * 10 + 1) * S, 60);
            int r = sw_xo_set_add_event(s, &e);
            assert_int_equal(r, i < MAX ? 1 : SW_ELIMIT);
        }
        size_t n = 0;
        const sw_xo_ind *v = sw_xo_set_items(s, &n); /* sorts: the index is rebuilt on the next add */
        assert_int_equal(n, MAX);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(v[i].count, (uint32_t)(round + 1));
    }
    assert_int_equal(sw_xo_set_dropped(s), 3 * 50);
    sw_xo_set_free(s);
    assert_null(sw_xo_set_new(NULL, NULL, NULL, 3)); /* the built-in policy needs an org */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(misp_feed), cmocka_unit_test(csv_out), cmocka_unit_test(apiban),
        cmocka_unit_test(event_set), cmocka_unit_test(set_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
