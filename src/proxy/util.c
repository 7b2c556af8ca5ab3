/* The proxy's building blocks: interfaces, the branch block, output
 * helpers, header policy (strip / sanitize), Contact hiding. */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>

#include "proxy/proxy_int.h"
#include "proxy/siphash.h"

/* ---- interfaces ----------------------------------------------------------------- */

uint16_t px_default_port(sw_transport t)
{
    return t == SW_TRANSPORT_TLS ? 5061 : 5060;
}

sw_transport px_transport_from(sw_str name)
{
    if (sw_str_caseeq_cstr(name, "udp"))
        return SW_TRANSPORT_UDP;
    if (sw_str_caseeq_cstr(name, "tcp"))
        return SW_TRANSPORT_TCP;
    if (sw_str_caseeq_cstr(name, "tls"))
        return SW_TRANSPORT_TLS;
    if (sw_str_caseeq_cstr(name, "sctp"))
        return SW_TRANSPORT_SCTP;
    return SW_TRANSPORT_UNKNOWN;
}

/* Dotted quad by hand (the common case), inet_pton for IPv6. */
int px_parse_ip(sw_str host, sw_addr *a)
{
    memset(a, 0, sizeof *a);
    if (host.len >= 2 && host.ptr[0] == '[' && host.ptr[host.len - 1] == ']')
        host = sw_str_make(host.ptr + 1, host.len - 2);
    if (host.len == 0 || host.len > 45)
        return SW_EINVAL;
    if (memchr(host.ptr, ':', host.len)) {
        char tmp[48];
        memcpy(tmp, host.ptr, host.len);
        tmp[host.len] = '\0';
        if (inet_pton(AF_INET6, tmp, a->ip) != 1)
            return SW_EINVAL;
        a->family = 6;
        return SW_OK;
    }
    /* dotted quad: four parts of 1-3 digits, at most 255, no leading zero
     * (as inet_pton) */
    const char *p = host.ptr, *e = host.ptr + host.len;
    for (unsigned part = 0; part < 4; part++) {
        if (part && (p == e || *p++ != '.'))
            return SW_EINVAL;
        if (p == e || (unsigned)(*p - '0') > 9)
            return SW_EINVAL;
        unsigned v = (unsigned)(*p++ - '0');
        if (p < e && (unsigned)(*p - '0') <= 9) {
            if (v == 0)
                return SW_EINVAL;
            v = v * 10 + (unsigned)(*p++ - '0');
            if (p < e && (unsigned)(*p - '0') <= 9)
                v = v * 10 + (unsigned)(*p++ - '0');
        }
        if (v > 255)
            return SW_EINVAL;
        a->ip[part] = (uint8_t)v;
    }
    if (p != e)
        return SW_EINVAL;
    a->family = 4;
    return SW_OK;
}

