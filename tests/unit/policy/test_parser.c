/* The policy language: invalid snippets must fail on the exact line with a
 * message that says what is wrong; valid files must compile into the
 * expected structures (peers, ranges, lists, rule order, condition trees,
 * detector settings), and a later file must overlay an earlier one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/policy.h"

#define DATA SW_TEST_DATA "/policy"

static sw_policy_diags diags;

static sw_policy *load_text_ok(const char *text)
{
    sw_policy *p = NULL;
    int rc = sw_policy_load_text("t.policy", text, strlen(text), DATA, &p, &diags);
    if (rc != SW_OK) {
        char line[600];
        for (uint32_t i = 0; i < diags.n; i++)
            if (sw_policy_diag_format(&diags.d[i], line, sizeof line) > 0)
                print_message("%s\n", line);
        fail_msg("load failed: %s", sw_strerror(rc));
    }
    assert_non_null(p);
    return p;
}

static sw_policy *load_files_ok(const char *const *paths, size_t n)
{
    sw_policy *p = NULL;
    int rc = sw_policy_load(paths, n, &p, &diags);
    if (rc != SW_OK) {
        char line[600];
        for (uint32_t i = 0; i < diags.n; i++)
            if (sw_policy_diag_format(&diags.d[i], line, sizeof line) > 0)
                print_message("%s\n", line);
        fail_msg("load failed: %s", sw_strerror(rc));
    }
    return p;
}

/* ---- invalid policies -------------------------------------------------------------- */
typedef struct bad_case {
    const char *text;
    uint32_t line;
    const char *word; /* in the first diagnostic's message */
} bad_case;

