/* Unit tests for the typed value parsers: URIs, parameters, name-addr, Via,
 * CSeq, digest, Identity, media types, integers, SDP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sipwall/sip.h"

#define S(lit) SW_STR_LIT(lit)
#define EQ(view, lit) assert_true(sw_str_eq((view), SW_STR_LIT(lit)))

static void test_uri_sip(void **state)
{
    (void)state;
    sw_uri u;
    sw_sip_error e;
    assert_int_equal(sw_uri_parse(S("sip:alice:se%63ret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=y"), &u, &e), SW_OK);
    assert_int_equal(u.kind, SW_URI_SIP);
    EQ(u.user, "alice");
    EQ(u.password, "se%63ret");
    EQ(u.host, "2001:db8::1");
    assert_int_equal(u.host_type, SW_HOST_IPV6);
    assert_int_equal(u.port, 5061);
    assert_true(u.has_port);
    EQ(u.params, "transport=tcp;lr");
    EQ(u.headers, "subject=hi&x=y");
    assert_int_equal(sw_uri_parse(S("SIPS:example.com"), &u, &e), SW_OK);
    assert_int_equal(u.kind, SW_URI_SIPS);
    assert_int_equal(u.user.len, 0);
    assert_int_equal(u.host_type, SW_HOST_NAME);
    assert_false(u.has_port);
    /* ';' and '?' in the user part (RFC 4475 §3.1.1.9, §3.1.1.2) */
    assert_int_equal(sw_uri_parse(S("sip:user;par=u%40example.net@example.com"), &u, &e), SW_OK);
    EQ(u.user, "user;par=u%40example.net");
    EQ(u.host, "example.com");
    assert_int_equal(sw_uri_parse(S("sip:192.0.2.1:5060"), &u, &e), SW_OK);
    assert_int_equal(u.host_type, SW_HOST_IPV4);
    const char *bad[] = {"sip:", "sip:a@", "sip:a@b:99999", "sip:a@b:", "sip:a@[::1", "sip:a@[zz]",
                         "sip:a b@c", "sip:a@b;", "sip:a@b;=x", "sip:a@b?x", "sip:%4@b", "sip:a@300.1.1.1",
                         "sip:a@b?h=1&", "1sip:a@b", "sip", "", "sip:a@-b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sw_uri_parse(sw_str_make(bad[i], strlen(bad[i])), &u, &e) == SW_OK)
            fail_msg("accepted bad URI '%s'", bad[i]);
}

static void test_uri_tel_other(void **state)
{
    (void)state;
    sw_uri u;
    sw_sip_error e;
    assert_int_equal(sw_uri_parse(S("tel:+44-7700-900123;phone-context=+44"), &u, &e), SW_OK);
    assert_int_equal(u.kind, SW_URI_TEL);
    EQ(u.user, "+44-7700-900123");
    EQ(u.params, "phone-context=+44");
    assert_int_equal(sw_uri_parse(S("tel:"), &u, &e), SW_EINVAL);
    assert_int_equal(sw_uri_parse(S("urn:service:sos"), &u, &e), SW_OK);
    assert_int_equal(u.kind, SW_URI_OTHER);
    EQ(u.opaque, "service:sos");
    EQ(u.scheme, "urn");
    assert_int_equal(sw_uri_parse(S("http:<x>"), &u, &e), SW_EINVAL);
    char out[32];
    assert_int_equal(sw_uri_unescape(S("a%41%00b"), out, sizeof out), 4);
    assert_memory_equal(out, "aA\0b", 4);
    assert_int_equal(sw_uri_unescape(S("bad%4"), out, sizeof out), SW_EINVAL);
    assert_int_equal(sw_uri_unescape(S("bad%zz"), out, sizeof out), SW_EINVAL);
    assert_int_equal(sw_uri_unescape(S("toolong"), out, 3), SW_ELIMIT);
    /* value%41 is not unescaped twice */
    assert_int_equal(sw_uri_unescape(S("value%2541"), out, sizeof out), 8);
    assert_memory_equal(out, "value%41", 8);
}

