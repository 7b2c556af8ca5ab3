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
#ifdef __SSE2__
        /* 16 at a time over what needs no decision: anything but DQUOTE,
         * backslash, DEL and control characters other than HT */
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
            sp = _mm_or_si128(sp, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
            __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t')),
                                           _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x));
            unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(sp, ctl));
            if (mask) {
                p += __builtin_ctz(mask);
                break;
            }
            p += 16;
        }
        if (p >= end)
            break;
#endif
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
#ifdef __SSE2__
        /* Skip 16 at a time to the next byte that changes the state (a Via
         * or Record-Route list of a response is ~150 bytes). */
        while (end - q >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
            __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
            sp = _mm_or_si128(sp, _mm_cmpeq_epi8(x, _mm_set1_epi8('<')));
            sp = _mm_or_si128(sp, _mm_cmpeq_epi8(x, _mm_set1_epi8('>')));
            unsigned mask = (unsigned)_mm_movemask_epi8(sp);
            if (mask) {
                q += __builtin_ctz(mask);
                break;
            }
            q += 16;
        }
        if (q >= end)
            break;
#endif
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

/* Case-insensitive compare of a parameter name with a lower-case literal. */
static inline int name_is(sw_str n, const char *lit, size_t len)
{
    return n.len == len && sw_str_caseeq(n, sw_str_make(lit, len));
}

/* The generic-param check of one parameter (errors relative to base). */
static inline int check_one_param(const sw_param *prm, const char *base, sw_sip_error *err)
{
    if (check_token(prm->name) < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(prm->name.ptr - base), "invalid parameter name");
    if (prm->has_value && check_gen_value(prm->value) < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(prm->value.ptr - base), "invalid parameter value");
    return SW_OK;
}

/* Checks every parameter of s; when tag is given, also picks the value of
 * the first "tag" parameter (what sw_param_find would return: the walk is
 * the same one). */
static int check_params(sw_str s, const char *base, sw_sip_error *err, sw_str *tag, int *tag_found)
{
    sw_str cur = s;
    sw_param prm;
    int r;
    while ((r = sw_param_next(&cur, &prm)) > 0) {
        if (check_one_param(&prm, base, err) < 0)
            return SW_EINVAL;
        if (tag && !*tag_found && name_is(prm.name, "tag", 3)) {
            *tag = prm.value;
            *tag_found = 1;
        }
    }
    if (r < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(cur.ptr - base), "empty or malformed parameter");
    return SW_OK;
}

int sw__check_generic_params(sw_str s, sw_sip_error *err)
{
    s = sw__nonnull(s);
    return check_params(s, s.ptr, err, NULL, NULL);
}

/* Parameters after a value: must start with ';' (LWS allowed before).
 * strict: each is checked, and *tag (when given) is found on the way. */
static int take_params(const char *p, const char *end, const char *base, sw_str *params,
                       sw_sip_error *err, int strict, sw_str *tag, int *tag_found)
{
    p = sw__skip_lws(p, end);
    if (p == end) {
        *params = sw_str_make(end, 0);
        return SW_OK;
    }
    if (*p != ';')
        return sw__fail(err, SW_EINVAL, (size_t)(p - base), "unexpected characters after value");
    sw_str all = sw_str_make(p, (size_t)(end - p));
    if (strict && check_params(all, base, err, tag, tag_found) < 0)
        return SW_EINVAL;
    const char *f = sw__skip_lws(p + 1, end);
    *params = sw_str_make(f, (size_t)(end - f));
    return SW_OK;
}

/* ---- the fast path of a strict parse of "<URI>" ----------------------------
 * The common shapes of a URI inside angle brackets, read in one pass:
 * sip/sips with an optional user (no escapes, no password), a hostname or
 * dotted quad, an optional port and parameters without escapes; tel with
 * parameters.  On success u holds what sw__uri_parse(strict) fills for the
 * text up to the first '>', and *gt points at that '>' (u must come in
 * zeroed, as sw__uri_parse leaves it before it fills it).  0 sends the caller
 * to the full parser, which then decides (errors included). */

/* uri-parameters from p (at ';') up to a '>' : *( ";" pname [ "=" pvalue ] )
 * (paramchar has no '%': escapes go to the full parser). */
