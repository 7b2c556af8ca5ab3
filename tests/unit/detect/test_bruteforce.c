/* D2 beyond one source: the success that ends a brute force
 * (bruteforce.compromised), slow spraying spread over a source network
 * (bruteforce.network) or over a whole realm (bruteforce.realm), and the
 * false-positive guards (stale nonces, a partner's P-CSCF). */
#include "detect_test_util.h"

static unsigned seq;

/* A REGISTER with credentials for user (realm "example.org") from src and
 * the core's final answer; every hit goes to the tallies. */
static void reg(sw_detectors *d, int64_t ts, sw_addr src, const sw_peer *peer, const char *user,
                uint16_t status, int stale, tally **ts_, unsigned nt)
{
    tmsg m, resp;
    char cid[32], br[32];
    snprintf(cid, sizeof cid, "bf-%u", seq);
    snprintf(br, sizeof br, "z9hG4bK-bf-%u", seq);
    seq++;
    t_req(&m, ts, SW_METHOD_REGISTER, src, peer, cid, 1, br);
    t_user(&m, user);
    t_creds(&m, user);
    m.f.auth_realm = sw_str_make("example.org", 11);
    sw_detect_result r = obs(d, &m);
    for (unsigned i = 0; i < nt; i++)
        tally_add(ts_[i], &r, ts);
    t_resp(&resp, &m, ts + MS(30), status);
    resp.f.challenge_stale = (uint8_t)stale;
    r = obs(d, &resp);
    for (unsigned i = 0; i < nt; i++)
        tally_add(ts_[i], &r, ts);
}

#define TALLIES(...) (tally *[]){__VA_ARGS__}, sizeof((tally *[]){__VA_ARGS__}) / sizeof(tally *)

static void test_compromised_after_guessing(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "bruteforce.compromised"}, tg = {.rule = "bruteforce.guessing"};
    for (unsigned i = 0; i < 12; i++)
        reg(d, T0 + S(i), ATTACKER, &zone, "1001", 401, 0, TALLIES(&tc, &tg));
    assert_int_equal(tg.trips, 1);
    assert_int_equal(tc.hits, 0);
    reg(d, T0 + S(13), ATTACKER, &zone, "1001", 200, 0, TALLIES(&tc, &tg));
    assert_int_equal(tc.trips, 1);
    const sw_detect_hit *h = &tc.first_trip;
    assert_int_equal(h->type, SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(h->confidence, 100);
    assert_int_equal(h->action, SW_ACTION_DROP);
    assert_int_equal(h->offender_kind, SW_OFFENDER_SOURCE);
    assert_string_equal(h->offender, "198.51.100.1");
    assert_int_equal(h->block_ns, S(3600));
    assert_int_equal(evidence(h, "failures"), 12);
    assert_non_null(strstr(h->reason, "'1001'"));
    assert_string_equal(h->username, "1001");
    /* the counts start again: the next success is no new compromise */
    reg(d, T0 + S(20), ATTACKER, &zone, "1001", 200, 0, TALLIES(&tc));
    assert_int_equal(tc.trips, 1);
    sw_detectors_free(d);
}

static void test_compromised_below_threshold(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "bruteforce.compromised"}, tg = {.rule = "bruteforce.guessing"};
    /* three wrong guesses (the guessing threshold is ten), then the right one */
    for (unsigned i = 0; i < 3; i++)
        reg(d, T0 + S(30 * i), ATTACKER, &zone, "admin", 403, 0, TALLIES(&tc, &tg));
    reg(d, T0 + S(100), ATTACKER, &zone, "admin", 200, 0, TALLIES(&tc, &tg));
    assert_int_equal(tg.hits, 0);
    assert_int_equal(tc.trips, 1);
    assert_int_equal(tc.first_trip.confidence, 100);
    assert_int_equal(evidence(&tc.first_trip, "failures"), 3);
    assert_non_null(strstr(tc.first_trip.reason, "'admin'"));
    assert_string_equal(tc.first_trip.username, "admin");
    sw_detectors_free(d);
}

