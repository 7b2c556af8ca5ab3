/* Pass one of the SIP parser: start line, header index, framing.
 *
 * One memchr per line finds the line ends; header names are interned with
 * sw_hdr_lookup; values are views trimmed of LWS.  Nothing is allocated and
 * no byte past buf[len) is read (the guard-page test holds us to that). */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The next '\n' in [p, end), or NULL.  Header lines are short (~40 bytes),
 * where an inline 16-byte compare beats a call to memchr.  Never loads a
 * byte at or past `end`. */
static inline const char *find_lf(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i lf = _mm_set1_epi8('\n');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    return memchr(p, '\n', (size_t)(end - p));
}

void sw_sip_limits_default(sw_sip_limits *lim)
{
    lim->max_msg_size = 65535;
    lim->max_header_len = 4096;
    lim->max_headers = 256;
    lim->max_via = 64;
}

static int caseprefix(const char *p, size_t n, const char *lit, size_t litlen)
{
    if (n < litlen)
        return 0;
    for (size_t i = 0; i < litlen; i++)
        if (sw__lower(p[i]) != sw__lower(lit[i]))
            return 0;
    return 1;
}

/* SIP-Version: "SIP/2.0" (case-insensitive per §7.1).  Another well-formed
 * version is SW_EVERSION so a server can answer 505 instead of 400. */
static int check_version(const char *p, const char *end, const char *base, sw_sip_error *err)
{
    size_t n = (size_t)(end - p);
    if (n == 7 && (memcmp(p, "SIP/2.0", 7) == 0 || caseprefix(p, n, "SIP/2.0", 7)))
        return SW_OK;
    if (caseprefix(p, n, "SIP/", 4)) {
        const char *q = p + 4;
        int digits = 0, dot = 0;
        for (; q < end; q++) {
            if (sw__is_digit(*q))
                digits++;
            else if (*q == '.' && !dot && digits)
                dot = 1, digits = 0;
            else
                break;
        }
        if (q == end && dot && digits)
            return sw__fail(err, SW_EVERSION, (size_t)(p - base), "unsupported SIP version");
    }
    return sw__fail(err, SW_EINVAL, (size_t)(p - base), "invalid SIP version");
}

static int parse_status_line(sw_sip_msg *m, const char *p, const char *end, sw_sip_error *err)
{
    const char *base = m->buf;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp)
        return sw__fail(err, SW_EINVAL, (size_t)(end - base), "status line without status code");
    int r = check_version(p, sp, base, err);
    if (r < 0)
        return r;
    m->version = sw_str_make(p, (size_t)(sp - p));
    const char *c = sp + 1;
    const char *d = c;
    while (d < end && sw__is_digit(*d))
        d++;
    if (d - c != 3 || (d < end && *d != ' '))
        return sw__fail(err, SW_EINVAL, (size_t)(c - base), "status code is not three digits");
    unsigned code = (unsigned)(c[0] - '0') * 100 + (unsigned)(c[1] - '0') * 10 + (unsigned)(c[2] - '0');
    if (code < 100 || code > 699)
        return sw__fail(err, SW_ERANGE, (size_t)(c - base), "status code out of range 100-699");
    m->status = (uint16_t)code;
    m->is_request = 0;
    m->reason = d < end ? sw_str_make(d + 1, (size_t)(end - d - 1)) : sw_str_make(end, 0);
    return SW_OK;
}

