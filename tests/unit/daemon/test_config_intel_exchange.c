/* sipwalld's intel-pull, intel-apiban, intel-push and intel-push-peer directives
 * (docs/exchange-intel.md): the fields and defaults, the cursor next to
 * the secret, and the refusals with their line numbers. */
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

/* lines 1..7 are fixed; the extra text starts on line 8 */
static int parse(const char *extra, swd_config *c)
{
    char text[8192];
    snprintf(text, sizeof text,
             "mode inline\npolicy builtin:default\nsecret %s/secret\nlisten udp 127.0.0.1:5060 side=interconnect\n"
             "listen udp 127.0.0.2:5060 side=core\nforward udp:127.0.0.3:5070\n"
             "intel trust %s/trust keys %s\n%s\n",
             dir, dir, dir, extra);
    memset(c, 0, sizeof *c);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static void put(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_cfg_xchg_XXXXXX");
    assert_non_null(mkdtemp(dir));
    put("trust", "partner ZZ01 trust 90\n");
    put("pw", "secret\n");
    put("ca.pem", "ca\n");
    put("apikey", "k0123456789abcdef\n");
    char k[128];
    snprintf(k, sizeof k, "%s/apikey", dir);
    assert_int_equal(chmod(k, 0600), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"trust", "pw", "ca.pem", "apikey"};
    for (int i = 0; i < 4; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    return rmdir(dir);
}

static void test_pull_fields(void **state)
{
    (void)state;
    swd_config c;
    char line[512];
    snprintf(line, sizeof line,
             "intel-pull https://192.0.2.1/api1/ collection c-1 org ZZ01 user u password-file %s/pw ca %s/ca.pem",
             dir, dir);
    if (parse(line, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.npulls, 1);
    assert_string_equal(c.pulls[0].url, "https://192.0.2.1/api1/");
    assert_string_equal(c.pulls[0].collection, "c-1");
    assert_string_equal(c.pulls[0].org, "ZZ01");
    assert_int_equal(c.pulls[0].every_s, 60);
    assert_int_equal(c.pulls[0].limit, 500);
    assert_int_equal(c.pulls[0].max_page, 16u << 20);
    char want[256];
    snprintf(want, sizeof want, "%s/intel-pull-ZZ01-c-1.cursor", dir);
    assert_string_equal(c.pulls[0].cursor, want);
    assert_int_equal(c.pulls[0].line, 8);
    swd_config_free(&c);
}

static void test_pull_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"intel-pull http://192.0.2.1/api1/ collection c org ZZ01", "t.conf:8: intel-pull: http://"},
        {"intel-pull https://192.0.2.1/api1 collection c org ZZ01", "ending in '/'"},
        {"intel-pull https://192.0.2.1/api1/ org ZZ01", "collection ID and org ORG are required"},
        {"intel-pull https://192.0.2.1/api1/ collection a/b org ZZ01", "is not 1..64"},
        {"intel-pull https://192.0.2.1/api1/ collection c org ZZ01 every 0", "out of range"},
        {"intel-pull https://192.0.2.1/api1/ collection c org ZZ01 limit 10001", "out of range"},
        {"intel-pull https://192.0.2.1/api1/ collection c org ZZ01 user u", "go together"},
        {"intel-pull https://192.0.2.1/api1/ collection c org ZZ01 bogus 1", "unknown option 'bogus'"},
        {"intel-pull https://192.0.2.1/api1/ collection c org ZZ01\n"
         "intel-pull https://192.0.2.1/api1/ collection c org ZZ01",
         "t.conf:9: intel-pull: collection c of https://192.0.2.1/api1/ is pulled already (line 8)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        swd_config c;
        assert_int_not_equal(parse(cases[i].line, &c), SW_OK);
        if (!strstr(err, cases[i].want))
            fail_msg("%s: %s", cases[i].line, err);
        swd_config_free(&c);
    }
    /* http only with allow-http */
    swd_config c;
    assert_int_equal(parse("intel-pull http://127.0.0.1:9/r/ collection c org ZZ01 allow-http", &c), SW_OK);
    assert_true(c.pulls[0].allow_http);
    swd_config_free(&c);
}

static void test_apiban(void **state)
{
    (void)state;
    swd_config c;
    char line[512];
    snprintf(line, sizeof line, "intel-apiban https://apiban.example/api/ key-file %s/apikey ca %s/ca.pem", dir, dir);
    if (parse(line, &c) != SW_OK)
        fail_msg("%s", err);
    assert_int_equal(c.npulls, 1);
    assert_true(c.pulls[0].apiban);
    assert_string_equal(c.pulls[0].url, "https://apiban.example/api/");
    assert_string_equal(c.pulls[0].org, "apiban");
    assert_int_equal(c.pulls[0].every_s, 600);
    assert_int_equal(c.pulls[0].confidence, 90);
    assert_null(c.pulls[0].cursor); /* nothing kept between starts */
    assert_non_null(strstr(c.pulls[0].key_file, "/apikey"));
    swd_config_free(&c);
    snprintf(line, sizeof line, "intel-apiban https://apiban.example/api/ key-file %s/apikey every 300 confidence 70", dir);
    assert_int_equal(parse(line, &c), SW_OK);
    assert_int_equal(c.pulls[0].every_s, 300);
    assert_int_equal(c.pulls[0].confidence, 70);
    swd_config_free(&c);
    char pw[128], k1[512], k2[512], k3[512], k4[512];
    snprintf(pw, sizeof pw, "%s/pw", dir); /* 0644: others may read it */
    assert_int_equal(chmod(pw, 0644), 0);
    snprintf(k1, sizeof k1, "intel-apiban https://apiban.example/api/ key-file %s", pw);
    snprintf(k2, sizeof k2, "intel-apiban http://apiban.example/api/ key-file %s/apikey", dir);
    snprintf(k3, sizeof k3, "intel-apiban https://apiban.example/a?b/ key-file %s/apikey", dir);
    snprintf(k4, sizeof k4,
             "intel-apiban https://apiban.example/api/ key-file %s/apikey\n"
             "intel-apiban https://apiban.example/api/ key-file %s/apikey",
             dir, dir);
    const struct {
        const char *line, *want;
    } cases[] = {
        {"intel-apiban https://apiban.example/api/", "t.conf:8: intel-apiban: key-file FILE is required"},
        {k1, "readable by others"},
        {k2, "plain HTTP"},
        {k3, "'?'"},
        {k4, "t.conf:9: intel-apiban: https://apiban.example/api/ is pulled already (line 8)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_not_equal(parse(cases[i].line, &c), SW_OK);
        if (!strstr(err, cases[i].want))
            fail_msg("%s: %s", cases[i].line, err);
        swd_config_free(&c);
    }
}

static void test_push(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse("intel-push https://192.0.2.9/v1/intel/push queue 5", &c), SW_OK);
    assert_int_equal(c.npushes, 1);
    assert_int_equal(c.pushes[0].queue, 5);
    assert_int_equal(c.pushes[0].timeout_s, 10);
    swd_config_free(&c);
    assert_int_not_equal(parse("intel-push http://192.0.2.9/v1/intel/push", &c), SW_OK);
    assert_non_null(strstr(err, "t.conf:8: intel-push:"));
    swd_config_free(&c);
    /* a push peer needs the admin API with client-ca */
    assert_int_not_equal(parse("intel-push-peer opa-node org OPA", &c), SW_OK);
    assert_non_null(strstr(err, "t.conf:8: intel-push-peer needs admin-api with client-ca"));
    swd_config_free(&c);
    assert_int_not_equal(parse("intel-push-peer opa-node OPA", &c), SW_OK);
    assert_non_null(strstr(err, "t.conf:8: intel-push-peer: usage"));
    swd_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_fields),
        cmocka_unit_test(test_apiban), cmocka_unit_test(test_pull_refusals),
        cmocka_unit_test(test_push),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
