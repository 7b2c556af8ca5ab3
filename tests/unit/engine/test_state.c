/* The state store (include/sipwall/engine.h "the state store") and its
 * in-process backend: blocks set, hit, ended once, doubled on repeat;
 * the ceiling and eviction of the soonest to expire; per-kind counts;
 * windowed counters; resize (migrated / dropped); 4 threads at once; and
 * two engines on one store, where a block set by one drops the offender's
 * messages in the other. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/engine.h"
#include "sipwall/policy.h"

#define S(n) ((int64_t)(n) * SW_NS_S)
#define T0 (INT64_C(1790000000) * SW_NS_S)

static sw_state_block req(uint8_t kind, const char *id, int64_t now)
{
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    snprintf(b.id, sizeof b.id, "%s", id);
    snprintf(b.rule, sizeof b.rule, "test.rule");
    b.type = SW_EVT_SIP_SCAN;
    b.category = SW_CAT_CAT1;
    b.since = now;
    return b;
}

static int64_t set(sw_state_store *s, uint8_t kind, const char *id, int64_t now, int64_t dur, char *evicted_id)
{
    sw_state_block b = req(kind, id, now), ev;
    int nev;
    int64_t until = sw_state_block_set(s, &b, dur, &ev, &nev);
    if (evicted_id) {
        evicted_id[0] = '\0';
        if (nev)
            snprintf(evicted_id, SW_STATE_ID_MAX, "%s", ev.id);
    }
    return until;
}

static int hit(sw_state_store *s, uint8_t kind, const char *id, int64_t now, sw_state_block *out, int *ended)
{
    sw_state_where at;
    memset(&at, 0, sizeof at);
    return sw_state_block_hit(s, kind, id, now, &at, out, ended);
}

static void test_block_hit_end_and_doubling(void **state)
{
    (void)state;
    sw_state_store *s = sw_state_mem_new(16);
    assert_non_null(s);
    const _Atomic uint32_t *kinds = sw_state_kinds(s);
    assert_int_equal(kinds[SW_OFFENDER_USER], 0);
    assert_int_equal(set(s, SW_OFFENDER_USER, "alice", T0, S(60), NULL), T0 + S(60));
    assert_int_equal(kinds[SW_OFFENDER_USER], 1);
    assert_int_equal(kinds[SW_OFFENDER_SOURCE], 0);
    sw_state_block b;
    int ended;
    /* in force: each message counted */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hit(s, SW_OFFENDER_USER, "alice", T0 + S(1 + i), &b, &ended), 1);
        assert_int_equal(ended, 0);
    }
    assert_int_equal(b.suppressed, 3);
    assert_string_equal(b.rule, "test.rule");
    /* another kind with the same text is another offender */
    assert_int_equal(hit(s, SW_OFFENDER_CALLER, "alice", T0 + S(5), &b, &ended), 0);
    /* the end is reported once, with what the block dropped */
    assert_int_equal(hit(s, SW_OFFENDER_USER, "alice", T0 + S(60), &b, &ended), 0);
    assert_int_equal(ended, 1);
    assert_int_equal(b.suppressed, 3);
    assert_int_equal(hit(s, SW_OFFENDER_USER, "alice", T0 + S(61), &b, &ended), 0);
    assert_int_equal(ended, 0);
    sw_state_stats st;
    sw_state_stats_get(s, &st);
    assert_int_equal(st.entries, 1); /* kept for the doubling */
    assert_int_equal(st.active, 0);
    /* a repeat offence within a day doubles: 60 s -> 120 s -> 240 s */
    assert_int_equal(set(s, SW_OFFENDER_USER, "alice", T0 + S(100), S(60), NULL), T0 + S(100) + S(120));
    assert_int_equal(set(s, SW_OFFENDER_USER, "alice", T0 + S(300), S(60), NULL), T0 + S(300) + S(240));
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_USER, "alice", &b), SW_OK);
    assert_int_equal(b.offences, 3);
    /* never beyond 24 h */
    assert_int_equal(set(s, SW_OFFENDER_USER, "bob", T0, S(48 * 3600), NULL), T0 + SW_STATE_BLOCK_CAP_NS);
    /* removal */
    assert_int_equal(sw_state_block_remove(s, SW_OFFENDER_USER, "alice"), SW_OK);
    assert_int_equal(sw_state_block_remove(s, SW_OFFENDER_USER, "alice"), SW_ENOTFOUND);
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_USER, "alice", &b), SW_ENOTFOUND);
    assert_int_equal(kinds[SW_OFFENDER_USER], 1);
    assert_int_equal(kinds[SW_STATE_KIND_ALL], 1);
    /* nothing set for an empty id or a zero duration */
    assert_int_equal(set(s, SW_OFFENDER_USER, "", T0, S(60), NULL), 0);
    assert_int_equal(set(s, SW_OFFENDER_USER, "carol", T0, 0, NULL), 0);
    sw_state_stats_get(s, &st);
    assert_int_equal(st.entries, 1);
    sw_state_free(s);
}

