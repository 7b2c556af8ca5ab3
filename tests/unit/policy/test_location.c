/* The subscriber location feed (TSV parsing, number normalisation, bad
 * lines skipped with warnings, later lines winning) and PLMN distances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/policy.h"

#define DATA SW_TEST_DATA "/policy"

static sw_policy_diags diags;

static void test_feed(void **state)
{
    (void)state;
    sw_location_feed *f = NULL;
    assert_int_equal(sw_location_feed_load(DATA "/subscribers.tsv", &f, &diags), SW_OK);
    assert_non_null(f);
    /* 4 distinct numbers; the 9th line updates the first */
    assert_int_equal(sw_location_feed_count(f), 4);
    /* three bad lines: bad PLMN, bad time, two columns */
    assert_int_equal(diags.warnings, 3);
    assert_int_equal(diags.errors, 0);
    assert_int_equal(diags.d[0].line, 6);
    assert_int_equal(diags.d[1].line, 7);
    assert_int_equal(diags.d[2].line, 8);

    sw_location loc;
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("+447700900123"), &loc), 1);
    assert_string_equal(loc.plmn, "262-01");
    assert_int_equal(loc.since_ns, INT64_C(1795600800) * SW_NS_S); /* 2026-11-25T10:00:00Z */
    /* written without '+' in the feed, and looked up either way */
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("+447700900124"), &loc), 1);
    assert_string_equal(loc.plmn, "234-15");
    /* 10:00:00.500+01:00 is 09:00:00.5Z */
    assert_int_equal(loc.since_ns, INT64_C(1795510800) * SW_NS_S + 500000000);
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("447700900124"), &loc), 1);
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("+447700900125"), &loc), 1);
    assert_string_equal(loc.plmn, "310-260");
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("sip:alice@ims.example"), &loc), 1);
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("+447700900126"), &loc), 0);
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("+447700900127"), &loc), 0);
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT("+4477009001"), &loc), 0);
    assert_int_equal(sw_location_lookup(f, SW_STR_LIT(""), &loc), 0);
    assert_int_equal(sw_location_lookup(NULL, SW_STR_LIT("+447700900123"), &loc), 0);
    sw_location_feed_free(f);

    /* a missing file is an I/O error naming it */
    f = (sw_location_feed *)0x1;
    assert_int_equal(sw_location_feed_load(DATA "/no-feed.tsv", &f, &diags), SW_EIO);
    assert_null(f);
    assert_int_equal(diags.errors, 1);
    assert_non_null(strstr(diags.d[0].file, "no-feed.tsv"));
}

static void test_distance(void **state)
{
    (void)state;
    int32_t uk_fr = sw_plmn_distance_km("234-15", "208-01");
    assert_true(uk_fr >= 600 && uk_fr <= 1000);
    assert_int_equal(sw_plmn_distance_km("208-01", "234-15"), uk_fr);
    assert_int_equal(sw_plmn_distance_km("234-15", "235-01"), 0);
    assert_int_equal(sw_plmn_distance_km("234-15", "234-30"), 0);
    int32_t uk_us = sw_plmn_distance_km("234-15", "310-260");
    assert_true(uk_us > 5500 && uk_us < 8000);
    int32_t de_au = sw_plmn_distance_km("262-01", "505-01");
    assert_true(de_au > 14000 && de_au < 17500);
    int32_t es_pt = sw_plmn_distance_km("214-01", "268-01");
    assert_true(es_pt > 200 && es_pt < 700);
    /* antipodes stay finite: Spain to New Zealand ~ 19 000-20 000 km */
    int32_t es_nz = sw_plmn_distance_km("214-01", "530-01");
    assert_true(es_nz > 18000 && es_nz <= 20016);
    /* a bare MCC works too */
    assert_int_equal(sw_plmn_distance_km("234", "208"), uk_fr);
    /* unknown or malformed */
    assert_int_equal(sw_plmn_distance_km("001-01", "208-01"), -1);
    assert_int_equal(sw_plmn_distance_km("999-99", "208-01"), -1);
    assert_int_equal(sw_plmn_distance_km("2a4-15", "208-01"), -1);
    assert_int_equal(sw_plmn_distance_km("", "208-01"), -1);
    assert_int_equal(sw_plmn_distance_km(NULL, "208-01"), -1);
    assert_int_equal(sw_plmn_distance_km("2081", "208-01"), -1);

    /* the table covers the common MCCs */
    static const char *const common[] = {
        "202", "204", "206", "208", "214", "216", "222", "226", "228", "230", "232", "234",
        "238", "240", "242", "244", "250", "255", "260", "262", "268", "272", "286", "302",
        "310", "334", "404", "405", "410", "420", "424", "425", "432", "440", "450", "452",
        "454", "460", "466", "470", "502", "505", "510", "515", "520", "525", "530", "602",
        "604", "620", "621", "639", "655", "722", "724", "730", "732"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (sw_plmn_distance_km(common[i], "234") < 0)
            fail_msg("MCC %s is missing", common[i]);
    unsigned known = 0;
    for (unsigned mcc = 200; mcc < 800; mcc++) {
        char m[4];
        snprintf(m, sizeof m, "%03u", mcc);
        known += sw_plmn_distance_km(m, "234") >= 0;
    }
    assert_true(known >= 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed),
        cmocka_unit_test(test_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
