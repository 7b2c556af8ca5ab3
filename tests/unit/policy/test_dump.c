/* sw_policy_dump: the merged policy in the policy language.  Loading the
 * dump compiles to the same policy as loading the files (rules, conditions,
 * peers, lists with their labels, detectors, privacy, limits, home, the
 * location feed), and dumping the dump gives the same text.  Covered: the
 * shipped default with the example partner file; the parser's test policy
 * with an include, a list file, a location feed and an overlay; quoting of
 * strings, regular expressions with backslashes and quotes, negations and
 * and/or trees of every shape; errors (no text on a policy that does not
 * compile). */
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

#define DATA SW_TEST_DATA "/policy"
#define ETC SW_TEST_DATA "/../../etc"

static sw_policy_diags diags;

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void names_equal(char *const *a, uint32_t na, char *const *b, uint32_t nb)
{
    assert_int_equal(na, nb);
    for (uint32_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

/* Every part of the compiled policy that the language can set. */
static void assert_same_policy(const sw_policy *a, const sw_policy *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->version, b->version);
    assert_true(str_eq(a->location_feed, b->location_feed));

    assert_string_equal(a->home.plmn, b->home.plmn);
    assert_string_equal(a->home.country_code, b->home.country_code);
    assert_int_equal(a->home.national_prefix, b->home.national_prefix);
    assert_int_equal(sw_prefix_set_count(a->home.ranges), sw_prefix_set_count(b->home.ranges));
    assert_int_equal(sw_string_set_count(a->home.domains), sw_string_set_count(b->home.domains));

    assert_int_equal(a->npeers, b->npeers);
    for (uint32_t i = 0; i < a->npeers; i++) {
        const sw_peer *p = a->peers[i], *q = b->peers[i];
        assert_string_equal(p->name, q->name);
        assert_int_equal(p->is_zone, q->is_zone);
        assert_int_equal(p->trusted, q->trusted);
        assert_int_equal(p->role, q->role);
        assert_int_equal(p->admit, q->admit);
        assert_int_equal(p->admit_monitor, q->admit_monitor);
        assert_int_equal(p->naddresses, q->naddresses);
        assert_string_equal(p->plmn, q->plmn);
        assert_int_equal(p->cps, q->cps);
        assert_int_equal(p->concurrency, q->concurrency);
        assert_int_equal(p->methods, q->methods);
        assert_memory_equal(&p->agreed, &q->agreed, sizeof p->agreed);
        names_equal(p->agreed_names, p->nagreed_names, q->agreed_names, q->nagreed_names);
        assert_int_equal(p->ranges ? sw_prefix_set_count(p->ranges) : 0,
                         q->ranges ? sw_prefix_set_count(q->ranges) : 0);
        assert_int_equal(p->domains ? sw_string_set_count(p->domains) : 0,
                         q->domains ? sw_string_set_count(q->domains) : 0);
        assert_int_equal(p->realms ? sw_string_set_count(p->realms) : 0,
                         q->realms ? sw_string_set_count(q->realms) : 0);
        assert_int_equal(p->tls_ids ? sw_string_set_count(p->tls_ids) : 0,
                         q->tls_ids ? sw_string_set_count(q->tls_ids) : 0);
    }
    assert_true((a->core == NULL) == (b->core == NULL));
    if (a->core)
        assert_string_equal(a->core->name, b->core->name);

    assert_int_equal(a->nlists, b->nlists);
    for (uint32_t i = 0; i < a->nlists; i++) {
        const sw_list *l = a->lists[i], *m = b->lists[i];
        assert_true(str_eq(l->name, m->name));
        assert_int_equal(l->kind, m->kind);
        assert_int_equal(l->anonymous, m->anonymous);
        assert_int_equal(l->count, m->count);
        for (uint32_t j = 0; j < l->count; j++) {
            assert_string_equal(l->entries[j], m->entries[j]);
            assert_true(str_eq(l->labels ? l->labels[j] : NULL, m->labels ? m->labels[j] : NULL));
        }
    }

    assert_int_equal(a->nconds, b->nconds);
    for (uint32_t i = 0; i < a->nconds; i++) {
        const sw_cond *c = &a->conds[i], *d = &b->conds[i];
        assert_int_equal(c->op, d->op);
        assert_int_equal(c->cmp, d->cmp);
        assert_int_equal(c->set, d->set);
        assert_int_equal(c->slot, d->slot);
        assert_int_equal(c->field, d->field);
        assert_int_equal(c->hdr, d->hdr);
        assert_int_equal(c->a, d->a);
        assert_int_equal(c->b, d->b);
        assert_int_equal(c->list, d->list);
        assert_int_equal(c->num, d->num);
        assert_true(str_eq(c->str, d->str));
        assert_true(str_eq(c->hdr_name, d->hdr_name));
    }

    assert_int_equal(a->nrules, b->nrules);
    for (uint32_t i = 0; i < a->nrules; i++) {
        const sw_rule *r = &a->rules[i], *s = &b->rules[i];
        assert_string_equal(r->id, s->id);
        assert_int_equal(r->category, s->category);
        assert_int_equal(r->event, s->event);
        assert_int_equal(r->monitor, s->monitor);
        assert_int_equal(r->confidence, s->confidence);
        assert_int_equal(r->events_each, s->events_each);
        assert_true(str_eq(r->reason, s->reason));
        assert_int_equal(r->cond, s->cond);
        assert_int_equal(r->act.action, s->act.action);
        assert_int_equal(r->act.status, s->act.status);
        assert_int_equal(r->act.retry_after_s, s->act.retry_after_s);
        assert_int_equal(r->act.rate, s->act.rate);
        assert_int_equal(r->act.burst, s->act.burst);
        assert_int_equal(r->act.block_ns, s->act.block_ns);
        assert_memory_equal(&r->act.strip, &s->act.strip, sizeof r->act.strip);
        names_equal(r->act.strip_names, r->act.nstrip_names, s->act.strip_names,
                    s->act.nstrip_names);
    }

    for (int d = 0; d < SW_DET__COUNT; d++) {
        const sw_detector_conf *c = &a->detectors[d], *e = &b->detectors[d];
        assert_int_equal(c->enabled, e->enabled);
        assert_int_equal(c->monitor, e->monitor);
        assert_int_equal(c->exempt_peers, e->exempt_peers);
        assert_int_equal(c->confidence, e->confidence);
        assert_int_equal(c->action, e->action);
        assert_int_equal(c->status, e->status);
        assert_int_equal(c->retry_after_s, e->retry_after_s);
        assert_int_equal(c->list, e->list);
        assert_memory_equal(c->params, e->params, sizeof c->params);
    }

    const sw_privacy *p = &a->privacy, *q = &b->privacy;
    assert_memory_equal(&p->egress_strip, &q->egress_strip, sizeof p->egress_strip);
    assert_memory_equal(&p->ingress_strip, &q->ingress_strip, sizeof p->ingress_strip);
    assert_memory_equal(&p->sanitize, &q->sanitize, sizeof p->sanitize);
    assert_int_equal(p->ingress_reject, q->ingress_reject);
    assert_int_equal(p->monitor, q->monitor);
    names_equal(p->egress_strip_names, p->negress_strip_names, q->egress_strip_names,
                q->negress_strip_names);
    names_equal(p->ingress_strip_names, p->ningress_strip_names, q->ingress_strip_names,
                q->ningress_strip_names);
    names_equal(p->sanitize_names, p->nsanitize_names, q->sanitize_names, q->nsanitize_names);
    assert_memory_equal(&a->limits, &b->limits, sizeof a->limits);
}

static char *write_temp(const char *text)
{
    char tmpl[] = "/tmp/sw_dump_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return strdup(tmpl);
}

/* load -> dump -> load -> dump: same compiled policy, same text.  Returns
 * the first dump (malloc'd). */
static char *round_trip(const char *const *paths, size_t n)
{
    sw_policy *orig = NULL, *again = NULL;
    assert_int_equal(sw_policy_load(paths, n, &orig, &diags), SW_OK);

    char *d1 = NULL, *d2 = NULL;
    size_t len1 = 0, len2 = 0;
    assert_int_equal(sw_policy_dump(paths, n, &d1, &len1, &diags), SW_OK);
    assert_non_null(d1);
    assert_int_equal(strlen(d1), len1);
    assert_int_equal(diags.errors, 0);

    char *f1 = write_temp(d1);
    const char *p1[] = {f1};
    if (sw_policy_load(p1, 1, &again, &diags) != SW_OK) {
        char line[512];
        for (uint32_t i = 0; i < diags.n; i++)
            if (sw_policy_diag_format(&diags.d[i], line, sizeof line) > 0)
                print_message("%s\n", line);
        fail_msg("the dump does not load:\n%s", d1);
    }
    assert_same_policy(orig, again);

    assert_int_equal(sw_policy_dump(p1, 1, &d2, &len2, &diags), SW_OK);
    assert_string_equal(d1, d2);
    assert_int_equal(len1, len2);

    unlink(f1);
    free(f1);
    free(d2);
    sw_policy_free(orig);
    sw_policy_free(again);
    return d1;
}

static void test_default_and_example(void **state)
{
    (void)state;
    const char *paths[] = {"builtin:default", ETC "/partners.example.policy"};
    char *d = round_trip(paths, 2);
    /* the overlay's version of an element, not the default's */
    assert_non_null(strstr(d, "policy \"example operator H"));
    assert_non_null(strstr(d, "partner core-ibcf {\n    role core\n"));
    /* the compiled figures the summary prints */
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load(paths, 2, &p, &diags), SW_OK);
    assert_true(p->nrules > 10);
    assert_int_equal(p->npeers, 6); /* zone unknown + 5 partners */
    sw_policy_free(p);
    free(d);

    /* the default alone, and the example alone (no rules) */
    const char *def[] = {"builtin:default"};
    free(round_trip(def, 1));
    const char *ex[] = {ETC "/partners.example.policy"};
    free(round_trip(ex, 1));
}