static const bad_case bad_cases[] = {
    {"policy \"x\"\nfrobnicate 1\n", 2, "unknown statement"},
    {"partner a {\n  role interconnect\n  address 10.0.0.0/33\n}\n", 3, "bad address"},
    {"partner a {\n  address 10.0.0.1/8\n}\n", 2, "host bits"},
    {"home {\n plmn 234-15\n ranges +4477-+44770\n}\n", 3, "length"},
    {"home {\n ranges +447799-+447700\n}\n", 2, "above"},
    {"rule cat1.x {\n  action drop\n}\n", 1, "no 'when'"},
    {"rule cat1.x {\n when request\n}\n", 1, "no action"},
    {"rule x {\n when request\n action drop\n}\n", 1, "no category"},
    /* the vocabulary of sipwall's own events is not for rules */
    {"rule cat1.x {\n when request\n event event_loss\n action drop\n}\n", 3, "reserved"},
    {"rule x {\n category system\n when request\n action drop\n}\n", 2, "unknown category"},
    {"rule system.x {\n when request\n action drop\n}\n", 1, "no category"},
    {"rule cat1.x {\n when request\n action reject 399\n}\n", 3, "400-699"},
    {"rule cat1.x {\n when request\n\n action reject 700\n}\n", 4, "400-699"},
    {"detector scan {\n window 60s\n block 10q\n}\n", 3, "duration"},
    {"detector scan {\n failure-ratio 170%\n}\n", 2, "percentage"},
    {"detector scan {\n failure-ratio 70\n}\n", 2, "percentage"},
    {"detector irsf {\n quiet-hours 24-06\n}\n", 2, "bad hours"},
    {"detector irsf {\n quiet-hours 22\n}\n", 2, "bad hours"},
    {"detector irsf {\n quiet-hours 22-+6\n}\n", 2, "bad hours"},
    {"detector irsf {\n quiet-hours 22-06x\n}\n", 2, "bad hours"},
    {"detector irsf {\n utc-offset +15:00\n}\n", 2, "UTC offset"},
    {"detector irsf {\n utc-offset +01:60\n}\n", 2, "UTC offset"},
    {"detector irsf {\n utc-offset 5\n}\n", 2, "UTC offset"},
    {"detector irsf {\n utc-offset +-1\n}\n", 2, "UTC offset"},
    {"detector irsf {\n quiet-days sat\n}\n", 2, "bad days"},
    {"partner a {\n address 10.0.0.1\n night-calls maybe\n}\n", 3, "night-calls"},
    {"detector irsf {\n quiet-days sat-xyz\n}\n", 2, "bad days"},
    {"detector irsf {\n quiet-days saturday-sun\n}\n", 2, "bad days"},
    {"list hr numbers { +4477 }\nrule cat1.x {\n when src in hr\n action drop\n}\n", 3,
     "type mismatch"},
    {"rule cat1.x {\n category cat1\n when src in home.ranges\n action drop\n}\n", 3,
     "type mismatch"},
    {"rule cat1.x {\n when ruri in peer.methods\n action drop\n}\n", 2, "peer.methods"},
    {"list ua patterns { \"x\" }\nrule cat1.x {\n when user-agent in ua\n action drop\n}\n", 3,
     "patterns list"},
    {"list n numbers { +44 }\nrule cat1.x {\n when user-agent matches list n\n action drop\n}\n",
     3, "patterns list"},
    {"partner a {\n address 10.0.0.1\n}\n\npartner a {\n address 10.0.0.2\n}\n", 5, "twice"},
    {"rule cat1.x {\n when request\n action drop\n}\nrule cat1.x {\n when response\n action "
     "drop\n}\n",
     5, "twice"},
    {"rule cat1.x {\n when user-agent == \"abc\n action drop\n}\n", 2, "unterminated string"},
    {"policy \"x\"\npartner a {\n address 10.0.0.1\n", 2, "unterminated block"},
    {"list hr numbers file \"does-not-exist.tsv\"\n", 1, "does-not-exist.tsv"},
    {"rule cat1.x {\n when size > abc\n action drop\n}\n", 2, "not a number"},
    {"rule cat1.x {\n when request and bogus.field\n action drop\n}\n", 2, "unknown field"},
    {"rule cat1.x {\n when request\n action explode\n}\n", 3, "unknown action"},
    {"rule cat1.x {\n when ruri matches \"a(\"\n action drop\n}\n", 2, "bad pattern"},
    {"list ua patterns {\n \"ok\"\n \"[unclosed\"\n}\n", 3, "bad pattern"},
    {"rule cat1.x {\n when user-agent matches list nope\n action drop\n}\n", 2, "unknown list"},
    {"partner a {\n role interconnect\n}\n", 1, "no address"},
    {"partner a {\n address 10.0.0.1\n trust maybe\n}\n", 3, "trust"},
    {"partner a {\n address 10.0.0.1\n methods INVITE invite\n}\n", 3, "unknown method"},
    {"limits {\n sources 10\n event-window 0s\n}\n", 3, "event-window"},
    {"rule cat1.x {\n when (request or\n response\n action drop\n}\n", 4, "')'"},
    {"rule cat1.x {\n when request and\n\n method == INVITE garbage\n action drop\n}\n", 4,
     "garbage"},
    {"detector nope {\n}\n", 1, "unknown detector"},
    {"rule cat1.x {\n category cat9\n when request\n action drop\n}\n", 2, "unknown category"},
    {"policy \"x\"\n\x01\n", 2, "unexpected byte"},
    {"partner a {\n address 10.0.0.1\n}\npartner b {\n address 10.0.0.1/32\n}\n", 5,
     "already belongs"},
    {"rule cat1.x {\n when request\n action rate-limit 0/s\n}\n", 3, "rate"},
    {"rule cat1.x {\n when method < INVITE\n action drop\n}\n", 2, "number field"},
    {"rule cat1.x {\n when request == yes\n action drop\n}\n", 2, "true or false"},
    {"rule cat1.x {\n when src == 10.0.0.1\n action drop\n}\n", 2, "address"},
    {"rule cat1.x {\n when size in { 1, 2 }\n action drop\n}\n", 2, "'in' needs"},
    {"rule cat1.x {\n when has\n action drop\n}\n", 2, "header name"},
    {"rule cat1.x {\n event no_such_event\n when request\n action drop\n}\n", 2, "event type"},
    {"home {\n plmn 2341-5\n}\n", 2, "PLMN"},
    {"privacy {\n ingress-action maybe\n}\n", 2, "ingress-action"},
    {"zone unknown {\n address 10.0.0.1\n}\n", 2, "unknown zone"},
    {"partner unknown {\n address 10.0.0.1\n}\n", 1, "unknown"},
    {"list x colours { a }\n", 1, "list kind"},
    {"rule cat1.x {\n when a in { +44, +4a }\n action drop\n}\n", 2, "bad E.164"},
    {"rule cat1.x {\n when not not not (((request))) and header. == 1\n action drop\n}\n", 2,
     "header"},
    {"rule cat1.x {\n when request\n action drop\n bogus 1\n}\n", 4, "unknown setting"},
    {"}\n", 1, "unexpected '}'"},
    {"rule cat1.x {\n when request = 1\n action drop\n}\n", 2, "unexpected '='"},
    {"include \"cycle_a.policy\"\n", 2, "include cycle"},
};

/* quiet-hours and utc-offset: local hours FROM-TO and +/-HH:MM. */
static void test_hours_and_offset(void **state)
{
    (void)state;
    const char *cases[][3] = {{"23-05", "-05:30", "fri-mon"},
                              {"00-07", "+02", "none"},
                              {"22-06", "0", "sat-sun"}};
    const int64_t want[][3] = {{2305, -330, 140}, {7, 120, 0}, {2206, 0, 156}};
    for (unsigned i = 0; i < 3; i++) {
        char text[200];
        snprintf(text, sizeof text,
                 "detector irsf {\n quiet-hours %s\n utc-offset %s\n quiet-days %s\n}\n",
                 cases[i][0], cases[i][1], cases[i][2]);
        sw_policy *p = NULL;
        assert_int_equal(sw_policy_load_text("t.policy", text, strlen(text), DATA, &p, &diags),
                         SW_OK);
        assert_int_equal(p->detectors[SW_DET_IRSF].params[SW_DP_IRSF_QUIET_HOURS], want[i][0]);
        assert_int_equal(p->detectors[SW_DET_IRSF].params[SW_DP_IRSF_UTC_OFFSET], want[i][1]);
        assert_int_equal(p->detectors[SW_DET_IRSF].params[SW_DP_IRSF_QUIET_DAYS], want[i][2]);
        sw_policy_free(p);
    }
}

