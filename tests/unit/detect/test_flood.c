/* D3 floods, D4 repeated malformed messages, retransmission handling. */
#include "detect_test_util.h"

/* n REGISTERs (same user, distinct transactions) from src starting at ts,
 * step apart; tallies rule. */
static void registers(sw_detectors *d, sw_addr src, int64_t ts, int64_t step, unsigned n,
                      tally *t, unsigned *seq)
{
    for (unsigned i = 0; i < n; i++) {
        tmsg m;
        char cid[32], br[32];
        snprintf(cid, sizeof cid, "reg-%u", *seq);
        snprintf(br, sizeof br, "z9hG4bK-%u", *seq);
        (*seq)++;
        t_req(&m, ts + (int64_t)i * step, SW_METHOD_REGISTER, src, &zone, cid, 1, br);
        t_user(&m, "alice");
        sw_detect_result r = obs(d, &m);
        assert_int_equal(r.retransmission, 0);
        tally_add(t, &r, m.f.ts_ns);
    }
}

static void test_flood_source(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    unsigned seq = 0;
    tally t = {.rule = "flood.source"};
    /* 30 requests in 2 s is the limit: nothing. */
    registers(d, ATTACKER, T0, MS(50), 30, &t, &seq);
    assert_int_equal(t.hits, 0);
    /* The 31st crosses it; the next ones are hits without a new trip. */
    registers(d, ATTACKER, T0 + MS(1500), MS(10), 5, &t, &seq);
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.hits, 5);
    assert_int_equal(t.first_trip_msg, 31);
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->detector, SW_DET_FLOOD);
    assert_int_equal(h->type, SW_EVT_SIP_FLOOD);
    assert_int_equal(h->category, SW_CAT_BEHAVIOURAL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_SOURCE);
    assert_int_equal(h->offender_addr.family, 4);
    assert_memory_equal(h->offender_addr.ip, ATTACKER.ip, 4);
    assert_string_equal(h->offender, "198.51.100.1");
    assert_int_equal(h->block_ns, S(120));
    assert_int_equal(h->action, SW_ACTION_DROP);
    assert_int_equal(h->confidence, 80);
    assert_int_equal(evidence(h, "count"), 31);
    assert_int_equal(evidence(h, "threshold"), 30);
    assert_non_null(strstr(h->reason, "31 requests"));

    /* Quiet for longer than the window: re-armed, trips again. */
    tally t2 = {.rule = "flood.source"};
    registers(d, ATTACKER, T0 + S(10), MS(10), 31, &t2, &seq);
    assert_int_equal(t2.trips, 1);
    assert_int_equal(t2.hits, 1);

    /* A partner is never counted per source. */
    tally t3 = {.rule = "flood.source"};
    for (unsigned i = 0; i < 100; i++) {
        tmsg m;
        char cid[32];
        snprintf(cid, sizeof cid, "p-%u", i);
        t_req(&m, T0 + S(20) + MS(i), SW_METHOD_OPTIONS, CARRIER, &transit, cid, 1, cid);
        t_user(&m, "ping");
        sw_detect_result r = obs(d, &m);
        tally_add(&t3, &r, m.f.ts_ns);
    }
    assert_int_equal(t3.hits, 0);
    sw_detectors_free(d);
}

static void test_retransmissions(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "flood.source"};
    tmsg m;
    /* One INVITE and its 10 retransmissions (what RFC 3261 timers allow):
     * one request. */
    for (unsigned i = 0; i < 11; i++) {
        t_req(&m, T0 + MS(100 * i), SW_METHOD_INVITE, ATTACKER, &zone, "same-call", 1, "z9hG4bK-1");
        t_a(&m, "+441234567890");
        t_b(&m, "+441234500000");
        sw_detect_result r = obs(d, &m);
        assert_int_equal(r.retransmission, i > 0);
        assert_int_equal(r.nhits, 0);
    }
    sw_detect_stats st;
    sw_detectors_stats(d, &st);
    assert_int_equal(st.retransmissions, 10);
    assert_int_equal(st.messages, 11);
    /* Further identical copies are a replay flood and count: 1 + 30 = 31. */
    for (unsigned i = 0; i < 30; i++) {
        t_req(&m, T0 + S(1) + MS(10 * i), SW_METHOD_INVITE, ATTACKER, &zone, "same-call", 1,
              "z9hG4bK-1");
        sw_detect_result r = obs(d, &m);
        assert_int_equal(r.retransmission, 0);
        tally_add(&t, &r, m.f.ts_ns);
    }
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip_msg, 30);

    /* Retransmitted final responses count once (only the first final). */
    sw_detectors_free(d);
}

