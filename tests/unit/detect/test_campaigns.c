/* Fraud spread over carriers and trunks (issue 16): Wangiri campaigns
 * aggregated per calling range and per called range across every carrier,
 * and IRSF decided by pattern per trunk (spread over hot ranges, number
 * walking from rotating A-numbers), each with its false-positive guards. */
#include "detect_test_util.h"

#include "sipwall/policy.h"

/* positions in a policy (carriers are told apart by them) */
static sw_peer carrier_x = {.name = "carrier-x", .index = 1, .name_fp = 0x1001, .role = SW_ROLE_TRANSIT};
static sw_peer carrier_y = {.name = "carrier-y", .index = 2, .name_fp = 0x1002, .role = SW_ROLE_TRANSIT};
static sw_peer enterprise = {.name = "acme-pbx", .index = 3, .name_fp = 0x1003, .role = SW_ROLE_ENTERPRISE};

#define CARRIER_Y ip4(0xCB007106u, 5060) /* 203.0.113.6 */
#define PBX ip4(0xCB007107u, 5060)       /* 203.0.113.7 */

typedef enum { END_CANCEL, END_ANSWER_BYE } call_end;

static unsigned ncall;

/* One call: INVITE, 180, then CANCEL/487 after `after`, or 200 and a BYE
 * `after` later.  Every message's result goes to the tallies. */
static void call(sw_detectors *d, int64_t ts, const sw_peer *peer, sw_addr src, const char *a,
                 const char *b, int64_t after, call_end how, tally *t1, tally *t2)
{
    tmsg inv, m;
    char cid[32];
    snprintf(cid, sizeof cid, "camp-%u", ncall++);
    t_req(&inv, ts, SW_METHOD_INVITE, src, peer, cid, 1, cid);
    t_a(&inv, a);
    t_b(&inv, b);
    sw_detect_result r = obs(d, &inv);
#define T(ts_)                        \
    do {                              \
        if (t1)                       \
            tally_add(t1, &r, (ts_)); \
        if (t2)                       \
            tally_add(t2, &r, (ts_)); \
    } while (0)
    T(ts);
    t_resp(&m, &inv, ts + MS(300), 180);
    r = obs(d, &m);
    T(ts + MS(300));
    if (how == END_CANCEL) {
        tmsg cancel;
        t_req(&cancel, ts + after, SW_METHOD_CANCEL, src, peer, cid, 1, cid);
        r = obs(d, &cancel);
        T(ts + after);
        t_resp(&m, &inv, ts + after + MS(20), 487);
        r = obs(d, &m);
        T(ts + after + MS(20));
    } else {
        t_resp(&m, &inv, ts + S(2), 200);
        r = obs(d, &m);
        T(ts + S(2));
        tmsg bye;
        char br[40];
        snprintf(br, sizeof br, "%s-bye", cid);
        t_req(&bye, ts + S(2) + after, SW_METHOD_BYE, src, peer, cid, 2, br);
        t_totag(&bye, "tt");
        r = obs(d, &bye);
        T(ts + S(2) + after);
    }
#undef T
}

/* ---- Wangiri campaigns -------------------------------------------------------------- */

/* Plays the campaign: A-numbers rotating over +22507 12..14 xxxxxx (one
 * call per A, every A in its own 1000-block), one ring of 2-2.6 s, split
 * over two carriers. */
static void campaign(sw_detectors *d, tally *t1, tally *t2)
{
    for (unsigned i = 0; i < 30; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+22507%02u%06u", 12 + i % 3, (i * 37711u) % 1000000u);
        snprintf(b, sizeof b, "+4477009%05u", i * 131);
        int y = i % 2;
        call(d, T0 + S(8 * i), y ? &carrier_y : &carrier_x, y ? CARRIER_Y : CARRIER, a, b,
             S(2) + MS(100 * (i % 7)), END_CANCEL, t1, t2);
    }
}

/* No caller, no 1000-block prefix and no carrier sees 20 distinct
 * callees; the calling range does, and the event names both carriers. */