static void test_invalid_snippets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        sw_policy *p = (sw_policy *)0x1;
        int rc = sw_policy_load_text("t.policy", c->text, strlen(c->text), DATA, &p, &diags);
        if (rc == SW_OK) {
            sw_policy_free(p);
            fail_msg("case %zu loaded but should fail: %s", i, c->text);
        }
        assert_null(p);
        assert_true(diags.n >= 1);
        assert_true(diags.errors >= 1);
        const sw_policy_diag *d = &diags.d[0];
        if (d->line != c->line || !strstr(d->msg, c->word))
            fail_msg("case %zu: want line %u with '%s', got %s:%u:%u: %s", i, c->line, c->word,
                     d->file, d->line, d->col, d->msg);
    }
}

static void test_diag_format_and_cap(void **state)
{
    (void)state;
    /* 40 bad lines: 32 kept, all counted */
    char text[2048] = "";
    for (int i = 0; i < 40; i++)
        strcat(text, "nonsense here\n");
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load_text("many.policy", text, strlen(text), NULL, &p, &diags),
                     SW_EINVAL);
    assert_int_equal(diags.n, SW_POLICY_MAX_DIAGS);
    assert_int_equal(diags.errors, 40);
    assert_int_equal(diags.d[39 - 8].line, 32);
    char line[600];
    assert_true(sw_policy_diag_format(&diags.d[0], line, sizeof line) > 0);
    assert_string_equal(line, "many.policy:1:1: error: unknown statement 'nonsense' (policy, "
                              "mode, include, location-feed, home, role, partner, zone, list, "
                              "privacy, limits, detector, rule)");
    /* a column points at the token */
    const char *t2 = "rule cat1.x {\n  when   size > abc\n action drop\n}\n";
    assert_int_equal(sw_policy_load_text("c.policy", t2, strlen(t2), NULL, &p, &diags),
                     SW_EINVAL);
    assert_int_equal(diags.d[0].line, 2);
    assert_int_equal(diags.d[0].col, 17);
    /* an unreadable file is named, with no line */
    const char *missing[] = {DATA "/no-such.policy"};
    assert_int_equal(sw_policy_load(missing, 1, &p, &diags), SW_EIO);
    assert_int_equal(diags.d[0].line, 0);
    assert_non_null(strstr(diags.d[0].file, "no-such.policy"));
    assert_true(sw_policy_diag_format(&diags.d[0], line, sizeof line) > 0);
    assert_non_null(strstr(line, "no-such.policy: error: cannot read"));
}

static void test_list_file_errors(void **state)
{
    (void)state;
    const char *t = "list x numbers file \"bad_list.tsv\"\n";
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load_text("t.policy", t, strlen(t), DATA, &p, &diags), SW_EINVAL);
    assert_int_equal(diags.n, 1);
    assert_int_equal(diags.d[0].line, 3);
    assert_non_null(strstr(diags.d[0].file, "bad_list.tsv"));
    assert_non_null(strstr(diags.d[0].msg, "not-a-number"));
    /* an unreadable list file is an I/O error that names the path */
    t = "list x numbers file \"nope.tsv\"\n";
    assert_int_equal(sw_policy_load_text("t.policy", t, strlen(t), DATA, &p, &diags), SW_EIO);
    assert_non_null(strstr(diags.d[0].msg, DATA "/nope.tsv"));
}

static void test_include_cycle_file(void **state)
{
    (void)state;
    const char *paths[] = {DATA "/cycle_a.policy"};
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load(paths, 1, &p, &diags), SW_EINVAL);
    assert_int_equal(diags.errors, 1);
    assert_non_null(strstr(diags.d[0].file, "cycle_b.policy"));
    assert_int_equal(diags.d[0].line, 2);
    assert_non_null(strstr(diags.d[0].msg, "cycle"));
}

/* Bytes that are not a policy must give errors, never a crash. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    char buf[4096];
    uint32_t seed = 7;
    static const char alphabet[] = "{}()\";,#=!<>\n\t \\abcxyz019+-./:%@*_rulewhenactionpartner";
    for (int round = 0; round < 300; round++) {
        size_t n = (size_t)(round * 13 % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (round & 1) ? (char)(seed >> 16) : alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        sw_policy *p = NULL;
        int rc = sw_policy_load_text("fuzz.policy", buf, n, NULL, &p, &diags);
        if (rc == SW_OK)
            sw_policy_free(p);
        else
            assert_null(p);
    }
    /* a line longer than the cap */
    size_t big = 10000;
    char *t = malloc(big + 1);
    assert_non_null(t);
    memset(t, 'a', big);
    t[big] = '\0';
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load_text("long.policy", t, big, NULL, &p, &diags), SW_EINVAL);
    assert_non_null(strstr(diags.d[0].msg, "longer"));
    free(t);
    /* deep nesting is refused, not recursed into */
    char deep[1200] = "rule cat1.x {\n when ";
    for (int i = 0; i < 500; i++)
        strcat(deep, "(");
    strcat(deep, "request\n action drop\n}\n");
    assert_int_equal(sw_policy_load_text("deep.policy", deep, strlen(deep), NULL, &p, &diags),
                     SW_EINVAL);
    assert_non_null(strstr(diags.d[0].msg, "nested"));
}