static void test_overlay_include_list_file(void **state)
{
    (void)state;
    const char *paths[] = {DATA "/main.policy", DATA "/overlay.policy"};
    char *d = round_trip(paths, 2);
    /* the list file is named by absolute path (labels come with it) */
    assert_non_null(strstr(d, "list highrisk numbers file \"/"));
    assert_non_null(strstr(d, "highrisk_prefixes.tsv\""));
    assert_non_null(strstr(d, "location-feed \"/"));
    /* the overlay's rule and partner replace the earlier ones in place */
    assert_non_null(strstr(d, "when request and method == \"MESSAGE\"\n"));
    assert_null(strstr(d, "method not in peer.methods"));
    assert_non_null(strstr(d, "partner alpha {\n    role roaming\n    address 127.0.0.99\n"));
    /* detector settings: the overlay's block replaced the whole earlier one */
    assert_non_null(strstr(d, "detector scan {\n    distinct-users 50\n}"));
    /* limits where they differ from the defaults, in the largest exact unit */
    assert_non_null(strstr(d, "    event-window 2m\n"));
    free(d);
}

static const char tricky[] =
    "policy \"quotes \\\" and \\\\ backslash\" version \"1\"\n"
    "zone unknown { admit drop; mode monitor }\n"
    "zone mgmt { address 10.9.0.0/16; trust trusted }\n"
    "partner \"two words\" {\n"
    "    address 192.0.2.1, 2001:db8::/32\n"
    "    tls-identity \"sbc.example\" other.example\n"
    "    methods INVITE ACK OTHER\n"
    "    agreed P-Charging-Vector X-Agreed-Thing\n"
    "    cps 7; concurrency 9; plmn 208-01; night-calls yes\n"
    "}\n"
    "role transit { trust trusted }\n"
    "list ua strings { \"a b\", plain, \"q\\\"uote\" }\n"
    "detector wangiri { off; confidence 12; action reject 486 retry-after 5; exempt-peers no }\n"
    "rule cat1.re {\n"
    "    when user-agent matches \"^a\\d+\\\\\\x\\\\\\\\\" or from.display matches \"\\\\\\\"q\"\n"
    "    action drop\n"
    "}\n"
    "rule cat1.shapes {\n"
    "    when not (request or response) and (a and (b or pai)) and not not malformed\n"
    "    action tag\n"
    "}\n"
    "rule cat1.header {\n"
    "    when header.X-Thing contains \"a\\\"b\" and has \"X-Other\" and user-agent in list ua\n"
    "    action strip P-Asserted-Identity X-Secret\n"
    "    block 90s\n"
    "    events summary\n"
    "    confidence 0\n"
    "    mode monitor\n"
    "    reason \"why: \\\"because\\\"\"\n"
    "}\n"
    "rule cat2.nums {\n"
    "    category cat3\n"
    "    event irsf_call\n"
    "    when max-forwards <= -1 or size > 10 and status != 0 or in-dialog == false and "
    "b not in { +44, \"+33\" }\n"
    "    action rate-limit 5/s burst 9\n"
    "}\n";

