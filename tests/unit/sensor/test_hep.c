/* HEP v3: encode/decode round trips, every malformed shape we could think of
 * (each must give its named error and never read past the buffer), the
 * datagram input (auth key, SIP detection, counters) and stream reassembly
 * split at every byte boundary with a bounded buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guard.h"
#include "sipwall/sensor.h"

#define SEC 1000000000LL

static const char INVITE[] =
    "INVITE sip:+447700900123@ims.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-hep1\r\n"
    "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\n"
    "To: <sip:+447700900123@ims.example.net>\r\nCall-ID: hep-call-1\r\n"
    "CSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.10>\r\nContent-Length: 0\r\n\r\n";
static const char OPTIONS[] =
    "OPTIONS sip:bob@example.net SIP/2.0\r\nVia: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK-2\r\n"
    "From: <sip:a@example.com>;tag=2\r\nTo: <sip:bob@example.net>\r\nCall-ID: hep-call-2\r\n"
    "CSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n";
static const char RESPONSE[] =
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-hep1\r\n"
    "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.net>;tag=b1\r\n"
    "Call-ID: hep-call-3\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

static sw_addr addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

static sw_hep_msg sample_v4(void)
{
    sw_hep_msg m;
    memset(&m, 0, sizeof m);
    m.src = addr("192.0.2.10:5060");
    m.dst = addr("198.51.100.7:5080");
    m.transport = SW_TRANSPORT_UDP;
    m.proto_type = SW_HEP_PROTO_SIP;
    m.capture_id = 0xdeadbeef;
    m.keepalive_s = 30;
    m.vlan = 100;
    m.ts_ns = 1700000000LL * SEC + 123456000LL;
    m.payload = SW_STR_LIT(INVITE);
    m.auth_key = SW_STR_LIT("s3cret");
    m.correlation_id = SW_STR_LIT("corr-42");
    return m;
}

static sw_hep_msg sample_v6(void)
{
    sw_hep_msg m;
    memset(&m, 0, sizeof m);
    m.src = addr("[2001:db8::1]:40001");
    m.dst = addr("[2001:db8:ffff::fe]:5060");
    m.transport = SW_TRANSPORT_TCP;
    m.proto_type = SW_HEP_PROTO_SIP;
    m.capture_id = 7;
    m.ts_ns = 1600000000LL * SEC + 999999000LL;
    m.payload = SW_STR_LIT(OPTIONS);
    return m;
}

static void assert_str_eq(sw_str a, sw_str b)
{
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.ptr, b.ptr, a.len);
}

static void assert_same(const sw_hep_msg *want, const sw_hep_msg *got)
{
    assert_true(sw_addr_eq(&want->src, &got->src));
    assert_true(sw_addr_eq(&want->dst, &got->dst));
    assert_int_equal(want->src.port, got->src.port);
    assert_int_equal(want->dst.port, got->dst.port);
    assert_int_equal(want->transport, got->transport);
    assert_int_equal(want->proto_type, got->proto_type);
    assert_int_equal(want->capture_id, got->capture_id);
    assert_int_equal(want->keepalive_s, got->keepalive_s);
    assert_int_equal(want->vlan, got->vlan);
    assert_int_equal(want->ts_ns, got->ts_ns);
    assert_str_eq(want->payload, got->payload);
    assert_str_eq(want->auth_key, got->auth_key);
    assert_str_eq(want->correlation_id, got->correlation_id);
}

/* Decodes from a guard-page copy, so reading one byte past len faults. */
static long decode_guarded(const uint8_t *pkt, size_t len, sw_hep_msg *m, sw_sip_error *e)
{
    static sw_guard g;
    const uint8_t *p = (const uint8_t *)sw_guard_copy(&g, pkt, len);
    assert_non_null(p);
    memset(e, 0, sizeof *e);
    long rc = sw_hep_decode(p, len, m, e);
    if (rc >= 0) {
        /* every view lies inside the packet */
        const sw_str *v[] = {&m->payload, &m->auth_key, &m->correlation_id};
        for (size_t i = 0; i < 3; i++)
            if (v[i]->len)
                assert_true((const uint8_t *)v[i]->ptr >= p &&
                            (const uint8_t *)v[i]->ptr + v[i]->len <= p + rc);
    }
    return rc;
}

static void test_round_trip_v4_udp(void **state)
{
    (void)state;
    sw_hep_msg m = sample_v4(), d;
    uint8_t buf[2048];
    long n = sw_hep_encode(&m, buf, sizeof buf);
    assert_true(n > 0);
    assert_memory_equal(buf, "HEP3", 4);
    assert_int_equal((buf[4] << 8 | buf[5]), n);
    sw_sip_error e;
    assert_int_equal(decode_guarded(buf, (size_t)n, &d, &e), n);
    assert_same(&m, &d);
    assert_int_equal(d.ip_proto, 17);
    for (unsigned t = 1; t <= 18; t++) {
        int want = t != SW_HEP_CHUNK_SRC_IP6 && t != SW_HEP_CHUNK_DST_IP6 &&
                   t != SW_HEP_CHUNK_COMPRESSED;
        assert_int_equal(SW_HEP_HAS(&d, t), want);
    }
    /* Bytes after the packet are not part of it. */
    uint8_t more[2100];
    memcpy(more, buf, (size_t)n);
    memcpy(more + n, "HEP3garbage", 11);
    assert_int_equal(decode_guarded(more, (size_t)n + 11, &d, &e), n);
    assert_same(&m, &d);
}

