/* SIP-ROBUST-01's malformed requests: our own cases in the style of the
 * RFC 4475 invalid set plus generated oversize/framing mutations.  Every
 * case is built around the target (request URI, To) and us (top Via,
 * From, Contact at the connection's own address), so whatever the target
 * answers comes back to the tester and nobody else is ever named. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "assess/assess_int.h"

typedef struct mparts {
    const char *method;      /* default OPTIONS */
    char ruri[6000];         /* default sip:target */
    const char *version;     /* default SIP/2.0 */
    unsigned extra_vias;     /* Via headers after ours (naming us too) */
    int no_call_id;
    const char *cseq;        /* default "1 OPTIONS" */
    const char *maxfwd;      /* default "70" */
    const char *cl;          /* Content-Length value; NULL = the body's length */
    const char *headers;     /* extra header lines (each with CRLF) */
    size_t body_len;         /* a body of 'x' of this length */
    const char *from_display;
    int nul_in_header;
    unsigned folds;          /* a header folded this many times */
    size_t long_header;      /* a header value of this many 'a' */
} mparts;

static const char *const names[] = {
    "oversize-header-8k",  "oversize-uri-5k",   "cl-larger-than-body", "cl-negative",
    "cl-not-a-number",     "cl-twice",          "nul-in-header",       "deep-folding-100",
    "via-100",             "body-64k",          "version-sip-7",       "unknown-uri-scheme",
    "no-call-id",          "cseq-method-mismatch", "cseq-overflow",    "max-forwards-overflow",
    "bad-escape-in-uri",   "control-in-method", "space-in-uri",        "expires-overflow",
    "via-port-overflow",   "unterminated-quote", "header-without-colon", "broken-ipv6-via",
    "empty-method",        "lf-only-line-ends",
};

static void hostport(char *out, size_t cap, const char *ip, uint16_t port)
{
    if (strchr(ip, ':'))
        snprintf(out, cap, "[%s]:%u", ip, (unsigned)port);
    else
        snprintf(out, cap, "%s:%u", ip, (unsigned)port);
}

/* 1: invalid by RFC 3261's grammar or rules (a 2xx to it is a finding);
 * 0: valid but large or odd (only liveness matters).  An overlarge
 * Max-Forwards or Expires alone may be processed as absent or default
 * (RFC 4475 3.1.2.4), and a Via port above 65535 is still `port = 1*DIGIT`
 * (RFC 3261 25.1) in a Via the target never sends to: a 2xx to these three
 * is lenient, not wrong.  A CSeq of 2**32 is (RFC 3261 8.1.1.5, RFC 4475
 * 3.1.2.4: 400). */
static const unsigned char invalid[] = {
    0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0,
};
_Static_assert(sizeof invalid == sizeof names / sizeof names[0], "one flag per case");

