/* Rights per partner (issue 16): a partner's `register` setting (AoRs or
 * domains it may register, RFC 6140 style enterprise trunks) is checked
 * at its line, needs REGISTER among the partner's methods, compiles into
 * the peer and survives `policy dump`; `methods` given in the partner
 * block are kept apart as agreed methods. */
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

static int load(const char *text, sw_policy **p)
{
    *p = NULL;
    return sw_policy_load_text("t.policy", text, strlen(text), ".", p, &diags);
}

static const sw_peer *peer(const sw_policy *p, const char *name)
{
    for (uint32_t i = 0; i < p->npeers; i++)
        if (strcmp(p->peers[i]->name, name) == 0)
            return p->peers[i];
    fail_msg("no peer %s", name);
    return NULL;
}

static void test_register_compiles(void **state)
{
    (void)state;
    static const char text[] =
        "partner acme {\n"
        "  role enterprise\n"
        "  address 192.0.2.7\n"
        "  register pbx@acme.example, sip:+441632960000@ims.example.net\n"
        "  register branch.acme.example\n"
        "}\n"
        "partner hub { role transit; address 192.0.2.8; methods INVITE ACK BYE CANCEL MESSAGE }\n"
        "rule x { category cat1; when method == REGISTER and not peer.may-register; action drop }\n";
    sw_policy *p;
    assert_int_equal(load(text, &p), SW_OK);
    const sw_peer *a = peer(p, "acme");
    assert_non_null(a->registers);
    assert_int_equal(sw_string_set_count(a->registers), 3);
    assert_true(sw_string_set_lookup(a->registers, sw_str_make("PBX@acme.example", 16), NULL));
    /* the scheme is not part of the AoR */
    assert_true(sw_string_set_lookup(a->registers, sw_str_make("+441632960000@ims.example.net", 29), NULL));
    assert_true(sw_string_set_lookup(a->registers, sw_str_make("branch.acme.example", 19), NULL));
    assert_int_equal(a->agreed_methods, 0); /* its methods are its role's */
    const sw_peer *h = peer(p, "hub");
    assert_null(h->registers);
    assert_true(h->agreed_methods & (1u << SW_METHOD_MESSAGE));
    sw_policy_free(p);
}

typedef struct bad {
    const char *text;
    uint32_t line;
    const char *word;
} bad;

static const bad bads[] = {
    {"partner a {\n  role enterprise\n  address 192.0.2.1\n  register @acme.example\n}\n", 4,
     "empty user part"},
    {"partner a {\n  role enterprise\n  register pbx@\n}\n", 3, "empty domain"},
    {"partner a {\n  role enterprise\n  register pbx@acme.example:5060\n}\n", 3, "host name"},
    {"partner a {\n  role enterprise\n  register \"pbx;x@acme.example\"\n}\n", 3, "user part"},
    {"partner a {\n  role enterprise\n  register a@b@c\n}\n", 3, "more than one"},
    {"partner a {\n  role enterprise\n  register .acme.example\n}\n", 3, "starts or ends"},
    {"partner a {\n  role enterprise\n  register\n}\n", 3, "AoRs"},
    /* a transit partner's role does not allow REGISTER */
    {"partner a {\n  role transit\n  address 192.0.2.1\n  register pbx@acme.example\n}\n"
     "role transit { methods INVITE ACK BYE CANCEL }\n", 4, "do not include REGISTER"},
    {"partner a {\n  role enterprise\n  methods INVITE ACK BYE\n  register pbx@acme.example\n}\n", 4,
     "do not include REGISTER"},
    {"zone z {\n  register pbx@acme.example\n}\n", 2, "unknown"},
};

static void test_register_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        sw_policy *p;
        int rc = load(bads[i].text, &p);
        if (rc == SW_OK) {
            sw_policy_free(p);
            fail_msg("case %zu loaded", i);
        }
        assert_true(diags.n > 0);
        if (diags.d[0].line != bads[i].line || !strstr(diags.d[0].msg, bads[i].word))
            fail_msg("case %zu: line %u '%s'", i, diags.d[0].line, diags.d[0].msg);
    }
}

static void test_register_dump(void **state)
{
    (void)state;
    static const char text[] = "partner acme {\n  role enterprise\n  address 192.0.2.7\n"
                               "  register pbx@acme.example acme.example\n}\n";
    char path[] = "/tmp/sw_test_rights_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    const char *paths[] = {path};
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(sw_policy_dump(paths, 1, &out, &len, &diags), SW_OK);
    unlink(path);
    assert_non_null(out);
    assert_non_null(strstr(out, "register pbx@acme.example, acme.example"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_compiles),
        cmocka_unit_test(test_register_errors),
        cmocka_unit_test(test_register_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