/* ---- valid policies --------------------------------------------------------------- */
static const sw_rule *rule(const sw_policy *p, const char *id, uint32_t *pos)
{
    for (uint32_t i = 0; i < p->nrules; i++)
        if (strcmp(p->rules[i].id, id) == 0) {
            if (pos)
                *pos = i;
            return &p->rules[i];
        }
    fail_msg("no rule %s", id);
    return NULL;
}

static const sw_peer *peer_at(const sw_policy *p, const char *ip)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(ip, &a), SW_OK);
    return sw_policy_peer_for(p, &a);
}

static size_t plookup(const sw_prefix_set *s, const char *digits)
{
    return sw_prefix_set_lookup(s, digits, strlen(digits), NULL);
}

static void test_main_policy(void **state)
{
    (void)state;
    const char *paths[] = {DATA "/main.policy"};
    sw_policy *p = load_files_ok(paths, 1);
    assert_string_equal(p->name, "test interconnect");
    assert_string_equal(p->version, "2026-11");
    assert_int_equal(diags.errors, 0);
    assert_int_equal(p->nfiles, 3); /* main, partners (included), the list file */

    /* home */
    assert_string_equal(p->home.plmn, "234-15");
    assert_string_equal(p->home.country_code, "44");
    assert_int_equal(p->home.national_prefix, '0');
    assert_int_equal(plookup(p->home.ranges, "447700900500"), 9);
    assert_int_equal(plookup(p->home.ranges, "447700901000"), 0);
    assert_int_equal(plookup(p->home.ranges, "44770099123"), 8);
    assert_true(sw_string_set_lookup(p->home.domains,
                                     SW_STR_LIT("IMS.mnc015.mcc234.3gppnetwork.org"), NULL));

    /* peers: alpha, beta, gamma, then the declared unknown zone */
    assert_int_equal(p->npeers, 4);
    const sw_peer *alpha = sw_policy_peer_by_name(p, "alpha");
    assert_non_null(alpha);
    assert_ptr_equal(peer_at(p, "127.0.0.21"), alpha);
    assert_ptr_equal(peer_at(p, "2001:db8:21::5"), alpha);
    assert_int_equal(alpha->role, SW_ROLE_INTERCONNECT);
    assert_int_equal(alpha->trusted, 1); /* from the role block */
    assert_int_equal(alpha->methods, (1u << SW_METHOD_INVITE) | (1u << SW_METHOD_ACK) |
                                         (1u << SW_METHOD_BYE) | (1u << SW_METHOD_CANCEL) |
                                         (1u << SW_METHOD_OPTIONS));
    assert_string_equal(alpha->plmn, "208-01");
    assert_int_equal(alpha->cps, 50);
    assert_int_equal(alpha->concurrency, 500);
    assert_int_equal(alpha->naddresses, 2);
    assert_true(sw_hdr_mask_has(&alpha->agreed, SW_HDR_P_VISITED_NETWORK_ID));
    assert_true(sw_hdr_mask_has(&alpha->agreed, SW_HDR_P_CHARGING_VECTOR));
    assert_false(sw_hdr_mask_has(&alpha->agreed, SW_HDR_P_ASSERTED_IDENTITY));
    assert_int_equal(plookup(alpha->ranges, "33639985555"), 7); /* 3363998 covers the range */
    assert_int_equal(plookup(alpha->ranges, "33639990000"), 0);
    assert_true(sw_string_set_lookup(alpha->tls_ids, SW_STR_LIT("sbc.alpha.example"), NULL));
    assert_true(sw_string_set_lookup(alpha->realms, SW_STR_LIT("ims.mnc002.mcc208.3gppnetwork.org"),
                                     NULL));
    assert_string_equal(alpha->file, DATA "/partners.policy");
    assert_int_equal(alpha->line, 2);

    const sw_peer *beta = sw_policy_peer_by_name(p, "beta");
    assert_non_null(beta);
    assert_int_equal(beta->role, SW_ROLE_TRANSIT);
    assert_int_equal(beta->trusted, 0); /* no role block for transit */
    assert_int_equal(beta->methods, (1u << SW_METHOD__COUNT) - 1);
    assert_int_equal(beta->naddresses, 3);
    assert_ptr_equal(peer_at(p, "192.0.2.200"), beta);
    assert_null(beta->ranges);

    const sw_peer *gamma = sw_policy_peer_by_name(p, "gamma");
    assert_int_equal(gamma->role, SW_ROLE_ROAMING);
    assert_int_equal(gamma->trusted, 1);
    assert_true(gamma->methods & (1u << SW_METHOD_OTHER));
    assert_true(gamma->methods & (1u << SW_METHOD_REGISTER));
    assert_false(gamma->methods & (1u << SW_METHOD_MESSAGE));

    const sw_peer *unk = p->unknown;
    assert_non_null(unk);
    assert_string_equal(unk->name, "unknown");
    assert_int_equal(unk->is_zone, 1);
    assert_int_equal(unk->admit, SW_ADMIT_DROP);
    assert_int_equal(unk->admit_monitor, 1);
    assert_ptr_equal(peer_at(p, "198.51.100.1"), unk);
    assert_ptr_equal(peer_at(p, "127.0.0.22"), unk);
    assert_null(p->core);

    /* lists */
    const sw_list *hr = sw_policy_list_by_name(p, "highrisk");
    assert_non_null(hr);
    assert_int_equal(hr->kind, SW_LIST_NUMBERS);
    assert_int_equal(hr->count, 4); /* the header line is skipped */
    assert_string_equal(hr->entries[0], "+88213");
    assert_string_equal(hr->labels[0], "Thuraya");
    assert_string_equal(hr->labels[1], "International networks");
    uint32_t v = 99;
    assert_int_equal(sw_prefix_set_lookup(hr->numbers, "8821355", 7, &v), 5);
    assert_int_equal(v, 0);
    assert_int_equal(sw_prefix_set_lookup(hr->numbers, "8829", 4, &v), 3);
    assert_int_equal(v, 1);
    assert_int_equal(sw_prefix_set_lookup(hr->numbers, "2395123", 7, &v), 3); /* 2390-2399 is 239 */
    assert_int_equal(v, 3);
    assert_int_equal(sw_prefix_set_lookup(hr->numbers, "2389", 4, &v), 0);
    const sw_list *bn = sw_policy_list_by_name(p, "bad-nets");
    assert_int_equal(bn->kind, SW_LIST_ADDRESSES);
    assert_int_equal(bn->count, 2);
    sw_addr a;
    assert_int_equal(sw_addr_parse("2001:db8:bad::1", &a), SW_OK);
    assert_true(sw_cidr_table_lookup(bn->addresses, &a, &v));
    assert_int_equal(v, 1);
    assert_null(sw_policy_list_by_name(p, "nope"));

    /* privacy and limits */
    assert_true(sw_hdr_mask_has(&p->privacy.egress_strip, SW_HDR_P_ACCESS_NETWORK_INFO));
    assert_true(sw_hdr_mask_has(&p->privacy.egress_strip, SW_HDR_CELLULAR_NETWORK_INFO));
    assert_false(sw_hdr_mask_has(&p->privacy.egress_strip, SW_HDR_P_ASSERTED_IDENTITY));
    assert_true(sw_hdr_mask_has(&p->privacy.ingress_strip, SW_HDR_P_PREFERRED_IDENTITY));
    assert_true(sw_hdr_mask_has(&p->privacy.sanitize, SW_HDR_SERVER));
    assert_int_equal(p->privacy.ingress_reject, 1);
    assert_int_equal(p->privacy.monitor, 1);
    assert_int_equal(p->limits.sources, 1000);
    assert_int_equal(p->limits.numbers, 2000);
    assert_int_equal(p->limits.dialogs, 3000);
    assert_int_equal(p->limits.blocks, 400);
    assert_int_equal(p->limits.event_keys, 500);
    assert_int_equal(p->limits.events_per_key, 5);
    assert_int_equal(p->limits.event_window_ns, 120 * SW_NS_S);
    assert_string_equal(p->location_feed, DATA "/subscribers.tsv");

    /* detectors: overrides, defaults for the rest */
    const sw_detector_conf *scan = &p->detectors[SW_DET_SCAN];
    assert_int_equal(scan->enabled, 1);
    assert_int_equal(scan->monitor, 1);
    assert_int_equal(scan->exempt_peers, 0);
    assert_int_equal(scan->confidence, 85);
    assert_int_equal(scan->action, SW_ACTION_REJECT);
    assert_int_equal(scan->status, 403);
    assert_int_equal(scan->params[SW_DP_SCAN_WINDOW], 30 * SW_NS_S);
    assert_int_equal(scan->params[SW_DP_SCAN_FAILURE_RATIO], 75);
    assert_int_equal(scan->params[SW_DP_SCAN_BLOCK], 7200 * SW_NS_S);
    assert_int_equal(scan->params[SW_DP_SCAN_DISTINCT_USERS], 20);
    const sw_detector_conf *irsf = &p->detectors[SW_DET_IRSF];
    assert_int_equal(irsf->list, (int32_t)hr->index);
    assert_int_equal(irsf->params[SW_DP_IRSF_CALLS], 12);
    assert_int_equal(irsf->params[SW_DP_IRSF_CONCURRENT], 3);
    assert_int_equal(irsf->action, SW_ACTION_DROP);
    assert_int_equal(irsf->confidence, 80);
    assert_int_equal(irsf->exempt_peers, 1);
    const sw_detector_conf *flood = &p->detectors[SW_DET_FLOOD];
    assert_int_equal(flood->enabled, 0);
    assert_int_equal(flood->action, SW_ACTION_REJECT);
    assert_int_equal(flood->status, 503);
    assert_int_equal(flood->retry_after_s, 30);
    assert_int_equal(p->detectors[SW_DET_WANGIRI].enabled, 1);
    assert_int_equal(p->detectors[SW_DET_WANGIRI].list, -1);
    sw_policy_free(p);
}