static const char *fast_uri_params(const char *p, const char *end, const char *limit)
{
    while (p < end && *p == ';') {
        const char *n = ++p;
        p = sw__span_tab_lim(p, end, limit, sw__sip_chars, SW__C_PARAM);
        if (p == n)
            return NULL;
        if (p < end && *p == '=') {
            const char *v = ++p;
            p = sw__span_tab_lim(p, end, limit, sw__sip_chars, SW__C_PARAM);
            if (p == v)
                return NULL;
        }
    }
    return p < end && *p == '>' ? p : NULL;
}

static int fast_angle_uri(const char *us, const char *end, const char *limit, sw_uri *u, const char **gt)
{
    const char *p = us; /* u is all zero (the caller cleared it) */
    if (end - p < 5)
        return 0;
    unsigned kind;
    if ((p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p') {
        if (p[3] == ':') {
            kind = SW_URI_SIP;
            p += 4;
        } else if ((p[3] | 0x20) == 's' && p[4] == ':') {
            kind = SW_URI_SIPS;
            p += 5;
        } else {
            return 0;
        }
    } else if ((p[0] | 0x20) == 't' && (p[1] | 0x20) == 'e' && (p[2] | 0x20) == 'l' && p[3] == ':') {
        kind = SW_URI_TEL;
        p += 4;
    } else {
        return 0;
    }
    u->scheme = sw_str_make(us, (size_t)(p - 1 - us));
    u->kind = (sw_uri_scheme)kind;
    const char *q;
    if (kind == SW_URI_TEL) {
        /* parse_tel_uri: [+] then number characters, at least one digit */
        q = p;
        if (q < end && *q == '+')
            q++;
        int digits = 0;
        while (q < end && SW__IS2(*q, SW__C2_TEL)) {
            digits += *q != '-' && *q != '.' && *q != '(' && *q != ')';
            q++;
        }
        if (!digits)
            return 0;
        u->user = sw_str_make(p, (size_t)(q - p));
        const char *e = fast_uri_params(q, end, limit);
        if (!e)
            return 0;
        if (e > q)
            u->params = sw_str_make(q + 1, (size_t)(e - q - 1));
        u->raw = sw_str_make(us, (size_t)(e - us));
        *gt = e;
        return 1;
    }
    /* userinfo: user characters up to '@' (USER excludes ':' '@' '%' '>').
     * Without one here there is no '@' before '>' at all when the scans
     * below reach '>' (none of their characters is '@'). */
    q = sw__span_tab_lim(p, end, limit, sw__sip_chars, SW__C_USER);
    if (q < end && *q == '@') {
        if (q == p)
            return 0; /* empty user: an error, the full parser says which */
        u->user = sw_str_make(p, (size_t)(q - p));
        p = q + 1;
    }
    /* host: hostname characters; the strict check (sw__check_host_after_scan) inline */
    const char *hs = p;
    p = sw__span_host_lim(p, end, limit);
    if (p == hs || sw__check_scanned_host(hs, p, &u->host_type) < 0)
        return 0;
    u->host = sw_str_make(hs, (size_t)(p - hs));
    if (p < end && *p == ':') {
        const char *d = ++p;
        uint32_t port = 0;
        while (p < end && sw__is_digit(*p) && port <= 65535)
            port = port * 10 + (uint32_t)(*p++ - '0');
        if (p == d || port > 65535)
            return 0;
        u->port = (uint16_t)port;
        u->has_port = 1;
    }
    const char *e = fast_uri_params(p, end, limit);
    if (!e)
        return 0;
    if (e > p)
        u->params = sw_str_make(p + 1, (size_t)(e - p - 1));
    u->raw = sw_str_make(us, (size_t)(e - us));
    *gt = e;
    return 1;
}

/* ---- fast paths of the strict parsers ----------------------------------------
 * Each reads the common shape of a value in one pass and fills the output
 * exactly as the full strict parser would; anything else (LWS inside,
 * escapes, quoted values where they are rare, errors) returns 0 and the
 * full parser runs from the start and decides. */

/* Header parameters from p (at ';') to end, no LWS: ";" token [ "=" ( gen-value
 * / quoted-string ) ], each passing the generic-param check.  Sets *tag
 * (when given) to the first tag= (what sw_param_find would find).  1 when
 * all of [p, end) was read. */
static int fast_params(const char *p, const char *end, const char *limit, sw_str *tag, int *tag_found,
                       sw__pcap *cap)
{
    while (p < end) {
        if (*p != ';')
            return 0;
        const char *n = ++p;
        p = sw__span_tab_lim(p, end, limit, sw__sip_chars, SW__C_TOKEN);
        if (p == n)
            return 0;
        sw_str name = sw_str_make(n, (size_t)(p - n)), value = SW_STR_NULL;
        if (p < end && *p == '=') {
            const char *v = ++p;
            if (p < end && *p == '"') {
                p = sw__scan_quoted(p, end);
                if (!p)
                    return 0;
            } else {
                p = sw__span_tab_lim(p, end, limit, sw__sip_chars2, SW__C2_GENV);
                if (p == v)
                    return 0;
            }
            value = sw_str_make(v, (size_t)(p - v));
        }
        if (tag && !*tag_found && name_is(name, "tag", 3)) {
            *tag = value;
            *tag_found = 1;
        }
        if (cap && !cap->found && name_is(name, cap->name, cap->len)) {
            cap->value = value;
            cap->found = 1;
        }
    }
    return 1;
}

/* "<URI>" or a quoted display name and "<URI>", then parameters. */
static int fast_nameaddr(sw_str v, sw_nameaddr *o, int want_tag, const char *limit, sw__pcap *cap)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    if (v.len < 2 || (unsigned char)end[-1] <= ' ')
        return 0;
    memset(o, 0, sizeof *o);
    const char *lt = p;
    if (*p == '"') {
        const char *q = sw__scan_quoted(p, end);
        if (!q)
            return 0;
        o->display = sw_str_make(p + 1, (size_t)(q - p - 2));
        o->display_quoted = 1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        lt = q;
    } else {
        o->display = sw_str_make(p, 0); /* what the token-display branch leaves for "<…" */
    }
    if (lt == end || *lt != '<')
        return 0;
    const char *gt;
    if (!fast_angle_uri(lt + 1, end, limit, &o->uri, &gt))
        return 0;
    o->angle = 1;
    const char *after = gt + 1;
    sw_str tag = SW_STR_NULL;
    int tag_found = 0;
    if (cap)
        cap->found = 0;
    if (!fast_params(after, end, limit, want_tag ? &tag : NULL, &tag_found, cap))
        return 0;
    o->params = after == end ? sw_str_make(end, 0) : sw_str_make(after + 1, (size_t)(end - after - 1));
    if (tag_found)
        o->tag = tag;
    return 1;
}

