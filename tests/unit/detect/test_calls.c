/* Call-pattern detectors: D6 Wangiri, D5 IRSF, D11 location probing, and
 * the dialog tracking under them. */
#include "detect_test_util.h"

#include "sipwall/policy.h"

static sw_peer wg_carrier = {.name = "carrier-w", .role = SW_ROLE_INTERCONNECT};

typedef enum { END_CANCEL, END_ANSWER_BYE, END_487_ONLY, END_BUSY, END_NONE } call_end;

typedef struct call_spec {
    int64_t ts;
    const sw_peer *peer;
    sw_addr src;
    const char *a, *b;
    int64_t ring;     /* INVITE -> 180 */
    int64_t end_after; /* INVITE -> CANCEL, or answer -> BYE */
    call_end how;
} call_spec;

static unsigned ncall;

/* Plays one call; every message's result goes to the tallies. */
static void call(sw_detectors *d, const call_spec *c, tally *t1, tally *t2)
{
    tmsg inv, m;
    char cid[32];
    snprintf(cid, sizeof cid, "call-%u", ncall++);
    t_req(&inv, c->ts, SW_METHOD_INVITE, c->src, c->peer, cid, 1, cid);
    t_a(&inv, c->a);
    t_b(&inv, c->b);
    sw_detect_result r = obs(d, &inv);
#define T(ts_)                        \
    do {                              \
        if (t1)                       \
            tally_add(t1, &r, (ts_)); \
        if (t2)                       \
            tally_add(t2, &r, (ts_)); \
    } while (0)
    T(c->ts);
    int64_t ts = c->ts + (c->ring ? c->ring : MS(300));
    t_resp(&m, &inv, ts, 180);
    r = obs(d, &m);
    T(ts);
    switch (c->how) {
    case END_CANCEL: {
        ts = c->ts + c->end_after;
        tmsg cancel;
        t_req(&cancel, ts, SW_METHOD_CANCEL, c->src, c->peer, cid, 1, cid);
        r = obs(d, &cancel);
        T(ts);
        t_resp(&m, &inv, ts + MS(20), 487);
        r = obs(d, &m);
        T(ts + MS(20));
        break;
    }
    case END_487_ONLY:
        ts = c->ts + c->end_after;
        t_resp(&m, &inv, ts, 487);
        r = obs(d, &m);
        T(ts);
        break;
    case END_BUSY:
        ts = c->ts + c->end_after;
        t_resp(&m, &inv, ts, 486);
        r = obs(d, &m);
        T(ts);
        break;
    case END_ANSWER_BYE: {
        ts += S(2);
        t_resp(&m, &inv, ts, 200);
        r = obs(d, &m);
        T(ts);
        ts += c->end_after;
        tmsg bye;
        char br[40];
        snprintf(br, sizeof br, "%s-bye", cid);
        t_req(&bye, ts, SW_METHOD_BYE, c->src, c->peer, cid, 2, br);
        t_totag(&bye, "tt");
        r = obs(d, &bye);
        T(ts);
        break;
    }
    case END_NONE:
        break;
    }
#undef T
}

static void test_wangiri_caller(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "wangiri.caller"}, tp = {.rule = "wangiri.prefix"};
    /* One A calls 25 of our subscribers, one ring (3 s) each, 15 s apart. */
    for (unsigned i = 0; i < 25; i++) {
        char b[32];
        snprintf(b, sizeof b, "+4477009%05u", i * 37);
        call_spec c = {.ts = T0 + S(15 * i), .peer = &wg_carrier, .src = CARRIER,
                       .a = "+88216000123", .b = b, .ring = MS(500), .end_after = S(3),
                       .how = END_CANCEL};
        call(d, &c, &tc, &tp);
    }
    assert_int_equal(tc.trips, 1);
    /* Trips on the 20th INVITE (20 distinct B, 19 ended, all one-ring): 4
     * messages per call. */
    assert_int_equal(tc.first_trip_msg, 19 * 4 + 1);
    const sw_detect_hit *h = &tc.first_trip;
    assert_int_equal(h->type, SW_EVT_WANGIRI_CLI);
    assert_int_equal(h->offender_kind, SW_OFFENDER_CALLER);
    assert_string_equal(h->offender, "+88216000123");
    assert_int_equal(h->block_ns, 72 * S(3600));
    assert_int_equal(evidence(h, "distinct"), 20);
    assert_int_equal(evidence(h, "ratio_pct"), 100);
    assert_int_equal(evidence(h, "ring_median_ms"), 3000);
    /* The INVITEs after the trip are hits (refused). */
    assert_true(tc.hits >= 6);
    assert_int_equal(tp.trips, 1); /* its prefix too */
    sw_detectors_free(d);
}

