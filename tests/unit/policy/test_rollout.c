/* Safe rollout in the policy language: the policy-wide `mode monitor`
 * (every rule, detector, zone admission and the privacy profile become
 * monitor-only, whatever their own mode; a later file may switch it; the
 * dump keeps it); overlays of one rule setting (`rule X { mode monitor }`
 * in a later file, or later in the same file, changes only that; a block
 * setting `when` / `action` replaces only those; an overlay of a rule that
 * does not exist is an error at its line, a second complete definition in
 * one file still is); national-format numbers (normalised with the home
 * block's country code and national prefix, an error at their place when
 * the home block cannot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/policy.h"

static sw_policy_diags diags;
static char *tmp[8];
static int ntmp;

static const char *write_temp(const char *text)
{
    char tmpl[] = "/tmp/sw_rollout_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    tmp[ntmp] = strdup(tmpl);
    return tmp[ntmp++];
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < ntmp; i++) {
        unlink(tmp[i]);
        free(tmp[i]);
    }
    ntmp = 0;
    return 0;
}

static void show(void)
{
    for (uint32_t i = 0; i < diags.n; i++) {
        char line[600];
        if (sw_policy_diag_format(&diags.d[i], line, sizeof line) > 0)
            print_message("%s\n", line);
    }
}

static sw_policy *load2(const char *a, const char *b, int want)
{
    const char *paths[2] = {write_temp(a), b ? write_temp(b) : NULL};
    sw_policy *p = NULL;
    int rc = sw_policy_load(paths, b ? 2 : 1, &p, &diags);
    if (rc != want)
        show();
    assert_int_equal(rc, want);
    return p;
}

static const sw_rule *rule(const sw_policy *p, const char *id)
{
    for (uint32_t i = 0; i < p->nrules; i++)
        if (strcmp(p->rules[i].id, id) == 0)
            return &p->rules[i];
    fail_msg("no rule %s", id);
    return NULL;
}

static const char base[] =
    "policy \"base\"\n"
    "zone unknown { admit drop }\n"
    "privacy { ingress-strip P-Asserted-Identity }\n"
    "detector scan { mode enforce }\n"
    "rule cat1.big {\n"
    "    when size > 4000\n"
    "    action reject 513\n"
    "    block 5m\n"
    "    confidence 70\n"
    "    reason \"too big\"\n"
    "}\n"
    "rule cat1.ua { when user-agent contains \"scanner\"; action drop; mode enforce }\n";

static void test_policy_monitor(void **state)
{
    (void)state;
    sw_policy *p = load2(base, NULL, SW_OK);
    assert_false(p->monitor);
    assert_false(rule(p, "cat1.big")->monitor);
    assert_false(p->detectors[SW_DET_SCAN].monitor);
    assert_false(p->unknown->admit_monitor);
    assert_false(p->privacy.monitor);
    sw_policy_free(p);
    /* a later file switches the whole policy to monitor: rules that say
     * `mode enforce` too */
    p = load2(base, "mode monitor\n", SW_OK);
    assert_true(p->monitor);
    assert_true(rule(p, "cat1.big")->monitor);
    assert_true(rule(p, "cat1.ua")->monitor);
    assert_true(p->detectors[SW_DET_SCAN].monitor);
    assert_true(p->unknown->admit_monitor);
    assert_true(p->privacy.monitor);
    /* the rest of the rule is untouched */
    assert_int_equal(rule(p, "cat1.big")->act.action, SW_ACTION_REJECT);
    sw_policy_free(p);
    /* and a still later statement switches it back */
    char text[256];
    snprintf(text, sizeof text, "mode monitor\nmode enforce\n");
    p = load2(base, text, SW_OK);
    assert_false(p->monitor);
    assert_false(rule(p, "cat1.ua")->monitor);
    sw_policy_free(p);
    p = load2("mode observe\n", NULL, SW_EINVAL);
    assert_null(p);
    assert_int_equal(diags.d[0].line, 1);
    assert_non_null(strstr(diags.d[0].msg, "enforce | monitor"));
}

static void test_dump_keeps_monitor(void **state)
{
    (void)state;
    const char *paths[] = {write_temp(base), write_temp("mode monitor\n")};
    char *text = NULL;
    assert_int_equal(sw_policy_dump(paths, 2, &text, NULL, &diags), SW_OK);
    assert_non_null(strstr(text, "\nmode monitor"));
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load_text("dump", text, strlen(text), NULL, &p, &diags), SW_OK);
    assert_true(p->monitor);
    assert_true(rule(p, "cat1.big")->monitor);
    sw_policy_free(p);
    free(text);
}

