/* The export policy: line-numbered refusals (numbers in clear where
 * exchange.md forbids them, HMAC rules without keys, bad values), the
 * event -> FSE mapping per event type, the anti-echo rule, min-confidence,
 * and HMAC-SHA256 (RFC 4231 vector) with key rotation and overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"
#include "sipwall/exchange.h"

#define K20 "hex:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define K16 "hex:00112233445566778899aabbccddeeff"

static const char policy_text[] =
    "# test policy\n"
    "producer ZZ01 6F1C2A1E-6a5e-4b0e-9c1d-2f6f8f7f0a11\n"
    "hmac-key partners k1 " K20 " until 2026-12-08T00:00:00.000Z\n"
    "hmac-key partners k2 " K16 " from 2026-12-07T00:00:00.000Z\n"
    "export sip_scan to partners tlp GREEN confidence 90 ttl 6h severity high\n"
    "export wangiri_cli to partners ttl 2d min-confidence 50\n"
    "export irsf_call to partners prefix 6 action block\n"
    "export cli_spoofing to partners tlp AMBER+STRICT\n"
    "export sip_bruteforce to csirt indicator user_agent tlp CLEAR\n";

#define T0 1796623200000LL /* 2026-12-07T06:00:00.000Z */

static sw_export_policy *policy(void)
{
    char err[256];
    sw_export_policy *p = sw_export_policy_parse(policy_text, strlen(policy_text), err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    return p;
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\n\nexport cli_spoofing to g indicator calling\n",
         "line 3: indicator calling would share a subscriber number"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport sip_scan to g indicator called\n",
         "line 2: indicator called"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport cli_spoofing to g\n",
         "line 2: no hmac-key for group 'g'"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nhmac-key g k " K16 "\n"
         "export cli_spoofing to g tlp GREEN\n",
         "line 3: subscriber-related indicators need tlp AMBER"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport sip_scan to g ttl 5w\n",
         "line 2: bad value '5w' for ttl"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport sip_scan to g confidence 101\n",
         "line 2: bad value"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport admin_change to g\n",
         "line 2: 'admin_change' is not a shareable event type"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport sip_scan to g\nexport sip_scan to g tlp RED\n",
         "line 3: 'sip_scan' to 'g' already exported on line 2"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nhmac-key g k hex:0011\n",
         "line 2: hex key must be 16..64 bytes"},
        {"producer ZZ01 nope\n", "line 1: producer: 'nope' is not a UUID"},
        {"export sip_scan to g\n", "no 'producer ORG NODE-UUID' line"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nfrobnicate\n",
         "line 2: unknown directive 'frobnicate'"},
        {"producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\nexport sip_scan to g colour red\n",
         "line 2: unknown option 'colour'"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        sw_export_policy *p = sw_export_policy_parse(bad[i].text, strlen(bad[i].text), err,
                                                     sizeof err);
        if (p || !strstr(err, bad[i].why))
            fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].why);
    }
}

static void ev_init(sw_event *ev, sw_event_type t)
{
    sw_event_init(ev, t, SW_CAT_BEHAVIOURAL, "test.rule");
    ev->ts_ns = T0 * 1000000;
    ev->confidence = 70;
    ev->src.family = 4;
    ev->src.ip[0] = 203;
    ev->src.ip[1] = 0;
    ev->src.ip[2] = 113;
    ev->src.ip[3] = 7;
    ev->transport = SW_TRANSPORT_UDP;
    ev->method = SW_STR_LIT("REGISTER");
}

