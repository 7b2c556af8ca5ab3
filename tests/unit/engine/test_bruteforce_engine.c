/* Brute force end to end through sw_engine_screen: REGISTERs with digest
 * credentials from an unknown source, the core's 401s and the 200 that
 * ends the guessing (bruteforce.compromised: the event names the username,
 * never the response or nonce, and the source is blocked). */
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
    sw_event_type type;
    sw_action action;
    uint8_t confidence;
    int64_t expires;
    char username[64]; /* evidence "username", "" = absent */
    char offender[64];
    char reason[256];
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
    memset(r, 0, sizeof *r);
    snprintf(r->rule, sizeof r->rule, "%s", ev->rule);
    r->type = ev->type;
    r->action = ev->action;
    r->confidence = ev->confidence;
    r->expires = ev->expires_ns;
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)ev->reason.len,
             ev->reason.ptr ? ev->reason.ptr : "");
    for (unsigned i = 0; i < ev->nevidence; i++) {
        const sw_evidence *e = &ev->evidence[i];
        if (strcmp(e->key, "username") == 0)
            snprintf(r->username, sizeof r->username, "%.*s", (int)e->str.len, e->str.ptr);
        if (strcmp(e->key, "offender") == 0)
            snprintf(r->offender, sizeof r->offender, "%.*s", (int)e->str.len, e->str.ptr);
    }
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
    "policy \"bruteforce engine test\" version \"1\"\n"
    "home { plmn 234-15; country-code 44; national-prefix 0\n"
    "       domains example.org }\n"
    "partner core { role core; address 10.0.0.1/32 }\n"
    "zone unknown { admit screen; trust untrusted }\n"
    "detector bruteforce { action drop; confidence 90\n"
    "   compromised-failures 3; network-prefix-v4 22; network-prefix-v6 56\n"
    "   network-window 20m; network-failures 30; network-users 8; network-failure-ratio 75%\n"
    "   realm-failures 100; realm-users 16; realm-sources 6 }\n"
    "rule cat1.no-refer { category cat1; event policy_violation\n"
    "   when method == REFER and request\n"
    "   action drop; reason \"no REFER here\" }\n";

static sw_policy *policy;
static sw_engine *engine;
static int64_t now_ns = INT64_C(1790000000) * 1000000000;

static int setup(void **state)
{
    (void)state;
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    char path[] = "/tmp/sw_test_bf_engine_XXXXXX";
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
    sw_engine_config cfg = {.policy = policy, .sink = &sink.base, .passive = 1, .seed = 42};
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

static sw_verdict screen(const char *src, const char *dst, const char *text)
{
    static char buf[4096];
    size_t len = strlen(text);
    assert_true(len < sizeof buf);
    memcpy(buf, text, len);
    sw_engine_msg m = {.data = buf, .len = len, .ts_ns = now_ns, .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM};
    assert_int_equal(sw_addr_parse(src, &m.src), SW_OK);
    assert_int_equal(sw_addr_parse(dst, &m.dst), SW_OK);
    now_ns += 2 * INT64_C(1000000000); /* one guess every 2 s */
    sw_verdict v;
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    return v;
}

#define RESPONSE_HASH "5f0c2a7d9e3b41c8a6f2d0b9e7c3a1f4"

/* One credentialed REGISTER (CSeq n) from ip and the core's answer. */
static sw_verdict attempt(const char *ip, const char *user, unsigned n, unsigned status,
                          int stale)
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
             "Contact: <sip:%s@%s:5060>\r\n"
             "Authorization: Digest username=\"%s\", realm=\"example.org\", nonce=\"n%u\", "
             "uri=\"sip:example.org\", response=\"" RESPONSE_HASH "\", algorithm=MD5\r\n"
             "Expires: 3600\r\n"
             "Content-Length: 0\r\n\r\n",
             ip, user, n, user, n, user, user, ip, n, user, ip, user, n);
    sw_verdict v = screen(src, "10.0.0.1:5060", req);
    const char *reason = status == 200 ? "OK" : "Unauthorized";
    char auth[160] = "";
    if (status == 401)
        snprintf(auth, sizeof auth,
                 "WWW-Authenticate: Digest realm=\"example.org\", nonce=\"m%u\", algorithm=MD5%s\r\n",
                 n, stale ? ", stale=true" : "");
    snprintf(resp, sizeof resp,
             "SIP/2.0 %u %s\r\n"
             "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%u\r\n"
             "From: <sip:%s@example.org>;tag=f%u\r\n"
             "To: <sip:%s@example.org>;tag=t%u\r\n"
             "Call-ID: crack-%s@%s\r\n"
             "CSeq: %u REGISTER\r\n"
             "%s"
             "Content-Length: 0\r\n\r\n",
             status, reason, ip, user, n, user, n, user, n, user, ip, n, auth);
    (void)screen("10.0.0.1:5060", src, resp);
    return v;
}

