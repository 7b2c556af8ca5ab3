/* sipwalld's `metrics listen ADDR:PORT [allow-remote=yes|no]`: loopback
 * addresses (v4 and v6) load, a non-loopback one only with
 * allow-remote=yes, and every malformed line names its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"

static char err[1024];

#define BASE                                                                                       \
    "mode inline\n"                                                                                \
    "policy builtin:default\n"                                                                     \
    "secret /tmp/sw-secret\n"                                                                      \
    "listen udp 127.0.0.1:5060 side=interconnect\n"                                                \
    "listen udp 127.0.0.2:5060 side=core\n"                                                        \
    "forward udp:127.0.0.3:5070\n"

static int parse(const char *text, swd_config *c)
{
    memset(c, 0, sizeof *c);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static void test_metrics_loopback(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse(BASE, &c), SW_OK);
    assert_int_equal(c.has_metrics, 0);
    swd_config_free(&c);

    assert_int_equal(parse(BASE "metrics listen 127.0.0.1:9464\n", &c), SW_OK);
    assert_int_equal(c.has_metrics, 1);
    assert_int_equal(c.metrics_addr.family, 4);
    assert_int_equal(c.metrics_addr.port, 9464);
    assert_int_equal(c.metrics_allow_remote, 0);
    swd_config_free(&c);

    assert_int_equal(parse(BASE "metrics listen [::1]:9100\n", &c), SW_OK);
    assert_int_equal(c.metrics_addr.family, 6);
    assert_int_equal(c.metrics_addr.port, 9100);
    swd_config_free(&c);
}

static void test_metrics_remote(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse(BASE "metrics listen 192.0.2.7:9464\n", &c), SW_EINVAL);
    assert_non_null(strstr(err, "t.conf:7:"));
    assert_non_null(strstr(err, "allow-remote=yes"));
    assert_int_equal(parse(BASE "metrics listen 0.0.0.0:9464 allow-remote=no\n", &c), SW_EINVAL);
    assert_int_equal(parse(BASE "metrics listen [2001:db8::1]:9464\n", &c), SW_EINVAL);
    assert_int_equal(parse(BASE "metrics listen 192.0.2.7:9464 allow-remote=yes insecure=yes\n", &c), SW_OK);
    assert_int_equal(c.has_metrics, 1);
    assert_int_equal(c.metrics_allow_remote, 1);
    swd_config_free(&c);
}

static void test_metrics_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        BASE "metrics\n",
        BASE "metrics listen\n",
        BASE "metrics serve 127.0.0.1:9464\n",
        BASE "metrics listen 127.0.0.1\n",
        BASE "metrics listen 127.0.0.1:0\n",
        BASE "metrics listen localhost:9464\n",
        BASE "metrics listen 127.0.0.1:9464 allow-remote=maybe\n",
        BASE "metrics listen 127.0.0.1:9464 colour=blue\n",
        BASE "metrics listen 127.0.0.1:9464\nmetrics listen 127.0.0.1:9465\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        swd_config c;
        assert_int_equal(parse(bad[i], &c), SW_EINVAL);
        assert_non_null(strstr(err, "t.conf:"));
        assert_non_null(strstr(err, "metrics"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_loopback),
        cmocka_unit_test(test_metrics_remote),
        cmocka_unit_test(test_metrics_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
