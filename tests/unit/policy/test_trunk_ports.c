/* Partner identity at trunk level: a partner's or zone's `address` may
 * carry a port (192.0.2.10:5060, [2001:db8::1]:5061, 192.0.2.0/28:5060).
 * The most specific claim names the peer of a source address and port;
 * two peers claiming the same address and port is an error at its line;
 * bad ports are errors; admission (sw_policy_partner_host) sees a partner
 * on any of its ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/policy.h"

static sw_policy_diags diags;

static sw_policy *load_ok(const char *text)
{
    sw_policy *p = NULL;
    int rc = sw_policy_load_text("t.policy", text, strlen(text), NULL, &p, &diags);
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

/* The name of the peer of "IP:PORT" / "[IPv6]:PORT". */
static const char *who(const sw_policy *p, const char *src)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(src, &a), SW_OK);
    return sw_policy_peer_for(p, &a)->name;
}

static int port_matters(const sw_policy *p, const char *src)
{
    sw_addr a;
    int pm = -1;
    assert_int_equal(sw_addr_parse(src, &a), SW_OK);
    const sw_peer *x = sw_policy_peer_lookup(p, &a, &pm);
    assert_ptr_equal(x, sw_policy_peer_for(p, &a));
    return pm;
}

static int partner_host(const sw_policy *p, const char *src)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(src, &a), SW_OK);
    return sw_policy_partner_host(p, &a);
}

static void test_ipv4_ports(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner trunk-a {\n address 192.0.2.10:5060\n}\n"
                           "partner trunk-b {\n address 192.0.2.10:5070\n}\n"
                           "partner sbc {\n address 192.0.2.10\n}\n"
                           "partner net {\n address 192.0.2.0/24\n}\n");
    assert_string_equal(who(p, "192.0.2.10:5060"), "trunk-a");
    assert_string_equal(who(p, "192.0.2.10:5070"), "trunk-b");
    /* another port of the address: the claim without a port */
    assert_string_equal(who(p, "192.0.2.10:5080"), "sbc");
    assert_string_equal(who(p, "192.0.2.10:0"), "sbc");
    /* another address of the network */
    assert_string_equal(who(p, "192.0.2.11:5060"), "net");
    assert_string_equal(who(p, "198.51.100.1:5060"), "unknown");
    assert_int_equal(port_matters(p, "192.0.2.10:5060"), 1);
    assert_int_equal(port_matters(p, "192.0.2.10:9"), 1);
    assert_int_equal(port_matters(p, "192.0.2.11:5060"), 0);
    assert_int_equal(sw_policy_peer_by_name(p, "trunk-a")->naddresses, 1);
    sw_policy_free(p);
}

static void test_ipv6_brackets(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner v6a {\n address [2001:db8::1]:5061\n}\n"
                           "partner v6b {\n address [2001:db8::1]:5062, [2001:db8:1::/48]\n}\n"
                           "partner v6n {\n address [2001:db8::/32]:5061\n}\n"
                           "partner v6plain {\n address 2001:db8::1\n}\n");
    assert_string_equal(who(p, "[2001:db8::1]:5061"), "v6a");
    assert_string_equal(who(p, "[2001:db8::1]:5062"), "v6b");
    assert_string_equal(who(p, "[2001:db8::1]:5063"), "v6plain");
    assert_string_equal(who(p, "[2001:db8:1::7]:5063"), "v6b");
    /* the /48 beats the /32 with a port: longest prefix first */
    assert_string_equal(who(p, "[2001:db8:1::7]:5061"), "v6b");
    assert_string_equal(who(p, "[2001:db8:2::7]:5061"), "v6n");
    assert_string_equal(who(p, "[2001:db8:2::7]:5060"), "unknown");
    sw_policy_free(p);
}

/* address+port over address over CIDR, longest prefix first */
static void test_cidr_with_port(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner range-5060 {\n address 192.0.2.0/28:5060\n}\n"
                           "partner range {\n address 192.0.2.0/28\n}\n"
                           "partner host {\n address 192.0.2.5\n}\n"
                           "partner hostport {\n address 192.0.2.5:5060\n}\n"
                           "partner wide-5060 {\n address 192.0.0.0/16:5060\n}\n");
    assert_string_equal(who(p, "192.0.2.3:5060"), "range-5060");
    assert_string_equal(who(p, "192.0.2.3:5061"), "range");
    assert_string_equal(who(p, "192.0.2.5:5060"), "hostport");
    assert_string_equal(who(p, "192.0.2.5:5061"), "host");
    assert_string_equal(who(p, "192.0.2.17:5060"), "wide-5060");
    assert_string_equal(who(p, "192.0.2.17:5061"), "unknown");
    assert_string_equal(who(p, "192.0.9.1:5060"), "wide-5060");
    sw_policy_free(p);
}