static void test_rules_and_conditions(void **state)
{
    (void)state;
    const char *paths[] = {DATA "/main.policy"};
    sw_policy *p = load_files_ok(paths, 1);
    /* the allow rule, defined last, comes first; the rest keep file order */
    static const char *const order[] = {"cat0.trusted-core", "cat1.method-not-allowed",
                                        "cat1.scanner",      "cat2.precedence",
                                        "cat2.multi-line",   "cat3.headers",
                                        "cat1.too-big"};
    assert_int_equal(p->nrules, 7);
    for (uint32_t i = 0; i < 7; i++)
        assert_string_equal(p->rules[i].id, order[i]);

    const sw_cond *c = p->conds;
    /* request and not method in peer.methods */
    const sw_rule *r = rule(p, "cat1.method-not-allowed", NULL);
    assert_int_equal(r->category, SW_CAT_CAT1);
    assert_int_equal(r->event, SW_EVT_POLICY_VIOLATION);
    assert_int_equal(r->act.action, SW_ACTION_REJECT);
    assert_int_equal(r->act.status, 405);
    assert_int_equal(r->act.block_ns, 3600 * SW_NS_S);
    assert_int_equal(r->confidence, 90);
    assert_int_equal(r->events_each, 1);
    assert_int_equal(r->monitor, 0);
    assert_string_equal(r->reason, "method not allowed on this interface");
    const sw_cond *root = &c[r->cond];
    assert_int_equal(root->op, SW_COND_AND);
    assert_int_equal(c[root->a].op, SW_COND_IS);
    assert_int_equal(c[root->a].field, SW_F_REQUEST);
    assert_int_equal(c[root->b].op, SW_COND_NOT);
    const sw_cond *in = &c[c[root->b].a];
    assert_int_equal(in->op, SW_COND_IN);
    assert_int_equal(in->field, SW_F_METHOD);
    assert_int_equal(in->set, SW_SET_PEER_METHODS);

    /* a in list blocked or b in highrisk and not b.subscriber: or(a, and(b, not)) */
    r = rule(p, "cat2.precedence", NULL);
    assert_int_equal(r->category, SW_CAT_CAT2); /* from the id */
    assert_int_equal(r->event, SW_EVT_CLI_SPOOFING);
    assert_int_equal(r->act.action, SW_ACTION_TAG);
    assert_int_equal(r->confidence, 100);
    root = &c[r->cond];
    assert_int_equal(root->op, SW_COND_OR);
    assert_int_equal(c[root->a].op, SW_COND_IN);
    assert_int_equal(c[root->a].field, SW_F_A);
    assert_int_equal(c[root->a].set, SW_SET_LIST);
    assert_string_equal(p->lists[c[root->a].list]->name, "blocked");
    const sw_cond *and = &c[root->b];
    assert_int_equal(and->op, SW_COND_AND);
    assert_int_equal(c[and->a].op, SW_COND_IN);
    assert_string_equal(p->lists[c[and->a].list]->name, "highrisk");
    assert_int_equal(c[and->b].op, SW_COND_NOT);
    assert_int_equal(c[c[and->b].a].op, SW_COND_IS);
    assert_int_equal(c[c[and->b].a].field, SW_F_B_SUBSCRIBER);

    /* (request and method == INVITE) or header.X-Custom-Thing == "yes", over three lines */
    r = rule(p, "cat2.multi-line", NULL);
    assert_int_equal(r->act.action, SW_ACTION_RATE_LIMIT);
    assert_int_equal(r->act.rate, 20);
    assert_int_equal(r->act.burst, 40);
    assert_int_equal(r->events_each, 0);
    root = &c[r->cond];
    assert_int_equal(root->op, SW_COND_OR);
    assert_int_equal(c[root->a].op, SW_COND_AND);
    const sw_cond *cmp = &c[c[root->a].b];
    assert_int_equal(cmp->op, SW_COND_CMP);
    assert_int_equal(cmp->cmp, SW_CMP_EQ);
    assert_int_equal(cmp->field, SW_F_METHOD);
    assert_string_equal(cmp->str, "INVITE");
    assert_int_equal(cmp->str_len, 6);
    const sw_cond *hdr = &c[root->b];
    assert_int_equal(hdr->op, SW_COND_CMP);
    assert_int_equal(hdr->field, SW_F_HEADER);
    assert_int_equal(hdr->hdr, SW_HDR_OTHER); /* unknown header: kept by name */
    assert_string_equal(hdr->hdr_name, "X-Custom-Thing");
    assert_string_equal(hdr->str, "yes");

    /* has P-Asserted-Identity and header.User-Agent matches "^evil" and src not in bad-nets */
    r = rule(p, "cat3.headers", NULL);
    assert_int_equal(r->category, SW_CAT_CAT3);
    assert_int_equal(r->act.action, SW_ACTION_STRIP);
    assert_true(sw_hdr_mask_has(&r->act.strip, SW_HDR_P_ASSERTED_IDENTITY));
    assert_int_equal(r->act.nstrip_names, 1);
    assert_string_equal(r->act.strip_names[0], "X-Secret-Header");
    root = &c[r->cond];
    assert_int_equal(root->op, SW_COND_AND);
    const sw_cond *left = &c[root->a];
    assert_int_equal(left->op, SW_COND_AND);
    assert_int_equal(c[left->a].op, SW_COND_HAS);
    assert_int_equal(c[left->a].hdr, SW_HDR_P_ASSERTED_IDENTITY);
    assert_string_equal(c[left->a].str, "P-Asserted-Identity");
    const sw_cond *m = &c[left->b];
    assert_int_equal(m->op, SW_COND_MATCHES);
    assert_int_equal(m->field, SW_F_HEADER);
    assert_int_equal(m->hdr, SW_HDR_USER_AGENT);
    assert_int_equal(c[root->b].op, SW_COND_NOT);
    assert_int_equal(c[c[root->b].a].field, SW_F_SRC);

    /* numbers, booleans, ordering */
    r = rule(p, "cat1.too-big", NULL);
    root = &c[r->cond];
    assert_int_equal(root->op, SW_COND_OR);
    const sw_cond *ge = &c[c[root->a].a];
    assert_int_equal(ge->op, SW_COND_CMP);
    assert_int_equal(ge->cmp, SW_CMP_GE);
    assert_int_equal(ge->num, 4096);
    const sw_cond *lt = &c[c[root->a].b];
    assert_int_equal(lt->cmp, SW_CMP_LT);
    assert_int_equal(lt->field, SW_F_MAX_FORWARDS);
    assert_int_equal(lt->num, 2);
    assert_int_equal(c[root->b].field, SW_F_IN_DIALOG);
    assert_int_equal(c[root->b].num, 0);

    /* the inline set of the allow rule is an anonymous address list */
    r = rule(p, "cat0.trusted-core", NULL);
    assert_int_equal(r->act.action, SW_ACTION_ALLOW);
    assert_int_equal(r->category, SW_CAT_CAT0);
    const sw_cond *inl = &c[c[r->cond].b];
    assert_int_equal(inl->op, SW_COND_IN);
    const sw_list *anon = p->lists[inl->list];
    assert_int_equal(anon->anonymous, 1);
    assert_int_equal(anon->kind, SW_LIST_ADDRESSES);
    assert_int_equal(anon->count, 2);
    sw_addr a;
    assert_int_equal(sw_addr_parse("10.9.9.9", &a), SW_OK);
    assert_true(sw_cidr_table_lookup(anon->addresses, &a, NULL));
    sw_policy_free(p);
}

