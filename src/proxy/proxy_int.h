/* Internals shared by the files of the proxy core. */
#ifndef SW_PROXY_INT_H
#define SW_PROXY_INT_H

#include <openssl/evp.h>

#include "sipwall/proxy.h"
#include "sipwall/engine.h" /* sw_verdict: the masks the proxy applies */

/* ---- sealed tokens and base64url (hide.c) ---------------------------------- */
size_t sw__b64url_len(size_t n);
size_t sw__b64url_encode(const uint8_t *in, size_t n, char *out);
/* Canonical unpadded base64url only; SW_EINVAL otherwise, SW_ELIMIT when cap is short. */
long sw__b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap);
/* sw_hide_seal without the terminating NUL (for writing into a message). */
long sw__hide_seal_raw(sw_hide *h, uint8_t purpose, const void *pt, size_t n, char *out,
                       size_t cap);
int sw__hkdf(const uint8_t *key, size_t keylen, const char *info, uint8_t *out, size_t outlen);

/* ---- the proxy ---------------------------------------------------------------- */

/* Scratch areas of one sw_proxy (one per worker): a plaintext being
 * assembled for sealing, a Via stack opened from a response's token, a
 * Call-ID opened from a request's token. */
#define PX_PT_CAP (SW_HIDE_MAX_PLAINTEXT + 1024)
#define PX_CID_CAP 4096

/* The longest plaintext sealed per purpose: what we seal we must be able
 * to open, and a request opens its Route token and its Request-URI token
 * into sw_proxy_req.scratch (4096 bytes), its Call-ID into PX_CID_CAP.
 * Longer values are not hidden: the write fails with SW_ERANGE. */
#define PX_MAX_RR_PT 2048
#define PX_MAX_CONTACT_PT 1024
#define PX_MAX_CALL_ID_PT PX_CID_CAP

/* Our branch: the magic cookie, "sw", then 22 base64url characters of one
 * AES-256 block: iface | flags | loop hash (4) | transaction hash (4) | 6 zero
 * bytes.  The zero bytes authenticate the block (a forged branch decrypts
 * to them with probability 2^-48). */
#define PX_BRANCH_PREFIX "z9hG4bKsw"
#define PX_BRANCH_PREFIX_LEN 9
/* prefix, the worker that forwarded the request (a dispatch hint for
 * sipwalld, not authenticated), then the sealed block */
char px_worker_char(uint8_t w);
#define PX_BRANCH_LEN (PX_BRANCH_PREFIX_LEN + 1 + 22)
enum { PX_BR_CALLID_RESTORED = 1 }; /* re-hide the Call-ID in the response */
#define PX_BR_KNOWN_FLAGS 0x01u

typedef struct px_iface {
    sw_proxy_iface cfg;
    uint16_t port;       /* effective port (the default when the config says 0) */
    uint8_t host_len, hostport_len, tparam_len, via_len;
    char host[48];       /* "192.0.2.1" or "[2001:db8::1]" */
    char hostport[56];   /* host:port */
    char tparam[16];     /* ";transport=tcp", "" for UDP */
    char via[16];        /* "SIP/2.0/UDP " */
} px_iface;

struct sw_proxy {
    px_iface ifs[SW_PROXY_MAX_IFACES];
    unsigned nifaces;
    uint8_t hide_topology;
    uint8_t worker;           /* written into our branches */
    uint8_t hash_key[16];     /* SipHash: branch and loop hashes, our To tags */
    sw_hide *hide;
    EVP_CIPHER_CTX *br_enc, *br_dec; /* AES-256-ECB, the branch block */
    char *pt;                 /* PX_PT_CAP: plaintext to seal */
    char *vpt;                /* PX_PT_CAP: Via stack opened from a response */
    char *cid;                /* PX_CID_CAP: Call-ID opened from a request */
};

/* ---- output: never writes past cap; remembers the first failure ------------- */
typedef struct px_out {
    char *p;
    size_t cap, len;
    int err; /* 0, or the first error (SW_ELIMIT when full) */
} px_out;

static inline void px_put(px_out *o, const void *d, size_t n)
{
    if (o->err)
        return;
    if (n > o->cap - o->len) {
        o->err = SW_ELIMIT;
        return;
    }
    if (n)
        memcpy(o->p + o->len, d, n);
    o->len += n;
}
static inline void px_str(px_out *o, sw_str s) { px_put(o, s.ptr, s.len); }
#define PX_LIT(o, lit) px_put((o), (lit), sizeof(lit) - 1)
void px_uint(px_out *o, uint64_t v);
/* Seals pt into the output as a token. */
void px_seal(sw_proxy *p, px_out *o, uint8_t purpose, const char *pt, size_t n);

