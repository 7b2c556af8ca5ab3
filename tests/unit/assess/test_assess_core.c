/* Unit tests of src/assess/ (part A): digest computation against the RFC
 * 2617 and RFC 7616 vectors, the Authorization header we build, pacing and
 * the packet budget, option ceilings, reply fingerprints, product and leak
 * scanning, control scoring and the report's members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "assess/assess_int.h"

/* ---- digest ---- */

static void test_digest_rfc2617(void **state)
{
    (void)state;
    /* RFC 2617 §3.5 */
    sw__digest_in in = {.alg = SW__DIGEST_MD5,
                        .user = "Mufasa",
                        .realm = "testrealm@host.com",
                        .password = "Circle Of Life",
                        .method = "GET",
                        .uri = "/dir/index.html",
                        .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                        .qop = "auth",
                        .nc = "00000001",
                        .cnonce = "0a4f113b"};
    char out[129];
    assert_int_equal(sw__digest_response(&in, out, sizeof out), SW_OK);
    assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
}

static void test_digest_rfc7616(void **state)
{
    (void)state;
    /* RFC 7616 §3.9.1: the same request with MD5 and SHA-256 */
    sw__digest_in in = {.user = "Mufasa",
                        .realm = "http-auth@example.org",
                        .password = "Circle of Life",
                        .method = "GET",
                        .uri = "/dir/index.html",
                        .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                        .qop = "auth",
                        .nc = "00000001",
                        .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"};
    char out[129];
    in.alg = SW__DIGEST_MD5;
    assert_int_equal(sw__digest_response(&in, out, sizeof out), SW_OK);
    assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
    in.alg = SW__DIGEST_SHA256;
    assert_int_equal(sw__digest_response(&in, out, sizeof out), SW_OK);
    assert_string_equal(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    /* qop needs a cnonce; auth-int is not ours; an unknown algorithm fails */
    in.cnonce = NULL;
    assert_int_equal(sw__digest_response(&in, out, sizeof out), SW_EUSAGE);
    in.cnonce = "x";
    in.qop = "auth-int";
    assert_int_equal(sw__digest_response(&in, out, sizeof out), SW_EUSAGE);
    in.qop = "auth";
    in.alg = SW__DIGEST_UNKNOWN;
    assert_int_equal(sw__digest_response(&in, out, sizeof out), SW_EUSAGE);
    /* a buffer too small for SHA-256 hex */
    in.alg = SW__DIGEST_SHA256;
    char small[33];
    assert_int_not_equal(sw__digest_response(&in, small, sizeof small), SW_OK);
}

static void test_digest_alg_tokens(void **state)
{
    (void)state;
    assert_int_equal(sw__digest_alg_of(SW_STR_NULL), SW__DIGEST_MD5);
    assert_int_equal(sw__digest_alg_of(SW_STR_LIT("md5")), SW__DIGEST_MD5);
    assert_int_equal(sw__digest_alg_of(SW_STR_LIT("SHA-256")), SW__DIGEST_SHA256);
    assert_int_equal(sw__digest_alg_of(SW_STR_LIT("SHA-512-256-sess")), SW__DIGEST_SHA512_256_SESS);
    assert_int_equal(sw__digest_alg_of(SW_STR_LIT("SHA-1")), SW__DIGEST_UNKNOWN);
}

/* The header we build answers the challenge: its response is what the
 * algorithm gives for its own cnonce, and the challenge's values are echoed. */
static void test_digest_header(void **state)
{
    (void)state;
    const char *chal = "Digest realm=\"sbc.test\", nonce=\"abc123\", qop=\"auth,auth-int\", "
                       "algorithm=SHA-256, opaque=\"op1\"";
    sw_auth a;
    sw_sip_error e;
    assert_int_equal(sw_auth_parse(sw_str_make(chal, strlen(chal)), &a, &e), SW_OK);
    char h[1024];
    long n = sw__digest_header(&a, 0, "1000", "pw", "REGISTER", "sip:sbc.test", h, sizeof h);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(h));
    assert_non_null(strstr(h, "Authorization: Digest username=\"1000\", realm=\"sbc.test\""));
    assert_non_null(strstr(h, "algorithm=SHA-256"));
    assert_non_null(strstr(h, "qop=auth, nc=00000001"));
    assert_non_null(strstr(h, "opaque=\"op1\""));
    assert_true(n >= 2 && h[n - 2] == '\r' && h[n - 1] == '\n');
    const char *cn = strstr(h, "cnonce=\"");
    assert_non_null(cn);
    char cnonce[64];
    assert_int_equal(sscanf(cn, "cnonce=\"%63[^\"]\"", cnonce), 1);
    sw__digest_in in = {.alg = SW__DIGEST_SHA256, .user = "1000", .realm = "sbc.test", .password = "pw",
                        .method = "REGISTER", .uri = "sip:sbc.test", .nonce = "abc123", .qop = "auth",
                        .nc = "00000001", .cnonce = cnonce};
    char want[129], resp[160];
    assert_int_equal(sw__digest_response(&in, want, sizeof want), SW_OK);
    snprintf(resp, sizeof resp, "response=\"%s\"", want);
    assert_non_null(strstr(h, resp));
    /* proxy challenges get Proxy-Authorization; a quote in the realm is refused */
    n = sw__digest_header(&a, 1, "1000", "pw", "INVITE", "sip:x@sbc.test", h, sizeof h);
    assert_true(n > 0 && strncmp(h, "Proxy-Authorization: ", 21) == 0);
    const char *bad = "Digest realm=\"a\\\"b\", nonce=\"n\"";
    assert_int_equal(sw_auth_parse(sw_str_make(bad, strlen(bad)), &a, &e), SW_OK);
    assert_true(sw__digest_header(&a, 0, "u", "p", "REGISTER", "sip:x", h, sizeof h) < 0);
    /* a header that does not fit */
    assert_int_equal(sw_auth_parse(sw_str_make(chal, strlen(chal)), &a, &e), SW_OK);
    assert_int_equal(sw__digest_header(&a, 0, "1000", "pw", "REGISTER", "sip:sbc.test", h, 40), SW_ELIMIT);
}

/* ---- the run: options, pacing, budget ---- */

static sw_assess_run *new_run(sw_assess_options *o, char *err, size_t errlen)
{
    if (!o->target_uri)
        o->target_uri = "sip:127.0.0.1:9;transport=udp";
    return sw_assess_run_new(o, err, errlen);
}

static void test_run_options(void **state)
{
    (void)state;
    char err[256];
    sw_assess_options o = {0};
    sw_assess_run *r = new_run(&o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(sw_assess_opts(r)->rate, 10);
    assert_int_equal(sw_assess_opts(r)->packet_budget, 1000);
    const sw__assess_target *t = sw__assess_target_of(r);
    assert_int_equal(t->transport, SW_TRANSPORT_UDP);
    assert_int_equal(t->port, 9);
    sw_assess_run_free(r);
    /* the default rate ceiling is 10/s without --max-rate */
    o = (sw_assess_options){.rate = 50};
    r = new_run(&o, err, sizeof err);
    assert_int_equal(sw_assess_opts(r)->rate, 10);
    sw_assess_run_free(r);
    o = (sw_assess_options){.rate = 50, .max_rate = 100};
    r = new_run(&o, err, sizeof err);
    assert_int_equal(sw_assess_opts(r)->rate, 50);
    sw_assess_run_free(r);
    /* --max-rate above 500 is refused */
    o = (sw_assess_options){.max_rate = 501};
    assert_null(new_run(&o, err, sizeof err));
    assert_non_null(strstr(err, "ceiling"));
    /* sips: is TLS on 5061; bad URIs and a user part are refused */
    o = (sw_assess_options){.target_uri = "sips:127.0.0.1"};
    r = new_run(&o, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(sw__assess_target_of(r)->transport, SW_TRANSPORT_TLS);
    assert_int_equal(sw__assess_target_of(r)->port, 5061);
    sw_assess_run_free(r);
    const char *bad[] = {"http://x", "sip:1000@127.0.0.1", "sip:127.0.0.1;transport=sctp", "", "sip:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = (sw_assess_options){.target_uri = bad[i]};
        assert_null(sw_assess_run_new(&o, err, sizeof err));
    }
    o = (sw_assess_options){.client_cert = "c.pem"};
    assert_null(new_run(&o, err, sizeof err));
    o = (sw_assess_options){.test_account = "nopassword"};
    assert_null(new_run(&o, err, sizeof err));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_pace_budget(void **state)
{
    (void)state;
    char err[256];
    sw_assess_options o = {.packet_budget = 5};
    sw_assess_run *r = new_run(&o, err, sizeof err);
    assert_non_null(r);
    double t0 = now_s();
    for (int i = 0; i < 5; i++)
        assert_int_equal(sw_assess_pace(r), SW_OK);
    double dt = now_s() - t0;
    /* 10/s: five packets take at least four intervals of 100 ms */
    assert_true(dt >= 0.39);
    assert_int_equal(sw_assess_pace(r), SW_ELIMIT);
    assert_true(sw__assess_stopped(r));
    sw_assess_stats st;
    sw_assess_run_stats(r, &st);
    assert_int_equal(st.packets_sent, 5);
    sw_assess_run_free(r);
    /* a burst rate is capped at 500/s: 11 packets take >= 20 ms */
    o = (sw_assess_options){.max_rate = 500};
    r = new_run(&o, err, sizeof err);
    t0 = now_s();
    for (int i = 0; i < 11; i++)
        assert_int_equal(sw__assess_pace_at(r, 100000), SW_OK);
    assert_true(now_s() - t0 >= 0.0195);
    sw_assess_run_free(r);
}

static void test_liveness_stop(void **state)
{
    (void)state;
    char err[256];
    sw_assess_options o = {0};
    sw_assess_run *r = new_run(&o, err, sizeof err);
    sw__assess_liveness(r, 0);
    sw__assess_liveness(r, 0);
    sw__assess_liveness(r, 1); /* an answer resets the count */
    sw__assess_liveness(r, 0);
    sw__assess_liveness(r, 0);
    assert_false(sw__assess_stopped(r));
    assert_int_equal(sw_assess_pace(r), SW_OK);
    sw__assess_liveness(r, 0);
    assert_true(sw__assess_stopped(r));
    assert_int_equal(sw_assess_pace(r), SW_ELIMIT);
    sw_assess_run_free(r);
}

static void test_evidence_stable(void **state)
{
    (void)state;
    sw_assess_finding f = {0};
    sw_assess_evidence *first = sw_assess_evidence_add(&f, "sip-exchange");
    assert_non_null(first);
    for (int i = 1; i < 300; i++)
        (void)sw_assess_evidence_add(&f, "tls");
    assert_int_equal(f.nevidence, SW__ASSESS_MAX_EVIDENCE);
    assert_ptr_equal(first, &f.evidence[0]); /* still where it was */
    assert_int_equal(sw_assess_evidence_bytes(first, "ab\0c", 4, "x", 1), SW_OK);
    assert_int_equal(sw_assess_evidence_bytes(first, "d", 1, NULL, 0), SW_OK);
    assert_int_equal(first->sent_len, 5);
    assert_memory_equal(first->sent, "ab\0cd", 5);
    sw_assess_evidence_note(first, "n %d", 1);
    sw_assess_evidence_note(first, "n %d", 2);
    assert_string_equal(first->note, "n 2");
    for (size_t i = 0; i < f.nevidence; i++) {
        free(f.evidence[i].sent);
        free(f.evidence[i].received);
        free(f.evidence[i].note);
    }
    free(f.evidence);
}

/* ---- fingerprints, products, leaks ---- */

typedef struct parsed {
    char buf[4096];
    sw_sip_header hdrs[64];
    sw_sip_msg m;
} parsed;

static void parse_into(parsed *p, const char *text)
{
    snprintf(p->buf, sizeof p->buf, "%s", text);
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    sw_sip_error e;
    assert_true(sw_sip_parse(&p->m, p->hdrs, 64, p->buf, strlen(p->buf), SW_SIP_DATAGRAM, &lim, &e) > 0);
}

#define REPLY(status, extra, callid)                                                                    \
    "SIP/2.0 " status "\r\nVia: SIP/2.0/UDP 127.0.0.1:4000;branch=z9hG4bK-1;rport=4000\r\n"             \
    "From: <sip:u@h>;tag=1\r\nTo: <sip:u@h>;tag=" callid "\r\nCall-ID: " callid "\r\nCSeq: 1 REGISTER\r\n" \
    extra "Content-Length: 0\r\n\r\n"

static void test_fingerprint(void **state)
{
    (void)state;
    static parsed a, b;
    sw__assess_fp fa, fb;
    const char *what = NULL;
    /* the same answer for two users: Call-ID, tags and nonce differ only */
    parse_into(&a, REPLY("401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n", "c1"));
    parse_into(&b, REPLY("401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\"\r\n", "c2"));
    sw__assess_fp_of(&a.m, &fa);
    sw__assess_fp_of(&b.m, &fb);
    assert_true(sw__assess_fp_equal(&fa, &fb, &what));
    assert_null(what);
    assert_string_equal(fa.auth, "Digest realm=r");
    /* header order does not matter, compact forms are the long names */
    parse_into(&b, "SIP/2.0 401 Unauthorized\r\nCSeq: 1 REGISTER\r\ni: c9\r\nv: SIP/2.0/UDP 127.0.0.1:4000;branch=x\r\n"
                   "t: <sip:u@h>;tag=9\r\nf: <sip:u@h>;tag=1\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n3\"\r\n"
                   "l: 0\r\n\r\n");
    sw__assess_fp_of(&b.m, &fb);
    assert_true(sw__assess_fp_equal(&fa, &fb, &what));
    /* status, reason, header set, realm, body length each tell users apart */
    parse_into(&b, REPLY("404 User Not Found", "", "c2"));
    sw__assess_fp_of(&b.m, &fb);
    assert_false(sw__assess_fp_equal(&fa, &fb, &what));
    assert_string_equal(what, "status");
    parse_into(&b, REPLY("401 Unauthorised", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\"\r\n", "c2"));
    sw__assess_fp_of(&b.m, &fb);
    assert_false(sw__assess_fp_equal(&fa, &fb, &what));
    assert_string_equal(what, "reason phrase");
    parse_into(&b, REPLY("401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\"\r\nX-Found: 1\r\n", "c2"));
    sw__assess_fp_of(&b.m, &fb);
    assert_false(sw__assess_fp_equal(&fa, &fb, &what));
    assert_string_equal(what, "header set");
    parse_into(&b, REPLY("401 Unauthorized", "WWW-Authenticate: Digest realm=\"other\", nonce=\"n2\"\r\n", "c2"));
    sw__assess_fp_of(&b.m, &fb);
    assert_false(sw__assess_fp_equal(&fa, &fb, &what));
    assert_string_equal(what, "challenge");
    char t[800];
    sw__assess_fp_text(&fb, t, sizeof t);
    assert_non_null(strstr(t, "401 \"Unauthorized\""));
}

static void test_product_level(void **state)
{
    (void)state;
    assert_int_equal(sw__assess_product_level(SW_STR_LIT("kamailio (5.6.3 (x86_64/linux))")), 2);
    assert_int_equal(sw__assess_product_level(SW_STR_LIT("\"gw-int-2 Kamailio 5.6.3\"")), 2);
    assert_int_equal(sw__assess_product_level(SW_STR_LIT("Asterisk PBX")), 1);
    assert_int_equal(sw__assess_product_level(SW_STR_LIT("")), 0);
    assert_int_equal(sw__assess_product_level(SW_STR_LIT("12345")), 0);
    assert_int_equal(sw__assess_product_level(SW_STR_LIT("SBC 7")), 1);
}

static void test_leaks(void **state)
{
    (void)state;
    static parsed p;
    sw__assess_leak l[16];
    parse_into(&p, "SIP/2.0 200 OK\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:4000;branch=z9hG4bK-1;received=10.9.9.9\r\n"
                   "Via: SIP/2.0/UDP 192.168.7.7:5060;branch=z9hG4bK-2\r\n"
                   "From: <sip:u@h>;tag=1\r\nTo: <sip:u@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
                   "Contact: <sip:core@172.16.4.4:5060>\r\n"
                   "Record-Route: <sip:edge.corp;lr>\r\n"
                   "Warning: 399 10.20.30.40:5060 \"gw-int-2\"\r\n"
                   "P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=26201000A1B2C3D4\r\n"
                   "Server: 203.0.113.5\r\n"
                   "Content-Length: 0\r\n\r\n");
    size_t n = sw__assess_leaks(&p.m, "127.0.0.1", "198.51.100.1", l, 16);
    int via2 = 0, contact = 0, rr = 0, warn = 0, pani = 0, top = 0;
    for (size_t i = 0; i < n; i++) {
        via2 |= !strcmp(l[i].what, "192.168.7.7");
        top |= !strcmp(l[i].what, "10.9.9.9"); /* inside our own (top) Via: not a leak */
        contact |= !strcmp(l[i].what, "172.16.4.4");
        rr |= !strcmp(l[i].what, "edge.corp");
        warn |= !strcmp(l[i].what, "10.20.30.40");
        pani |= l[i].high && !strcmp(l[i].header, "P-Access-Network-Info");
    }
    assert_true(via2 && contact && rr && warn && pani);
    assert_false(top);
    assert_int_equal(n, 5);
    /* a clean reply, and the target's own address, are no leaks */
    parse_into(&p, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:4000;branch=z9hG4bK-1\r\n"
                   "From: <sip:u@h>;tag=1\r\nTo: <sip:u@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n"
                   "Contact: <sip:10.1.1.1:5060>\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sw__assess_leaks(&p.m, "127.0.0.1", "10.1.1.1", l, 16), 0);
    assert_int_equal(sw__assess_leaks(&p.m, "127.0.0.1", "10.1.1.2", l, 16), 1);
    assert_true(sw__assess_ip_internal(SW_STR_LIT("100.64.0.1")));
    assert_true(sw__assess_ip_internal(SW_STR_LIT("169.254.1.1")));
    assert_true(sw__assess_ip_internal(SW_STR_LIT("fd00::1")));
    assert_true(sw__assess_ip_internal(SW_STR_LIT("fe80::1")));
    assert_false(sw__assess_ip_internal(SW_STR_LIT("100.128.0.1")));
    assert_false(sw__assess_ip_internal(SW_STR_LIT("172.32.0.1")));
    assert_false(sw__assess_ip_internal(SW_STR_LIT("2001:db8::1")));
}

/* ---- scoring and the report ---- */

static void test_scoring(void **state)
{
    (void)state;
    sw__assess_score s = {0};
    /* nothing decided: unknown, score 0, coverage 0 */
    assert_string_equal(sw__assess_score_status(&s), "unknown");
    assert_true(sw__assess_score_value(&s) == 0.0);
    /* a critical pass and a medium fail: 10 / 13, gap */
    sw__assess_item pass_crit = {SW_ASSESS_PASS, SW_ASSESS_INFO, SW_ASSESS_CRITICAL, 1};
    sw__assess_item fail_med = {SW_ASSESS_FAIL, SW_ASSESS_MEDIUM, SW_ASSESS_HIGH, 1};
    sw__assess_item skipped = {SW_ASSESS_SKIPPED, SW_ASSESS_INFO, SW_ASSESS_HIGH, 1};
    sw__assess_item unknown = {SW_ASSESS_UNKNOWN, SW_ASSESS_INFO, SW_ASSESS_HIGH, 1};
    sw__assess_score_add(&s, &pass_crit);
    sw__assess_score_add(&s, &fail_med);
    sw__assess_score_add(&s, &skipped);
    sw__assess_score_add(&s, &unknown);
    assert_true(sw__assess_score_value(&s) > 76.9 && sw__assess_score_value(&s) < 77.0);
    assert_true(sw__assess_score_coverage(&s) > 66.6 && sw__assess_score_coverage(&s) < 66.7);
    assert_string_equal(sw__assess_score_status(&s), "gap");
    /* a high fail makes it fail */
    sw__assess_item fail_high = {SW_ASSESS_FAIL, SW_ASSESS_HIGH, SW_ASSESS_HIGH, 1};
    sw__assess_score_add(&s, &fail_high);
    assert_string_equal(sw__assess_score_status(&s), "fail");
    assert_true(sw__assess_score_value(&s) > 55.5 && sw__assess_score_value(&s) < 55.6); /* 10/18 */
    /* passes only: pass when one is tested or declared with evidence */
    sw__assess_score p = {0};
    sw__assess_item declared = {SW_ASSESS_PASS, SW_ASSESS_INFO, SW_ASSESS_MEDIUM, 0};
    sw__assess_score_add(&p, &declared);
    assert_string_equal(sw__assess_score_status(&p), "unknown");
    sw__assess_score_add(&p, &pass_crit);
    assert_string_equal(sw__assess_score_status(&p), "pass");
    assert_true(sw__assess_score_value(&p) == 100.0);
    /* a weightless (info) pass alone scores 100 */
    sw__assess_score i = {0};
    sw__assess_item info = {SW_ASSESS_PASS, SW_ASSESS_INFO, SW_ASSESS_INFO, 1};
    sw__assess_score_add(&i, &info);
    assert_true(sw__assess_score_value(&i) == 100.0);
}

static void test_report_members(void **state)
{
    (void)state;
    char err[256];
    sw_assess_options o = {.test_account = "1000:secretpw", .credential_tests = 1};
    sw_assess_run *r = new_run(&o, err, sizeof err);
    int code = -1;
    char *text = sw_assess_report_json(r, NULL, SW_ASSESS_HIGH, &code);
    assert_non_null(text);
    assert_int_equal(code, 0);
    assert_null(strstr(text, "secretpw")); /* the test account's password stays out */
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    const char *top[] = {"schema", "tool", "run", "target", "controls", "findings", "questionnaire", "summary"};
    for (size_t k = 0; k < sizeof top / sizeof top[0]; k++)
        assert_non_null(json_object_get(j, top[k]));
    assert_string_equal(json_string_value(json_object_get(j, "schema")), "sipwall-assess/1");
    assert_int_equal(json_array_size(json_object_get(j, "controls")), 7);
    json_t *lim = json_object_get(json_object_get(j, "run"), "limits");
    assert_true(json_is_true(json_object_get(lim, "credential_tests")));
    assert_non_null(json_object_get(lim, "packets_sent"));
    json_t *q = json_object_get(j, "questionnaire");
    assert_true(json_is_array(json_object_get(q, "answers")));
    json_decref(j);
    free(text);
    sw_assess_run_free(r);
}

/* --robust-dir files are rewritten to point at the target and back at us,
 * and an INVITE becomes an OPTIONS; the malformations stay. */
static void test_rewrite(void **state)
{
    (void)state;
    char err[256];
    sw_assess_options o = {0};
    sw_assess_run *r = new_run(&o, err, sizeof err);
    /* a connected UDP socket sends nothing until written to */
    sw__assess_conn *c = sw__assess_conn_open(r, SW_TRANSPORT_UDP, 0, err, sizeof err);
    assert_non_null(c);
    const char in[] = "INVITE  sip:bob@example.com SIP/2.0\r\n"
                      "v: SIP/2.0/UDP host.example.com;branch=z9hG4bK1\r\n"
                      " ;received=192.0.2.9\r\n"
                      "Via: SIP/2.0/UDP second.example.com;branch=z9hG4bK2\r\n"
                      "Route: <sip:elsewhere.example.net;lr>\r\n"
                      "f: \"unterminated <sip:a@example.com>;tag=1\r\n"
                      "To: <sip:bob@example.com>\r\n"
                      "m: <sip:a@client.example.com>\r\n"
                      "CSeq: 7 INVITE\r\n"
                      "Call-ID: x\r\n"
                      "Content-Length: 9999\r\n\r\nv=0\r\n";
    char out[2048];
    size_t n = sw__assess_rewrite(r, c, in, sizeof in - 1, out, sizeof out - 1);
    assert_true(n > 0);
    out[n] = '\0';
    char want[128];
    snprintf(want, sizeof want, "OPTIONS  sip:127.0.0.1:9 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%u;branch=",
             sw__assess_conn_local_ip(c), sw__assess_conn_local_port(c));
    assert_int_equal(strncmp(out, want, strlen(want)), 0);
    assert_null(strstr(out, "host.example.com"));     /* our Via replaced theirs */
    assert_null(strstr(out, "received=192.0.2.9"));   /* with its fold */
    assert_non_null(strstr(out, "second.example.com")); /* the second Via stays */
    assert_null(strstr(out, "elsewhere.example.net")); /* no Route */
    assert_null(strstr(out, "client.example.com"));
    assert_non_null(strstr(out, "From: <sip:sipwall@"));
    assert_non_null(strstr(out, "Contact: <sip:sipwall@"));
    assert_non_null(strstr(out, "CSeq: 7 OPTIONS\r\n"));
    assert_non_null(strstr(out, "To: <sip:bob@example.com>\r\n"));
    assert_non_null(strstr(out, "Content-Length: 9999\r\n\r\nv=0\r\n")); /* the malformation stays */
    /* responses are not sent; what does not fit is not sent */
    assert_int_equal(sw__assess_rewrite(r, c, "SIP/2.0 200 OK\r\n\r\n", 19, out, sizeof out), 0);
    assert_int_equal(sw__assess_rewrite(r, c, in, sizeof in - 1, out, 64), 0);
    sw__assess_conn_close(c);
    sw_assess_run_free(r);
}

/* SIP-ROBUST-01's generated cases: a 2xx counts only for requests RFC
 * 3261/4475 call invalid; overlarge Max-Forwards/Expires alone and a large
 * port in a lower Via are lenient to accept.  Every case names only the
 * target and us. */
static const char *case_named(sw_assess_run *r, sw__assess_conn *c, const char *want, char *out, size_t cap,
                              size_t *len, int *inval)
{
    for (unsigned i = 0;; i++) {
        const char *name = NULL;
        size_t n = sw__assess_mutation(r, c, i, out, cap - 1, &name, inval);
        if (!n)
            return NULL;
        out[n] = '\0';
        *len = n;
        if (strcmp(name, want) == 0)
            return name;
    }
}

static size_t count_of(const char *hay, size_t len, const char *needle)
{
    size_t k = 0, nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            k++;
    return k;
}

static void test_mutation_verdicts(void **state)
{
    (void)state;
    char err[256];
    sw_assess_options o = {0};
    sw_assess_run *r = new_run(&o, err, sizeof err);
    sw__assess_conn *c = sw__assess_conn_open(r, SW_TRANSPORT_UDP, 0, err, sizeof err);
    assert_non_null(c);
    static char out[70000];
    size_t n = 0;
    int inval = -1;
    assert_non_null(case_named(r, c, "max-forwards-overflow", out, sizeof out, &n, &inval));
    assert_int_equal(inval, 0);
    assert_int_equal(count_of(out, n, "Max-Forwards:"), 1); /* ours replaced, not doubled */
    assert_non_null(strstr(out, "Max-Forwards: 99999999999999999999\r\n"));
    assert_non_null(case_named(r, c, "expires-overflow", out, sizeof out, &n, &inval));
    assert_int_equal(inval, 0);
    assert_non_null(case_named(r, c, "via-port-overflow", out, sizeof out, &n, &inval));
    assert_int_equal(inval, 0);
    assert_non_null(strstr(out, ":99999;branch="));
    assert_null(strstr(out, "received=")); /* "1.2.3" reads as 1.2.0.3 to inet_aton: a third party */
    const char *still[] = {"cseq-overflow", "bad-escape-in-uri", "nul-in-header", "cseq-method-mismatch",
                           "no-call-id", "version-sip-7"};
    for (size_t k = 0; k < sizeof still / sizeof still[0]; k++) {
        assert_non_null(case_named(r, c, still[k], out, sizeof out, &n, &inval));
        assert_int_equal(inval, 1);
    }
    assert_non_null(strstr(out, "SIP/7.0"));
    /* every case names only 127.0.0.1 (the target and us) */
    for (unsigned i = 0;; i++) {
        const char *name = NULL;
        n = sw__assess_mutation(r, c, i, out, sizeof out - 1, &name, &inval);
        if (!n)
            break;
        for (size_t j = 0; j + 1 < n; j++) {
            unsigned q1, q2, q3;
            int m = 0;
            if (out[j] >= '0' && out[j] <= '9' && j > 0 && strchr(" @=:[", out[j - 1]) &&
                sscanf(out + j, "%u.%u.%u%n", &q1, &q2, &q3, &m) == 3 && m > 0)
                assert_int_equal(strncmp(out + j, "127.0.0.1", 9), 0);
        }
    }
    sw__assess_conn_close(c);
    sw_assess_run_free(r);
}

/* A reply SIP-ROBUST-01 could not parse still has its status counted. */
static void test_status_line(void **state)
{
    (void)state;
    assert_int_equal(sw__assess_status_line("SIP/2.0 200 OK\r\n", 16), 200);
    assert_int_equal(sw__assess_status_line("SIP/2.0 400 Bad\nVia: x\n", 23), 400);
    assert_int_equal(sw__assess_status_line("SIP/2.0 183\r\n", 13), 183);
    assert_int_equal(sw__assess_status_line("SIP/2.0 200", 11), 200);
    assert_int_equal(sw__assess_status_line("SIP/2.0 2000 OK", 15), 0);
    assert_int_equal(sw__assess_status_line("SIP/2.0 099 x", 13), 0);
    assert_int_equal(sw__assess_status_line("SIP/2.0 20", 10), 0);
    assert_int_equal(sw__assess_status_line("OPTIONS sip:x SIP/2.0\r\n", 23), 0);
    assert_int_equal(sw__assess_status_line("SIP/2.0 2a0 OK", 14), 0);
    assert_int_equal(sw__assess_status_line(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_rfc2617), cmocka_unit_test(test_digest_rfc7616),
        cmocka_unit_test(test_digest_alg_tokens), cmocka_unit_test(test_digest_header),
        cmocka_unit_test(test_run_options),     cmocka_unit_test(test_pace_budget),
        cmocka_unit_test(test_liveness_stop),   cmocka_unit_test(test_evidence_stable),
        cmocka_unit_test(test_fingerprint),     cmocka_unit_test(test_product_level),
        cmocka_unit_test(test_leaks),           cmocka_unit_test(test_scoring),
        cmocka_unit_test(test_report_members), cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_mutation_verdicts), cmocka_unit_test(test_status_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
