/* sipwalld's `admin-api` directive (docs/admin-api.md): options land in
 * their fields, defaults, the credential next to the secret, and each kind
 * of error names its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"

static char err[1024];
static char dir[64];

static int parse(const char *fmt, swd_config *c)
{
    char text[8192], extra[4096];
    /* every %s is the test's directory */
    size_t at = 0;
    for (const char *p = fmt; *p && at + sizeof dir + 1 < sizeof extra; p++) {
        if (p[0] == '%' && p[1] == 's') {
            at += (size_t)snprintf(extra + at, sizeof extra - at, "%s", dir);
            p++;
        } else {
            extra[at++] = *p;
        }
    }
    extra[at] = '\0';
    snprintf(text, sizeof text, "mode passive\nhep udp 127.0.0.1:9060\n%s\n", extra);
    memset(c, 0, sizeof *c);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sw_cfg_api_XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *files[] = {"ca.pem", "s.pem", "s.key"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs("x\n", f);
        fclose(f);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *files[] = {"ca.pem", "s.pem", "s.key"};
    for (int i = 0; i < 3; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static void test_off_by_default(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse("", &c), SW_OK);
    assert_int_equal(c.api.on, 0);
    swd_config_free(&c);
}

static void test_full(void **state)
{
    (void)state;
    swd_config c;
    int rc = parse("admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key client-ca %s/ca.pem "
                   "credential %s/api.hash max-conns 8 timeout 30",
                   &c);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.api.on, 1);
    assert_int_equal(c.api.addr.family, 4);
    assert_int_equal(c.api.addr.port, 8443);
    assert_non_null(strstr(c.api.cert, "/s.pem"));
    assert_non_null(strstr(c.api.key, "/s.key"));
    assert_non_null(strstr(c.api.client_ca, "/ca.pem"));
    assert_non_null(strstr(c.api.credential, "/api.hash"));
    assert_int_equal(c.api.max_conns, 8);
    assert_int_equal(c.api.timeout_s, 30);
    assert_int_equal(c.api.line, 3);
    swd_config_free(&c);
    /* defaults; the credential next to the secret; IPv6 loopback */
    rc = parse("secret %s/secret\nadmin-api listen [::1]:8443 cert %s/s.pem key %s/s.key", &c);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.api.max_conns, 64);
    assert_int_equal(c.api.timeout_s, 10);
    assert_null(c.api.client_ca);
    char want[128];
    snprintf(want, sizeof want, "%s/admin-api.hash", dir);
    assert_string_equal(c.api.credential, want);
    swd_config_free(&c);
    /* a public address with allow-remote */
    rc = parse("admin-api listen 192.0.2.1:8443 cert %s/s.pem key %s/s.key credential %s/h allow-remote", &c);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.api.addr.ip[0], 192);
    swd_config_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    struct {
        const char *text, *want;
    } bad[] = {
        {"admin-api", "usage: admin-api listen"},
        {"admin-api listen", "usage: admin-api listen"},
        {"admin-api serve 127.0.0.1:8443", "usage: admin-api listen"},
        {"admin-api listen 127.0.0.1 cert %s/s.pem key %s/s.key credential %s/h", "t.conf:3:"},
        {"admin-api listen 127.0.0.1:0 cert %s/s.pem key %s/s.key credential %s/h", "port '0' must be 1..65535"},
        {"admin-api listen 127.0.0.1:8443 credential %s/h", "cert and key are required"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem credential %s/h", "cert and key are required"},
        {"admin-api listen 192.0.2.1:8443 cert %s/s.pem key %s/s.key credential %s/h", "not a loopback address"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key", "give credential FILE"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key credential %s/h colour red",
         "unknown option 'colour'"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key credential %s/h max-conns 0", "max-conns"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key credential %s/h timeout 301", "timeout"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key credential %s/h timeout", "needs a value"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem cert %s/s.pem key %s/s.key", "given twice"},
        {"admin-api listen 127.0.0.1:8443 cert %s/s.pem key %s/s.key credential %s/h\n"
         "admin-api listen 127.0.0.1:8444 cert %s/s.pem key %s/s.key credential %s/h",
         "t.conf:4:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        swd_config c;
        int rc = parse(bad[i].text, &c);
        if (rc == SW_OK || !strstr(err, bad[i].want)) {
            if (rc == SW_OK)
                swd_config_free(&c);
            fail_msg("case %zu: rc %d, '%s' not in '%s'", i, rc, bad[i].want, err);
        }
        if (!strstr(err, "t.conf:3:") && !strstr(err, "t.conf:4:"))
            fail_msg("case %zu: no line in '%s'", i, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
