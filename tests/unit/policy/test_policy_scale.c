/* Policies with many partners (defect R9): finding earlier definitions by
 * name must cost a bounded number of comparisons per definition (the
 * parser counts them; a scan over every earlier partner made n²/2), more
 * than 65534 partners must compile, and the name index must keep the
 * language's rules: a later file replaces a definition in place, the same
 * file may not define a name twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/build.h"
#include "sipwall/policy.h"

/* "partner pNNNNNN { … }" lines for partners [from, from + n) */
static char *partners_text(uint32_t from, uint32_t n, const char *extra)
{
    size_t cap = (size_t)n * 96 + 256 + (extra ? strlen(extra) : 0);
    char *t = malloc(cap);
    assert_non_null(t);
    size_t o = (size_t)snprintf(t, cap, "policy \"big\" version \"1\"\n");
    for (uint32_t i = from; i < from + n; i++)
        o += (size_t)snprintf(t + o, cap - o,
                              "partner p%06u { role interconnect; address 10.%u.%u.%u/32 }\n", i,
                              i >> 16 & 255, i >> 8 & 255, i & 255);
    if (extra)
        o += (size_t)snprintf(t + o, cap - o, "%s", extra);
    return t;
}

static void print_diags(const sw_policy_diags *d)
{
    char line[600];
    for (uint32_t i = 0; i < d->n && i < 5; i++)
        if (sw_policy_diag_format(&d->d[i], line, sizeof line) > 0)
            print_message("%s\n", line);
}

static void test_name_lookups_linear(void **state)
{
    (void)state;
    const uint32_t n = 5000;
    char *text = partners_text(0, n, "list l1 numbers { +49 }\nlist l2 numbers { +44 }\n");
    sw_policy_diags diags;
    memset(&diags, 0, sizeof diags);
    pl_build b;
    pl_build_init(&b, &diags);
    uint32_t f = pl_add_file(&b, "big.policy");
    pl_parse_text(&b, f, text, strlen(text), NULL);
    print_diags(&diags);
    assert_int_equal(diags.errors, 0);
    assert_int_equal(b.npeers, n);
    /* a scan of every earlier name costs n(n-1)/2 = 12.5 M here */
    print_message("name comparisons for %u partners: %llu\n", n, (unsigned long long)b.name_compares);
    assert_true(b.name_compares <= 4 * (uint64_t)n);
    sw_policy *p = NULL;
    assert_int_equal(pl_compile(&b, &p), SW_OK);
    assert_int_equal(p->npeers, n + 1); /* and the unknown zone */
    sw_policy_free(p);
    pl_build_free(&b);
    free(text);
}

static void test_beyond_65534_partners(void **state)
{
    (void)state;
    const uint32_t n = 70000;
    char *text = partners_text(0, n - 1,
                               "partner tlslast { role interconnect; address 192.0.2.7/32; "
                               "tls-identity \"sbc.last.test\" }\n");
    sw_policy_diags diags;
    sw_policy *p = NULL;
    int rc = sw_policy_load_text("big.policy", text, strlen(text), NULL, &p, &diags);
    print_diags(&diags);
    assert_int_equal(rc, SW_OK);
    assert_int_equal(p->npeers, n + 1);
    const sw_peer *last = p->peers[n - 2];
    assert_string_equal(last->name, "p069998");
    assert_int_equal(last->index, n - 2);
    sw_addr a;
    assert_int_equal(sw_addr_parse("10.1.17.110", &a), SW_OK); /* 69998 = 1.17.110 */
    assert_ptr_equal(sw_policy_peer_for(p, &a), last);
    assert_ptr_equal(sw_policy_peer_by_name(p, "p069998"), last);
    assert_ptr_equal(sw_policy_peer_by_name(p, "p000000"), p->peers[0]);
    assert_null(sw_policy_peer_by_name(p, "p069999"));
    const sw_peer *tl = sw_policy_peer_by_tls_id(p, sw_str_make("SBC.last.test", 13));
    assert_non_null(tl);
    assert_string_equal(tl->name, "tlslast");
    assert_int_equal(tl->index, n - 1);
    sw_policy_free(p);
    free(text);
}