static void invite(sw_detectors *d, tmsg *m, int64_t ts, const sw_peer *peer, sw_addr src,
                   const char *cid, const char *a, const char *b, sw_detect_result *r)
{
    t_req(m, ts, SW_METHOD_INVITE, src, peer, cid, 1, cid);
    t_a(m, a);
    t_b(m, b);
    *r = obs(d, m);
}

static void test_flood_peer_cps(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "flood.peer-cps"};
    sw_peer cps_only = {.name = "carrier-a", .role = SW_ROLE_INTERCONNECT, .cps = 10};
    /* carrier-a: 10 CPS contracted, factor 150%: 15 in a second pass. */
    for (unsigned i = 0; i < 20; i++) {
        tmsg m;
        sw_detect_result r;
        char cid[32], b[32];
        snprintf(cid, sizeof cid, "cps-%u", i);
        snprintf(b, sizeof b, "+4420790000%02u", i);
        invite(d, &m, T0 + MS(40 * i), &cps_only, CARRIER, cid, "+33123456789", b, &r);
        tally_add(&t, &r, m.f.ts_ns);
        if (i < 15 && r.nhits)
            fail_msg("%u %s: %s", i, r.hits[0].rule, r.hits[0].reason);

        /* Every refused INVITE is answered 503 by the engine, so it ends. */
    }
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.hits, 5);
    assert_int_equal(t.first_trip_msg, 16);
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "carrier-a");
    assert_int_equal(h->action, SW_ACTION_REJECT);
    assert_int_equal(h->status, 503);
    assert_int_equal(h->retry_after_s, 30);
    assert_int_equal(h->block_ns, 0);
    assert_int_equal(evidence(h, "count"), 16);
    sw_detectors_free(d);
}

static void test_flood_peer_concurrency(void **state)
{
    (void)state;
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    /* A small dialog table, to check that eviction gives calls back. */
    sw_detectors *d = mk_det(conf, 16, NULL);
    tally t = {.rule = "flood.peer-concurrency"};
    tmsg m, resp;
    sw_detect_result r;
    char cid[32], b[32];
    /* Five answered calls, spaced to stay under the CPS limit. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(cid, sizeof cid, "cc-%u", i);
        snprintf(b, sizeof b, "+4420790001%02u", i);
        invite(d, &m, T0 + S(i), &carrier, CARRIER, cid, "+33123456789", b, &r);
        if (r.nhits)
            fail_msg("%s: %s", r.hits[0].rule, r.hits[0].reason);
        t_resp(&resp, &m, T0 + S(i) + MS(500), 200);
        r = obs(d, &resp);
        assert_int_equal(r.nhits, 0);
    }
    /* The sixth is over the contract: refused (and so not counted live). */
    invite(d, &m, T0 + S(10), &carrier, CARRIER, "cc-5", "+33123456789", "+442079000200", &r);
    tally_add(&t, &r, m.f.ts_ns);
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip.offender_kind, SW_OFFENDER_PEER);
    assert_int_equal(t.first_trip.status, 503);
    assert_int_equal(evidence(&t.first_trip, "count"), 6);
    /* One call hangs up: a new one fits again. */
    t_req(&m, T0 + S(20), SW_METHOD_BYE, CARRIER, &carrier, "cc-0", 2, "bye-0");
    t_totag(&m, "tt");
    r = obs(d, &m);
    assert_int_equal(r.nhits, 0);
    invite(d, &m, T0 + S(21), &carrier, CARRIER, "cc-6", "+33123456789", "+442079000201", &r);
    assert_int_equal(r.nhits, 0);

    /* Calls pushed out of the dialog table release their slots. */
    for (unsigned i = 0; i < 40; i++) {
        snprintf(cid, sizeof cid, "other-%u", i);
        snprintf(b, sizeof b, "+4420790003%02u", i);
        invite(d, &m, T0 + S(22) + MS(100 * i), &transit, ip4(0xCB007109u, 5060), cid, "+4930123", b, &r);
    }
    for (unsigned i = 0; i < 5; i++) {
        snprintf(cid, sizeof cid, "again-%u", i);
        snprintf(b, sizeof b, "+4420790004%02u", i);
        invite(d, &m, T0 + S(27 + i), &carrier, CARRIER, cid, "+33123456789", b, &r);
        tally_add(&t, &r, m.f.ts_ns);
        if (r.nhits)
            fail_msg("%u %s: %s", i, r.hits[0].rule, r.hits[0].reason);
    }
    assert_int_equal(t.hits, 1); /* only the sixth call before */
    sw_detectors_free(d);
}