static const rec *find(const char *rule)
{
    for (size_t i = 0; i < sink.n; i++)
        if (strcmp(sink.ev[i].rule, rule) == 0)
            return &sink.ev[i];
    return NULL;
}

static void test_success_after_failures(void **state)
{
    (void)state;
    /* four wrong passwords (below the guessing threshold), then the right one */
    for (unsigned i = 1; i <= 4; i++) {
        sw_verdict v = attempt("198.51.100.7", "1001", i, 401, 0);
        assert_int_equal(v.action, SW_ACTION_ALLOW);
    }
    assert_null(find("bruteforce.guessing"));
    assert_null(find("bruteforce.compromised"));
    (void)attempt("198.51.100.7", "1001", 5, 200, 0);
    const rec *r = find("bruteforce.compromised");
    assert_non_null(r);
    assert_int_equal(r->type, SW_EVT_SIP_BRUTEFORCE);
    assert_int_equal(r->confidence, 100);
    assert_int_equal(r->action, SW_ACTION_DROP);
    assert_true(r->expires > now_ns);
    assert_string_equal(r->username, "1001");
    assert_string_equal(r->offender, "198.51.100.7");
    assert_non_null(strstr(r->reason, "'1001'"));
    assert_null(strstr(r->reason, RESPONSE_HASH));
    /* the source is blocked now */
    sw_verdict v = attempt("198.51.100.7", "1001", 6, 200, 0);
    assert_true(v.blocked);
    assert_int_equal(v.action, SW_ACTION_DROP);
}

static void test_success_without_failures(void **state)
{
    (void)state;
    /* stale nonces are no failures; one success after them is nothing */
    for (unsigned i = 1; i <= 4; i++)
        (void)attempt("198.51.100.8", "2002", i, 401, 1);
    sw_verdict v = attempt("198.51.100.8", "2002", 5, 200, 0);
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    v = attempt("198.51.100.9", "2003", 1, 200, 0);
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_int_equal(sink.n, 0);
}

/* The policy language sets every new parameter. */
static void test_policy_settings(void **state)
{
    (void)state;
    const int64_t *p = policy->detectors[SW_DET_BRUTEFORCE].params;
    assert_int_equal(p[SW_DP_BF_COMPROMISED_FAILURES], 3);
    assert_int_equal(p[SW_DP_BF_NET_PREFIX_V4], 22);
    assert_int_equal(p[SW_DP_BF_NET_PREFIX_V6], 56);
    assert_int_equal(p[SW_DP_BF_NET_WINDOW], 1200 * SW_NS_S);
    assert_int_equal(p[SW_DP_BF_NET_FAILURES], 30);
    assert_int_equal(p[SW_DP_BF_NET_USERS], 8);
    assert_int_equal(p[SW_DP_BF_NET_FAILURE_RATIO], 75);
    assert_int_equal(p[SW_DP_BF_REALM_FAILURES], 100);
    assert_int_equal(p[SW_DP_BF_REALM_USERS], 16);
    assert_int_equal(p[SW_DP_BF_REALM_SOURCES], 6);
    assert_int_equal(p[SW_DP_BF_FAILURES], 10); /* untouched: the default */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_after_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_without_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_settings, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