static void test_params(void **state)
{
    (void)state;
    sw_str cur = S(" a = 1 ;b; c=\"q;x\" ");
    sw_param p;
    assert_int_equal(sw_param_next(&cur, &p), 1);
    EQ(p.name, "a");
    EQ(p.value, "1");
    assert_int_equal(sw_param_next(&cur, &p), 1);
    EQ(p.name, "b");
    assert_false(p.has_value);
    assert_int_equal(sw_param_next(&cur, &p), 1);
    EQ(p.value, "\"q;x\"");
    assert_int_equal(sw_param_next(&cur, &p), 0);
    sw_str v;
    assert_true(sw_param_find(S("tag=1;LR"), "lr", &v));
    assert_int_equal(v.len, 0);
    assert_false(sw_param_find(S("tag=1"), "lr", &v));
    cur = S(";;");
    assert_int_equal(sw_param_next(&cur, &p), SW_EINVAL);
    cur = S("a=");
    assert_int_equal(sw_param_next(&cur, &p), SW_EINVAL);
}

static void test_nameaddr(void **state)
{
    (void)state;
    sw_nameaddr n;
    sw_sip_error e;
    assert_int_equal(sw_nameaddr_parse(S("\"J \\\"R\\\"\"   <sip:jd@example.com> ;tag = 98a ; x"), &n, &e), SW_OK);
    assert_true(n.display_quoted);
    EQ(n.display, "J \\\"R\\\"");
    assert_true(n.angle);
    EQ(n.tag, "98a");
    assert_int_equal(sw_nameaddr_parse(S("Bob Smith<sip:b@x>"), &n, &e), SW_OK);
    EQ(n.display, "Bob Smith");
    assert_int_equal(sw_nameaddr_parse(S("sip:b@x;tag=7;unknownparam"), &n, &e), SW_OK);
    assert_false(n.angle);
    EQ(n.uri.host, "x");
    assert_int_equal(n.uri.params.len, 0); /* addr-spec: params belong to the header */
    EQ(n.tag, "7");
    assert_int_equal(sw_nameaddr_parse(S("<sip:b@x;unknownparam>"), &n, &e), SW_OK);
    EQ(n.uri.params, "unknownparam");
    assert_int_equal(sw_nameaddr_parse(S(" * "), &n, &e), SW_OK);
    assert_true(n.wildcard);
    assert_int_equal(sw_nameaddr_parse(S("<isbn:2983792873>"), &n, &e), SW_OK);
    assert_int_equal(n.uri.kind, SW_URI_OTHER);
    const char *bad[] = {"\"open <sip:a@b>", "< sip:a@b>", "<sip:a@b >", "Bell, Alex <sip:a@b>",
                         "sip:a@b?x=y", "<sip:a@b>;;;", "<sip:a@b", "\"x\" sip:a@b", "", "<sip:a@b> junk",
                         "\"a\rb\" <sip:a@b>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sw_nameaddr_parse(sw_str_make(bad[i], strlen(bad[i])), &n, &e) == SW_OK)
            fail_msg("accepted bad name-addr '%s'", bad[i]);
}

static void test_via(void **state)
{
    (void)state;
    sw_via v;
    sw_sip_error e;
    assert_int_equal(sw_via_parse(S("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw"), &v, &e), SW_OK);
    EQ(v.transport, "UDP");
    EQ(v.host, "192.0.2.2");
    EQ(v.branch, "390skdjuw");
    assert_false(v.has_port);
    assert_int_equal(sw_via_parse(S("SIP/2.0/TLS h.example.com : 5061 ;rport=5061;received=[2001:db8::2];ttl=16;maddr=224.2.0.1"), &v, &e), SW_OK);
    assert_int_equal(v.port, 5061);
    assert_int_equal(v.rport, 5061);
    EQ(v.received, "[2001:db8::2]");
    EQ(v.ttl, "16");
    const char *bad[] = {"SIP/2.0 host", "SIP/2.0/UDP", "SIP/2.0/UDP host;;", "SIP/2.0/UDP host:70000",
                         "SIP/2.0/UDP host;received=example.com", "SIP/2.0/UDP host;rport=x",
                         "SIP/2.0/UDP host;ttl=300", "SIP/2.0/UDP [::1", "SIP/2.0/UDP host junk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sw_via_parse(sw_str_make(bad[i], strlen(bad[i])), &v, &e) == SW_OK)
            fail_msg("accepted bad Via '%s'", bad[i]);
}

static void test_cseq_uint(void **state)
{
    (void)state;
    sw_cseq c;
    sw_sip_error e;
    assert_int_equal(sw_cseq_parse(S("0009\r\n  INVITE"), &c, &e), SW_OK);
    assert_int_equal(c.number, 9);
    assert_int_equal(c.method, SW_METHOD_INVITE);
    assert_int_equal(sw_cseq_parse(S("4294967295 FOO"), &c, &e), SW_OK);
    assert_int_equal(c.number, 4294967295u);
    assert_int_equal(c.method, SW_METHOD_OTHER);
    assert_int_equal(sw_cseq_parse(S("4294967296 INVITE"), &c, &e), SW_ERANGE);
    assert_int_equal(sw_cseq_parse(S("abc INVITE"), &c, &e), SW_EINVAL);
    assert_int_equal(sw_cseq_parse(S("1"), &c, &e), SW_EINVAL);
    assert_int_equal(sw_cseq_parse(S("1 INV ITE"), &c, &e), SW_EINVAL);
    uint64_t n;
    assert_int_equal(sw_parse_uint(S(" 255 "), 255, &n), SW_OK);
    assert_int_equal(n, 255);
    assert_int_equal(sw_parse_uint(S("256"), 255, &n), SW_ERANGE);
    assert_int_equal(sw_parse_uint(S("99999999999999999999999"), UINT64_MAX, &n), SW_ERANGE);
    assert_int_equal(sw_parse_uint(S("-1"), 255, &n), SW_EINVAL);
    assert_int_equal(sw_parse_uint(S(""), 255, &n), SW_EINVAL);
}

static void test_auth(void **state)
{
    (void)state;
    sw_auth a;
    sw_sip_error e;
    assert_int_equal(sw_auth_parse(S("Digest username=\"+4477\", realm=\"ims.example.net\",\r\n nonce=\"abc\", uri=\"sip:ims.example.net\", response=\"0123\", qop=auth, nc=00000001, cnonce=\"c1\", algorithm=MD5, opaque=\"op\""), &a, &e), SW_OK);
    EQ(a.scheme, "Digest");
    EQ(a.username, "+4477");
    EQ(a.realm, "ims.example.net");
    EQ(a.nonce, "abc");
    EQ(a.uri, "sip:ims.example.net");
    EQ(a.response, "0123");
    EQ(a.qop, "auth");
    EQ(a.nc, "00000001");
    EQ(a.cnonce, "c1");
    EQ(a.algorithm, "MD5");
    EQ(a.opaque, "op");
    assert_int_equal(sw_auth_parse(S("NoOneKnowsThisScheme opaque-data=here"), &a, &e), SW_OK);
    EQ(a.scheme, "NoOneKnowsThisScheme");
    assert_int_equal(a.username.len, 0);
    assert_int_equal(sw_auth_parse(S("Digest realm=\"x"), &a, &e), SW_EINVAL);
    assert_int_equal(sw_auth_parse(S("Digest realm"), &a, &e), SW_EINVAL);
    assert_int_equal(sw_auth_parse(S("Digest a=1 b=2"), &a, &e), SW_EINVAL);
    assert_int_equal(sw_auth_parse(S(""), &a, &e), SW_EINVAL);
}

static void test_identity_media(void **state)
{
    (void)state;
    sw_identity id;
    sw_sip_error e;
    assert_int_equal(sw_identity_parse(S("eyJh.eyJb.sig-_\r\n ;info=<https://cert.example.net/c.pem>;alg=ES256;ppt=shaken"), &id, &e), SW_OK);
    EQ(id.header, "eyJh");
    EQ(id.payload, "eyJb");
    EQ(id.signature, "sig-_");
    EQ(id.info, "https://cert.example.net/c.pem");
    EQ(id.alg, "ES256");
    EQ(id.ppt, "shaken");
    assert_int_equal(sw_identity_parse(S("eyJh.eyJb;info=<x>"), &id, &e), SW_EINVAL);
    assert_int_equal(sw_identity_parse(S(";info=<https://x>"), &id, &e), SW_EINVAL);
    sw_media_type mt;
    assert_int_equal(sw_media_type_parse(S("multipart/mixed ; boundary=\"b1\""), &mt, &e), SW_OK);
    EQ(mt.type, "multipart");
    EQ(mt.subtype, "mixed");
    EQ(mt.params, "boundary=\"b1\"");
    assert_int_equal(sw_media_type_parse(S("application"), &mt, &e), SW_EINVAL);
}

static void test_sdp(void **state)
{
    (void)state;
    sw_sdp s;
    sw_sip_error e;
    const char *body = "v=0\r\no=- 5 1 IN IP6 2001:db8::5\r\ns=-\r\nc=IN IP4 198.51.100.41\r\nt=0 0\r\n"
                       "m=audio 41000 RTP/AVP 116 8\r\nc=IN IP4 198.51.100.42\r\nm=video 0 RTP/AVP 31\r\n";
    assert_int_equal(sw_sdp_parse(sw_str_make(body, strlen(body)), &s, &e), SW_OK);
    EQ(s.o_addr, "2001:db8::5");
    EQ(s.o_addrtype, "IP6");
    EQ(s.c_addr, "198.51.100.41");
    assert_int_equal(s.nmedia, 2);
    EQ(s.media[0].media, "audio");
    assert_int_equal(s.media[0].port_num, 41000);
    EQ(s.media[0].fmts, "116 8");
    EQ(s.media[0].c_addr, "198.51.100.42");
    assert_int_equal(s.media[1].port_num, 0);
    const char *bad[] = {"v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n", "v=0\r\ns\r\n", "v=0\r\nc=IN IP4 999.1.1.1\r\n",
                         "v=0\r\nm=audio 99999999 RTP/AVP 0\r\n", "s=x\r\n", "", "v=0\r\no=- 1 1 IN IP4\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sw_sdp_parse(sw_str_make(bad[i], strlen(bad[i])), &s, &e) == SW_OK)
            fail_msg("accepted bad SDP '%s'", bad[i]);
    /* more m= lines than we keep: counted as truncated, not an error */
    char big[2048];
    int n = snprintf(big, sizeof big, "v=0\r\n");
    for (int i = 0; i < 12; i++)
        n += snprintf(big + n, sizeof big - (size_t)n, "m=audio %d RTP/AVP 0\r\n", 1000 + i);
    assert_int_equal(sw_sdp_parse(sw_str_make(big, (size_t)n), &s, &e), SW_OK);
    assert_int_equal(s.nmedia, SW_SDP_MAX_MEDIA);
    assert_true(s.media_truncated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_sip),  cmocka_unit_test(test_uri_tel_other),
        cmocka_unit_test(test_params),   cmocka_unit_test(test_nameaddr),
        cmocka_unit_test(test_via),      cmocka_unit_test(test_cseq_uint),
        cmocka_unit_test(test_auth),     cmocka_unit_test(test_identity_media),
        cmocka_unit_test(test_sdp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
