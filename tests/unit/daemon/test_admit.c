/* Connection admission (src/daemon/admit.c): per-prefix caps for
 * strangers (/64 for IPv6 by default, /24 and /48 networks), partners
 * counted by their own address, the partners' reserve, release and
 * promotion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "daemon/admit.h"

static sw_addr A(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

static swd_admit *mk(uint32_t maxc, uint32_t per_ip, uint32_t per_net, uint32_t reserve)
{
    swd_limits l;
    swd_limits_default(&l);
    l.max_connections = maxc;
    l.max_connections_per_ip = per_ip;
    l.max_connections_per_net = per_net;
    l.reserve_connections = reserve;
    swd_admit *a = swd_admit_new(&l, maxc);
    assert_non_null(a);
    return a;
}

static void test_v6_slash64_is_one_ip(void **state)
{
    (void)state;
    swd_admit *a = mk(1000, 4, 1000, 0);
    char s[64];
    int ok = 0;
    for (int i = 1; i <= 20; i++) {
        snprintf(s, sizeof s, "2001:db8:1:2::%x", i);
        sw_addr x = A(s);
        ok += swd_admit_take(a, &x, 0) == SWD_ADMIT_OK;
    }
    assert_int_equal(ok, 4);
    sw_addr other = A("2001:db8:1:3::1"); /* the next /64 */
    assert_int_equal(swd_admit_take(a, &other, 0), SWD_ADMIT_OK);
    sw_addr x = A("2001:db8:1:2::1");
    assert_int_equal(swd_admit_take(a, &x, 0), SWD_ADMIT_IP);
    swd_admit_release(a, &x, 0);
    assert_int_equal(swd_admit_take(a, &x, 0), SWD_ADMIT_OK);
    assert_int_equal(swd_admit_strangers(a), 5);
    assert_int_equal(swd_admit_unref(a), 1);
}

static void test_networks(void **state)
{
    (void)state;
    swd_admit *a = mk(1000, 2, 5, 0);
    char s[64];
    int ok = 0;
    for (int i = 1; i <= 10; i++) { /* 10 addresses of one /24: 5 */
        snprintf(s, sizeof s, "198.51.100.%d", i);
        sw_addr x = A(s);
        ok += swd_admit_take(a, &x, 0) == SWD_ADMIT_OK;
    }
    assert_int_equal(ok, 5);
    sw_addr x = A("198.51.100.77");
    assert_int_equal(swd_admit_take(a, &x, 0), SWD_ADMIT_NET);
    x = A("198.51.101.1");
    assert_int_equal(swd_admit_take(a, &x, 0), SWD_ADMIT_OK);
    ok = 0;
    for (int j = 1; j <= 10; j++) { /* 10 /64s of one /48: 5 */
        snprintf(s, sizeof s, "2001:db8:7:%x::1", j);
        sw_addr y = A(s);
        ok += swd_admit_take(a, &y, 0) == SWD_ADMIT_OK;
    }
    assert_int_equal(ok, 5);
    /* a partner is not held to the strangers' network cap */
    x = A("198.51.100.200");
    assert_int_equal(swd_admit_take(a, &x, 1), SWD_ADMIT_OK);
    assert_int_equal(swd_admit_take(a, &x, 1), SWD_ADMIT_OK);
    assert_int_equal(swd_admit_take(a, &x, 1), SWD_ADMIT_IP); /* its own address: per-ip */
    swd_admit_unref(a);
}

static void test_partner_beside_strangers(void **state)
{
    (void)state;
    swd_admit *a = mk(1000, 4, 1000, 0);
    char s[64];
    for (int i = 1; i <= 10; i++) {
        snprintf(s, sizeof s, "fd00::1:%x", i);
        sw_addr x = A(s);
        (void)swd_admit_take(a, &x, 0);
    }
    sw_addr p = A("fd00::10"); /* same /64 as the strangers */
    assert_int_equal(swd_admit_take(a, &p, 0), SWD_ADMIT_IP);
    assert_int_equal(swd_admit_take(a, &p, 1), SWD_ADMIT_OK);
    swd_admit_unref(a);
}

static void test_reserve_and_promote(void **state)
{
    (void)state;
    swd_admit *a = mk(10, 100, 100, 3);
    char s[64];
    int ok = 0;
    for (int i = 1; i <= 10; i++) {
        snprintf(s, sizeof s, "203.0.113.%d", i);
        sw_addr x = A(s);
        ok += swd_admit_take(a, &x, 0) == SWD_ADMIT_OK;
    }
    assert_int_equal(ok, 7);
    sw_addr x = A("203.0.113.50");
    assert_int_equal(swd_admit_take(a, &x, 0), SWD_ADMIT_RESERVE);
    assert_int_equal(swd_admit_take(a, &x, 1), SWD_ADMIT_OK);
    /* a stranger whose TLS identity names a partner frees a stranger place */
    sw_addr y = A("203.0.113.1");
    swd_admit_promote(a, &y);
    assert_int_equal(swd_admit_strangers(a), 6);
    sw_addr z = A("203.0.113.60");
    assert_int_equal(swd_admit_take(a, &z, 0), SWD_ADMIT_OK);
    swd_admit_release(a, &y, 1);
    swd_admit_release(a, &z, 0);
    assert_int_equal(swd_admit_strangers(a), 6);
    swd_admit *b = swd_admit_ref(a);
    assert_int_equal(swd_admit_unref(b), 0);
    assert_int_equal(swd_admit_unref(a), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v6_slash64_is_one_ip),
        cmocka_unit_test(test_networks),
        cmocka_unit_test(test_partner_beside_strangers),
        cmocka_unit_test(test_reserve_and_promote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
