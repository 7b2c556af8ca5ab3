/* The worker side of sipwalld's metrics (daemon/metrics.h): the engine's
 * statistics folded into totals that never go backwards (an engine whose
 * counts restart, as after a rebuild, adds on instead of taking back);
 * verdict series keyed by names, not by the policy's pointers (a reload's
 * new strings at new addresses count into the same series), bounded by the
 * table with the overflow under _other; latency buckets at their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics.h"
#include "sipwall/facts.h"
#include "sipwall/policy.h"

static uint64_t ld(atomic_uint_fast64_t *c) { return atomic_load(c); }

static void test_publish_monotonic(void **state)
{
    (void)state;
    swd_wmetrics *m = calloc(1, sizeof *m);
    sw_engine_stats es = {0};
    es.messages = 100;
    es.detect.trips = 3;
    swd_wmetrics_publish(m, &es);
    assert_int_equal(ld(&m->messages), 100);
    es.messages = 150;
    es.detect.trips = 5;
    swd_wmetrics_publish(m, &es);
    assert_int_equal(ld(&m->messages), 150);
    assert_int_equal(ld(&m->detector_trips), 5);
    /* the engine's counts restart (a rebuilt engine): the totals go on */
    es.messages = 10;
    es.detect.trips = 1;
    swd_wmetrics_publish(m, &es);
    assert_int_equal(ld(&m->messages), 160);
    assert_int_equal(ld(&m->detector_trips), 6);
    es.messages = 30;
    swd_wmetrics_publish(m, &es);
    assert_int_equal(ld(&m->messages), 180);
    free(m);
}

static void test_latency_buckets(void **state)
{
    (void)state;
    swd_wmetrics *m = calloc(1, sizeof *m);
    swd_wmetrics_latency(m, 1000);       /* le 1 µs: inclusive */
    swd_wmetrics_latency(m, 1001);       /* le 2.5 µs */
    swd_wmetrics_latency(m, -5);         /* a clock oddity: 0 */
    swd_wmetrics_latency(m, 2000000000); /* above 1 s: +Inf */
    assert_int_equal(ld(&m->lat[0]), 2);
    assert_int_equal(ld(&m->lat[1]), 1);
    assert_int_equal(ld(&m->lat[SWD_LAT_BOUNDS]), 1);
    assert_int_equal(ld(&m->lat_sum_ns), 1000 + 1001 + 2000000000);
    free(m);
}

static uint64_t count_of(swd_wmetrics *m, const char *rule, const char *partner)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < SWD_VERDICT_SLOTS; i++)
        if (atomic_load(&m->slots[i].used) && strcmp(m->slots[i].rule, rule) == 0 &&
            strcmp(m->slots[i].partner, partner) == 0)
            n += ld(&m->slots[i].n);
    return n;
}

static void test_verdicts_by_name(void **state)
{
    (void)state;
    swd_wmetrics *m = calloc(1, sizeof *m);
    char rule1[] = "cat1.spoof", partner1[] = "alpha";
    sw_peer peer1 = {.name = partner1};
    sw_facts facts1 = {.peer = &peer1};
    sw_verdict v = {.action = SW_ACTION_REJECT, .rule = rule1, .category = SW_CAT_CAT1, .facts = &facts1};
    for (int i = 0; i < 5; i++)
        swd_wmetrics_verdict(m, 1, &v);
    /* generation 2: the same names in new memory (the old policy is gone) */
    char *rule2 = strdup("cat1.spoof"), *partner2 = strdup("alpha");
    sw_peer peer2 = {.name = partner2};
    sw_facts facts2 = {.peer = &peer2};
    sw_verdict v2 = {.action = SW_ACTION_REJECT, .rule = rule2, .category = SW_CAT_CAT1, .facts = &facts2};
    swd_wmetrics_verdict(m, 2, &v2);
    assert_int_equal(count_of(m, "cat1.spoof", "alpha"), 6);
    /* a different name in the old string's memory is another series: the
     * cache is keyed by generation, not only by pointer */
    strcpy(rule2, "cat1.other");
    swd_wmetrics_verdict(m, 3, &v2);
    assert_int_equal(count_of(m, "cat1.other", "alpha"), 1);
    assert_int_equal(count_of(m, "cat1.spoof", "alpha"), 6);
    /* allowed by default: rule "default"; no facts: partner "none" */
    sw_verdict v3 = {.action = SW_ACTION_ALLOW};
    swd_wmetrics_verdict(m, 3, &v3);
    assert_int_equal(count_of(m, "default", "none"), 1);
    free(rule2);
    free(partner2);
    free(m);
}

static void test_verdicts_bounded(void **state)
{
    (void)state;
    swd_wmetrics *m = calloc(1, sizeof *m);
    char rule[32];
    sw_verdict v = {.action = SW_ACTION_DROP, .rule = rule, .category = SW_CAT_BEHAVIOURAL};
    for (int i = 0; i < 5000; i++) {
        snprintf(rule, sizeof rule, "r%d", i);
        swd_wmetrics_verdict(m, (uint64_t)i, &v); /* a new generation each: no cache hit */
    }
    unsigned used = 0;
    uint64_t total = 0;
    for (unsigned i = 0; i < SWD_VERDICT_SLOTS; i++)
        if (atomic_load(&m->slots[i].used)) {
            used++;
            total += ld(&m->slots[i].n);
        }
    assert_true(used <= SWD_VERDICT_SLOTS);
    assert_int_equal(total, 5000); /* nothing lost */
    assert_true(count_of(m, "_other", "_other") >= 5000 - SWD_VERDICT_SLOTS);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_monotonic),
        cmocka_unit_test(test_latency_buckets),
        cmocka_unit_test(test_verdicts_by_name),
        cmocka_unit_test(test_verdicts_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