static void test_round_trip_v6_tcp(void **state)
{
    (void)state;
    sw_hep_msg m = sample_v6(), d;
    uint8_t buf[2048];
    long n = sw_hep_encode(&m, buf, sizeof buf);
    assert_true(n > 0);
    sw_sip_error e;
    assert_int_equal(decode_guarded(buf, (size_t)n, &d, &e), n);
    assert_same(&m, &d);
    assert_int_equal(d.ip_proto, 6);
    assert_int_equal(d.src.family, 6);
    assert_true(SW_HEP_HAS(&d, SW_HEP_CHUNK_SRC_IP6));
    assert_false(SW_HEP_HAS(&d, SW_HEP_CHUNK_SRC_IP4));
    /* optional chunks left out when zero/empty */
    assert_false(SW_HEP_HAS(&d, SW_HEP_CHUNK_AUTH_KEY));
    assert_false(SW_HEP_HAS(&d, SW_HEP_CHUNK_VLAN));
    assert_false(SW_HEP_HAS(&d, SW_HEP_CHUNK_KEEPALIVE));
    assert_false(SW_HEP_HAS(&d, SW_HEP_CHUNK_CORRELATION_ID));

    /* SCTP, and an IP protocol we do not know */
    m.transport = SW_TRANSPORT_SCTP;
    n = sw_hep_encode(&m, buf, sizeof buf);
    assert_int_equal(decode_guarded(buf, (size_t)n, &d, &e), n);
    assert_int_equal(d.transport, SW_TRANSPORT_SCTP);
    assert_int_equal(d.ip_proto, 132);
    m.ip_proto = 50;
    n = sw_hep_encode(&m, buf, sizeof buf);
    assert_int_equal(decode_guarded(buf, (size_t)n, &d, &e), n);
    assert_int_equal(d.transport, SW_TRANSPORT_UNKNOWN);
    assert_int_equal(d.ip_proto, 50);
    /* no timestamp: chunks 9/10 absent, ts 0 */
    m.ts_ns = 0;
    n = sw_hep_encode(&m, buf, sizeof buf);
    assert_int_equal(decode_guarded(buf, (size_t)n, &d, &e), n);
    assert_false(SW_HEP_HAS(&d, SW_HEP_CHUNK_TS_SEC));
    assert_int_equal(d.ts_ns, 0);
}

