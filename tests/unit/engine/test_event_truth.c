/* Events that tell the truth (issue 11, items 3 and 4), through
 * sw_engine_screen:
 * - the event names the attack whatever stopped the message first: a
 *   detector's classification wins over cat0 admission and cat1 rules
 *   (evidence "dropped_by"), a mere policy breach stays policy_violation;
 * - one event per message: two rules are one event (evidence "also"), a
 *   retransmission gives none;
 * - the action is what happened (inline: the reply sent, or drop), a
 *   passive engine says "mode":"passive";
 * - event_id (unique), incident_id (offender, type, window; shared by the
 *   engines of one store) and listener. */
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

#define MAX_EV 512
typedef struct rec {
    char rule[64];
    sw_event_type type;
    sw_action action;
    uint16_t action_status;
    uint8_t monitor, passive;
    char dropped_by[64]; /* evidence, "" = absent */
    char also[128];
    char offender[64];
    char listener[32];
    char event_id[SW_EVENT_ID_LEN];
    char incident_id[SW_EVENT_INCIDENT_LEN];
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
        if (ev->evidence[i].kind == SW_EVIDENCE_STR && strcmp(ev->evidence[i].key, key) == 0)
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
    r->action_status = ev->action_status;
    r->monitor = ev->monitor;
    r->passive = ev->passive;
    ev_str(ev, "dropped_by", r->dropped_by, sizeof r->dropped_by);
    ev_str(ev, "also", r->also, sizeof r->also);
    ev_str(ev, "offender", r->offender, sizeof r->offender);
    snprintf(r->listener, sizeof r->listener, "%.*s", (int)ev->listener.len,
             ev->listener.ptr ? ev->listener.ptr : "");
    memcpy(r->event_id, ev->event_id, sizeof r->event_id);
    memcpy(r->incident_id, ev->incident_id, sizeof r->incident_id);
    return SW_OK;
}
static int mem_ok(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops mem_ops = {
    .name = "mem", .emit = mem_emit, .flush = mem_ok, .close = mem_ok};

static mem_sink sink;

static const char policy_text[] =
    "policy \"event truth test\" version \"1\"\n"
    "home { plmn 234-15; country-code 44; national-prefix 0\n"
    "       domains example.org }\n"
    "partner core { role core; address 10.0.0.1/32 }\n"
    "partner carrier { role interconnect; address 192.0.2.10/32 }\n"
    "zone unknown { admit drop; trust untrusted }\n"
    "detector bruteforce { failures 4; action drop; mode monitor }\n"
    "detector scan { distinct-targets 5; action drop; block 1h }\n"
    "rule cat1.tag-refer { category cat1; event policy_violation\n"
    "   when method == REFER and request\n"
    "   action tag; reason \"REFER seen\" }\n"
    "rule cat1.no-refer { category cat1; event policy_violation\n"
    "   when method == REFER and request\n"
    "   action drop; reason \"no REFER here\" }\n"
    "rule cat1.no-message { category cat1; event policy_violation\n"
    "   when method == MESSAGE and request\n"
    "   action reject 403; reason \"no MESSAGE here\" }\n";

static sw_policy *policy;
static sw_engine *engine;
static int64_t now_ns;

static void load_policy(void)
{
    char path[] = "/tmp/sw_test_truth_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, policy_text, sizeof policy_text - 1),
                     (ssize_t)(sizeof policy_text - 1));
    close(fd);
    const char *paths[] = {path};
    static sw_policy_diags d;
    int r = sw_policy_load(paths, 1, &policy, &d);
    for (uint32_t i = 0; i < d.n; i++) {
        char line[600];
        if (sw_policy_diag_format(&d.d[i], line, sizeof line) > 0)
            print_message("%s\n", line);
    }
    unlink(path);
    assert_int_equal(r, SW_OK);
}

static int setup_mode(int passive)
{
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    now_ns = INT64_C(1790000000) * 1000000000;
    load_policy();
    sw_engine_config cfg = {.policy = policy, .sink = &sink.base, .passive = (uint8_t)passive,
                            .seed = 42};
    engine = sw_engine_new(&cfg);
    assert_non_null(engine);
    return 0;
}

static int setup_passive(void **state)
{
    (void)state;
    return setup_mode(1);
}

static int setup_inline(void **state)
{
    (void)state;
    return setup_mode(0);
}

static int teardown(void **state)
{
    (void)state;
    sw_engine_free(engine);
    sw_policy_free(policy);
    return 0;
}

static const char *listener = "";

