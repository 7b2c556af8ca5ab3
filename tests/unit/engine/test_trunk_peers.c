/* Trunks behind one address, told apart by source port: each trunk is its
 * own partner with its own number ranges, methods and rules, and events
 * name the trunk that sent the message (the `peer` field).  The engine
 * remembers peer lookups by address: the memo must not hand one trunk's
 * answer to the other. */
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

#define MAX_EV 256
typedef struct rec {
    char rule[64];
    char peer[32];
} rec;

typedef struct mem_sink {
    sw_event_sink base;
    rec ev[MAX_EV];
    size_t n;
} mem_sink;

static int mem_emit(sw_event_sink *s, const sw_event *ev)
{
    mem_sink *m = (mem_sink *)s;
    if (m->n >= MAX_EV)
        return SW_OK;
    rec *r = &m->ev[m->n++];
    snprintf(r->rule, sizeof r->rule, "%s", ev->rule);
    snprintf(r->peer, sizeof r->peer, "%.*s", (int)ev->peer.len, ev->peer.ptr ? ev->peer.ptr : "");
    return SW_OK;
}
static int mem_noop(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}
static const sw_event_sink_ops mem_ops = {
    .name = "mem", .emit = mem_emit, .flush = mem_noop, .close = mem_noop};

static mem_sink sink;

/* Two trunks on 192.0.2.50 (ports 5060 and 5070), a third address-wide
 * claim on it for every other port, and an IPv6 pair. */
static const char overlay[] =
    "policy \"trunk test\" version \"1\"\n"
    "home { plmn 234-15; country-code 44; national-prefix 0\n"
    "       ranges +447700900000-+447700900999 }\n"
    "partner core { role core; address 10.0.0.1/32 }\n"
    "partner trunk-fr { role interconnect; address 192.0.2.50:5060\n"
    "   ranges +33639980000-+33639989999; methods INVITE ACK BYE CANCEL OPTIONS }\n"
    "partner trunk-de { role interconnect; address 192.0.2.50:5070\n"
    "   ranges +4930120000-+4930129999; methods INVITE ACK BYE CANCEL OPTIONS SUBSCRIBE NOTIFY }\n"
    "partner v6-a { role interconnect; address [2001:db8::50]:5060; ranges +3363998 }\n"
    "partner v6-b { role interconnect; address [2001:db8::50]:5061; ranges +493012 }\n"
    "rule cat1.de-no-options { category cat1; event policy_violation\n"
    "   when request and method == OPTIONS and peer == trunk-de\n"
    "   action reject 403; reason \"no OPTIONS on the German trunk\" }\n";

static sw_policy *policy;
static sw_engine *engine;
static int64_t now_ns = INT64_C(1790000000) * 1000000000;

static int setup(void **state)
{
    (void)state;
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    char path[] = "/tmp/sw_test_trunk_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, overlay, sizeof overlay - 1), (ssize_t)(sizeof overlay - 1));
    close(fd);
    const char *paths[] = {"builtin:default", path};
    static sw_policy_diags d;
    int r = sw_policy_load(paths, 2, &policy, &d);
    for (uint32_t i = 0; i < d.n; i++) {
        char line[600];
        if (sw_policy_diag_format(&d.d[i], line, sizeof line) > 0)
            print_message("%s\n", line);
    }
    unlink(path);
    assert_int_equal(r, SW_OK);
    sw_engine_config cfg = {.policy = policy, .sink = &sink.base, .passive = 1, .seed = 7};
    engine = sw_engine_new(&cfg);
    assert_non_null(engine);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sw_engine_free(engine);
    sw_policy_free(policy);
    return 0;
}

static sw_addr addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

static sw_verdict screen(const char *src, const char *text)
{
    static char buf[4096];
    size_t len = strlen(text);
    assert_true(len < sizeof buf);
    memcpy(buf, text, len);
    sw_engine_msg m = {.data = buf, .len = len, .ts_ns = now_ns, .src = addr(src),
                       .dst = addr("10.0.0.1:5060"), .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM};
    now_ns += 1000000;
    sw_verdict v;
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    return v;
}