static void test_encode_errors(void **state)
{
    (void)state;
    sw_hep_msg m = sample_v4();
    uint8_t buf[2048];
    long n = sw_hep_encode(&m, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(sw_hep_encode(&m, buf, (size_t)n - 1), SW_ELIMIT);
    assert_int_equal(sw_hep_encode(&m, buf, (size_t)n), n);
    sw_hep_msg x = m;
    x.dst = addr("[2001:db8::2]:5060");
    assert_int_equal(sw_hep_encode(&x, buf, sizeof buf), SW_EUSAGE);
    x = m;
    x.src.family = 0;
    assert_int_equal(sw_hep_encode(&x, buf, sizeof buf), SW_EUSAGE);
    x = m;
    x.transport = SW_TRANSPORT_UNKNOWN;
    assert_int_equal(sw_hep_encode(&x, buf, sizeof buf), SW_EUSAGE);
    x = m;
    x.ts_ns = (int64_t)UINT32_MAX * SEC + SEC;
    assert_int_equal(sw_hep_encode(&x, buf, sizeof buf), SW_EUSAGE);
    /* a payload that makes the packet longer than 65535 */
    static uint8_t big[70000], out[70000];
    memset(big, 'x', sizeof big);
    x = m;
    x.payload = sw_str_make((const char *)big, 65535 - 100);
    assert_int_equal(sw_hep_encode(&x, out, sizeof out), SW_ELIMIT);
    /* the largest payload that fits, exactly */
    x.payload = sw_str_make((const char *)big, 1000);
    long base = sw_hep_encode(&x, out, sizeof out);
    assert_true(base > 0);
    x.payload.len = 1000 + (65535 - (size_t)base);
    assert_int_equal(sw_hep_encode(&x, out, sizeof out), 65535);
    sw_hep_msg d;
    sw_sip_error e;
    assert_int_equal(sw_hep_decode(out, 65535, &d, &e), 65535);
    assert_int_equal(d.payload.len, x.payload.len);
}

/* ---- a packet builder for malformed input ---- */

typedef struct pb {
    uint8_t b[4096];
    size_t n;
} pb;

static void pb_start(pb *p)
{
    memcpy(p->b, "HEP3\0\0", 6);
    p->n = 6;
}
/* A chunk whose length field says `clen` (the real value has vlen bytes). */
static void pb_raw(pb *p, uint16_t vendor, uint16_t type, uint16_t clen, const void *v,
                   size_t vlen)
{
    uint8_t *o = p->b + p->n;
    o[0] = (uint8_t)(vendor >> 8);
    o[1] = (uint8_t)vendor;
    o[2] = (uint8_t)(type >> 8);
    o[3] = (uint8_t)type;
    o[4] = (uint8_t)(clen >> 8);
    o[5] = (uint8_t)clen;
    if (vlen)
        memcpy(o + 6, v, vlen);
    p->n += 6 + vlen;
}
static void pb_chunk(pb *p, uint16_t type, const void *v, size_t vlen)
{
    pb_raw(p, 0, type, (uint16_t)(6 + vlen), v, vlen);
}
static void pb_u8(pb *p, uint16_t type, uint8_t v) { pb_chunk(p, type, &v, 1); }
static void pb_u16(pb *p, uint16_t type, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pb_chunk(p, type, b, 2);
}
static void pb_u32(pb *p, uint16_t type, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    pb_chunk(p, type, b, 4);
}
static void pb_end(pb *p)
{
    p->b[4] = (uint8_t)(p->n >> 8);
    p->b[5] = (uint8_t)p->n;
}

/* Which parts of a valid IPv4 packet to leave out or replace. */
enum {
    NO_FAMILY = 1 << 0,
    NO_PROTO = 1 << 1,
    NO_SRC = 1 << 2,
    NO_DST = 1 << 3,
    NO_SPORT = 1 << 4,
    NO_DPORT = 1 << 5,
    NO_PAYLOAD = 1 << 6,
};

static const uint8_t IP_A[4] = {192, 0, 2, 10}, IP_B[4] = {198, 51, 100, 7};

static void pb_valid4(pb *p, unsigned omit)
{
    pb_start(p);
    if (!(omit & NO_FAMILY))
        pb_u8(p, 1, 2);
    if (!(omit & NO_PROTO))
        pb_u8(p, 2, 17);
    if (!(omit & NO_SRC))
        pb_chunk(p, 3, IP_A, 4);
    if (!(omit & NO_DST))
        pb_chunk(p, 4, IP_B, 4);
    if (!(omit & NO_SPORT))
        pb_u16(p, 7, 5060);
    if (!(omit & NO_DPORT))
        pb_u16(p, 8, 5080);
    pb_u32(p, 9, 1700000000u);
    pb_u32(p, 10, 5);
    pb_u8(p, 11, 1);
    pb_u32(p, 12, 99);
    if (!(omit & NO_PAYLOAD))
        pb_chunk(p, 15, INVITE, sizeof INVITE - 1);
}

static void expect_error(const pb *p, int code, const char *reason_part, long offset)
{
    sw_hep_msg m;
    sw_sip_error e;
    long rc = decode_guarded(p->b, p->n, &m, &e);
    if (rc != code)
        fail_msg("expected %s, got %ld (%s)", sw_errname(code), rc, e.reason ? e.reason : "-");
    assert_int_equal(e.code, code);
    assert_non_null(e.reason);
    if (!strstr(e.reason, reason_part))
        fail_msg("reason \"%s\" does not name \"%s\"", e.reason, reason_part);
    if (offset >= 0)
        assert_int_equal(e.offset, (size_t)offset);
}

static void test_decode_valid_builder(void **state)
{
    (void)state;
    pb p;
    pb_valid4(&p, 0);
    pb_end(&p);
    sw_hep_msg m;
    sw_sip_error e;
    assert_int_equal(decode_guarded(p.b, p.n, &m, &e), (long)p.n);
    assert_int_equal(m.src.family, 4);
    assert_memory_equal(m.src.ip, IP_A, 4);
    assert_memory_equal(m.dst.ip, IP_B, 4);
    assert_int_equal(m.src.port, 5060);
    assert_int_equal(m.dst.port, 5080);
    assert_int_equal(m.ts_ns, 1700000000LL * SEC + 5000);
    assert_int_equal(m.capture_id, 99);
    assert_int_equal(m.payload.len, sizeof INVITE - 1);
}

static void test_decode_header_errors(void **state)
{
    (void)state;
    pb p;
    pb_valid4(&p, 0);
    pb_end(&p);
    sw_hep_msg m;
    sw_sip_error e;
    /* every prefix of a valid packet: more bytes needed */
    for (size_t k = 0; k < p.n; k++) {
        assert_int_equal(decode_guarded(p.b, k, &m, &e), SW_EINCOMPLETE);
        assert_non_null(e.reason);
    }
    assert_int_equal(sw_hep_packet_length(p.b, 5, NULL), SW_EINCOMPLETE);
    assert_int_equal(sw_hep_packet_length(p.b, 6, NULL), (long)p.n);

    pb q = p;
    memcpy(q.b, "HEP2", 4);
    expect_error(&q, SW_EFORMAT, "bad magic", 0);
    memcpy(q.b, "\x02\x1c\x02\x11", 4); /* a HEP v2 header */
    expect_error(&q, SW_EFORMAT, "version 1 or 2", 0);
    q = p;
    q.b[4] = 0;
    q.b[5] = 5;
    expect_error(&q, SW_EINVAL, "smaller than its 6-byte header", 4);
    q.b[5] = 0;
    expect_error(&q, SW_EINVAL, "smaller than its 6-byte header", 4);
    /* a header-only packet has no chunks at all */
    q.b[5] = 6;
    q.n = 6;
    expect_error(&q, SW_EMISSING, "IP family", -1);
    /* declared longer than what is there */
    q = p;
    q.n--;
    assert_int_equal(decode_guarded(q.b, q.n, &m, &e), SW_EINCOMPLETE);
}

static void test_decode_chunk_errors(void **state)
{
    (void)state;
    pb p;
    size_t at;

    /* 1..5 bytes left after the last chunk */
    for (size_t extra = 1; extra < 6; extra++) {
        pb_valid4(&p, 0);
        at = p.n;
        memset(p.b + p.n, 0, extra);
        p.n += extra;
        pb_end(&p);
        expect_error(&p, SW_ETRUNC, "chunk header cut", (long)at);
    }
    /* chunk length 0 and 5 */
    for (uint16_t clen = 0; clen < 6; clen++) {
        pb_valid4(&p, 0);
        at = p.n;
        pb_raw(&p, 0, 17, clen, NULL, 0);
        pb_end(&p);
        expect_error(&p, SW_EINVAL, "chunk length below", (long)at);
    }
    /* a vendor chunk with a bad length is just as bad */
    pb_valid4(&p, 0);
    at = p.n;
    pb_raw(&p, 0x1234, 1, 3, NULL, 0);
    pb_end(&p);
    expect_error(&p, SW_EINVAL, "chunk length below", (long)at);
    /* chunk past the end of the packet */
    pb_valid4(&p, 0);
    at = p.n;
    pb_raw(&p, 0, 17, 6 + 10, "abcd", 4);
    pb_end(&p);
    expect_error(&p, SW_ETRUNC, "past the end", (long)at);
    /* ... where the buffer goes on: the packet's length still rules */
    pb_valid4(&p, 0);
    at = p.n;
    pb_raw(&p, 0, 17, 6 + 10, "abcdefghij", 10);
    p.b[4] = (uint8_t)((p.n - 6) >> 8);
    p.b[5] = (uint8_t)(p.n - 6);
    expect_error(&p, SW_ETRUNC, "past the end", (long)at);

    /* wrong sizes of fixed-size chunks */
    static const struct {
        uint16_t type;
        size_t len;
        const char *name;
    } sizes[] = {
        {1, 2, "IP family"},      {1, 0, "IP family"},       {2, 4, "IP protocol"},
        {3, 5, "IPv4 source"},    {3, 16, "IPv4 source"},    {4, 3, "IPv4 destination"},
        {5, 4, "IPv6 source"},    {6, 15, "IPv6 destination"}, {7, 1, "source port"},
        {8, 4, "destination port"}, {9, 8, "timestamp seconds"}, {10, 2, "microseconds"},
        {11, 2, "protocol type"}, {12, 3, "capture id"},     {12, 8, "capture id"},
        {13, 4, "keep-alive"},    {18, 4, "VLAN"},
    };
    uint8_t zeros[16] = {0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        /* Build a packet where this chunk is the one given with a bad size. */
        pb_start(&p);
        at = p.n;
        pb_chunk(&p, sizes[i].type, zeros, sizes[i].len);
        pb_end(&p);
        expect_error(&p, SW_ERANGE, sizes[i].name, (long)at);
    }

    /* unknown family value */
    pb_start(&p);
    pb_u8(&p, 1, 3);
    pb_end(&p);
    expect_error(&p, SW_ERANGE, "unknown IP family", 6);
    /* microseconds out of range */
    pb_valid4(&p, 0);
    at = p.n;
    pb_u32(&p, 10, 1000000); /* also a repeat, but the valid packet has chunk 10 first */
    pb_end(&p);
    expect_error(&p, SW_ECONFLICT, "repeated", (long)at);
    pb_start(&p);
    pb_u32(&p, 10, 1000000);
    pb_end(&p);
    expect_error(&p, SW_ERANGE, "microseconds", 6);
    /* compressed payload */
    pb_valid4(&p, NO_PAYLOAD);
    at = p.n;
    pb_chunk(&p, 16, "x\x9c", 2);
    pb_end(&p);
    expect_error(&p, SW_EFORMAT, "compressed", (long)at);
    /* repeated payload / address */
    pb_valid4(&p, 0);
    at = p.n;
    pb_chunk(&p, 15, "OPTIONS", 7);
    pb_end(&p);
    expect_error(&p, SW_ECONFLICT, "repeated", (long)at);
    pb_valid4(&p, 0);
    at = p.n;
    pb_chunk(&p, 3, IP_B, 4);
    pb_end(&p);
    expect_error(&p, SW_ECONFLICT, "repeated", (long)at);
}

static void test_decode_semantic_errors(void **state)
{
    (void)state;
    pb p;
    static const struct {
        unsigned omit;
        const char *reason;
    } missing[] = {
        {NO_FAMILY, "IP family"},         {NO_PROTO, "IP protocol"},
        {NO_SRC, "source address"},       {NO_DST, "destination address"},
        {NO_SPORT, "source port"},        {NO_DPORT, "destination port"},
        {NO_PAYLOAD, "payload"},          {NO_SRC | NO_DST, "source address"},
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        pb_valid4(&p, missing[i].omit);
        pb_end(&p);
        expect_error(&p, SW_EMISSING, missing[i].reason, 0);
    }
    uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    /* IPv4 source, IPv6 destination */
    pb_valid4(&p, NO_DST);
    pb_chunk(&p, 6, ip6, 16);
    pb_end(&p);
    expect_error(&p, SW_ECONFLICT, "mixed", 0);
    /* family 10 with IPv4 addresses */
    pb_valid4(&p, NO_FAMILY);
    pb_u8(&p, 1, 10);
    pb_end(&p);
    expect_error(&p, SW_ECONFLICT, "contradicts", 0);
    /* family 2 with IPv6 addresses */
    pb_valid4(&p, NO_SRC | NO_DST);
    pb_chunk(&p, 5, ip6, 16);
    pb_chunk(&p, 6, ip6, 16);
    pb_end(&p);
    expect_error(&p, SW_ECONFLICT, "contradicts", 0);
}

static void test_decode_lenient_parts(void **state)
{
    (void)state;
    pb p;
    pb_valid4(&p, NO_PAYLOAD);
    /* another vendor's chunks, even with generic type ids, are skipped */
    pb_raw(&p, 0x0002, 15, 6 + 5, "EVIL!", 5);
    pb_raw(&p, 0x0002, 3, 6 + 4, "\x01\x02\x03\x04", 4);
    pb_raw(&p, 0, 0x0020, 6 + 3, "abc", 3); /* a newer generic chunk */
    pb_raw(&p, 0, 0, 6, NULL, 0);
    pb_chunk(&p, 15, RESPONSE, sizeof RESPONSE - 1);
    pb_chunk(&p, 14, "key\0\0", 5);
    pb_chunk(&p, 17, "", 0);
    pb_end(&p);
    sw_hep_msg m;
    sw_sip_error e;
    assert_int_equal(decode_guarded(p.b, p.n, &m, &e), (long)p.n);
    assert_str_eq(m.payload, SW_STR_LIT(RESPONSE));
    assert_memory_equal(m.src.ip, IP_A, 4);
    assert_str_eq(m.auth_key, SW_STR_LIT("key"));
    assert_int_equal(m.correlation_id.len, 0);
    assert_true(SW_HEP_HAS(&m, SW_HEP_CHUNK_CORRELATION_ID));
    /* a 16-bit capture id */
    pb_start(&p);
    pb_u8(&p, 1, 2);
    pb_u8(&p, 2, 6);
    pb_chunk(&p, 3, IP_A, 4);
    pb_chunk(&p, 4, IP_B, 4);
    pb_u16(&p, 7, 1);
    pb_u16(&p, 8, 2);
    pb_u16(&p, 12, 0x1234);
    pb_chunk(&p, 15, "", 0);
    pb_end(&p);
    assert_int_equal(decode_guarded(p.b, p.n, &m, &e), (long)p.n);
    assert_int_equal(m.capture_id, 0x1234);
    assert_int_equal(m.transport, SW_TRANSPORT_TCP);
    assert_int_equal(m.payload.len, 0);
    assert_int_equal(m.proto_type, 0);
    assert_int_equal(m.ts_ns, 0);
}

/* Every declared length shorter than the real packet, and every single byte
 * changed to a few values: a named error or a success, never a read past
 * the buffer (guard page) or a view outside it. */
static void test_decode_mutations(void **state)
{
    (void)state;
    sw_hep_msg src = sample_v6(), m;
    uint8_t buf[2048], work[2048];
    long n = sw_hep_encode(&src, buf, sizeof buf);
    assert_true(n > 0);
    sw_sip_error e;
    for (long k = 6; k < n; k++) {
        memcpy(work, buf, (size_t)k);
        work[4] = (uint8_t)(k >> 8);
        work[5] = (uint8_t)k;
        long rc = decode_guarded(work, (size_t)k, &m, &e);
        assert_true(rc < 0);
        assert_non_null(e.reason);
        assert_int_equal(e.code, rc);
        assert_true(e.offset <= (size_t)k);
    }
    static const uint8_t vals[] = {0x00, 0x01, 0x05, 0x06, 0x0f, 0x7f, 0xff};
    size_t ok = 0, bad = 0;
    for (long i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof vals; j++) {
            memcpy(work, buf, (size_t)n);
            work[i] = vals[j];
            long rc = decode_guarded(work, (size_t)n, &m, &e);
            if (rc >= 0) {
                assert_true(rc >= 6 && rc <= n);
                ok++;
            } else {
                assert_non_null(e.reason);
                assert_string_not_equal(sw_strerror((int)rc), "unknown error");
                bad++;
            }
        }
    }
    assert_true(ok > 0 && bad > 0);
}

