/* Typed header values: lists, quoted strings, parameters, name-addr, Via,
 * CSeq, digest credentials/challenges, Identity, media types, integers.
 * Each parser takes one value view, allocates nothing, and reports errors
 * with an offset relative to the value. */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

const char *sw__scan_quoted(const char *p, const char *end)
{
    p++; /* the opening DQUOTE */
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            /* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F) */
            if (end - p < 2)
                return NULL;
            unsigned char e = (unsigned char)p[1];
            if (e == '\r' || e == '\n' || e > 0x7f)
                return NULL;
            p += 2;
            continue;
        }
        if (c == '\r') {
            if (end - p >= 3 && p[1] == '\n' && sw__is_wsp(p[2])) {
                p += 3;
                continue;
            }
            return NULL;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return NULL;
        p++;
    }
    return NULL;
}

int sw__list_next(sw_str *s, sw_str *elem)
{
    if (!s->ptr || !s->len)
        return 0;
    const char *p = s->ptr, *end = s->ptr + s->len;
    const char *start = sw__skip_lws(p, end);
    if (start == end) {
        *s = sw_str_make(end, 0);
        return 0;
    }
    /* Most values hold no comma at all: one vectorised memchr decides. */
    if (!memchr(start, ',', (size_t)(end - start))) {
        const char *eend = sw__rskip_lws(start, end);
        *elem = sw_str_make(start, (size_t)(eend - start));
        *s = sw_str_make(end, 0);
        return 1;
    }
    int angle = 0;
    const char *q = start;
    while (q < end) {
        char c = *q;
        if (c == '"') {
            const char *e = sw__scan_quoted(q, end);
            q = e ? e : end; /* unterminated: the element parser reports it */
            continue;
        }
        if (c == '<')
            angle = 1;
        else if (c == '>')
            angle = 0;
        else if (c == ',' && !angle)
            break;
        q++;
    }
    const char *eend = sw__rskip_lws(start, q);
    *elem = sw_str_make(start, (size_t)(eend - start));
    *s = q < end ? sw_str_make(q + 1, (size_t)(end - q - 1)) : sw_str_make(end, 0);
    return 1;
}

/* gen-value = token / host / quoted-string */
static int check_gen_value(sw_str v)
{
    if (v.len == 0)
        return SW_EINVAL;
    if (v.ptr[0] == '"')
        return sw__scan_quoted(v.ptr, v.ptr + v.len) == v.ptr + v.len ? SW_OK : SW_EINVAL;
    if (v.ptr[0] == '<') {
        /* "<absoluteURI>" as in Identity's info= (RFC 8224) */
        if (v.len < 3 || v.ptr[v.len - 1] != '>')
            return SW_EINVAL;
        for (size_t i = 1; i + 1 < v.len; i++)
            if ((unsigned char)v.ptr[i] <= 0x20 || v.ptr[i] == '<' || v.ptr[i] == '>')
                return SW_EINVAL;
        return SW_OK;
    }
    for (size_t i = 0; i < v.len; i++)
        if (!SW__IS(v.ptr[i], SW__C_TOKEN) && v.ptr[i] != ':' && v.ptr[i] != '[' && v.ptr[i] != ']')
            return SW_EINVAL;
    return SW_OK;
}

static int check_token(sw_str t)
{
    if (t.len == 0)
        return SW_EINVAL;
    for (size_t i = 0; i < t.len; i++)
        if (!SW__IS(t.ptr[i], SW__C_TOKEN))
            return SW_EINVAL;
    return SW_OK;
}

int sw__check_generic_params(sw_str s, sw_sip_error *err)
{
    s = sw__nonnull(s);
    sw_str cur = s;
    sw_param prm;
    int r;
    while ((r = sw_param_next(&cur, &prm)) > 0) {
        if (check_token(prm.name) < 0)
            return sw__fail(err, SW_EINVAL, (size_t)(prm.name.ptr - s.ptr), "invalid parameter name");
        if (prm.has_value && check_gen_value(prm.value) < 0)
            return sw__fail(err, SW_EINVAL, (size_t)(prm.value.ptr - s.ptr), "invalid parameter value");
    }
    if (r < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(cur.ptr - s.ptr), "empty or malformed parameter");
    return SW_OK;
}