static const char *request(const char *method, const char *from, const char *callid)
{
    static char t[1024];
    snprintf(t, sizeof t,
             "%s sip:+447700900123@ims.mnc015.mcc234.3gppnetwork.org;user=phone SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.50;branch=z9hG4bK%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:%s@example.net;user=phone>;tag=f%s\r\n"
             "To: <tel:+447700900123>\r\n"
             "Call-ID: %s@test\r\n"
             "CSeq: 1 %s\r\n"
             "Contact: <sip:%s@192.0.2.50>\r\n"
             "%s"
             "Content-Length: 0\r\n\r\n",
             method, callid, from, callid, callid, method, from,
             strcmp(method, "SUBSCRIBE") == 0 ? "Event: presence\r\n" : "");
    return t;
}

/* Each trunk's callers pass on its own port and are spoofed on the other. */
static void test_ranges_per_trunk(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) { /* alternate: the memo must tell them apart */
        char cid[32];
        snprintf(cid, sizeof cid, "fr-ok-%d", round);
        sw_verdict v = screen("192.0.2.50:5060", request("INVITE", "+33639981111", cid));
        assert_string_equal(v.facts->peer->name, "trunk-fr");
        assert_int_equal(v.action, SW_ACTION_ALLOW);
        snprintf(cid, sizeof cid, "de-ok-%d", round);
        v = screen("192.0.2.50:5070", request("INVITE", "+4930121111", cid));
        assert_string_equal(v.facts->peer->name, "trunk-de");
        assert_int_equal(v.action, SW_ACTION_ALLOW);
    }
    assert_int_equal(sink.n, 0);
    /* the French caller on the German trunk's port: outside trunk-de's ranges */
    sw_verdict v = screen("192.0.2.50:5070", request("INVITE", "+33639981111", "x-de"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_string_equal(v.rule, "cat2.cli-range");
    assert_int_equal(sink.n, 1);
    assert_string_equal(sink.ev[0].rule, "cat2.cli-range");
    assert_string_equal(sink.ev[0].peer, "trunk-de");
    v = screen("192.0.2.50:5060", request("INVITE", "+4930121111", "x-fr"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(sink.n, 2);
    assert_string_equal(sink.ev[1].peer, "trunk-fr");
}

/* Methods and rules per trunk. */
static void test_methods_and_rules_per_trunk(void **state)
{
    (void)state;
    sw_verdict v = screen("192.0.2.50:5070", request("SUBSCRIBE", "+4930121111", "sub-de"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    v = screen("192.0.2.50:5060", request("SUBSCRIBE", "+33639981111", "sub-fr"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 405);
    assert_string_equal(sink.ev[sink.n - 1].peer, "trunk-fr");
    /* the rule that names trunk-de applies to its port only */
    v = screen("192.0.2.50:5060", request("OPTIONS", "+33639981111", "opt-fr"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    v = screen("192.0.2.50:5070", request("OPTIONS", "+4930121111", "opt-de"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 403);
    assert_string_equal(v.rule, "cat1.de-no-options");
    assert_string_equal(sink.ev[sink.n - 1].peer, "trunk-de");
}

/* A port no trunk claims is the unknown zone (cat 0), not either trunk. */
static void test_unclaimed_port(void **state)
{
    (void)state;
    size_t before = sink.n;
    sw_verdict v = screen("192.0.2.50:5080", request("INVITE", "+33639981111", "unk1"));
    assert_string_equal(v.facts->peer->name, "unknown");
    assert_true(v.facts->peer->is_zone);
    assert_true(sink.n > before);
    assert_string_equal(sink.ev[sink.n - 1].peer, "");
}

static void test_ipv6_trunks(void **state)
{
    (void)state;
    sw_verdict v = screen("[2001:db8::50]:5060", request("INVITE", "+33639981111", "v6a"));
    assert_string_equal(v.facts->peer->name, "v6-a");
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    v = screen("[2001:db8::50]:5061", request("INVITE", "+33639981111", "v6b"));
    assert_string_equal(v.facts->peer->name, "v6-b");
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_string_equal(sink.ev[sink.n - 1].peer, "v6-b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ranges_per_trunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_methods_and_rules_per_trunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclaimed_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_trunks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
