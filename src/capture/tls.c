/* TLS on captured TCP streams (include/sipwall/capture.h "TLS").
 *
 * A direction that tcp_reasm.c recognised as TLS hands its in-order bytes
 * here.  Records are taken whole (5-byte header, at most SW__TLS_MAX_RECORD
 * bytes of fragment); a record not complete yet stays in the stream buffer.
 * Handshake messages are reassembled across records only as far as needed:
 * the ServerHello (cipher suite, TLS 1.3's supported_versions) up to
 * SW__TLS_HELLO_CAP bytes and a Certificate message up to the end of its
 * first certificate (at most SW__TLS_CERT_CAP bytes); everything else is
 * counted past.  After the direction's ChangeCipherSpec its handshake is
 * encrypted and no longer read.  Under a NULL cipher the application data
 * records are plaintext + MAC: the plaintext is appended to a buffer framed
 * as SIP by an inner stream (tcp_reasm.c's framing), its messages delivered
 * with transport TLS and the sender's certificate identities.
 *
 * The certificate is parsed by src/net/tls.c (sw_tls_der_ids: libcrypto's
 * d2i_X509, behind the TLS seam); the identities are the ones sipwalld
 * takes from a live connection: subject CN, then SAN DNS and URI values.  Buffers count against max_tcp_memory; a
 * direction that cannot have the memory, or whose bytes are not TLS
 * records, is given up (stats.tls_bad) and treated as not SIP. */
#include <stdlib.h>
#include <string.h>

#include "capture/capture_int.h"
#include "sipwall/net.h"

#define SW__TLS_MAX_RECORD (16384u + 2048u) /* TLSCiphertext.length limit, RFC 5246 §6.2.3 */
#define SW__TLS_HELLO_CAP 4096u             /* bytes of a ServerHello read */
#define SW__TLS_CERT_CAP 16384u             /* bytes of a Certificate message read (its leaf must fit) */

enum { HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };
enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };

struct sw__tls {
    uint8_t encrypted;       /* after ChangeCipherSpec / a TLS 1.3 ServerHello: handshake unreadable */
    uint8_t tls13;           /* this connection negotiated TLS 1.3 (known from the ServerHello) */
    uint8_t have_suite;
    uint8_t null_mac;        /* NULL cipher: MAC bytes after the plaintext; 0 = not NULL */
    uint8_t readable;        /* application data is read (NULL cipher) */
    uint8_t counted_unreadable;
    uint8_t client;          /* this direction is the connection's client (sent the ClientHello) */
    uint16_t suite;
    /* the handshake message being read */
    uint8_t hdr[4];
    uint8_t hdr_n;
    uint8_t type;
    uint32_t len, got;       /* its length and the bytes of it seen */
    uint8_t *hs;             /* kept bytes of it (ServerHello, Certificate), NULL otherwise */
    uint32_t keep, kept;
    /* the sender's certificate */
    uint8_t nids;
    char ids[SW_CAPTURE_TLS_MAX_IDS][SW_CAPTURE_TLS_ID_LEN];
    /* NULL cipher: the plaintext not framed yet, and its framing state */
    uint8_t *plain;
    uint32_t plain_len, plain_cap;
    sw__tcp_stream inner;
};

static inline uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static inline uint32_t rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }

/* MAC length of the NULL-cipher suites (RFC 4346, 4785, 5246, 5487, 4492,
 * 5489); 0 for every other suite. */
static uint8_t null_mac_len(uint16_t suite)
{
    switch (suite) {
    case 0x0001: return 16; /* TLS_RSA_WITH_NULL_MD5 */
    case 0x0002:            /* TLS_RSA_WITH_NULL_SHA */
    case 0x002C:            /* TLS_PSK_WITH_NULL_SHA */
    case 0x002D:            /* TLS_DHE_PSK_WITH_NULL_SHA */
    case 0x002E:            /* TLS_RSA_PSK_WITH_NULL_SHA */
    case 0xC001:            /* TLS_ECDH_ECDSA_WITH_NULL_SHA */
    case 0xC006:            /* TLS_ECDHE_ECDSA_WITH_NULL_SHA */
    case 0xC00B:            /* TLS_ECDH_RSA_WITH_NULL_SHA */
    case 0xC010:            /* TLS_ECDHE_RSA_WITH_NULL_SHA */
    case 0xC015:            /* TLS_ECDH_anon_WITH_NULL_SHA */
    case 0xC039: return 20; /* TLS_ECDHE_PSK_WITH_NULL_SHA */
    case 0x003B:            /* TLS_RSA_WITH_NULL_SHA256 */
    case 0x00B0:            /* TLS_PSK_WITH_NULL_SHA256 */
    case 0x00B4:            /* TLS_DHE_PSK_WITH_NULL_SHA256 */
    case 0x00B8:            /* TLS_RSA_PSK_WITH_NULL_SHA256 */
    case 0xC03A: return 32; /* TLS_ECDHE_PSK_WITH_NULL_SHA256 */
    case 0x00B1:            /* TLS_PSK_WITH_NULL_SHA384 */
    case 0x00B5:            /* TLS_DHE_PSK_WITH_NULL_SHA384 */
    case 0x00B9:            /* TLS_RSA_PSK_WITH_NULL_SHA384 */
    case 0xC03B: return 48; /* TLS_ECDHE_PSK_WITH_NULL_SHA384 */
    default: return 0;
    }
}

