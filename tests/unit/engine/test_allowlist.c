/* Allowlists and blocks (src/engine/allow.c), and the policy-wide monitor
 * mode in the engine: a block is never set on an allowlisted source; a
 * reload whose allowlists cover a block in force lifts it with one event
 * (rule policy.allowlist, naming the offender and the list) and the
 * source's messages pass again; caller, caller-prefix and IPv6 /64 blocks
 * are covered by number entries and host entries; an engine sharing the
 * store does not report the same lift twice; under `mode monitor` a rule
 * that would drop and block does neither, and a block in force drops
 * nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/detect.h"
#include "sipwall/engine.h"
#include "sipwall/policy.h"

#define MAX_EV 64
typedef struct rec {
    char rule[64];
    sw_event_type type;
    sw_action action;
    uint8_t monitor;
    int64_t expires;
    char offender[48], allowlist[48], lifted_rule[64];
} rec;

typedef struct mem_sink {
    sw_event_sink base;
    rec ev[MAX_EV];
    size_t n;
} mem_sink;

static void ev_str(const sw_event *ev, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    for (unsigned i = 0; i < ev->nevidence; i++)
        if (strcmp(ev->evidence[i].key, key) == 0 && ev->evidence[i].str.ptr)
            snprintf(out, cap, "%.*s", (int)ev->evidence[i].str.len, ev->evidence[i].str.ptr);
}

static int mem_emit(sw_event_sink *s, const sw_event *ev)
{
    mem_sink *m = (mem_sink *)s;
    if (m->n >= MAX_EV)
        return SW_OK;
    rec *r = &m->ev[m->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->rule, sizeof r->rule, "%s", ev->rule);
    r->type = ev->type;
    r->action = ev->action;
    r->monitor = ev->monitor;
    r->expires = ev->expires_ns;
    ev_str(ev, "offender", r->offender, sizeof r->offender);
    ev_str(ev, "allowlist", r->allowlist, sizeof r->allowlist);
    ev_str(ev, "lifted_rule", r->lifted_rule, sizeof r->lifted_rule);
    return SW_OK;
}
static int mem_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static int mem_close(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops mem_ops = {
    .name = "mem", .emit = mem_emit, .flush = mem_flush, .close = mem_close};

static mem_sink sink;
static int64_t now_ns = INT64_C(1790000000) * 1000000000;

/* The allow rule only covers OPTIONS: an INVITE from an allowlisted source
 * still reaches the blocking rule, so the block itself must be refused. */
static const char policy_fmt[] =
    "%s"
    "home { country-code 44; national-prefix 0 }\n"
    "partner core { role core; address 10.0.0.1 }\n"
    "list allow-sources addresses { %s }\n"
    "list allow-numbers numbers { %s }\n"
    "rule allow.sources { category cat0\n"
    "    when src in list allow-sources and method == OPTIONS\n"
    "    action allow }\n"
    "rule allow.numbers { category cat0\n"
    "    when request and a in list allow-numbers and method == OPTIONS\n"
    "    action allow }\n"
    "rule cat1.scanner { when request and user-agent contains \"friendly-scanner\"\n"
    "    action drop; block 10m }\n";

static sw_policy *load(const char *head, const char *sources, const char *numbers)
{
    char text[2048];
    snprintf(text, sizeof text, policy_fmt, head, sources, numbers);
    sw_policy *p = NULL;
    sw_policy_diags d;
    int rc = sw_policy_load_text("allow.policy", text, strlen(text), NULL, &p, &d);
    for (uint32_t i = 0; i < d.n; i++) {
        char line[600];
        if (sw_policy_diag_format(&d.d[i], line, sizeof line) > 0)
            print_message("%s\n", line);
    }
    assert_int_equal(rc, SW_OK);
    return p;
}

static sw_engine *engine_for(const sw_policy *p, sw_state_store *st)
{
    sw_engine_config cfg = {.policy = p, .sink = &sink.base, .passive = 0, .seed = 7, .state = st};
    sw_engine *e = sw_engine_new(&cfg);
    assert_non_null(e);
    return e;
}

static const char *msg(const char *method, const char *src_ip, const char *ua, const char *from)
{
    static char t[2048];
    snprintf(t, sizeof t,
             "%s sip:+447700900123@10.0.0.1 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%lld\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:%s@example.net>;tag=1\r\n"
             "To: <sip:+447700900123@10.0.0.1>\r\n"
             "Call-ID: c%lld@test\r\n"
             "CSeq: 1 %s\r\n"
             "User-Agent: %s\r\n"
             "Content-Length: 0\r\n\r\n",
             method, src_ip, (long long)now_ns, from, (long long)now_ns, method, ua);
    return t;
}