/* One new call from a partner, distinct A and B, and (status != 0) its
 * final answer 5 ms later; the burst rule's hits go into t. */
static void burst_call(sw_detectors *d, const sw_peer *peer, sw_addr src, unsigned i, int64_t ts,
                       uint16_t status, tally *t)
{
    tmsg m, resp;
    sw_detect_result r;
    char cid[48], a[32], b[32];
    snprintf(cid, sizeof cid, "pb-%s-%u", peer->name, i);
    snprintf(a, sizeof a, "+4930%08u", i);
    snprintf(b, sizeof b, "+4420%08u", i);
    invite(d, &m, ts, peer, src, cid, a, b, &r);
    tally_add(t, &r, ts);
    for (unsigned k = 0; k < r.nhits; k++)
        if (strcmp(r.hits[k].rule, "flood.peer-burst") != 0 && strcmp(r.hits[k].rule, "flood.peer-cps") != 0)
            fail_msg("call %u: %s: %s", i, r.hits[k].rule, r.hits[k].reason);
    if (status) {
        t_resp(&resp, &m, ts + MS(5), status);
        r = obs(d, &resp);
        tally_add(t, &r, ts);
    }
}

/* flood.peer-burst while the partner's rate is still being learned: only
 * a burst that fails trips; a burst whose calls connect (a failover, a big
 * partner's first minutes) does not. */
static void test_flood_peer_burst_learning(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    sw_peer delta = {.name = "delta", .role = SW_ROLE_TRANSIT};
    sw_peer echo = {.name = "echo", .role = SW_ROLE_TRANSIT};
    sw_addr dsrc = ip4(0xCB007107u, 5060), esrc = ip4(0xCB007108u, 5060);
    tally t = {.rule = "flood.peer-burst"}, te = {.rule = "flood.peer-burst"};
    unsigned i = 0;
    /* normal: a call every 4 s, answered */
    for (; i < 10; i++)
        burst_call(d, &delta, dsrc, i, T0 + S(4 * i), 200, &t);
    assert_int_equal(t.hits, 0);
    /* 100 calls/s to numbers that do not exist: 404 each */
    int64_t t1 = T0 + S(41);
    for (unsigned k = 0; k < 200; k++, i++)
        burst_call(d, &delta, dsrc, i, t1 + MS(10 * k), 404, &t);
    assert_int_equal(t.trips, 1);
    /* the 41st call in the window is over the floor (40) */
    assert_true(t.first_trip_msg <= 2 * 10 + 2 * 41);
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "delta");
    assert_int_equal(h->action, SW_ACTION_REJECT);
    assert_int_equal(h->status, 503);
    assert_int_equal(h->retry_after_s, 2); /* the window: a short back-off, not a 30 s outage */
    assert_int_equal(h->block_ns, 0);
    assert_int_equal(evidence(h, "count"), 41);
    assert_int_equal(evidence(h, "threshold"), 40);
    assert_int_equal(evidence(h, "learning"), 1);
    assert_true(evidence(h, "failed") >= 20);
    assert_non_null(strstr(h->reason, "partner delta"));
    /* the excess is refused (hits), one event */
    assert_true(t.hits > 100);

    /* echo: same shape, but its calls ring and are answered (a failover
     * brings live traffic): nothing while learning. */
    i = 0;
    for (; i < 10; i++)
        burst_call(d, &echo, esrc, i, T0 + S(4 * i), 200, &te);
    for (unsigned k = 0; k < 200; k++, i++)
        burst_call(d, &echo, esrc, i, t1 + MS(10 * k), k % 3 ? 200 : 486, &te);
    assert_int_equal(te.hits, 0);
    sw_detectors_free(d);
}