static void test_ceiling_evicts_soonest_to_expire(void **state)
{
    (void)state;
    sw_state_store *s = sw_state_mem_new(4);
    assert_non_null(s);
    char ev[SW_STATE_ID_MAX];
    /* ends at +40, +10, +30, +20 */
    set(s, SW_OFFENDER_CALLER, "+4930001", T0, S(40), ev);
    set(s, SW_OFFENDER_CALLER, "+4930002", T0, S(10), ev);
    set(s, SW_OFFENDER_CALLEE, "+4930003", T0, S(30), ev);
    set(s, SW_OFFENDER_CALLER, "+4930004", T0, S(20), ev);
    assert_string_equal(ev, "");
    /* full: the one that expires soonest goes */
    set(s, SW_OFFENDER_CALLER, "+4930005", T0, S(50), ev);
    assert_string_equal(ev, "+4930002");
    set(s, SW_OFFENDER_CALLER, "+4930006", T0, S(50), ev);
    assert_string_equal(ev, "+4930004");
    /* renewing an entry moves its end: +4930003 (ends +30) is renewed to
     * +1000, so +4930001 (ends +40) is next */
    set(s, SW_OFFENDER_CALLEE, "+4930003", T0, S(1000), ev);
    assert_string_equal(ev, "");
    set(s, SW_OFFENDER_CALLER, "+4930007", T0, S(50), ev);
    assert_string_equal(ev, "+4930001");
    sw_state_stats st;
    sw_state_stats_get(s, &st);
    assert_int_equal(st.capacity, 4);
    assert_int_equal(st.entries, 4);
    assert_int_equal(st.evictions, 3);
    const _Atomic uint32_t *kinds = sw_state_kinds(s);
    assert_int_equal(kinds[SW_OFFENDER_CALLER], 3);
    assert_int_equal(kinds[SW_OFFENDER_CALLEE], 1);
    /* an ended block is the first to make room */
    sw_state_block b;
    int ended;
    assert_int_equal(hit(s, SW_OFFENDER_CALLER, "+4930005", T0 + S(60), &b, &ended), 0);
    set(s, SW_OFFENDER_CALLER, "+4930008", T0 + S(60), S(5), ev);
    assert_true(strcmp(ev, "+4930005") == 0 || strcmp(ev, "+4930006") == 0 || strcmp(ev, "+4930007") == 0);
    /* a million attacker-made keys: the ceiling holds */
    char id[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "+%d", 100000000 + i);
        set(s, SW_OFFENDER_CALLER, id, T0 + S(100) + i, S(60), NULL);
    }
    sw_state_stats_get(s, &st);
    assert_int_equal(st.entries, 4);
    assert_int_equal(kinds[SW_OFFENDER_CALLER] + kinds[SW_OFFENDER_CALLEE], 4);
    assert_int_equal(kinds[SW_STATE_KIND_ALL], 4);
    /* 255 is the total's slot, never a kind */
    assert_int_equal(set(s, SW_STATE_KIND_ALL, "x", T0, S(60), NULL), 0);
    assert_null(sw_state_mem_new(0));
    assert_null(sw_state_mem_new((1u << 26) + 1));
    sw_state_free(s);
}

