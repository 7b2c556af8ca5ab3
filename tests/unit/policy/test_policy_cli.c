/* `sipwall policy check`: exit status, diagnostics on stderr, the summary
 * on stdout (runs the program built beside the tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define DATA SW_TEST_DATA "/policy"
#define SIPWALL SW_BUILD_DIR "/sipwall"

static char out[65536];

/* Runs sipwall with args (stderr into stdout); returns the exit status. */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", SIPWALL, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void test_cli(void **state)
{
    (void)state;
    if (access(SIPWALL, X_OK) != 0)
        skip();
    assert_int_equal(run("policy check " DATA "/main.policy"), 0);
    assert_non_null(strstr(out, "policy \"test interconnect\" version \"2026-11\""));
    assert_non_null(strstr(out, "interconnect    1 partners,    2 addresses, 1 trusted: alpha"));
    assert_non_null(strstr(out, "highrisk             numbers        4 entries"));
    assert_non_null(strstr(out, "rules:     7 (1 allow)"));
    assert_non_null(strstr(out, "monitor: scan; off: flood"));
    assert_non_null(strstr(out, "patterns:  5 compiled into 2 databases"));
    assert_non_null(strstr(out, "(4 numbers, 3 bad lines skipped)"));

    assert_int_equal(run("policy check " DATA "/main.policy " DATA "/overlay.policy"), 0);
    assert_non_null(strstr(out, "enterprise      1 partners,    1 addresses, 0 trusted: delta"));

    assert_int_equal(run("policy check builtin:default"), 0);

    assert_int_equal(run("policy check " DATA "/cycle_a.policy"), 1);
    assert_non_null(strstr(out, "cycle_b.policy:2:9: error: include cycle"));

    assert_int_equal(run("policy check " DATA "/no-such.policy"), 2);
    assert_non_null(strstr(out, "no-such.policy: error: cannot read"));
    assert_int_equal(run("policy check"), 2);
    assert_int_equal(run("policy"), 2);
    assert_int_equal(run("policy frob"), 2);
    assert_int_equal(run("policy check --bogus x"), 2);
    assert_int_equal(run("help policy"), 0);
    assert_non_null(strstr(out, "usage: sipwall policy check FILE..."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