static void test_patterns_through_policy(void **state)
{
    (void)state;
    const char *paths[] = {DATA "/main.policy"};
    sw_policy *p = load_files_ok(paths, 1);
    /* user-agent: the scanner-ua list and a `contains` literal share one database */
    const sw_rule *r = rule(p, "cat1.scanner", NULL);
    assert_int_equal(r->monitor, 1);
    const sw_cond *root = &p->conds[r->cond];
    const sw_cond *ml = &p->conds[root->a], *ct = &p->conds[root->b];
    assert_int_equal(ml->op, SW_COND_MATCHES);
    assert_int_equal(ct->op, SW_COND_MATCHES);
    assert_int_equal(ml->field, SW_F_USER_AGENT);
    assert_int_not_equal(ml->slot, ct->slot);
    assert_non_null(p->patterns[SW_F_USER_AGENT]);
    assert_non_null(p->patterns[SW_F_HEADER]);
    assert_null(p->patterns[SW_F_RURI]);
    sw_pattern_scratch *s = sw_policy_scratch_new(p);
    assert_non_null(s);
    const sw_pattern_db *db = p->patterns[SW_F_USER_AGENT];
    uint64_t list_bit = (uint64_t)1 << ml->slot, lit_bit = (uint64_t)1 << ct->slot;
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("SIPVicious 0.3")), list_bit);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("sipcli/1.0 a.b*c")),
                     list_bit | lit_bit);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("abbbc")), 0);
    assert_int_equal(sw_pattern_db_scan(db, s, SW_STR_LIT("Asterisk PBX")), 0);
    /* header.User-Agent matches "^evil" */
    const sw_rule *h = rule(p, "cat3.headers", NULL);
    const sw_cond *hm = &p->conds[p->conds[p->conds[h->cond].a].b];
    assert_int_equal(sw_pattern_db_scan(p->patterns[SW_F_HEADER], s, SW_STR_LIT("EVIL ua")),
                     (uint64_t)1 << hm->slot);
    sw_pattern_scratch_free(s);
    sw_policy_free(p);
}