static int ip_eq(const sw_addr *a, const sw_addr *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

int px_self(const sw_proxy *p, sw_str host, uint16_t port, sw_transport t)
{
    sw_addr a;
    if (host.len == 0)
        return -1;
    /* An IPv4 literal px_parse_ip accepts has one spelling (no leading
     * zeros), the one f->host holds: compare the text, parse nothing.
     * IPv6 has several spellings: parse it. */
    int v4text = host.ptr[0] != '[' && memchr(host.ptr, ':', host.len) == NULL;
    if (!v4text && px_parse_ip(host, &a) < 0)
        return -1;
    int found = -1;
    for (unsigned i = 0; i < p->nifaces; i++) {
        const px_iface *f = &p->ifs[i];
        uint16_t want = port ? port : px_default_port(f->cfg.transport);
        if (f->port != want)
            continue;
        if (v4text ? f->cfg.addr.family != 4 || f->host_len != host.len ||
                         memcmp(f->host, host.ptr, host.len) != 0
                   : !ip_eq(&a, &f->cfg.addr))
            continue;
        if (t == SW_TRANSPORT_UNKNOWN || f->cfg.transport == t)
            return (int)i;
        if (found < 0)
            found = (int)i;
    }
    return found;
}

int sw_proxy_is_self(const sw_proxy *p, sw_str host, uint16_t port, unsigned *iface)
{
    int i = px_self(p, host, port, SW_TRANSPORT_UNKNOWN);
    if (i < 0)
        return 0;
    if (iface)
        *iface = (unsigned)i;
    return 1;
}

int px_uri_self(const sw_proxy *p, const sw_uri *u, unsigned *iface)
{
    if (u->kind != SW_URI_SIP && u->kind != SW_URI_SIPS)
        return 0;
    uint16_t port = u->has_port ? u->port : 0;
    /* Most URIs looked at are not ours: the transport parameter (a scan of
     * the parameters) matters only for one that is, and only when the
     * first interface on that address and port has another transport. */
    int i = px_self(p, u->host, port, SW_TRANSPORT_UNKNOWN);
    if (i < 0)
        return 0;
    sw_str tv;
    sw_transport t = SW_TRANSPORT_UNKNOWN;
    if (sw_param_find(u->params, "transport", &tv) == 1)
        t = px_transport_from(tv);
    else if (u->kind == SW_URI_SIPS)
        t = SW_TRANSPORT_TLS;
    if (t != SW_TRANSPORT_UNKNOWN && p->ifs[i].cfg.transport != t)
        i = px_self(p, u->host, port, t);
    if (iface)
        *iface = (unsigned)i;
    return 1;
}

static int iface_init(px_iface *f, const sw_proxy_iface *cfg)
{
    static const char *const proto[] = {"UDP", "UDP", "TCP", "TLS", "SCTP"};
    f->cfg = *cfg;
    if (cfg->addr.family != 4 && cfg->addr.family != 6)
        return SW_EINVAL;
    if ((unsigned)cfg->transport > SW_TRANSPORT_SCTP || cfg->side > SW_SIDE_INTERCONNECT)
        return SW_EINVAL;
    f->port = cfg->addr.port ? cfg->addr.port : px_default_port(cfg->transport);
    char ip[48];
    int n = sw_addr_format_ip(&cfg->addr, ip, sizeof ip);
    if (n < 0)
        return SW_EINVAL;
    int hl = cfg->addr.family == 6 ? snprintf(f->host, sizeof f->host, "[%s]", ip)
                                   : snprintf(f->host, sizeof f->host, "%s", ip);
    if (hl < 0 || (size_t)hl >= sizeof f->host)
        return SW_EINVAL;
    f->host_len = (uint8_t)hl;
    int hp = snprintf(f->hostport, sizeof f->hostport, "%s:%u", f->host, f->port);
    if (hp < 0 || (size_t)hp >= sizeof f->hostport)
        return SW_EINVAL;
    f->hostport_len = (uint8_t)hp;
    const char *tn = cfg->transport == SW_TRANSPORT_UDP || cfg->transport == SW_TRANSPORT_UNKNOWN
                         ? ""
                         : sw_transport_name(cfg->transport);
    int tl = *tn ? snprintf(f->tparam, sizeof f->tparam, ";transport=%s", tn) : 0;
    if (tl < 0 || (size_t)tl >= sizeof f->tparam)
        return SW_EINVAL;
    f->tparam[tl] = '\0';
    f->tparam_len = (uint8_t)tl;
    int vl = snprintf(f->via, sizeof f->via, "SIP/2.0/%s ", proto[cfg->transport]);
    if (vl < 0 || (size_t)vl >= sizeof f->via)
        return SW_EINVAL;
    f->via_len = (uint8_t)vl;
    return SW_OK;
}

/* ---- create / free --------------------------------------------------------------- */

static EVP_CIPHER_CTX *ecb_ctx(const uint8_t key[32], int enc)
{
    EVP_CIPHER *aes = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = aes && c && EVP_CipherInit_ex2(c, aes, key, NULL, enc, NULL) == 1 &&
             EVP_CIPHER_CTX_set_padding(c, 0) == 1;
    EVP_CIPHER_free(aes);
    if (!ok) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

sw_proxy *sw_proxy_new(const sw_proxy_config *cfg)
{
    if (!cfg->secret || !cfg->ifaces || cfg->nifaces == 0 || cfg->nifaces > SW_PROXY_MAX_IFACES)
        return NULL;
    sw_proxy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    for (unsigned i = 0; i < cfg->nifaces; i++)
        if (iface_init(&p->ifs[i], &cfg->ifaces[i]) < 0)
            goto fail;
    p->nifaces = cfg->nifaces;
    p->hide_topology = cfg->hide_topology ? 1 : 0;
    p->worker = cfg->worker < 64 ? cfg->worker : 0;
    uint8_t k_hide[SW_HIDE_KEY_LEN], k_branch[32];
    int ok = sw__hkdf(cfg->secret, SW_HIDE_KEY_LEN, "sipwall proxy hide", k_hide, sizeof k_hide) == 0 &&
             sw__hkdf(cfg->secret, SW_HIDE_KEY_LEN, "sipwall proxy branch", k_branch,
                      sizeof k_branch) == 0 &&
             sw__hkdf(cfg->secret, SW_HIDE_KEY_LEN, "sipwall proxy hash", p->hash_key,
                      sizeof p->hash_key) == 0;
    if (ok) {
        p->hide = sw_hide_new(k_hide);
        p->br_enc = ecb_ctx(k_branch, 1);
        p->br_dec = ecb_ctx(k_branch, 0);
    }
    OPENSSL_cleanse(k_hide, sizeof k_hide);
    OPENSSL_cleanse(k_branch, sizeof k_branch);
    p->pt = malloc(PX_PT_CAP);
    p->vpt = malloc(PX_PT_CAP);
    p->cid = malloc(PX_CID_CAP);
    if (!ok || !p->hide || !p->br_enc || !p->br_dec || !p->pt || !p->vpt || !p->cid)
        goto fail;
    return p;
fail:
    sw_proxy_free(p);
    return NULL;
}

void sw_proxy_free(sw_proxy *p)
{
    if (!p)
        return;
    sw_hide_free(p->hide);
    EVP_CIPHER_CTX_free(p->br_enc);
    EVP_CIPHER_CTX_free(p->br_dec);
    free(p->pt);
    free(p->vpt);
    free(p->cid);
    OPENSSL_cleanse(p->hash_key, sizeof p->hash_key);
    free(p);
}

/* ---- the branch block --------------------------------------------------------------- */

static const char worker_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char px_worker_char(uint8_t w) { return worker_chars[w & 63]; }

const char *sw_proxy_branch_marker(void) { return "branch=" PX_BRANCH_PREFIX; }
const char *sw_proxy_worker_chars(void) { return worker_chars; }

int sw_proxy_branch_worker(const char *data, size_t len)
{
    static const char needle[] = "branch=" PX_BRANCH_PREFIX;
    size_t n = sizeof needle - 1;
    if (len > 4096)
        len = 4096; /* the top Via is near the start */
    const char *hit = NULL;
    for (const char *q = data; !hit && len >= n && q <= data + len - n; q++) {
        q = memchr(q, 'b', (size_t)(data + len - n - q) + 1);
        if (!q)
            break;
        if (memcmp(q, needle, n) == 0)
            hit = q;
    }
    if (!hit || (size_t)(hit - data) + n >= len)
        return -1;
    const char *c = memchr(worker_chars, hit[n], 64);
    return c ? (int)(c - worker_chars) : -1;
}

int px_branch_open(sw_proxy *p, sw_str branch, unsigned *iface, uint8_t *flags, uint32_t *loop)
{
    if (branch.len != PX_BRANCH_LEN ||
        memcmp(branch.ptr, PX_BRANCH_PREFIX, PX_BRANCH_PREFIX_LEN) != 0)
        return SW_EAUTH;
    uint8_t enc[16], blk[32];
    if (sw__b64url_decode(branch.ptr + PX_BRANCH_PREFIX_LEN + 1, 22, enc, sizeof enc) != 16)
        return SW_EAUTH;
    int l = 0;
    if (EVP_CipherUpdate(p->br_dec, blk, &l, enc, 16) != 1 || l != 16)
        return SW_EAUTH;
    static const uint8_t zero[6];
    if (memcmp(blk + 10, zero, 6) != 0 || blk[0] >= p->nifaces || (blk[1] & ~PX_BR_KNOWN_FLAGS))
        return SW_EAUTH;
    *iface = blk[0];
    *flags = blk[1];
    *loop = (uint32_t)blk[2] | (uint32_t)blk[3] << 8 | (uint32_t)blk[4] << 16 |
            (uint32_t)blk[5] << 24;
    return SW_OK;
}

/* ---- output ------------------------------------------------------------------------- */

void px_uint(px_out *o, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    px_put(o, tmp + n, sizeof tmp - n);
}

void px_seal(sw_proxy *p, px_out *o, uint8_t purpose, const char *pt, size_t n)
{
    if (o->err)
        return;
    size_t max = purpose == SW_HIDE_RR        ? PX_MAX_RR_PT
                 : purpose == SW_HIDE_CONTACT ? PX_MAX_CONTACT_PT
                 : purpose == SW_HIDE_CALL_ID ? PX_MAX_CALL_ID_PT
                                              : SW_HIDE_MAX_PLAINTEXT;
    if (n > max) {
        o->err = SW_ERANGE;
        return;
    }
    long r = sw__hide_seal_raw(p->hide, purpose, pt, n, o->p + o->len, o->cap - o->len);
    if (r < 0) {
        o->err = (int)r;
        return;
    }
    o->len += (size_t)r;
}

int px_list_next(sw_str *s, sw_str *elem)
{
    if (!s->ptr || !s->len)
        return 0;
    const char *p = s->ptr, *end = s->ptr + s->len;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ','))
        p++;
    if (p == end) {
        *s = sw_str_make(end, 0);
        return 0;
    }
    /* Most values hold no comma, and most commas stand outside quotes and
     * <>: two memchr decide those. */
    const char *q = memchr(p, ',', (size_t)(end - p));
    if (!q) {
        q = end;
        goto found;
    }
    if (!memchr(p, '"', (size_t)(q - p)) && !memchr(p, '<', (size_t)(q - p)))
        goto found;
    q = p;
    int angle = 0;
    while (q < end) {
        if (*q == '"') {
            q++;
            while (q < end && *q != '"') {
                if (*q == '\\' && q + 1 < end)
                    q++;
                q++;
            }
            if (q < end)
                q++;
            continue;
        }
        if (*q == '<')
            angle = 1;
        else if (*q == '>')
            angle = 0;
        else if (*q == ',' && !angle)
            break;
        q++;
    }
found:;
    const char *e = q;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    *elem = sw_str_make(p, (size_t)(e - p));
    /* the rest starts at the next element */
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n' || *q == ','))
        q++;
    *s = sw_str_make(q, (size_t)(end - q));
    return 1;
}