/* After the warm-up the learned rate sets the limit: a big partner's
 * steady busy hour and a doubling after a failover pass; four times its
 * rate trips even when the calls connect; a contract (cps) keeps
 * flood.peer-cps instead. */
static void test_flood_peer_burst_baseline(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    sw_peer big = {.name = "big", .role = SW_ROLE_INTERCONNECT};
    sw_addr src = ip4(0xCB007109u, 5060);
    tally t = {.rule = "flood.peer-burst"};
    unsigned i = 0;
    int64_t ts = T0;
    /* 11 min at 30 calls/s (60 per window, over the floor), no answers
     * seen: while learning a busy partner is not accused */
    for (; ts < T0 + S(660); ts += MS(33), i++)
        burst_call(d, &big, src, i, ts, 0, &t);
    assert_int_equal(t.hits, 0);
    /* 30 s of a failover: twice the rate, still under 4x */
    int64_t end = ts + S(30);
    for (; ts < end; ts += MS(16), i++)
        burst_call(d, &big, src, i, ts, 0, &t);
    assert_int_equal(t.hits, 0);
    /* back to normal, then 5 s at 10x: trips on rate alone */
    end = ts + S(60);
    for (; ts < end; ts += MS(33), i++)
        burst_call(d, &big, src, i, ts, 0, &t);
    assert_int_equal(t.hits, 0);
    end = ts + S(5);
    for (; ts < end; ts += MS(3), i++)
        burst_call(d, &big, src, i, ts, 0, &t);
    assert_int_equal(t.trips, 1);
    const sw_detect_hit *h = &t.first_trip;
    assert_string_equal(h->offender, "big");
    assert_int_equal(evidence(h, "learning"), 0);
    assert_int_equal(evidence(h, "failed"), 0);
    int64_t base = evidence(h, "baseline_mcps"), thr = evidence(h, "threshold");
    assert_true(base > 25000 && base < 40000); /* about 30/s learned */
    assert_true(thr > 200 && thr < 320);       /* 4 x 30/s x 2 s */
    assert_int_equal(evidence(h, "count"), thr + 1);

    /* The burst did not teach: a minute later the limit is the same. */
    t = (tally){.rule = "flood.peer-burst"};
    ts += S(60);
    end = ts + S(60);
    for (; ts < end; ts += MS(33), i++)
        burst_call(d, &big, src, i, ts, 0, &t);
    end = ts + S(5);
    for (; ts < end; ts += MS(3), i++)
        burst_call(d, &big, src, i, ts, 0, &t);
    assert_int_equal(t.trips, 1);
    assert_true(evidence(&t.first_trip, "threshold") <= thr);

    /* Silent for ten minutes (traffic failed over elsewhere; the learned
     * rate decays meanwhile) and back at its old rate: warming up again,
     * nothing while the calls connect ... */
    t = (tally){.rule = "flood.peer-burst"};
    ts += S(600);
    end = ts + S(60);
    for (; ts < end; ts += MS(33), i++)
        burst_call(d, &big, src, i, ts, 200, &t);
    assert_int_equal(t.hits, 0);
    /* ... but a failing burst still trips while it warms up. */
    end = ts + S(3);
    for (; ts < end; ts += MS(3), i++)
        burst_call(d, &big, src, i, ts, 404, &t);
    assert_int_equal(t.trips, 1);
    assert_int_equal(evidence(&t.first_trip, "learning"), 1);

    /* Gone for two hours and back at its old rate: learned afresh,
     * nothing while the calls connect. */
    t = (tally){.rule = "flood.peer-burst"};
    ts += S(7200);
    end = ts + S(60);
    for (; ts < end; ts += MS(33), i++)
        burst_call(d, &big, src, i, ts, 200, &t);
    assert_int_equal(t.hits, 0);

    /* A partner with a contracted cps: flood.peer-cps, never peer-burst. */
    sw_peer cps = {.name = "contracted", .role = SW_ROLE_INTERCONNECT, .cps = 50};
    tally tb = {.rule = "flood.peer-burst"}, tc = {.rule = "flood.peer-cps"};
    for (unsigned k = 0; k < 300; k++) {
        tmsg m;
        sw_detect_result r;
        char cid[32], b[32];
        snprintf(cid, sizeof cid, "c-%u", k);
        snprintf(b, sizeof b, "+4420%08u", k);
        invite(d, &m, ts + MS(5 * k), &cps, CARRIER, cid, "+33123456789", b, &r);
        tally_add(&tb, &r, m.f.ts_ns);
        tally_add(&tc, &r, m.f.ts_ns);
        tmsg resp;
        t_resp(&resp, &m, ts + MS(5 * k + 1), 404);
        r = obs(d, &resp);
    }
    assert_int_equal(tb.hits, 0);
    assert_int_equal(tc.trips, 1);
    sw_detectors_free(d);
}

