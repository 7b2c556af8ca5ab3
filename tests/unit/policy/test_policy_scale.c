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
    char *text = partners_text(0, n, NULL);
    sw_policy_diags diags;
    sw_policy *p = NULL;
    int rc = sw_policy_load_text("big.policy", text, strlen(text), NULL, &p, &diags);
    print_diags(&diags);
    assert_int_equal(rc, SW_OK);
    assert_int_equal(p->npeers, n + 1);
    const sw_peer *last = p->peers[n - 1];
    assert_string_equal(last->name, "p069999");
    assert_int_equal(last->index, n - 1);
    sw_addr a;
    assert_int_equal(sw_addr_parse("10.1.17.111", &a), SW_OK); /* 69999 = 1.17.111 */
    assert_ptr_equal(sw_policy_peer_for(p, &a), last);
    assert_ptr_equal(sw_policy_peer_by_name(p, "p069999"), last);
    assert_ptr_equal(sw_policy_peer_by_name(p, "p000000"), p->peers[0]);
    assert_null(sw_policy_peer_by_name(p, "p070000"));
    sw_policy_free(p);
    free(text);
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
        cmocka_unit_test(test_beyond_65534_partners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