static sw_verdict screen_on(sw_engine *en, const char *src, const char *dst, const char *text)
{
    static char buf[4096];
    size_t len = strlen(text);
    assert_true(len < sizeof buf);
    memcpy(buf, text, len);
    sw_engine_msg m = {.data = buf, .len = len, .ts_ns = now_ns, .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM,
                       .listener = sw_str_make(listener, strlen(listener))};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse(dst, &m.dst), SW_OK);
    sw_verdict v;
    assert_int_equal(sw_engine_screen(en, &m, &v), SW_OK);
    return v;
}

static sw_verdict screen(const char *src, const char *dst, const char *text)
{
    return screen_on(engine, src, dst, text);
}

static void step(int64_t s)
{
    now_ns += s * INT64_C(1000000000);
}

/* A request of method with branch tag b from ip (Call-ID c). */
static sw_verdict request(const char *method, const char *ip, const char *dst, const char *user,
                          const char *b, const char *c)
{
    char req[1500], src[64];
    snprintf(src, sizeof src, "%s:5060", ip);
    snprintf(req, sizeof req,
             "%s sip:%s@example.org SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:probe@example.org>;tag=f-%s\r\n"
             "To: <sip:%s@example.org>\r\n"
             "Call-ID: %s@%s\r\n"
             "CSeq: 1 %s\r\n"
             "Content-Length: 0\r\n\r\n",
             method, user, ip, b, b, user, c, ip, method);
    return screen(src, dst, req);
}

#define RESPONSE_HASH "5f0c2a7d9e3b41c8a6f2d0b9e7c3a1f4"

/* One credentialed REGISTER (CSeq n) from ip and the core's 401. */
static sw_verdict guess(const char *ip, const char *user, unsigned n)
{
    char req[1500], resp[1500], src[64];
    snprintf(src, sizeof src, "%s:5060", ip);
    snprintf(req, sizeof req,
             "REGISTER sip:example.org SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%u\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:%s@example.org>;tag=f%u\r\n"
             "To: <sip:%s@example.org>\r\n"
             "Call-ID: crack-%s@%s\r\n"
             "CSeq: %u REGISTER\r\n"
             "Authorization: Digest username=\"%s\", realm=\"example.org\", nonce=\"n%u\", "
             "uri=\"sip:example.org\", response=\"" RESPONSE_HASH "\", algorithm=MD5\r\n"
             "Content-Length: 0\r\n\r\n",
             ip, user, n, user, n, user, user, ip, n, user, n);
    sw_verdict v = screen(src, "10.0.0.1:5060", req);
    step(2);
    snprintf(resp, sizeof resp,
             "SIP/2.0 401 Unauthorized\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%u\r\n"
             "From: <sip:%s@example.org>;tag=f%u\r\n"
             "To: <sip:%s@example.org>;tag=t%u\r\n"
             "Call-ID: crack-%s@%s\r\n"
             "CSeq: %u REGISTER\r\n"
             "WWW-Authenticate: Digest realm=\"example.org\", nonce=\"m%u\", algorithm=MD5\r\n"
             "Content-Length: 0\r\n\r\n",
             ip, user, n, user, n, user, n, user, ip, n, n);
    (void)screen("10.0.0.1:5060", src, resp);
    step(2);
    return v;
}

static size_t count_type(sw_event_type t, size_t from)
{
    size_t k = 0;
    for (size_t i = from; i < sink.n; i++)
        k += sink.ev[i].type == t;
    return k;
}

static const rec *find_rule(const char *rule)
{
    for (size_t i = 0; i < sink.n; i++)
        if (strcmp(sink.ev[i].rule, rule) == 0)
            return &sink.ev[i];
    return NULL;
}

/* Item 3: REGISTERs guessing passwords from a source cat0 drops are
 * sip_bruteforce; once the detector has classified the source, its
 * dropped messages say so and no longer raise policy_violation. */
