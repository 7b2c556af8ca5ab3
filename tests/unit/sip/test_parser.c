/* Unit tests for the SIP parser: start line, header index, framing, limits,
 * every-prefix truncation and the guard-page harness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "guard.h"
#include "sipwall/sip.h"

#define CRLF "\r\n"

static const char INVITE[] =
    "INVITE sip:+447700900123@ims.example.net;user=phone SIP/2.0" CRLF
    "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK.a1;rport" CRLF
    "v: SIP/2.0/TCP [2001:db8::7]:5062;branch=z9hG4bK.b2;received=2001:db8::9, SIP/2.0/UDP pcscf.example.net;branch=z9hG4bK.c3" CRLF
    "Max-Forwards: 69" CRLF
    "f: \"Alice \\\"A\\\"\" <sip:+33639981234@ims.example.org;user=phone>;tag=4fa3" CRLF
    "t: <tel:+447700900123>" CRLF
    "i: a84b4c76e66710@pcscf.example.org" CRLF
    "CSeq: 127 INVITE" CRLF
    "m: <sip:+33639981234@198.51.100.31:5062;transport=udp>;+sip.instance=\"<urn:gsma:imei:1>\"" CRLF
    "Route: <sip:ibcf.example.net;lr>, <sip:scscf.example.net;lr>" CRLF
    "P-Asserted-Identity: <sip:+33639981234@ims.example.org;user=phone>" CRLF
    "P-Asserted-Identity: <tel:+33639981234>" CRLF
    "Subject: folded" CRLF
    "  subject line" CRLF
    "X-Custom : value" CRLF
    "c: application/sdp" CRLF
    "l: 89" CRLF
    CRLF
    "v=0" CRLF "o=- 1 1 IN IP4 198.51.100.41" CRLF "s=-" CRLF "c=IN IP4 198.51.100.41" CRLF
    "m=audio 41000 RTP/AVP 0" CRLF;

static const char RESPONSE[] =
    "SIP/2.0 180 Ringing" CRLF
    "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK.a1;received=203.0.113.5;rport=5060" CRLF
    "From: <sip:a@example.org>;tag=1" CRLF
    "To: <sip:b@example.net>;tag=2" CRLF
    "Call-ID: x@y" CRLF
    "CSeq: 1 INVITE" CRLF
    "Content-Length: 0" CRLF
    CRLF;

static long parse(sw_sip_msg *m, sw_sip_header *h, const char *s, size_t n, sw_sip_framing fr,
                  sw_sip_error *e)
{
    return sw_sip_parse(m, h, 64, s, n, fr, NULL, e);
}

static void test_request_index(void **state)
{
    (void)state;
    sw_sip_msg m;
    sw_sip_header h[64];
    sw_sip_error e = {0};
    size_t n = sizeof INVITE - 1;
    long r = parse(&m, h, INVITE, n, SW_SIP_DATAGRAM, &e);
    assert_int_equal(r, (long)n);
    assert_true(m.is_request);
    assert_int_equal(m.method, SW_METHOD_INVITE);
    assert_int_equal(m.ruri.len, strlen("sip:+447700900123@ims.example.net;user=phone"));
    assert_int_equal(m.nhdrs, 15);
    assert_non_null(sw_sip_first(&m, SW_HDR_VIA));
    assert_non_null(sw_sip_next(&m, sw_sip_first(&m, SW_HDR_VIA)));
    assert_int_equal(m.content_length, 89);
    assert_int_equal(m.body.len, 89);
    const sw_sip_header *subj = sw_sip_first(&m, SW_HDR_SUBJECT);
    assert_non_null(subj);
    assert_int_equal(subj->value.len, strlen("folded\r\n  subject line"));
    const sw_sip_header *x = sw_sip_find(&m, "x-custom");
    assert_non_null(x);
    assert_memory_equal(x->value.ptr, "value", 5);
    assert_ptr_equal(sw_sip_find(&m, "f"), sw_sip_first(&m, SW_HDR_FROM));
    assert_null(sw_sip_find(&m, "X-Absent"));
    assert_int_equal(sw_sip_validate(&m, &e), SW_OK);
}

static void test_typed_accessors(void **state)
{
    (void)state;
    sw_sip_msg m;
    sw_sip_header h[64];
    sw_sip_error e = {0};
    assert_true(parse(&m, h, INVITE, sizeof INVITE - 1, SW_SIP_DATAGRAM, &e) > 0);
    const sw_via *v;
    assert_int_equal(sw_sip_top_via(&m, &v, &e), SW_OK);
    assert_true(sw_str_eq(v->host, SW_STR_LIT("203.0.113.5")));
    assert_int_equal(v->port, 5060);
    assert_true(sw_str_eq(v->branch, SW_STR_LIT("z9hG4bK.a1")));
    assert_true(v->has_rport);
    assert_int_equal(v->rport, -1);
    assert_int_equal(sw_sip_via_count(&m, &e), 3);

    sw_sip_values it;
    sw_str val;
    sw_sip_values_init(&it, &m, SW_HDR_VIA);
    assert_int_equal(sw_sip_values_next(&it, &val, &e), 1);
    assert_int_equal(sw_sip_values_next(&it, &val, &e), 1);
    sw_via v2;
    assert_int_equal(sw_via_parse(val, &v2, &e), SW_OK);
    assert_int_equal(v2.host_type, SW_HOST_IPV6);
    assert_true(sw_str_eq(v2.host, SW_STR_LIT("2001:db8::7")));
    assert_int_equal(v2.port, 5062);
    assert_true(sw_str_eq(v2.transport, SW_STR_LIT("TCP")));
    assert_true(sw_str_eq(v2.received, SW_STR_LIT("2001:db8::9")));
    assert_int_equal(sw_sip_values_next(&it, &val, &e), 1);
    assert_int_equal(sw_sip_values_next(&it, &val, &e), 0);

    const sw_nameaddr *f, *t, *c, *pai, *rt;
    assert_int_equal(sw_sip_from(&m, &f, &e), SW_OK);
    assert_true(f->display_quoted);
    assert_true(sw_str_eq(f->display, SW_STR_LIT("Alice \\\"A\\\"")));
    assert_true(sw_str_eq(f->uri.user, SW_STR_LIT("+33639981234")));
    assert_true(sw_str_eq(f->tag, SW_STR_LIT("4fa3")));
    assert_int_equal(sw_sip_to(&m, &t, &e), SW_OK);
    assert_int_equal(t->uri.kind, SW_URI_TEL);
    assert_true(sw_str_eq(t->uri.user, SW_STR_LIT("+447700900123")));
    assert_int_equal(t->tag.len, 0);
    assert_int_equal(sw_sip_contact(&m, &c, &e), SW_OK);
    assert_int_equal(c->uri.port, 5062);
    assert_true(sw_str_eq(c->uri.params, SW_STR_LIT("transport=udp")));
    assert_int_equal(sw_sip_pai(&m, &pai, &e), SW_OK);
    assert_true(sw_str_eq(pai->uri.host, SW_STR_LIT("ims.example.org")));
    assert_int_equal(sw_sip_route(&m, &rt, &e), SW_OK);
    assert_true(sw_str_eq(rt->uri.host, SW_STR_LIT("ibcf.example.net")));
    assert_true(sw_param_find(rt->uri.params, "lr", NULL));

    const sw_cseq *cs;
    assert_int_equal(sw_sip_cseq(&m, &cs, &e), SW_OK);
    assert_int_equal(cs->number, 127);
    assert_int_equal(cs->method, SW_METHOD_INVITE);
    sw_str cid;
    assert_int_equal(sw_sip_call_id(&m, &cid), SW_OK);
    assert_true(sw_str_eq(cid, SW_STR_LIT("a84b4c76e66710@pcscf.example.org")));
    int64_t mf;
    assert_int_equal(sw_sip_max_forwards(&m, &mf, &e), SW_OK);
    assert_int_equal(mf, 69);
    int64_t ex;
    assert_int_equal(sw_sip_expires(&m, &ex, &e), SW_EMISSING);
    const sw_uri *ru;
    assert_int_equal(sw_sip_ruri(&m, &ru, &e), SW_OK);
    assert_true(sw_str_eq(ru->user, SW_STR_LIT("+447700900123")));
    assert_true(sw_str_eq(ru->params, SW_STR_LIT("user=phone")));
    /* memoised: the same object comes back */
    const sw_nameaddr *f2;
    assert_int_equal(sw_sip_from(&m, &f2, &e), SW_OK);
    assert_ptr_equal(f, f2);
}