static int parse_request_line(sw_sip_msg *m, const char *p, const char *end, sw_sip_error *err)
{
    const char *base = m->buf;
    const char *q = p;
    while (q < end && SW__IS(*q, SW__C_TOKEN))
        q++;
    if (q == p)
        return sw__fail(err, SW_EINVAL, (size_t)(q - base), "start line is neither a request nor a status line");
    if (q == end || *q != ' ')
        return sw__fail(err, SW_EINVAL, (size_t)(q - base), "invalid character in method");
    m->method_name = sw_str_make(p, (size_t)(q - p));
    const char *uri = q + 1;
    if (uri < end && (*uri == ' ' || *uri == '\t'))
        return sw__fail(err, SW_EINVAL, (size_t)(uri - base), "more than one SP between request-line elements");
    const char *lsp = end;
    while (lsp > uri && lsp[-1] != ' ')
        lsp--;
    if (lsp <= uri)
        return sw__fail(err, SW_EINVAL, (size_t)(end - base), "request line without SIP version");
    if (lsp == end)
        return sw__fail(err, SW_EINVAL, (size_t)(end - 1 - base), "trailing whitespace in request line");
    const char *uend = lsp - 1;
    if (uend == uri)
        return sw__fail(err, SW_EINVAL, (size_t)(uri - base), "empty Request-URI");
    const char *ws = memchr(uri, ' ', (size_t)(uend - uri));
    const char *tab = memchr(uri, '\t', (size_t)(uend - uri));
    if (!ws || (tab && tab < ws))
        ws = tab;
    if (ws)
        return sw__fail(err, SW_EINVAL, (size_t)(ws - base),
                        ws + 1 == uend ? "more than one SP between request-line elements"
                                       : "whitespace inside Request-URI");
    if (*uri == '<')
        return sw__fail(err, SW_EINVAL, (size_t)(uri - base), "Request-URI enclosed in <>");
    int r = check_version(lsp, end, base, err);
    if (r < 0)
        return r;
    m->ruri = sw_str_make(uri, (size_t)(uend - uri));
    m->version = sw_str_make(lsp, (size_t)(end - lsp));
    m->is_request = 1;
    m->method = (uint8_t)sw_method_lookup(m->method_name.ptr, m->method_name.len);
    return SW_OK;
}

/* Content-Length = 1*DIGIT.  Values that do not fit are reported as huge
 * rather than wrapped, so the framing check below catches them. */
int sw__parse_content_length(sw_str v, int64_t *out)
{
    if (v.len == 0)
        return -1;
    if (v.ptr[0] == '-')
        return -2;
    int64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (!sw__is_digit(v.ptr[i]))
            return -1;
        if (n < ((int64_t)1 << 40))
            n = n * 10 + (v.ptr[i] - '0');
    }
    *out = n;
    return 0;
}

size_t sw__cl_colon(const char *q, size_t ll, size_t *looked)
{
    size_t nl = 0;
    while (nl < ll && SW__IS(q[nl], SW__C_TOKEN))
        nl++;
    size_t c = nl;
    while (c < ll && sw__is_wsp(q[c]))
        c++;
    if (looked)
        *looked = c < ll ? c + 1 : ll;
    if (c < ll && q[c] == ':' &&
        ((nl == 1 && sw__lower(q[0]) == 'l') || (nl == 14 && caseprefix(q, nl, "content-length", 14))))
        return c;
    return 0;
}

int sw__cl_value(const char *q, size_t colon, const char *eol, int64_t *out)
{
    const char *ve = (eol > q && eol[-1] == '\r') ? eol - 1 : eol;
    const char *v = sw__skip_lws(q + colon + 1, ve);
    ve = sw__rskip_lws(v, ve);
    return sw__parse_content_length(sw_str_make(v, (size_t)(ve - v)), out);
}

static long incomplete_or(sw_sip_framing framing, size_t len, const sw_sip_limits *lim,
                          sw_sip_error *err, size_t off, const char *reason)
{
    if (len >= lim->max_msg_size)
        return sw__fail(err, SW_ELIMIT, lim->max_msg_size, "message larger than the size limit");
    if (framing == SW_SIP_STREAM)
        return sw__fail(err, SW_EINCOMPLETE, len, "incomplete message");
    return sw__fail(err, SW_EINVAL, off, reason);
}