size_t sw__assess_mutation(const sw_assess_run *r, const sw__assess_conn *c, unsigned i, char *out, size_t cap,
                           const char **name, int *is_invalid)
{
    if (i >= sizeof names / sizeof names[0])
        return 0;
    *name = names[i];
    *is_invalid = invalid[i];
    const sw__assess_target *t = sw__assess_target_of(r);
    sw_transport tr = sw__assess_conn_transport(c);
    char us[80], them[80], branch[40], cid[40], tag[20];
    hostport(us, sizeof us, sw__assess_conn_local_ip(c), sw__assess_conn_local_port(c));
    hostport(them, sizeof them, t->ip_text, t->port);
    sw__assess_new_branch(branch);
    sw__assess_new_callid(cid);
    sw__assess_new_tag(tag);
    const char *vt = tr == SW_TRANSPORT_TLS ? "TLS" : tr == SW_TRANSPORT_TCP ? "TCP" : "UDP";
    static mparts p;
    memset(&p, 0, sizeof p);
    p.method = "OPTIONS";
    p.version = "SIP/2.0";
    p.cseq = "1 OPTIONS";
    snprintf(p.ruri, sizeof p.ruri, "sip:%s", them);
    char hdr[256];
    switch (i) {
    case 0: p.long_header = 8000; break;
    case 1: {
        int k = snprintf(p.ruri, sizeof p.ruri, "sip:");
        memset(p.ruri + k, 'u', 5000);
        snprintf(p.ruri + k + 5000, sizeof p.ruri - (size_t)k - 5000, "@%s", them);
        break;
    }
    case 2: p.cl = "9999"; p.body_len = 10; break;
    case 3: p.cl = "-1"; break;
    case 4: p.cl = "abc"; break;
    case 5: p.headers = "Content-Length: 0\r\n"; p.cl = "12"; p.body_len = 12; break;
    case 6: p.nul_in_header = 1; break;
    case 7: p.folds = 100; break;
    case 8: p.extra_vias = 99; break;
    case 9: p.body_len = tr == SW_TRANSPORT_UDP ? 64000 : 64000; p.headers = "Content-Type: text/plain\r\n"; break;
    case 10: p.version = "SIP/7.0"; break;
    case 11: snprintf(p.ruri, sizeof p.ruri, "nope:%s", them); break;
    case 12: p.no_call_id = 1; break;
    case 13: p.cseq = "1 INVITE"; break;
    case 14: p.cseq = "4294967296 OPTIONS"; break;
    case 15: p.maxfwd = "99999999999999999999"; break; /* ours, not a second one */
    case 16: snprintf(p.ruri, sizeof p.ruri, "sip:sipwall%%zz@%s", them); break;
    case 17: p.method = "OPT\x01IONS"; p.cseq = "1 OPT\x01IONS"; break;
    case 18: snprintf(p.ruri, sizeof p.ruri, "sip:sip wall@%s", them); break;
    case 19: p.headers = "Expires: 4294967296999\r\n"; break;
    case 20: /* a lower Via naming us at port 99999 */
        snprintf(hdr, sizeof hdr, "Via: SIP/2.0/%s %s:99999;branch=z9hG4bK-x\r\n", vt, sw__assess_conn_local_ip(c));
        p.headers = hdr;
        break;
    case 21: p.from_display = "\"sipwall unterminated "; break;
    case 22: p.headers = "This header has no colon\r\n"; break;
    case 23: snprintf(hdr, sizeof hdr, "Via: SIP/2.0/%s [::1;branch=z9hG4bK-y\r\n", vt); p.headers = hdr; break;
    case 24: p.method = ""; break;
    case 25: break; /* handled below: LF line ends */
    default: return 0;
    }
    size_t len = 0;
#define PUT(...)                                                                 \
    do {                                                                         \
        int w_ = snprintf(out + len, cap > len ? cap - len : 0, __VA_ARGS__);    \
        if (w_ < 0 || (size_t)w_ >= cap - len)                                   \
            return 0;                                                            \
        len += (size_t)w_;                                                       \
    } while (0)
    PUT("%s %s %s\r\n", p.method, p.ruri, p.version);
    PUT("Via: SIP/2.0/%s %s;branch=%s;rport\r\n", vt, us, branch);
    for (unsigned k = 0; k < p.extra_vias; k++)
        PUT("Via: SIP/2.0/%s %s;branch=z9hG4bK-swa-v%u\r\n", vt, us, k);
    PUT("Max-Forwards: %s\r\n", p.maxfwd ? p.maxfwd : "70");
    PUT("From: %s<sip:sipwall@%s>;tag=%s\r\n", p.from_display ? p.from_display : "", us, tag);
    PUT("To: <sip:%s>\r\n", them);
    if (!p.no_call_id)
        PUT("Call-ID: %s\r\n", cid);
    PUT("CSeq: %s\r\n", p.cseq);
    PUT("Contact: <sip:sipwall@%s>\r\n", us);
    PUT("User-Agent: sipwall-assess/%s\r\n", sw__assess_version());
    if (p.headers)
        PUT("%s", p.headers);
    if (p.long_header) {
        PUT("X-Sipwall-Long: ");
        if (cap - len < p.long_header + 3)
            return 0;
        memset(out + len, 'a', p.long_header);
        len += p.long_header;
        PUT("\r\n");
    }
    if (p.nul_in_header) {
        PUT("Subject: sipwall");
        if (cap - len < 8)
            return 0;
        out[len++] = '\0';
        PUT("nul\r\n");
    }
    if (p.folds) {
        PUT("Subject: sipwall");
        for (unsigned k = 0; k < p.folds; k++)
            PUT("\r\n folded-%u", k);
        PUT("\r\n");
    }
    if (p.cl)
        PUT("Content-Length: %s\r\n\r\n", p.cl);
    else
        PUT("Content-Length: %zu\r\n\r\n", p.body_len);
    if (p.body_len) {
        if (cap - len < p.body_len)
            return 0;
        memset(out + len, 'x', p.body_len);
        len += p.body_len;
    }
#undef PUT
    if (i == 25) {
        /* every CRLF becomes a bare LF (RFC 4475 §3.1.2 style) */
        size_t k = 0;
        for (size_t j = 0; j < len; j++)
            if (!(out[j] == '\r' && j + 1 < len && out[j + 1] == '\n'))
                out[k++] = out[j];
        len = k;
    }
    return len;
}

/* ---- files of the operator's own set (--robust-dir), rewritten ----
 * An INVITE is sent as OPTIONS (request line and CSeq): an open relay must
 * not get a call out of the robustness check. */

/* 1 when line (at p, n bytes, no line end) starts with header `name` or
 * its compact form `c` followed by optional WSP and ':'. */
