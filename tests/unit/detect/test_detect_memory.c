/* Bounded state: a million INVITEs from random sources, callers and
 * callees leave the detectors' memory and entry counts where they were
 * sized, and the detectors still work afterwards. */
#include "detect_test_util.h"

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random_flood_bounded(void **state)
{
    (void)state;
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, NULL);
    size_t mem0 = sw_detectors_memory(d);
    assert_true(mem0 > 0);
    /* 16 tables of at most 4096 entries (the partner table is smaller). */
    const uint32_t cap_total = 16 * 4096;

    const unsigned n = 1000000;
    int64_t ts = T0;
    for (unsigned i = 0; i < n; i++) {
        tmsg m;
        char cid[24], a[24], b[24];
        uint64_t r = rnd();
        snprintf(cid, sizeof cid, "%016llx", (unsigned long long)r);
        snprintf(a, sizeof a, "+%llu", (unsigned long long)(r % 100000000000ull) + 10000000000ull);
        snprintf(b, sizeof b, "+%llu", (unsigned long long)(rnd() % 100000000000ull) + 10000000000ull);
        ts += 2000; /* 500k messages per second */
        t_req(&m, ts, SW_METHOD_INVITE, ip4((uint32_t)rnd(), 5060), i % 7 ? &zone : &carrier, cid,
              1, cid);
        t_a(&m, a);
        t_b(&m, b);
        sw_detect_result res;
        sw_detectors_observe(d, &m.f, &res);
        if (i % 3 == 0) { /* and some answers */
            tmsg resp;
            t_resp(&resp, &m, ts + 1000, i % 2 ? 487 : 200);
            sw_detectors_observe(d, &resp.f, &res);
        }
        if ((i & 0xffff) == 0)
            assert_int_equal(sw_detectors_memory(d), mem0);
    }
    assert_int_equal(sw_detectors_memory(d), mem0);
    sw_detect_stats st;
    sw_detectors_stats(d, &st);
    assert_true(st.entries <= cap_total);
    assert_true(st.evictions > n); /* the tables were full and kept turning over */
    assert_true(st.messages >= n);

    /* Still detecting: a scanner after the storm. */
    tally t = {.rule = "scan.sweep"};
    for (unsigned i = 0; i < 10; i++) {
        tmsg m;
        char cid[24];
        snprintf(cid, sizeof cid, "sweep-%u", i);
        t_req(&m, ts + MS(i), SW_METHOD_OPTIONS, ATTACKER, &zone, cid, 1, cid);
        m.f.dst = ip4(0x0A000010u, (uint16_t)(5060 + i));
        t_user(&m, "100");
        sw_detect_result r = obs(d, &m);
        tally_add(&t, &r, 0);
    }
    assert_int_equal(t.trips, 1);
    sw_detectors_free(d);
}

static void test_concurrency_survives_churn(void **state)
{
    (void)state;
    /* Partner calls that are evicted under a flood give their concurrency
     * back, so the partner is not refused afterwards. */
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 64, NULL);
    int64_t ts = T0;
    for (unsigned round = 0; round < 50; round++) {
        for (unsigned i = 0; i < 5; i++) {
            tmsg m;
            char cid[32], b[24];
            snprintf(cid, sizeof cid, "p-%u-%u", round, i);
            snprintf(b, sizeof b, "+4477009%05u", round * 5 + i);
            ts += MS(200);
            t_req(&m, ts, SW_METHOD_INVITE, CARRIER, &carrier, cid, 1, cid);
            t_a(&m, "+33123456789");
            t_b(&m, b);
            sw_detect_result r = obs(d, &m);
            if (r.nhits)
                fail_msg("round %u call %u: %s: %s", round, i, r.hits[0].rule, r.hits[0].reason);
        }
        for (unsigned i = 0; i < 100; i++) { /* unanswered junk pushes them out */
            tmsg m;
            char cid[32], a[24];
            snprintf(cid, sizeof cid, "j-%u-%u", round, i);
            snprintf(a, sizeof a, "+4930%06u", round * 100 + i);
            ts += MS(1);
            t_req(&m, ts, SW_METHOD_INVITE, ip4(0x0B000000u + round * 100 + i, 5060), &transit, cid,
                  1, cid);
            t_a(&m, a);
            sw_detect_result r = obs(d, &m);
            (void)r;
        }
    }
    sw_detectors_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_flood_bounded),
        cmocka_unit_test(test_concurrency_survives_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