/* ---- helpers (proxy.c) ----------------------------------------------------------- */
uint16_t px_default_port(sw_transport t);
sw_transport px_transport_from(sw_str name);
/* Index of the interface host:port names (port 0: the default), preferring
 * one of transport t; -1 when none. */
int px_self(const sw_proxy *p, sw_str host, uint16_t port, sw_transport t);
/* 1 when the URI is a sip/sips URI naming one of our interfaces. */
int px_uri_self(const sw_proxy *p, const sw_uri *u, unsigned *iface);
/* Parses an IP literal (v4, v6, [v6]) into a (port 0). */
int px_parse_ip(sw_str host, sw_addr *a);
int px_branch_open(sw_proxy *p, sw_str branch, unsigned *iface, uint8_t *flags, uint32_t *loop);

/* Our To tag: "sw" and 16 hex digits of a keyed hash of Call-ID, From tag,
 * CSeq number and top branch, so the ACK for our answer is recognised. */
#define PX_TAG_PREFIX "sw"
#define PX_TAG_LEN 18
int px_reply_tag(const sw_proxy *p, sw_sip_msg *m, char out[PX_TAG_LEN]);

/* The end of header i's line(s), CRLF included. */
static inline size_t px_line_end(const sw_sip_msg *m, unsigned i)
{
    return i + 1u < m->nhdrs ? m->hdrs[i + 1].offset : m->header_len - 2;
}
/* Next element of a comma-separated list, quotes and <> honoured; 0 at
 * the end.  *s is left at the start of the element after it (separators
 * skipped), so it is itself a list or empty. */
int px_list_next(sw_str *s, sw_str *elem);

/* First occurrence of needle[0..n) in hay (memchr on its first byte: the
 * needles here are rare in SIP text), or NULL. */
const char *px_find(sw_str hay, const char *needle, size_t n);

/* Header policy: removed, or version strings cut. */
int px_stripped(const sw_verdict *v, const sw_sip_header *h);
int px_sanitized(const sw_verdict *v, const sw_sip_header *h);
void px_out_sanitized(px_out *o, const sw_sip_header *h);

/* The top Via value with received= / rport= as RFC 3261 §18.2.1 and RFC 3581
 * ask (no change when src is unset). */
void px_out_top_via(px_out *o, sw_str value, const sw_via *tv, const sw_addr *src, int force_rport);
/* A Contact list with every URI replaced by a sealed one naming iface f. */
void px_out_hidden_contacts(sw_proxy *p, px_out *o, const sw_sip_msg *m, const px_iface *f);
/* "<sip:host:port;transport=x;lr" (no closing '>'). */
void px_out_rr_open(px_out *o, const px_iface *f);

/* A URI without its parameter `name` (e.g. our swrr token). */
void px_out_uri_without(px_out *o, const sw_uri *u, const char *name);

/* Copies the lines of consecutive headers that stay as they are with one
 * memcpy: pending [from, to) is flushed before anything else is written. */
typedef struct px_span {
    size_t from, to;
} px_span;
static inline void px_flush(px_out *o, px_span *s, const sw_sip_msg *m)
{
    if (s->to > s->from)
        px_put(o, m->buf + s->from, s->to - s->from);
    s->from = s->to = 0;
}
/* Header i stays: extends the pending span, or starts a new one after a gap. */
static inline void px_keep(px_out *o, px_span *s, const sw_sip_msg *m, unsigned i)
{
    size_t off = m->hdrs[i].offset;
    if (s->to != off) {
        px_flush(o, s, m);
        s->from = off;
    }
    s->to = px_line_end(m, i);
}

/* The pieces every rewritten message shares: Content-Length always from
 * the body (one header; later copies dropped), a header the proxy does not
 * rewrite (stripped, sanitized or kept as the verdict says), and the end
 * (Content-Length if the message had none, the blank line, the body). */
void px_out_content_length(px_out *o, px_span *span, const sw_sip_msg *m, int first);
void px_out_other(px_out *o, px_span *span, const sw_sip_msg *m, unsigned i, const sw_verdict *v);
void px_out_end(px_out *o, px_span *span, const sw_sip_msg *m);

#endif
