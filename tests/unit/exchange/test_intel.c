/* Consuming partners' intelligence (src/exchange/intel.c): FSE v1 objects
 * decode strictly; a trusted producer's block advice becomes a block in the
 * shared store (origin feed, rule naming producer and indicator) that the
 * engine enforces on the source's next message; a newer revoked version,
 * an operator revocation or the end of valid_until lifts it at once; an
 * older version replayed changes nothing; trust weights the score;
 * allowlists and emergency numbers always win; the table has a ceiling;
 * trust files give line-numbered errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "sipwall/detect.h"
#include "sipwall/engine.h"
#include "sipwall/event.h"
#include "sipwall/exchange.h"
#include "sipwall/intel.h"
#include "sipwall/policy.h"

#define S (INT64_C(1000000000))
static const int64_t T0 = INT64_C(1796623200) * S; /* 2026-12-07T06:00:00Z */
static int64_t now_ns;

#define ID1 "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ID2 "7c9e6679-7425-40de-944b-e07fc1f90ae7"

/* ---- events the engine emits ---- */
#define MAX_EV 32
typedef struct mem_sink {
    sw_event_sink base;
    char rule[MAX_EV][64];
    size_t n;
} mem_sink;
static int mem_emit(sw_event_sink *s, const sw_event *ev)
{
    mem_sink *m = (mem_sink *)s;
    if (m->n < MAX_EV)
        snprintf(m->rule[m->n++], 64, "%s", ev->rule);
    return SW_OK;
}
static int mem_nop(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops mem_ops = {.name = "mem", .emit = mem_emit, .flush = mem_nop, .close = mem_nop};
static mem_sink sink;

static const char policy_text[] =
    "home { country-code 44; national-prefix 0 }\n"
    "partner core { role core; address 10.0.0.1 }\n"
    "list own-ranges addresses { 198.51.100.0/24 }\n"
    "list own-numbers numbers { +4420 }\n"
    "rule allow.own { category cat0\n"
    "    when src in list own-ranges and method == OPTIONS\n"
    "    action allow }\n"
    "rule allow.own-numbers { category cat0\n"
    "    when request and a in list own-numbers and method == OPTIONS\n"
    "    action allow }\n";

typedef struct fixture {
    sw_policy *pol;
    sw_state_store *store;
    sw_engine *eng;
    sw_intel *in;
} fixture;

static int engine_allow(void *ctx, uint8_t kind, const char *key, char *why, size_t whylen)
{
    return sw_engine_allowlisted(ctx, kind, key, why, whylen);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    now_ns = T0;
    sw_policy_diags d;
    assert_int_equal(sw_policy_load_text("t.policy", policy_text, strlen(policy_text), NULL, &f->pol, &d), SW_OK);
    f->store = sw_state_mem_new(1024);
    assert_non_null(f->store);
    sw_engine_config ec = {.policy = f->pol, .sink = &sink.base, .seed = 3, .state = f->store};
    f->eng = sw_engine_new(&ec);
    assert_non_null(f->eng);
    sw_intel_config ic = {.max_indicators = 8, .state = f->store, .allowlisted = engine_allow,
                          .allow_ctx = f->eng};
    f->in = sw_intel_new(&ic);
    assert_non_null(f->in);
    assert_int_equal(sw_intel_trust_set(f->in, "ZZ01", 90), SW_OK);
    assert_int_equal(sw_intel_trust_set(f->in, "ZZ02", 100), SW_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sw_intel_free(f->in);
    sw_engine_free(f->eng);
    sw_state_free(f->store);
    sw_policy_free(f->pol);
    free(f);
    return 0;
}

static void ts(int64_t ns, char *buf)
{
    assert_true(sw_event_format_ts(ns, buf, SW_EVENT_TS_LEN) >= 0);
}

/* An FSE v1 object as a partner sends it. */
static const char *fse(const char *producer, const char *id, int64_t modified, const char *event_type,
                       const char *kind, const char *value, int conf, const char *action, int64_t valid_until,
                       int revoked)
{
    static char buf[2048];
    char m[SW_EVENT_TS_LEN], v[SW_EVENT_TS_LEN];
    ts(modified, m);
    ts(valid_until, v);
    snprintf(buf, sizeof buf,
             "{\"spec\":\"fse/1\",\"id\":\"%s\",\"modified\":\"%s\","
             "\"producer\":{\"org\":\"%s\",\"node\":\"6f1c0c1e-8a8e-4d55-9c53-9d1c2c3b4a5f\",\"kid\":\"%s:1\"},"
             "\"event_type\":\"%s\",\"indicator\":{\"kind\":\"%s\",\"value\":\"%s\"},"
             "\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"count\":12,\"confidence\":%d,"
             "\"severity\":\"high\",\"action\":\"%s\",\"valid_until\":\"%s\",%s\"tlp\":\"GREEN\"}",
             id, m, producer, producer, event_type, kind, value, m, m, conf, action, v,
             revoked ? "\"revoked\":true," : "");
    return buf;
}

static sw_intel_state take(fixture *f, const char *json)
{
    sw_intel_ind ind;
    char err[128];
    int rc = sw_intel_decode(json, strlen(json), &ind, err, sizeof err);
    if (rc != SW_OK)
        print_message("decode: %s\n", err);
    assert_int_equal(rc, SW_OK);
    sw_intel_state st;
    assert_int_equal(sw_intel_apply(f->in, &ind, now_ns, &st), SW_OK);
    return st;
}

static sw_verdict screen(fixture *f, const char *src_ip, const char *from, const char *to)
{
    static char t[1024];
    snprintf(t, sizeof t,
             "INVITE sip:%s@10.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%lld\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:%s@example.net>;tag=1\r\n"
             "To: <sip:%s@10.0.0.1>\r\n"
             "Call-ID: c%lld@test\r\n"
             "CSeq: 1 INVITE\r\n"
             "Content-Length: 0\r\n\r\n",
             to, src_ip, (long long)now_ns, from, to, (long long)now_ns);
    char src[64];
    snprintf(src, sizeof src, "%s:5060", src_ip);
    sw_engine_msg m = {.data = t, .len = strlen(t), .ts_ns = now_ns, .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse("10.0.0.1:5060", &m.dst), SW_OK);
    now_ns += 1000000;
    sw_verdict v;
    assert_int_equal(sw_engine_screen(f->eng, &m, &v), SW_OK);
    return v;
}

static int block_of(fixture *f, uint8_t kind, const char *key, sw_state_block *b)
{
    char id[SW_STATE_ID_MAX];
    assert_int_equal(sw_state_block_key(kind, key, id), SW_OK);
    return sw_state_block_get(f->store, kind, id, b) == SW_OK && b->active && b->until > now_ns;
}

static void test_decode_strict(void **state)
{
    (void)state;
    sw_intel_ind ind;
    char err[128];
    const char *ok = fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block", T0 + 3600 * S, 0);
    assert_int_equal(sw_intel_decode(ok, strlen(ok), &ind, err, sizeof err), SW_OK);
    assert_string_equal(ind.id, ID1);
    assert_string_equal(ind.producer, "ZZ01");
    assert_string_equal(ind.kid, "ZZ01:1");
    assert_string_equal(ind.value, "192.0.2.7");
    assert_int_equal(ind.type, SW_EVT_SIP_SCAN);
    assert_int_equal(ind.modified, T0);
    assert_int_equal(ind.valid_until, T0 + 3600 * S);
    assert_int_equal(ind.confidence, 90);
    assert_false(ind.revoked);
    struct {
        const char *json, *why;
    } bad[] = {
        {"{\"spec\":\"fse/1\",\"spec\":\"fse/1\"}", "duplicate"},
        {"[1]", "not an object"},
        {"{\"spec\":\"fse/2\"}", "spec"},
        {"{\"spec\":\"fse/1\",\"id\":\"0F8FAD5B-D9CB-469F-A165-70867728950E\"}", "id"},
        {"not json", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sw_intel_decode(bad[i].json, strlen(bad[i].json), &ind, err, sizeof err), SW_EINVAL);
        assert_non_null(strstr(err, bad[i].why));
    }
    /* field by field on a valid object */
    const char *edits[][2] = {
        {"\"confidence\":90", "\"confidence\":101"},  {"\"confidence\":90", "\"confidence\":\"90\""},
        {"\"kind\":\"ipv4\"", "\"kind\":\"imsi\""},   {"\"action\":\"block\"", "\"action\":\"nuke\""},
        {"\"org\":\"ZZ01\"", "\"org\":\"ZZ 01\""},    {"\"value\":\"192.0.2.7\"", "\"value\":\"a b\""},
        {"\"tlp\":\"GREEN\"", "\"revoked\":1"},       {"\"valid_until\":\"2026", "\"valid_until\":\"x2026"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char buf[2048];
        const char *at = strstr(ok, edits[i][0]);
        assert_non_null(at);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - ok), ok, edits[i][1], at + strlen(edits[i][0]));
        assert_int_equal(sw_intel_decode(buf, strlen(buf), &ind, err, sizeof err), SW_EINVAL);
    }
    char *big = malloc(SW_INTEL_JSON_MAX + 2);
    memset(big, ' ', SW_INTEL_JSON_MAX + 1);
    assert_int_equal(sw_intel_decode(big, SW_INTEL_JSON_MAX + 1, &ind, err, sizeof err), SW_ELIMIT);
    free(big);
}

static void test_enforced_with_provenance(void **state)
{
    fixture *f = *state;
    /* before: the source passes */
    sw_verdict v = screen(f, "192.0.2.7", "100", "+447700900123");
    assert_false(v.blocked);
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    sw_state_block b;
    assert_true(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_int_equal(b.origin, SW_BLOCK_ORIGIN_FEED);
    assert_string_equal(b.rule, "intel.ZZ01." ID1);
    assert_non_null(strstr(b.reason, "producer ZZ01 indicator " ID1 " version 2026-12-07T06:00:00"));
    assert_non_null(strstr(b.reason, "score 81"));
    assert_int_equal(b.until, T0 + 3600 * S);
    /* the source's next request is refused, and the verdict names the indicator */
    v = screen(f, "192.0.2.7", "100", "+447700900123");
    assert_true(v.blocked);
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_string_equal(v.rule, "intel.ZZ01." ID1);
    /* the block's summary event too */
    assert_int_equal(sw_engine_flush(f->eng, now_ns), SW_OK);
    int named = 0;
    for (size_t i = 0; i < sink.n; i++)
        named += strcmp(sink.rule[i], "intel.ZZ01." ID1) == 0;
    assert_int_equal(named, 1);
    sw_intel_entry e;
    assert_int_equal(sw_intel_get(f->in, ID1, &e), SW_OK);
    assert_int_equal(e.state, SW_INTEL_ENFORCED);
    assert_int_equal(e.score, 81);
    assert_int_equal(e.trust, 90);
    sw_intel_stats st;
    sw_intel_stats_get(f->in, &st);
    assert_int_equal(st.enforced, 1);
    assert_int_equal(st.held, 1);
}

static void test_revocation_lifts_and_replay_changes_nothing(void **state)
{
    fixture *f = *state;
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    /* the same version again: idempotent */
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_STALE);
    now_ns += 60 * S;
    assert_int_equal(take(f, fse("ZZ01", ID1, T0 + 60 * S, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 1)),
                     SW_INTEL_WITHDRAWN);
    sw_state_block b;
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_false(screen(f, "192.0.2.7", "100", "+447700900123").blocked);
    /* the older, unrevoked version replayed: nothing changes */
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_STALE);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_false(screen(f, "192.0.2.7", "100", "+447700900123").blocked);
    sw_intel_stats st;
    sw_intel_stats_get(f->in, &st);
    assert_int_equal(st.stale, 2);
    assert_int_equal(st.enforced, 0);
}