long sw_sip_parse(sw_sip_msg *m, sw_sip_header *hdrs, uint16_t cap, const char *buf, size_t len,
                  sw_sip_framing framing, const sw_sip_limits *lim, sw_sip_error *err)
{
    sw_sip_limits defaults;
    if (!lim) {
        sw_sip_limits_default(&defaults);
        lim = &defaults;
    }
    m->buf = buf;
    m->len = 0;
    m->header_len = 0;
    m->is_request = 0;
    m->method = SW_METHOD_OTHER;
    m->status = 0;
    m->method_name = m->ruri = m->version = m->reason = m->body = SW_STR_NULL;
    m->content_length = -1;
    m->hdrs = hdrs;
    m->nhdrs = 0;
    m->cap = cap;
    m->memo = m->memo_err = 0;
    m->max_via = lim->max_via;
    memset(m->first, 0xff, sizeof m->first);
    if (!buf || len == 0)
        return incomplete_or(framing, 0, lim, err, 0, "empty message");
    if (framing == SW_SIP_DATAGRAM && len > lim->max_msg_size)
        return sw__fail(err, SW_ELIMIT, lim->max_msg_size, "message larger than the size limit");

    const size_t scan_len = len < lim->max_msg_size ? len : lim->max_msg_size;
    const char *const scan_end = buf + scan_len;
    const char *p = buf;

    const char *eol = memchr(p, '\n', scan_len);
    if (!eol)
        return incomplete_or(framing, len, lim, err, scan_len, "start line not terminated by CRLF");
    if (eol == p || eol[-1] != '\r')
        return sw__fail(err, SW_EINVAL, (size_t)(eol - buf), "line ending without CR (bare LF)");
    if ((size_t)(eol - p) > lim->max_header_len)
        return sw__fail(err, SW_ELIMIT, 0, "start line longer than the header length limit");
    int r = caseprefix(p, (size_t)(eol - p), "SIP/", 4) ? parse_status_line(m, p, eol - 1, err)
                                                        : parse_request_line(m, p, eol - 1, err);
    if (r < 0)
        return r;
    p = eol + 1;

    const uint16_t max_hdrs = cap < lim->max_headers ? cap : lim->max_headers;
    sw_sip_header *cur = NULL;
    const char *field_start = NULL;
    unsigned via_fields = 0;
    for (;;) {
        if (p >= scan_end)
            return incomplete_or(framing, len, lim, err, (size_t)(p - buf),
                                 "header section not terminated by an empty line");
        if (*p == '\r') {
            if (p + 1 >= scan_end)
                return incomplete_or(framing, len, lim, err, (size_t)(p - buf),
                                     "header section not terminated by an empty line");
            if (p[1] != '\n')
                return sw__fail(err, SW_EINVAL, (size_t)(p - buf), "bare CR in header section");
            p += 2;
            break;
        }
        eol = find_lf(p, scan_end);
        if (!eol)
            return incomplete_or(framing, len, lim, err, (size_t)(scan_end - buf),
                                 "header line not terminated by CRLF");
        if (eol[-1] != '\r')
            return sw__fail(err, SW_EINVAL, (size_t)(eol - buf), "line ending without CR (bare LF)");
        const char *lend = eol - 1; /* the CR */

        if (sw__is_wsp(*p)) {
            /* A folded continuation of the current header (LWS). */
            if (!cur)
                return sw__fail(err, SW_EINVAL, (size_t)(p - buf), "continuation line before the first header");
            if ((size_t)(eol + 1 - field_start) > lim->max_header_len)
                return sw__fail(err, SW_ELIMIT, (size_t)(field_start - buf), "header field longer than the limit");
            const char *vend = sw__rskip_lws(p, lend);
            if (vend > p) {
                if (cur->value.len == 0) {
                    const char *vs = p;
                    while (sw__is_wsp(*vs))
                        vs++;
                    cur->value.ptr = vs;
                } else {
                    m->memo |= SW__MEMO_FOLDED; /* the value now spans a CRLF */
                }
                cur->value.len = (size_t)(vend - cur->value.ptr);
            }
            p = eol + 1;
            continue;
        }

        const char *n = p;
        while (SW__IS(*n, SW__C_TOKEN))
            n++;
        if (n == p)
            return sw__fail(err, SW_EINVAL, (size_t)(p - buf),
                            *p == ':' ? "empty header name" : "invalid character in header name");
        const char *c = n;
        while (sw__is_wsp(*c))
            c++;
        if (*c != ':')
            return sw__fail(err, SW_EINVAL, (size_t)(c - buf),
                            memchr(p, ':', (size_t)(lend - p)) ? "invalid character in header name"
                                                               : "header line without ':'");
        if ((size_t)(eol + 1 - p) > lim->max_header_len)
            return sw__fail(err, SW_ELIMIT, (size_t)(p - buf), "header field longer than the limit");
        if (m->nhdrs >= max_hdrs)
            return sw__fail(err, SW_ELIMIT, (size_t)(p - buf), "too many header fields");

        const char *vs = c + 1;
        while (vs < lend && sw__is_wsp(*vs))
            vs++;
        const char *ve = lend;
        while (ve > vs && sw__is_wsp(ve[-1]))
            ve--;
        sw_hdr_id id = sw__hdr_lookup(p, (size_t)(n - p));
        uint16_t idx = m->nhdrs++;
        cur = &hdrs[idx];
        cur->name = sw_str_make(p, (size_t)(n - p));
        cur->value = sw_str_make(vs, (size_t)(ve - vs));
        cur->offset = (uint32_t)(p - buf);
        cur->id = (uint16_t)id;
        cur->next = SW_HDR_NONE;
        if (m->first[id] == SW_HDR_NONE)
            m->first[id] = idx;
        else
            hdrs[m->last_[id]].next = idx;
        m->last_[id] = idx;
        if (id == SW_HDR_VIA && ++via_fields > lim->max_via)
            return sw__fail(err, SW_ELIMIT, (size_t)(p - buf), "too many Via header fields");
        field_start = p;
        p = eol + 1;
    }
    m->header_len = (size_t)(p - buf);

    /* Content-Length decides the framing; conflicting values make it
     * undecidable (RFC 4475 §3.3.9), so they are an error here, not later. */
    for (const sw_sip_header *h = sw_sip_first(m, SW_HDR_CONTENT_LENGTH); h; h = sw_sip_next(m, h)) {
        int64_t v = 0;
        int cr = sw__parse_content_length(h->value, &v);
        if (cr == -2)
            return sw__fail(err, SW_EINVAL, h->offset, "negative Content-Length");
        if (cr < 0)
            return sw__fail(err, SW_EINVAL, h->offset, "invalid Content-Length value");
        if (m->content_length >= 0 && m->content_length != v)
            return sw__fail(err, SW_ECONFLICT, h->offset, "conflicting Content-Length values");
        m->content_length = v;
    }

    size_t avail = len - m->header_len;
    if (m->content_length < 0) {
        if (framing == SW_SIP_STREAM) {
            return sw__fail(err, SW_EINVAL, m->header_len, "missing Content-Length on a stream transport");
        }
        m->body = sw_str_make(p, avail);
    } else {
        if ((uint64_t)m->content_length > lim->max_msg_size ||
            m->header_len + (size_t)m->content_length > lim->max_msg_size)
            return sw__fail(err, SW_ELIMIT, m->hdrs[m->first[SW_HDR_CONTENT_LENGTH]].offset,
                            "Content-Length larger than the size limit");
        if ((size_t)m->content_length > avail) {
            if (framing == SW_SIP_STREAM)
                return sw__fail(err, SW_EINCOMPLETE, len, "incomplete body");
            return sw__fail(err, SW_EINVAL, m->hdrs[m->first[SW_HDR_CONTENT_LENGTH]].offset,
                            "Content-Length larger than the message");
        }
        m->body = sw_str_make(p, (size_t)m->content_length);
    }
    m->len = m->header_len + m->body.len;
    return (long)m->len;
}