int sw__tls_looks_like(const uint8_t *p, size_t n)
{
    /* a handshake record, SSL 3.0 .. TLS 1.2 record version (TLS 1.3
     * keeps 0x0301 / 0x0303 there), a length a record may have, and a
     * ClientHello or ServerHello in it */
    if (n >= 1 && p[0] != CT_HANDSHAKE)
        return 0;
    if (n >= 2 && p[1] != 3)
        return 0;
    if (n >= 3 && p[2] > 4)
        return 0;
    if (n < 6)
        return -1;
    uint32_t len = rd16(p + 3);
    if (len < 4 || len > SW__TLS_MAX_RECORD)
        return 0;
    return p[5] == 1 || p[5] == HS_SERVER_HELLO ? 1 : 0;
}

/* Memory against max_tcp_memory (shared with the stream buffers). */
static int mem_take(sw_capture *c, size_t n)
{
    if (c->lim.max_tcp_memory && c->tcp.mem + n > c->lim.max_tcp_memory)
        return -1;
    c->tcp.mem += n;
    return 0;
}

static void mem_give(sw_capture *c, size_t n) { c->tcp.mem -= n < c->tcp.mem ? n : c->tcp.mem; }

int sw__tls_start(sw_capture *c, sw__tcp_stream *s, int client)
{
    if (mem_take(c, sizeof(struct sw__tls)) < 0)
        return -1;
    struct sw__tls *t = calloc(1, sizeof *t);
    if (!t) {
        mem_give(c, sizeof *t);
        return -1;
    }
    t->client = (uint8_t)(client != 0);
    s->tls = t;
    c->stats.tls_streams++;
    return 0;
}

static void hs_drop(sw_capture *c, struct sw__tls *t)
{
    if (t->hs) {
        mem_give(c, t->keep);
        free(t->hs);
        t->hs = NULL;
    }
    t->keep = t->kept = 0;
}

void sw__tls_free(sw_capture *c, sw__tcp_stream *s)
{
    struct sw__tls *t = s->tls;
    if (!t || s->inner)
        return;
    hs_drop(c, t);
    if (t->plain) {
        mem_give(c, t->plain_cap);
        free(t->plain);
    }
    free(t);
    mem_give(c, sizeof *t);
    s->tls = NULL;
}

/* The other direction of s's connection, or NULL. */
static sw__tcp_stream *reverse(sw_capture *c, const sw__tcp_stream *s)
{
    sw__key r = s->key;
    memcpy(r.src, s->key.dst, 16);
    memcpy(r.dst, s->key.src, 16);
    r.sport = s->key.dport;
    r.dport = s->key.sport;
    return c->tcp.streams ? sw_table_peek(c->tcp.streams, &r) : NULL;
}

/* ---- certificates ------------------------------------------------------------ */
_Static_assert(SW_CAPTURE_TLS_ID_LEN == SW_TLS_ID_LEN, "one identity length for captures and sipwalld");

unsigned sw__tls_cert_ids(const uint8_t *der, size_t len, char ids[][SW_CAPTURE_TLS_ID_LEN], unsigned max)
{
    if (len > SW__TLS_CERT_CAP)
        return 0;
    /* parsed where every OpenSSL call lives (src/net/, the TLS seam) */
    return sw_tls_der_ids(der, len, ids, max);
}

static void report(sw_capture *c, const sw__tcp_stream *s, const struct sw__tls *t, int encrypted)
{
    if (!c->tls_cb)
        return;
    sw_capture_tls_info in;
    memset(&in, 0, sizeof in);
    in.src.family = in.dst.family = s->key.family;
    memcpy(in.src.ip, s->key.src, 16);
    memcpy(in.dst.ip, s->key.dst, 16);
    in.src.port = s->key.sport;
    in.dst.port = s->key.dport;
    in.frame = s->last_frame;
    in.ts_ns = s->last_ts;
    in.from_client = t->client;
    in.encrypted = (uint8_t)encrypted;
    in.nids = encrypted ? 0 : t->nids;
    in.ids = (const char(*)[SW_CAPTURE_TLS_ID_LEN])t->ids;
    c->tls_cb(c->tls_ctx, &in);
}