static int header_is(const char *p, size_t n, const char *name, char c)
{
    size_t k = strlen(name), i;
    if (n > k && strncasecmp(p, name, k) == 0)
        i = k;
    else if (c && n > 1 && (p[0] == c || p[0] == (c ^ 0x20)))
        i = 1;
    else
        return 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < n && p[i] == ':';
}

size_t sw__assess_rewrite(const sw_assess_run *r, const sw__assess_conn *c, const char *in, size_t len, char *out,
                          size_t cap)
{
    const sw__assess_target *t = sw__assess_target_of(r);
    sw_transport tr = sw__assess_conn_transport(c);
    if (len < 8 || strncmp(in, "SIP/", 4) == 0)
        return 0; /* responses are not sent */
    char us[80], them[80], branch[40], tag[20];
    hostport(us, sizeof us, sw__assess_conn_local_ip(c), sw__assess_conn_local_port(c));
    hostport(them, sizeof them, t->ip_text, t->port);
    sw__assess_new_branch(branch);
    sw__assess_new_tag(tag);
    const char *vt = tr == SW_TRANSPORT_TLS ? "TLS" : tr == SW_TRANSPORT_TCP ? "TCP" : "UDP";
    /* the header section ends at the first empty line (CRLF or LF) */
    size_t hend = len;
    for (size_t i = 0; i + 1 < len; i++) {
        if (in[i] == '\n' && (in[i + 1] == '\n' || (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n'))) {
            hend = i + 1;
            break;
        }
    }
    size_t o = 0;
#define EMIT(p, n)                                                               \
    do {                                                                         \
        if ((size_t)(n) > cap - o)                                               \
            return 0;                                                            \
        memcpy(out + o, (p), (size_t)(n));                                       \
        o += (size_t)(n);                                                        \
    } while (0)
    int via_done = 0, skipping = 0;
    char line[256];
    for (size_t pos = 0; pos < hend;) {
        const char *nl = memchr(in + pos, '\n', hend - pos);
        size_t end = nl ? (size_t)(nl - in) + 1 : hend; /* past the LF */
        size_t body = end - pos;                         /* the line with its end */
        size_t text = body;
        while (text && (in[pos + text - 1] == '\n' || in[pos + text - 1] == '\r'))
            text--;
        const char *eol = in + pos + text;
        size_t eoln = body - text;
        const char *p = in + pos;
        if (pos == 0) {
            /* request line: METHOD, the separators as written, the URI
             * replaced by the target, the rest as written */
            size_t m = 0;
            while (m < text && p[m] != ' ')
                m++;
            size_t u = m;
            while (u < text && p[u] == ' ')
                u++;
            size_t ue = u;
            while (ue < text && p[ue] != ' ')
                ue++;
            /* an INVITE becomes an OPTIONS: whatever the target does with
             * it, no call is set up (safety rule: no call completed) */
            if (m == 6 && !strncmp(p, "INVITE", 6)) {
                EMIT("OPTIONS", 7);
                EMIT(p + m, u - m);
            } else {
                EMIT(p, u);
            }
            int angle = u < text && p[u] == '<';
            int n = snprintf(line, sizeof line, "%ssip:%s%s", angle ? "<" : "", them, angle ? ">" : "");
            EMIT(line, n);
            EMIT(p + ue, text - ue);
            EMIT(eol, eoln);
        } else if ((p[0] == ' ' || p[0] == '\t') && text) {
            if (!skipping)
                EMIT(p, body); /* a fold of a header kept */
        } else if (!via_done && header_is(p, text, "Via", 'v')) {
            via_done = 1;
            skipping = 1;
            int n = snprintf(line, sizeof line, "Via: SIP/2.0/%s %s;branch=%s;rport", vt, us, branch);
            EMIT(line, n);
            EMIT(eol, eoln);
        } else if (header_is(p, text, "From", 'f')) {
            skipping = 1;
            int n = snprintf(line, sizeof line, "From: <sip:sipwall@%s>;tag=%s", us, tag);
            EMIT(line, n);
            EMIT(eol, eoln);
        } else if (header_is(p, text, "Contact", 'm')) {
            skipping = 1;
            int n = snprintf(line, sizeof line, "Contact: <sip:sipwall@%s>", us);
            EMIT(line, n);
            EMIT(eol, eoln);
        } else if (header_is(p, text, "CSeq", 0) && memmem(p, text, "INVITE", 6)) {
            skipping = 0;
            const char *iv = memmem(p, text, "INVITE", 6);
            EMIT(p, iv - p);
            EMIT("OPTIONS", 7);
            EMIT(iv + 6, body - (size_t)(iv + 6 - p));
        } else if (header_is(p, text, "Route", 0)) {
            skipping = 1; /* a Route would send the request on to hosts in the file */
        } else {
            skipping = 0;
            EMIT(p, body);
        }
        pos = end;
    }
    EMIT(in + hend, len - hend);
#undef EMIT
    return o;
}