/* TLS identities through the index: case-insensitive, the first partner
 * that claims an identity wins, unknown identities find nobody. */
static void test_tls_ids(void **state)
{
    (void)state;
    const char *text = "partner a { role interconnect; address 192.0.2.1/32; "
                       "tls-identity \"x.test\", \"Shared.test\" }\n"
                       "partner b { role interconnect; address 192.0.2.2/32; tls-identity \"shared.test\" }\n"
                       "partner c { role interconnect; address 192.0.2.3/32 }\n";
    sw_policy_diags diags;
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load_text("t.policy", text, strlen(text), NULL, &p, &diags), SW_OK);
    const sw_peer *x = sw_policy_peer_by_tls_id(p, sw_str_make("X.TEST", 6));
    const sw_peer *s = sw_policy_peer_by_tls_id(p, sw_str_make("shared.TEST", 11));
    assert_non_null(x);
    assert_non_null(s);
    assert_string_equal(x->name, "a");
    assert_string_equal(s->name, "a");
    assert_null(sw_policy_peer_by_tls_id(p, sw_str_make("c.test", 6)));
    sw_policy_free(p);
    const char *none = "partner c { role interconnect; address 192.0.2.3/32 }\n";
    assert_int_equal(sw_policy_load_text("t.policy", none, strlen(none), NULL, &p, &diags), SW_OK);
    assert_null(sw_policy_peer_by_tls_id(p, sw_str_make("c.test", 6)));
    sw_policy_free(p);
}

static void test_redefinitions(void **state)
{
    (void)state;
    sw_policy_diags diags;
    memset(&diags, 0, sizeof diags);
    pl_build b;
    pl_build_init(&b, &diags);
    char *t1 = partners_text(0, 300, "list l1 numbers { +49 }\n");
    char *t2 = partners_text(1000, 10,
                             "partner p000150 { role interconnect; address 192.0.2.1/32 }\n"
                             "list l1 numbers { +44 }\n");
    pl_parse_text(&b, pl_add_file(&b, "one.policy"), t1, strlen(t1), NULL);
    pl_parse_text(&b, pl_add_file(&b, "two.policy"), t2, strlen(t2), NULL);
    print_diags(&diags);
    assert_int_equal(diags.errors, 0);
    assert_int_equal(b.npeers, 310);
    assert_string_equal(b.peers[150]->name, "p000150"); /* replaced in place */
    assert_string_equal(b.peers[150]->addresses.v[0].text, "192.0.2.1/32");
    assert_int_equal(b.peers[150]->loc.file, 1);
    assert_int_equal(b.nlists, 1);
    assert_string_equal(b.lists[0]->entries.v[0].text, "+44");
    /* the same file twice: an error naming the first definition's line */
    char *t3 = partners_text(2000, 5,
                             "partner p002003 { role interconnect; address 192.0.2.9/32 }\n");
    pl_parse_text(&b, pl_add_file(&b, "three.policy"), t3, strlen(t3), NULL);
    assert_int_equal(diags.errors, 1);
    char line[600];
    assert_true(sw_policy_diag_format(&diags.d[diags.n - 1], line, sizeof line) > 0);
    assert_non_null(strstr(line, "three.policy:7"));
    assert_non_null(strstr(line, "'p002003' is defined twice in this file (first at line 5)"));
    assert_int_equal(b.npeers, 315);
    pl_build_free(&b);
    free(t1);
    free(t2);
    free(t3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_lookups_linear),
        cmocka_unit_test(test_redefinitions),
        cmocka_unit_test(test_tls_ids),
        cmocka_unit_test(test_beyond_65534_partners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
