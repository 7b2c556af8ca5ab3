/* TLS on captured TCP streams (src/capture/tls.c), on records built here:
 * a TLS 1.2 connection with a NULL cipher (NULL-SHA256) whose client sends
 * a certificate (CN + SAN DNS + SAN URI, made here with libcrypto): its SIP
 * is delivered with transport TLS and those identities, whole messages cut
 * across records and segments; the server's direction carries the
 * server's; the TLS callback reports both certificates.  An AES-GCM suite:
 * the certificate is read, the SIP is not (tls_unreadable).  A TLS 1.3
 * ServerHello: reported as encrypted.  Garbage where records should be,
 * a record larger than the stream buffer, a Certificate message larger than
 * what is read: given up or not parsed, counted, nothing delivered. */
#include "capture_test_util.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pcap/dlt.h>

/* ---- a certificate ----------------------------------------------------------- */
static size_t make_cert(const char *cn, const char *san, uint8_t *out, size_t cap)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    if (san) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
        assert_non_null(e);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    int len = i2d_X509(x, NULL);
    assert_true(len > 0 && (size_t)len <= cap);
    unsigned char *p = out;
    i2d_X509(x, &p);
    X509_free(x);
    EVP_PKEY_free(k);
    return (size_t)len;
}

/* ---- records ------------------------------------------------------------------- */
typedef struct buf {
    uint8_t b[65536];
    size_t n;
} buf;