/* A Certificate message (TLS 1.2 and earlier: certificate_list<0..2^24-1>
 * of ASN.1Cert<1..2^24-1>): the first certificate is the sender's. */
static void on_certificate(sw_capture *c, sw__tcp_stream *s, struct sw__tls *t, const uint8_t *b,
                           uint32_t n)
{
    if (n < 6)
        return; /* an empty list: no certificate sent */
    uint32_t list = rd24(b), first = rd24(b + 3);
    if (list < 3 || first == 0 || first > list - 3 || 6 + (size_t)first > n)
        return; /* malformed, or a leaf longer than what is read */
    t->nids = (uint8_t)sw__tls_cert_ids(b + 6, first, t->ids, SW_CAPTURE_TLS_MAX_IDS);
    c->stats.tls_certificates++;
    report(c, s, t, 0);
}

/* A ServerHello: legacy_version(2) random(32) session_id<0..32>
 * cipher_suite(2) compression(1) [extensions<0..2^16-1>]. */
static void on_server_hello(sw_capture *c, sw__tcp_stream *s, struct sw__tls *t, const uint8_t *b,
                            uint32_t n)
{
    if (n < 35)
        return;
    uint32_t sid = b[34];
    uint32_t q = 35 + sid;
    if (sid > 32 || q + 3 > n)
        return;
    t->suite = (uint16_t)rd16(b + q);
    t->have_suite = 1;
    q += 3;
    if (q + 2 <= n) {
        uint32_t end = q + 2 + rd16(b + q);
        if (end > n)
            end = n;
        for (q += 2; q + 4 <= end;) {
            uint32_t type = rd16(b + q), elen = rd16(b + q + 2);
            if (q + 4 + elen > end)
                break;
            if (type == 43 && elen == 2 && rd16(b + q + 4) == 0x0304) /* supported_versions */
                t->tls13 = 1;
            q += 4 + elen;
        }
    }
    sw__tcp_stream *r = reverse(c, s);
    if (r && r->tls && !r->inner) {
        r->tls->tls13 = t->tls13;
        r->tls->suite = t->suite;
        r->tls->have_suite = 1;
        r->tls->client = 1;
    }
    t->client = 0;
    if (t->tls13) {
        t->encrypted = 1; /* everything after the ServerHello is encrypted */
        c->stats.tls_encrypted_handshakes++;
        report(c, s, t, 1);
    }
}

/* Handshake bytes of one record, in order. */
static void hs_feed(sw_capture *c, sw__tcp_stream *s, struct sw__tls *t, const uint8_t *p, uint32_t n)
{
    while (n > 0 && !t->encrypted && s->tls) {
        if (t->hdr_n < 4) {
            t->hdr[t->hdr_n++] = *p++;
            n--;
            if (t->hdr_n < 4)
                continue;
            t->type = t->hdr[0];
            t->len = rd24(t->hdr + 1);
            t->got = 0;
            uint32_t cap = t->type == HS_SERVER_HELLO ? SW__TLS_HELLO_CAP
                           : t->type == HS_CERTIFICATE ? SW__TLS_CERT_CAP
                                                       : 0;
            t->keep = t->len < cap ? t->len : cap;
            t->kept = 0;
            if (t->keep) {
                if (mem_take(c, t->keep) < 0 || !(t->hs = malloc(t->keep))) {
                    if (!t->hs)
                        mem_give(c, t->keep);
                    t->keep = 0; /* no memory: this message is only counted past */
                }
            }
        } else {
            uint32_t k = t->len - t->got < n ? t->len - t->got : n;
            if (t->kept < t->keep) {
                uint32_t m = t->keep - t->kept < k ? t->keep - t->kept : k;
                memcpy(t->hs + t->kept, p, m);
                t->kept += m;
            }
            t->got += k;
            p += k;
            n -= k;
        }
        if (t->hdr_n == 4 && t->got == t->len) {
            if (t->hs && t->type == HS_SERVER_HELLO)
                on_server_hello(c, s, t, t->hs, t->kept);
            else if (t->hs && t->type == HS_CERTIFICATE)
                on_certificate(c, s, t, t->hs, t->kept);
            hs_drop(c, t);
            t->hdr_n = 0;
        }
    }
}