/* The IRSF quiet hours and UTC offset come back in their own notation. */
static void test_hours_offset_round_trip(void **state)
{
    (void)state;
    char *f = write_temp("detector irsf {\n quiet-hours 23-05\n utc-offset -05:30\n"
                         " quiet-days fri-mon\n}\n");
    const char *paths[] = {f};
    char *d = round_trip(paths, 1);
    assert_non_null(strstr(d, "    quiet-hours 23-05\n"));
    assert_non_null(strstr(d, "    utc-offset -05:30\n"));
    assert_non_null(strstr(d, "    quiet-days fri-mon\n"));
    free(d);
    unlink(f);
    free(f);
}

static void test_quoting_and_shapes(void **state)
{
    (void)state;
    char *f = write_temp(tricky);
    const char *paths[] = {f};
    char *d = round_trip(paths, 1);
    /* a backslash stays bare unless it precedes '"', '\' or the end */
    assert_non_null(strstr(d, "matches \"^a\\d+\\\\\\x\\\\\\\\\" or"));
    assert_non_null(strstr(d, "from.display matches \"\\\\\\\"q\"\n"));
    assert_non_null(strstr(d, "partner \"two words\" {"));
    assert_non_null(strstr(d, "    concurrency 9\n    night-calls yes\n"));
    assert_non_null(strstr(d, "not (request or response) and (a and (b or pai)) and not not malformed"));
    assert_non_null(strstr(d, "b not in { +44,"));
    assert_non_null(strstr(d, "(size > 10 and status != 0) or (in-dialog == false and"));
    assert_non_null(strstr(d, "    block 90s\n"));
    assert_non_null(strstr(d, "detector wangiri {\n    off\n"));
    unlink(f);
    free(f);
    free(d);
}

static void test_errors(void **state)
{
    (void)state;
    /* parses, but does not compile: an unknown list */
    char *f = write_temp("rule cat1.x { when a in list nosuch; action drop }\n");
    const char *paths[] = {f};
    char *text = (char *)0x1;
    assert_int_equal(sw_policy_dump(paths, 1, &text, NULL, &diags), SW_EINVAL);
    assert_null(text);
    assert_true(diags.errors >= 1);
    unlink(f);
    free(f);
    /* a file that cannot be read */
    const char *missing[] = {DATA "/no-such.policy"};
    assert_int_equal(sw_policy_dump(missing, 1, &text, NULL, &diags), SW_EIO);
    assert_null(text);
    assert_int_equal(sw_policy_dump(missing, 0, &text, NULL, &diags), SW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_and_example),
        cmocka_unit_test(test_overlay_include_list_file),
        cmocka_unit_test(test_quoting_and_shapes),
        cmocka_unit_test(test_hours_offset_round_trip),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