int sw__nameaddr_parse(sw_str v, sw_nameaddr *o, sw_sip_error *err, int flags)
{
    v = sw__nonnull(v);
    return sw__nameaddr_parse_lim(v, o, err, flags, v.ptr + v.len, NULL);
}

int sw__nameaddr_parse_lim(sw_str v, sw_nameaddr *o, sw_sip_error *err, int flags, const char *limit,
                           sw__pcap *cap)
{
    const int strict = flags & SW__STRICT;
    v = sw__nonnull(v);
    if (cap)
        cap->done = 0;
    if (strict && fast_nameaddr(v, o, !(flags & SW__NO_TAG), limit, cap)) {
        if (cap)
            cap->done = 1;
        return SW_OK;
    }
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
    const int want_tag = !(flags & SW__NO_TAG);
    sw_str tag = SW_STR_NULL;
    int tag_found = 0;
    int r = take_params(after, end, base, &o->params, err, strict, want_tag ? &tag : NULL, &tag_found);
    if (r < 0)
        return r;
    if (want_tag) {
        if (strict) {
            if (tag_found)
                o->tag = tag;
        } else if (sw_param_find(o->params, "tag", &tag)) {
            o->tag = tag;
        }
    }
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

/* What a Via parameter sets (branch, received, rport, ttl, maddr). */
static int via_param(sw_via *o, const sw_param *prm, const char *base, sw_sip_error *err)
{
    size_t off = (size_t)(prm->name.ptr - base);
    switch (prm->name.len) {
    case 6:
        if (name_is(prm->name, "branch", 6)) {
            if (!prm->has_value || check_token(prm->value) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid Via branch");
            o->branch = prm->value;
        }
        break;
    case 8:
        if (name_is(prm->name, "received", 8)) {
            sw_host_type t;
            sw_str a = prm->value;
            if (!prm->has_value)
                return sw__fail(err, SW_EINVAL, off, "Via received without a value");
            int br = a.len > 2 && a.ptr[0] == '[' && a.ptr[a.len - 1] == ']';
            if (br)
                a = sw_str_make(a.ptr + 1, a.len - 2);
            /* RFC 5118 allows a bare IPv6 address here. */
            int v6 = !br && memchr(a.ptr, ':', a.len) != NULL;
            if (sw__check_host(a, br || v6, &t) < 0 || t == SW_HOST_NAME)
                return sw__fail(err, SW_EINVAL, off, "Via received is not an IP address");
            o->received = prm->value;
        }
        break;
    case 5:
        if (name_is(prm->name, "rport", 5)) {
            o->has_rport = 1;
            if (prm->has_value) {
                uint64_t n;
                if (sw_parse_uint(prm->value, 65535, &n) < 0)
                    return sw__fail(err, SW_EINVAL, off, "invalid Via rport");
                o->rport = (int32_t)n;
            }
        } else if (name_is(prm->name, "maddr", 5)) {
            sw_host_type t;
            if (!prm->has_value || sw__check_host(prm->value, 0, &t) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid Via maddr");
            o->maddr = prm->value;
        }
        break;
    case 3:
        if (name_is(prm->name, "ttl", 3)) {
            uint64_t n;
            if (!prm->has_value || sw_parse_uint(prm->value, 255, &n) < 0)
                return sw__fail(err, SW_EINVAL, off, "invalid Via ttl");
            o->ttl = prm->value;
        }
        break;
    default:
        break;
    }
    return SW_OK;
}

/* A strict parse that fails on a generic parameter error leaves what a
 * parse that never reached the Via-specific walk leaves. */
static void via_reset(sw_via *o)
{
    o->params = o->branch = o->received = o->maddr = o->ttl = SW_STR_NULL;
    o->has_rport = 0;
    o->rport = -1;
}

/* "proto/version/transport SP host[:port][;params]" with no LWS but the one
 * run of spaces, no IPv6 reference, and parameters fast_params reads;
 * branch and rport are taken here, received / maddr / ttl go to the full
 * parser. */
static int fast_via(sw_str v, sw_via *o, const char *limit)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    if (v.len == 0 || (unsigned char)end[-1] <= ' ')
        return 0;
    memset(o, 0, sizeof *o);
    o->rport = -1;
    const char *tok[3];
    const char *q = p;
    for (int i = 0; i < 3; i++) {
        if (i && (q == end || *q++ != '/'))
            return 0;
        tok[i] = q;
        q = sw__span_tab_lim(q, end, limit, sw__sip_chars, SW__C_TOKEN);
        if (q == tok[i])
            return 0;
    }
    o->protocol = sw_str_make(p, (size_t)(tok[2] - 1 - p));
    o->transport = sw_str_make(tok[2], (size_t)(q - tok[2]));
    if (q == end || (*q != ' ' && *q != '\t'))
        return 0;
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    const char *hs = q;
    q = sw__span_host_lim(q, end, limit);
    if (q == hs || sw__check_scanned_host(hs, q, &o->host_type) < 0)
        return 0;
    o->host = sw_str_make(hs, (size_t)(q - hs));
    if (q < end && *q == ':') {
        const char *d = ++q;
        uint32_t port = 0;
        while (q < end && sw__is_digit(*q) && port <= 65535)
            port = port * 10 + (uint32_t)(*q++ - '0');
        if (q == d || port > 65535)
            return 0;
        o->port = (uint16_t)port;
        o->has_port = 1;
    }
    if (q == end) {
        o->params = sw_str_make(end, 0);
        return 1;
    }
    const char *ps = q;
    while (q < end) {
        if (*q != ';')
            return 0;
        const char *n = ++q;
        q = sw__span_tab_lim(q, end, limit, sw__sip_chars, SW__C_TOKEN);
        sw_str name = sw_str_make(n, (size_t)(q - n));
        if (!name.len)
            return 0;
        sw_str value = SW_STR_NULL;
        int token_value = 1;
        if (q < end && *q == '=') {
            const char *val = ++q;
            /* a token, then any further gen-value characters (: [ ]) */
            q = sw__span_tab_lim(q, end, limit, sw__sip_chars, SW__C_TOKEN);
            if (q < end && SW__IS2(*q, SW__C2_GENV)) {
                token_value = 0;
                q = sw__span_tab_lim(q, end, limit, sw__sip_chars2, SW__C2_GENV);
            }
            if (q == val)
                return 0;
            value = sw_str_make(val, (size_t)(q - val));
        }
        switch (name.len) {
        case 6:
            if (name_is(name, "branch", 6)) {
                if (!value.ptr || !token_value)
                    return 0;
                o->branch = value;
            }
            break;
        case 5:
            if (name_is(name, "rport", 5)) {
                o->has_rport = 1;
                if (value.ptr) {
                    uint64_t n64;
                    if (sw_parse_uint(value, 65535, &n64) < 0)
                        return 0;
                    o->rport = (int32_t)n64;
                }
            } else if (name_is(name, "maddr", 5)) {
                return 0;
            }
            break;
        case 8:
            if (name_is(name, "received", 8))
                return 0;
            break;
        case 3:
            if (name_is(name, "ttl", 3))
                return 0;
            break;
        default:
            break;
        }
    }
    o->params = sw_str_make(ps + 1, (size_t)(end - ps - 1));
    return 1;
}

int sw__via_parse(sw_str v, sw_via *o, sw_sip_error *err, int strict)
{
    v = sw__nonnull(v);
    return sw__via_parse_lim(v, o, err, strict, v.ptr + v.len);
}

int sw__via_parse_lim(sw_str v, sw_via *o, sw_sip_error *err, int strict, const char *limit)
{
    v = sw__nonnull(v);
    if (strict && fast_via(v, o, limit))
        return SW_OK;
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
    if ((strict || bracketed || he == hs) && sw__check_host_after_scan(o->host, bracketed, &o->host_type) < 0)
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
    if (!strict) {
        int r = take_params(p, end, base, &o->params, err, 0, NULL, NULL);
        if (r < 0)
            return r;
        sw_str cur = o->params;
        sw_param prm;
        while (sw_param_next(&cur, &prm) > 0) {
            r = via_param(o, &prm, base, err);
            if (r < 0)
                return r;
        }
        return SW_OK;
    }
    /* strict: one walk does the generic check of every parameter and the
     * Via-specific one; as in two walks, a generic error anywhere wins
     * over a Via-specific one, which is kept back until the end */
    p = sw__skip_lws(p, end);
    if (p == end) {
        o->params = sw_str_make(end, 0);
        return SW_OK;
    }
    if (*p != ';')
        return sw__fail(err, SW_EINVAL, (size_t)(p - base), "unexpected characters after value");
    sw_str cur = sw_str_make(p, (size_t)(end - p));
    sw_param prm;
    sw_sip_error via_err = {0, 0, NULL};
    int r, vr = SW_OK;
    while ((r = sw_param_next(&cur, &prm)) > 0) {
        if (check_one_param(&prm, base, err) < 0) {
            via_reset(o);
            return SW_EINVAL;
        }
        if (vr == SW_OK)
            vr = via_param(o, &prm, base, &via_err);
    }
    if (r < 0) {
        via_reset(o);
        return sw__fail(err, SW_EINVAL, (size_t)(cur.ptr - base), "empty or malformed parameter");
    }
    const char *f = sw__skip_lws(p + 1, end);
    o->params = sw_str_make(f, (size_t)(end - f));
    if (vr < 0) {
        if (err)
            *err = via_err;
        return vr;
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
    uint64_t n = 0;
    int range = 0; /* sw_parse_uint's bound, on the way */
    for (; p < end && sw__is_digit(*p); p++) {
        uint64_t dg = (uint64_t)(*p - '0');
        if (n > (UINT32_MAX - dg) / 10)
            range = 1;
        else if (!range)
            n = n * 10 + dg;
    }
    if (p == d)
        return sw__fail(err, SW_EINVAL, (size_t)(d - v.ptr), "CSeq without a sequence number");
    if (range)
        return sw__fail(err, SW_ERANGE, (size_t)(d - v.ptr), "CSeq number larger than 2^32-1");
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
    int r = take_params(p, end, base, &o->params, err, 1, NULL, NULL);
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
    return take_params(p, end, base, &o->params, err, 1, NULL, NULL);
}