static void test_operator_revoke_and_expiry(void **state)
{
    fixture *f = *state;
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    assert_int_equal(take(f, fse("ZZ01", ID2, T0, "wangiri_cli", "e164", "+88213000111", 95, "block",
                                 T0 + 600 * S, 0)),
                     SW_INTEL_ENFORCED);
    sw_state_block b;
    assert_true(block_of(f, SW_OFFENDER_CALLER, "+88213000111", &b));
    assert_true(screen(f, "203.0.113.9", "+88213000111", "+447700900123").blocked);
    /* the one rendering of an entry (sipwall intel, ctl intel, /v1/intel) */
    sw_intel_entry e;
    assert_int_equal(sw_intel_get(f->in, ID1, &e), SW_OK);
    json_t *j = sw_intel_entry_json(&e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "enforced");
    assert_string_equal(json_string_value(json_object_get(j, "producer")), "ZZ01");
    assert_string_equal(json_string_value(json_object_get(j, "value")), "192.0.2.7");
    assert_string_equal(json_string_value(json_object_get(j, "event_type")), "sip_scan");
    assert_int_equal(json_integer_value(json_object_get(j, "score")), e.score);
    assert_null(json_object_get(j, "withdrawn"));
    json_decref(j);
    assert_int_equal(sw_intel_revoke(f->in, ID1, now_ns), SW_OK);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_int_equal(sw_intel_get(f->in, ID1, &e), SW_OK);
    j = sw_intel_entry_json(&e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "withdrawn");
    assert_non_null(json_string_value(json_object_get(j, "withdrawn")));
    json_decref(j);
    assert_int_equal(sw_intel_revoke(f->in, "00000000-0000-4000-8000-000000000000", now_ns), SW_ENOTFOUND);
    /* the Wangiri number's validity ends: the tick lifts it */
    now_ns = T0 + 601 * S;
    assert_int_equal(sw_intel_tick(f->in, now_ns), 1);
    assert_false(block_of(f, SW_OFFENDER_CALLER, "+88213000111", &b));
    assert_false(screen(f, "203.0.113.9", "+88213000111", "+447700900123").blocked);
    /* an indicator already past valid_until never blocks */
    assert_int_equal(take(f, fse("ZZ02", ID2, T0, "sip_scan", "ipv4", "192.0.2.8", 95, "block", T0 + 60 * S, 0)),
                     SW_INTEL_WITHDRAWN);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.8", &b));
}

