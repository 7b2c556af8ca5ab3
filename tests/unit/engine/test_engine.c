/* The screening engine end to end on crafted messages: peers and zones
 * (cat 0), each rule category of the shipped default policy (cat 1-3),
 * allowlists, monitor mode, privacy actions, event capping and summaries,
 * blocks, and flat memory under a flood from a million random sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/engine.h"
#include "sipwall/policy.h"

/* ---- a memory sink keeping the rule, type, action and mode of each event ---- */
#define MAX_EV 4096
typedef struct rec {
    char rule[64];
    sw_event_type type;
    sw_action action;
    uint16_t status;
    uint8_t monitor;
    int64_t expires;
    int64_t suppressed; /* evidence "suppressed", -1 when absent */
    char peer[32];      /* the partner the event names, "" = none */
} rec;

typedef struct mem_sink {
    sw_event_sink base;
    rec ev[MAX_EV];
    size_t n;
    uint64_t total;
} mem_sink;

static int mem_emit(sw_event_sink *s, const sw_event *ev)
{
    mem_sink *m = (mem_sink *)s;
    m->total++;
    if (m->n >= MAX_EV)
        return SW_OK;
    rec *r = &m->ev[m->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->rule, sizeof r->rule, "%s", ev->rule);
    r->type = ev->type;
    r->action = ev->action;
    r->status = ev->action_status;
    r->monitor = ev->monitor;
    r->expires = ev->expires_ns;
    r->suppressed = -1;
    snprintf(r->peer, sizeof r->peer, "%.*s", (int)ev->peer.len, ev->peer.ptr ? ev->peer.ptr : "");
    for (unsigned i = 0; i < ev->nevidence; i++)
        if (strcmp(ev->evidence[i].key, "suppressed") == 0)
            r->suppressed = ev->evidence[i].num;
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

static size_t count_rule(const char *rule)
{
    size_t k = 0;
    for (size_t i = 0; i < sink.n; i++)
        k += strcmp(sink.ev[i].rule, rule) == 0;
    return k;
}

/* ---- the policy: the shipped default with a small network on top ---------- */
static const char overlay[] =
    "policy \"engine test\" version \"1\"\n"
    "home { plmn 234-15; country-code 44; national-prefix 0\n"
    "       ranges +447700900000-+447700900999\n"
    "       domains ims.mnc015.mcc234.3gppnetwork.org }\n"
    "partner core { role core; address 10.0.0.1/32 }\n"
    "partner alpha { role interconnect; address 192.0.2.10/32; ranges +33639980000-+33639989999; plmn 208-01 }\n"
    "partner transit1 { role transit; address 192.0.2.20/32 }\n"
    "partner roam { role roaming; address 192.0.2.30/32; domains ims.mnc001.mcc208.3gppnetwork.org; plmn 208-01 }\n"
    "partner untrusted-peer { role interconnect; trust untrusted; address 192.0.2.40/32 }\n"
    "partner wholesale { role transit; address 192.0.2.50/32; concurrency 6 }\n"
    "list allow-sources addresses { 198.51.100.99/32 }\n"
    "rule mon.options-probe { category cat1; event policy_violation\n"
    "   when method == OPTIONS and request and ruri.user == \"probe\"\n"
    "   action drop; mode monitor; reason \"monitor-only test rule\" }\n";

static sw_policy *policy;
static sw_engine *engine;
static int64_t now_ns = INT64_C(1790000000) * 1000000000;

static void load(void)
{
    char path[] = "/tmp/sw_test_engine_XXXXXX";
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
}

static int setup(void **state)
{
    (void)state;
    memset(&sink, 0, sizeof sink);
    sink.base.ops = &mem_ops;
    load();
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
    engine = NULL;
    policy = NULL;
    return 0;
}

static sw_addr addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

/* Screens one message text from src to dst; returns the verdict. */
static sw_verdict screen(const char *src, const char *dst, const char *text)
{
    static char buf[70000];
    size_t len = strlen(text);
    assert_true(len < sizeof buf);
    memcpy(buf, text, len);
    sw_engine_msg m = {.data = buf, .len = len, .ts_ns = now_ns, .src = addr(src), .dst = addr(dst),
                       .transport = SW_TRANSPORT_UDP, .framing = SW_SIP_DATAGRAM};
    now_ns += 1000000; /* 1 ms apart */
    sw_verdict v;
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    return v;
}

#define INVITE_FMT                                                                       \
    "INVITE sip:%s@ims.mnc015.mcc234.3gppnetwork.org;user=phone SIP/2.0\r\n"             \
    "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s\r\n"                                      \
    "Max-Forwards: 70\r\n"                                                              \
    "From: <sip:%s@example.net;user=phone>;tag=f%s\r\n"                                  \
    "To: <tel:%s>\r\n"                                                                  \
    "Call-ID: %s@test\r\n"                                                              \
    "CSeq: 1 INVITE\r\n"                                                                \
    "Contact: <sip:%s@%s:5060>\r\n"                                                     \
    "%s"                                                                               \
    "Content-Length: 0\r\n\r\n"

static const char *invite(const char *via_ip, const char *a, const char *b, const char *callid,
                          const char *extra)
{
    static char t[4096];
    snprintf(t, sizeof t, INVITE_FMT, b, via_ip, callid, a, callid, b, callid, a, via_ip, extra);
    return t;
}

/* ---- cat 0 --------------------------------------------------------------------- */
static void test_unknown_zone_dropped_one_event(void **state)
{
    (void)state;
    for (int i = 0; i < 50; i++) {
        char ip[32], cid[32];
        snprintf(ip, sizeof ip, "203.0.113.%d:5060", i + 1);
        snprintf(cid, sizeof cid, "unk%d", i);
        sw_verdict v = screen(ip, "10.0.0.1:5060",
                              invite("203.0.113.1", "+33639981111", "+447700900123", cid, ""));
        assert_int_equal(v.action, SW_ACTION_DROP);
        assert_true(v.admission);
    }
    /* one zone-wide key: events-per-key (10) admission events, not 50 */
    assert_int_equal(count_rule("cat0.admission"), 10);
    assert_int_equal(sw_engine_flush(engine, now_ns), SW_OK);
    /* the rest is summarised, except what the flood detector names: one
     * caller flooding one callee from random sources (its messages are the
     * flood's, docs/events.md "Which event") */
    int found = 0, flood = 0;
    for (size_t i = 0; i < sink.n; i++) {
        if (strcmp(sink.ev[i].rule, "cat0.admission") == 0 && sink.ev[i].suppressed > 0 &&
            sink.ev[i].suppressed <= 40)
            found = 1;
        flood |= strcmp(sink.ev[i].rule, "flood.caller") == 0 && sink.ev[i].type == SW_EVT_SIP_FLOOD;
    }
    assert_true(found);
    assert_true(flood);
}

static void test_partner_call_allowed(void **state)
{
    (void)state;
    sw_verdict v = screen("192.0.2.10:5060", "10.0.0.1:5060",
                          invite("192.0.2.10", "+33639981111", "+447700900123", "ok1", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_int_equal(v.events, 0);
    assert_int_equal(sink.n, 0);
    assert_string_equal(v.facts->peer->name, "alpha");
    assert_int_equal(v.facts->direction, SW_DIR_INGRESS);
    assert_true(v.facts->b_subscriber);
}

/* Per-message parser limits (sw_engine_msg.sip_limits, the side a message
 * came from in sipwalld): the same message is malformed under tight
 * limits, in the preparse and the screen alike, and fine under the
 * engine's own. */
static void test_message_limits(void **state)
{
    (void)state;
    static char text[2048];
    snprintf(text, sizeof text, INVITE_FMT, "+447700900123", "192.0.2.10", "lim1", "+33639981111", "lim1",
             "+447700900123", "lim1", "+33639981111", "192.0.2.10",
             "Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKa\r\n"
             "Via: SIP/2.0/UDP 192.0.2.51:5060;branch=z9hG4bKb\r\n"
             "Via: SIP/2.0/UDP 192.0.2.52:5060;branch=z9hG4bKc\r\n");
    sw_sip_limits tight;
    sw_sip_limits_default(&tight);
    tight.max_via = 2;
    sw_engine_msg m = {.data = text, .len = strlen(text), .ts_ns = now_ns, .src = addr("192.0.2.10:5060"),
                       .dst = addr("10.0.0.1:5060"), .transport = SW_TRANSPORT_UDP,
                       .framing = SW_SIP_DATAGRAM, .sip_limits = &tight};
    assert_null(sw_engine_preparse(engine, &m));
    sw_verdict v;
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    assert_true(v.facts->malformed);
    assert_string_equal(v.rule, "cat1.malformed");
    assert_int_equal(v.facts->error.code, SW_ELIMIT);
    /* the engine's own limits (64 Via) */
    m.sip_limits = NULL;
    m.ts_ns = now_ns += 1000000;
    assert_non_null(sw_engine_preparse(engine, &m));
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    assert_false(v.facts->malformed);
    /* tight size */
    assert_true(m.len > 256);
    tight.max_via = 64;
    tight.max_msg_size = 256; /* the message is ~480 bytes */
    m.sip_limits = &tight;
    m.ts_ns = now_ns += 1000000;
    assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
    assert_true(v.facts->malformed);
    assert_int_equal(v.facts->error.code, SW_ELIMIT);
}

/* ---- cat 1 ----------------------------------------------------------------------- */
static void test_malformed_rejected(void **state)
{
    (void)state;
    /* CSeq method differs from the request method */
    static const char bad[] = "INVITE sip:+447700900123@h SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx1\r\n"
                              "From: <sip:+33639981111@h>;tag=1\r\nTo: <sip:+447700900123@h>\r\n"
                              "Call-ID: m1\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    sw_verdict v = screen("192.0.2.10:5060", "10.0.0.1:5060", bad);
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 400);
    assert_string_equal(v.rule, "cat1.malformed");
    assert_int_equal(sink.ev[0].type, SW_EVT_SIP_MALFORMED);
    assert_string_equal(sink.ev[0].peer, "alpha"); /* the partner that sent it */
    /* garbage without a Via: nobody to answer, dropped */
    v = screen("192.0.2.10:5060", "10.0.0.1:5060", "\x01\x02 garbage\r\n\r\n");
    assert_int_equal(v.action, SW_ACTION_DROP);
    /* the core's own broken response is not screened (forwarded as is) */
    v = screen("10.0.0.1:5060", "192.0.2.10:5060", "SIP/2.0 487 Request Terminated\r\nCall-ID: x\r\n\r\n");
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

static void test_method_not_allowed_and_register(void **state)
{
    (void)state;
    static const char sub[] = "SUBSCRIBE sip:+447700900123@h SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKs1\r\n"
                              "From: <sip:+33639981111@h>;tag=1\r\nTo: <sip:+447700900123@h>\r\n"
                              "Call-ID: s1\r\nCSeq: 1 SUBSCRIBE\r\nMax-Forwards: 70\r\nEvent: presence\r\n"
                              "Content-Length: 0\r\n\r\n";
    sw_verdict v = screen("192.0.2.10:5060", "10.0.0.1:5060", sub);
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 405);
    /* REGISTER from an interconnect partner: not allowed (405 from the method list) */
    static const char reg[] = "REGISTER sip:ims.mnc015.mcc234.3gppnetwork.org SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bKr1\r\n"
                              "From: <sip:+447700900101@ims.mnc015.mcc234.3gppnetwork.org>;tag=1\r\n"
                              "To: <sip:+447700900101@ims.mnc015.mcc234.3gppnetwork.org>\r\n"
                              "Call-ID: r1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
                              "Contact: <sip:+447700900101@192.0.2.30>;expires=600\r\n"
                              "P-Visited-Network-ID: \"ims.mnc001.mcc208.3gppnetwork.org\"\r\n"
                              "Content-Length: 0\r\n\r\n";
    v = screen("192.0.2.10:5060", "10.0.0.1:5060", reg);
    assert_int_equal(v.action, SW_ACTION_REJECT);
    /* the same REGISTER from the roaming partner with its own network id: fine */
    v = screen("192.0.2.30:5060", "10.0.0.1:5060", reg);
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

static const rec *find_rule(const char *rule)
{
    for (size_t i = 0; i < sink.n; i++)
        if (strcmp(sink.ev[i].rule, rule) == 0)
            return &sink.ev[i];
    return NULL;
}

static void test_scanner_signature_blocks(void **state)
{
    (void)state;
    static const char opt[] = "OPTIONS sip:100@10.0.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bK-123;rport\r\n"
                              "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=6162\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
                              "Call-ID: 1234\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                              "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n";
    sw_verdict v = screen("203.0.113.50:5060", "10.0.0.1:5060", opt);
    assert_int_equal(v.action, SW_ACTION_DROP);
    const rec *r = find_rule("cat1.scanner-signature");
    assert_non_null(r);
    assert_int_equal(r->type, SW_EVT_SIP_SCAN);
    assert_true(r->expires > now_ns);
    assert_string_equal(r->peer, ""); /* an unknown source is no partner */
    /* the source is blocked now: its next message is dropped silently */
    size_t before = sink.n;
    v = screen("203.0.113.50:5060", "10.0.0.1:5060",
               invite("203.0.113.50", "+33639981111", "+447700900123", "after", ""));
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_true(v.blocked);
    assert_int_equal(sink.n, before);
    /* the block's summary comes at flush */
    assert_int_equal(sw_engine_flush(engine, now_ns), SW_OK);
    int found = 0;
    for (size_t i = before; i < sink.n; i++)
        found |= strcmp(sink.ev[i].rule, "cat1.scanner-signature") == 0 && sink.ev[i].suppressed == 1;
    assert_true(found);
    /* the same signature from a configured partner: dropped, reported, never blocked */
    before = sink.n;
    v = screen("192.0.2.10:5060", "10.0.0.1:5060", opt);
    assert_int_equal(v.action, SW_ACTION_DROP);
    assert_true(sink.n > before);
    assert_string_equal(sink.ev[before].peer, "alpha");
    v = screen("192.0.2.10:5060", "10.0.0.1:5060",
               invite("192.0.2.10", "+33639981111", "+447700900123", "partner-after", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

static void test_ruri_overflow_and_folding(void **state)
{
    (void)state;
    char big[1200];
    memset(big, '9', 600);
    big[600] = '\0';
    sw_verdict v = screen("192.0.2.10:5060", "10.0.0.1:5060",
                          invite("192.0.2.10", "+33639981111", big, "ovf", ""));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 414);
    char folded[2000] = "Subject: a";
    for (int i = 0; i < 40; i++)
        strcat(folded, "\r\n b");
    strcat(folded, "\r\n");
    v = screen("192.0.2.10:5060", "10.0.0.1:5060",
               invite("192.0.2.10", "+33639981111", "+447700900123", "fold", folded));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_string_equal(v.rule, "cat1.folding-abuse");
    /* 20 folds is still fine */
    strcpy(folded, "Subject: a");
    for (int i = 0; i < 20; i++)
        strcat(folded, "\r\n b");
    strcat(folded, "\r\n");
    v = screen("192.0.2.10:5060", "10.0.0.1:5060",
               invite("192.0.2.10", "+33639981111", "+447700900123", "fold2", folded));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

/* ---- cat 2 ------------------------------------------------------------------------ */
static void test_cli_range(void **state)
{
    (void)state;
    /* PAI outside alpha's range */
    sw_verdict v = screen("192.0.2.10:5060", "10.0.0.1:5060",
                          invite("192.0.2.10", "+33639981111", "+447700900123", "spoof1",
                                 "P-Asserted-Identity: <tel:+12025550111>\r\n"));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_string_equal(v.rule, "cat2.cli-range");
    assert_int_equal(v.type, SW_EVT_CLI_SPOOFING);
    /* inside the range: fine */
    v = screen("192.0.2.10:5060", "10.0.0.1:5060",
               invite("192.0.2.10", "+33639981111", "+447700900123", "spoof2",
                      "P-Asserted-Identity: <tel:+33639980001>\r\n"));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    /* a transit carrier carries third-party numbers: no range check */
    v = screen("192.0.2.20:5060", "10.0.0.1:5060",
               invite("192.0.2.20", "+12025550111", "+447700900123", "transit1", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

static void test_national_cli_on_international(void **state)
{
    (void)state;
    /* our own number from a transit carrier, no location feed: spoofed */
    sw_verdict v = screen("192.0.2.20:5060", "10.0.0.1:5060",
                          invite("192.0.2.20", "+447700900555", "+447700900123", "nat1", ""));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_string_equal(v.rule, "cat2.national-cli-international");
    /* national format (0 + national number) normalises to the same number */
    v = screen("192.0.2.20:5060", "10.0.0.1:5060",
               invite("192.0.2.20", "07700900555", "+447700900123", "nat2", ""));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_string_equal(v.facts->a, "+447700900555");
}

static void test_irsf_hot_destination(void **state)
{
    (void)state;
    /* One call to a hot destination is a signal, not a verdict (an
     * enterprise's call to those countries): it passes, no event. */
    size_t before = sink.n;
    sw_verdict v = screen("192.0.2.20:5060", "10.0.0.1:5060",
                          invite("192.0.2.20", "+12025550111", "+88216123456", "hot1", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_int_equal(sink.n, before);
    /* The pattern: the carrier spreads calls from rotating A-numbers over
     * distinct numbers of hot ranges (6 distinct by default, most of its
     * calls): from then on its hot calls are refused, one event. */
    for (int i = 0; i < 5; i++) {
        char a[32], b[32], cid[32];
        snprintf(a, sizeof a, "+1202555%04d", 200 + i * 17);
        snprintf(b, sizeof b, "+882161%d%04d", i + 3, 1000 + i * 7); /* distinct ranges */
        snprintf(cid, sizeof cid, "hotp%d", i);
        v = screen("192.0.2.20:5060", "10.0.0.1:5060", invite("192.0.2.20", a, b, cid, ""));
    }
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 403);
    assert_int_equal(v.type, SW_EVT_IRSF_CALL);
    assert_string_equal(sink.ev[sink.n - 1].rule, "irsf.spread");
    assert_int_equal(sink.n, before + 1);
    /* an international B that is no E.164 number (18 digits): manipulated, 484 */
    v = screen("192.0.2.20:5060", "10.0.0.1:5060",
               invite("192.0.2.20", "+12025550111", "+441234567890123456", "badb1", ""));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.status, 484);
    assert_string_equal(v.rule, "cat2.invalid-international-b");
    /* a valid foreign number that is not on the hot list passes */
    v = screen("192.0.2.20:5060", "10.0.0.1:5060",
               invite("192.0.2.20", "+12025550111", "+4915112345678", "okb1", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

/* ---- cat 3 (location feed) ----------------------------------------------------------- */
static void with_feed(const char *text)
{
    char path[] = "/tmp/sw_test_feed_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sw_location_feed *f = NULL;
    static sw_policy_diags d;
    assert_int_equal(sw_location_feed_load(path, &f, &d), SW_OK);
    unlink(path);
    sw_engine_set_location_feed(engine, f);
}

static void test_cat3_roaming_and_home(void **state)
{
    (void)state;
    with_feed("# number\tplmn\tsince\n"
              "+447700900555\t208-01\t2026-09-21T08:00:00Z\n"   /* roaming in France */
              "+447700900556\t234-15\t2026-09-21T08:00:00Z\n"); /* at home */
    /* the roamer's own CLI from abroad: allowed (Ofcom roaming exemption) */
    sw_verdict v = screen("192.0.2.20:5060", "10.0.0.1:5060",
                          invite("192.0.2.20", "+447700900555", "+447700900123", "roam1", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    /* a subscriber attached at home "calling from abroad": spoofed */
    v = screen("192.0.2.20:5060", "10.0.0.1:5060",
               invite("192.0.2.20", "+447700900556", "+447700900123", "home1", ""));
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.type, SW_EVT_CLI_SPOOFING);
}

static void test_cat3_impossible_travel(void **state)
{
    (void)state;
    /* updated in France 1 minute ago; a roaming partner now claims Australia */
    char feed[256];
    time_t t = (time_t)(now_ns / 1000000000) - 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[64];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(feed, sizeof feed, "+447700900557\t208-01\t%s\n", ts);
    with_feed(feed);
    static const char reg[] = "REGISTER sip:ims.mnc015.mcc234.3gppnetwork.org SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bKt1\r\n"
                              "From: <sip:+447700900557@ims.mnc015.mcc234.3gppnetwork.org>;tag=1\r\n"
                              "To: <sip:+447700900557@ims.mnc015.mcc234.3gppnetwork.org>\r\n"
                              "Call-ID: t1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
                              "Contact: <sip:+447700900557@192.0.2.30>;expires=600\r\n"
                              "P-Visited-Network-ID: \"ims.mnc001.mcc505.3gppnetwork.org\"\r\n"
                              "Content-Length: 0\r\n\r\n";
    sw_verdict v = screen("192.0.2.30:5060", "10.0.0.1:5060", reg);
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.type, SW_EVT_REG_HIJACK);
}

/* ---- allowlists, monitor mode, privacy ------------------------------------------------ */
static void test_allowlist_wins(void **state)
{
    (void)state;
    static const char opt[] = "OPTIONS sip:100@10.0.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 198.51.100.99:5060;branch=z9hG4bK-1\r\n"
                              "From: <sip:100@1.1.1.1>;tag=1\r\nTo: <sip:100@1.1.1.1>\r\n"
                              "Call-ID: al1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                              "User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n";
    sw_verdict v = screen("198.51.100.99:5060", "10.0.0.1:5060", opt);
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_string_equal(v.rule, "allow.sources");
    assert_int_equal(sink.n, 0);
}

static void test_monitor_mode(void **state)
{
    (void)state;
    static const char opt[] = "OPTIONS sip:probe@10.0.0.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKm1\r\n"
                              "From: <sip:+33639981111@h>;tag=1\r\nTo: <sip:probe@h>\r\n"
                              "Call-ID: mon1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    sw_verdict v = screen("192.0.2.10:5060", "10.0.0.1:5060", opt);
    assert_int_equal(v.action, SW_ACTION_ALLOW);
    assert_int_equal(v.monitor_hits, 1);
    assert_int_equal(sink.n, 1);
    assert_string_equal(sink.ev[0].rule, "mon.options-probe");
    assert_true(sink.ev[0].monitor);
    assert_int_equal(sink.ev[0].action, SW_ACTION_DROP);
}

static void test_privacy(void **state)
{
    (void)state;
    /* trust-domain header from an untrusted peer: stripped, pai_injection */
    sw_verdict v = screen("192.0.2.40:5060", "10.0.0.1:5060",
                          invite("192.0.2.40", "+12025550111", "+447700900123", "pai1",
                                 "P-Asserted-Identity: <tel:+12025550111>\r\n"));
    assert_true(sw_hdr_mask_has(&v.strip, SW_HDR_P_ASSERTED_IDENTITY));
    assert_int_equal(v.action, SW_ACTION_STRIP);
    /* a trust-domain header the parser has no id for is stripped by name */
    v = screen("192.0.2.40:5060", "10.0.0.1:5060",
               invite("192.0.2.40", "+12025550111", "+447700900123", "psu1",
                      "P-Served-User: <sip:+447700900001@ims>;sescase=orig\r\n"));
    assert_int_equal(v.action, SW_ACTION_STRIP);
    assert_int_equal(v.nstrip_names, 1);
    assert_string_equal(v.strip_names[0], "P-Served-User");
    /* from a configured (transit-like) partner that is routine: no event */
    for (size_t i = 0; i < sink.n; i++)
        assert_int_not_equal(sink.ev[i].type, SW_EVT_PAI_INJECTION);
    /* from a source that is no partner at all: an injection attempt */
    (void)screen("203.0.113.60:5060", "10.0.0.1:5060",
                 invite("203.0.113.60", "+12025550111", "+447700900123", "pai2",
                        "P-Asserted-Identity: <tel:+12025550111>\r\n"));
    int found = 0;
    for (size_t i = 0; i < sink.n; i++)
        found |= sink.ev[i].type == SW_EVT_PAI_INJECTION;
    assert_true(found);
    /* a response from the core toward the untrusted peer leaks the cell id */
    static const char resp[] = "SIP/2.0 200 OK\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.40:5060;branch=z9hG4bKp1\r\n"
                               "From: <sip:+12025550111@h>;tag=1\r\nTo: <sip:+447700900123@h>;tag=2\r\n"
                               "Call-ID: p1\r\nCSeq: 1 INVITE\r\n"
                               "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=2341500010001\r\n"
                               "Server: CoreSBC/4.2.1\r\nContent-Length: 0\r\n\r\n";
    size_t before = sink.n;
    v = screen("10.0.0.1:5060", "192.0.2.40:5060", resp);
    assert_int_equal(v.action, SW_ACTION_STRIP);
    assert_true(sw_hdr_mask_has(&v.strip, SW_HDR_P_ACCESS_NETWORK_INFO));
    assert_true(sw_hdr_mask_has(&v.sanitize, SW_HDR_SERVER));
    assert_int_equal(sink.n, before + 1);
    assert_int_equal(sink.ev[before].type, SW_EVT_PRIVACY_LEAK);
    /* sent by the core: the event names the partner it goes to */
    assert_string_equal(sink.ev[before].peer, "untrusted-peer");
    /* the same toward a trusted partner: nothing */
    v = screen("10.0.0.1:5060", "192.0.2.10:5060", resp);
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

/* ---- event capping ------------------------------------------------------------------- */
static void test_event_cap_and_summary(void **state)
{
    (void)state;
    for (int i = 0; i < 100; i++)
        (void)screen("192.0.2.10:5060", "10.0.0.1:5060", "NOT SIP AT ALL\r\n\r\n");
    assert_int_equal(count_rule("cat1.malformed"), 10);
    assert_int_equal(sw_engine_flush(engine, now_ns), SW_OK);
    int64_t suppressed = 0;
    for (size_t i = 0; i < sink.n; i++)
        if (strcmp(sink.ev[i].rule, "cat1.malformed") == 0 && sink.ev[i].suppressed > 0)
            suppressed += sink.ev[i].suppressed;
    assert_int_equal(suppressed, 90);
}

/* ---- a million random sources: memory flat, events bounded ------------------------------ */
static void test_random_source_flood(void **state)
{
    (void)state;
    size_t mem0 = sw_engine_memory(engine);
    uint64_t x = 88172645463325252ull;
    static char msg[1024];
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sw_addr src = {.family = 4, .port = (uint16_t)(1024 + (x & 0x7fff))};
        memcpy(src.ip, &x, 4);
        int n = snprintf(msg, sizeof msg,
                         "INVITE sip:+4477009%05u@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK%llx\r\n"
                         "From: <sip:+3363998%04u@h>;tag=%u\r\nTo: <sip:+4477009%05u@h>\r\n"
                         "Call-ID: %llx\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                         (unsigned)(x % 100000), (unsigned long long)x, (unsigned)((x >> 20) % 10000),
                         (unsigned)(x >> 40), (unsigned)(x % 100000), (unsigned long long)x);
        sw_engine_msg m = {.data = msg, .len = (size_t)n, .ts_ns = now_ns, .src = src,
                           .dst = addr("10.0.0.1:5060"), .transport = SW_TRANSPORT_UDP};
        now_ns += 10000; /* 100k messages/s */
        sw_verdict v;
        assert_int_equal(sw_engine_screen(engine, &m, &v), SW_OK);
        assert_int_equal(v.action, SW_ACTION_DROP);
    }
    assert_int_equal(sw_engine_memory(engine), mem0);
    sw_engine_stats st;
    sw_engine_get_stats(engine, &st);
    assert_int_equal(st.messages, 1000000);
    /* a storm of a million messages is a few hundred events, not a million */
    print_message("flood: %llu events, %llu held back, detector entries %u, evictions %llu, %zu KiB state\n",
                  (unsigned long long)st.events, (unsigned long long)st.events_suppressed,
                  st.detect.entries, (unsigned long long)st.detect.evictions, mem0 / 1024);
    assert_true(st.events < 5000);
    assert_true(sink.total < 5000);
}


/* ---- sw_engine_preparse: one parse shared with the caller ---------------------- */
static mem_sink sink2;

/* Screens text on engine e, after sw_engine_preparse when pre is set. */
static sw_verdict screen_on(sw_engine *e, int pre, const char *src, const char *dst, const char *text,
                            int64_t ts, int *preparsed)
{
    static char buf[2][8192];
    size_t len = strlen(text);
    assert_true(len < sizeof buf[0]);
    memcpy(buf[pre], text, len);
    sw_engine_msg m = {.data = buf[pre], .len = len, .ts_ns = ts, .src = addr(src), .dst = addr(dst),
                       .transport = SW_TRANSPORT_UDP, .framing = SW_SIP_DATAGRAM};
    if (pre) {
        sw_sip_msg *msg = sw_engine_preparse(e, &m);
        *preparsed = msg != NULL;
        if (msg) {
            /* the caller reads it through the accessors, as the proxy does */
            const sw_via *via;
            sw_sip_error err;
            (void)sw_sip_top_via(msg, &via, &err);
        }
    }
    sw_verdict v;
    assert_int_equal(sw_engine_screen(e, &m, &v), SW_OK);
    return v;
}

static void test_preparse_same_verdicts(void **state)
{
    (void)state;
    memset(&sink2, 0, sizeof sink2);
    sink2.base.ops = &mem_ops;
    sw_engine_config cfg = {.policy = policy, .sink = &sink2.base, .passive = 1, .seed = 42};
    sw_engine *e2 = sw_engine_new(&cfg);
    assert_non_null(e2);
    static const char bad_cseq[] = "INVITE sip:+447700900123@h SIP/2.0\r\n"
                                   "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx1\r\n"
                                   "From: <sip:+33639981111@h>;tag=1\r\nTo: <sip:+447700900123@h>\r\n"
                                   "Call-ID: m1\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    static const char ringing[] = "SIP/2.0 180 Ringing\r\n"
                                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc1, SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKc0\r\n"
                                  "From: <sip:+33639981111@example.net>;tag=fc1\r\nTo: <tel:+447700900123>;tag=t\r\n"
                                  "Call-ID: c1@test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    struct {
        const char *src, *dst, *text;
        int parses;
    } seq[] = {
        {"192.0.2.10:5060", "10.0.0.1:5060", NULL, 1},
        {"10.0.0.1:5060", "192.0.2.10:5060", ringing, 1},
        {"192.0.2.10:5060", "10.0.0.1:5060", bad_cseq, 1},       /* parses, fails validation */
        {"192.0.2.10:5060", "10.0.0.1:5060", "\x01\x02 garbage\r\n\r\n", 0}, /* does not parse */
        {"203.0.113.99:5060", "10.0.0.1:5060", NULL, 1},         /* unknown zone */
        {"192.0.2.10:5060", "10.0.0.1:5060", NULL, 1},
    };
    int64_t ts = now_ns;
    for (size_t i = 0; i < sizeof seq / sizeof *seq; i++) {
        const char *text = seq[i].text ? seq[i].text
                                       : invite(seq[i].src[0] == '2' && seq[i].src[1] == '0' ? "203.0.113.99" : "192.0.2.10",
                                                "+33639981111", "+447700900123", i ? "c2" : "c1", "");
        char copy[8192];
        snprintf(copy, sizeof copy, "%s", text);
        int preparsed = -1;
        sw_verdict a = screen_on(engine, 0, seq[i].src, seq[i].dst, copy, ts, &preparsed);
        sw_facts fa = *a.facts;
        sw_verdict b = screen_on(e2, 1, seq[i].src, seq[i].dst, copy, ts, &preparsed);
        assert_int_equal(preparsed, seq[i].parses);
        assert_int_equal(a.action, b.action);
        assert_int_equal(a.status, b.status);
        assert_int_equal(a.category, b.category);
        assert_int_equal(a.rule == NULL, b.rule == NULL);
        if (a.rule)
            assert_string_equal(a.rule, b.rule);
        assert_int_equal(fa.malformed, b.facts->malformed);
        assert_int_equal(fa.is_request, b.facts->is_request);
        assert_int_equal(fa.method, b.facts->method);
        assert_int_equal(fa.status, b.facts->status);
        assert_int_equal(fa.error.code, b.facts->error.code);
        assert_int_equal(sink.n, sink2.n);
        ts += 1000000;
    }
    assert_true(sink.n > 0); /* the sequence produced events (cat 0, malformed) */
    /* a preparse of one buffer is not taken for another */
    static char one[4096], two[4096];
    snprintf(one, sizeof one, "%s", invite("192.0.2.10", "+33639981111", "+447700900123", "c3", ""));
    snprintf(two, sizeof two, "%s", "\x01\x02 garbage\r\n\r\n");
    sw_engine_msg m1 = {.data = one, .len = strlen(one), .ts_ns = ts, .src = addr("192.0.2.10:5060"),
                        .dst = addr("10.0.0.1:5060"), .transport = SW_TRANSPORT_UDP, .framing = SW_SIP_DATAGRAM};
    sw_engine_msg m2 = m1;
    m2.data = two;
    m2.len = strlen(two);
    assert_non_null(sw_engine_preparse(e2, &m1));
    sw_verdict v;
    assert_int_equal(sw_engine_screen(e2, &m2, &v), SW_OK);
    assert_true(v.facts->malformed);
    assert_int_equal(v.action, SW_ACTION_DROP);
    sw_engine_free(e2);
}

/* A partner's contract in the policy: three live calls to hot ranges of a
 * partner contracted for 6 concurrent calls pass; the fourth (over 50 %)
 * is the pattern (irsf.contract): refused by the default rule, one event
 * naming the partner. */
static void test_irsf_contract(void **state)
{
    (void)state;
    size_t before = sink.n;
    const char *to[] = {"+88216123456", "+5378123456", "+252611234567", "+88216765432"};
    sw_verdict v;
    for (int i = 0; i < 4; i++) {
        char a[32], cid[32];
        snprintf(a, sizeof a, "+1202555%04d", 300 + i * 13);
        snprintf(cid, sizeof cid, "ctr%d", i);
        v = screen("192.0.2.50:5060", "10.0.0.1:5060", invite("192.0.2.50", a, to[i], cid, ""));
        if (i < 3) {
            assert_int_equal(v.action, SW_ACTION_ALLOW);
            assert_int_equal(sink.n, before);
        }
    }
    assert_int_equal(v.action, SW_ACTION_REJECT);
    assert_int_equal(v.type, SW_EVT_IRSF_CALL);
    assert_int_equal(sink.n, before + 1);
    assert_string_equal(sink.ev[sink.n - 1].rule, "irsf.contract");
    assert_string_equal(sink.ev[sink.n - 1].peer, "wholesale");
    /* its calls elsewhere still pass */
    v = screen("192.0.2.50:5060", "10.0.0.1:5060",
               invite("192.0.2.50", "+12025550999", "+4915112345678", "ctr-ok", ""));
    assert_int_equal(v.action, SW_ACTION_ALLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_zone_dropped_one_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partner_call_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed_and_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scanner_signature_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ruri_overflow_and_folding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_national_cli_on_international, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irsf_hot_destination, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irsf_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cat3_roaming_and_home, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cat3_impossible_travel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allowlist_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monitor_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_privacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_cap_and_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_source_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preparse_same_verdicts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