static void test_window_counter(void **state)
{
    (void)state;
    sw_state_store *s = sw_state_mem_new(8);
    assert_non_null(s);
    sw_state_window rolled, cur;
    int taken = 0;
    for (int i = 0; i < 10; i++)
        taken += sw_state_window_hit(s, 77, T0 + i, S(60), 1, 4, &cur, &rolled) & 1;
    assert_int_equal(taken, 4);
    assert_int_equal(cur.start, T0);
    assert_int_equal(cur.count, 4);
    assert_int_equal(cur.held, 6);
    /* a roll-only call counts nothing */
    assert_int_equal(sw_state_window_hit(s, 77, T0 + S(1), S(60), 0, 4, &cur, &rolled), 0);
    /* another key has its own budget */
    assert_int_equal(sw_state_window_hit(s, 78, T0, S(60), 1, 4, &cur, &rolled), 1);
    /* the window ends: the call that rolls it gets what it held back */
    int r = sw_state_window_hit(s, 77, T0 + S(60), S(60), 1, 4, &cur, &rolled);
    assert_int_equal(r, 3);
    assert_int_equal(rolled.count, 4);
    assert_int_equal(rolled.held, 6);
    for (int i = 0; i < 5; i++)
        (void)sw_state_window_hit(s, 77, T0 + S(61), S(60), 1, 4, &cur, &rolled);
    assert_int_equal(sw_state_window_take_held(s, 77), 2);
    assert_int_equal(sw_state_window_take_held(s, 77), 0);
    assert_int_equal(sw_state_window_take_held(s, 99), 0);
    /* time going back rolls too (never a window in the future) */
    assert_int_equal(sw_state_window_hit(s, 77, T0, S(60), 1, 4, &cur, &rolled) & 2, 2);
    sw_state_free(s);
}

static void test_resize_migrates_and_reports(void **state)
{
    (void)state;
    sw_state_store *s = sw_state_mem_new(8);
    assert_non_null(s);
    char id[16];
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "u%d", i);
        set(s, SW_OFFENDER_USER, id, T0, S(10 + i), NULL); /* u0 ends first */
    }
    uint64_t moved, dropped;
    assert_int_equal(sw_state_resize(s, 0, &moved, &dropped), SW_EINVAL);
    assert_int_equal(sw_state_resize(s, 16, &moved, &dropped), SW_OK);
    assert_int_equal(moved, 8);
    assert_int_equal(dropped, 0);
    assert_int_equal(sw_state_resize(s, 3, &moved, &dropped), SW_OK);
    assert_int_equal(moved, 3);
    assert_int_equal(dropped, 5);
    sw_state_block b;
    /* the three that end last stay, with their offence counts */
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_USER, "u7", &b), SW_OK);
    assert_int_equal(b.offences, 1);
    assert_int_equal(b.until, T0 + S(17));
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_USER, "u5", &b), SW_OK);
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_USER, "u4", &b), SW_ENOTFOUND);
    sw_state_stats st;
    sw_state_stats_get(s, &st);
    assert_int_equal(st.capacity, 3);
    assert_int_equal(st.entries, 3);
    assert_int_equal(st.active, 3);
    assert_int_equal(st.migrated, 11);
    assert_int_equal(st.dropped, 5);
    assert_int_equal(sw_state_kinds(s)[SW_OFFENDER_USER], 3);
    assert_int_equal(sw_state_kinds(s)[SW_STATE_KIND_ALL], 3);
    /* the smaller store still evicts by end */
    char ev[SW_STATE_ID_MAX];
    set(s, SW_OFFENDER_USER, "new", T0, S(100), ev);
    assert_string_equal(ev, "u5");
    int ended;
    assert_int_equal(hit(s, SW_OFFENDER_USER, "u7", T0 + S(1), &b, &ended), 1);
    sw_state_free(s);
}

