/* URIs: sip/sips (RFC 3261 §19.1), tel (RFC 3966), any other absoluteURI
 * kept opaque.  Parameters and %-escapes. */
#include <arpa/inet.h>

#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

/* Scans chars of class cls or %HH escapes; returns the first other char or
 * NULL on a broken escape. */
static const char *scan_escaped(const char *p, const char *end, unsigned cls)
{
    while (p < end) {
        if (*p == '%') {
            if (end - p < 3 || !sw__is_hex(p[1]) || !sw__is_hex(p[2]))
                return NULL;
            p += 3;
        } else if (SW__IS(*p, cls)) {
            p++;
        } else {
            break;
        }
    }
    return p;
}

int sw__check_host(sw_str host, int bracketed, sw_host_type *type)
{
    if (host.len == 0)
        return SW_EINVAL;
    if (bracketed) {
        char tmp[64];
        unsigned char addr[16];
        if (host.len >= sizeof tmp)
            return SW_EINVAL;
        memcpy(tmp, host.ptr, host.len);
        tmp[host.len] = '\0';
        if (inet_pton(AF_INET6, tmp, addr) != 1)
            return SW_EINVAL;
        *type = SW_HOST_IPV6;
        return SW_OK;
    }
    /* All digits and dots: must be a dotted quad. */
    int all_num = 1;
    for (size_t i = 0; i < host.len; i++) {
        if (!SW__IS(host.ptr[i], SW__C_HOST))
            return SW_EINVAL;
        if (!sw__is_digit(host.ptr[i]) && host.ptr[i] != '.')
            all_num = 0;
    }
    if (all_num) {
        unsigned parts = 0, val = 0, digits = 0;
        for (size_t i = 0; i <= host.len; i++) {
            if (i == host.len || host.ptr[i] == '.') {
                if (!digits || val > 255)
                    return SW_EINVAL;
                parts++;
                val = digits = 0;
            } else {
                val = val * 10 + (unsigned)(host.ptr[i] - '0');
                if (++digits > 3)
                    return SW_EINVAL;
            }
        }
        if (parts != 4)
            return SW_EINVAL;
        *type = SW_HOST_IPV4;
        return SW_OK;
    }
    if (host.ptr[0] == '-' || host.ptr[0] == '.')
        return SW_EINVAL;
    *type = SW_HOST_NAME;
    return SW_OK;
}

/* uri-parameters = *( ";" pname [ "=" pvalue ] ) with paramchar. */
static int check_uri_params(const char *p, const char *end)
{
    while (p < end) {
        if (*p != ';')
            return SW_EINVAL;
        p++;
        const char *q = scan_escaped(p, end, SW__C_PARAM);
        if (!q || q == p)
            return SW_EINVAL;
        if (q < end && *q == '=') {
            const char *v = q + 1;
            q = scan_escaped(v, end, SW__C_PARAM);
            if (!q || q == v)
                return SW_EINVAL;
        }
        p = q;
    }
    return SW_OK;
}

/* headers = hname "=" hvalue *( "&" hname "=" hvalue ) */
static int check_uri_headers(const char *p, const char *end)
{
    for (;;) {
        const char *q = scan_escaped(p, end, SW__C_HNV);
        if (!q || q == p || q >= end || *q != '=')
            return SW_EINVAL;
        q = scan_escaped(q + 1, end, SW__C_HNV);
        if (!q)
            return SW_EINVAL;
        if (q == end)
            return SW_OK;
        if (*q != '&')
            return SW_EINVAL;
        p = q + 1;
    }
}