static void test_bruteforce_from_dropped_zone(void **state)
{
    (void)state;
    unsigned n = 1;
    size_t trip_at = 0;
    for (; n <= 4; n++) {
        sw_verdict v = guess("198.51.100.7", "1001", n);
        assert_int_equal(v.action, SW_ACTION_DROP); /* cat0 drops every one */
        assert_true(v.admission);
    }
    const rec *bf = find_rule("bruteforce.guessing");
    assert_non_null(bf);
    assert_int_equal(bf->type, SW_EVT_SIP_BRUTEFORCE);
    assert_string_equal(bf->offender, "198.51.100.7");
    assert_int_equal(bf->passive, 1);
    trip_at = sink.n;
    /* the source goes on guessing: its REGISTERs are dropped, and nothing
     * calls them a mere policy breach any more */
    for (; n <= 8; n++) {
        sw_verdict v = guess("198.51.100.7", "1001", n);
        assert_false(v.blocked); /* monitor mode: no block, cat0 drops them */
        assert_int_equal(v.action, SW_ACTION_DROP);
    }
    assert_int_equal(count_type(SW_EVT_POLICY_VIOLATION, trip_at), 0);
    /* another unknown source that only sends an OPTIONS is a policy breach */
    size_t before = sink.n;
    (void)request("OPTIONS", "198.51.100.99", "10.0.0.1:5060", "ping", "opt1", "opt1");
    assert_int_equal(sink.n, before + 1);
    assert_int_equal(sink.ev[before].type, SW_EVT_POLICY_VIOLATION);
    assert_string_equal(sink.ev[before].rule, "cat0.admission");
}

/* Item 3: a sweep from the unknown zone (inline): the message that trips
 * the scan detector gives one event, sip_scan, dropped by cat0. */
static void test_scan_from_unknown_zone(void **state)
{
    (void)state;
    char dst[64], b[16], user[16];
    sw_verdict v;
    for (unsigned i = 1; i <= 5; i++) {
        snprintf(dst, sizeof dst, "10.0.0.%u:5060", 100 + i);
        snprintf(b, sizeof b, "sw%u", i);
        snprintf(user, sizeof user, "10%u", i);
        size_t before = sink.n;
        v = request("OPTIONS", "203.0.113.5", dst, user, b, b);
        assert_int_equal(v.action, SW_ACTION_DROP);
        assert_true(v.events <= 1);
        if (i < 5) {
            assert_int_equal(sink.ev[before].type, SW_EVT_POLICY_VIOLATION);
        }
        step(1);
    }
    assert_int_equal(v.events, 1);
    const rec *r = &sink.ev[sink.n - 1];
    assert_int_equal(r->type, SW_EVT_SIP_SCAN);
    assert_string_equal(r->rule, "scan.sweep");
    assert_string_equal(r->dropped_by, "cat0.admission");
    assert_int_equal(r->action, SW_ACTION_DROP); /* what happened: cat0's drop */
    assert_int_equal(r->passive, 0);
    assert_int_equal(r->monitor, 0);
}

/* Item 3 and 4: a mere policy breach stays policy_violation; two rules on
 * one message are one event, the one that decided, the other in "also". */
static void test_two_rules_one_event(void **state)
{
    (void)state;
    sw_verdict v = request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "r1", "r1");
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(v.events, 1);
    assert_int_equal(sink.n, 1);
    const rec *r = &sink.ev[0];
    assert_int_equal(r->type, SW_EVT_POLICY_VIOLATION);
    assert_string_equal(r->rule, "cat1.no-refer");
    assert_string_equal(r->also, "cat1.tag-refer");
    assert_string_equal(r->dropped_by, "");
    assert_int_equal(r->action, SW_ACTION_DROP);
}

/* Item 4: a retransmitted request (same branch, Call-ID, CSeq) gets the
 * same verdict and no second event. */
static void test_retransmission_one_event(void **state)
{
    (void)state;
    sw_verdict v = request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "rx", "rx");
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(sink.n, 1);
    step(1); /* Timer A: 500 ms, then 1 s */
    v = request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "rx", "rx");
    assert_true(v.retransmission);
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(v.events, 0);
    assert_int_equal(sink.n, 1);
    /* a new transaction is a new event */
    v = request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "rx2", "rx2");
    assert_int_equal(sink.n, 2);
}

/* Item 4: inline, the action is what the proxy did: a reject with the
 * status it answered. */
static void test_inline_action_is_the_reply(void **state)
{
    (void)state;
    listener = "ic-udp";
    sw_verdict v = request("MESSAGE", "192.0.2.10", "10.0.0.1:5060", "200", "m1", "m1");
    listener = "";
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(sink.n, 1);
    assert_int_equal(sink.ev[0].action, SW_ACTION_REJECT);
    assert_int_equal(sink.ev[0].action_status, 403);
    assert_int_equal(sink.ev[0].passive, 0);
    assert_string_equal(sink.ev[0].listener, "ic-udp");
}

/* Item 4: passive, nothing was enforced: "mode":"passive" with the action
 * inline would have taken; no listener. */
