/* What operators see of the state store: offender kind names, keys from
 * an operator's text, and a block's origin, reason and hits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/detect.h"
#include "sipwall/engine.h"

static void test_kinds(void **st)
{
    (void)st;
    uint8_t k;
    assert_string_equal(sw_offender_kind_name(SW_OFFENDER_SOURCE), "source");
    assert_string_equal(sw_offender_kind_name(SW_OFFENDER_CALLER_PREFIX), "caller_prefix");
    assert_null(sw_offender_kind_name(200));
    assert_int_equal(sw_offender_kind_lookup("callee", &k), SW_OK);
    assert_int_equal(k, SW_OFFENDER_CALLEE);
    assert_int_equal(sw_offender_kind_lookup("Source", &k), SW_ENOTFOUND);
    assert_int_equal(sw_offender_kind_lookup("caller_range", &k), SW_OK);
    assert_int_equal(k, SW_OFFENDER_CALLER_RANGE);
    assert_string_equal(sw_offender_kind_name(SW_OFFENDER_CALLEE_RANGE), "callee_range");
    assert_string_equal(sw_block_origin_name(SW_BLOCK_ORIGIN_ADMIN), "admin");
    assert_string_equal(sw_block_origin_name(SW_BLOCK_ORIGIN_RULE), "rule");
    assert_null(sw_block_origin_name(9));
}

static void test_keys(void **st)
{
    (void)st;
    char id[SW_STATE_ID_MAX];
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "192.0.2.7", id), SW_OK);
    assert_string_equal(id, "192.0.2.7");
    /* IPv6: the /64, in the engine's canonical form, from any address in it */
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "2001:DB8:0:0:1::5", id), SW_OK);
    assert_string_equal(id, "2001:db8::/64");
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "2001:db8::/64", id), SW_OK);
    assert_string_equal(id, "2001:db8::/64");
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "192.0.2.7/64", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "example.com", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER, "+4930123", id), SW_OK);
    assert_string_equal(id, "+4930123");
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER, "a b", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER, "0123456789012345678901234567890123456789", id),
                     SW_EINVAL); /* 40 bytes: one too many */
    assert_int_equal(sw_state_block_key(99, "x", id), SW_EINVAL);
    /* number ranges: "+" and 1..15 digits */
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER_RANGE, "+882130", id), SW_OK);
    assert_string_equal(id, "+882130");
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLEE_RANGE, "+882345678901234", id), SW_OK);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLEE_RANGE, "+8823456789012345", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER_RANGE, "882130", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER_RANGE, "+", id), SW_EINVAL);
    assert_int_equal(sw_state_block_key(SW_OFFENDER_CALLER_RANGE, "+88x1", id), SW_EINVAL);
}

static void test_origin_reason_hits(void **st)
{
    (void)st;
    sw_state_store *s = sw_state_mem_new(16);
    assert_non_null(s);
    sw_state_block b, out, ev;
    int nev, ended;
    memset(&b, 0, sizeof b);
    b.kind = SW_OFFENDER_SOURCE;
    strcpy(b.id, "192.0.2.7");
    strcpy(b.rule, "admin.block");
    strcpy(b.reason, "ticket 42");
    b.origin = SW_BLOCK_ORIGIN_ADMIN;
    b.since = 1000;
    assert_true(sw_state_block_set(s, &b, 100 * SW_NS_S, &ev, &nev) > 0);
    sw_state_where at;
    memset(&at, 0, sizeof at);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sw_state_block_hit(s, SW_OFFENDER_SOURCE, "192.0.2.7", 2000 + i, &at, &out, &ended), 1);
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_SOURCE, "192.0.2.7", &out), SW_OK);
    assert_int_equal(out.origin, SW_BLOCK_ORIGIN_ADMIN);
    assert_string_equal(out.reason, "ticket 42");
    assert_int_equal(out.hits, 3);
    /* a renewal keeps the count; a summary's reset of suppressed does not touch it */
    b.since = 5000;
    assert_true(sw_state_block_set(s, &b, 100 * SW_NS_S, &ev, &nev) > 0);
    assert_int_equal(sw_state_block_hit(s, SW_OFFENDER_SOURCE, "192.0.2.7", 6000, &at, &out, &ended), 1);
    assert_int_equal(out.hits, 4);
    sw_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_origin_reason_hits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
