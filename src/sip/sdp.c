/* A light SDP reader (RFC 4566): o=, c= and m= lines, checked for shape.
 * Lines end in CRLF; a lone LF is tolerated as RFC 4566 §5 asks. */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Splits the next SP-separated field off *s. */
static int field(sw_str *s, sw_str *f)
{
    const char *p = s->ptr, *end = s->ptr + s->len;
    if (p == end)
        return 0;
    const char *q = p; /* fields are short: no call to memchr */
    while (q < end && *q != ' ')
        q++;
    *f = sw_str_make(p, (size_t)(q - p));
    *s = q < end ? sw_str_make(q + 1, (size_t)(end - q - 1)) : sw_str_make(end, 0);
    return f->len > 0;
}

static int parse_c(sw_str v, sw_str *nettype, sw_str *addrtype, sw_str *addr)
{
    if (!field(&v, nettype) || !field(&v, addrtype) || !field(&v, addr) || v.len)
        return SW_EINVAL;
    /* IN IP4 addresses may carry /ttl[/n]; check the address part. */
    if (sw_str_caseeq_cstr(*addrtype, "IP4")) {
        const char *sl = memchr(addr->ptr, '/', addr->len);
        sw_str a = sl ? sw_str_make(addr->ptr, (size_t)(sl - addr->ptr)) : *addr;
        sw_host_type t;
        /* sw__check_host(a, 0): host characters only, then the quad/name rules */
        const char *ae = a.ptr + a.len;
        if (!a.len || sw__span_tab_lim(a.ptr, ae, ae, sw__sip_chars, SW__C_HOST) != ae ||
            sw__check_scanned_host(a.ptr, ae, &t) < 0)
            return SW_EINVAL;
    } else if (sw_str_caseeq_cstr(*addrtype, "IP6")) {
        sw_host_type t;
        const char *sl = memchr(addr->ptr, '/', addr->len);
        sw_str a = sl ? sw_str_make(addr->ptr, (size_t)(sl - addr->ptr)) : *addr;
        if (memchr(a.ptr, ':', a.len) && sw__check_host(a, 1, &t) < 0)
            return SW_EINVAL;
    }
    return SW_OK;
}

/* The first byte of [p, end) that is a control character other than HT
 * (line ends included), or end. */
static const char *first_ctl(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i lim = _mm_set1_epi8(0x1f), tab = _mm_set1_epi8('\t');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(_mm_min_epu8(v, lim), v));
        unsigned mask = (unsigned)_mm_movemask_epi8(ctl);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < end && ((unsigned char)*p >= 0x20 || *p == '\t'))
        p++;
    return p;
}

int sw_sdp_parse(sw_str body, sw_sdp *o, sw_sip_error *err)
{
    return sw__sdp_scan(body, o, err);
}

int sw__sdp_scan(sw_str body, sw_sdp *o, sw_sip_error *err)
{
    body = sw__nonnull(body);
    if (o)
        memset(o, 0, sizeof *o);
    const char *p = body.ptr, *end = body.ptr + body.len;
    int lineno = 0, in_media = 0;
    while (p < end) {
        /* Usually the first control character is the line end: one scan
         * finds it and shows the line holds no other. */
        const char *q = first_ctl(p, end), *eol, *le;
        int clean = 1;
        if (q == end) {
            eol = NULL;
            le = end;
        } else if (*q == '\n') {
            eol = le = q;
        } else if (*q == '\r' && (q + 1 == end || q[1] == '\n')) {
            eol = q + 1 < end ? q + 1 : NULL;
            le = q;
        } else {
            clean = 0;
            eol = memchr(p, '\n', (size_t)(end - p));
            le = eol ? eol : end;
            if (le > p && le[-1] == '\r')
                le--;
        }
        const char *next = eol ? eol + 1 : end;
        size_t off = (size_t)(p - body.ptr);
        lineno++;
        if (le == p) { /* an empty line: only allowed at the very end */
            p = next;
            if (sw__skip_lws(p, end) != end)
                return sw__fail(err, SW_EINVAL, off, "empty line inside SDP");
            break;
        }
        if (le - p < 2 || p[1] != '=' || !(*p >= 'a' && *p <= 'z'))
            return sw__fail(err, SW_EINVAL, off, "SDP line is not <type>=<value>");
        if (lineno == 1 && *p != 'v')
            return sw__fail(err, SW_EINVAL, off, "SDP does not start with v=");
        sw_str v = sw_str_make(p + 2, (size_t)(le - p - 2));
        if (!clean)
            for (size_t i = 0; i < v.len; i++)
                if ((unsigned char)v.ptr[i] < 0x20 && v.ptr[i] != '\t')
                    return sw__fail(err, SW_EINVAL, off + 2 + i, "control character in SDP");
        switch (*p) {
        case 'o': {
            sw_str un, id, ver, nt, at, ad;
            if (!field(&v, &un) || !field(&v, &id) || !field(&v, &ver) || !field(&v, &nt) ||
                !field(&v, &at) || !field(&v, &ad) || v.len)
                return sw__fail(err, SW_EINVAL, off, "SDP o= line needs six fields");
            for (size_t i = 0; i < id.len; i++)
                if (!sw__is_digit(id.ptr[i]))
                    return sw__fail(err, SW_EINVAL, off, "SDP o= session id is not numeric");
            if (o) {
                o->o_username = un;
                o->o_sess_id = id;
                o->o_sess_version = ver;
                o->o_nettype = nt;
                o->o_addrtype = at;
                o->o_addr = ad;
            }
            break;
        }
        case 'c': {
            sw_str nt, at, ad;
            if (parse_c(v, &nt, &at, &ad) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid SDP c= line");
            if (!o)
                break;
            if (in_media && o->nmedia && o->nmedia <= SW_SDP_MAX_MEDIA && !o->media_truncated) {
                o->media[o->nmedia - 1].c_addrtype = at;
                o->media[o->nmedia - 1].c_addr = ad;
            } else if (!in_media) {
                o->c_nettype = nt;
                o->c_addrtype = at;
                o->c_addr = ad;
            }
            break;
        }
        case 'm': {
            sw_sdp_media md;
            md.c_addrtype = md.c_addr = SW_STR_NULL;
            if (!field(&v, &md.media) || !field(&v, &md.port) || !field(&v, &md.proto))
                return sw__fail(err, SW_EINVAL, off, "SDP m= line needs media, port, proto");
            md.fmts = v;
            const char *sl = memchr(md.port.ptr, '/', md.port.len);
            sw_str port = sl ? sw_str_make(md.port.ptr, (size_t)(sl - md.port.ptr)) : md.port;
            uint64_t n;
            if (sw_parse_uint(port, 65535, &n) < 0)
                return sw__fail(err, SW_EINVAL, off, "SDP m= port out of range");
            md.port_num = (uint32_t)n;
            in_media = 1;
            if (!o)
                break;
            if (o->nmedia < SW_SDP_MAX_MEDIA)
                o->media[o->nmedia++] = md;
            else
                o->media_truncated = 1;
            break;
        }
        default:
            break;
        }
        p = next;
    }
    if (lineno == 0)
        return sw__fail(err, SW_EINVAL, 0, "empty SDP");
    return SW_OK;
}