static void test_passive_mode(void **state)
{
    (void)state;
    sw_verdict v = request("MESSAGE", "192.0.2.10", "10.0.0.1:5060", "200", "m1", "m1");
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(sink.n, 1);
    assert_int_equal(sink.ev[0].passive, 1);
    assert_int_equal(sink.ev[0].action, SW_ACTION_REJECT);
    assert_int_equal(sink.ev[0].action_status, 403);
    assert_string_equal(sink.ev[0].listener, "");
    sw_event ev;
    sw_event_init(&ev, SW_EVT_POLICY_VIOLATION, SW_CAT_CAT1, "x");
    ev.passive = 1;
    ev.monitor = 1;
    size_t len;
    char *j = sw_event_json(&ev, &len);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"mode\":\"passive\""));
    free(j);
}

/* Item 4: the events of one offender and type within the window are one
 * incident; after the window a new one; another offender another one;
 * every event_id differs. */
static void test_incidents(void **state)
{
    (void)state;
    (void)request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "i1", "i1");
    step(20);
    (void)request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "i2", "i2");
    step(1);
    (void)request("MESSAGE", "192.0.2.10", "10.0.0.1:5060", "200", "i3", "i3");
    assert_int_equal(sink.n, 3);
    assert_int_equal(strlen(sink.ev[0].incident_id), 16);
    assert_string_equal(sink.ev[0].incident_id, sink.ev[1].incident_id);
    /* same source, same type (policy_violation): the same episode */
    assert_string_equal(sink.ev[0].incident_id, sink.ev[2].incident_id);
    step(61); /* the event window (60 s) after the first event */
    (void)request("REFER", "192.0.2.10", "10.0.0.1:5060", "200", "i4", "i4");
    assert_int_equal(sink.n, 4);
    assert_string_not_equal(sink.ev[3].incident_id, sink.ev[0].incident_id);
    step(1);
    (void)request("OPTIONS", "198.51.100.77", "10.0.0.1:5060", "200", "i5", "i5");
    assert_int_equal(sink.n, 5);
    assert_string_not_equal(sink.ev[4].incident_id, sink.ev[3].incident_id);
    for (size_t i = 0; i < sink.n; i++) {
        assert_int_equal(strlen(sink.ev[i].event_id), 36);
        assert_int_equal(sink.ev[i].event_id[14], '7'); /* UUIDv7 */
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(sink.ev[i].event_id, sink.ev[k].event_id);
    }
}

/* Item 4: two engines on one state store (two sipwalld workers) name one
 * episode alike. */
static void test_incident_shared_by_workers(void **state)
{
    (void)state;
    sw_state_store *st = sw_state_mem_new(1024);
    assert_non_null(st);
    sw_engine_config cfg = {.policy = policy, .sink = &sink.base, .seed = 7, .state = st};
    sw_engine *a = sw_engine_new(&cfg), *b = sw_engine_new(&cfg);
    assert_non_null(a);
    assert_non_null(b);
    const char *refer1 = "REFER sip:200@example.org SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-w1\r\n"
                         "Max-Forwards: 70\r\nFrom: <sip:x@example.org>;tag=1\r\n"
                         "To: <sip:200@example.org>\r\nCall-ID: w1\r\nCSeq: 1 REFER\r\n"
                         "Content-Length: 0\r\n\r\n";
    const char *refer2 = "REFER sip:200@example.org SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-w2\r\n"
                         "Max-Forwards: 70\r\nFrom: <sip:x@example.org>;tag=2\r\n"
                         "To: <sip:200@example.org>\r\nCall-ID: w2\r\nCSeq: 1 REFER\r\n"
                         "Content-Length: 0\r\n\r\n";
    (void)screen_on(a, "192.0.2.10:5060", "10.0.0.1:5060", refer1);
    step(5);
    (void)screen_on(b, "192.0.2.10:5060", "10.0.0.1:5060", refer2);
    assert_int_equal(sink.n, 2);
    assert_string_equal(sink.ev[0].incident_id, sink.ev[1].incident_id);
    assert_string_not_equal(sink.ev[0].event_id, sink.ev[1].event_id);
    sw_engine_free(a);
    sw_engine_free(b);
    sw_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bruteforce_from_dropped_zone, setup_passive, teardown),
        cmocka_unit_test_setup_teardown(test_scan_from_unknown_zone, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(test_two_rules_one_event, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(test_retransmission_one_event, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(test_inline_action_is_the_reply, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(test_passive_mode, setup_passive, teardown),
        cmocka_unit_test_setup_teardown(test_incidents, setup_inline, teardown),
        cmocka_unit_test_setup_teardown(test_incident_shared_by_workers, setup_inline, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