/* ---- the input ---- */

#define MAX_SEEN 64

typedef struct seen {
    size_t n;
    char data[MAX_SEEN][512];
    size_t len[MAX_SEEN];
    sw_capture_msg msg[MAX_SEEN];
    uint32_t capture_id[MAX_SEEN];
    const sw_hep_input *in;
    int stop_at; /* return 1 from the callback at this count */
} seen;

static int collect(void *ctx, const sw_capture_msg *cm)
{
    seen *s = ctx;
    if (s->n < MAX_SEEN) {
        assert_true(cm->len < sizeof s->data[0]);
        memcpy(s->data[s->n], cm->data, cm->len);
        s->len[s->n] = cm->len;
        s->msg[s->n] = *cm;
        s->msg[s->n].data = NULL;
        if (s->in) {
            const sw_hep_msg *h = sw_hep_input_current(s->in);
            assert_non_null(h);
            assert_ptr_equal(h->payload.ptr, cm->data);
            s->capture_id[s->n] = h->capture_id;
        }
    }
    s->n++;
    return (s->stop_at > 0 && (int)s->n >= s->stop_at) ? 1 : 0;
}

static size_t enc(const sw_hep_msg *m, uint8_t *out, size_t cap)
{
    long n = sw_hep_encode(m, out, cap);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_datagram_delivery(void **state)
{
    (void)state;
    sw_hep_input *in = sw_hep_input_new(NULL);
    assert_non_null(in);
    seen s;
    memset(&s, 0, sizeof s);
    s.in = in;
    uint8_t buf[4096];
    sw_hep_msg m = sample_v4();
    size_t n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 5 * SEC, collect, &s), SW_OK);
    assert_int_equal(s.n, 1);
    assert_null(sw_hep_input_current(in));
    assert_int_equal(s.len[0], sizeof INVITE - 1);
    assert_memory_equal(s.data[0], INVITE, s.len[0]);
    assert_int_equal(s.msg[0].ts_ns, m.ts_ns);
    assert_true(sw_addr_eq(&s.msg[0].src, &m.src));
    assert_true(sw_addr_eq(&s.msg[0].dst, &m.dst));
    assert_int_equal(s.msg[0].transport, SW_TRANSPORT_UDP);
    assert_int_equal(s.msg[0].vlan, 100);
    assert_int_equal(s.msg[0].frame, 1);
    assert_int_equal(s.msg[0].framing_error.code, 0);
    assert_int_equal(s.capture_id[0], 0xdeadbeef);

    /* no timestamp: the caller's clock */
    m.ts_ns = 0;
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 5 * SEC, collect, &s), SW_OK);
    assert_int_equal(s.msg[1].ts_ns, 5 * SEC);
    assert_int_equal(s.msg[1].frame, 2);

    /* RTCP report (type 5), empty SIP payload: counted, not delivered */
    m.proto_type = 5;
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    m.proto_type = SW_HEP_PROTO_SIP;
    m.payload = SW_STR_NULL;
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    /* no protocol type: SIP if it looks like SIP */
    m.proto_type = 0;
    m.payload = SW_STR_LIT(RESPONSE);
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    assert_int_equal(s.n, 3);
    assert_memory_equal(s.data[2], RESPONSE, s.len[2]);
    m.payload = SW_STR_LIT("{\"rtcp\": 1}");
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    assert_int_equal(s.n, 3);

    /* a TCP payload with part of a message is delivered as it is */
    m.proto_type = SW_HEP_PROTO_SIP;
    m.transport = SW_TRANSPORT_TCP;
    m.payload = sw_str_make(INVITE + 40, 30);
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.msg[3].transport, SW_TRANSPORT_TCP);
    assert_memory_equal(s.data[3], INVITE + 40, 30);

    const sw_hep_stats *st = sw_hep_input_get_stats(in);
    assert_int_equal(st->datagrams, 7);
    assert_int_equal(st->packets, 7);
    assert_int_equal(st->sip, 4);
    assert_int_equal(st->non_sip, 3);
    assert_int_equal(st->bad, 0);
    assert_int_equal(st->auth_failed, 0);
    assert_int_equal(sw_hep_input_error(in)->code, 0);
    sw_hep_input_free(in);
}

