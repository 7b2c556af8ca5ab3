/* Whole-policy lint (src/policy/lint.c): conditions naming a partner, zone,
 * role or trust value that does not exist are errors at the value's line
 * and column; names compare case-insensitively, as the engine's STR fields
 * do; a partner defined in a later file counts; a rule replaced by a later
 * file is not checked; a policy without rules loads with a warning. */
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

static int load_text(const char *text)
{
    sw_policy *p = NULL;
    int rc = sw_policy_load_text("t.policy", text, strlen(text), NULL, &p, &diags);
    sw_policy_free(p);
    return rc;
}

static char *write_temp(const char *text)
{
    char tmpl[] = "/tmp/sw_lint_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return strdup(tmpl);
}

static void test_unknown_names(void **state)
{
    (void)state;
    assert_int_equal(load_text("partner alpha { address 192.0.2.1 }\n"
                               "zone mgmt { address 10.0.0.0/8 }\n"
                               "rule cat1.a {\n"
                               "    when peer == \"bravo\" or dst.peer in { ALPHA, Mgmt, unknown, zz }\n"
                               "    action drop\n"
                               "}\n"
                               "rule cat1.b { when peer.role in { core, romaing, Unknown }; action drop }\n"
                               "rule cat1.c { when dst.role != transit and peer.trust == trusty; action drop }\n"
                               "rule cat1.d { when peer == alpha and peer in list names; action drop }\n"
                               "list names strings { nobody }\n"),
                     SW_EINVAL);
    assert_int_equal(diags.errors, 4);
    assert_int_equal(diags.d[0].line, 4);
    assert_int_equal(diags.d[0].col, 18);
    assert_non_null(strstr(diags.d[0].msg, "unknown partner or zone 'bravo'"));
    assert_int_equal(diags.d[1].line, 4);
    assert_int_equal(diags.d[1].col, 65);
    assert_non_null(strstr(diags.d[1].msg, "'zz'"));
    assert_non_null(strstr(diags.d[1].msg, "dst.peer"));
    assert_int_equal(diags.d[2].line, 7);
    assert_non_null(strstr(diags.d[2].msg, "unknown role 'romaing'"));
    assert_int_equal(diags.d[3].line, 8);
    assert_non_null(strstr(diags.d[3].msg, "unknown trust 'trusty'"));
    assert_int_equal(diags.warnings, 0);
}

static void test_overlays(void **state)
{
    (void)state;
    /* the rule names a partner the second file defines: fine; the second
     * file replaces a rule whose condition named a missing partner */
    char *a = write_temp("rule cat1.a { when peer == later; action drop }\n"
                         "rule cat1.b { when peer == gone; action drop }\n");
    char *b = write_temp("partner later { address 192.0.2.9 }\n"
                         "rule cat1.b { when peer == later; action tag }\n");
    const char *paths[] = {a, b};
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load(paths, 2, &p, &diags), SW_OK);
    assert_int_equal(diags.errors, 0);
    sw_policy_free(p);
    /* alone, the first file has an error per rule */
    assert_int_equal(sw_policy_load(paths, 1, &p, &diags), SW_EINVAL);
    assert_int_equal(diags.errors, 2);
    unlink(a);
    unlink(b);
    free(a);
    free(b);
}

static void test_no_rules(void **state)
{
    (void)state;
    assert_int_equal(load_text("partner core { role core; address 10.0.0.1 }\n"), SW_OK);
    assert_int_equal(diags.errors, 0);
    assert_int_equal(diags.warnings, 1);
    assert_int_equal(diags.d[0].warning, 1);
    assert_string_equal(diags.d[0].file, "t.policy");
    assert_non_null(strstr(diags.d[0].msg, "no rules"));
    assert_non_null(strstr(diags.d[0].msg, "builtin:default"));
    /* with the default there is no warning */
    char *f = write_temp("partner core { role core; address 10.0.0.1 }\n");
    const char *paths[] = {"builtin:default", f};
    sw_policy *p = NULL;
    assert_int_equal(sw_policy_load(paths, 2, &p, &diags), SW_OK);
    assert_int_equal(diags.warnings, 0);
    assert_int_equal(diags.errors, 0);
    sw_policy_free(p);
    unlink(f);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_overlays),
        cmocka_unit_test(test_no_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