/* Parameters after a value: must start with ';' (LWS allowed before). */
static int take_params(const char *p, const char *end, const char *base, sw_str *params,
                       sw_sip_error *err, int strict)
{
    p = sw__skip_lws(p, end);
    if (p == end) {
        *params = sw_str_make(end, 0);
        return SW_OK;
    }
    if (*p != ';')
        return sw__fail(err, SW_EINVAL, (size_t)(p - base), "unexpected characters after value");
    sw_str all = sw_str_make(p, (size_t)(end - p));
    int r = strict ? sw__check_generic_params(all, err) : SW_OK;
    if (r < 0) {
        sw__rebase(err, base, p);
        return r;
    }
    const char *f = sw__skip_lws(p + 1, end);
    *params = sw_str_make(f, (size_t)(end - f));
    return SW_OK;
}

int sw__nameaddr_parse(sw_str v, sw_nameaddr *o, sw_sip_error *err, int flags)
{
    const int strict = flags & SW__STRICT;
    v = sw__nonnull(v);
    memset(o, 0, sizeof *o);
    const char *base = v.ptr, *end = sw__rskip_lws(v.ptr, v.ptr + v.len);
    const char *p = sw__skip_lws(v.ptr, end);
    if (p == end)
        return sw__fail(err, SW_EINVAL, 0, "empty address");
    if (*p == '*' && sw__skip_lws(p + 1, end) == end) {
        o->wildcard = 1;
        return SW_OK;
    }
    const char *lt = NULL;
    if (*p == '"') {
        const char *q = sw__scan_quoted(p, end);
        if (!q)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "unterminated or invalid quoted display name");
        o->display = sw_str_make(p + 1, (size_t)(q - p - 2));
        o->display_quoted = 1;
        q = sw__skip_lws(q, end);
        if (q == end || *q != '<')
            return sw__fail(err, SW_EINVAL, (size_t)(q - base), "quoted display name not followed by <URI>");
        lt = q;
    } else {
        /* Tokens separated by LWS, then '<' (name-addr), or a scheme ':'
         * (addr-spec).  RFC 4475 §3.1.1.6: no LWS before '<' is accepted. */
        const char *q = p;
        for (;;) {
            while (q < end && SW__IS(*q, SW__C_TOKEN))
                q++;
            const char *r = sw__skip_lws(q, end);
            if (r == q || r == end || !SW__IS(*r, SW__C_TOKEN)) {
                q = r;
                break;
            }
            q = r;
        }
        if (q < end && *q == '<') {
            lt = q;
            const char *de = sw__rskip_lws(p, q);
            o->display = sw_str_make(p, (size_t)(de - p));
        } else if (!(q < end && *q == ':')) {
            /* not a plain token run followed by ':' — may still be an
             * addr-spec whose scheme is followed by ':' later */
            const char *s = p;
            while (s < end && (sw__is_alpha(*s) || sw__is_digit(*s) || *s == '+' || *s == '-' || *s == '.'))
                s++;
            if (s == end || *s != ':')
                return sw__fail(err, SW_EINVAL, (size_t)(q - base), "invalid character in display name");
        }
    }
    const char *after;
    if (lt) {
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt)
            return sw__fail(err, SW_EINVAL, (size_t)(lt - base), "'<' without matching '>'");
        const char *us = lt + 1;
        if (us < gt && (sw__is_wsp(*us) || *us == '\r' || sw__is_wsp(gt[-1]) || gt[-1] == '\n'))
            return sw__fail(err, SW_EINVAL, (size_t)(us - base), "whitespace inside <URI>");
        int r = sw__uri_parse(sw_str_make(us, (size_t)(gt - us)), &o->uri, err, strict);
        if (r < 0) {
            sw__rebase(err, base, us);
            return r;
        }
        o->angle = 1;
        after = gt + 1;
    } else {
        /* addr-spec: every ';' starts a header parameter (RFC 3261 §20.10),
         * and a URI with ',', '?' or ';' would have needed <>. */
        const char *q = p;
        while (q < end && *q != ';' && !sw__is_wsp(*q) && *q != '\r') {
            if (*q == '?' || *q == ',')
                return sw__fail(err, SW_EINVAL, (size_t)(q - base),
                                "URI with '?' or ',' must be enclosed in <>");
            q++;
        }
        int r = sw__uri_parse(sw_str_make(p, (size_t)(q - p)), &o->uri, err, strict);
        if (r < 0) {
            sw__rebase(err, base, p);
            return r;
        }
        after = q;
    }
    int r = take_params(after, end, base, &o->params, err, strict);
    if (r < 0)
        return r;
    sw_str tag;
    if (!(flags & SW__NO_TAG) && sw_param_find(o->params, "tag", &tag))
        o->tag = tag;
    return SW_OK;
}