static int parse_sip_uri(const char *p, const char *end, sw_uri *u, const char *base, sw_sip_error *err,
                         int strict)
{
    /* '@' cannot appear unescaped after the userinfo, so the only one
     * delimits it; users may hold ';' '?' '/' (RFC 4475 §3.1.1.2, §3.1.1.9). */
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at && !strict) {
        /* extraction only: the user ends at the first ':' of the userinfo */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        u->user = sw_str_make(p, (size_t)((colon ? colon : at) - p));
        if (colon)
            u->password = sw_str_make(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    } else if (at) {
        const char *q = scan_escaped(p, at, SW__C_USER);
        if (!q)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "broken %-escape in URI user");
        if (q == p)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "empty URI user");
        u->user = sw_str_make(p, (size_t)(q - p));
        if (q < at) {
            if (*q != ':')
                return sw__fail(err, SW_EINVAL, (size_t)(q - base), "invalid character in URI user");
            const char *pw = q + 1;
            q = scan_escaped(pw, at, SW__C_PASS);
            if (!q || q != at)
                return sw__fail(err, SW_EINVAL, (size_t)(pw - base), "invalid character in URI password");
            u->password = sw_str_make(pw, (size_t)(at - pw));
        }
        p = at + 1;
    }
    int bracketed = 0;
    const char *h = p, *he;
    if (p < end && *p == '[') {
        he = memchr(p, ']', (size_t)(end - p));
        if (!he)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "unterminated IPv6 reference");
        h = p + 1;
        p = he + 1;
        bracketed = 1;
    } else {
        he = p = sw__scan_host(p, end, &u->host_type);
    }
    u->host = sw_str_make(h, (size_t)(he - h));
    if ((strict || bracketed || he == h) && sw__check_host_after_scan(u->host, bracketed, &u->host_type) < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(h - base), "invalid host in URI");
    if (p < end && *p == ':') {
        const char *d = ++p;
        uint32_t port = 0;
        while (p < end && sw__is_digit(*p) && port <= 65535)
            port = port * 10 + (uint32_t)(*p++ - '0');
        if (p == d || port > 65535)
            return sw__fail(err, SW_EINVAL, (size_t)(d - base), "invalid port in URI");
        u->port = (uint16_t)port;
        u->has_port = 1;
    }
    const char *qm = p < end ? memchr(p, '?', (size_t)(end - p)) : NULL;
    const char *pend = qm ? qm : end;
    if (p < pend) {
        if (*p != ';')
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "invalid character after URI host");
        if (strict && check_uri_params(p, pend) < 0)
            return sw__fail(err, SW_EINVAL, (size_t)(p - base), "invalid URI parameter");
        u->params = sw_str_make(p + 1, (size_t)(pend - p - 1));
    }
    if (qm) {
        if (strict && check_uri_headers(qm + 1, end) < 0)
            return sw__fail(err, SW_EINVAL, (size_t)(qm - base), "invalid URI headers");
        u->headers = sw_str_make(qm + 1, (size_t)(end - qm - 1));
    }
    return SW_OK;
}

/* tel: global-number or local-number with parameters (RFC 3966). */
static int parse_tel_uri(const char *p, const char *end, sw_uri *u, const char *base, sw_sip_error *err)
{
    const char *q = p;
    if (q < end && *q == '+')
        q++;
    int digits = 0;
    while (q < end && (sw__is_hex(*q) || *q == '*' || *q == '#' || *q == '-' || *q == '.' ||
                       *q == '(' || *q == ')')) {
        digits += sw__is_hex(*q) || *q == '*' || *q == '#';
        q++;
    }
    if (!digits)
        return sw__fail(err, SW_EINVAL, (size_t)(p - base), "tel URI without a number");
    u->user = sw_str_make(p, (size_t)(q - p));
    if (q < end) {
        if (*q != ';' || check_uri_params(q, end) < 0)
            return sw__fail(err, SW_EINVAL, (size_t)(q - base), "invalid tel URI parameter");
        u->params = sw_str_make(q + 1, (size_t)(end - q - 1));
    }
    return SW_OK;
}