static void test_success_without_failures(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    sw_addr phone = ip4(0xC0000201u, 5060);
    /* a phone that registers fine every 10 minutes */
    for (unsigned i = 0; i < 12; i++)
        reg(d, T0 + S(600 * i), phone, &zone, "3003", 200, 0, NULL, 0);
    /* one typo (or a registrar that refreshes its nonce without stale=true)
     * then the right password: below compromised-failures */
    reg(d, T0 + S(8000), phone, &zone, "3003", 401, 0, NULL, 0);
    reg(d, T0 + S(8001), phone, &zone, "3003", 200, 0, NULL, 0);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

static void test_stale_nonce_not_a_failure(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "bruteforce.compromised"};
    /* re-registrations answered 401 stale=true, then accepted */
    for (unsigned i = 0; i < 6; i++)
        reg(d, T0 + S(i), ATTACKER, &zone, "4004", 401, 1, TALLIES(&tc));
    reg(d, T0 + S(10), ATTACKER, &zone, "4004", 200, 0, TALLIES(&tc));
    assert_int_equal(tc.hits, 0);
    assert_int_equal(hits_total(d), 0);
    /* the same without stale: six failures, then the success is a compromise */
    for (unsigned i = 0; i < 6; i++)
        reg(d, T0 + S(100 + i), ATTACKER, &zone, "4005", 401, 0, TALLIES(&tc));
    reg(d, T0 + S(110), ATTACKER, &zone, "4005", 200, 0, TALLIES(&tc));
    assert_int_equal(tc.trips, 1);
    sw_detectors_free(d);
}

/* Four addresses of 198.51.100.0/24 take turns, one guess every 10 s in
 * all (every 40 s each), each guess for the next of 60 usernames. */
static void spray4(sw_detectors *d, uint32_t base, uint32_t step, unsigned n, tally **t,
                   unsigned nt)
{
    for (unsigned i = 0; i < n; i++) {
        char user[16];
        snprintf(user, sizeof user, "u%03u", i % 60);
        reg(d, T0 + S(10 * i), ip4(base + (i % 4) * step, 5060), &zone, user, 401, 0, t, nt);
    }
}