static void test_wangiri_rotating(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "wangiri.caller"}, tp = {.rule = "wangiri.prefix"};
    /* A new A from one block for every call: only the prefix sees it. */
    for (unsigned i = 0; i < 30; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+88216000%03u", 100 + i * 7);
        snprintf(b, sizeof b, "+4477009%05u", i * 41);
        /* Answered with 487 only (the CANCEL went another way). */
        call_spec c = {.ts = T0 + S(10 * i), .peer = &wg_carrier, .src = CARRIER, .a = a, .b = b,
                       .end_after = S(4), .how = i % 2 ? END_CANCEL : END_487_ONLY};
        call(d, &c, &tc, &tp);
    }
    assert_int_equal(tc.hits, 0);
    assert_int_equal(tp.trips, 1);
    assert_int_equal(tp.first_trip.offender_kind, SW_OFFENDER_CALLER_PREFIX);
    assert_string_equal(tp.first_trip.offender, "+88216000");
    sw_detectors_free(d);
}

static void test_wangiri_false_positives(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    /* A call centre: 40 distinct customers, all answered, 1 min each. */
    for (unsigned i = 0; i < 40; i++) {
        char b[32];
        snprintf(b, sizeof b, "+4477009%05u", i * 13);
        call_spec c = {.ts = T0 + S(10 * i), .peer = &wg_carrier, .src = CARRIER,
                       .a = "+33144556677", .b = b, .end_after = S(60), .how = END_ANSWER_BYE};
        call(d, &c, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    /* A partner's traffic with 10% abandoned calls (quick cancels) and
     * some busy: no Wangiri. */
    for (unsigned i = 0; i < 60; i++) {
        char b[32];
        snprintf(b, sizeof b, "+4477008%05u", i * 17);
        call_spec c = {.ts = T0 + S(1000 + 8 * i), .peer = &wg_carrier, .src = CARRIER,
                       .a = "+33155667788", .b = b, .end_after = i % 10 == 0 ? S(3) : S(30),
                       .how = i % 10 == 0 ? END_CANCEL : i % 10 == 1 ? END_BUSY : END_ANSWER_BYE};
        call(d, &c, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    /* Many unanswered calls that rang long (a mass-notification system
     * letting phones ring 25 s): the ring median keeps it out. */
    for (unsigned i = 0; i < 30; i++) {
        char b[32];
        snprintf(b, sizeof b, "+4477007%05u", i * 19);
        call_spec c = {.ts = T0 + S(2000 + 15 * i), .peer = &wg_carrier, .src = CARRIER,
                       .a = "+33166778899", .b = b, .end_after = S(25), .how = END_CANCEL};
        call(d, &c, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

static void test_irsf_sequential(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "irsf.sequential"};
    /* A compromised PBX behind the core dials +882345670001..05. */
    for (unsigned i = 0; i < 6; i++) {
        char b[32];
        snprintf(b, sizeof b, "+88234567%03u", i + 1);
        call_spec c = {.ts = T0 + S(30 * i), .peer = &core, .src = SBC, .a = "+441632960001",
                       .b = b, .end_after = S(2), .how = END_BUSY};
        call(d, &c, &t, NULL);
        if (i < 4)
            assert_int_equal(t.hits, 0);
    }
    assert_int_equal(t.trips, 1);
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->type, SW_EVT_IRSF_CALL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_CALLER);
    assert_string_equal(h->offender, "+441632960001");
    assert_int_equal(h->block_ns, S(3600));
    assert_non_null(strstr(h->reason, "+88234567XXX"));
    assert_int_equal(t.hits, 2);

    /* Without A: the source trunk is the offender. */
    tally t2 = {.rule = "irsf.sequential"};
    for (unsigned i = 0; i < 5; i++) {
        char b[32];
        snprintf(b, sizeof b, "+88299911%03u", i + 1);
        call_spec c = {.ts = T0 + S(1000 + 30 * i), .peer = &zone, .src = ATTACKER, .a = "",
                       .b = b, .end_after = S(2), .how = END_BUSY};
        call(d, &c, &t2, NULL);
    }
    assert_int_equal(t2.trips, 1);
    assert_int_equal(t2.first_trip.offender_kind, SW_OFFENDER_SOURCE);
    assert_string_equal(t2.first_trip.offender, "198.51.100.1");

    /* Our own subscribers' block: never IRSF. */
    tally t3 = {.rule = "irsf.sequential"};
    for (unsigned i = 0; i < 10; i++) {
        char b[32];
        snprintf(b, sizeof b, "+44770090%04u", i);
        call_spec c = {.ts = T0 + S(2000 + 30 * i), .peer = &core, .src = SBC,
                       .a = "+441632960002", .b = b, .end_after = S(2), .how = END_BUSY};
        call(d, &c, &t3, NULL);
    }
    assert_int_equal(t3.hits, 0);
    sw_detectors_free(d);
}

static void test_irsf_test_call(sw_detectors *d, const char *range, int expect)
{
    tally t = {.rule = "irsf.test-call"};
    char b1[32], b2[32];
    snprintf(b1, sizeof b1, "%s101", range);
    snprintf(b2, sizeof b2, "%s202", range);
    /* A 5 s test call, then 20 minutes later a 10 minute call. */
    call_spec c1 = {.ts = T0, .peer = &core, .src = SBC, .a = "+441632960010", .b = b1,
                    .end_after = S(5), .how = END_ANSWER_BYE};
    call(d, &c1, &t, NULL);
    call_spec c2 = {.ts = T0 + S(1200), .peer = &core, .src = SBC, .a = "+441632960010", .b = b2,
                    .end_after = S(600), .how = END_ANSWER_BYE};
    call(d, &c2, &t, NULL);
    assert_int_equal(t.trips, expect);
    if (!expect)
        return;
    /* At the BYE of the long call. */
    assert_int_equal(t.first_trip_msg, 8);
    assert_int_equal(t.first_trip.offender_kind, SW_OFFENDER_CALLER);
    assert_int_equal(evidence(&t.first_trip, "duration_s"), 600);
    /* A BYE is never dropped: the block catches the next call. */
    assert_int_equal(t.first_trip.action, SW_ACTION_TAG);
    assert_int_equal(t.first_trip.block_ns, S(3600));
    /* The next call to that range is a hit. */
    call_spec c3 = {.ts = T0 + S(2000), .peer = &core, .src = SBC, .a = "+441632960010",
                    .b = b1, .end_after = S(1), .how = END_BUSY};
    tally t3 = {.rule = "irsf.test-call"};
    call(d, &c3, &t3, NULL);
    assert_int_equal(t3.hits, 1);
    assert_int_equal(t3.trips, 0);
}

static void test_irsf_test_call_no_list(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    test_irsf_test_call(d, "+2693350", 1);
    sw_detectors_free(d);

    /* The long call detected at its next in-dialog request once long-call passed. */
    d = mk_default();
    tally t = {.rule = "irsf.test-call"};
    call_spec c1 = {.ts = T0, .peer = &core, .src = SBC, .a = "+441632960011", .b = "+2693350101",
                    .end_after = S(3), .how = END_ANSWER_BYE};
    call(d, &c1, &t, NULL);
    call_spec c2 = {.ts = T0 + S(60), .peer = &core, .src = SBC, .a = "+441632960011",
                    .b = "+2693350102", .how = END_NONE};
    call(d, &c2, &t, NULL);
    tmsg ok, upd;
    t_req(&ok, T0 + S(60), SW_METHOD_INVITE, SBC, &core, "call-x", 1, "x");
    /* answer it */
    char cid[32];
    snprintf(cid, sizeof cid, "call-%u", ncall - 1);
    t_req(&ok, T0 + S(60), SW_METHOD_INVITE, SBC, &core, cid, 1, cid);
    t_resp(&upd, &ok, T0 + S(62), 200);
    sw_detect_result r = obs(d, &upd);
    tally_add(&t, &r, T0);
    t_req(&upd, T0 + S(62 + 400), SW_METHOD_UPDATE, SBC, &core, cid, 3, "upd");
    t_totag(&upd, "tt");
    r = obs(d, &upd);
    tally_add(&t, &r, T0);
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip.action, SW_ACTION_DROP);
    sw_detectors_free(d);
}

static void test_irsf_hot_list(void **state)
{
    (void)state;
    sw_prefix_set *hot = sw_prefix_set_new();
    assert_non_null(hot);
    assert_int_equal(sw_prefix_set_add(hot, "2693", 4, 1), SW_OK);
    assert_int_equal(sw_prefix_set_add(hot, "88234", 5, 2), SW_OK);
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);

    /* With a hot list the test-call pattern applies to hot ranges only. */
    sw_detectors *d = mk_det(conf, 4096, hot);
    test_irsf_test_call(d, "+2693350", 1);
    sw_detectors_free(d);
    d = mk_det(conf, 4096, hot);
    test_irsf_test_call(d, "+3312345", 0);
    sw_detectors_free(d);

    /* Three live calls to hot destinations: concurrency. */
    d = mk_det(conf, 4096, hot);
    tally tc = {.rule = "irsf.concurrency"}, tv = {.rule = "irsf.volume"};
    for (unsigned i = 0; i < 3; i++) {
        char b[32];
        snprintf(b, sizeof b, "+26933%d0%04u", i, i * 111);
        call_spec c = {.ts = T0 + S(i), .peer = &core, .src = SBC, .a = "+441632960020", .b = b,
                       .how = END_NONE};
        call(d, &c, &tc, &tv);
    }
    assert_int_equal(tc.trips, 1);
    assert_int_equal(tc.first_trip_msg, 5);
    assert_int_equal(tv.hits, 0);
    sw_detectors_free(d);

    /* Ten short calls to hot destinations, one after another: volume. */
    d = mk_det(conf, 4096, hot);
    tally tc2 = {.rule = "irsf.concurrency"}, tv2 = {.rule = "irsf.volume"};
    for (unsigned i = 0; i < 10; i++) {
        char b[32];
        snprintf(b, sizeof b, "+2693%d%06u", i, i * 12345);
        call_spec c = {.ts = T0 + S(40 * i), .peer = &core, .src = SBC, .a = "+441632960021",
                       .b = b, .end_after = S(20), .how = END_ANSWER_BYE};
        call(d, &c, &tc2, &tv2);
    }
    assert_int_equal(tc2.hits, 0); /* released at each BYE */
    assert_int_equal(tv2.trips, 1);
    assert_int_equal(evidence(&tv2.first_trip, "count"), 10);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

static void test_location_probe(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "location.cancel-pairs"};
    /* INVITE then CANCEL before answer, to one subscriber, 6 times an hour. */
    for (unsigned i = 0; i < 6; i++) {
        char a[32];
        snprintf(a, sizeof a, "+3161234%04u", i);
        call_spec c = {.ts = T0 + S(600 * i), .peer = &zone, .src = ATTACKER, .a = a,
                       .b = "+447700900555", .ring = MS(800), .end_after = S(2), .how = END_CANCEL};
        call(d, &c, &t, NULL);
        if (i < 4)
            assert_int_equal(t.hits, 0);
    }
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip_msg, 4 * 4 + 3); /* the 5th CANCEL */
    assert_int_equal(t.first_trip.type, SW_EVT_LOCATION_PROBE);
    assert_int_equal(t.first_trip.offender_kind, SW_OFFENDER_SOURCE);
    assert_int_equal(evidence(&t.first_trip, "count"), 5);
    assert_true(t.hits >= 2); /* the 6th INVITE */

    /* Out-of-dialog OPTIONS to one user: three within the hour. */
    tally to = {.rule = "location.ood-probe"};
    for (unsigned i = 0; i < 3; i++) {
        tmsg m;
        char cid[32];
        snprintf(cid, sizeof cid, "ood-%u", i);
        t_req(&m, T0 + S(5000 + 900 * i), i == 1 ? SW_METHOD_MESSAGE : SW_METHOD_OPTIONS,
              ip4(0xC6336477u, 5060), &zone, cid, 1, cid);
        t_b(&m, "+447700900666");
        sw_detect_result r = obs(d, &m);
        tally_add(&to, &r, m.f.ts_ns);
    }
    assert_int_equal(to.trips, 1);
    assert_int_equal(to.first_trip_msg, 3);

    /* Partners' out-of-dialog OPTIONS (keep-alives) are not counted. */
    tally tp = {.rule = "location.ood-probe"};
    for (unsigned i = 0; i < 10; i++) {
        tmsg m;
        char cid[32];
        snprintf(cid, sizeof cid, "pood-%u", i);
        t_req(&m, T0 + S(9000 + 60 * i), SW_METHOD_OPTIONS, CARRIER, &carrier, cid, 1, cid);
        t_b(&m, "+447700900666");
        sw_detect_result r = obs(d, &m);
        tally_add(&tp, &r, m.f.ts_ns);
    }
    assert_int_equal(tp.hits, 0);
    sw_detectors_free(d);

    /* Four cancelled calls, and answered ones: nothing. */
    d = mk_default();
    for (unsigned i = 0; i < 4; i++) {
        call_spec c = {.ts = T0 + S(600 * i), .peer = &zone, .src = ATTACKER, .a = "+31612340000",
                       .b = "+447700900555", .end_after = S(2), .how = END_CANCEL};
        call(d, &c, NULL, NULL);
        call_spec c2 = {.ts = T0 + S(600 * i + 100), .peer = &zone, .src = ATTACKER,
                        .a = "+31612340000", .b = "+447700900555", .end_after = S(20),
                        .how = END_ANSWER_BYE};
        call(d, &c2, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

static void test_challenged_invite_counts_once(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "flood.callee"};
    /* 8 calls to one B, each challenged 407 then retried with credentials
     * (same Call-ID): 8 calls, not 16. */
    for (unsigned i = 0; i < 8; i++) {
        tmsg inv, resp, inv2;
        char cid[32], br[48];
        snprintf(cid, sizeof cid, "ch-%u", i);
        t_req(&inv, T0 + S(i), SW_METHOD_INVITE, ATTACKER, &zone, cid, 1, cid);
        t_a(&inv, "+33612345678");
        t_b(&inv, "+447700900777");
        sw_detect_result r = obs(d, &inv);
        tally_add(&t, &r, 0);
        t_resp(&resp, &inv, T0 + S(i) + MS(10), 407);
        r = obs(d, &resp);
        snprintf(br, sizeof br, "%s-2", cid);
        t_req(&inv2, T0 + S(i) + MS(30), SW_METHOD_INVITE, ATTACKER, &zone, cid, 2, br);
        t_a(&inv2, "+33612345678");
        t_b(&inv2, "+447700900777");
        t_creds(&inv2, "alice");
        r = obs(d, &inv2);
        tally_add(&t, &r, 0);
    }
    assert_int_equal(t.hits, 0);
    sw_detectors_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wangiri_caller),
        cmocka_unit_test(test_wangiri_rotating),
        cmocka_unit_test(test_wangiri_false_positives),
        cmocka_unit_test(test_irsf_sequential),
        cmocka_unit_test(test_irsf_test_call_no_list),
        cmocka_unit_test(test_irsf_hot_list),
        cmocka_unit_test(test_location_probe),
        cmocka_unit_test(test_challenged_invite_counts_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