static void test_campaign_two_carriers(void **state)
{
    (void)state;
    /* With the defaults (range-digits 6: +2250712, +2250713, +2250714)
     * the campaign is split three ways, 10 callees each: under. */
    sw_detectors *d = mk_default();
    tally tcamp = {.rule = "wangiri.campaign"}, tpre = {.rule = "wangiri.prefix"};
    campaign(d, &tcamp, &tpre);
    assert_int_equal(tpre.hits, 0);
    assert_int_equal(tcamp.trips, 0);
    sw_detectors_free(d);
    d = mk_default();
    tally tcall = {.rule = "wangiri.caller"};
    campaign(d, &tcall, NULL);
    assert_int_equal(tcall.hits, 0);
    sw_detectors_free(d);

    /* A range of +22507 (range-digits 8) holds it all. */
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    conf[SW_DET_WANGIRI].params[SW_DP_WG_RANGE_DIGITS] = 8;
    d = mk_det(conf, 4096, NULL);
    tally tc3 = {.rule = "wangiri.campaign"};
    campaign(d, &tc3, NULL);
    assert_int_equal(tc3.trips, 1);
    const sw_detect_hit *h = &tc3.first_trip;
    assert_int_equal(h->type, SW_EVT_WANGIRI_CLI);
    assert_int_equal(h->offender_kind, SW_OFFENDER_CALLER_PREFIX);
    assert_string_equal(h->offender, "+22507");
    assert_int_equal(h->block_ns, 0); /* a whole range is never blocked */
    assert_int_equal(evidence(h, "carriers"), 2);
    assert_int_equal(evidence(h, "distinct"), 20);
    assert_non_null(strstr(h->reason, "carrier-x"));
    assert_non_null(strstr(h->reason, "carrier-y"));
    assert_non_null(strstr(h->reason, "+22507XXXXXXXX"));
    /* its later INVITEs are refused while the campaign holds */
    assert_true(tc3.hits > tc3.trips);
    sw_detectors_free(d);
}

/* The same campaign inside one default range (+2250712, range-digits 6):
 * tripped with the defaults, from two carriers. */
static void test_campaign_default_range(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tc = {.rule = "wangiri.campaign"}, tp = {.rule = "wangiri.prefix"};
    for (unsigned i = 0; i < 26; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+2250712%06u", (i * 40009u) % 1000000u);
        snprintf(b, sizeof b, "+4477009%05u", i * 97);
        int y = i % 2;
        call(d, T0 + S(9 * i), y ? &carrier_y : &carrier_x, y ? CARRIER_Y : CARRIER, a, b,
             S(1) + MS(150 * (i % 9)), END_CANCEL, &tc, &tp);
    }
    assert_int_equal(tp.hits, 0);
    assert_int_equal(tc.trips, 1);
    assert_string_equal(tc.first_trip.offender, "+2250712");
    assert_int_equal(evidence(&tc.first_trip, "carriers"), 2);
    sw_detectors_free(d);
}

/* Guard: legitimate international callers from one range over two
 * carriers: answered (a few abandoned) — no campaign, no called-range. */