static void test_network_spraying(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tn = {.rule = "bruteforce.network"}, tsp = {.rule = "bruteforce.spraying"},
          tg = {.rule = "bruteforce.guessing"}, td = {.rule = "bruteforce.distributed"};
    /* 20 minutes: each address 30 failures over 20 min, at most 15 in any
     * 600 s spray-window (below spray-failures 30) */
    spray4(d, 0xC6336405u, 17, 120, TALLIES(&tn, &tsp, &tg, &td));
    assert_int_equal(tsp.hits, 0);
    assert_int_equal(tg.hits, 0);
    assert_int_equal(td.hits, 0);
    assert_int_equal(tn.trips, 1);
    assert_int_equal(tn.first_trip_ts, T0 + S(10 * 39)); /* the 40th failure of the /24 */
    const sw_detect_hit *h = &tn.first_trip;
    assert_int_equal(h->type, SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(h->offender_kind, SW_OFFENDER_SOURCE);
    assert_int_equal(evidence(h, "failures"), 40);
    assert_int_equal(evidence(h, "sources"), 4);
    assert_int_equal(evidence(h, "prefix_len"), 24);
    assert_true(evidence(h, "distinct") >= 10);
    assert_non_null(strstr(h->reason, "198.51.100.0/24"));
    /* the network is tripped: a credentialed request from a fifth address
     * of it is offending */
    tmsg m;
    t_req(&m, T0 + S(1300), SW_METHOD_REGISTER, ip4(0xC63364F0u, 5060), &zone, "x-1", 1, "zb-1");
    t_user(&m, "u999");
    t_creds(&m, "u999");
    sw_detect_result r = obs(d, &m);
    const sw_detect_hit *e = find_hit(&r, "bruteforce.network");
    assert_non_null(e);
    assert_int_equal(e->trip, 0);
    assert_int_equal(e->action, SW_ACTION_DROP);
    sw_detectors_free(d);

    /* The same four addresses in four different /24s: no network trips. */
    d = mk_default();
    tally tn2 = {.rule = "bruteforce.network"};
    spray4(d, 0xC6336405u, 0x100, 120, TALLIES(&tn2));
    assert_int_equal(tn2.hits, 0);
    sw_detectors_free(d);

    /* network-prefix-v4 16 by policy: the four /24s of one /16 aggregate
     * again. */
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    conf[SW_DET_BRUTEFORCE].params[SW_DP_BF_NET_PREFIX_V4] = 16;
    d = mk_det(conf, 4096, NULL);
    tally tn3 = {.rule = "bruteforce.network"};
    spray4(d, 0xC6336405u, 0x100, 120, TALLIES(&tn3));
    assert_int_equal(tn3.trips, 1);
    assert_int_equal(evidence(&tn3.first_trip, "prefix_len"), 16);
    sw_detectors_free(d);
}

static sw_addr ip6(uint16_t sub, uint16_t host)
{
    sw_addr a = {.family = 6, .port = 5060};
    const uint8_t pfx[6] = {0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x00}; /* 2001:db8:a00::/40 */
    memcpy(a.ip, pfx, sizeof pfx);
    a.ip[6] = (uint8_t)(sub >> 8);
    a.ip[7] = (uint8_t)sub; /* the /64 */
    a.ip[14] = (uint8_t)(host >> 8);
    a.ip[15] = (uint8_t)host;
    return a;
}

/* IPv6: four hosts of one /64 are one source already (and one /64
 * network); four /64s of one /56 aggregate with network-prefix-v6 56. */
static void test_network_spraying_ipv6(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        static sw_detector_conf conf[SW_DET__COUNT];
        default_conf(conf);
        if (pass)
            conf[SW_DET_BRUTEFORCE].params[SW_DP_BF_NET_PREFIX_V6] = 56;
        sw_detectors *d = mk_det(conf, 4096, NULL);
        tally tn = {.rule = "bruteforce.network"}, tsp = {.rule = "bruteforce.spraying"};
        for (unsigned i = 0; i < 120; i++) {
            char user[16];
            snprintf(user, sizeof user, "v%03u", i % 60);
            reg(d, T0 + S(10 * i), ip6((uint16_t)(0x1200 + i % 4), 0x10), &zone, user, 401, 0,
                TALLIES(&tn, &tsp));
        }
        assert_int_equal(tsp.hits, 0);
        if (!pass) {
            assert_int_equal(tn.hits, 0); /* four /64s: four networks */
        } else {
            assert_int_equal(tn.trips, 1);
            assert_int_equal(evidence(&tn.first_trip, "prefix_len"), 56);
            assert_int_equal(evidence(&tn.first_trip, "sources"), 4);
            assert_non_null(strstr(tn.first_trip.reason, "2001:db8:a00:1200::/56"));
        }
        sw_detectors_free(d);
    }
}

static void test_network_compromised(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "bruteforce.compromised"};
    /* two guesses for "ops" from .5 and .22, minutes apart; the password
     * works from .39: the network had the failures */
    reg(d, T0, ip4(0xC6336405u, 5060), &zone, "ops", 401, 0, TALLIES(&tc));
    reg(d, T0 + S(400), ip4(0xC6336416u, 5060), &zone, "ops", 401, 0, TALLIES(&tc));
    reg(d, T0 + S(800), ip4(0xC6336427u, 5060), &zone, "ops", 200, 0, TALLIES(&tc));
    assert_int_equal(tc.trips, 1);
    assert_string_equal(tc.first_trip.offender, "198.51.100.39");
    assert_int_equal(evidence(&tc.first_trip, "failures"), 2);
    assert_non_null(strstr(tc.first_trip.reason, "198.51.100.0/24"));
    sw_detectors_free(d);
}

/* A roaming partner's P-CSCF forwards 200 subscribers' re-registrations
 * (credentialed, every 10 minutes) for an hour; one in eight is challenged
 * 401 (a nonce refresh without stale=true) and succeeds on the retry. */
static void pcscf(sw_detectors *d, tally **t, unsigned nt)
{
    unsigned n = 0;
    for (unsigned cycle = 0; cycle < 6; cycle++) {
        for (unsigned u = 0; u < 200; u++, n++) {
            char user[24];
            snprintf(user, sizeof user, "+4477009%05u", u);
            int64_t ts = T0 + S(600 * cycle) + MS(2900 * u);
            if ((u + cycle) % 8 == 0) {
                reg(d, ts, CARRIER, &carrier, user, 401, 0, t, nt);
                reg(d, ts + MS(200), CARRIER, &carrier, user, 200, 0, t, nt);
            } else {
                reg(d, ts, CARRIER, &carrier, user, 200, 0, t, nt);
            }
        }
    }
}