int sw_nameaddr_parse(sw_str v, sw_nameaddr *o, sw_sip_error *err)
{
    return sw__nameaddr_parse(v, o, err, 1);
}

int sw_parse_uint(sw_str v, uint64_t max, uint64_t *out)
{
    if (!v.ptr)
        return SW_EINVAL;
    const char *p = sw__skip_lws(v.ptr, v.ptr + v.len);
    const char *end = sw__rskip_lws(p, v.ptr + v.len);
    if (p == end)
        return SW_EINVAL;
    uint64_t n = 0;
    for (; p < end; p++) {
        if (!sw__is_digit(*p))
            return SW_EINVAL;
        uint64_t d = (uint64_t)(*p - '0');
        if (d > max || n > (max - d) / 10)
            return SW_ERANGE;
        n = n * 10 + d;
    }
    *out = n;
    return SW_OK;
}

/* Reads a token, LWS allowed before it; returns its end or NULL. */
static const char *take_token(const char *p, const char *end, sw_str *tok)
{
    p = sw__skip_lws(p, end);
    const char *s = p;
    while (p < end && SW__IS(*p, SW__C_TOKEN))
        p++;
    if (p == s)
        return NULL;
    *tok = sw_str_make(s, (size_t)(p - s));
    return p;
}

static const char *take_char(const char *p, const char *end, char c)
{
    p = sw__skip_lws(p, end);
    return (p < end && *p == c) ? p + 1 : NULL;
}