static void test_zones_with_ports(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner trunk {\n address 192.0.2.10:5060\n}\n"
                           "zone mgmt {\n address 192.0.2.10:22, [2001:db8::9]:8080\n"
                           " admit drop\n}\n"
                           "zone lab {\n address 10.9.0.0/16:5060\n}\n");
    assert_string_equal(who(p, "192.0.2.10:5060"), "trunk");
    assert_string_equal(who(p, "192.0.2.10:22"), "mgmt");
    assert_string_equal(who(p, "[2001:db8::9]:8080"), "mgmt");
    assert_string_equal(who(p, "[2001:db8::9]:8081"), "unknown");
    assert_string_equal(who(p, "10.9.3.4:5060"), "lab");
    assert_string_equal(who(p, "10.9.3.4:5061"), "unknown");
    /* admission: the partner's address on any port is a partner host; a
     * zone's is not */
    assert_int_equal(partner_host(p, "192.0.2.10:40000"), 1);
    assert_int_equal(partner_host(p, "10.9.3.4:5060"), 0);
    assert_int_equal(partner_host(p, "[2001:db8::9]:8080"), 0);
    assert_int_equal(partner_host(p, "192.0.2.11:5060"), 0);
    sw_policy_free(p);
}

/* A zone's port claim nested in a partner's network claimed with a port:
 * the address still is a partner host. */
static void test_partner_host_nested(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner wide {\n address 10.1.0.0/16:5060\n}\n"
                           "zone inner {\n address 10.1.2.0/24:22\n}\n"
                           "partner plain {\n address 10.2.0.0/16\n}\n"
                           "zone zplain {\n address 10.3.0.0/16\n}\n");
    assert_int_equal(partner_host(p, "10.1.2.3:1"), 1);
    assert_int_equal(partner_host(p, "10.1.9.3:1"), 1);
    assert_int_equal(partner_host(p, "10.2.9.3:1"), 1);
    assert_int_equal(partner_host(p, "10.3.9.3:1"), 0);
    assert_string_equal(who(p, "10.1.2.3:22"), "inner");
    assert_string_equal(who(p, "10.1.2.3:5060"), "wide");
    sw_policy_free(p);
}

/* A policy without ports keeps the old answers, for every port. */
static void test_no_ports(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner a {\n address 192.0.2.0/24\n}\n");
    assert_null(p->peer_ports);
    assert_string_equal(who(p, "192.0.2.1:5060"), "a");
    assert_string_equal(who(p, "192.0.2.1:1"), "a");
    assert_int_equal(port_matters(p, "192.0.2.1:5060"), 0);
    assert_int_equal(partner_host(p, "192.0.2.1:5060"), 1);
    sw_policy_free(p);
}

typedef struct bad_case {
    const char *text;
    uint32_t line;
    const char *word;
} bad_case;