static void test_overlay(void **state)
{
    (void)state;
    const char *paths[] = {DATA "/main.policy", DATA "/overlay.policy"};
    sw_policy *p = load_files_ok(paths, 2);
    /* alpha is replaced: new role, new address, the old ones gone; same place */
    const sw_peer *alpha = sw_policy_peer_by_name(p, "alpha");
    assert_non_null(alpha);
    assert_int_equal(alpha->index, 0);
    assert_int_equal(alpha->role, SW_ROLE_ROAMING);
    assert_null(alpha->ranges);
    assert_int_equal(alpha->cps, 0);
    assert_ptr_equal(peer_at(p, "127.0.0.99"), alpha);
    assert_ptr_equal(peer_at(p, "127.0.0.21"), p->unknown);
    /* delta is new and comes after the earlier ones */
    const sw_peer *delta = sw_policy_peer_by_name(p, "delta");
    assert_non_null(delta);
    assert_int_equal(delta->role, SW_ROLE_ENTERPRISE);
    assert_ptr_equal(peer_at(p, "10.20.30.40"), delta);
    assert_int_equal(p->npeers, 5);
    /* the overlaid rule keeps its position; the condition and the action
     * it sets replace the earlier ones, the settings it does not write
     * (block, reason, confidence) stay */
    uint32_t pos = 0;
    const sw_rule *r = rule(p, "cat1.method-not-allowed", &pos);
    assert_int_equal(pos, 1);
    assert_int_equal(r->act.action, SW_ACTION_DROP);
    assert_int_equal(r->act.block_ns, 3600 * SW_NS_S);
    assert_string_equal(r->reason, "method not allowed on this interface");
    assert_int_equal(r->confidence, 90);
    const sw_cond *root = &p->conds[r->cond];
    assert_int_equal(p->conds[root->b].op, SW_COND_CMP);
    assert_string_equal(p->conds[root->b].str, "MESSAGE");
    assert_string_equal(r->file, DATA "/overlay.policy");
    /* the replaced detector starts again from the defaults */
    const sw_detector_conf *scan = &p->detectors[SW_DET_SCAN];
    assert_int_equal(scan->params[SW_DP_SCAN_DISTINCT_USERS], 50);
    assert_int_equal(scan->params[SW_DP_SCAN_WINDOW], 60 * SW_NS_S);
    assert_int_equal(scan->monitor, 0);
    assert_int_equal(scan->action, SW_ACTION_DROP);
    /* the others stay as main.policy set them */
    assert_int_equal(p->detectors[SW_DET_FLOOD].enabled, 0);
    assert_int_equal(p->nfiles, 4);
    sw_policy_free(p);
}