static void test_overlay_one_setting(void **state)
{
    (void)state;
    sw_policy *p = load2(base, "rule cat1.big { mode monitor }\n", SW_OK);
    const sw_rule *r = rule(p, "cat1.big");
    assert_true(r->monitor);
    assert_int_equal(r->act.action, SW_ACTION_REJECT);
    assert_int_equal(r->act.status, 513);
    assert_int_equal(r->act.block_ns, 5 * 60 * SW_NS_S);
    assert_int_equal(r->confidence, 70);
    assert_string_equal(r->reason, "too big");
    assert_int_equal(p->conds[r->cond].op, SW_COND_CMP);
    assert_int_equal(p->conds[r->cond].num, 4000);
    assert_int_equal(r->line, 5); /* still where its condition is */
    assert_false(rule(p, "cat1.ua")->monitor);
    assert_ptr_equal(r, &p->rules[0]); /* keeps its place */
    sw_policy_free(p);

    /* a new action replaces the action only: the block, the condition and
     * the reason stay; a new condition replaces the condition only */
    p = load2(base,
              "rule cat1.big { action drop }\n"
              "rule cat1.ua { when user-agent contains \"sipvicious\"; block 1m }\n",
              SW_OK);
    r = rule(p, "cat1.big");
    assert_int_equal(r->act.action, SW_ACTION_DROP);
    assert_int_equal(r->act.block_ns, 5 * 60 * SW_NS_S);
    assert_int_equal(p->conds[r->cond].num, 4000);
    assert_string_equal(r->reason, "too big");
    r = rule(p, "cat1.ua");
    assert_int_equal(r->act.action, SW_ACTION_DROP);
    assert_int_equal(r->act.block_ns, 60 * SW_NS_S);
    assert_int_equal(p->nrules, 2);
    sw_policy_free(p);

    /* later in the same file, or with `block 0s` taking a block away */
    char text[1024];
    snprintf(text, sizeof text, "%srule cat1.big { mode monitor; block 0s }\n", base);
    p = load2(text, NULL, SW_OK);
    r = rule(p, "cat1.big");
    assert_true(r->monitor);
    assert_int_equal(r->act.block_ns, 0);
    assert_int_equal(r->act.action, SW_ACTION_REJECT);
    sw_policy_free(p);
}

static void test_overlay_errors(void **state)
{
    (void)state;
    /* an overlay of a rule nobody defined: an error at its line */
    sw_policy *p = load2(base, "\n\nrule cat1.nosuch { mode monitor }\n", SW_EINVAL);
    assert_null(p);
    assert_int_equal(diags.errors, 1);
    assert_int_equal(diags.d[0].line, 3);
    assert_non_null(strstr(diags.d[0].msg, "'cat1.nosuch' changes a rule that is not defined earlier"));
    /* a complete new rule is fine anywhere */
    p = load2(base, "rule cat1.new { when size > 9000; action drop }\n", SW_OK);
    assert_int_equal(p->nrules, 3);
    sw_policy_free(p);
    /* a second complete definition in one file is still an error */
    char text[1024];
    snprintf(text, sizeof text, "%s\nrule cat1.ua { when size > 1; action drop }\n", base);
    p = load2(text, NULL, SW_EINVAL);
    assert_non_null(strstr(diags.d[0].msg, "defined twice in this file (first at line 12)"));
}

static void test_dump_merged(void **state)
{
    (void)state;
    const char *paths[] = {write_temp(base), write_temp("rule cat1.big { mode monitor }\n")};
    char *text = NULL;
    assert_int_equal(sw_policy_dump(paths, 2, &text, NULL, &diags), SW_OK);
    const char *r = strstr(text, "rule cat1.big {");
    assert_non_null(r);
    const char *end = strstr(r, "}\n");
    char one[512];
    snprintf(one, sizeof one, "%.*s", (int)(end - r), r);
    assert_non_null(strstr(one, "mode monitor"));
    assert_non_null(strstr(one, "action reject 513"));
    assert_non_null(strstr(one, "block 5m"));
    assert_non_null(strstr(one, "reason \"too big\""));
    assert_null(strstr(r + 1, "rule cat1.big {")); /* once */
    free(text);
}

static const char home_de[] = "home { country-code 49; national-prefix 0 }\n";