int sw__via_parse(sw_str v, sw_via *o, sw_sip_error *err, int strict)
{
    v = sw__nonnull(v);
    memset(o, 0, sizeof *o);
    o->rport = -1;
    const char *base = v.ptr, *end = sw__rskip_lws(v.ptr, v.ptr + v.len);
    const char *p = v.ptr;
    sw_str name, ver, tr;
    const char *q;
    if (!(q = take_token(p, end, &name)) || !(q = take_char(q, end, '/')) ||
        !(q = take_token(q, end, &ver)) || !(q = take_char(q, end, '/')) ||
        !(q = take_token(q, end, &tr)))
        return sw__fail(err, SW_EINVAL, 0, "invalid Via sent-protocol");
    o->protocol = sw_str_make(name.ptr, (size_t)(ver.ptr + ver.len - name.ptr));
    o->transport = tr;
    const char *h = sw__skip_lws(q, end);
    if (h == q || h == end)
        return sw__fail(err, SW_EINVAL, (size_t)(q - base), "Via without sent-by");
    int bracketed = 0;
    const char *hs = h, *he;
    if (*h == '[') {
        he = memchr(h, ']', (size_t)(end - h));
        if (!he)
            return sw__fail(err, SW_EINVAL, (size_t)(h - base), "unterminated IPv6 reference in Via");
        hs = h + 1;
        p = he + 1;
        bracketed = 1;
    } else {
        he = p = sw__scan_host(h, end, &o->host_type);
    }
    o->host = sw_str_make(hs, (size_t)(he - hs));
    if ((strict || bracketed || he == hs) && sw__check_host(o->host, bracketed, &o->host_type) < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(hs - base), "invalid Via host");
    const char *c = sw__skip_lws(p, end);
    if (c < end && *c == ':') {
        const char *d = sw__skip_lws(c + 1, end);
        uint32_t port = 0;
        p = d;
        while (p < end && sw__is_digit(*p) && port <= 65535)
            port = port * 10 + (uint32_t)(*p++ - '0');
        if (p == d || port > 65535)
            return sw__fail(err, SW_EINVAL, (size_t)(d - base), "invalid Via port");
        o->port = (uint16_t)port;
        o->has_port = 1;
    }
    int r = take_params(p, end, base, &o->params, err, strict);
    if (r < 0)
        return r;
    sw_str cur = o->params;
    sw_param prm;
    while (sw_param_next(&cur, &prm) > 0) {
        size_t off = (size_t)(prm.name.ptr - base);
        if (sw_str_caseeq_cstr(prm.name, "branch")) {
            if (!prm.has_value || check_token(prm.value) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid Via branch");
            o->branch = prm.value;
        } else if (sw_str_caseeq_cstr(prm.name, "received")) {
            sw_host_type t;
            sw_str a = prm.value;
            if (!prm.has_value)
                return sw__fail(err, SW_EINVAL, off, "Via received without a value");
            int br = a.len > 2 && a.ptr[0] == '[' && a.ptr[a.len - 1] == ']';
            if (br)
                a = sw_str_make(a.ptr + 1, a.len - 2);
            /* RFC 5118 allows a bare IPv6 address here. */
            int v6 = !br && memchr(a.ptr, ':', a.len) != NULL;
            if (!prm.has_value || sw__check_host(a, br || v6, &t) < 0 || t == SW_HOST_NAME)
                return sw__fail(err, SW_EINVAL, off, "Via received is not an IP address");
            o->received = prm.value;
        } else if (sw_str_caseeq_cstr(prm.name, "rport")) {
            o->has_rport = 1;
            if (prm.has_value) {
                uint64_t n;
                if (sw_parse_uint(prm.value, 65535, &n) < 0)
                    return sw__fail(err, SW_EINVAL, off, "invalid Via rport");
                o->rport = (int32_t)n;
            }
        } else if (sw_str_caseeq_cstr(prm.name, "ttl")) {
            uint64_t n;
            if (!prm.has_value || sw_parse_uint(prm.value, 255, &n) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid Via ttl");
            o->ttl = prm.value;
        } else if (sw_str_caseeq_cstr(prm.name, "maddr")) {
            sw_host_type t;
            if (!prm.has_value || sw__check_host(prm.value, 0, &t) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid Via maddr");
            o->maddr = prm.value;
        }
    }
    return SW_OK;
}

int sw_via_parse(sw_str v, sw_via *o, sw_sip_error *err)
{
    return sw__via_parse(v, o, err, 1);
}

int sw_cseq_parse(sw_str v, sw_cseq *o, sw_sip_error *err)
{
    v = sw__nonnull(v);
    memset(o, 0, sizeof *o);
    const char *end = sw__rskip_lws(v.ptr, v.ptr + v.len);
    const char *p = sw__skip_lws(v.ptr, end), *d = p;
    while (p < end && sw__is_digit(*p))
        p++;
    if (p == d)
        return sw__fail(err, SW_EINVAL, (size_t)(d - v.ptr), "CSeq without a sequence number");
    uint64_t n;
    int r = sw_parse_uint(sw_str_make(d, (size_t)(p - d)), UINT32_MAX, &n);
    if (r < 0)
        return sw__fail(err, r == SW_ERANGE ? SW_ERANGE : SW_EINVAL, (size_t)(d - v.ptr),
                        "CSeq number larger than 2^32-1");
    const char *m = sw__skip_lws(p, end);
    if (m == p)
        return sw__fail(err, SW_EINVAL, (size_t)(p - v.ptr), "CSeq without a method");
    const char *q = m;
    while (q < end && SW__IS(*q, SW__C_TOKEN))
        q++;
    if (q == m || q != end)
        return sw__fail(err, SW_EINVAL, (size_t)(m - v.ptr), "invalid CSeq method");
    o->number = (uint32_t)n;
    o->method_name = sw_str_make(m, (size_t)(q - m));
    o->method = sw_method_lookup(m, (size_t)(q - m));
    return SW_OK;
}

static sw_str unquote(sw_str v)
{
    if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
        return sw_str_make(v.ptr + 1, v.len - 2);
    return v;
}

int sw_auth_parse(sw_str v, sw_auth *o, sw_sip_error *err)
{
    v = sw__nonnull(v);
    memset(o, 0, sizeof *o);
    const char *base = v.ptr, *end = sw__rskip_lws(v.ptr, v.ptr + v.len);
    const char *p = take_token(v.ptr, end, &o->scheme);
    if (!p)
        return sw__fail(err, SW_EINVAL, 0, "missing authentication scheme");
    const char *s = sw__skip_lws(p, end);
    if (s == end)
        return SW_OK;
    if (s == p)
        return sw__fail(err, SW_EINVAL, (size_t)(p - base), "invalid authentication scheme");
    o->params = sw_str_make(s, (size_t)(end - s));
    int digest = sw_str_caseeq_cstr(o->scheme, "Digest");
    p = s;
    for (;;) {
        sw_str name, val;
        const char *q = take_token(p, end, &name);
        if (!q)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "invalid auth-param name");
        q = take_char(q, end, '=');
        if (!q)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "auth-param without '='");
        q = sw__skip_lws(q, end);
        const char *vs = q;
        if (q < end && *q == '"') {
            q = sw__scan_quoted(q, end);
            if (!q)
                return sw__fail(err, SW_EINVAL, (size_t)(vs - base), "unterminated quoted auth-param value");
        } else {
            while (q < end && *q != ',' && !sw__is_wsp(*q) && *q != '\r' && *q != '"')
                q++;
        }
        if (q == vs)
            return sw__fail(err, SW_EINVAL, (size_t)(vs - base), "empty auth-param value");
        val = unquote(sw_str_make(vs, (size_t)(q - vs)));
        if (digest) {
#define PICK(field)                                   \
    if (sw_str_caseeq_cstr(name, #field)) {           \
        o->field = val;                               \
    } else
            PICK(username) PICK(realm) PICK(nonce) PICK(uri) PICK(response) PICK(algorithm)
                PICK(cnonce) PICK(opaque) PICK(qop) PICK(nc) PICK(stale) PICK(domain) {}
#undef PICK
        }
        q = sw__skip_lws(q, end);
        if (q == end)
            break;
        if (*q != ',')
            return sw__fail(err, SW_EINVAL, (size_t)(q - base), "auth-params must be separated by ','");
        p = q + 1;
    }
    return SW_OK;
}

int sw_identity_parse(sw_str v, sw_identity *o, sw_sip_error *err)
{
    v = sw__nonnull(v);
    memset(o, 0, sizeof *o);
    const char *base = v.ptr, *end = sw__rskip_lws(v.ptr, v.ptr + v.len);
    const char *p = sw__skip_lws(v.ptr, end), *s = p;
    int quoted = p < end && *p == '"'; /* RFC 4474 style */
    if (quoted)
        s = ++p;
    while (p < end && (sw__is_alpha(*p) || sw__is_digit(*p) || *p == '-' || *p == '_' || *p == '.' ||
                       *p == '=' || *p == '+' || *p == '/'))
        p++;
    if (p == s)
        return sw__fail(err, SW_EINVAL, (size_t)(s - base), "Identity without a signature");
    o->token = sw_str_make(s, (size_t)(p - s));
    if (quoted) {
        if (p == end || *p != '"')
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "unterminated quoted Identity");
        p++;
    }
    const char *d1 = memchr(s, '.', o->token.len);
    if (d1) {
        const char *d2 = memchr(d1 + 1, '.', (size_t)(s + o->token.len - d1 - 1));
        if (!d2)
            return sw__fail(err, SW_EINVAL, (size_t)(d1 - base), "PASSporT is not header.payload.signature");
        o->header = sw_str_make(s, (size_t)(d1 - s));
        o->payload = sw_str_make(d1 + 1, (size_t)(d2 - d1 - 1));
        o->signature = sw_str_make(d2 + 1, (size_t)(s + o->token.len - d2 - 1));
    }
    int r = take_params(p, end, base, &o->params, err, 1);
    if (r < 0)
        return r;
    sw_str info;
    if (sw_param_find(o->params, "info", &info)) {
        if (info.len >= 2 && info.ptr[0] == '<' && info.ptr[info.len - 1] == '>')
            info = sw_str_make(info.ptr + 1, info.len - 2);
        o->info = info;
    }
    sw_param_find(o->params, "alg", &o->alg);
    sw_param_find(o->params, "ppt", &o->ppt);
    o->ppt = unquote(o->ppt);
    return SW_OK;
}

int sw_media_type_parse(sw_str v, sw_media_type *o, sw_sip_error *err)
{
    v = sw__nonnull(v);
    memset(o, 0, sizeof *o);
    const char *base = v.ptr, *end = sw__rskip_lws(v.ptr, v.ptr + v.len);
    const char *p = take_token(v.ptr, end, &o->type);
    if (!p || !(p = take_char(p, end, '/')) || !(p = take_token(p, end, &o->subtype)))
        return sw__fail(err, SW_EINVAL, 0, "invalid media type");
    return take_params(p, end, base, &o->params, err, 1);
}