const char *px_find(sw_str hay, const char *needle, size_t n)
{
    const char *p = hay.ptr, *end = hay.ptr + hay.len;
    while (n && (size_t)(end - p) >= n) {
        p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* ---- header policy ------------------------------------------------------------------ */

/* What routing, framing and the dialog need is never stripped. */
static int protected_header(unsigned id)
{
    switch (id) {
    case SW_HDR_VIA: case SW_HDR_FROM: case SW_HDR_TO: case SW_HDR_CALL_ID: case SW_HDR_CSEQ:
    case SW_HDR_CONTACT: case SW_HDR_CONTENT_LENGTH: case SW_HDR_CONTENT_TYPE:
    case SW_HDR_MAX_FORWARDS: case SW_HDR_ROUTE: case SW_HDR_RECORD_ROUTE:
        return 1;
    default:
        return 0;
    }
}

int px_stripped(const sw_verdict *v, const sw_sip_header *h)
{
    if (!v)
        return 0;
    if (h->id != SW_HDR_OTHER)
        return !protected_header(h->id) && sw_hdr_mask_has(&v->strip, h->id);
    for (unsigned k = 0; k < v->nstrip_names && k < SW_VERDICT_MAX_NAMES; k++)
        if (v->strip_names[k] && sw_str_caseeq_cstr(h->name, v->strip_names[k]))
            return 1;
    return 0;
}

int px_sanitized(const sw_verdict *v, const sw_sip_header *h)
{
    return v && h->id != SW_HDR_OTHER && !protected_header(h->id) &&
           sw_hdr_mask_has(&v->sanitize, h->id);
}

static int is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-.!%*_+`'~", c) != NULL;
}

/* Product lists (User-Agent, Server, …): comments "(…)" go, "/version"
 * after a product goes, words that start with a digit go ("Foo/1.2 (Linux)
 * Bar 7.1" -> "Foo Bar").  Quoted strings stay.  Runs of white space
 * collapse to one space.  Returns the length written to out (≤ v.len). */
static size_t sanitize_products(sw_str v, char *out)
{
    size_t o = 0;
    const char *p = v.ptr, *end = v.ptr + v.len;
    int word_start = 1; /* at the start of a white-space separated word */
    while (p < end) {
        char c = *p;
        if (c == '(') {
            int depth = 0;
            while (p < end) {
                if (*p == '\\' && p + 1 < end) {
                    p += 2;
                    continue;
                }
                if (*p == '(')
                    depth++;
                else if (*p == ')' && --depth == 0) {
                    p++;
                    break;
                }
                p++;
            }
            word_start = 1;
            if (o && out[o - 1] != ' ')
                out[o++] = ' ';
            continue;
        }
        if (c == '"') {
            const char *q = p + 1;
            while (q < end && *q != '"') {
                if (*q == '\\' && q + 1 < end)
                    q++;
                q++;
            }
            if (q < end)
                q++;
            memcpy(out + o, p, (size_t)(q - p));
            o += (size_t)(q - p);
            p = q;
            word_start = 0;
            continue;
        }
        if (c == '/') {
            p++;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            while (p < end && is_token_char(*p))
                p++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (o && out[o - 1] != ' ')
                out[o++] = ' ';
            p++;
            word_start = 1;
            continue;
        }
        if (word_start && c >= '0' && c <= '9') {
            while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '(')
                p++;
            continue;
        }
        out[o++] = c;
        p++;
        word_start = 0;
    }
    while (o && out[o - 1] == ' ')
        o--;
    return o;
}

/* Warning (RFC 3261 §20.43): "code agent text" per value; the agent is a
 * host name or address of whoever wrote it, so it becomes the pseudonym
 * "-".  The code and the quoted text stay.  A value of another shape goes
 * through the product rule. */
static size_t sanitize_warning(sw_str v, char *out)
{
    size_t o = 0;
    sw_str rest = v, w;
    while (px_list_next(&rest, &w)) {
        if (o)
            out[o++] = ','; /* never longer than the separator it replaces */
        const char *sp1 = memchr(w.ptr, ' ', w.len);
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(w.ptr + w.len - sp1 - 1)) : NULL;
        if (sp1 && sp2 && sp1 - w.ptr == 3 && sp2 > sp1 + 1) {
            memcpy(out + o, w.ptr, 4); /* "399 " */
            o += 4;
            out[o++] = '-';
            memcpy(out + o, sp2, (size_t)(w.ptr + w.len - sp2));
            o += (size_t)(w.ptr + w.len - sp2);
        } else {
            o += sanitize_products(w, out + o);
        }
    }
    return o;
}

void px_out_sanitized(px_out *o, const sw_sip_header *h)
{
    if (o->err)
        return;
    /* The result is never longer than the value (only removals, and "-"
     * replaces an agent of at least one character): write it in place in
     * the output, after the name. */
    size_t start = o->len;
    px_str(o, h->name);
    PX_LIT(o, ": ");
    if (o->err || o->cap - o->len < h->value.len + 2) {
        o->err = SW_ELIMIT;
        return;
    }
    char *dst = o->p + o->len;
    size_t n = h->id == SW_HDR_WARNING ? sanitize_warning(h->value, dst)
                                       : sanitize_products(h->value, dst);
    if (n == 0) { /* nothing left: the header goes */
        o->len = start;
        return;
    }
    o->len += n;
    PX_LIT(o, "\r\n");
}

/* ---- Via ------------------------------------------------------------------------------- */

static int host_is_src(sw_str host, const sw_addr *src)
{
    sw_addr a;
    return px_parse_ip(host, &a) == 0 && ip_eq(&a, src);
}

void px_out_top_via(px_out *o, sw_str value, const sw_via *tv, const sw_addr *src, int force_rport)
{
    /* the usual case: no rport asked, sent from where it says */
    if ((src->family != 4 && src->family != 6) ||
        (!force_rport && !tv->has_rport && !tv->received.len && host_is_src(tv->host, src))) {
        px_str(o, value);
        return;
    }
    const char *vend = value.ptr + value.len;
    /* sent-protocol and sent-by as written, then the parameters without any
     * received= or rport= already there, then ours */
    const char *hend = tv->host.ptr + tv->host.len;
    if (!tv->host.ptr || hend < value.ptr || hend > vend)
        hend = value.ptr;
    const char *semi = memchr(hend, ';', (size_t)(vend - hend));
    const char *pstart = semi ? semi : vend;
    px_put(o, value.ptr, (size_t)(pstart - value.ptr));
    sw_str cur = sw_str_make(pstart, (size_t)(vend - pstart));
    sw_param prm;
    for (;;) {
        const char *before = cur.ptr;
        int r = sw_param_next(&cur, &prm);
        if (r <= 0) {
            if (r < 0) /* not parameters we understand: keep the rest as it was */
                px_put(o, before, (size_t)(vend - before));
            break;
        }
        if (sw_str_caseeq(prm.name, SW_STR_LIT("received")) ||
            sw_str_caseeq(prm.name, SW_STR_LIT("rport")))
            continue;
        PX_LIT(o, ";");
        px_str(o, prm.name);
        if (prm.has_value) {
            PX_LIT(o, "=");
            px_str(o, prm.value);
        }
    }
    if (tv->has_rport || force_rport || !host_is_src(tv->host, src)) {
        char ip[48];
        int n = sw_addr_format_ip(src, ip, sizeof ip);
        if (n > 0) {
            PX_LIT(o, ";received=");
            px_put(o, ip, (size_t)n);
        }
    }
    if (tv->has_rport || force_rport) {
        PX_LIT(o, ";rport=");
        px_uint(o, src->port);
    }
}

/* ---- Record-Route / URIs -------------------------------------------------------------- */

void px_out_rr_open(px_out *o, const px_iface *f)
{
    PX_LIT(o, "<sip:");
    px_put(o, f->hostport, f->hostport_len);
    px_put(o, f->tparam, f->tparam_len);
    PX_LIT(o, ";lr");
}

void px_out_uri_without(px_out *o, const sw_uri *u, const char *name)
{
    const char *rend = u->raw.ptr + u->raw.len;
    if (u->params.len == 0) {
        px_str(o, u->raw);
        return;
    }
    const char *pstart = u->params.ptr - 1; /* the ';' */
    px_put(o, u->raw.ptr, (size_t)(pstart - u->raw.ptr));
    sw_str cur = u->params;
    sw_param prm;
    int r;
    while ((r = sw_param_next(&cur, &prm)) > 0) {
        if (sw_str_caseeq_cstr(prm.name, name))
            continue;
        PX_LIT(o, ";");
        px_str(o, prm.name);
        if (prm.has_value) {
            PX_LIT(o, "=");
            px_str(o, prm.value);
        }
    }
    const char *after = u->params.ptr + u->params.len;
    if (r < 0)
        after = cur.ptr; /* keep what did not parse */
    px_put(o, after, (size_t)(rend - after));
}

/* ---- Contact hiding ---------------------------------------------------------------------- */

void px_out_hidden_contacts(sw_proxy *p, px_out *o, const sw_sip_msg *m, const px_iface *f)
{
    size_t start = o->len;
    PX_LIT(o, "Contact: ");
    size_t first = o->len;
    sw_sip_values it;
    sw_sip_values_init(&it, m, SW_HDR_CONTACT);
    sw_str v;
    sw_nameaddr na;
    for (unsigned n = 0; n < 1024; n++) {
        sw_sip_error err;
        int r = sw_sip_values_next(&it, &v, &err);
        if (r <= 0) /* the end, or a broken list: what follows goes */
            break;
        /* a value that does not parse cannot be hidden: it goes */
        if (sw_nameaddr_parse(v, &na, &err) < 0)
            continue;
        if (o->len > first)
            PX_LIT(o, ", ");
        if (na.wildcard) {
            PX_LIT(o, "*");
            continue;
        }
        if (na.display_quoted) {
            PX_LIT(o, "\"");
            px_str(o, na.display);
            PX_LIT(o, "\" ");
        } else if (na.display.len) {
            px_str(o, na.display);
            PX_LIT(o, " ");
        }
        PX_LIT(o, "<sip:swc-");
        px_seal(p, o, SW_HIDE_CONTACT, na.uri.raw.ptr, na.uri.raw.len);
        PX_LIT(o, "@");
        px_put(o, f->hostport, f->hostport_len);
        px_put(o, f->tparam, f->tparam_len);
        PX_LIT(o, ">");
        if (na.params.len) {
            PX_LIT(o, ";");
            px_str(o, na.params);
        }
    }
    if (o->err)
        return;
    if (o->len == first) { /* nothing left */
        o->len = start;
        return;
    }
    PX_LIT(o, "\r\n");
}

/* ---- shared by requests and responses ------------------------------------------------ */

void px_out_content_length(px_out *o, px_span *span, const sw_sip_msg *m, int first)
{
    if (!first)
        return;
    px_flush(o, span, m);
    PX_LIT(o, "Content-Length: ");
    px_uint(o, m->body.len);
    PX_LIT(o, "\r\n");
}

void px_out_other(px_out *o, px_span *span, const sw_sip_msg *m, unsigned i, const sw_verdict *v)
{
    const sw_sip_header *h = &m->hdrs[i];
    if (v && px_stripped(v, h))
        return;
    if (v && px_sanitized(v, h)) {
        px_flush(o, span, m);
        px_out_sanitized(o, h);
    } else {
        px_keep(o, span, m, i);
    }
}

void px_out_end(px_out *o, px_span *span, const sw_sip_msg *m)
{
    px_flush(o, span, m);
    px_out_content_length(o, span, m, m->first[SW_HDR_CONTENT_LENGTH] == SW_HDR_NONE);
    PX_LIT(o, "\r\n");
    px_str(o, m->body);
}