static void test_datagram_several_and_bad(void **state)
{
    (void)state;
    sw_hep_input *in = sw_hep_input_new(NULL);
    assert_non_null(in);
    seen s;
    memset(&s, 0, sizeof s);
    uint8_t buf[8192];
    sw_hep_msg a = sample_v4(), b = sample_v6();
    size_t n = enc(&a, buf, sizeof buf);
    n += enc(&b, buf + n, sizeof buf - n);
    size_t two = n;
    assert_int_equal(sw_hep_datagram(in, buf, two, 0, collect, &s), SW_OK);
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.data[1], OPTIONS, s.len[1]);

    /* callback stop: the second packet is not delivered */
    s.stop_at = 3;
    assert_int_equal(sw_hep_datagram(in, buf, two, 0, collect, &s), 1);
    assert_int_equal(s.n, 3);
    s.stop_at = 0;

    /* trailing garbage after a good packet: it is delivered, the rest is bad */
    memcpy(buf + two, "junk", 4);
    assert_int_equal(sw_hep_datagram(in, buf, two + 4, 0, collect, &s), SW_ETRUNC);
    assert_int_equal(s.n, 5);
    assert_non_null(strstr(sw_hep_input_error(in)->reason, "shorter than a HEP header"));
    assert_int_equal(sw_hep_input_error(in)->offset, two);
    memcpy(buf + two, "junk and more", 13);
    assert_int_equal(sw_hep_datagram(in, buf, two + 13, 0, collect, &s), SW_EFORMAT);
    assert_non_null(strstr(sw_hep_input_error(in)->reason, "bad magic"));
    assert_int_equal(s.n, 7);

    /* truncated datagram, empty datagram, bad chunk */
    assert_int_equal(sw_hep_datagram(in, buf, 100, 0, collect, &s), SW_ETRUNC);
    assert_non_null(strstr(sw_hep_input_error(in)->reason, "shorter than its HEP length"));
    assert_int_equal(sw_hep_datagram(in, buf, 0, 0, collect, &s), SW_ETRUNC);
    pb p;
    pb_valid4(&p, NO_PAYLOAD);
    pb_end(&p);
    assert_int_equal(sw_hep_datagram(in, p.b, p.n, 0, collect, &s), SW_EMISSING);
    assert_non_null(strstr(sw_hep_input_error(in)->reason, "payload"));
    assert_int_equal(s.n, 7);

    const sw_hep_stats *st = sw_hep_input_get_stats(in);
    assert_int_equal(st->bad, 5);
    assert_int_equal(st->sip, 7); /* 2 + 1 (stopped) + 2 + 2 */
    assert_int_equal(st->datagrams, 7);
    sw_hep_input_free(in);
}