static void test_flood_callee_caller(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "flood.callee"};
    /* 11 calls to one B from 11 callers and sources within a minute. */
    for (unsigned i = 0; i < 12; i++) {
        tmsg m;
        sw_detect_result r;
        char cid[32], a[32];
        snprintf(cid, sizeof cid, "callee-%u", i);
        snprintf(a, sizeof a, "+3361234%04u", i);
        invite(d, &m, T0 + S(5 * i), &zone, ip4(0xC6336410u + i, 5060), cid, a, "+447700900123", &r);
        tally_add(&tc, &r, m.f.ts_ns);
    }
    assert_int_equal(tc.trips, 1);
    assert_int_equal(tc.first_trip_msg, 11);
    assert_int_equal(tc.hits, 2);
    assert_int_equal(tc.first_trip.offender_kind, SW_OFFENDER_CALLEE);
    assert_string_equal(tc.first_trip.offender, "+447700900123");
    assert_int_equal(tc.first_trip.block_ns, 0); /* blocking B would finish the DoS */

    tally ta = {.rule = "flood.caller"};
    /* 21 calls from one A within 10 s, to distinct B, from distinct sources. */
    for (unsigned i = 0; i < 21; i++) {
        tmsg m;
        sw_detect_result r;
        char cid[32], b[32];
        snprintf(cid, sizeof cid, "caller-%u", i);
        snprintf(b, sizeof b, "+4477009%05u", i);
        invite(d, &m, T0 + S(100) + MS(400 * i), &zone, ip4(0xC6336500u + i, 5060), cid,
               "+33600000001", b, &r);
        tally_add(&ta, &r, m.f.ts_ns);
    }
    assert_int_equal(ta.trips, 1);
    assert_int_equal(ta.first_trip_msg, 21);
    assert_int_equal(ta.first_trip.offender_kind, SW_OFFENDER_CALLER);
    assert_string_equal(ta.first_trip.offender, "+33600000001");
    sw_detectors_free(d);
}