long sw_sip_frame(const char *buf, size_t len, const sw_sip_limits *lim, size_t *skip,
                  sw_sip_error *err)
{
    sw_sip_limits defaults;
    if (!lim) {
        sw_sip_limits_default(&defaults);
        lim = &defaults;
    }
    size_t s = 0;
    while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
        s++;
    *skip = s;
    if (s == len)
        return sw__fail(err, SW_EINCOMPLETE, len, "incomplete message");
    const char *p = buf + s;
    const size_t n = len - s;
    const size_t scan = n < lim->max_msg_size ? n : lim->max_msg_size;
    const char *q = p, *end = p + scan;
    int64_t cl = -1;
    size_t hdr_end = 0;
    int first_line = 1;
    uint32_t nhdrs = 0;
    while (q < end) {
        const char *eol = find_lf(q, end);
        if (!eol)
            break;
        size_t ll = (size_t)(eol - q);
        if (ll > 0 && q[ll - 1] == '\r')
            ll--;
        if (ll == 0 && !first_line) {
            hdr_end = (size_t)(eol + 1 - p);
            break;
        }
        if (!first_line && !sw__is_wsp(q[0]) && ++nhdrs > lim->max_headers)
            return sw__fail(err, SW_ELIMIT, s + (size_t)(q - p), "too many header fields");
        first_line = 0;
        size_t c = sw__cl_colon(q, ll, NULL);
        if (c) {
            /* The value may continue on folded lines (LWS), as sw_sip_parse
             * allows: it is known once the byte after its last line is. */
            while (eol + 1 < end && sw__is_wsp(eol[1])) {
                const char *next = find_lf(eol + 1, end);
                if (!next)
                    break;
                eol = next;
            }
            if (eol + 1 >= end || sw__is_wsp(eol[1]))
                break; /* incomplete (or over the size limit) */
            int64_t val = 0;
            int r = sw__cl_value(q, c, eol, &val);
            if (r == -2)
                return sw__fail(err, SW_EINVAL, s + (size_t)(q - p), "negative Content-Length");
            if (r < 0)
                return sw__fail(err, SW_EINVAL, s + (size_t)(q - p), "invalid Content-Length value");
            if (cl >= 0 && cl != val)
                return sw__fail(err, SW_ECONFLICT, s + (size_t)(q - p), "conflicting Content-Length values");
            cl = val;
        }
        q = eol + 1;
    }
    if (!hdr_end) {
        if (n >= lim->max_msg_size)
            return sw__fail(err, SW_ELIMIT, s + lim->max_msg_size, "header section larger than the size limit");
        return sw__fail(err, SW_EINCOMPLETE, len, "incomplete header section");
    }
    if (cl < 0)
        return sw__fail(err, SW_EINVAL, s + hdr_end, "missing Content-Length on a stream transport");
    if ((uint64_t)cl > lim->max_msg_size || hdr_end + (size_t)cl > lim->max_msg_size)
        return sw__fail(err, SW_ELIMIT, s, "Content-Length larger than the size limit");
    if (hdr_end + (size_t)cl > n)
        return sw__fail(err, SW_EINCOMPLETE, len, "incomplete body");
    return (long)(hdr_end + (size_t)cl);
}