static void test_response(void **state)
{
    (void)state;
    sw_sip_msg m;
    sw_sip_header h[64];
    sw_sip_error e = {0};
    assert_int_equal(parse(&m, h, RESPONSE, sizeof RESPONSE - 1, SW_SIP_DATAGRAM, &e),
                     (long)sizeof RESPONSE - 1);
    assert_false(m.is_request);
    assert_int_equal(m.status, 180);
    assert_true(sw_str_eq(m.reason, SW_STR_LIT("Ringing")));
    const sw_via *v;
    assert_int_equal(sw_sip_top_via(&m, &v, &e), SW_OK);
    assert_int_equal(v->rport, 5060);
    assert_true(sw_str_eq(v->received, SW_STR_LIT("203.0.113.5")));
    assert_int_equal(sw_sip_validate(&m, &e), SW_OK);
    const sw_uri *u;
    assert_int_equal(sw_sip_ruri(&m, &u, &e), SW_EMISSING);
}

/* Every proper prefix of a valid message is SW_EINCOMPLETE on a stream,
 * and never crashes or reads past its end as a datagram. */
static void test_every_prefix(void **state)
{
    (void)state;
    const char *msgs[] = {INVITE, RESPONSE};
    sw_guard g = {0};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(msgs[k]);
        for (size_t i = 0; i < n; i++) {
            const char *b = sw_guard_copy(&g, msgs[k], i);
            assert_non_null(b);
            sw_sip_msg m;
            sw_sip_header h[64];
            sw_sip_error e = {0};
            long r = sw_sip_parse(&m, h, 64, b, i, SW_SIP_STREAM, NULL, &e);
            if (r != SW_EINCOMPLETE)
                fail_msg("prefix %zu of message %zu: got %ld (%s)", i, k, r, e.reason);
            size_t skip;
            r = sw_sip_frame(b, i, NULL, &skip, &e);
            if (r != SW_EINCOMPLETE)
                fail_msg("frame prefix %zu of message %zu: got %ld", i, k, r);
            r = sw_sip_parse(&m, h, 64, b, i, SW_SIP_DATAGRAM, NULL, &e);
            if (r >= 0)
                assert_true(sw_sip_validate(&m, &e) <= 0);
        }
        const char *b = sw_guard_copy(&g, msgs[k], n);
        sw_sip_msg m;
        sw_sip_header h[64];
        sw_sip_error e;
        assert_int_equal(sw_sip_parse(&m, h, 64, b, n, SW_SIP_STREAM, NULL, &e), (long)n);
        size_t skip;
        assert_int_equal(sw_sip_frame(b, n, NULL, &skip, &e), (long)n);
    }
    sw_guard_release(&g);
}