static void test_campaign_guard_legit_callers(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    for (unsigned i = 0; i < 60; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+2250712%06u", (i * 40009u) % 1000000u);
        snprintf(b, sizeof b, "+4477009%05u", i * 97);
        int y = i % 2;
        call(d, T0 + S(9 * i), y ? &carrier_y : &carrier_x, y ? CARRIER_Y : CARRIER, a, b,
             i % 8 == 0 ? S(3) : S(40), i % 8 == 0 ? END_CANCEL : END_ANSWER_BYE, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

/* Guard: a call centre with a pool of numbers in one range calling many
 * customers: half unanswered, but they ring long before the agent gives
 * up (20 s) — the ring median keeps it out. */
static void test_campaign_guard_call_centre_pool(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    for (unsigned i = 0; i < 60; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+3314455%04u", i % 12); /* a pool of 12 numbers */
        snprintf(b, sizeof b, "+4477008%05u", i * 61);
        call(d, T0 + S(6 * i), i % 2 ? &carrier_y : &carrier_x, i % 2 ? CARRIER_Y : CARRIER, a, b,
             S(20), i % 2 ? END_CANCEL : END_ANSWER_BYE, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
}

/* The called range: one-ring calls from callers of many ranges (no
 * calling key adds up) into one block of our subscribers. */
static void test_called_range(void **state)
{
    (void)state;
    sw_detectors *d = mk_default();
    tally tr = {.rule = "wangiri.called-range"}, tc = {.rule = "wangiri.campaign"};
    for (unsigned i = 0; i < 30; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+%u%09u", 220 + i % 9, 700000000u + i * 7919u);
        snprintf(b, sizeof b, "+447700900%03u", i * 31 % 1000);
        int y = i % 2;
        call(d, T0 + S(8 * i), y ? &carrier_y : &carrier_x, y ? CARRIER_Y : CARRIER, a, b, S(2),
             END_CANCEL, &tr, &tc);
    }
    assert_int_equal(tc.hits, 0);
    assert_int_equal(tr.trips, 1);
    assert_int_equal(tr.first_trip.offender_kind, SW_OFFENDER_CALLEE);
    assert_string_equal(tr.first_trip.offender, "+447700900");
    assert_int_equal(tr.first_trip.action, SW_ACTION_TAG); /* an alert: the range is ours */
    assert_int_equal(evidence(&tr.first_trip, "carriers"), 2);
    sw_detectors_free(d);
}

/* The carrier list is bounded: six carriers, four named, "+2 more". */
static void test_campaign_carriers_bounded(void **state)
{
    (void)state;
    static sw_peer many[6] = {{.name = "c0", .index = 10, .name_fp = 0x3010}, {.name = "c1", .index = 11, .name_fp = 0x3011},
                              {.name = "c2", .index = 12, .name_fp = 0x3012}, {.name = "c3", .index = 13, .name_fp = 0x3013},
                              {.name = "c4", .index = 14, .name_fp = 0x3014}, {.name = "c5", .index = 15, .name_fp = 0x3015}};
    sw_detectors *d = mk_default();
    tally tc = {.rule = "wangiri.campaign"};
    for (unsigned i = 0; i < 26; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+2250712%06u", (i * 40009u) % 1000000u);
        snprintf(b, sizeof b, "+4477009%05u", i * 97);
        call(d, T0 + S(9 * i), &many[i % 6], ip4(0xCB007110u + i % 6, 5060), a, b, S(2), END_CANCEL,
             &tc, NULL);
    }
    assert_int_equal(tc.trips, 1);
    assert_non_null(strstr(tc.first_trip.reason, "over 6 carriers (c0,c1,c2,c3,+2 more)"));
    assert_int_equal(evidence(&tc.first_trip, "carriers"), 6);
    sw_detectors_free(d);
}

/* ---- IRSF per trunk -------------------------------------------------------------------- */
/* A reload that reorders partners gives carrier-x another position in the
 * policy mid-campaign (its name, and so its name_fp, stay): it is still
 * one carrier, named once. */
static void test_campaign_carrier_renumbered(void **state)
{
    (void)state;
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    conf[SW_DET_WANGIRI].params[SW_DP_WG_RANGE_DIGITS] = 8;
    sw_detectors *d = mk_det(conf, 4096, NULL);
    tally tc = {.rule = "wangiri.campaign"};
    sw_peer x = carrier_x;
    for (unsigned i = 0; i < 30; i++) {
        char a[32], b[32];
        if (i == 10)
            x.index = 7; /* the reload */
        snprintf(a, sizeof a, "+22507%02u%06u", 12 + i % 3, (i * 37711u) % 1000000u);
        snprintf(b, sizeof b, "+4477009%05u", i * 131);
        call(d, T0 + S(8 * i), &x, CARRIER, a, b, S(2) + MS(100 * (i % 7)), END_CANCEL, &tc, NULL);
    }
    assert_int_equal(tc.trips, 1);
    assert_int_equal(evidence(&tc.first_trip, "carriers"), 1);
    assert_non_null(strstr(tc.first_trip.reason, "over 1 carrier (carrier-x)"));
    sw_detectors_free(d);
}

static sw_prefix_set *hot_list(void)
{
    sw_prefix_set *hot = sw_prefix_set_new();
    assert_non_null(hot);
    assert_int_equal(sw_prefix_set_add(hot, "53", 2, 1), SW_OK);
    assert_int_equal(sw_prefix_set_add(hot, "252", 3, 2), SW_OK);
    assert_int_equal(sw_prefix_set_add(hot, "882", 3, 3), SW_OK);
    assert_int_equal(sw_prefix_set_add(hot, "881", 3, 4), SW_OK);
    return hot;
}

/* A transit carrier carries IRSF calls from rotating A-numbers to distinct
 * numbers of several hot ranges between its normal calls: no caller key
 * adds up, the trunk does (irsf.spread, offender the partner, not
 * blocked). */
static void test_irsf_trunk_spread(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, hot);
    tally ts = {.rule = "irsf.spread"}, tv = {.rule = "irsf.volume"};
    const char *range[] = {"+5378", "+252611", "+88160"};
    for (unsigned i = 0; i < 12; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+4930901%05u", i * 811);
        snprintf(b, sizeof b, "+447700800%03u", i * 7);
        call(d, T0 + S(10 * i), &carrier_x, CARRIER, a, b, S(30), END_ANSWER_BYE, NULL, NULL);
        snprintf(a, sizeof a, "+4930902%05u", i * 977);
        snprintf(b, sizeof b, "%s%06u", range[i % 3], i * 104729u % 1000000u);
        call(d, T0 + S(10 * i + 5), &carrier_x, CARRIER, a, b, S(20), END_ANSWER_BYE, &ts, &tv);
    }
    assert_int_equal(tv.hits, 0); /* every caller once */
    assert_int_equal(ts.trips, 1);
    const sw_detect_hit *h = &ts.first_trip;
    assert_int_equal(h->type, SW_EVT_IRSF_CALL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "carrier-x");
    assert_int_equal(h->block_ns, 0);
    assert_int_equal(evidence(h, "distinct"), 6);
    assert_int_equal(evidence(h, "hot_calls"), 6);
    assert_int_equal(evidence(h, "distinct"), 6);
    assert_int_equal(evidence(h, "hot_calls"), 6);
    assert_int_equal(evidence(h, "calls"), 11); /* counted from its first hot call */
    /* its later hot calls are refused; its normal calls are not */
    assert_true(ts.hits > 1);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Number walking: sequential numbers of one hot range from rotating
 * A-numbers of one trunk (irsf.sequential per (trunk, range)). */
static void test_irsf_trunk_walk(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    conf[SW_DET_IRSF].params[SW_DP_IRSF_TRUNK_DISTINCT] = 32; /* the walk alone */
    sw_detectors *d = mk_det(conf, 4096, hot);
    tally tq = {.rule = "irsf.sequential"};
    for (unsigned i = 0; i < 8; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+4930903%05u", i * 1013);
        snprintf(b, sizeof b, "+882345678%03u", 10 + i);
        call(d, T0 + S(3 * i), &carrier_x, CARRIER, a, b, S(10), END_ANSWER_BYE, &tq, NULL);
    }
    assert_int_equal(tq.trips, 1);
    assert_int_equal(tq.first_trip.offender_kind, SW_OFFENDER_PEER);
    assert_int_equal(evidence(&tq.first_trip, "distinct"), 5);
    assert_non_null(strstr(tq.first_trip.reason, "+882345678XXX"));
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Guards: an enterprise's few legitimate calls to those countries (5 in
 * 10 min: under trunk-distinct), and a big carrier whose hot calls are a
 * small share of its traffic (8 distinct among 100 calls). */
static void test_irsf_trunk_guards(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, hot);
    const char *to[] = {"+5378123456", "+5378654321", "+252611234567", "+88160123456",
                        "+5372000111"};
    for (unsigned i = 0; i < 5; i++)
        call(d, T0 + S(60 * i), &enterprise, PBX, "+447700800123", to[i], S(240), END_ANSWER_BYE,
             NULL, NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);

    d = mk_det(conf, 4096, hot);
    for (unsigned i = 0; i < 100; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "+4930904%05u", i * 733);
        if (i % 12 == 5)
            snprintf(b, sizeof b, "+53%u%07u", 70 + i % 9, i * 7919u % 10000000u);
        else
            snprintf(b, sizeof b, "+447700801%03u", i * 13 % 1000);
        call(d, T0 + S(5 * i), &carrier_y, CARRIER_Y, a, b, S(30), END_ANSWER_BYE, NULL, NULL);
    }
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* ---- IRSF above the trunk's learned normal ---------------------------------------------- */

/* carrier-x's usual traffic to hot ranges: one answered call every `every`
 * from `from` for `hours`, rotating A-numbers, B spread over many ranges;
 * then `burst` hot calls 20 s apart.  The other trunk rules are kept out of
 * the way (trunk-distinct 32: no spread), so irsf.rate is alone. */
static void learned_then_burst(sw_detectors *d, int64_t every, unsigned hours, unsigned burst, tally *t)
{
    char a[32], b[32];
    unsigned n = (unsigned)((int64_t)hours * 3600 * SW_NS_S / every);
    for (unsigned i = 0; i < n; i++) {
        snprintf(a, sizeof a, "+49309%07u", i * 7919u % 10000000u);
        snprintf(b, sizeof b, "+53%u%07u", 70 + i % 9, i * 104729u % 10000000u);
        call(d, T0 + (int64_t)i * every, &carrier_x, CARRIER, a, b, S(60), END_ANSWER_BYE, NULL, NULL);
    }
    int64_t at = T0 + (int64_t)n * every + S(60);
    for (unsigned i = 0; i < burst; i++) {
        snprintf(a, sizeof a, "+49308%07u", i * 6007u % 10000000u);
        snprintf(b, sizeof b, "+2526%u%06u", 10 + i % 80, i * 15485863u % 1000000u);
        call(d, at + S(20 * i), &carrier_x, CARRIER, a, b, S(60), END_ANSWER_BYE, t, NULL);
    }
}

static sw_detectors *mk_rate(sw_prefix_set *hot)
{
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    conf[SW_DET_IRSF].params[SW_DP_IRSF_TRUNK_DISTINCT] = 32;
    return mk_det(conf, 4096, hot);
}

/* A carrier that sends about one hot call per 5 min for 8 hours (a normal
 * of about 2 per 10 min) sends 15 in 5 min: irsf.rate names it. */
static void test_irsf_rate(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    sw_detectors *d = mk_rate(hot);
    tally tr = {.rule = "irsf.rate"};
    learned_then_burst(d, S(300), 8, 15, &tr);
    assert_int_equal(tr.trips, 1);
    const sw_detect_hit *h = &tr.first_trip;
    assert_int_equal(h->type, SW_EVT_IRSF_CALL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "carrier-x");
    assert_int_equal(h->block_ns, 0);
    /* 2 of the usual calls are in the window too; the normal is about 2 */
    assert_true(evidence(h, "hot_calls") >= 10 && evidence(h, "hot_calls") <= 13);
    assert_true(evidence(h, "normal_x10") >= 15 && evidence(h, "normal_x10") <= 25);
    assert_true(evidence(h, "learned_s") >= 8 * 3600);
    assert_int_equal(evidence(h, "factor_pct"), 500);
    assert_non_null(strstr(h->reason, "partner carrier-x"));
    assert_true(tr.hits > 1); /* its later hot calls are refused */
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Guards: the same burst after only 2 hours of learning (under learn-min),
 * and from a carrier whose normal is one hot call every 30 s (20 per
 * 10 min): no irsf.rate. */
static void test_irsf_rate_guards(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    sw_detectors *d = mk_rate(hot);
    tally t1 = {.rule = "irsf.rate"};
    learned_then_burst(d, S(300), 2, 15, &t1);
    assert_int_equal(t1.hits, 0);
    sw_detectors_free(d);
    d = mk_rate(hot);
    tally t2 = {.rule = "irsf.rate"};
    learned_then_burst(d, S(30), 7, 15, &t2);
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* ---- IRSF against a partner's contract ------------------------------------------------- */

/* An answered call left open: INVITE, 180, 200 (its BYE is call_bye). */
static void call_open(sw_detectors *d, int64_t ts, const sw_peer *peer, sw_addr src,
                      const char *cid, const char *a, const char *b, tally *t)
{
    tmsg inv, m;
    t_req(&inv, ts, SW_METHOD_INVITE, src, peer, cid, 1, cid);
    t_a(&inv, a);
    t_b(&inv, b);
    sw_detect_result r = obs(d, &inv);
    if (t)
        tally_add(t, &r, ts);
    t_resp(&m, &inv, ts + MS(300), 180);
    r = obs(d, &m);
    t_resp(&m, &inv, ts + S(1), 200);
    r = obs(d, &m);
}

static void call_bye(sw_detectors *d, int64_t ts, const sw_peer *peer, sw_addr src,
                     const char *cid)
{
    tmsg bye;
    char br[40];
    snprintf(br, sizeof br, "%s-bye", cid);
    t_req(&bye, ts, SW_METHOD_BYE, src, peer, cid, 2, br);
    t_totag(&bye, "tt");
    (void)obs(d, &bye);
}

/* carrier-x's usual traffic: one hot call every `every` lasting `len`,
 * 2 x `len` or 3 x `len` in turn, for `hours`, its messages in time order
 * (a call's BYE after the INVITEs that came while it was up); then `n` hot
 * calls 10 s apart left open (live). */
static void learned_then_live(sw_detectors *d, int64_t every, int64_t len, unsigned hours, unsigned n,
                              tally *t)
{
    char a[32], b[32], cid[32];
    unsigned k = (unsigned)((int64_t)hours * 3600 * SW_NS_S / every);
    int64_t end[64];
    unsigned first = 0; /* the oldest call still up */
    for (unsigned i = 0; i <= k; i++) {
        int64_t now = T0 + (int64_t)i * every;
        for (; first < i && (i == k || end[first % 64] <= now); first++) {
            snprintf(cid, sizeof cid, "norm-%u", first);
            call_bye(d, end[first % 64], &carrier_x, CARRIER, cid);
        }
        if (i == k)
            break;
        snprintf(a, sizeof a, "+49307%07u", i * 7919u % 10000000u);
        snprintf(b, sizeof b, "+53%u%07u", 70 + i % 9, i * 104729u % 10000000u);
        snprintf(cid, sizeof cid, "norm-%u", i);
        call_open(d, now, &carrier_x, CARRIER, cid, a, b, NULL);
        end[i % 64] = now + S(1) + len * (1 + i % 3);
    }
    int64_t at = T0 + (int64_t)k * every + 3 * len + S(10);
    for (unsigned i = 0; i < n; i++) {
        snprintf(a, sizeof a, "+49306%07u", i * 6007u % 10000000u);
        snprintf(b, sizeof b, "+2526%u%06u", 10 + i % 80, i * 15485863u % 1000000u);
        snprintf(cid, sizeof cid, "live-%u", i);
        call_open(d, at + S(10 * i), &carrier_x, CARRIER, cid, a, b, t);
    }
}

/* A carrier whose calls to hot ranges are 10 per 10 min, of 30, 60 or 90 s
 * (a new call finds the one before still up two times in three: 0.67 live
 * on average), holds 12 at once: irsf.rate on the live calls (their rate,
 * 12 in 2 min, is no jump for it). */
static void test_irsf_rate_live(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    sw_detectors *d = mk_rate(hot);
    tally tr = {.rule = "irsf.rate"};
    learned_then_live(d, S(60), S(30), 8, 12, &tr);
    assert_int_equal(tr.trips, 1);
    const sw_detect_hit *h = &tr.first_trip;
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "carrier-x");
    assert_int_equal(evidence(h, "live"), 10); /* the 10th live call: calls (10) at least */
    assert_true(evidence(h, "live_normal_x10") >= 5 && evidence(h, "live_normal_x10") <= 9);
    assert_non_null(strstr(h->reason, "live calls to high-risk ranges"));
    assert_int_equal(tr.first_trip_msg, 10);
    sw_detectors_free(d);
    /* guard: a carrier whose calls last 5, 10 or 15 min (about 9 live) */
    d = mk_rate(hot);
    tally t2 = {.rule = "irsf.rate"};
    learned_then_live(d, S(60), S(300), 8, 12, &t2);
    assert_int_equal(t2.hits, 0);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Five live calls to hot ranges from rotating A-numbers, to five distinct
 * numbers of three ranges (under trunk-distinct, sequential, and every
 * caller's concurrent), all still up; then they end, and five more start
 * at `later`.  `t` sees the first five's INVITEs, `t2` the later ones. */
static void five_live(sw_detectors *d, const sw_peer *peer, int64_t later, tally *t, tally *t2)
{
    const char *to[] = {"+5378123456", "+252611234567", "+88160123456", "+5378654321",
                        "+252611765432"};
    char cid[32], a[32];
    for (unsigned i = 0; i < 5; i++) {
        snprintf(cid, sizeof cid, "ctr-%u", i);
        snprintf(a, sizeof a, "+4930905%05u", i * 677);
        call_open(d, T0 + S(20 * i), peer, CARRIER, cid, a, to[i], t);
    }
    for (unsigned i = 0; i < 5; i++) {
        snprintf(cid, sizeof cid, "ctr-%u", i);
        call_bye(d, T0 + S(600) + S(i), peer, CARRIER, cid);
    }
    for (unsigned i = 0; i < 5 && later; i++) {
        snprintf(cid, sizeof cid, "ctr2-%u", i);
        snprintf(a, sizeof a, "+4930906%05u", i * 677);
        call_open(d, later + S(20 * i), peer, CARRIER, cid, a, to[i], t2);
        snprintf(cid, sizeof cid, "ctr2-%u", i);
        call_bye(d, later + S(20 * i + 5), peer, CARRIER, cid);
    }
}

/* A partner with a contracted concurrency of 6 holds 4 live calls to hot
 * ranges (over 50 % of it): irsf.contract, offender the partner, never
 * blocked; once they end, its next hot calls one at a time are not. */
static void test_irsf_contract_concurrency(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, hot);
    sw_peer p = {.name = "wholesale-z", .index = 4, .role = SW_ROLE_TRANSIT, .concurrency = 6};
    tally tc = {.rule = "irsf.contract"}, tc2 = {.rule = "irsf.contract"};
    five_live(d, &p, T0 + S(3000), &tc, &tc2);
    assert_int_equal(tc.trips, 1);
    assert_int_equal(tc.first_trip_msg, 4); /* the 4th live call */
    const sw_detect_hit *h = &tc.first_trip;
    assert_int_equal(h->type, SW_EVT_IRSF_CALL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "wholesale-z");
    assert_int_equal(h->block_ns, 0);
    assert_int_equal(evidence(h, "concurrent"), 4);
    assert_int_equal(evidence(h, "concurrency"), 6);
    assert_int_equal(evidence(h, "share"), 50);
    assert_non_null(strstr(h->reason, "contracted concurrency 6"));
    assert_int_equal(tc.hits, 2); /* the 5th call is refused too */
    assert_int_equal(tc2.hits, 0); /* the BYEs gave the live calls back */
    assert_int_equal(hits_total(d), 2);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Guards: the same calls from a partner without a contract (the 20 %
 * share of its own calls is its guard, and five numbers are under
 * trunk-distinct), and from a partner whose contract is large. */
static void test_irsf_contract_guards(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_peer none = {.name = "wholesale-z", .index = 4, .role = SW_ROLE_TRANSIT};
    sw_peer big = {.name = "wholesale-z", .index = 4, .role = SW_ROLE_TRANSIT,
                   .concurrency = 200, .cps = 20};
    sw_detectors *d = mk_det(conf, 4096, hot);
    five_live(d, &none, 0, NULL, NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
    d = mk_det(conf, 4096, hot);
    five_live(d, &big, 0, NULL, NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Rate: a partner contracted for 1 cps sends 6 short calls to three hot
 * numbers within 10 s (over 50 % of 1 cps x 10 s); the same calls a
 * minute apart are under. */
static void test_irsf_contract_rate(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_peer p = {.name = "wholesale-z", .index = 4, .role = SW_ROLE_TRANSIT, .cps = 1};
    const char *to[] = {"+5378123456", "+252611234567", "+88160123456"};
    for (int spaced = 0; spaced < 2; spaced++) {
        sw_detectors *d = mk_det(conf, 4096, hot);
        tally tc = {.rule = "irsf.contract"};
        for (unsigned i = 0; i < 6; i++) {
            char a[32];
            snprintf(a, sizeof a, "+4930907%05u", i * 677);
            call(d, T0 + (spaced ? S(60 * i) : MS(1500 * i)), &p, CARRIER, a, to[i % 3], S(3),
                 END_CANCEL, &tc, NULL);
        }
        if (spaced) {
            assert_int_equal(hits_total(d), 0);
        } else {
            assert_int_equal(tc.trips, 1);
            assert_int_equal(evidence(&tc.first_trip, "hot_calls"), 6);
            assert_int_equal(evidence(&tc.first_trip, "window_s"), 10);
            assert_non_null(strstr(tc.first_trip.reason, "contracted 1 cps"));
        }
        sw_detectors_free(d);
    }
    sw_prefix_set_free(hot);
}

/* ---- IRSF test calls, then a burst, per trunk --------------------------------------- */

/* From one partner, rotating A-numbers: `tests` test calls to +5378123456
 * and +5378123457 (unanswered, or answered 3 s), then from `gap` after the
 * first, `n` answered calls of a minute to the same two numbers, 30 s
 * apart.  `t` sees the burst. */
static void test_then_burst(sw_detectors *d, unsigned tests, int64_t gap, unsigned n, tally *t)
{
    const char *to[] = {"+5378123456", "+5378123457"};
    char a[32];
    for (unsigned i = 0; i < tests; i++) {
        snprintf(a, sizeof a, "+4930908%05u", i * 677);
        call(d, T0 + S(30 * i), &carrier_x, CARRIER, a, to[i % 2], S(3),
             i % 2 ? END_ANSWER_BYE : END_CANCEL, NULL, NULL);
    }
    for (unsigned i = 0; i < n; i++) {
        snprintf(a, sizeof a, "+4930909%05u", i * 677);
        call(d, T0 + gap + S(30 * i), &carrier_x, CARRIER, a, to[i % 2], S(60), END_ANSWER_BYE, t,
             NULL);
    }
}

/* Two test calls (one unanswered, one of 3 s) to a hot range, then 8 calls
 * to it within 15 min: irsf.test-then-burst names the partner, the test
 * numbers and the burst size. */
static void test_irsf_test_then_burst(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, hot);
    tally tb = {.rule = "irsf.test-then-burst"};
    test_then_burst(d, 2, S(300), 10, &tb);
    assert_int_equal(tb.trips, 1);
    const sw_detect_hit *h = &tb.first_trip;
    assert_int_equal(h->type, SW_EVT_IRSF_CALL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_PEER);
    assert_string_equal(h->offender, "carrier-x");
    assert_int_equal(h->block_ns, 0);
    assert_int_equal(evidence(h, "tests"), 2);
    assert_int_equal(evidence(h, "burst"), 8);
    assert_non_null(strstr(h->reason, "+5378123456, +5378123457"));
    assert_non_null(strstr(h->reason, "+5378123XXX"));
    assert_int_equal(tb.hits, 3); /* the 8th call and the two after it */
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Guards: the same calls without test calls, with one test call only, the
 * burst too small, and the burst after burst-window. */
static void test_irsf_test_then_burst_guards(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    struct {
        unsigned tests;
        int64_t gap;
        unsigned n;
    } cases[] = {{0, S(300), 10}, {1, S(300), 10}, {2, S(300), 7}, {2, S(960), 10}};
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sw_detectors *d = mk_det(conf, 4096, hot);
        test_then_burst(d, cases[c].tests, cases[c].gap, cases[c].n, NULL);
        assert_int_equal(hits_total(d), 0);
        sw_detectors_free(d);
    }
    sw_prefix_set_free(hot);
}

/* ---- IRSF long calls at quiet hours ----------------------------------------------------- */

/* T0 is 16:00 UTC.  One answered call from carrier-x to a hot range,
 * answered at T0 + at + 2 s, lasting `len`. */
static void long_call(sw_detectors *d, int64_t at, const char *a, const char *b, int64_t len,
                      tally *t)
{
    call(d, T0 + at, &carrier_x, CARRIER, a, b, len, END_ANSWER_BYE, t, NULL);
}

/* A 40 min call to a hot range answered at 23:00 (quiet hours 22-06, UTC):
 * irsf.long-call at its BYE, offender the caller, with duration, start
 * hour and range. */
static void test_irsf_long_call_night(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, hot);
    tally tl = {.rule = "irsf.long-call"};
    long_call(d, S(7 * 3600), "+447700900123", "+5378123456", S(40 * 60), &tl);
    assert_int_equal(tl.trips, 1);
    const sw_detect_hit *h = &tl.first_trip;
    assert_int_equal(h->type, SW_EVT_IRSF_CALL);
    assert_int_equal(h->offender_kind, SW_OFFENDER_CALLER);
    assert_string_equal(h->offender, "+447700900123");
    assert_int_equal(evidence(h, "duration_s"), 2400);
    assert_int_equal(evidence(h, "start_hour"), 23);
    assert_non_null(strstr(h->reason, "+5378123XXX"));
    sw_detectors_free(d);

    /* before its BYE: at the first in-dialog request once night-call passed */
    d = mk_det(conf, 4096, hot);
    tally tl3 = {.rule = "irsf.long-call"};
    call_open(d, T0 + S(7 * 3600), &carrier_x, CARRIER, "lc-mid", "+447700900123", "+5378123456",
              NULL);
    for (int min = 15; min <= 45; min += 15) {
        tmsg up;
        char br[32];
        snprintf(br, sizeof br, "lc-mid-up%d", min);
        t_req(&up, T0 + S(7 * 3600 + 60 * min), SW_METHOD_UPDATE, CARRIER, &carrier_x, "lc-mid",
              2 + min, br);
        t_totag(&up, "tt");
        sw_detect_result r = obs(d, &up);
        tally_add(&tl3, &r, T0 + S(7 * 3600 + 60 * min));
        assert_int_equal(tl3.trips, min < 45 ? 0 : 1); /* 29:59 answered at 30 min */
    }
    assert_int_equal(evidence(&tl3.first_trip, "duration_s"), 45 * 60 - 1);
    sw_detectors_free(d);

    /* weekends are quiet all day: Saturday 14:00 (T0 is a Monday) */
    d = mk_det(conf, 4096, hot);
    tally tl4 = {.rule = "irsf.long-call"};
    long_call(d, S(5 * 86400 - 2 * 3600), "+447700900123", "+5378123456", S(40 * 60), &tl4);
    assert_int_equal(tl4.trips, 1);
    assert_int_equal(evidence(&tl4.first_trip, "start_hour"), 14);
    assert_int_equal(evidence(&tl4.first_trip, "start_weekday"), 6);
    assert_non_null(strstr(tl4.first_trip.reason, "answered sat 14 h"));
    sw_detectors_free(d);

    /* quiet hours are local: UTC+08:00 makes 16:00 UTC midnight */
    conf[SW_DET_IRSF].params[SW_DP_IRSF_UTC_OFFSET] = 8 * 60;
    d = mk_det(conf, 4096, hot);
    tally tl2 = {.rule = "irsf.long-call"};
    long_call(d, 0, "+447700900123", "+5378123456", S(40 * 60), &tl2);
    assert_int_equal(tl2.trips, 1);
    assert_int_equal(evidence(&tl2.first_trip, "start_hour"), 0);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

/* Guards: a 20 min call at night, a 40 min call in the day, a night call
 * from a trunk that makes such calls to that range in the day, and 23:00
 * UTC that is 09:00 local (UTC+10:00). */
static void test_irsf_long_call_guards(void **state)
{
    (void)state;
    sw_prefix_set *hot = hot_list();
    static sw_detector_conf conf[SW_DET__COUNT];
    default_conf(conf);
    sw_detectors *d = mk_det(conf, 4096, hot);
    long_call(d, S(7 * 3600), "+447700900123", "+5378123456", S(20 * 60), NULL);
    long_call(d, 0, "+447700900124", "+252611234567", S(40 * 60), NULL);
    assert_int_equal(hits_total(d), 0);
    /* history: the day call above to +252611234XXX, then one at night */
    long_call(d, S(8 * 3600), "+447700900125", "+252611234999", S(40 * 60), NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
    conf[SW_DET_IRSF].params[SW_DP_IRSF_UTC_OFFSET] = 10 * 60;
    d = mk_det(conf, 4096, hot);
    long_call(d, S(7 * 3600), "+447700900123", "+5378123456", S(40 * 60), NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
    /* a partner whose night calls are agreed (`night-calls yes`) */
    conf[SW_DET_IRSF].params[SW_DP_IRSF_UTC_OFFSET] = 0;
    d = mk_det(conf, 4096, hot);
    sw_peer night = {.name = "night-carrier", .index = 5, .role = SW_ROLE_TRANSIT, .night_calls = 1};
    call(d, T0 + S(7 * 3600), &night, CARRIER, "+447700900123", "+5378123456", S(40 * 60),
         END_ANSWER_BYE, NULL, NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);

    /* no quiet days: Saturday 14:00 is a working day */
    conf[SW_DET_IRSF].params[SW_DP_IRSF_UTC_OFFSET] = 0;
    conf[SW_DET_IRSF].params[SW_DP_IRSF_QUIET_DAYS] = 0;
    d = mk_det(conf, 4096, hot);
    long_call(d, S(5 * 86400 - 2 * 3600), "+447700900123", "+5378123456", S(40 * 60), NULL);
    assert_int_equal(hits_total(d), 0);
    sw_detectors_free(d);
    sw_prefix_set_free(hot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_campaign_two_carriers),
        cmocka_unit_test(test_campaign_default_range),
        cmocka_unit_test(test_campaign_guard_legit_callers),
        cmocka_unit_test(test_campaign_guard_call_centre_pool),
        cmocka_unit_test(test_called_range),
        cmocka_unit_test(test_campaign_carriers_bounded),
        cmocka_unit_test(test_campaign_carrier_renumbered),
        cmocka_unit_test(test_irsf_trunk_spread),
        cmocka_unit_test(test_irsf_trunk_walk),
        cmocka_unit_test(test_irsf_trunk_guards),
        cmocka_unit_test(test_irsf_rate),
        cmocka_unit_test(test_irsf_rate_guards),
        cmocka_unit_test(test_irsf_rate_live),
        cmocka_unit_test(test_irsf_contract_concurrency),
        cmocka_unit_test(test_irsf_contract_guards),
        cmocka_unit_test(test_irsf_contract_rate),
        cmocka_unit_test(test_irsf_test_then_burst),
        cmocka_unit_test(test_irsf_test_then_burst_guards),
        cmocka_unit_test(test_irsf_long_call_night),
        cmocka_unit_test(test_irsf_long_call_guards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