int sw_sip_looks_like(const char *buf, size_t len)
{
    if (!buf || len < 4)
        return 0;
    if (caseprefix(buf, len, "SIP/", 4)) {
        /* "SIP/x.y ddd" followed by SP, CR or the end of what we have */
        size_t i = 4;
        while (i < len && i < 16 && (sw__is_digit(buf[i]) || buf[i] == '.'))
            i++;
        if (i == 4 || i >= len || buf[i] != ' ')
            return 0;
        size_t d = i + 1, e = d;
        while (e < len && e < d + 4 && sw__is_digit(buf[e]))
            e++;
        return e - d == 3 && (e == len || buf[e] == ' ' || buf[e] == '\r');
    }
    size_t i = 0;
    while (i < len && i < 64 && SW__IS(buf[i], SW__C_TOKEN))
        i++;
    if (i < 2 || i >= len || buf[i] != ' ')
        return 0;
    /* A request line carries "SIP/" before its end. */
    size_t lim = len < 4096 ? len : 4096;
    for (size_t j = i + 1; j + 4 <= lim; j++) {
        if (buf[j] == '\n')
            return 0;
        if ((buf[j] == 'S' || buf[j] == 's') && caseprefix(buf + j, lim - j, "SIP/", 4))
            return 1;
    }
    return 0;
}

int sw_sip_folded(const sw_sip_msg *m)
{
    return (m->memo & SW__MEMO_FOLDED) != 0;
}

const sw_sip_header *sw_sip_find(const sw_sip_msg *m, const char *name)
{
    size_t n = strlen(name);
    sw_hdr_id id = sw_hdr_lookup(name, n);
    if (id != SW_HDR_OTHER)
        return sw_sip_first(m, id);
    for (uint16_t i = 0; i < m->nhdrs; i++)
        if (m->hdrs[i].id == SW_HDR_OTHER && sw_str_caseeq(m->hdrs[i].name, sw_str_make(name, n)))
            return &m->hdrs[i];
    return NULL;
}