static void put(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put8(buf *o, unsigned v) { uint8_t c = (uint8_t)v; put(o, &c, 1); }
static void put16(buf *o, unsigned v) { put8(o, v >> 8); put8(o, v); }
static void put24(buf *o, unsigned v) { put8(o, v >> 16); put16(o, v & 0xffff); }

static void record(buf *o, unsigned type, const uint8_t *p, size_t n)
{
    put8(o, type);
    put16(o, 0x0303);
    put16(o, (unsigned)n);
    put(o, p, n);
}

/* A handshake message split into records of at most `max` bytes. */
static void handshake(buf *o, unsigned type, const uint8_t *body, size_t n, size_t max)
{
    static buf m;
    m.n = 0;
    put8(&m, type);
    put24(&m, (unsigned)n);
    put(&m, body, n);
    for (size_t off = 0; off < m.n; off += max)
        record(o, 22, m.b + off, m.n - off < max ? m.n - off : max);
}

static void client_hello(buf *o)
{
    uint8_t body[64];
    memset(body, 0, sizeof body);
    body[0] = 3;
    body[1] = 3;
    /* random, session id 0, 1 suite, 1 compression */
    body[35] = 0;
    body[36] = 0;
    body[37] = 2;
    body[38] = 0;
    body[39] = 0x3b;
    body[40] = 1;
    body[41] = 0;
    handshake(o, 1, body, 42, 16384);
}

static void server_hello(buf *o, unsigned suite, int tls13)
{
    buf b;
    b.n = 0;
    put16(&b, 0x0303);
    uint8_t rnd[32] = {1};
    put(&b, rnd, 32);
    put8(&b, 0); /* session id */
    put16(&b, suite);
    put8(&b, 0);
    if (tls13) {
        put16(&b, 6);
        put16(&b, 43); /* supported_versions */
        put16(&b, 2);
        put16(&b, 0x0304);
    }
    handshake(o, 2, b.b, b.n, 16384);
}

static void certificate(buf *o, const uint8_t *der, size_t n, size_t max)
{
    static buf b;
    b.n = 0;
    put24(&b, (unsigned)(n + 3));
    put24(&b, (unsigned)n);
    put(&b, der, n);
    handshake(o, 11, b.b, b.n, max);
}

static void ccs(buf *o)
{
    uint8_t one = 1;
    record(o, 20, &one, 1);
}

/* Application data: text in records of at most max plaintext bytes, each
 * followed by a MAC of mac bytes. */
static void appdata(buf *o, const char *text, size_t max, size_t mac)
{
    size_t n = strlen(text);
    for (size_t off = 0; off < n; off += max) {
        size_t k = n - off < max ? n - off : max;
        uint8_t r[4096];
        assert_true(k + mac <= sizeof r);
        memcpy(r, text + off, k);
        memset(r + k, 0xee, mac);
        record(o, 23, r, k + mac);
    }
}

/* ---- the connection --------------------------------------------------------------- */
static uint32_t seq[2];
static uint64_t frameno;
static sw_capture *cap;
static ct_log lg;

typedef struct tls_log {
    int n;
    uint8_t from_client[8], encrypted[8], nids[8];
    char id0[8][SW_CAPTURE_TLS_ID_LEN], id2[8][SW_CAPTURE_TLS_ID_LEN];
} tls_log;
static tls_log tl;

static void on_tls(void *ctx, const sw_capture_tls_info *in)
{
    tls_log *t = ctx;
    if (t->n >= 8)
        return;
    t->from_client[t->n] = in->from_client;
    t->encrypted[t->n] = in->encrypted;
    t->nids[t->n] = in->nids;
    if (in->nids)
        snprintf(t->id0[t->n], SW_CAPTURE_TLS_ID_LEN, "%s", in->ids[0]);
    if (in->nids > 2)
        snprintf(t->id2[t->n], SW_CAPTURE_TLS_ID_LEN, "%s", in->ids[2]);
    t->n++;
}

static void seg(int dir, uint8_t flags, const uint8_t *p, size_t n)
{
    static uint8_t fr[40 + 1500];
    uint8_t *ip = fr, *th = fr + 20;
    memset(fr, 0, 40);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((40 + n) >> 8);
    ip[3] = (uint8_t)(40 + n);
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 6;
    uint8_t cli[4] = {192, 0, 2, 10}, srv[4] = {192, 0, 2, 1};
    memcpy(ip + 12, dir ? srv : cli, 4);
    memcpy(ip + 16, dir ? cli : srv, 4);
    uint16_t sp = dir ? 5061 : 40001, dp = dir ? 40001 : 5061;
    th[0] = (uint8_t)(sp >> 8);
    th[1] = (uint8_t)sp;
    th[2] = (uint8_t)(dp >> 8);
    th[3] = (uint8_t)dp;
    uint32_t s = seq[dir];
    th[4] = (uint8_t)(s >> 24);
    th[5] = (uint8_t)(s >> 16);
    th[6] = (uint8_t)(s >> 8);
    th[7] = (uint8_t)s;
    th[12] = 5 << 4;
    th[13] = flags;
    th[14] = 0xff;
    th[15] = 0xff;
    if (n)
        memcpy(th + 20, p, n);
    seq[dir] += (uint32_t)n + (flags & 0x02 ? 1u : 0u);
    frameno++;
    sw_capture_feed_frame(cap, DLT_RAW, fr, 40 + n, 40 + n, 1700000000LL * 1000000000LL + (int64_t)frameno,
                          ct_collect, &lg);
}

/* Sends b in segments of at most `mss` bytes. */
static void send_bytes(int dir, const buf *b, size_t mss)
{
    for (size_t off = 0; off < b->n; off += mss)
        seg(dir, 0x18, b->b + off, b->n - off < mss ? b->n - off : mss);
}

static void open_conn(const sw_capture_limits *lim)
{
    memset(&lg, 0, sizeof lg);
    memset(&tl, 0, sizeof tl);
    frameno = 0;
    seq[0] = 1000;
    seq[1] = 500000;
    cap = sw_capture_new(lim);
    assert_non_null(cap);
    sw_capture_set_tls_cb(cap, on_tls, &tl);
    seg(0, 0x02, NULL, 0);
    seg(1, 0x12, NULL, 0);
}

static void close_conn(void)
{
    sw_capture_flush(cap, ct_collect, &lg);
    sw_capture_free(cap);
    cap = NULL;
    ct_log_free(&lg);
}

static const char sip_req[] =
    "OPTIONS sip:core.test SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.10:40001;branch=z9hG4bKtls1\r\n"
    "From: <sip:a@sbc-a.test>;tag=1\r\n"
    "To: <sip:core.test>\r\n"
    "Call-ID: tls-one@test\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n"
    "OPTIONS sip:core.test SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.10:40001;branch=z9hG4bKtls2\r\n"
    "From: <sip:a@sbc-a.test>;tag=1\r\n"
    "To: <sip:core.test>\r\n"
    "Call-ID: tls-two@test\r\n"
    "CSeq: 2 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

static const char sip_resp[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 192.0.2.10:40001;branch=z9hG4bKtls1\r\n"
    "From: <sip:a@sbc-a.test>;tag=1\r\n"
    "To: <sip:core.test>;tag=2\r\n"
    "Call-ID: tls-one@test\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 0\r\n\r\n";

static uint8_t cert_a[4096], cert_s[4096];
static size_t cert_a_len, cert_s_len;

static int setup(void **state)
{
    (void)state;
    cert_a_len = make_cert("sbc-a.test", "DNS:sbc-a.test,URI:sip:sbc-a.test", cert_a, sizeof cert_a);
    cert_s_len = make_cert("core.test", NULL, cert_s, sizeof cert_s);
    return 0;
}

/* the handshake of a TLS 1.2 connection with client authentication */
static void handshake_12(unsigned suite, size_t cert_record_max)
{
    static buf c, s;
    c.n = s.n = 0;
    client_hello(&c);
    send_bytes(0, &c, 1400);
    server_hello(&s, suite, 0);
    certificate(&s, cert_s, cert_s_len, cert_record_max);
    send_bytes(1, &s, 700);
    c.n = 0;
    certificate(&c, cert_a, cert_a_len, cert_record_max);
    ccs(&c);
    record(&c, 22, (const uint8_t *)"finished-encrypted", 18);
    send_bytes(0, &c, 300);
    s.n = 0;
    ccs(&s);
    record(&s, 22, (const uint8_t *)"finished-encrypted", 18);
    send_bytes(1, &s, 1400);
}

static void test_null_cipher(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    open_conn(&lim);
    handshake_12(0x003B, 200); /* NULL-SHA256; certificates cut into 200-byte records */
    static buf d;
    d.n = 0;
    appdata(&d, sip_req, 97, 32); /* messages across records and segments */
    send_bytes(0, &d, 333);
    d.n = 0;
    appdata(&d, sip_resp, 4000, 32);
    send_bytes(1, &d, 1400);
    const sw_capture_stats *st = sw_capture_get_stats(cap);
    assert_int_equal(st->tls_streams, 2);
    assert_int_equal(st->tls_certificates, 2);
    assert_int_equal(st->tls_null_cipher, 2);
    assert_int_equal(st->tls_unreadable, 0);
    assert_int_equal(st->tls_bad, 0);
    assert_int_equal(lg.n, 3);
    assert_string_equal(lg.m[0].call_id, "tls-one@test");
    assert_string_equal(lg.m[1].call_id, "tls-two@test");
    assert_int_equal(lg.m[0].transport, SW_TRANSPORT_TLS);
    assert_int_equal(lg.m[0].ferr, 0);
    assert_true(lg.m[0].len == strlen(sip_req) / 2);
    assert_int_equal(lg.m[2].transport, SW_TRANSPORT_TLS);
    assert_string_equal(lg.m[2].src, "192.0.2.1:5061");
    /* the identities each sender presented */
    assert_int_equal(lg.m[0].ntls_ids, 3);
    assert_string_equal(lg.m[0].tls_id0, "sbc-a.test");
    assert_string_equal(lg.m[0].tls_id2, "sip:sbc-a.test");
    assert_int_equal(lg.m[2].ntls_ids, 1);
    assert_string_equal(lg.m[2].tls_id0, "core.test");
    /* the callback: the server's certificate, then the client's */
    assert_int_equal(tl.n, 2);
    assert_false(tl.from_client[0]);
    assert_string_equal(tl.id0[0], "core.test");
    assert_true(tl.from_client[1]);
    assert_int_equal(tl.nids[1], 3);
    assert_string_equal(tl.id2[1], "sip:sbc-a.test");
    close_conn();
}

static void test_encrypted(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    open_conn(&lim);
    handshake_12(0xC02F, 16384); /* ECDHE-RSA-AES128-GCM-SHA256 */
    static buf d;
    d.n = 0;
    appdata(&d, sip_req, 4000, 16);
    send_bytes(0, &d, 1400);
    const sw_capture_stats *st = sw_capture_get_stats(cap);
    assert_int_equal(st->tls_certificates, 2);
    assert_int_equal(st->tls_null_cipher, 0);
    assert_int_equal(st->tls_unreadable, 1);
    assert_int_equal(lg.n, 0); /* nothing of it is SIP to us */
    assert_int_equal(tl.n, 2);
    assert_string_equal(tl.id0[1], "sbc-a.test");
    close_conn();

    /* TLS 1.3: the ServerHello says so, the rest is encrypted */
    open_conn(&lim);
    static buf c, s;
    c.n = s.n = 0;
    client_hello(&c);
    send_bytes(0, &c, 1400);
    server_hello(&s, 0x1302, 1);
    record(&s, 23, (const uint8_t *)"encrypted-extensions-and-certificate", 36);
    send_bytes(1, &s, 1400);
    st = sw_capture_get_stats(cap);
    assert_int_equal(st->tls_encrypted_handshakes, 1);
    assert_int_equal(st->tls_certificates, 0);
    assert_int_equal(tl.n, 1);
    assert_true(tl.encrypted[0]);
    assert_int_equal(tl.nids[0], 0);
    close_conn();
}

static void test_bad_input(void **state)
{
    (void)state;
    sw_capture_limits lim;
    sw_capture_limits_default(&lim);
    /* records that stop being records: the direction is given up */
    open_conn(&lim);
    static buf c;
    c.n = 0;
    client_hello(&c);
    put(&c, "GARBAGE! not a record at all", 28);
    send_bytes(0, &c, 1400);
    assert_int_equal(sw_capture_get_stats(cap)->tls_bad, 1);
    c.n = 0;
    appdata(&c, sip_req, 4000, 0);
    send_bytes(0, &c, 1400);
    assert_int_equal(lg.n, 0);
    close_conn();

    /* a record larger than the stream buffer */
    lim.max_stream_buffer = 512;
    open_conn(&lim);
    c.n = 0;
    client_hello(&c);
    handshake(&c, 11, cert_a, 1000, 16384);
    send_bytes(0, &c, 300);
    assert_int_equal(sw_capture_get_stats(cap)->tls_bad, 1);
    assert_int_equal(tl.n, 0);
    close_conn();

    /* a Certificate whose leaf is longer than what is read: not parsed,
     * but the handshake goes on */
    sw_capture_limits_default(&lim);
    open_conn(&lim);
    static buf s;
    s.n = 0;
    client_hello(&c);
    server_hello(&s, 0x003B, 0);
    static uint8_t big[20000];
    memset(big, 0x30, sizeof big);
    certificate(&s, big, sizeof big, 16384);
    ccs(&s);
    send_bytes(1, &s, 1400);
    const sw_capture_stats *st = sw_capture_get_stats(cap);
    assert_int_equal(st->tls_certificates, 0);
    assert_int_equal(st->tls_bad, 0);
    assert_int_equal(st->tls_null_cipher, 1);
    close_conn();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_cipher),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