static void test_auth_key(void **state)
{
    (void)state;
    sw_hep_input_config cfg = {.auth_key = "s3cret"};
    sw_hep_input *in = sw_hep_input_new(&cfg);
    assert_non_null(in);
    seen s;
    memset(&s, 0, sizeof s);
    uint8_t buf[4096];
    sw_hep_msg m = sample_v4();
    static const char *const wrong[] = {NULL, "s3creT", "s3cre", "s3cret!", "S3CRET"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        m.auth_key = wrong[i] ? sw_str_make(wrong[i], strlen(wrong[i])) : SW_STR_NULL;
        size_t n = enc(&m, buf, sizeof buf);
        assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    }
    assert_int_equal(s.n, 0);
    assert_int_equal(sw_hep_input_get_stats(in)->auth_failed, 5);
    m.auth_key = SW_STR_LIT("s3cret");
    size_t n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    /* senders that count the terminating NUL */
    m.auth_key = sw_str_make("s3cret\0", 7);
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(sw_hep_input_get_stats(in)->auth_failed, 5);
    assert_int_equal(sw_hep_input_get_stats(in)->packets, 7);
    sw_hep_input_free(in);

    /* no key required: packets with any key pass */
    in = sw_hep_input_new(NULL);
    assert_non_null(in);
    m.auth_key = SW_STR_LIT("whatever");
    n = enc(&m, buf, sizeof buf);
    assert_int_equal(sw_hep_datagram(in, buf, n, 0, collect, &s), SW_OK);
    assert_int_equal(s.n, 3);
    sw_hep_input_free(in);

    /* config bounds */
    cfg.max_packet = 5;
    assert_null(sw_hep_input_new(&cfg));
    cfg.max_packet = 65536;
    assert_null(sw_hep_input_new(&cfg));
    cfg.max_packet = 6;
    in = sw_hep_input_new(&cfg);
    assert_non_null(in);
    sw_hep_input_free(in);
}

/* ---- streams ---- */

typedef struct three {
    uint8_t buf[8192];
    size_t n;
    size_t ends[3];
} three;

static void make_three(three *t)
{
    sw_hep_msg a = sample_v4(), b = sample_v6(), c = sample_v4();
    c.payload = SW_STR_LIT(RESPONSE);
    c.auth_key = SW_STR_NULL;
    c.transport = SW_TRANSPORT_TCP;
    t->n = 0;
    const sw_hep_msg *ms[3] = {&a, &b, &c};
    for (int i = 0; i < 3; i++) {
        t->n += enc(ms[i], t->buf + t->n, sizeof t->buf - t->n);
        t->ends[i] = t->n;
    }
}