static sw_verdict screen(sw_engine *e, const char *src, const char *text)
{
    sw_engine_msg m = {.data = text, .len = strlen(text), .ts_ns = now_ns,
                       .transport = SW_TRANSPORT_UDP, .framing = SW_SIP_DATAGRAM};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse("10.0.0.1:5060", &m.dst), SW_OK);
    now_ns += 1000000;
    sw_verdict v;
    assert_int_equal(sw_engine_screen(e, &m, &v), SW_OK);
    return v;
}

static size_t count_rule(const char *rule)
{
    size_t k = 0;
    for (size_t i = 0; i < sink.n; i++)
        k += strcmp(sink.ev[i].rule, rule) == 0;
    return k;
}

static const rec *find_rule(const char *rule)
{
    for (size_t i = 0; i < sink.n; i++)
        if (strcmp(sink.ev[i].rule, rule) == 0)
            return &sink.ev[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    return 0;
}

static uint32_t active_blocks(sw_engine *e)
{
    sw_engine_stats st;
    sw_engine_get_stats(e, &st);
    return st.active_blocks;
}

static void test_reload_lifts_source_block(void **state)
{
    (void)state;
    sw_policy *p1 = load("", "", "");
    sw_engine *e = engine_for(p1, NULL);
    /* the scanner is dropped and blocked; its next, harmless message too */
    sw_verdict v = screen(e, "192.0.2.7:5060", msg("INVITE", "192.0.2.7", "friendly-scanner", "100"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(active_blocks(e), 1);
    v = screen(e, "192.0.2.7:5060", msg("OPTIONS", "192.0.2.7", "ok", "100"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_true(v.blocked);
    /* the operator allowlists it and reloads: the block goes, one event says so */
    sw_policy *p2 = load("", "192.0.2.0/24", "");
    size_t before = sink.n;
    assert_int_equal(sw_engine_set_policy(e, p2), SW_OK);
    sw_policy_free(p1);
    assert_int_equal(sink.n, before + 1);
    const rec *r = find_rule("policy.allowlist");
    assert_non_null(r);
    assert_int_equal(r->action, SW_ACTION_ALLOW);
    assert_int_equal(r->type, SW_EVT_POLICY_VIOLATION); /* the type the block was set for */
    assert_string_equal(r->offender, "192.0.2.7");
    assert_string_equal(r->allowlist, "allow-sources");
    assert_string_equal(r->lifted_rule, "cat1.scanner");
    assert_int_equal(active_blocks(e), 0);
    sw_engine_stats st;
    sw_engine_get_stats(e, &st);
    assert_int_equal(st.blocks_lifted, 1);
    v = screen(e, "192.0.2.7:5060", msg("OPTIONS", "192.0.2.7", "ok", "100"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_false(v.blocked);
    /* a reload with the same allowlist lifts nothing more */
    before = sink.n;
    assert_int_equal(sw_engine_set_policy(e, p2), SW_OK);
    assert_int_equal(sink.n, before);
    sw_engine_free(e);
    sw_policy_free(p2);
}

static void test_block_never_set_on_allowlisted(void **state)
{
    (void)state;
    sw_policy *p = load("", "192.0.2.7", "");
    sw_engine *e = engine_for(p, NULL);
    /* not covered by the allow rule (INVITE): the rule drops this message,
     * but sets no block on the allowlisted source */
    sw_verdict v = screen(e, "192.0.2.7:5060", msg("INVITE", "192.0.2.7", "friendly-scanner", "100"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(active_blocks(e), 0);
    const rec *r = find_rule("cat1.scanner");
    assert_non_null(r);
    assert_int_equal(r->expires, 0); /* the event does not claim a block */
    sw_engine_stats st;
    sw_engine_get_stats(e, &st);
    assert_int_equal(st.blocks_refused, 1);
    v = screen(e, "192.0.2.7:5060", msg("INVITE", "192.0.2.7", "ok", "100"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    /* another source is blocked as before */
    v = screen(e, "192.0.2.8:5060", msg("INVITE", "192.0.2.8", "friendly-scanner", "100"));
    assert_int_equal(active_blocks(e), 1);
    sw_engine_free(e);
    sw_policy_free(p);
}

static void put_block(sw_state_store *st, uint8_t kind, const char *id)
{
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    snprintf(b.id, sizeof b.id, "%s", id);
    snprintf(b.rule, sizeof b.rule, "wangiri.callback");
    b.type = SW_EVT_WANGIRI_CLI;
    b.category = SW_CAT_BEHAVIOURAL;
    b.since = now_ns;
    sw_state_block ev;
    int nev;
    assert_true(sw_state_block_set(st, &b, 600 * SW_NS_S, &ev, &nev) > 0);
}

static void test_numbers_prefixes_and_v6(void **state)
{
    (void)state;
    sw_state_store *st = sw_state_mem_new(64);
    assert_non_null(st);
    sw_policy *p1 = load("", "", "");
    sw_engine *e = engine_for(p1, st);
    sw_engine *e2 = engine_for(p1, st); /* a second worker on the same store */
    put_block(st, SW_OFFENDER_CALLER, "+447700900123");
    put_block(st, SW_OFFENDER_CALLER, "+447700900555");
    put_block(st, SW_OFFENDER_CALLER_PREFIX, "+4420794601");
    put_block(st, SW_OFFENDER_CALLER_PREFIX, "+4420794699");
    put_block(st, SW_OFFENDER_SOURCE, "2001:db8:1:2::/64");
    put_block(st, SW_OFFENDER_SOURCE, "2001:db8:1:3::/64");
    assert_int_equal(active_blocks(e), 6);
    /* national format, normalised by the home block; a number inside a
     * prefix block; an IPv6 host inside a /64 block */
    sw_policy *p2 = load("", "2001:db8:1:2::7", "07700900123, +442079460100");
    size_t before = sink.n;
    assert_int_equal(sw_engine_set_policy(e, p2), SW_OK);
    assert_int_equal(sw_engine_set_policy(e2, p2), SW_OK);
    assert_int_equal(sink.n, before + 3); /* each lift reported once, by one engine */
    assert_int_equal(active_blocks(e), 3);
    sw_state_block b;
    assert_int_equal(sw_state_block_get(st, SW_OFFENDER_CALLER, "+447700900123", &b), SW_ENOTFOUND);
    assert_int_equal(sw_state_block_get(st, SW_OFFENDER_CALLER, "+447700900555", &b), SW_OK);
    assert_int_equal(sw_state_block_get(st, SW_OFFENDER_CALLER_PREFIX, "+4420794601", &b), SW_ENOTFOUND);
    assert_int_equal(sw_state_block_get(st, SW_OFFENDER_CALLER_PREFIX, "+4420794699", &b), SW_OK);
    assert_int_equal(sw_state_block_get(st, SW_OFFENDER_SOURCE, "2001:db8:1:2::/64", &b), SW_ENOTFOUND);
    assert_int_equal(sw_state_block_get(st, SW_OFFENDER_SOURCE, "2001:db8:1:3::/64", &b), SW_OK);
    const rec *r = find_rule("policy.allowlist");
    assert_non_null(r);
    assert_int_equal(r->type, SW_EVT_WANGIRI_CLI);
    assert_string_equal(r->lifted_rule, "wangiri.callback");
    sw_engine_free(e);
    sw_engine_free(e2);
    sw_state_free(st);
    sw_policy_free(p1);
    sw_policy_free(p2);
}

static void test_policy_monitor_mode(void **state)
{
    (void)state;
    sw_policy *p1 = load("", "", "");
    sw_engine *e = engine_for(p1, NULL);
    sw_verdict v = screen(e, "192.0.2.9:5060", msg("INVITE", "192.0.2.9", "friendly-scanner", "100"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(active_blocks(e), 1);
    /* the whole policy in monitor mode: the block in force drops nothing */
    sw_policy *p2 = load("mode monitor\n", "", "");
    assert_true(p2->monitor);
    assert_int_equal(sw_engine_set_policy(e, p2), SW_OK);
    v = screen(e, "192.0.2.9:5060", msg("OPTIONS", "192.0.2.9", "ok", "100"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_false(v.blocked);
    assert_true(v.monitor_hits >= 1);
    /* a new scanner: the event says what would happen, nothing is done */
    size_t before = count_rule("cat1.scanner");
    v = screen(e, "192.0.2.10:5060", msg("INVITE", "192.0.2.10", "friendly-scanner", "100"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_int_equal(count_rule("cat1.scanner"), before + 1);
    const rec *r = &sink.ev[sink.n - 1];
    assert_string_equal(r->rule, "cat1.scanner");
    assert_true(r->monitor);
    assert_int_equal(r->action, SW_ACTION_DROP);
    assert_int_equal(r->expires, 0);
    assert_int_equal(active_blocks(e), 1); /* only the old one, kept for when enforce returns */
    /* back to enforce: the old block drops again */
    assert_int_equal(sw_engine_set_policy(e, p1), SW_OK);
    v = screen(e, "192.0.2.9:5060", msg("OPTIONS", "192.0.2.9", "ok", "100"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_true(v.blocked);
    sw_engine_free(e);
    sw_policy_free(p1);
    sw_policy_free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reload_lifts_source_block, setup),
        cmocka_unit_test_setup(test_block_never_set_on_allowlisted, setup),
        cmocka_unit_test_setup(test_numbers_prefixes_and_v6, setup),
        cmocka_unit_test_setup(test_policy_monitor_mode, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
