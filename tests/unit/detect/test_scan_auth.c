/* D1 scanning (svwar enumeration, svmap sweep) and D2 digest brute force,
 * with the false-positive cases of the spec. */
#include "detect_test_util.h"

static unsigned seq;

/* A request from src and, when status != 0, the core's final answer. */
static void exchange(sw_detectors *d, int64_t ts, sw_method meth, sw_addr src, sw_addr dst,
                     const sw_peer *peer, const char *user, const char *auth, uint16_t status,
                     int stale, tally *t1, tally *t2)
{
    tmsg m, resp;
    char cid[32], br[32];
    snprintf(cid, sizeof cid, "c-%u", seq);
    snprintf(br, sizeof br, "z9hG4bK-%u", seq);
    seq++;
    t_req(&m, ts, meth, src, peer, cid, 1, br);
    m.f.dst = dst;
    t_user(&m, user);
    if (auth)
        t_creds(&m, auth);
    sw_detect_result r = obs(d, &m);
    if (t1)
        tally_add(t1, &r, ts);
    if (t2)
        tally_add(t2, &r, ts);
    if (!status)
        return;
    t_resp(&resp, &m, ts + MS(20), status);
    resp.f.challenge_stale = (uint8_t)stale;
    r = obs(d, &resp);
    if (t1)
        tally_add(t1, &r, ts);
    if (t2)
        tally_add(t2, &r, ts);
}