/* Plaintext of a NULL-cipher record: framed as SIP by the inner stream. */
static int plain_feed(sw_capture *c, sw__tcp_stream *s, struct sw__tls *t, const uint8_t *p, uint32_t n,
                      const sw__frame *f)
{
    uint32_t cap = c->lim.max_stream_buffer;
    sw__tcp_stream *in = &t->inner;
    in->last_ts = s->last_ts;
    in->last_frame = s->last_frame;
    in->vlan = s->vlan;
    int rc = 0;
    while (n > 0 && rc == 0) {
        if (t->plain_len == cap) {
            /* a message larger than the buffer: dropped, framing starts over */
            t->plain_len = 0;
            in->synced = 0;
            in->boundary = 0;
        }
        if (t->plain_cap < cap) {
            uint32_t ncap = cap; /* once: the buffer a TCP direction would have */
            if (mem_take(c, ncap - t->plain_cap) < 0)
                return -1;
            uint8_t *b = realloc(t->plain, ncap);
            if (!b) {
                mem_give(c, ncap - t->plain_cap);
                return -1;
            }
            t->plain = b;
            t->plain_cap = ncap;
        }
        uint32_t k = cap - t->plain_len < n ? cap - t->plain_len : n;
        uint32_t new_off = t->plain_len;
        memcpy(t->plain + t->plain_len, p, k);
        t->plain_len += k;
        p += k;
        n -= k;
        size_t used = 0;
        rc = sw__tcp_frame(c, in, t->plain, t->plain_len, new_off, 0, f, &used);
        if (used > t->plain_len)
            used = t->plain_len;
        memmove(t->plain, t->plain + used, t->plain_len - used);
        t->plain_len -= (uint32_t)used;
        if (in->kind == SW__TCP_OTHER) {
            t->readable = 0; /* not SIP inside: nothing more to read */
            t->plain_len = 0;
            break;
        }
    }
    return rc;
}

static void become_readable(sw_capture *c, sw__tcp_stream *s, struct sw__tls *t)
{
    if (!t->have_suite) {
        sw__tcp_stream *r = reverse(c, s);
        if (r && r->tls && !r->inner && r->tls->have_suite) {
            t->suite = r->tls->suite;
            t->have_suite = 1;
        }
    }
    t->null_mac = t->have_suite && !t->tls13 ? null_mac_len(t->suite) : 0;
    if (!t->null_mac)
        return;
    t->readable = 1;
    c->stats.tls_null_cipher++;
    sw__tcp_stream *in = &t->inner;
    memset(in, 0, sizeof *in);
    in->key = s->key;
    in->inner = 1;
    in->tls = t;
    in->synced = 1;
    in->boundary = 1;
    in->at_start = 1;
    sw_sip_framer_init(&in->fr);
}

int sw__tls_input(sw_capture *c, sw__tcp_stream *s, const uint8_t *p, size_t n, const sw__frame *f,
                  size_t *used)
{
    struct sw__tls *t = s->tls;
    size_t pos = 0;
    int rc = 0;
    while (t && rc == 0 && n - pos >= 5) {
        const uint8_t *h = p + pos;
        uint32_t len = rd16(h + 3);
        if (h[0] < CT_CCS || h[0] > CT_APPDATA || h[1] != 3 || len > SW__TLS_MAX_RECORD) {
            *used = n;
            return -2; /* not TLS records (any more): the caller gives the direction up */
        }
        if (n - pos < 5 + (size_t)len)
            break; /* the rest of the record is still to come */
        const uint8_t *rec = h + 5;
        switch (h[0]) {
        case CT_HANDSHAKE:
            if (!t->encrypted)
                hs_feed(c, s, t, rec, len);
            break;
        case CT_CCS:
            if (!t->encrypted) {
                t->encrypted = 1;
                become_readable(c, s, t);
            }
            break;
        case CT_APPDATA:
            if (t->readable) {
                if (len >= t->null_mac && (rc = plain_feed(c, s, t, rec, len - t->null_mac, f)) < 0) {
                    *used = n;
                    return -2; /* no memory for the plaintext */
                }
            } else if (!t->counted_unreadable && (t->encrypted || t->tls13)) {
                t->counted_unreadable = 1;
                c->stats.tls_unreadable++;
            }
            break;
        default: /* alerts */
            break;
        }
        pos += 5 + (size_t)len;
    }
    *used = pos;
    return rc;
}

void sw__tls_sender_ids(const sw__tcp_stream *s, sw_capture_msg *m)
{
    const struct sw__tls *t = s->tls;
    m->ntls_ids = t->nids;
    m->tls_ids = t->nids ? (const char(*)[SW_CAPTURE_TLS_ID_LEN])t->ids : NULL;
}