static void test_national_numbers(void **state)
{
    (void)state;
    /* no home numbering plan: a national number can never match, an error
     * at its place (comparison, inline set, list, partner ranges) */
    sw_policy *p = load2("list nat numbers {\n  +4930, 0301234\n}\n"
                         "rule cat2.x {\n    when b == 0301234 or a in { 089, +4989 }\n    action drop\n}\n"
                         "partner pp { address 192.0.2.1; ranges 030100-030199 }\n",
                         NULL, SW_EINVAL);
    assert_null(p);
    assert_int_equal(diags.errors, 4);
    int seen_list = 0, seen_cmp = 0, seen_set = 0, seen_ranges = 0;
    for (uint32_t i = 0; i < diags.n; i++) {
        const sw_policy_diag *d = &diags.d[i];
        assert_non_null(strstr(d->msg, "national-format number"));
        assert_non_null(strstr(d->msg, "home block cannot normalise"));
        seen_list += d->line == 2 && d->col == 10;
        seen_cmp += d->line == 5 && d->col == 15;
        seen_set += d->line == 5 && d->col > 30;
        seen_ranges += d->line == 8;
    }
    assert_int_equal(seen_list + seen_cmp + seen_set + seen_ranges, 4);
    /* a home block with country code and national prefix 0 normalises them
     * as the engine normalises the numbers of messages */
    char text[1024];
    snprintf(text, sizeof text,
             "%slist nat numbers { 0301234, 0049301 }\n"
             "rule cat2.x { when b == 0301234 or a in { 089 }; action drop }\n"
             "partner pp { address 192.0.2.1; ranges 030100-030199 }\n",
             home_de);
    p = load2(text, NULL, SW_OK);
    const sw_list *l = sw_policy_list_by_name(p, "nat");
    assert_non_null(l);
    assert_true(sw_prefix_set_lookup(l->numbers, "49301234567", 11, NULL) > 0);
    assert_true(sw_prefix_set_lookup(l->numbers, "49301999", 8, NULL) > 0); /* 00 49 301 */
    assert_int_equal(sw_prefix_set_lookup(l->numbers, "0301234567", 10, NULL), 0);
    const sw_rule *r = rule(p, "cat2.x");
    const sw_cond *root = &p->conds[r->cond];
    assert_int_equal(root->op, SW_COND_OR);
    assert_string_equal(p->conds[root->a].str, "+49301234");
    const sw_list *anon = p->lists[p->conds[root->b].list];
    assert_true(sw_prefix_set_lookup(anon->numbers, "4989123", 7, NULL) > 0);
    const sw_peer *pp = sw_policy_peer_by_name(p, "pp");
    assert_true(sw_prefix_set_lookup(pp->ranges, "4930150", 7, NULL) > 0);
    sw_policy_free(p);
    /* E.164 values and other text are left alone */
    p = load2("rule cat2.y { when b == +49301 or from.user == 0301 or a == anonymous; action drop }\n",
              NULL, SW_OK);
    sw_policy_free(p);
}

/* sw_policy_peer_by_tls: what sipwall check does with a captured TLS
 * certificate (as sipwalld does with a live one). */
static void test_peer_by_tls(void **state)
{
    (void)state;
    sw_policy *p = load2("partner pa { address 192.0.2.10; tls-identity sbc-a.test }\n"
                         "partner pb { address 198.51.100.1; tls-identity sbc-b.test, sip:sbc-b.test }\n"
                         "partner pc { address 192.0.2.20 }\n",
                         NULL, SW_OK);
    sw_addr a10, a20, other;
    assert_int_equal(sw_addr_parse("192.0.2.10:40001", &a10), SW_OK);
    assert_int_equal(sw_addr_parse("192.0.2.20:40001", &a20), SW_OK);
    assert_int_equal(sw_addr_parse("203.0.113.9:40001", &other), SW_OK);
    sw_str b[2] = {sw_str_make("nothing.test", 12), sw_str_make("sip:sbc-b.test", 14)};
    sw_str a[1] = {sw_str_make("sbc-a.test", 10)};
    sw_str x[1] = {sw_str_make("stranger.test", 13)};
    /* the certificate wins over the address: the first identity claimed */
    assert_string_equal(sw_policy_peer_by_tls(p, b, 2, &a10)->name, "pb");
    assert_string_equal(sw_policy_peer_by_tls(p, a, 1, &other)->name, "pa");
    /* a certificate naming nobody from the address of a partner that
     * declares identities: the unknown zone */
    assert_ptr_equal(sw_policy_peer_by_tls(p, x, 1, &a10), p->unknown);
    assert_ptr_equal(sw_policy_peer_by_tls(p, NULL, 0, &a10), p->unknown);
    /* from a partner without identities, or an unknown address: the address decides */
    assert_null(sw_policy_peer_by_tls(p, x, 1, &a20));
    assert_null(sw_policy_peer_by_tls(p, x, 1, &other));
    sw_policy_free(p);
}

static void test_prefix_overlaps(void **state)
{
    (void)state;
    sw_prefix_set *s = sw_prefix_set_new();
    assert_non_null(s);
    assert_int_equal(sw_prefix_set_add(s, "4420794601", 10, 1), SW_OK);
    assert_int_equal(sw_prefix_set_add_range(s, "447700900100", "447700900199", 12, 2), SW_OK);
    assert_true(sw_prefix_set_overlaps(s, "44207946", 8));      /* an entry under the prefix */
    assert_true(sw_prefix_set_overlaps(s, "44207946019", 11));  /* the prefix under an entry */
    assert_true(sw_prefix_set_overlaps(s, "4477009001", 10));
    assert_false(sw_prefix_set_overlaps(s, "4477009002", 10));
    assert_false(sw_prefix_set_overlaps(s, "4420794602", 10));
    assert_false(sw_prefix_set_overlaps(s, "44x", 3));
    assert_false(sw_prefix_set_overlaps(NULL, "44", 2));
    sw_prefix_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_policy_monitor, teardown),
        cmocka_unit_test_teardown(test_dump_keeps_monitor, teardown),
        cmocka_unit_test_teardown(test_overlay_one_setting, teardown),
        cmocka_unit_test_teardown(test_overlay_errors, teardown),
        cmocka_unit_test_teardown(test_dump_merged, teardown),
        cmocka_unit_test_teardown(test_national_numbers, teardown),
        cmocka_unit_test_teardown(test_peer_by_tls, teardown),
        cmocka_unit_test_teardown(test_prefix_overlaps, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