static void test_defaults_and_implicit_zone(void **state)
{
    (void)state;
    sw_policy *p = load_text_ok("partner x { address 192.0.2.1; role core }\n"
                                "list a strings { one, two,\n three }\n"
                                "rule cat1.m { when method in { INVITE, bye }; action drop }\n");
    assert_string_equal(p->name, "unnamed");
    assert_int_equal(p->npeers, 2);
    assert_non_null(p->unknown);
    assert_string_equal(p->unknown->name, "unknown");
    assert_int_equal(p->unknown->admit, SW_ADMIT_SCREEN);
    assert_int_equal(p->unknown->trusted, 0);
    assert_int_equal(p->unknown->index, 1);
    assert_ptr_equal(p->core, sw_policy_peer_by_name(p, "x"));
    assert_int_equal(p->limits.sources, 65536);
    assert_int_equal(p->limits.numbers, 65536);
    assert_int_equal(p->limits.dialogs, 131072);
    assert_int_equal(p->limits.blocks, 65536);
    assert_int_equal(p->limits.event_keys, 65536);
    assert_int_equal(p->limits.events_per_key, 10);
    assert_int_equal(p->limits.event_window_ns, 60 * SW_NS_S);
    unsigned n;
    const sw_detector_param_spec *spec = sw_detector_params(&n);
    for (unsigned d = 0; d < SW_DET__COUNT; d++) {
        const sw_detector_conf *c = &p->detectors[d];
        assert_int_equal(c->enabled, 1);
        assert_int_equal(c->monitor, 0);
        assert_int_equal(c->exempt_peers, 1);
        assert_int_equal(c->confidence, 80);
        assert_int_equal(c->action, SW_ACTION_DROP);
        assert_int_equal(c->list, -1);
        for (unsigned i = 0; i < n; i++)
            assert_int_equal(c->params[spec[i].param], spec[i].def);
    }
    assert_int_equal(sw_policy_list_by_name(p, "a")->count, 3);
    const sw_cond *in = &p->conds[p->rules[0].cond];
    assert_int_equal(p->lists[in->list]->kind, SW_LIST_STRINGS);
    assert_true(sw_string_set_lookup(p->lists[in->list]->strings, SW_STR_LIT("BYE"), NULL));
    assert_null(p->location_feed);
    sw_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_snippets),
        cmocka_unit_test(test_hours_and_offset),
        cmocka_unit_test(test_diag_format_and_cap),
        cmocka_unit_test(test_list_file_errors),
        cmocka_unit_test(test_include_cycle_file),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_main_policy),
        cmocka_unit_test(test_rules_and_conditions),
        cmocka_unit_test(test_patterns_through_policy),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_defaults_and_implicit_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