static void test_malformed(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "malformed.repeat"};
    for (unsigned i = 0; i < 6; i++) {
        tmsg m;
        t_req(&m, T0 + S(10 * i), SW_METHOD_INVITE, ATTACKER, &zone, "x", 1, "x");
        m.f.malformed = 1;
        m.f.error.code = SW_EINVAL;
        m.f.error.reason = "negative Content-Length";
        sw_detect_result r = obs(d, &m);
        tally_add(&t, &r, m.f.ts_ns);
        if (i < 4)
            assert_int_equal(r.nhits, 0);
    }
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip_msg, 5);
    assert_int_equal(t.hits, 2);
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->category, SW_CAT_CAT1);
    assert_int_equal(h->type, SW_EVT_SIP_MALFORMED);
    assert_int_equal(h->block_ns, S(3600));
    assert_non_null(strstr(h->reason, "negative Content-Length"));

    /* Four in a minute from another source: nothing. */
    for (unsigned i = 0; i < 4; i++) {
        tmsg m;
        t_req(&m, T0 + S(100 + i), SW_METHOD_OPTIONS, ip4(0xC6336402u, 5060), &zone, "y", 1, "y");
        m.f.malformed = 1;
        sw_detect_result r = obs(d, &m);
        assert_int_equal(r.nhits, 0);
    }
    sw_detectors_free(d);
}

static void test_ipv6_prefix(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally t = {.rule = "flood.source"};
    /* 31 requests from 31 addresses of one /64: one source. */
    for (unsigned i = 0; i < 31; i++) {
        sw_addr src = {.family = 6, .port = 5060};
        src.ip[0] = 0x20;
        src.ip[1] = 0x01;
        src.ip[2] = 0x0d;
        src.ip[3] = 0xb8;
        src.ip[15] = (uint8_t)(i + 1);
        src.ip[9] = (uint8_t)(i * 7);
        tmsg m;
        char cid[32];
        snprintf(cid, sizeof cid, "v6-%u", i);
        t_req(&m, T0 + MS(20 * i), SW_METHOD_REGISTER, src, &zone, cid, 1, cid);
        t_user(&m, "bob");
        sw_detect_result r = obs(d, &m);
        tally_add(&t, &r, m.f.ts_ns);
    }
    assert_int_equal(t.trips, 1);
    const sw_detect_hit *h = &t.first_trip;
    assert_int_equal(h->offender_addr.family, 6);
    assert_int_equal(h->offender_addr.ip[15], 0);
    assert_int_equal(h->offender_addr.ip[9], 0);
    assert_int_equal(h->offender_addr.ip[0], 0x20);
    assert_int_equal(h->offender_addr.port, 0);
    assert_string_equal(h->offender, "2001:db8::");
    sw_detectors_free(d);
}

static void test_monitor_mode(void **state)
{
    (void)state;
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    conf[SW_DET_FLOOD].monitor = 1;
    conf[SW_DET_FLOOD].confidence = 55;
    sw_detectors *d = mk_det(conf, 1024, NULL);
    unsigned seq = 0;
    tally t = {.rule = "flood.source"};
    registers(d, ATTACKER, T0, MS(10), 31, &t, &seq);
    assert_int_equal(t.trips, 1);
    assert_int_equal(t.first_trip.monitor, 1);
    assert_int_equal(t.first_trip.confidence, 55);
    assert_int_equal(t.first_trip.block_ns, 0);

    /* Disabled: nothing at all. */
    default_conf(conf);
    conf[SW_DET_FLOOD].enabled = 0;
    sw_detectors *d2 = mk_det(conf, 1024, NULL);
    tally t2 = {.rule = "flood.source"};
    registers(d2, ATTACKER, T0, MS(10), 100, &t2, &seq);
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
    sw_detectors_free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_source),
        cmocka_unit_test(test_retransmissions),
        cmocka_unit_test(test_flood_peer_cps),
        cmocka_unit_test(test_flood_peer_concurrency),
        cmocka_unit_test(test_flood_peer_burst_learning),
        cmocka_unit_test(test_flood_peer_burst_baseline),
        cmocka_unit_test(test_flood_callee_caller),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ipv6_prefix),
        cmocka_unit_test(test_monitor_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