static void check_three(const seen *s, size_t base)
{
    assert_int_equal(s->n, base + 3);
    assert_int_equal(s->len[base], sizeof INVITE - 1);
    assert_memory_equal(s->data[base], INVITE, s->len[base]);
    assert_memory_equal(s->data[base + 1], OPTIONS, s->len[base + 1]);
    assert_memory_equal(s->data[base + 2], RESPONSE, s->len[base + 2]);
    assert_int_equal(s->msg[base + 1].src.family, 6);
    assert_int_equal(s->msg[base + 2].transport, SW_TRANSPORT_TCP);
}

static void test_stream_every_split(void **state)
{
    (void)state;
    three t;
    make_three(&t);
    sw_hep_input *in = sw_hep_input_new(NULL);
    assert_non_null(in);
    seen s;
    /* all in one read */
    memset(&s, 0, sizeof s);
    s.in = in;
    sw_hep_stream *st = sw_hep_stream_new(in);
    assert_non_null(st);
    assert_int_equal(sw_hep_stream_feed(st, t.buf, t.n, 0, collect, &s), SW_OK);
    check_three(&s, 0);
    assert_int_equal(sw_hep_stream_pending(st), 0);

    /* one split at every byte boundary */
    for (size_t cut = 1; cut < t.n; cut++) {
        memset(&s, 0, sizeof s);
        s.in = in;
        assert_int_equal(sw_hep_stream_feed(st, t.buf, cut, 0, collect, &s), SW_OK);
        size_t done = cut >= t.ends[2] ? 3 : cut >= t.ends[1] ? 2 : cut >= t.ends[0] ? 1 : 0;
        assert_int_equal(s.n, done);
        size_t start = done ? t.ends[done - 1] : 0;
        assert_int_equal(sw_hep_stream_pending(st), cut - start);
        assert_int_equal(sw_hep_stream_feed(st, t.buf + cut, t.n - cut, 0, collect, &s), SW_OK);
        check_three(&s, 0);
        assert_int_equal(sw_hep_stream_pending(st), 0);
    }
    /* one byte per read */
    memset(&s, 0, sizeof s);
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(sw_hep_stream_feed(st, t.buf + i, 1, 0, collect, &s), SW_OK);
    check_three(&s, 0);
    /* reads of every size from 2 to 64 */
    for (size_t step = 2; step <= 64; step++) {
        memset(&s, 0, sizeof s);
        for (size_t i = 0; i < t.n; i += step) {
            size_t k = t.n - i < step ? t.n - i : step;
            assert_int_equal(sw_hep_stream_feed(st, t.buf + i, k, 0, collect, &s), SW_OK);
        }
        check_three(&s, 0);
    }
    /* empty reads change nothing */
    assert_int_equal(sw_hep_stream_feed(st, NULL, 0, 0, collect, &s), SW_OK);
    const sw_hep_stats *stats = sw_hep_input_get_stats(in);
    assert_int_equal(stats->bad, 0);
    assert_int_equal(stats->streams_broken, 0);
    assert_int_equal(stats->sip, stats->packets);
    sw_hep_stream_free(st);
    assert_int_equal(stats->bad, 0);
    sw_hep_input_free(in);
}

static void test_stream_bad_packet_keeps_step(void **state)
{
    (void)state;
    sw_hep_input *in = sw_hep_input_new(NULL);
    assert_non_null(in);
    sw_hep_stream *st = sw_hep_stream_new(in);
    assert_non_null(st);
    seen s;
    memset(&s, 0, sizeof s);
    uint8_t buf[8192];
    pb p;
    pb_valid4(&p, NO_SRC);
    pb_end(&p);
    memcpy(buf, p.b, p.n);
    sw_hep_msg b = sample_v6();
    size_t n = p.n + enc(&b, buf + p.n, sizeof buf - p.n);
    for (size_t cut = 0; cut <= n; cut += 7) {
        assert_int_equal(sw_hep_stream_feed(st, buf, cut, 0, collect, &s), SW_OK);
        assert_int_equal(sw_hep_stream_feed(st, buf + cut, n - cut, 0, collect, &s), SW_OK);
    }
    size_t rounds = n / 7 + 1;
    assert_int_equal(s.n, rounds);
    assert_memory_equal(s.data[0], OPTIONS, s.len[0]);
    assert_int_equal(sw_hep_input_get_stats(in)->bad, rounds);
    assert_int_equal(sw_hep_input_error(in)->code, SW_EMISSING);
    assert_int_equal(sw_hep_stream_error(st)->code, 0);

    /* closed inside a packet: counted */
    assert_int_equal(sw_hep_stream_feed(st, buf + p.n, 20, 0, collect, &s), SW_OK);
    assert_int_equal(sw_hep_stream_pending(st), 20);
    sw_hep_stream_free(st);
    assert_int_equal(sw_hep_input_get_stats(in)->bad, rounds + 1);
    assert_non_null(strstr(sw_hep_input_error(in)->reason, "closed inside"));
    sw_hep_input_free(in);
}