static void test_trust_weighted_merge(void **state)
{
    fixture *f = *state;
    assert_int_equal(sw_intel_trust_set(f->in, "LOW", 50), SW_OK);
    /* 90 * 50 / 100 = 45: an alert, not a block */
    assert_int_equal(take(f, fse("LOW", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ALERT);
    sw_state_block b;
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    /* a producer without trust contributes nothing */
    assert_int_equal(take(f, fse("NOBODY", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 100, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_UNTRUSTED);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    /* a trusted producer's advice on the same value enforces; its rule names it */
    assert_int_equal(take(f, fse("ZZ02", ID2, T0, "sip_scan", "ipv4", "192.0.2.7", 80, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    assert_true(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_string_equal(b.rule, "intel.ZZ02." ID2);
    /* ZZ01 also lists it; ZZ02 withdraws: ZZ01's contribution keeps it */
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    assert_int_equal(take(f, fse("ZZ02", ID2, T0 + S, "sip_scan", "ipv4", "192.0.2.7", 80, "block",
                                 T0 + 3600 * S, 1)),
                     SW_INTEL_WITHDRAWN);
    assert_true(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_string_equal(b.rule, "intel.ZZ01." ID1);
    /* the operator lowers ZZ01's trust: the next tick lifts it */
    assert_int_equal(sw_intel_trust_set(f->in, "ZZ01", 40), SW_OK);
    sw_intel_tick(f->in, now_ns);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    /* high score but the producer only advises monitoring: not enforced */
    assert_int_equal(take(f, fse("ZZ02", "11111111-2222-4333-8444-555555555555", T0, "sip_scan", "ipv4",
                                 "192.0.2.99", 100, "monitor", T0 + 3600 * S, 0)),
                     SW_INTEL_ALERT);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.99", &b));
}

static void test_allowlists_win(void **state)
{
    fixture *f = *state;
    /* the policy's own range */
    assert_int_equal(take(f, fse("ZZ02", ID1, T0, "sip_scan", "ipv4", "198.51.100.20", 100, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ALLOWLISTED);
    sw_state_block b;
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "198.51.100.20", &b));
    /* an emergency number as an IRSF destination */
    assert_int_equal(take(f, fse("ZZ02", ID2, T0, "irsf_call", "e164", "112", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ALLOWLISTED);
    assert_false(block_of(f, SW_OFFENDER_CALLEE, "112", &b));
    sw_intel_stats st;
    sw_intel_stats_get(f->in, &st);
    assert_int_equal(st.allowlisted, 2);
    assert_int_equal(st.enforced, 0);
    /* a kind the engine cannot block on is held and listed, never enforced */
    assert_int_equal(take(f, fse("ZZ02", "11111111-2222-4333-8444-555555555555", T0, "irsf_range",
                                 "e164_prefix", "+882130", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_UNSUPPORTED);
}

/* e164_prefix indicators: a Wangiri range refuses INVITEs from every
 * calling number in it, an IRSF range every INVITE to a called number in
 * it; the longest range held names the block; revocation lifts; ranges
 * shorter than 4 digits are held, never enforced; a range holding an
 * emergency number is never enforced. */
#define ID3 "3b241101-e2bb-4255-8caf-4136c566a962"
static void test_ranges_enforced(void **state)
{
    fixture *f = *state;
    assert_false(screen(f, "192.0.2.30", "+882130100111", "+447700900123").blocked);
    assert_false(screen(f, "192.0.2.31", "+493012345678", "+88234560001").blocked);
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "wangiri_cli", "e164_prefix", "+882130", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    assert_int_equal(take(f, fse("ZZ01", ID2, T0, "irsf_call", "e164_prefix", "+8823456", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    sw_state_block b;
    assert_true(block_of(f, SW_OFFENDER_CALLER_RANGE, "+882130", &b));
    assert_string_equal(b.rule, "intel.ZZ01." ID1);
    assert_non_null(strstr(b.reason, "producer ZZ01 indicator " ID1));
    assert_true(block_of(f, SW_OFFENDER_CALLEE_RANGE, "+8823456", &b));
    assert_string_equal(b.rule, "intel.ZZ01." ID2);
    /* every calling number in the Wangiri range, from any source */
    sw_verdict v = screen(f, "192.0.2.30", "+882130100111", "+447700900123");
    assert_true(v.blocked);
    assert_string_equal(v.rule, "intel.ZZ01." ID1);
    v = screen(f, "192.0.2.32", "+882130999999", "+447700900124");
    assert_true(v.blocked);
    assert_string_equal(v.rule, "intel.ZZ01." ID1);
    /* outside it: passes; the range is not a called-number block */
    assert_false(screen(f, "192.0.2.30", "+882140100111", "+447700900123").blocked);
    assert_false(screen(f, "192.0.2.30", "+447700900123", "+882130100111").blocked);
    /* every called number in the IRSF range */
    v = screen(f, "192.0.2.31", "+493012345678", "+88234560001");
    assert_true(v.blocked);
    assert_string_equal(v.rule, "intel.ZZ01." ID2);
    assert_false(screen(f, "192.0.2.31", "+493012345678", "+88234570001").blocked);
    assert_false(screen(f, "192.0.2.31", "+88234560001", "+493012345678").blocked);
    /* a wider range from another producer: the longest range decides */
    assert_int_equal(take(f, fse("ZZ02", ID3, T0, "wangiri_cli", "e164_prefix", "+88213", 100, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    assert_string_equal(screen(f, "192.0.2.30", "+882130100111", "+447700900123").rule, "intel.ZZ01." ID1);
    v = screen(f, "192.0.2.30", "+882139100111", "+447700900123");
    assert_true(v.blocked);
    assert_string_equal(v.rule, "intel.ZZ02." ID3);
    /* the drops' summary events name the indicators */
    assert_int_equal(sw_engine_flush(f->eng, now_ns), SW_OK);
    int named = 0;
    for (size_t i = 0; i < sink.n; i++)
        named += strcmp(sink.rule[i], "intel.ZZ01." ID1) == 0 || strcmp(sink.rule[i], "intel.ZZ01." ID2) == 0;
    assert_int_equal(named, 2);
    /* revoked: lifted at once, the wider range still holds */
    now_ns += S;
    assert_int_equal(take(f, fse("ZZ01", ID1, T0 + S, "wangiri_cli", "e164_prefix", "+882130", 90, "block",
                                 T0 + 3600 * S, 1)),
                     SW_INTEL_WITHDRAWN);
    assert_false(block_of(f, SW_OFFENDER_CALLER_RANGE, "+882130", &b));
    assert_string_equal(screen(f, "192.0.2.30", "+882130100111", "+447700900123").rule, "intel.ZZ02." ID3);
    assert_int_equal(sw_intel_revoke(f->in, ID3, now_ns), SW_OK);
    assert_false(screen(f, "192.0.2.30", "+882130100111", "+447700900123").blocked);
    /* the older version replayed changes nothing */
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "wangiri_cli", "e164_prefix", "+882130", 90, "block",
                                 T0 + 3600 * S, 0)),
                     SW_INTEL_STALE);
    assert_false(screen(f, "192.0.2.30", "+882130100111", "+447700900123").blocked);
    /* a country code alone is held, never enforced; an emergency range never */
    assert_int_equal(take(f, fse("ZZ02", "11111111-2222-4333-8444-555555555555", T0, "wangiri_cli",
                                 "e164_prefix", "+882", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_UNSUPPORTED);
    assert_false(screen(f, "192.0.2.30", "+882130100111", "+447700900123").blocked);
    assert_int_equal(take(f, fse("ZZ02", "11111111-2222-4333-8444-666666666666", T0, "irsf_call",
                                 "e164_prefix", "+1160", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ALLOWLISTED);
    /* a range that overlaps our own numbers (allowlist own-numbers) */
    assert_int_equal(take(f, fse("ZZ02", "11111111-2222-4333-8444-888888888888", T0, "wangiri_cli",
                                 "e164_prefix", "+44207", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ALLOWLISTED);
    assert_false(screen(f, "192.0.2.30", "+442079460000", "+447700900123").blocked);
    /* a range that starts with an emergency code's digits holds none */
    assert_int_equal(take(f, fse("ZZ02", "11111111-2222-4333-8444-777777777777", T0, "irsf_call",
                                 "e164_prefix", "+91123", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    /* not a range */
    sw_intel_ind ind;
    char err[128];
    const char *bad = fse("ZZ02", ID3, T0, "irsf_call", "e164_prefix", "+88x1", 100, "block", T0 + 3600 * S, 0);
    assert_int_equal(sw_intel_decode(bad, strlen(bad), &ind, err, sizeof err), SW_EINVAL);
}

static void test_operator_block_stays(void **state)
{
    fixture *f = *state;
    sw_state_block b, ev;
    memset(&b, 0, sizeof b);
    b.kind = SW_OFFENDER_SOURCE;
    assert_int_equal(sw_state_block_key(SW_OFFENDER_SOURCE, "192.0.2.7", b.id), SW_OK);
    snprintf(b.rule, sizeof b.rule, "admin");
    b.origin = SW_BLOCK_ORIGIN_ADMIN;
    b.since = now_ns;
    b.until = now_ns + 7200 * S;
    b.active = 1;
    int nev;
    assert_int_equal(sw_state_block_put(f->store, &b, &ev, &nev), SW_OK);
    assert_int_equal(take(f, fse("ZZ01", ID1, T0, "sip_scan", "ipv4", "192.0.2.7", 90, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_ENFORCED);
    assert_int_equal(take(f, fse("ZZ01", ID1, T0 + S, "sip_scan", "ipv4", "192.0.2.7", 90, "block",
                                 T0 + 3600 * S, 1)),
                     SW_INTEL_WITHDRAWN);
    /* the operator's block is neither replaced nor lifted */
    assert_true(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    assert_int_equal(b.origin, SW_BLOCK_ORIGIN_ADMIN);
    assert_int_equal(b.until, T0 + 7200 * S);
}

static void test_ceiling(void **state)
{
    fixture *f = *state;
    char id[SW_INTEL_ID_LEN], ip[32];
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "11111111-2222-4333-8444-%012d", i);
        snprintf(ip, sizeof ip, "192.0.2.%d", 10 + i);
        assert_int_equal(take(f, fse("ZZ02", id, T0, "sip_scan", "ipv4", ip, 100, "block", T0 + 3600 * S, 0)),
                         SW_INTEL_ENFORCED);
    }
    assert_int_equal(take(f, fse("ZZ02", ID1, T0, "sip_scan", "ipv4", "192.0.2.99", 100, "block", T0 + 3600 * S, 0)),
                     SW_INTEL_REFUSED);
    sw_intel_stats st;
    sw_intel_stats_get(f->in, &st);
    assert_int_equal(st.held, 8);
    assert_int_equal(st.capacity, 8);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.enforced, 8);
    /* held ones were not pushed out: still enforced */
    sw_state_block b;
    assert_true(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.10", &b));
    /* once expired and past retention, the room is given back */
    now_ns = T0 + 3601 * S;
    assert_int_equal(sw_intel_tick(f->in, now_ns), 8);
    sw_intel_stats_get(f->in, &st);
    assert_int_equal(st.held, 0);
    assert_int_equal(st.enforced, 0);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.10", &b));
}

static void test_trust_file(void **state)
{
    fixture *f = *state;
    char err[160];
    const char ok[] = "# partners\npartner ZZ03 trust 75\n\npartner ZZ04   trust 0 # muted\n";
    assert_int_equal(sw_intel_trust_load(f->in, "trust.conf", ok, strlen(ok), err, sizeof err), SW_OK);
    assert_int_equal(sw_intel_trust_get(f->in, "ZZ03"), 75);
    assert_int_equal(sw_intel_trust_get(f->in, "ZZ04"), 0);
    assert_int_equal(sw_intel_trust_get(f->in, "ZZ01"), -1); /* replaced, all of it */
    struct {
        const char *text, *err;
    } bad[] = {
        {"partner ZZ03 trust 75\npartner ZZ05 trust 101\n", "trust.conf:2: trust must be an integer 0..100"},
        {"\n\npartner ZZ03 trusted 7\n", "trust.conf:3: expected \"partner ORG trust N\""},
        {"partner Z/Z trust 7\n", "trust.conf:1: partner ORG must be"},
        {"partner A trust 1\npartner A trust 2\n", "trust.conf:2: partner listed twice"},
        {"partner A trust 1x\n", "trust.conf:1: trust must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sw_intel_trust_load(f->in, "trust.conf", bad[i].text, strlen(bad[i].text), err, sizeof err),
                         SW_EINVAL);
        assert_memory_equal(err, bad[i].err, strlen(bad[i].err));
    }
    /* all or nothing: the failed loads kept the good one */
    assert_int_equal(sw_intel_trust_get(f->in, "ZZ03"), 75);
}

/* The partner path: an object signed by the partner's key verifies under
 * its JWKS and is enforced; the same object with its value changed after
 * signing fails verification and never reaches the consumer. */
static void test_signed_objects(void **state)
{
    fixture *f = *state;
    sw_jws_key *k = sw_jws_key_generate("ZZ01:7");
    assert_non_null(k);
    char *jwks_text = sw_jws_key_public_jwks(k);
    assert_non_null(jwks_text);
    char err[200];
    sw_jwks *keys = sw_jwks_parse(jwks_text, strlen(jwks_text), err, sizeof err);
    assert_non_null(keys);
    sw_fse_keyring *kr = sw_fse_keyring_new();
    assert_non_null(kr);
    assert_int_equal(sw_fse_keyring_set(kr, "ZZ01", keys), SW_OK);
    sw_fse o;
    memset(&o, 0, sizeof o);
    snprintf(o.org, sizeof o.org, "ZZ01");
    snprintf(o.node, sizeof o.node, "6f1c0c1e-8a8e-4d55-9c53-9d1c2c3b4a5f");
    snprintf(o.event_type, sizeof o.event_type, "sip_scan");
    o.kind = SW_FSE_KIND_IPV4;
    snprintf(o.value, sizeof o.value, "192.0.2.7");
    assert_int_equal(sw_fse_make_id(o.org, o.kind, o.value, o.event_type, o.id), SW_OK);
    o.modified_ms = T0 / 1000000;
    o.first_seen_ms = o.last_seen_ms = o.modified_ms;
    o.count = 40;
    o.confidence = 90;
    o.severity = SW_FSE_SEV_HIGH;
    o.action = SW_FSE_ACT_BLOCK;
    o.valid_until_ms = o.modified_ms + 3600 * 1000;
    o.tlp = SW_FSE_TLP_GREEN;
    assert_int_equal(sw_fse_sign(&o, k, SW_JWS_EDDSA, 0), SW_OK);
    size_t len;
    char *wire = sw_fse_encode(&o, 1, &len);
    assert_non_null(wire);
    sw_fse got;
    assert_int_equal(sw_fse_verify(kr, wire, len, &got, err, sizeof err), SW_OK);
    sw_intel_ind ind;
    assert_int_equal(sw_intel_from_fse(&got, &ind), SW_OK);
    assert_string_equal(ind.kid, "ZZ01:7");
    assert_int_equal(ind.valid_until, T0 + 3600 * S);
    sw_intel_state st;
    assert_int_equal(sw_intel_apply(f->in, &ind, now_ns, &st), SW_OK);
    assert_int_equal(st, SW_INTEL_ENFORCED);
    sw_state_block b;
    assert_true(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.7", &b));
    char rule[64];
    snprintf(rule, sizeof rule, "intel.ZZ01.%s", o.id);
    assert_string_equal(b.rule, rule);
    /* tampered: another address under the same signature */
    char *at = strstr(wire, "192.0.2.7");
    assert_non_null(at);
    at[8] = '8';
    assert_int_equal(sw_fse_verify(kr, wire, len, &got, err, sizeof err), SW_EAUTH);
    assert_false(block_of(f, SW_OFFENDER_SOURCE, "192.0.2.8", &b));
    /* a value no offender key can hold */
    memset(got.value, '1', 100);
    got.value[100] = '\0';
    assert_int_equal(sw_intel_from_fse(&got, &ind), SW_ELIMIT);
    free(wire);
    free(jwks_text);
    sw_fse_keyring_free(kr);
    sw_jws_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_strict),
        cmocka_unit_test_setup_teardown(test_enforced_with_provenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_lifts_and_replay_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_revoke_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_weighted_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allowlists_win, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operator_block_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signed_objects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