static void test_from_event(void **state)
{
    (void)state;
    sw_export_policy *p = policy();
    assert_string_equal(sw_export_policy_group(p, 0), "partners");
    assert_string_equal(sw_export_policy_group(p, 1), "csirt");
    assert_null(sw_export_policy_group(p, 2));
    sw_event ev;
    sw_fse o;
    char err[256];

    ev_init(&ev, SW_EVT_SIP_SCAN);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_IPV4);
    assert_string_equal(o.value, "203.0.113.7");
    assert_string_equal(o.event_type, "sip_scan");
    assert_string_equal(o.node, "6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11");
    assert_int_equal(o.tlp, SW_FSE_TLP_GREEN);
    assert_int_equal(o.confidence, 90);
    assert_int_equal(o.severity, SW_FSE_SEV_HIGH);
    assert_int_equal(o.valid_until_ms, T0 + 6 * 3600000LL);
    assert_string_equal(o.ctx_sip_method, "REGISTER");
    assert_string_equal(o.ctx_transport, "udp");
    assert_int_equal(sw_fse_validate(&o, err, sizeof err), SW_OK);
    char id[SW_FSE_UUID_LEN];
    assert_int_equal(sw_fse_make_id("ZZ01", SW_FSE_KIND_IPV4, "203.0.113.7", "sip_scan", id), SW_OK);
    assert_string_equal(o.id, id);
    /* no rule for this group / type */
    assert_int_equal(sw_fse_from_event(p, "csirt", &ev, &o), 0);
    ev_init(&ev, SW_EVT_SIP_FLOOD);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 0);

    /* anti-echo: enforcement caused by a partner's indicator */
    ev_init(&ev, SW_EVT_SIP_SCAN);
    assert_int_equal(sw_event_add_str(&ev, SW_EXPORT_ORIGIN_KEY, SW_STR_LIT("feed")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 0);
    ev_init(&ev, SW_EVT_SIP_SCAN);
    assert_int_equal(sw_event_add_str(&ev, SW_EXPORT_ORIGIN_KEY, SW_STR_LIT("rule")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);

    /* Wangiri: the A-number (the attacker's) in clear; min-confidence */
    ev_init(&ev, SW_EVT_WANGIRI_CLI);
    ev.from = SW_STR_LIT("+882-1301-2345");
    ev.to = SW_STR_LIT("+447700900123");
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_E164);
    assert_string_equal(o.value, "+88213012345");
    assert_string_equal(o.fraud_class, "wangiri");
    assert_int_equal(o.confidence, 70); /* the event's */
    assert_int_equal(o.tlp, SW_FSE_TLP_AMBER);
    ev.confidence = 40;
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 0);
    ev.confidence = 70;
    ev.from = SW_STR_LIT("07700900123"); /* national: not shareable as E.164 */
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 0);

    /* IRSF: the called range, never the full number */
    ev_init(&ev, SW_EVT_IRSF_CALL);
    ev.ruri = SW_STR_LIT("0088213012345");
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_E164_PREFIX);
    assert_string_equal(o.value, "+882130");

    /* CLI spoofing: the spoofed number is a subscriber's: HMAC under k2 */
    ev_init(&ev, SW_EVT_CLI_SPOOFING);
    ev.pai = SW_STR_LIT("+447700900123");
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_E164_HMAC);
    assert_string_equal(o.key_id, "k2");
    assert_int_equal(o.tlp, SW_FSE_TLP_AMBER_STRICT);
    assert_null(strstr(o.value, "7700900123"));
    char hex[65], kid[SW_FSE_NAME_MAX];
    assert_int_equal(sw_export_hmac(p, "partners", T0, "447700900123", hex, kid), SW_OK);
    assert_string_equal(o.value, hex);
    size_t len;
    char *enc = sw_fse_encode(&o, 0, &len);
    assert_non_null(enc);
    assert_null(strstr(enc, "7700900123"));
    free(enc);

    /* user_agent indicator from evidence; junk bytes give nothing */
    ev_init(&ev, SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(sw_event_add_str(&ev, "user_agent", SW_STR_LIT("friendly-scanner")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "csirt", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_USER_AGENT);
    assert_string_equal(o.value, "friendly-scanner");
    ev_init(&ev, SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(sw_event_add_str(&ev, "user_agent", SW_STR_LIT("bad\r\nInjected: 1")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "csirt", &ev, &o), 0);
    sw_export_policy_free(p);
}

/* indicator calling_range: a campaign's calling range (the detector's
 * offender) as e164_prefix; an event about one number shares the number;
 * an offender that is not a range of the calling number is not shared. */
static void test_calling_range(void **state)
{
    (void)state;
    static const char text[] = "producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\n"
                               "export wangiri_cli to partners indicator calling_range ttl 1d\n";
    char err[256];
    sw_export_policy *p = sw_export_policy_parse(text, strlen(text), err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    sw_event ev;
    sw_fse o;
    ev_init(&ev, SW_EVT_WANGIRI_CLI);
    ev.from = SW_STR_LIT("+882130100111");
    assert_int_equal(sw_event_add_str(&ev, "offender", SW_STR_LIT("+882130")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_E164_PREFIX);
    assert_string_equal(o.value, "+882130");
    assert_int_equal(sw_fse_validate(&o, err, sizeof err), SW_OK);
    char id[SW_FSE_UUID_LEN];
    assert_int_equal(sw_fse_make_id("ZZ01", SW_FSE_KIND_E164_PREFIX, "+882130", "wangiri_cli", id), SW_OK);
    assert_string_equal(o.id, id);
    /* per caller: the offender is the number itself */
    ev_init(&ev, SW_EVT_WANGIRI_CLI);
    ev.from = SW_STR_LIT("+882130100111");
    assert_int_equal(sw_event_add_str(&ev, "offender", SW_STR_LIT("+882130100111")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_E164);
    assert_string_equal(o.value, "+882130100111");
    /* an offender that is not the caller's range: the number, never it */
    ev_init(&ev, SW_EVT_WANGIRI_CLI);
    ev.from = SW_STR_LIT("+882130100111");
    assert_int_equal(sw_event_add_str(&ev, "offender", SW_STR_LIT("+447700")), SW_OK);
    assert_int_equal(sw_fse_from_event(p, "partners", &ev, &o), 1);
    assert_int_equal(o.kind, SW_FSE_KIND_E164);
    assert_string_equal(o.value, "+882130100111");
    sw_export_policy_free(p);
    /* a subscriber's range is never shared in clear */
    static const char bad[] = "producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11\n"
                              "export cli_spoofing to partners indicator calling_range\n";
    assert_null(sw_export_policy_parse(bad, strlen(bad), err, sizeof err));
}

typedef struct seen {
    int n;
    char ids[4][SW_FSE_NAME_MAX];
} seen;

static void on_key(void *arg, const char *key_id, const char hex[65])
{
    seen *s = arg;
    (void)hex;
    if (s->n < 4)
        snprintf(s->ids[s->n], SW_FSE_NAME_MAX, "%s", key_id);
    s->n++;
}

static void test_hmac_rotation(void **state)
{
    (void)state;
    sw_export_policy *p = policy();
    char hex[65], kid[SW_FSE_NAME_MAX];
    /* before k2: k1 only; RFC 4231 test case 1 */
    int64_t before = T0 - 7 * 3600000LL; /* 2026-12-06T23:00 */
    assert_int_equal(sw_export_hmac(p, "partners", before, "Hi There", hex, kid), SW_OK);
    assert_string_equal(kid, "k1");
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    seen s = {0};
    assert_int_equal(sw_export_hmac_all(p, "partners", before, "Hi There", on_key, &s), 1);
    /* overlap: k2 is current, both valid */
    s.n = 0;
    assert_int_equal(sw_export_hmac(p, "partners", T0, "Hi There", hex, kid), SW_OK);
    assert_string_equal(kid, "k2");
    assert_int_equal(sw_export_hmac_all(p, "partners", T0, "Hi There", on_key, &s), 2);
    /* after k1's end: k2 only */
    s.n = 0;
    int64_t after = T0 + 24 * 3600000LL;
    assert_int_equal(sw_export_hmac_all(p, "partners", after, "Hi There", on_key, &s), 1);
    assert_string_equal(s.ids[0], "k2");
    /* no key at all for the group */
    assert_int_equal(sw_export_hmac(p, "csirt", T0, "x", hex, kid), SW_ENOTFOUND);
    sw_export_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_from_event),
        cmocka_unit_test(test_calling_range),
        cmocka_unit_test(test_hmac_rotation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