/* ---- threads ---------------------------------------------------------------------- */
#define THREADS 4
#define ROUNDS 20000

typedef struct thr {
    sw_state_store *s;
    unsigned id;
    uint64_t taken;
} thr;

static void *worker(void *arg)
{
    thr *t = arg;
    char id[24];
    sw_state_block b;
    sw_state_window rolled, cur;
    int ended;
    for (unsigned i = 0; i < ROUNDS; i++) {
        int64_t now = T0 + (int64_t)i * 1000000;
        /* overlapping keys: every thread sets and hits the same 300 */
        snprintf(id, sizeof id, "+49%u", (i * 7 + t->id) % 300);
        uint8_t kind = (uint8_t)(i % 3 == 0 ? SW_OFFENDER_CALLER : SW_OFFENDER_USER);
        if (i % 4 == 0) {
            sw_state_block r = req(kind, id, now), ev;
            int nev;
            (void)sw_state_block_set(t->s, &r, S(1), &ev, &nev);
        } else {
            (void)hit(t->s, kind, id, now, &b, &ended);
        }
        /* one shared budget: every take is counted once over all threads */
        t->taken += (uint64_t)(sw_state_window_hit(t->s, 5, T0, S(3600), 1, UINT64_MAX, &cur, &rolled) & 1);
        if (i % 5000 == 0) {
            sw_state_stats st;
            sw_state_stats_get(t->s, &st);
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    sw_state_store *s = sw_state_mem_new(128); /* fewer than the keys: evictions race with hits */
    assert_non_null(s);
    pthread_t th[THREADS];
    thr t[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        t[i] = (thr){s, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &t[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    uint64_t taken = 0;
    for (unsigned i = 0; i < THREADS; i++)
        taken += t[i].taken;
    assert_int_equal(taken, (uint64_t)THREADS * ROUNDS);
    sw_state_window rolled, cur;
    /* the count the store kept is the sum of what the threads took */
    memset(&rolled, 0, sizeof rolled);
    assert_int_equal(sw_state_window_hit(s, 5, T0 + S(7200), S(3600), 0, 0, &cur, &rolled) & 2, 2);
    assert_int_equal(rolled.count, (uint64_t)THREADS * ROUNDS);
    sw_state_stats st;
    sw_state_stats_get(s, &st);
    assert_true(st.entries <= 128);
    const _Atomic uint32_t *kinds = sw_state_kinds(s);
    assert_int_equal(kinds[SW_OFFENDER_CALLER] + kinds[SW_OFFENDER_USER], st.entries);
    assert_int_equal(kinds[SW_STATE_KIND_ALL], st.entries);
    assert_true(st.active <= st.entries);
    sw_state_free(s);
}

/* ---- two engines, one store ---------------------------------------------------------- */
typedef struct count_sink {
    sw_event_sink base;
    unsigned n, summaries;
} count_sink;

static int cs_emit(sw_event_sink *s, const sw_event *ev)
{
    count_sink *c = (count_sink *)s;
    c->n++;
    for (unsigned i = 0; i < ev->nevidence; i++)
        if (strcmp(ev->evidence[i].key, "suppressed") == 0)
            c->summaries++;
    return SW_OK;
}
static int cs_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops cs_ops = {"count", cs_emit, cs_flush, cs_flush, NULL, NULL};

static const char partners[] = "partner alpha { role interconnect; address 192.0.2.10/32, 192.0.2.11/32; ranges +4930 }\n"
                               "partner core { role core; address 10.0.0.1/32 }\n";

static sw_policy *load_policy(const char *extra)
{
    char path[] = "/tmp/sw_test_state_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, partners, sizeof partners - 1), (ssize_t)(sizeof partners - 1));
    if (extra)
        assert_int_equal(write(fd, extra, strlen(extra)), (ssize_t)strlen(extra));
    close(fd);
    const char *paths[] = {"builtin:default", path};
    static sw_policy_diags d;
    sw_policy *p = NULL;
    int r = sw_policy_load(paths, 2, &p, &d);
    unlink(path);
    assert_int_equal(r, SW_OK);
    return p;
}

static sw_verdict screen(sw_engine *e, const char *src, const char *a, const char *b, unsigned n, int64_t ts)
{
    static char buf[2048];
    int len = snprintf(buf, sizeof buf,
                       "INVITE tel:%s SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKst%u\r\n"
                       "Max-Forwards: 70\r\n"
                       "From: <sip:%s@alpha.example;user=phone>;tag=a%u\r\n"
                       "To: <tel:%s>\r\n"
                       "Call-ID: st%u@%s\r\nCSeq: 1 INVITE\r\n"
                       "Contact: <sip:%s@%s:5060>\r\nContent-Length: 0\r\n\r\n",
                       b, src, n, a, n, b, n, src, a, src);
    sw_engine_msg m = {.data = buf, .len = (size_t)len, .ts_ns = ts, .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse("10.0.0.1", &m.dst), SW_OK);
    m.src.port = m.dst.port = 5060;
    sw_verdict v;
    assert_int_equal(sw_engine_screen(e, &m, &v), SW_OK);
    return v;
}

static void test_two_engines_one_store(void **state)
{
    (void)state;
    sw_policy *p = load_policy(NULL);
    sw_state_store *s = sw_state_mem_new(1024);
    assert_non_null(s);
    count_sink ka = {.base.ops = &cs_ops}, kb = {.base.ops = &cs_ops};
    sw_engine_config ca = {.policy = p, .sink = &ka.base, .seed = 1, .state = s};
    sw_engine_config cb = {.policy = p, .sink = &kb.base, .seed = 2, .state = s};
    sw_engine *a = sw_engine_new(&ca), *b = sw_engine_new(&cb);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_equal(sw_engine_state(a), s);
    int64_t ts = T0;
    /* before: the caller passes in both */
    assert_int_equal(screen(b, "192.0.2.11", "+4930555000", "+442079460999", 0, ts).action, SW_ACTION_ALLOW);
    /* engine A sees one caller dial through a number range (IRSF
     * sequential: 5 distinct B in one range): the caller is blocked */
    sw_verdict v;
    for (unsigned i = 1; i <= 5; i++) {
        char bnum[32];
        snprintf(bnum, sizeof bnum, "+44207946000%u", i);
        v = screen(a, "192.0.2.10", "+4930555000", bnum, i, ts += S(1));
    }
    assert_int_not_equal(v.action, SW_ACTION_ALLOW);
    sw_state_block blk;
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_CALLER, "+4930555000", &blk), SW_OK);
    assert_int_equal(blk.active, 1);
    /* engine B, which never saw those calls, drops the caller's next call
     * from another source */
    v = screen(b, "192.0.2.11", "+4930555000", "+4930123456", 10, ts += S(1));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_true(v.blocked);
    assert_non_null(v.rule);
    assert_string_equal(v.rule, "irsf.sequential");
    /* another caller through B is not affected */
    v = screen(b, "192.0.2.11", "+4930555111", "+4930123456", 11, ts += S(1));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    sw_engine_stats sa, sb;
    sw_engine_get_stats(a, &sa);
    sw_engine_get_stats(b, &sb);
    assert_int_equal(sb.blocked, 1);
    assert_int_equal(sa.active_blocks, 1);
    assert_int_equal(sb.active_blocks, 1); /* one block, seen from both */
    /* the block's summary (1 message dropped by B) comes out once, from
     * whichever engine flushes first */
    assert_int_equal(sw_engine_flush(b, ts), SW_OK);
    assert_int_equal(sw_engine_flush(a, ts), SW_OK);
    assert_int_equal(ka.summaries + kb.summaries, 1);
    sw_engine_free(a);
    sw_engine_free(b);
    sw_state_free(s);
    sw_policy_free(p);
}

/* The per-rule event budget holds over all engines sharing a store: with
 * events-per-key 1 it is 100 events per window for a rule, however many
 * engines see the hits; what was held back comes out as summaries. */
typedef struct rule_sink {
    sw_event_sink base;
    unsigned events;               /* of the rule, not summaries */
    int64_t held;                  /* "suppressed" over its summaries */
} rule_sink;

static int rs_emit(sw_event_sink *s, const sw_event *ev)
{
    rule_sink *r = (rule_sink *)s;
    if (strcmp(ev->rule, "cat1.scanner-signature") != 0)
        return SW_OK;
    for (unsigned i = 0; i < ev->nevidence; i++)
        if (strcmp(ev->evidence[i].key, "suppressed") == 0) {
            r->held += ev->evidence[i].num;
            return SW_OK;
        }
    r->events++;
    return SW_OK;
}
static const sw_event_sink_ops rs_ops = {"rule", rs_emit, cs_flush, cs_flush, NULL, NULL};

static void scan_from(sw_engine *e, unsigned i, int64_t ts)
{
    static char buf[1024];
    char src[32];
    snprintf(src, sizeof src, "198.18.%u.%u", (i >> 8) & 255, i & 255);
    int len = snprintf(buf, sizeof buf,
                       "OPTIONS sip:100@10.0.0.1 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-g%u\r\n"
                       "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=%u\r\nTo: <sip:100@1.1.1.1>\r\n"
                       "Call-ID: g%u\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                       "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n",
                       src, i, i, i);
    sw_engine_msg m = {.data = buf, .len = (size_t)len, .ts_ns = ts, .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse("10.0.0.1", &m.dst), SW_OK);
    sw_verdict v;
    assert_int_equal(sw_engine_screen(e, &m, &v), SW_OK);
}

static void test_global_budget_daemon_wide(void **state)
{
    (void)state;
    sw_policy *p = load_policy("limits { sources 65536; numbers 32768; dialogs 131072; blocks 65536; "
                               "event-keys 65536; events-per-key 1; event-window 60s }\n");
    sw_state_store *s = sw_state_mem_new(65536);
    assert_non_null(s);
    rule_sink ra = {.base.ops = &rs_ops}, rb = {.base.ops = &rs_ops};
    sw_engine_config ca = {.policy = p, .sink = &ra.base, .seed = 1, .state = s};
    sw_engine_config cb = {.policy = p, .sink = &rb.base, .seed = 2, .state = s};
    sw_engine *a = sw_engine_new(&ca), *b = sw_engine_new(&cb);
    assert_non_null(a);
    assert_non_null(b);
    int64_t ts = T0;
    /* 300 scanners, each seen by one engine, alternating */
    for (unsigned i = 0; i < 300; i++)
        scan_from(i % 2 ? b : a, i, ts += 1000000);
    assert_int_equal(ra.events + rb.events, 100); /* not 100 per engine */
    assert_int_equal(sw_engine_flush(a, ts), SW_OK);
    assert_int_equal(sw_engine_flush(b, ts), SW_OK);
    assert_int_equal(ra.held + rb.held, 200);
    /* the next window: the budget is there again, and the summary of the
     * last one is not repeated */
    ts += S(61);
    for (unsigned i = 300; i < 310; i++)
        scan_from(i % 2 ? b : a, i, ts += 1000000);
    assert_int_equal(ra.events + rb.events, 110);
    assert_int_equal(sw_engine_flush(a, ts), SW_OK);
    assert_int_equal(sw_engine_flush(b, ts), SW_OK);
    assert_int_equal(ra.held + rb.held, 200);
    sw_engine_free(a);
    sw_engine_free(b);
    sw_state_free(s);
    /* a capture whose clock starts at 0: the window opened at 0 is a
     * window like any other, its held-back hits are summarised */
    rule_sink rc = {.base.ops = &rs_ops};
    sw_engine_config cc = {.policy = p, .sink = &rc.base, .seed = 3};
    sw_engine *c = sw_engine_new(&cc);
    assert_non_null(c);
    for (unsigned i = 0; i < 150; i++)
        scan_from(c, i, (int64_t)i);
    assert_int_equal(rc.events, 100);
    assert_int_equal(sw_engine_flush(c, 150), SW_OK);
    assert_int_equal(rc.held, 50);
    sw_engine_free(c);
    sw_policy_free(p);
}

/* A reload with other limits keeps blocks, detector windows and statistics,
 * and says what did not fit. */
static void test_reload_other_limits_keeps_state(void **state)
{
    (void)state;
    sw_policy *p1 = load_policy(NULL);
    count_sink k = {.base.ops = &cs_ops};
    sw_engine_config c = {.policy = p1, .sink = &k.base, .seed = 3};
    sw_engine *e = sw_engine_new(&c);
    assert_non_null(e);
    int64_t ts = T0;
    /* a blocked caller, and another caller 4 calls into a sequential run */
    for (unsigned i = 1; i <= 5; i++) {
        char bnum[32];
        snprintf(bnum, sizeof bnum, "+44207946000%u", i);
        (void)screen(e, "192.0.2.10", "+4930555000", bnum, i, ts += S(1));
    }
    for (unsigned i = 1; i <= 4; i++) {
        char bnum[32];
        snprintf(bnum, sizeof bnum, "+33145000%03u", i);
        assert_int_equal(screen(e, "192.0.2.10", "+4930555222", bnum, 100 + i, ts += S(1)).action,
                         SW_ACTION_ALLOW);
    }
    sw_engine_stats before;
    sw_engine_get_stats(e, &before);
    sw_policy *p2 = load_policy("limits { sources 1000; numbers 500; dialogs 2000; blocks 100; "
                                "event-keys 300; events-per-key 10; event-window 60s }\n");
    assert_int_equal(sw_engine_set_policy(e, p2), SW_OK);
    sw_policy_free(p1);
    sw_engine_migration m;
    sw_engine_last_migration(e, &m);
    assert_int_equal(m.resized, 1);
    assert_int_equal(m.windows_reshaped, 0);
    assert_true(m.migrated > 0);
    assert_int_equal(m.dropped, 0);
    assert_int_equal(m.blocks_migrated, 1);
    sw_engine_stats after;
    sw_engine_get_stats(e, &after);
    assert_int_equal(after.messages, before.messages); /* never backwards */
    assert_int_equal(after.state_migrated, m.migrated);
    assert_int_equal(after.active_blocks, 1);
    /* the block holds */
    sw_verdict v = screen(e, "192.0.2.10", "+4930555000", "+4930123456", 200, ts += S(1));
    assert_true(v.blocked);
    /* the window goes on: the 5th distinct B trips */
    v = screen(e, "192.0.2.10", "+4930555222", "+33145000005", 201, ts += S(1));
    assert_int_not_equal(v.action, SW_ACTION_ALLOW);
    /* smaller than what is held: the rest is counted as dropped */
    sw_policy *p3 = load_policy("limits { sources 2; numbers 2; dialogs 2; blocks 1; "
                                "event-keys 1; events-per-key 10; event-window 60s }\n");
    assert_int_equal(sw_engine_set_policy(e, p3), SW_OK);
    sw_policy_free(p2);
    sw_engine_last_migration(e, &m);
    assert_true(m.dropped > 0);
    assert_int_equal(m.blocks_migrated, 1);
    assert_int_equal(m.blocks_dropped, 1);
    sw_engine_get_stats(e, &after);
    assert_int_equal(after.state_dropped, m.dropped);
    assert_true(after.messages >= before.messages + 2);
    /* same limits, a window of another length (another ring width): the
     * detector windows cannot be carried over and are counted as dropped;
     * the block and the statistics stay */
    sw_policy *p4 = load_policy("limits { sources 2; numbers 2; dialogs 2; blocks 1; "
                                "event-keys 1; events-per-key 10; event-window 60s }\n"
                                "detector irsf { list highrisk; window 30m; action reject 403 }\n");
    uint64_t dropped_before = after.state_dropped;
    assert_int_equal(sw_engine_set_policy(e, p4), SW_OK);
    sw_policy_free(p3);
    sw_engine_last_migration(e, &m);
    assert_int_equal(m.resized, 0);
    assert_int_equal(m.windows_reshaped, 1);
    assert_int_equal(m.detect_migrated, 0);
    assert_true(m.detect_dropped > 0);
    sw_engine_get_stats(e, &after);
    assert_int_equal(after.state_dropped, dropped_before + m.dropped);
    assert_int_equal(after.active_blocks, 1);
    sw_engine_free(e);
    sw_policy_free(p4);
}

/* block_put (a replica's copy of another node's decision): the entry as
 * given, no renewal; counts follow; an inactive put is kept for the
 * doubling; a full store evicts as block_set. */
static void test_block_put_installs_as_given(void **state)
{
    (void)state;
    sw_state_store *s = sw_state_mem_new(2);
    assert_non_null(s);
    sw_state_block b = req(SW_OFFENDER_SOURCE, "10.0.0.1", T0), got, ev;
    b.until = T0 + S(600);
    b.offences = 3;
    b.active = 1;
    int nev, ended;
    assert_int_equal(sw_state_block_put(s, &b, &ev, &nev), SW_OK);
    assert_int_equal(nev, 0);
    assert_int_equal(sw_state_block_get(s, SW_OFFENDER_SOURCE, "10.0.0.1", &got), SW_OK);
    assert_int_equal(got.offences, 3);
    assert_true(got.until == T0 + S(600));
    assert_int_equal(sw_state_kinds(s)[SW_OFFENDER_SOURCE], 1);
    assert_int_equal(hit(s, SW_OFFENDER_SOURCE, "10.0.0.1", T0 + S(599), &got, &ended), 1);
    /* a put over an entry replaces it (here: ended early) */
    b.until = T0 + S(10);
    b.active = 0;
    assert_int_equal(sw_state_block_put(s, &b, &ev, &nev), SW_OK);
    assert_int_equal(hit(s, SW_OFFENDER_SOURCE, "10.0.0.1", T0 + S(11), &got, &ended), 0);
    sw_state_stats st;
    sw_state_stats_get(s, &st);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.active, 0);
    /* the doubling sees the offences that were put: 3 earlier -> x8 */
    assert_true(set(s, SW_OFFENDER_SOURCE, "10.0.0.1", T0 + S(20), S(60), NULL) == T0 + S(20) + 8 * S(60));
    /* full: the soonest to expire goes */
    b = req(SW_OFFENDER_SOURCE, "10.0.0.2", T0);
    b.until = T0 + S(5);
    b.active = 1;
    assert_int_equal(sw_state_block_put(s, &b, &ev, &nev), SW_OK);
    b = req(SW_OFFENDER_SOURCE, "10.0.0.3", T0);
    b.until = T0 + S(50);
    b.active = 1;
    assert_int_equal(sw_state_block_put(s, &b, &ev, &nev), SW_OK);
    assert_int_equal(nev, 1);
    assert_string_equal(ev.id, "10.0.0.2");
    /* refused: until <= since */
    b.until = b.since;
    assert_int_equal(sw_state_block_put(s, &b, &ev, &nev), SW_EUSAGE);
    sw_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_hit_end_and_doubling),
        cmocka_unit_test(test_block_put_installs_as_given),
        cmocka_unit_test(test_ceiling_evicts_soonest_to_expire),
        cmocka_unit_test(test_window_counter),
        cmocka_unit_test(test_resize_migrates_and_reports),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_two_engines_one_store),
        cmocka_unit_test(test_global_budget_daemon_wide),
        cmocka_unit_test(test_reload_other_limits_keeps_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