static void test_partner_pcscf(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tb = {.rule = "bruteforce.network"};
    pcscf(d, TALLIES(&tb));
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);

    /* Without the partner exemption the guards still hold: one failure
     * before a success is no compromise, 12% failures is no spraying
     * network, one source is no realm-wide attack. */
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    for (unsigned i = 0; i < SW_DET__COUNT; i++)
        conf[i].exempt_peers = 0;
    d = mk_det(conf, 4096, NULL);
    tally tc = {.rule = "bruteforce.compromised"}, tn = {.rule = "bruteforce.network"},
          tr = {.rule = "bruteforce.realm"}, ts = {.rule = "bruteforce.spraying"};
    pcscf(d, TALLIES(&tc, &tn, &tr, &ts));
    assert_int_equal(tc.hits, 0);
    assert_int_equal(tn.hits, 0);
    assert_int_equal(tr.hits, 0);
    sw_detectors_free(d);
}

static void test_realm_spread(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tr = {.rule = "bruteforce.realm"}, tn = {.rule = "bruteforce.network"},
          tsp = {.rule = "bruteforce.spraying"};
    /* 16 sources in 16 different /16s, one guess every 6 s in all
     * (every 96 s each), 100 usernames: only the realm sees it */
    for (unsigned i = 0; i < 200; i++) {
        char user[16];
        snprintf(user, sizeof user, "r%03u", i % 100);
        reg(d, T0 + S(6 * i), ip4(0x0B000001u + (i % 16) * 0x10000u, 5060), &zone, user, 401, 0,
            TALLIES(&tr, &tn, &tsp));
    }
    assert_int_equal(tn.hits, 0);
    assert_int_equal(tsp.hits, 0);
    assert_int_equal(tr.trips, 1);
    assert_int_equal(tr.hits, 1);
    assert_int_equal(tr.first_trip_ts, T0 + S(6 * 149)); /* the 150th failure */
    assert_int_equal(tr.first_trip.action, SW_ACTION_TAG);
    assert_int_equal(tr.first_trip.block_ns, 0);
    assert_int_equal(evidence(&tr.first_trip, "sources"), 16);
    sw_detectors_free(d);
}

/* Random sources and usernames cannot grow the new tables past their
 * ceilings. */
static void test_aggregates_bounded(void **state)
{
    (void)state;
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 256, NULL);
    size_t mem = sw_detectors_memory(d);
    uint32_t x = 12345;
    for (unsigned i = 0; i < 20000; i++) {
        x = x * 1103515245u + 12345u;
        char user[16];
        snprintf(user, sizeof user, "z%u", x >> 8);
        tmsg m, resp;
        char cid[32];
        snprintf(cid, sizeof cid, "rnd-%u", i);
        t_req(&m, T0 + MS(i), SW_METHOD_REGISTER, ip4(x, 5060), &zone, cid, 1, cid);
        t_user(&m, user);
        t_creds(&m, user);
        m.f.auth_realm = sw_str_make(user, strlen(user));
        (void)obs(d, &m);
        t_resp(&resp, &m, T0 + MS(i) + 1, i % 3 ? 401 : 200);
        (void)obs(d, &resp);
    }
    sw_detect_stats st;
    sw_detectors_stats(d, &st);
    assert_true(st.entries <= 256u * 19u);
    assert_true(st.evictions > 0);
    assert_int_equal(sw_detectors_memory(d), mem);
    sw_detectors_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compromised_after_guessing),
        cmocka_unit_test(test_compromised_below_threshold),
        cmocka_unit_test(test_success_without_failures),
        cmocka_unit_test(test_stale_nonce_not_a_failure),
        cmocka_unit_test(test_network_spraying),
        cmocka_unit_test(test_network_spraying_ipv6),
        cmocka_unit_test(test_network_compromised),
        cmocka_unit_test(test_partner_pcscf),
        cmocka_unit_test(test_realm_spread),
        cmocka_unit_test(test_aggregates_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