static void test_stream_bounded(void **state)
{
    (void)state;
    sw_hep_input_config cfg = {.max_packet = 1024};
    sw_hep_input *in = sw_hep_input_new(&cfg);
    assert_non_null(in);
    seen s;
    memset(&s, 0, sizeof s);

    /* a declared length over the bound is refused at once, not buffered */
    uint8_t hdr[6] = {'H', 'E', 'P', '3', 0x07, 0xd0}; /* 2000 */
    sw_hep_stream *st = sw_hep_stream_new(in);
    assert_non_null(st);
    assert_int_equal(sw_hep_stream_feed(st, hdr, 6, 0, collect, &s), SW_ELIMIT);
    assert_int_equal(sw_hep_stream_pending(st), 0);
    assert_int_equal(sw_hep_stream_error(st)->code, SW_ELIMIT);
    assert_non_null(strstr(sw_hep_stream_error(st)->reason, "longer than the stream buffer"));
    /* sticky */
    three t;
    make_three(&t);
    assert_int_equal(sw_hep_stream_feed(st, t.buf, t.n, 0, collect, &s), SW_ELIMIT);
    assert_int_equal(s.n, 0);
    sw_hep_stream_free(st);

    /* the same header split in two reads */
    st = sw_hep_stream_new(in);
    assert_int_equal(sw_hep_stream_feed(st, hdr, 4, 0, collect, &s), SW_OK);
    assert_int_equal(sw_hep_stream_pending(st), 4);
    assert_int_equal(sw_hep_stream_feed(st, hdr + 4, 2, 0, collect, &s), SW_ELIMIT);
    assert_int_equal(sw_hep_stream_pending(st), 0);
    sw_hep_stream_free(st);

    /* 65535 declared with the default bound is buffered as it comes */
    sw_hep_input *big = sw_hep_input_new(NULL);
    assert_non_null(big);
    st = sw_hep_stream_new(big);
    uint8_t hmax[6] = {'H', 'E', 'P', '3', 0xff, 0xff};
    assert_int_equal(sw_hep_stream_feed(st, hmax, 6, 0, collect, &s), SW_OK);
    static uint8_t zeros[70000];
    assert_int_equal(sw_hep_stream_feed(st, zeros, 60000, 0, collect, &s), SW_OK);
    assert_int_equal(sw_hep_stream_pending(st), 60006);
    /* the rest, and one more byte: the packet ends (bad: zero chunks) and a
     * new one starts */
    assert_int_equal(sw_hep_stream_feed(st, zeros, 65535 - 60006 + 1, 0, collect, &s), SW_OK);
    assert_int_equal(sw_hep_stream_pending(st), 1);
    assert_int_equal(sw_hep_input_get_stats(big)->bad, 1);
    /* and that new one has a bad magic */
    assert_int_equal(sw_hep_stream_feed(st, zeros, 5, 0, collect, &s), SW_EFORMAT);
    assert_int_equal(sw_hep_input_get_stats(big)->streams_broken, 1);
    sw_hep_stream_free(st);
    sw_hep_input_free(big);

    /* length below the header */
    st = sw_hep_stream_new(in);
    uint8_t tiny[6] = {'H', 'E', 'P', '3', 0, 3};
    assert_int_equal(sw_hep_stream_feed(st, tiny, 6, 0, collect, &s), SW_EINVAL);
    sw_hep_stream_free(st);
    /* a bad magic after good packets: those are delivered, then it breaks */
    st = sw_hep_stream_new(in);
    uint8_t mixed[8192];
    memcpy(mixed, t.buf, t.n);
    memcpy(mixed + t.n, "GET / HTTP/1.1\r\n", 16);
    assert_int_equal(sw_hep_stream_feed(st, mixed, t.n + 16, 0, collect, &s), SW_EFORMAT);
    assert_int_equal(s.n, 3);
    assert_non_null(strstr(sw_hep_stream_error(st)->reason, "bad magic"));
    sw_hep_stream_free(st);

    const sw_hep_stats *stats = sw_hep_input_get_stats(in);
    assert_int_equal(stats->streams_broken, 4);
    assert_int_equal(stats->bad, 0); /* broken streams are not bad packets */
    sw_hep_input_free(in);
}

/* Feeds seeded random splits of many packets; the callback's value is
 * returned without stopping the stream. */
static void test_stream_random_reads(void **state)
{
    (void)state;
    sw_hep_input *in = sw_hep_input_new(NULL);
    sw_hep_stream *st = sw_hep_stream_new(in);
    assert_non_null(st);
    static uint8_t buf[60000];
    size_t n = 0, count = 0;
    sw_hep_msg m = sample_v4();
    while (n + 2048 < sizeof buf) {
        m.capture_id = (uint32_t)count;
        m.payload.len = 100 + (count * 37) % (sizeof INVITE - 101);
        n += enc(&m, buf + n, sizeof buf - n);
        count++;
    }
    seen s;
    memset(&s, 0, sizeof s);
    s.in = in;
    s.stop_at = 1;
    uint32_t x = 12345;
    size_t pos = 0;
    while (pos < n) {
        x = x * 1103515245u + 12345u;
        size_t k = 1 + (x >> 16) % 3000;
        if (k > n - pos)
            k = n - pos;
        size_t before = s.n;
        int rc = sw_hep_stream_feed(st, buf + pos, k, 0, collect, &s);
        /* the callback says stop from the first message on */
        if (s.n > before)
            assert_int_equal(rc, 1);
        else
            assert_int_equal(rc, SW_OK);
        pos += k;
    }
    assert_int_equal(s.n, count);
    for (size_t i = 0; i < MAX_SEEN && i < count; i++) {
        assert_int_equal(s.capture_id[i], i);
        assert_int_equal(s.len[i], 100 + (i * 37) % (sizeof INVITE - 101));
    }
    sw_hep_stream_free(st);
    sw_hep_input_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_v4_udp),
        cmocka_unit_test(test_round_trip_v6_tcp),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_decode_valid_builder),
        cmocka_unit_test(test_decode_header_errors),
        cmocka_unit_test(test_decode_chunk_errors),
        cmocka_unit_test(test_decode_semantic_errors),
        cmocka_unit_test(test_decode_lenient_parts),
        cmocka_unit_test(test_decode_mutations),
        cmocka_unit_test(test_datagram_delivery),
        cmocka_unit_test(test_datagram_several_and_bad),
        cmocka_unit_test(test_auth_key),
        cmocka_unit_test(test_stream_every_split),
        cmocka_unit_test(test_stream_bad_packet_keeps_step),
        cmocka_unit_test(test_stream_bounded),
        cmocka_unit_test(test_stream_random_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