static const bad_case bad_cases[] = {
    /* two partners claiming the same address and port */
    {"partner a {\n address 192.0.2.10:5060\n}\npartner b {\n role transit\n"
     " address 192.0.2.10:5060\n}\n",
     6, "already belongs to partner 'a'"},
    {"partner a {\n address [2001:db8::1]:5061\n}\n\npartner b {\n address 10.0.0.1,\n"
     "  [2001:db8::1]:5061\n}\n",
     7, "already belongs to partner 'a'"},
    {"partner a {\n address 192.0.2.0/28:5060\n}\nzone z {\n address 192.0.2.0/28:5060\n}\n", 5,
     "already belongs to partner 'a'"},
    {"zone z {\n address 192.0.2.1:22\n}\npartner a {\n address 192.0.2.1:22\n}\n", 5,
     "already belongs to zone 'z'"},
    /* bad ports and brackets */
    {"partner a {\n address 192.0.2.10:0\n}\n", 2, "bad address"},
    {"partner a {\n address 192.0.2.10:65536\n}\n", 2, "bad address"},
    {"partner a {\n address 192.0.2.10:05060\n}\n", 2, "bad address"},
    {"partner a {\n address 192.0.2.10:\n}\n", 2, "bad address"},
    {"partner a {\n address 192.0.2.10:50x\n}\n", 2, "bad address"},
    {"partner a {\n address [192.0.2.10]:5060\n}\n", 2, "bad address"},
    {"partner a {\n address [2001:db8::1]5060\n}\n", 2, "bad address"},
    {"partner a {\n address [2001:db8::1\n}\n", 2, "bad address"},
    {"partner a {\n address []:5060\n}\n", 2, "bad address"},
    {"partner a {\n address 192.0.2.1/24:5060\n}\n", 2, "host bits"},
    {"partner a {\n trust trusted\n\n address [2001:db8::1/32]:5060\n}\n", 4, "host bits"},
    {"zone z {\n address 192.0.2.1:99999\n}\n", 2, "bad address"},
    /* an address list still takes addresses without ports */
    {"list l addresses { 192.0.2.1:5060 }\n", 1, "bad"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        sw_policy *p = NULL;
        int rc = sw_policy_load_text("bad.policy", c->text, strlen(c->text), NULL, &p, &diags);
        if (rc != SW_EINVAL || diags.n == 0)
            fail_msg("case %zu: expected an error, rc=%d", i, rc);
        assert_null(p);
        if (diags.d[0].line != c->line || !strstr(diags.d[0].msg, c->word))
            fail_msg("case %zu: got line %u '%s', want line %u '%s'", i, diags.d[0].line,
                     diags.d[0].msg, c->line, c->word);
    }
}

/* The same partner may repeat a claim. */
static void test_repeat_and_overlay(void **state)
{
    (void)state;
    sw_policy *p = load_ok("partner a {\n address 192.0.2.10:5060, 192.0.2.10:5060\n}\n");
    assert_string_equal(who(p, "192.0.2.10:5060"), "a");
    sw_policy_free(p);
}

/* Many trunks on one address: every port its own partner. */
static void test_many_ports(void **state)
{
    (void)state;
    size_t cap = 300 * 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t o = 0;
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(text + o, cap - o, "partner t%d {\n address 192.0.2.10:%d\n}\n", i,
                              5000 + i * 7);
    sw_policy *p = load_ok(text);
    for (int i = 0; i < 300; i++) {
        char src[40], name[16];
        snprintf(src, sizeof src, "192.0.2.10:%d", 5000 + i * 7);
        snprintf(name, sizeof name, "t%d", i);
        assert_string_equal(who(p, src), name);
    }
    assert_string_equal(who(p, "192.0.2.10:5001"), "unknown");
    sw_policy_free(p);
    free(text);
}

/* A reload that reorders the partners moves their positions, not their
 * name fingerprints (what the detectors count carriers by). */
static void test_name_fp_stable(void **state)
{
    (void)state;
    sw_policy *p1 = load_ok("partner alpha { role interconnect; address 192.0.2.10 }\n"
                            "partner bravo { role transit; address 192.0.2.20 }\n");
    sw_policy *p2 = load_ok("partner bravo { role transit; address 192.0.2.20 }\n"
                            "partner charlie { role transit; address 192.0.2.30 }\n"
                            "partner alpha { role interconnect; address 192.0.2.10 }\n");
    sw_addr a;
    assert_int_equal(sw_addr_parse("192.0.2.10:5060", &a), SW_OK);
    const sw_peer *a1 = sw_policy_peer_for(p1, &a), *a2 = sw_policy_peer_for(p2, &a);
    assert_string_equal(a1->name, "alpha");
    assert_string_equal(a2->name, "alpha");
    assert_int_not_equal(a1->index, a2->index);
    assert_int_equal(a1->name_fp, a2->name_fp);
    assert_int_not_equal(a1->name_fp, 0);
    assert_int_not_equal(a1->name_fp, 0xffff);
    assert_int_equal(sw_addr_parse("192.0.2.20:5060", &a), SW_OK);
    assert_int_not_equal(sw_policy_peer_for(p1, &a)->name_fp, a1->name_fp);
    sw_policy_free(p1);
    sw_policy_free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ports),        cmocka_unit_test(test_ipv6_brackets),
        cmocka_unit_test(test_cidr_with_port),    cmocka_unit_test(test_zones_with_ports),
        cmocka_unit_test(test_partner_host_nested), cmocka_unit_test(test_no_ports),
        cmocka_unit_test(test_bad),               cmocka_unit_test(test_repeat_and_overlay),
        cmocka_unit_test(test_many_ports),        cmocka_unit_test(test_name_fp_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
