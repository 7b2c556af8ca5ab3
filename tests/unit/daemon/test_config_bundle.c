/* sipwalld's `bundle` and `trust-key` directives (docs/bundles.md): the
 * fields and the default state path next to the secret, and the refusals
 * that keep policy loading only from the signed bundle: `policy` or
 * `location-feed` next to `bundle`, `trust-key` without `bundle`, `bundle`
 * without a trust key, only retiring keys, a missing key file, a bad
 * option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"

static char err[1024];
static char dir[64];

static int parse(const char *extra, swd_config *c)
{
    char text[8192];
    snprintf(text, sizeof text,
             "mode inline\nsecret %s/secret\nlisten udp 127.0.0.1:5060 side=interconnect\n"
             "listen udp 127.0.0.2:5060 side=core\nforward udp:127.0.0.3:5070\n%s\n",
             dir, extra);
    memset(c, 0, sizeof *c);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_cfg_bundle_XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *names[] = {"a.pub", "b.pub"};
    for (int i = 0; i < 2; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs("key\n", f);
        fclose(f);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/a.pub", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/b.pub", dir);
    unlink(p);
    return rmdir(dir);
}

static void test_fields(void **state)
{
    (void)state;
    swd_config c;
    char extra[600], want[128];
    snprintf(extra, sizeof extra, "bundle /etc/p.swb\ntrust-key %s/a.pub retiring\ntrust-key %s/b.pub",
             dir, dir);
    assert_int_equal(parse(extra, &c), SW_OK);
    assert_string_equal(c.bundle, "/etc/p.swb");
    snprintf(want, sizeof want, "%s/bundle.mark", dir);
    assert_string_equal(c.bundle_state, want);
    assert_int_equal(c.ntrust_keys, 2);
    assert_int_equal(c.trust_retiring[0], 1);
    assert_int_equal(c.trust_retiring[1], 0);
    assert_int_equal(c.npolicies, 0); /* no policy lines: the bundle is the policy */
    swd_config_free(&c);

    snprintf(extra, sizeof extra, "bundle /etc/p.swb state=/var/lib/x/mark\ntrust-key %s/b.pub", dir);
    assert_int_equal(parse(extra, &c), SW_OK);
    assert_string_equal(c.bundle_state, "/var/lib/x/mark");
    swd_config_free(&c);
}

/* extra with every '@' replaced by the test directory */
static void expect_error(const char *extra_in, const char *needle)
{
    char extra[800];
    size_t o = 0, dl = strlen(dir);
    for (const char *p = extra_in; *p && o + dl + 1 < sizeof extra; p++) {
        if (*p == '@') {
            memcpy(extra + o, dir, dl);
            o += dl;
        } else {
            extra[o++] = *p;
        }
    }
    extra[o] = '\0';
    swd_config c;
    assert_int_not_equal(parse(extra, &c), SW_OK);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not say '%s'", err, needle);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("bundle /p.swb\ntrust-key @/a.pub\npolicy builtin:default",
                 "policy: not with 'bundle'");
    expect_error("bundle /p.swb\ntrust-key @/a.pub\nlocation-feed /f.tsv",
                 "location-feed: not with 'bundle'");
    expect_error("policy builtin:default\ntrust-key @/a.pub", "trust-key needs 'bundle FILE'");
    expect_error("bundle /p.swb", "bundle needs at least one 'trust-key FILE'");
    expect_error("bundle /p.swb\ntrust-key @/a.pub retiring\ntrust-key @/b.pub retiring",
                 "every key is retiring");
    expect_error("bundle /p.swb\ntrust-key @/missing.pub", "missing.pub");
    expect_error("bundle /p.swb\ntrust-key @/a.pub old", "is not 'retiring'");
    expect_error("bundle /p.swb\ntrust-key @/a.pub\ntrust-key @/a.pub", "given twice");
    expect_error("bundle /p.swb color=red\ntrust-key @/a.pub", "color");
    /* without a bundle, inline mode still needs a policy */
    expect_error("", "at least one 'policy'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