static void test_svwar_enumeration(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally te = {.rule = "scan.enumeration"}, ts = {.rule = "scan.sweep"};
    /* svwar: REGISTER for extensions 100..229, 404 for unknown ones and 401
     * for the few that exist, 5 per second. */
    for (unsigned i = 0; i < 130; i++) {
        char user[16];
        snprintf(user, sizeof user, "%u", 100 + i);
        uint16_t st = i % 16 == 0 ? 401 : 404;
        exchange(d, T0 + MS(200 * i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, user, NULL, st, 0,
                 &te, &ts);
    }
    assert_int_equal(te.trips, 1);
    /* Trips on the 20th user's request (19 answers seen, all failures). */
    assert_int_equal(te.first_trip_msg, 39);
    const sw_detect_hit *h = &te.first_trip;
    assert_int_equal(h->type, SW_EVT_SIP_SCAN);
    assert_int_equal(h->offender_kind, SW_OFFENDER_SOURCE);
    assert_string_equal(h->offender, "198.51.100.1");
    assert_int_equal(h->block_ns, S(3600));
    assert_int_equal(evidence(h, "distinct"), 20);
    assert_int_equal(evidence(h, "ratio_pct"), 100);
    assert_non_null(strstr(h->reason, "20 distinct users in 60s"));
    /* Every later request and answer of the scan is a hit (enforcement). */
    assert_true(te.hits > 200);
    assert_int_equal(ts.hits, 0);
    sw_detectors_free(d);

    /* Just below: 19 users. */
    d = mk_default();
    tally t2 = {.rule = "scan.enumeration"};
    for (unsigned i = 0; i < 19; i++) {
        char user[16];
        snprintf(user, sizeof user, "%u", 100 + i);
        exchange(d, T0 + MS(200 * i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, user, NULL, 404, 0,
                 &t2, NULL);
    }
    assert_int_equal(t2.hits, 0);
    /* Many users but mostly answered 200 (a registrar front end): no. */
    for (unsigned i = 0; i < 40; i++) {
        char user[16];
        snprintf(user, sizeof user, "u%u", i);
        exchange(d, T0 + S(100) + MS(200 * i), SW_METHOD_REGISTER, ip4(0xC6336499u, 5060), SBC,
                 &zone, user, NULL, i % 3 ? 200 : 401, 0, &t2, NULL);
    }
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
}

static void test_svmap_sweep(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally ts = {.rule = "scan.sweep"}, te = {.rule = "scan.enumeration"};
    /* svmap: OPTIONS to 8 addresses x 6 ports; almost nothing answers. */
    unsigned n = 0;
    for (unsigned a = 0; a < 8; a++) {
        for (unsigned p = 0; p < 6; p++) {
            sw_addr dst = ip4(0x0A000010u + a, (uint16_t)(5060 + p));
            exchange(d, T0 + MS(50 * n), SW_METHOD_OPTIONS, ATTACKER, dst, &zone, "100", NULL,
                     n == 3 ? 200 : 0, 0, &ts, &te);
            n++;
        }
    }
    assert_int_equal(ts.trips, 1);
    assert_int_equal(ts.first_trip_msg, 11); /* 10th target; one answer counted too */
    assert_int_equal(evidence(&ts.first_trip, "distinct"), 10);
    assert_int_equal(te.hits, 0);
    sw_detectors_free(d);

    /* Nine targets: nothing. */
    d = mk_default();
    tally t2 = {.rule = "scan.sweep"};
    for (unsigned i = 0; i < 9; i++)
        exchange(d, T0 + MS(50 * i), SW_METHOD_OPTIONS, ATTACKER, ip4(0x0A000010u + i, 5060),
                 &zone, "100", NULL, 0, 0, &t2, NULL);
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
}

/* Distinct sets keep 16-bit second offsets: a source that stays active for
 * longer than 2^16 s must not see values from then come back as live. */
static void test_distinct_long_lived_key(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally ts = {.rule = "scan.sweep"};
    int64_t ts0 = T0;
    for (unsigned p = 0; p < 9; p++) /* nine targets: below the limit of ten */
        exchange(d, ts0 + MS(10 * p), SW_METHOD_OPTIONS, ATTACKER, ip4(0x0A000010u, (uint16_t)(5060 + p)),
                 &zone, "100", NULL, 0, 0, &ts, NULL);
    /* One target every 30 s keeps the source alive until then. */
    for (int64_t t = ts0 + S(30); t < ts0 + S(65536); t += S(30))
        exchange(d, t, SW_METHOD_OPTIONS, ATTACKER, ip4(0x0A000010u, 5060), &zone, "100", NULL, 0,
                 0, &ts, NULL);
    /* Exactly 2^16 s after the nine: only two distinct targets are live. */
    for (unsigned p = 1; p < 9; p++)
        exchange(d, ts0 + S(65536) + MS(10 * p), SW_METHOD_OPTIONS, ATTACKER,
                 ip4(0x0A000011u, 5060), &zone, "100", NULL, 0, 0, &ts, NULL);
    assert_int_equal(ts.trips, 0);
    sw_detectors_free(d);
}

static void test_partner_keepalive(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    /* A partner's OPTIONS every 5 s for an hour, to a fixed URI, answered
     * 200 — and to all our SBC addresses in turn. */
    for (unsigned i = 0; i < 720; i++) {
        seq++;
        tmsg m, resp;
        char cid[32];
        snprintf(cid, sizeof cid, "ka-%u", i);
        t_req(&m, T0 + S(5 * i), SW_METHOD_OPTIONS, CARRIER, &carrier, cid, 1, cid);
        m.f.dst = ip4(0x0A000010u + i % 12, 5060);
        t_user(&m, "ping");
        sw_detect_result r = obs(d, &m);
        assert_int_equal(r.nhits, 0);
        t_resp(&resp, &m, m.f.ts_ns + MS(5), 200);
        r = obs(d, &resp);
        assert_int_equal(r.nhits, 0);
    }
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

static void test_bruteforce_guessing(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "bruteforce.guessing"};
    /* svcrack: REGISTER for 1001 with a new password each time, 401. */
    for (unsigned i = 0; i < 12; i++)
        exchange(d, T0 + S(i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, "1001", "1001", 401, 0,
                 &t, NULL);
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip_msg, 20); /* the 10th failure response */
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->type, SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(h->offender_kind, SW_OFFENDER_SOURCE);
    assert_int_equal(h->block_ns, S(3600));
    assert_int_equal(evidence(h, "failures"), 10);
    assert_non_null(strstr(h->reason, "'1001'"));
    /* The later attempts: request and its failure each a hit. */
    assert_int_equal(t.hits, 1 + 2 * 2);
    sw_detectors_free(d);

    /* Nine failures: nothing; a success clears; nine more: nothing. */
    d = mk_default();
    tally t2 = {.rule = "bruteforce.guessing"};
    for (unsigned i = 0; i < 9; i++)
        exchange(d, T0 + S(i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, "1001", "1001", 403, 0,
                 &t2, NULL);
    exchange(d, T0 + S(10), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, "1001", "1001", 200, 0, &t2,
             NULL);
    for (unsigned i = 0; i < 9; i++)
        exchange(d, T0 + S(11 + i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, "1001", "1001", 401,
                 0, &t2, NULL);
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
}

static void test_bruteforce_slow(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "bruteforce.guessing"};
    /* One guess every 20 s: the 10th failure is 180 s after the first,
     * inside the 300 s window. */
    for (unsigned i = 0; i < 15; i++)
        exchange(d, T0 + S(20 * i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, "2002", "2002", 401,
                 0, &t, NULL);
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip_ts, T0 + S(180));
    sw_detectors_free(d);

    /* One every 40 s: at most 8 in any 300 s: nothing. */
    d = mk_default();
    tally t2 = {.rule = "bruteforce.guessing"};
    for (unsigned i = 0; i < 30; i++)
        exchange(d, T0 + S(40 * i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, "2002", "2002", 401,
                 0, &t2, NULL);
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
}

static void test_bruteforce_false_positives(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    /* A phone with a stale password: every 10 minutes for 6 hours it
     * registers without credentials (challenged, normal), retries with
     * them and fails. */
    sw_addr phone = ip4(0xC0000201u, 5060);
    for (unsigned i = 0; i < 36; i++) {
        int64_t ts = T0 + S(600 * i);
        exchange(d, ts, SW_METHOD_REGISTER, phone, SBC, &zone, "3003", NULL, 401, 0, NULL, NULL);
        exchange(d, ts + S(1), SW_METHOD_REGISTER, phone, SBC, &zone, "3003", "3003", 403, 0, NULL,
                 NULL);
    }
    assert_int_equal(hits_total(d), 0);

    /* stale=true is a nonce refresh, not a failure. */
    for (unsigned i = 0; i < 50; i++)
        exchange(d, T0 + S(30000 + i), SW_METHOD_REGISTER, phone, SBC, &zone, "3004", "3004", 401,
                 1, NULL, NULL);
    assert_int_equal(hits_total(d), 0);

    /* Challenges to requests without credentials never count. */
    for (unsigned i = 0; i < 50; i++)
        exchange(d, T0 + S(40000 + i), SW_METHOD_INVITE, phone, SBC, &zone, "+447700900001", NULL,
                 407, 0, NULL, NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

static void test_bruteforce_spraying(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally ts = {.rule = "bruteforce.spraying"}, tg = {.rule = "bruteforce.guessing"};
    /* 6 usernames, 5 guesses each, interleaved, over 5 minutes. */
    for (unsigned i = 0; i < 30; i++) {
        char user[16];
        snprintf(user, sizeof user, "ext%u", i % 6);
        exchange(d, T0 + S(10 * i), SW_METHOD_REGISTER, ATTACKER, SBC, &zone, user, user, 401, 0,
                 &ts, &tg);
    }
    assert_int_equal(ts.trips, 1);
    assert_int_equal(ts.first_trip_msg, 60);
    assert_int_equal(evidence(&ts.first_trip, "distinct"), 6);
    assert_int_equal(ts.first_trip.block_ns, S(3600));
    assert_int_equal(tg.hits, 0);
    sw_detectors_free(d);
}

static void test_bruteforce_distributed(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "bruteforce.distributed"};
    /* 12 sources, each guessing "admin" 5 times (below every per-source
     * limit), round robin over 10 minutes. */
    unsigned n = 0;
    for (unsigned round = 0; round < 5; round++) {
        for (unsigned s = 0; s < 12; s++) {
            exchange(d, T0 + S(n * 9), SW_METHOD_REGISTER, ip4(0xC6336600u + s * 7, 5060), SBC,
                     &zone, "admin", "admin", 403, 0, &t, NULL);
            n++;
        }
    }
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip_msg, 100); /* the 50th failure */
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->offender_kind, SW_OFFENDER_USER);
    assert_string_equal(h->offender, "admin");
    assert_int_equal(h->block_ns, 0);
    assert_int_equal(evidence(h, "distinct"), 12);
    assert_int_equal(hits_total(d), t.hits);
    sw_detectors_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_svwar_enumeration),
        cmocka_unit_test(test_svmap_sweep),
        cmocka_unit_test(test_distinct_long_lived_key),
        cmocka_unit_test(test_partner_keepalive),
        cmocka_unit_test(test_bruteforce_guessing),
        cmocka_unit_test(test_bruteforce_slow),
        cmocka_unit_test(test_bruteforce_false_positives),
        cmocka_unit_test(test_bruteforce_spraying),
        cmocka_unit_test(test_bruteforce_distributed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