int sw__uri_parse(sw_str raw, sw_uri *u, sw_sip_error *err, int strict)
{
    raw = sw__nonnull(raw);
    memset(u, 0, sizeof *u);
    u->raw = raw;
    const char *p = raw.ptr, *end = raw.ptr + raw.len;
    if (raw.len == 0)
        return sw__fail(err, SW_EINVAL, 0, "empty URI");
    const char *s = p;
    if (!sw__is_alpha(*s))
        return sw__fail(err, SW_EINVAL, 0, "URI scheme must start with a letter");
    while (s < end && (sw__is_alpha(*s) || sw__is_digit(*s) || *s == '+' || *s == '-' || *s == '.'))
        s++;
    if (s == end || *s != ':')
        return sw__fail(err, SW_EINVAL, (size_t)(s - p), "URI without scheme");
    u->scheme = sw_str_make(p, (size_t)(s - p));
    const char *rest = s + 1;
    char c0 = (char)(p[0] | 0x20);
    if (u->scheme.len == 3 && c0 == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p')
        u->kind = SW_URI_SIP;
    else if (u->scheme.len == 4 && c0 == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
             (p[3] | 0x20) == 's')
        u->kind = SW_URI_SIPS;
    else if (u->scheme.len == 3 && c0 == 't' && (p[1] | 0x20) == 'e' && (p[2] | 0x20) == 'l')
        u->kind = SW_URI_TEL;
    else
        u->kind = SW_URI_OTHER;
    if (u->kind == SW_URI_SIP || u->kind == SW_URI_SIPS)
        return parse_sip_uri(rest, end, u, p, err, strict);
    if (u->kind == SW_URI_TEL)
        return parse_tel_uri(rest, end, u, p, err);
    /* absoluteURI: opaque, but printable and free of delimiters. */
    if (rest == end)
        return sw__fail(err, SW_EINVAL, (size_t)(rest - p), "empty URI after scheme");
    u->opaque = sw_str_make(rest, (size_t)(end - rest));
    if (!strict)
        return SW_OK;
    for (const char *q = rest; q < end; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' || c == '{' ||
            c == '}' || c == '|' || c == '^' || c == '`')
            return sw__fail(err, SW_EINVAL, (size_t)(q - p), "invalid character in URI");
        if (c == '%' && (end - q < 3 || !sw__is_hex(q[1]) || !sw__is_hex(q[2])))
            return sw__fail(err, SW_EINVAL, (size_t)(q - p), "broken %-escape in URI");
    }
    u->opaque = sw_str_make(rest, (size_t)(end - rest));
    return SW_OK;
}

int sw_uri_parse(sw_str raw, sw_uri *u, sw_sip_error *err)
{
    return sw__uri_parse(raw, u, err, 1);
}

static int hexval(char c)
{
    return sw__is_digit(c) ? c - '0' : (sw__lower(c) - 'a' + 10);
}

long sw_uri_unescape(sw_str in, char *out, size_t cap)
{
    in = sw__nonnull(in);
    size_t o = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '%') {
            if (i + 2 >= in.len)
                return SW_EINVAL;
            if (!sw__is_hex(in.ptr[i + 1]) || !sw__is_hex(in.ptr[i + 2]))
                return SW_EINVAL;
            c = (char)(hexval(in.ptr[i + 1]) * 16 + hexval(in.ptr[i + 2]));
            i += 2;
        }
        if (o >= cap)
            return SW_ELIMIT;
        out[o++] = c;
    }
    return (long)o;
}

int sw_param_next(sw_str *cur, sw_param *prm)
{
    prm->name = prm->value = SW_STR_NULL;
    prm->has_value = 0;
    if (!cur->ptr || !cur->len)
        return 0; /* absent parameters are an empty list */
    const char *p = cur->ptr, *end = cur->ptr + cur->len;
    p = sw__skip_lws(p, end);
    if (p < end && *p == ';')
        p = sw__skip_lws(p + 1, end);
    if (p == end) {
        if (cur->len && end[-1] == ';')
            return SW_EINVAL; /* "…;" with nothing after it */
        *cur = sw_str_make(end, 0);
        return 0;
    }
    const char *n = p;
    while (p < end && *p != ';' && *p != '=' && !sw__is_wsp(*p) && *p != '\r')
        p++;
    if (p == n)
        return SW_EINVAL;
    prm->name = sw_str_make(n, (size_t)(p - n));
    p = sw__skip_lws(p, end);
    if (p < end && *p == '=') {
        p = sw__skip_lws(p + 1, end);
        const char *v = p;
        if (p < end && *p == '"') {
            p = sw__scan_quoted(p, end);
            if (!p)
                return SW_EINVAL;
        } else {
            p = sw__find_any4(p, end, ';', ' ', '\t', '\r');
        }
        if (p == v)
            return SW_EINVAL;
        prm->value = sw_str_make(v, (size_t)(p - v));
        prm->has_value = 1;
        p = sw__skip_lws(p, end);
    }
    if (p < end && *p != ';')
        return SW_EINVAL;
    *cur = sw_str_make(p, (size_t)(end - p));
    return 1;
}

int sw_param_find(sw_str params, const char *name, sw_str *value)
{
    sw_param prm;
    sw_str cur = params;
    size_t nl = strlen(name);
    while (sw_param_next(&cur, &prm) > 0) {
        if (sw_str_caseeq(prm.name, sw_str_make(name, nl))) {
            if (value)
                *value = prm.value;
            return 1;
        }
    }
    return 0;
}