static void expect_error(const char *msg, sw_sip_framing fr, int code, const char *reason)
{
    sw_sip_msg m;
    sw_sip_header h[64];
    sw_sip_error e = {0};
    long r = sw_sip_parse(&m, h, 64, msg, strlen(msg), fr, NULL, &e);
    if (r >= 0)
        r = sw_sip_validate(&m, &e);
    if (r != code || strstr(e.reason ? e.reason : "", reason) == NULL)
        fail_msg("expected %s (%s), got %ld (%s) for:\n%s", sw_errname(code), reason, r,
                 e.reason ? e.reason : "-", msg);
    assert_true(e.offset <= strlen(msg));
}

#define HDRS "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF "From: <sip:a@b>;tag=1" CRLF \
             "To: <sip:c@d>" CRLF "Call-ID: 1@h" CRLF

static void test_errors(void **state)
{
    (void)state;
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "Content-Length: -1" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "negative Content-Length");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "l: 3" CRLF "l: 4" CRLF CRLF "abcd",
                 SW_SIP_DATAGRAM, SW_ECONFLICT, "conflicting Content-Length");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "l: 30" CRLF CRLF "abcd",
                 SW_SIP_DATAGRAM, SW_EINVAL, "larger than the message");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF CRLF,
                 SW_SIP_STREAM, SW_EINVAL, "missing Content-Length");
    expect_error("OPTIONS sip:a@b SIP/2.0\n" HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "bare LF");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "Foo bar" CRLF CRLF, SW_SIP_DATAGRAM, SW_EINVAL,
                 "without ':'");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS ": x" CRLF CRLF, SW_SIP_DATAGRAM, SW_EINVAL,
                 "empty header name");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF " folded" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL,
                 "continuation line before");
    expect_error("OPTIONS sip:a@b SIP/3.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EVERSION, "unsupported");
    expect_error("OPTIONS sip:a@b HTTP/1.1" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "invalid SIP version");
    expect_error("OPTIONS  sip:a@b SIP/2.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "more than one SP");
    expect_error("OPTIONS sip:a@b  SIP/2.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "more than one SP");
    expect_error("OPTIONS sip:a@b SIP/2.0 " CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "trailing whitespace");
    expect_error("OPTIONS sip:a @b SIP/2.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "whitespace inside");
    expect_error("OPTIONS <sip:a@b> SIP/2.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "enclosed in <>");
    expect_error("OPTIONS sip:a@b" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "without SIP version");
    expect_error("OPT\x01IONS sip:a@b SIP/2.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "invalid character in method");
    expect_error("SIP/2.0 1000 Big" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "three digits");
    expect_error("SIP/2.0 099 Small" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_ERANGE, "out of range");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 INVITE" CRLF CRLF, SW_SIP_DATAGRAM, SW_EINVAL,
                 "CSeq method does not match");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 4294967296 OPTIONS" CRLF CRLF, SW_SIP_DATAGRAM,
                 SW_ERANGE, "CSeq number");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "Max-Forwards: 256" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_ERANGE, "Max-Forwards");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS CRLF, SW_SIP_DATAGRAM, SW_EMISSING, "missing CSeq");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "Call-ID: 2@h" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_ECONFLICT, "more than once");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "Subject: \x01" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "control character");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "Subject: \xc3\x28" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "UTF-8");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "Date: Sat, 13 Nov 2010 23:29:00 EST" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "Date");
    expect_error("OPTIONS sip:a@b?Route=x SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "escaped headers in Request-URI");
    expect_error("OPTIONS sip:sipwall%zz@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "broken %-escape in Request-URI user");
    expect_error("OPTIONS sip:sipwall%4@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "broken %-escape in Request-URI user");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF, SW_SIP_DATAGRAM, SW_EINVAL,
                 "not terminated");
    expect_error("garbage\x01\x02" CRLF CRLF, SW_SIP_DATAGRAM, SW_EINVAL, "");
    expect_error("", SW_SIP_DATAGRAM, SW_EINVAL, "empty");
    expect_error("OPTIONS sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;;" CRLF "From: <sip:a@b>;tag=1" CRLF
                 "To: <sip:c@d>" CRLF "Call-ID: 1@h" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
                 SW_SIP_DATAGRAM, SW_EINVAL, "parameter");
    expect_error("INVITE sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 INVITE" CRLF "c: application/sdp" CRLF
                 "l: 9" CRLF CRLF "v=0" CRLF "s" CRLF "x", SW_SIP_DATAGRAM, SW_EINVAL, "SDP");
}

static void test_limits(void **state)
{
    (void)state;
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    sw_sip_msg m;
    sw_sip_header h[300];
    sw_sip_error e;
    char buf[40000];
    /* too many headers */
    int n = snprintf(buf, sizeof buf, "OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF);
    for (int i = 0; i < 260; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "X-H%d: v" CRLF, i);
    n += snprintf(buf + n, sizeof buf - (size_t)n, CRLF);
    assert_int_equal(sw_sip_parse(&m, h, 300, buf, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), SW_ELIMIT);
    assert_non_null(strstr(e.reason, "too many header fields"));
    /* the caller's array bounds it too */
    assert_int_equal(sw_sip_parse(&m, h, 8, buf, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), SW_ELIMIT);
    /* a header field longer than the limit */
    n = snprintf(buf, sizeof buf, "OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF "User-Agent: ");
    memset(buf + n, 'A', 5000);
    n += 5000;
    n += snprintf(buf + n, sizeof buf - (size_t)n, CRLF CRLF);
    assert_int_equal(sw_sip_parse(&m, h, 300, buf, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), SW_ELIMIT);
    assert_non_null(strstr(e.reason, "header field longer"));
    lim.max_header_len = 8192;
    assert_int_equal(sw_sip_parse(&m, h, 300, buf, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), n);
    /* too many Via */
    sw_sip_limits_default(&lim);
    n = snprintf(buf, sizeof buf, "OPTIONS sip:a@b SIP/2.0" CRLF HDRS "CSeq: 1 OPTIONS" CRLF);
    for (int i = 0; i < 70; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "Via: SIP/2.0/UDP 10.0.0.%d;branch=z9hG4bK%d" CRLF, i, i);
    n += snprintf(buf + n, sizeof buf - (size_t)n, CRLF);
    assert_int_equal(sw_sip_parse(&m, h, 300, buf, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), SW_ELIMIT);
    assert_non_null(strstr(e.reason, "Via"));
    /* Via values counted after splitting lists, in validate */
    lim.max_via = 2;
    n = snprintf(buf, sizeof buf, "OPTIONS sip:a@b SIP/2.0" CRLF HDRS
                 "Via: SIP/2.0/UDP x;branch=z9hG4bK2, SIP/2.0/UDP y;branch=z9hG4bK3" CRLF "CSeq: 1 OPTIONS" CRLF CRLF);
    assert_int_equal(sw_sip_parse(&m, h, 300, buf, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), n);
    assert_int_equal(sw_sip_validate(&m, &e), SW_ELIMIT);
    /* message size */
    sw_sip_limits_default(&lim);
    lim.max_msg_size = 100;
    n = (int)strlen(RESPONSE);
    assert_int_equal(sw_sip_parse(&m, h, 300, RESPONSE, (size_t)n, SW_SIP_DATAGRAM, &lim, &e), SW_ELIMIT);
    assert_int_equal(sw_sip_parse(&m, h, 300, RESPONSE, (size_t)n, SW_SIP_STREAM, &lim, &e), SW_ELIMIT);
    size_t skip;
    assert_int_equal(sw_sip_frame(RESPONSE, (size_t)n, &lim, &skip, &e), SW_ELIMIT);
}

static void test_stream_framing(void **state)
{
    (void)state;
    char buf[4096];
    size_t rl = strlen(RESPONSE);
    /* keep-alives, two messages, then half of a third */
    int n = snprintf(buf, sizeof buf, "\r\n\r\n%s%s", RESPONSE, RESPONSE);
    memcpy(buf + n, RESPONSE, rl / 2);
    size_t total = (size_t)n + rl / 2;
    sw_sip_error e;
    size_t skip, off = 0;
    long r = sw_sip_frame(buf, total, NULL, &skip, &e);
    assert_int_equal(skip, 4);
    assert_int_equal(r, (long)rl);
    off = skip + (size_t)r;
    r = sw_sip_frame(buf + off, total - off, NULL, &skip, &e);
    assert_int_equal(skip, 0);
    assert_int_equal(r, (long)rl);
    off += (size_t)r;
    assert_int_equal(sw_sip_frame(buf + off, total - off, NULL, &skip, &e), SW_EINCOMPLETE);
    /* parse agrees with frame */
    sw_sip_msg m;
    sw_sip_header h[64];
    assert_int_equal(sw_sip_parse(&m, h, 64, buf + 4, total - 4, SW_SIP_STREAM, NULL, &e), (long)rl);
    /* only keep-alives */
    assert_int_equal(sw_sip_frame("\r\n\r\n", 4, NULL, &skip, &e), SW_EINCOMPLETE);
    assert_int_equal(skip, 4);
    /* body split across reads */
    const char *withbody = "MESSAGE sip:a@b SIP/2.0" CRLF "l : 5" CRLF CRLF "hello";
    size_t wl = strlen(withbody);
    assert_int_equal(sw_sip_frame(withbody, wl - 1, NULL, &skip, &e), SW_EINCOMPLETE);
    assert_int_equal(sw_sip_frame(withbody, wl, NULL, &skip, &e), (long)wl);
    /* errors */
    const char *nocl = "MESSAGE sip:a@b SIP/2.0" CRLF "To: x" CRLF CRLF;
    assert_int_equal(sw_sip_frame(nocl, strlen(nocl), NULL, &skip, &e), SW_EINVAL);
    const char *twocl = "MESSAGE sip:a@b SIP/2.0" CRLF "l: 1" CRLF "Content-Length: 2" CRLF CRLF "xx";
    assert_int_equal(sw_sip_frame(twocl, strlen(twocl), NULL, &skip, &e), SW_ECONFLICT);
    const char *neg = "MESSAGE sip:a@b SIP/2.0" CRLF "content-length: -5" CRLF CRLF;
    assert_int_equal(sw_sip_frame(neg, strlen(neg), NULL, &skip, &e), SW_EINVAL);
    /* datagram: bytes after Content-Length are ignored (RFC 3261 §18.3) */
    snprintf(buf, sizeof buf, "%sGARBAGE", RESPONSE);
    assert_int_equal(sw_sip_parse(&m, h, 64, buf, strlen(buf), SW_SIP_DATAGRAM, NULL, &e), (long)rl);
}

/* A Content-Length whose value is on a folded line was refused by
 * sw_sip_frame when a read ended right after "l:" CRLF (the value was read
 * before the fold arrived) while the whole message frames: the answer must
 * not depend on where reads end.  And header fields beyond max_headers are
 * a framing error. */
static void test_stream_framing_folds_and_count(void **state)
{
    (void)state;
    const char *m = "OPTIONS sip:a SIP/2.0" CRLF "l:" CRLF " 5" CRLF CRLF "hello";
    size_t cut = strlen("OPTIONS sip:a SIP/2.0" CRLF "l:" CRLF);
    size_t skip;
    sw_sip_error e;
    assert_int_equal(sw_sip_frame(m, cut, NULL, &skip, &e), SW_EINCOMPLETE);
    assert_int_equal(sw_sip_frame(m, cut + 2, NULL, &skip, &e), SW_EINCOMPLETE);
    assert_int_equal(sw_sip_frame(m, strlen(m), NULL, &skip, &e), (long)strlen(m));
    const char *f2 = "OPTIONS sip:a SIP/2.0" CRLF "l: 5" CRLF;
    assert_int_equal(sw_sip_frame(f2, strlen(f2), NULL, &skip, &e), SW_EINCOMPLETE);

    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    lim.max_headers = 3;
    const char *hs = "OPTIONS sip:a SIP/2.0" CRLF "A: 1" CRLF " 1b" CRLF "B: 2" CRLF "l: 0" CRLF CRLF;
    assert_int_equal(sw_sip_frame(hs, strlen(hs), &lim, &skip, &e), (long)strlen(hs));
    lim.max_headers = 2;
    assert_int_equal(sw_sip_frame(hs, strlen(hs), &lim, &skip, &e), SW_ELIMIT);
    assert_string_equal(e.reason, "too many header fields");
    assert_int_equal(e.offset, strlen("OPTIONS sip:a SIP/2.0" CRLF "A: 1" CRLF " 1b" CRLF "B: 2" CRLF));
}

static void test_looks_like(void **state)
{
    (void)state;
    assert_true(sw_sip_looks_like(INVITE, strlen(INVITE)));
    assert_true(sw_sip_looks_like(RESPONSE, strlen(RESPONSE)));
    assert_true(sw_sip_looks_like("OPTIONS sip:x SIP/2.0\r\n", 23));
    assert_true(sw_sip_looks_like("FOO sip:x SIP/2.0", 17));
    assert_false(sw_sip_looks_like("GET / HTTP/1.1\r\n", 16));
    assert_false(sw_sip_looks_like("\x16\x03\x01\x02\x00", 5));
    assert_false(sw_sip_looks_like("INV\0ITE sip:x SIP/2.0", 21));
    assert_false(sw_sip_looks_like("ab", 2));
    assert_false(sw_sip_looks_like("SIP/2.0 99 Surprise\r\n", 21));
    assert_false(sw_sip_looks_like("SIP/2.0 1000 Big\r\n", 18));
    assert_true(sw_sip_looks_like("SIP/2.0 100\r\n", 13));
    assert_true(sw_sip_looks_like("SIP/2.0 486 Busy", 16));
    assert_false(sw_sip_looks_like(NULL, 0));
}

/* sw_sip_validate keeps its strict parses of the top Via, From, To, the
 * first Contact, P-Asserted-Identity and Route as the accessors' memo; what
 * the accessors then return is exactly what they return without
 * validation (hosts whose last label starts with a digit are "IPv4" to the
 * lazy parse and names to the strict one; Contact/PAI/Route carry no tag).
 * The fold flag is set only when a value spans a folded line. */
static void same_uri(const sw_uri *a, const sw_uri *b)
{
    assert_true(a->raw.ptr == b->raw.ptr && a->raw.len == b->raw.len);
    assert_true(a->user.ptr == b->user.ptr && a->user.len == b->user.len);
    assert_true(a->password.ptr == b->password.ptr && a->password.len == b->password.len);
    assert_true(a->host.ptr == b->host.ptr && a->host.len == b->host.len);
    assert_int_equal(a->host_type, b->host_type);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->has_port, b->has_port);
    assert_true(a->params.ptr == b->params.ptr && a->params.len == b->params.len);
    assert_true(a->headers.ptr == b->headers.ptr && a->headers.len == b->headers.len);
}

static void same_nameaddr(const sw_nameaddr *a, const sw_nameaddr *b)
{
    assert_true(a->display.ptr == b->display.ptr && a->display.len == b->display.len);
    assert_int_equal(a->display_quoted, b->display_quoted);
    assert_int_equal(a->angle, b->angle);
    assert_int_equal(a->wildcard, b->wildcard);
    same_uri(&a->uri, &b->uri);
    assert_true(a->params.ptr == b->params.ptr && a->params.len == b->params.len);
    assert_true(a->tag.ptr == b->tag.ptr && a->tag.len == b->tag.len);
}

static void test_validate_memo(void **state)
{
    (void)state;
    static const char MSG[] =
        "INVITE sip:+447700900123@ims.example.net SIP/2.0" CRLF
        "Via: SIP/2.0/UDP edge.1x:5060;branch=z9hG4bK.a1;rport" CRLF
        "Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK.b2" CRLF
        "From: \"A\" <sip:+33639981234@ims.4example;user=phone>;tag=4fa3" CRLF
        "To: <sip:+447700900123@198.51.100.7>" CRLF
        "Call-ID: a84b4c76e66710@pcscf" CRLF
        "CSeq: 127 INVITE" CRLF
        "Contact: <sip:+33639981234@host.9z:5062>;tag=nottag;expires=60" CRLF
        "Route: <sip:ibcf.example.net;lr>;tag=r" CRLF
        "P-Asserted-Identity: <tel:+33639981234>;tag=p, <sip:x@y>" CRLF
        "Content-Length: 0" CRLF CRLF;
    const size_t n = sizeof MSG - 1;
    sw_sip_header h1[64], h2[64];
    sw_sip_msg lazy, checked;
    sw_sip_error e = {0};
    assert_int_equal(parse(&lazy, h1, MSG, n, SW_SIP_DATAGRAM, &e), (long)n);
    assert_int_equal(parse(&checked, h2, MSG, n, SW_SIP_DATAGRAM, &e), (long)n);
    assert_int_equal(sw_sip_folded(&checked), 0);
    assert_int_equal(sw_sip_validate(&checked, &e), SW_OK);
    const sw_via *va, *vb;
    assert_int_equal(sw_sip_top_via(&lazy, &va, &e), SW_OK);
    assert_int_equal(sw_sip_top_via(&checked, &vb, &e), SW_OK);
    assert_int_equal(va->host_type, SW_HOST_IPV4); /* "1x": a digit up front, lazily */
    assert_int_equal(vb->host_type, va->host_type);
    assert_true(va->branch.ptr == vb->branch.ptr && va->branch.len == vb->branch.len);
    assert_true(va->params.ptr == vb->params.ptr && va->params.len == vb->params.len);
    assert_int_equal(va->has_rport, vb->has_rport);
    assert_int_equal(va->rport, vb->rport);
    assert_int_equal(va->port, vb->port);
    int (*acc[])(sw_sip_msg *, const sw_nameaddr **, sw_sip_error *) = {sw_sip_from, sw_sip_to, sw_sip_contact,
                                                                       sw_sip_route, sw_sip_pai};
    for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++) {
        const sw_nameaddr *a, *b;
        assert_int_equal(acc[i](&lazy, &a, &e), SW_OK);
        assert_int_equal(acc[i](&checked, &b, &e), SW_OK);
        same_nameaddr(a, b);
    }
    const sw_nameaddr *na;
    assert_int_equal(sw_sip_contact(&checked, &na, &e), SW_OK);
    assert_null(na->tag.ptr); /* tag= is From/To business */
    assert_int_equal(sw_sip_from(&checked, &na, &e), SW_OK);
    assert_int_equal(na->uri.host_type, SW_HOST_IPV4); /* "4example" */
    assert_int_equal(na->tag.len, 4);

    /* a value continued on a folded line */
    static const char FOLDED[] = "OPTIONS sip:a@b SIP/2.0" CRLF "Via: SIP/2.0/UDP h;branch=z9hG4bK1" CRLF
                                 "From: <sip:a@b>;tag=1" CRLF "To: <sip:a@b>" CRLF "Call-ID: x" CRLF
                                 "CSeq: 1 OPTIONS" CRLF "Subject: one" CRLF "  two" CRLF CRLF;
    assert_int_equal(parse(&lazy, h1, FOLDED, sizeof FOLDED - 1, SW_SIP_DATAGRAM, &e), (long)(sizeof FOLDED - 1));
    assert_int_equal(sw_sip_folded(&lazy), 1);
}

static void test_header_table(void **state)
{
    (void)state;
    assert_int_equal(sw_hdr_lookup("via", 3), SW_HDR_VIA);
    assert_int_equal(sw_hdr_lookup("V", 1), SW_HDR_VIA);
    assert_int_equal(sw_hdr_lookup("CONTENT-LENGTH", 14), SW_HDR_CONTENT_LENGTH);
    assert_int_equal(sw_hdr_lookup("p-asserted-identity", 19), SW_HDR_P_ASSERTED_IDENTITY);
    assert_int_equal(sw_hdr_lookup("x-unknown", 9), SW_HDR_OTHER);
    assert_int_equal(sw_hdr_lookup("q", 1), SW_HDR_OTHER);
    assert_int_equal(sw_hdr_lookup("", 0), SW_HDR_OTHER);
    /* every name in the table round-trips */
    for (int id = 1; id < SW_HDR__COUNT; id++) {
        const char *n = sw_hdr_name((sw_hdr_id)id);
        assert_int_equal(sw_hdr_lookup(n, strlen(n)), id);
    }
    assert_int_equal(sw_method_lookup("INVITE", 6), SW_METHOD_INVITE);
    assert_int_equal(sw_method_lookup("invite", 6), SW_METHOD_OTHER);
    assert_int_equal(sw_method_lookup("PUBLISH", 7), SW_METHOD_PUBLISH);
    assert_string_equal(sw_method_name(SW_METHOD_BYE), "BYE");
    assert_string_equal(sw_strerror(SW_ELIMIT), "configured limit exceeded");
    assert_string_equal(sw_errname(SW_EINCOMPLETE), "SW_EINCOMPLETE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_index), cmocka_unit_test(test_typed_accessors),
        cmocka_unit_test(test_response),      cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_stream_framing), cmocka_unit_test(test_looks_like),
        cmocka_unit_test(test_stream_framing_folds_and_count),
        cmocka_unit_test(test_header_table),  cmocka_unit_test(test_validate_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
