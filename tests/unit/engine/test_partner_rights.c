/* Rights per partner, not only per role (issue 16), through the built-in
 * default policy and sw_engine_screen:
 * - an enterprise PBX that registers its own trunk AoR (RFC 6140 style,
 *   the partner's `register`) is never called a hijack; a REGISTER for
 *   another AoR from the same PBX still is (reg_hijack), and so is any
 *   REGISTER from a partner without `register`;
 * - MESSAGE by agreement (the partner block lists it) passes, and a
 *   conversation with one subscriber is no location probe; a partner
 *   whose methods do not include MESSAGE is refused 405. */
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

#define MAX_EV 64
typedef struct rec {
    char rule[64];
    sw_event_type type;
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
    r->type = ev->type;
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

static const char overlay[] =
    "policy \"rights test\" version \"1\"\n"
    "home { plmn 234-15; country-code 44; national-prefix 0\n"
    "       ranges +447700900000-+447700900999; domains ims.example.net }\n"
    "partner core { role core; address 10.0.0.1/32 }\n"
    "partner acme { role enterprise; address 192.0.2.70; ranges +447700900950-+447700900959\n"
    "   register sip:pbx@acme.example, +441632960000@ims.example.net }\n"
    "partner branch { role enterprise; address 192.0.2.71; register branch.example }\n"
    "partner plain { role enterprise; address 192.0.2.72 }\n"
    "partner hub { role transit; address 192.0.2.80\n"
    "   methods INVITE ACK BYE CANCEL PRACK UPDATE INFO OPTIONS MESSAGE }\n"
    "partner carrier { role transit; address 192.0.2.81 }\n"
    /* partners are not exempt from location probing here: the agreement is */
    "detector location-probe { exempt-peers no }\n";

static sw_policy *policy;
static sw_engine *engine;
static int64_t now_ns = INT64_C(1790000000) * 1000000000;

static int setup(void **state)
{
    (void)state;
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    char path[] = "/tmp/sw_test_rights_XXXXXX";
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

static sw_verdict screen(const char *src, const char *text)
{
    static char buf[4096];
    size_t len = strlen(text);
    assert_true(len < sizeof buf);
    memcpy(buf, text, len);
    sw_engine_msg m = {.data = buf, .len = len, .ts_ns = now_ns, .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse("10.0.0.1:5060", &m.dst), SW_OK);
    now_ns += 1000000000; /* 1 s apart */
    sw_verdict v;
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    return v;
}

static unsigned seq;

/* A REGISTER of AoR user@host (To), from via_ip. */
static const char *reg(const char *via_ip, const char *user, const char *host)
{
    static char t[1024];
    seq++;
    snprintf(t, sizeof t,
             "REGISTER sip:%s SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKr%u\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:%s@%s>;tag=f%u\r\n"
             "To: <sip:%s@%s>\r\n"
             "Call-ID: reg%u@test\r\n"
             "CSeq: 1 REGISTER\r\n"
             "Contact: <sip:%s@%s:5060>\r\n"
             "Expires: 3600\r\n"
             "Content-Length: 0\r\n\r\n",
             host, via_ip, seq, user, host, seq, user, host, seq, user, via_ip);
    return t;
}

static const char *message(const char *via_ip, const char *to)
{
    static char t[1024];
    seq++;
    snprintf(t, sizeof t,
             "MESSAGE sip:%s@ims.example.net SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bKm%u\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:+12025550111@hub.example>;tag=f%u\r\n"
             "To: <sip:%s@ims.example.net>\r\n"
             "Call-ID: msg%u@test\r\n"
             "CSeq: 1 MESSAGE\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 2\r\n\r\nhi",
             to, via_ip, seq, seq, to, seq);
    return t;
}

static void test_enterprise_registers_its_aor(void **state)
{
    (void)state;
    /* its own AoRs: the PBX's, and its pilot number (case-insensitive host) */
    sw_verdict v = screen("192.0.2.70:5060", reg("192.0.2.70", "pbx", "acme.example"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    v = screen("192.0.2.70:5060", reg("192.0.2.70", "+441632960000", "IMS.example.net"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    /* a domain entry: any AoR of that domain */
    v = screen("192.0.2.71:5060", reg("192.0.2.71", "reception", "branch.example"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_int_equal(sink.n, 0);
}

static void test_register_for_another_aor_is_hijack(void **state)
{
    (void)state;
    /* the same PBX registering one of our subscribers */
    sw_verdict v = screen("192.0.2.70:5060", reg("192.0.2.70", "+447700900123", "ims.example.net"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(v.type, SW_EVT_REG_HIJACK);
    assert_string_equal(v.rule, "cat1.register-not-roaming");
    /* another domain than the one given, a subdomain included */
    v = screen("192.0.2.71:5060", reg("192.0.2.71", "reception", "evil.branch.example"));
    assert_int_equal(v.type, SW_EVT_REG_HIJACK);
    /* an enterprise without `register` may register nothing */
    v = screen("192.0.2.72:5060", reg("192.0.2.72", "pbx", "plain.example"));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_int_equal(v.type, SW_EVT_REG_HIJACK);
    assert_int_equal(sink.n, 3);
    assert_string_equal(sink.ev[0].rule, "cat1.register-not-roaming");
}

static void test_message_by_agreement(void **state)
{
    (void)state;
    /* a conversation: 6 MESSAGEs to one subscriber within a minute */
    for (int i = 0; i < 6; i++) {
        sw_verdict v = screen("192.0.2.80:5060", message("192.0.2.80", "+447700900123"));
        assert_int_equal(v.action, SW_ACTION_ALLOW);
    }
    assert_int_equal(sink.n, 0);
    /* a transit carrier without the agreement: 405 */
    sw_verdict v = screen("192.0.2.81:5060", message("192.0.2.81", "+447700900124"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 405);
}

static const char *invite(const char *via_ip, const char *a, const char *callid)
{
    static char t[1024];
    snprintf(t, sizeof t,
             "INVITE sip:+34915550123@ims.example.net;user=phone SIP/2.0\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:%s@acme.example;user=phone>;tag=f%s\r\n"
             "To: <tel:+34915550123>\r\n"
             "Call-ID: %s@test\r\n"
             "CSeq: 1 INVITE\r\n"
             "Contact: <sip:%s@%s:5060>\r\n"
             "Content-Length: 0\r\n\r\n",
             via_ip, callid, a, callid, callid, a, via_ip);
    return t;
}

/* An enterprise PBX presents numbers of ours allocated to it (its
 * `ranges`): no spoofing, even though the location feed has them at home;
 * our other subscribers' numbers from the same PBX still are. */
static void test_enterprise_presents_its_numbers(void **state)
{
    (void)state;
    static const char feed[] = "# number\tplmn\tsince\n"
                               "+447700900951\t234-15\t2026-09-21T08:00:00Z\n"
                               "+447700900123\t234-15\t2026-09-21T08:00:00Z\n";
    char path[] = "/tmp/sw_test_rfeed_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, feed, sizeof feed - 1), (ssize_t)(sizeof feed - 1));
    close(fd);
    sw_location_feed *f = NULL;
    static sw_policy_diags d;
    assert_int_equal(sw_location_feed_load(path, &f, &d), SW_OK);
    unlink(path);
    sw_engine_set_location_feed(engine, f);
    sw_verdict v = screen("192.0.2.70:5060", invite("192.0.2.70", "+447700900951", "own1"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    v = screen("192.0.2.70:5060", invite("192.0.2.70", "+447700900123", "other1"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.type, SW_EVT_CLI_SPOOFING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enterprise_registers_its_aor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_for_another_aor_is_hijack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_by_agreement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enterprise_presents_its_numbers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
