/* The admission limits of sipwalld's configuration (src/daemon/config.c):
 * defaults (reserve an eighth of max-connections unless set, /32 and /64
 * per "IP", /24 and /48 per network), parsed values, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/config.h"

static char err[1024];

static const char BASE[] = "mode inline\n"
                           "secret /nonexistent/secret\n"
                           "policy builtin:default\n"
                           "listen udp 127.0.0.1:5060 side=interconnect\n"
                           "listen udp 127.0.0.1:5070 side=core\n"
                           "forward udp:127.0.0.1:5080\n";

static int parse(const char *extra, swd_config *c)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", BASE, extra);
    return swd_config_parse(text, strlen(text), "t.conf", c, err, sizeof err);
}

static void test_defaults(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse("", &c), SW_OK);
    assert_int_equal(c.limits.max_connections_per_net, 256);
    assert_int_equal(c.limits.reserve_connections, 4096 / 8);
    assert_int_equal(c.limits.stranger_idle_timeout_s, 30);
    assert_int_equal(c.limits.ip_prefix4, 32);
    assert_int_equal(c.limits.ip_prefix6, 64);
    assert_int_equal(c.limits.net_prefix4, 24);
    assert_int_equal(c.limits.net_prefix6, 48);
    swd_config_free(&c);
    /* the reserve follows max-connections when not set */
    assert_int_equal(parse("limits max-connections=800 max-connections-per-ip=8\n", &c), SW_OK);
    assert_int_equal(c.limits.reserve_connections, 100);
    swd_config_free(&c);
}

static void test_values(void **state)
{
    (void)state;
    swd_config c;
    assert_int_equal(parse("limits max-connections=100 max-connections-per-ip=4 reserve-connections=0\n"
                           "limits max-connections-per-net=9 stranger-idle-timeout=5\n"
                           "limits ip-prefix4=30 ip-prefix6=56 net-prefix4=16 net-prefix6=40\n",
                           &c),
                     SW_OK);
    assert_int_equal(c.limits.reserve_connections, 0);
    assert_int_equal(c.limits.max_connections_per_net, 9);
    assert_int_equal(c.limits.stranger_idle_timeout_s, 5);
    assert_int_equal(c.limits.ip_prefix4, 30);
    assert_int_equal(c.limits.ip_prefix6, 56);
    assert_int_equal(c.limits.net_prefix4, 16);
    assert_int_equal(c.limits.net_prefix6, 40);
    swd_config_free(&c);
}

static void expect_error(const char *extra, const char *want)
{
    swd_config c;
    int rc = parse(extra, &c);
    if (rc == SW_OK) {
        swd_config_free(&c);
        fail_msg("accepted \"%s\", want \"%s\"", extra, want);
    }
    if (!strstr(err, want))
        fail_msg("\"%s\": got \"%s\", want \"%s\"", extra, err, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("limits max-connections=10 max-connections-per-ip=2 reserve-connections=10\n",
                 "reserve-connections (10) leaves no slot");
    expect_error("limits ip-prefix6=48 net-prefix6=64\n", "must not be longer");
    expect_error("limits ip-prefix4=33\n", "ip-prefix4: 33 is out of range");
    expect_error("limits ip-prefix6=8\n", "ip-prefix6: 8 is out of range");
    expect_error("limits stranger-idle-timeout=0\n", "stranger-idle-timeout: 0 is out of range");
    expect_error("limits max-connections-per-net=0\n", "max-connections-per-net: 0 is out of range");
    expect_error("limits reserve-connections=1\nlimits reserve-connections=2\n", "already set on line 7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
