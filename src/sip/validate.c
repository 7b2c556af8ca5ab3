/* Lazy typed accessors and the full message check (sw_sip_validate). */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

void sw_sip_values_init(sw_sip_values *it, const sw_sip_msg *m, sw_hdr_id id)
{
    it->m = m;
    it->hdr = m->first[id];
    it->list = (sw_hdr_flags(id) & SW_HF_LIST) != 0;
    it->rest = it->hdr != SW_HDR_NONE ? m->hdrs[it->hdr].value : SW_STR_NULL;
}

int sw_sip_values_next(sw_sip_values *it, sw_str *value, sw_sip_error *err)
{
    while (it->hdr != SW_HDR_NONE) {
        if (it->list) {
            if (sw__list_next(&it->rest, value)) {
                if (value->len == 0)
                    return sw__fail(err, SW_EINVAL, (size_t)(value->ptr - it->m->buf),
                                    "empty element in a header list");
                return 1;
            }
        } else if (it->rest.ptr) {
            *value = it->rest;
            it->rest = SW_STR_NULL;
            return 1;
        }
        it->hdr = it->m->hdrs[it->hdr].next;
        it->rest = it->hdr != SW_HDR_NONE ? it->m->hdrs[it->hdr].value : SW_STR_NULL;
    }
    return 0;
}

static int missing(sw_sip_error *err, const char *reason)
{
    return sw__fail(err, SW_EMISSING, 0, reason);
}

static int first_value(sw_sip_msg *m, sw_hdr_id id, sw_str *v, sw_sip_error *err)
{
    sw_sip_values it;
    sw_sip_values_init(&it, m, id);
    int r = sw_sip_values_next(&it, v, err);
    if (r == 0)
        return missing(err, "header missing or empty");
    return r < 0 ? r : SW_OK;
}

int sw_sip_top_via(sw_sip_msg *m, const sw_via **out, sw_sip_error *err)
{
    if (!(m->memo & SW_MEMO_VIA)) {
        sw_str v;
        int r = first_value(m, SW_HDR_VIA, &v, err);
        if (r < 0)
            return r;
        r = sw__via_parse(v, &m->top_via, err, 0);
        if (r < 0) {
            sw__rebase(err, m->buf, v.ptr);
            return r;
        }
        m->memo |= SW_MEMO_VIA;
    }
    *out = &m->top_via;
    return SW_OK;
}

static int memo_nameaddr(sw_sip_msg *m, sw_hdr_id id, uint32_t bit, sw_nameaddr *slot,
                         const sw_nameaddr **out, sw_sip_error *err)
{
    if (!(m->memo & bit)) {
        sw_str v;
        int r = first_value(m, id, &v, err);
        if (r < 0)
            return r;
        r = sw__nameaddr_parse(v, slot, err, (id == SW_HDR_FROM || id == SW_HDR_TO) ? 0 : SW__NO_TAG);
        if (r < 0) {
            sw__rebase(err, m->buf, v.ptr);
            return r;
        }
        m->memo |= bit;
    }
    *out = slot;
    return SW_OK;
}

int sw_sip_from(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err)
{
    return memo_nameaddr(m, SW_HDR_FROM, SW_MEMO_FROM, &m->from, out, err);
}
int sw_sip_to(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err)
{
    return memo_nameaddr(m, SW_HDR_TO, SW_MEMO_TO, &m->to, out, err);
}
int sw_sip_contact(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err)
{
    return memo_nameaddr(m, SW_HDR_CONTACT, SW_MEMO_CONTACT, &m->contact, out, err);
}
int sw_sip_pai(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err)
{
    return memo_nameaddr(m, SW_HDR_P_ASSERTED_IDENTITY, SW_MEMO_PAI, &m->pai, out, err);
}
int sw_sip_route(sw_sip_msg *m, const sw_nameaddr **out, sw_sip_error *err)
{
    return memo_nameaddr(m, SW_HDR_ROUTE, SW_MEMO_ROUTE, &m->route, out, err);
}

int sw_sip_cseq(sw_sip_msg *m, const sw_cseq **out, sw_sip_error *err)
{
    if (!(m->memo & SW_MEMO_CSEQ)) {
        const sw_sip_header *h = sw_sip_first(m, SW_HDR_CSEQ);
        if (!h)
            return missing(err, "missing CSeq header");
        int r = sw_cseq_parse(h->value, &m->cseq, err);
        if (r < 0) {
            sw__rebase(err, m->buf, h->value.ptr);
            return r;
        }
        m->memo |= SW_MEMO_CSEQ;
    }
    *out = &m->cseq;
    return SW_OK;
}

int sw_sip_ruri(sw_sip_msg *m, const sw_uri **out, sw_sip_error *err)
{
    if (!m->is_request)
        return missing(err, "a response has no Request-URI");
    if (!(m->memo & SW_MEMO_RURI)) {
        int r = sw__uri_parse(m->ruri, &m->ruri_parsed, err, 0);
        if (r < 0) {
            sw__rebase(err, m->buf, m->ruri.ptr);
            return r;
        }
        m->memo |= SW_MEMO_RURI;
    }
    *out = &m->ruri_parsed;
    return SW_OK;
}

int sw_sip_call_id(const sw_sip_msg *m, sw_str *out)
{
    const sw_sip_header *h = sw_sip_first(m, SW_HDR_CALL_ID);
    if (!h)
        return SW_EMISSING;
    *out = h->value;
    return SW_OK;
}

static int memo_uint(sw_sip_msg *m, sw_hdr_id id, uint32_t bit, int64_t *slot, uint64_t max,
                     int64_t *out, sw_sip_error *err, const char *what)
{
    if (!(m->memo & bit)) {
        const sw_sip_header *h = sw_sip_first(m, id);
        if (!h)
            return missing(err, "header missing");
        uint64_t n;
        int r = sw_parse_uint(h->value, max, &n);
        if (r < 0)
            return sw__fail(err, r, h->offset, what);
        *slot = (int64_t)n;
        m->memo |= bit;
    }
    *out = *slot;
    return SW_OK;
}

int sw_sip_max_forwards(sw_sip_msg *m, int64_t *out, sw_sip_error *err)
{
    return memo_uint(m, SW_HDR_MAX_FORWARDS, SW_MEMO_MAXFWD, &m->max_forwards, 255, out, err,
                     "Max-Forwards is not a number from 0 to 255");
}

int sw_sip_expires(sw_sip_msg *m, int64_t *out, sw_sip_error *err)
{
    return memo_uint(m, SW_HDR_EXPIRES, SW_MEMO_EXPIRES, &m->expires, UINT32_MAX, out, err,
                     "Expires is not a number from 0 to 2^32-1");
}

int sw_sip_via_count(const sw_sip_msg *m, sw_sip_error *err)
{
    sw_sip_values it;
    sw_sip_values_init(&it, m, SW_HDR_VIA);
    sw_str v;
    int n = 0, r;
    while ((r = sw_sip_values_next(&it, &v, err)) > 0)
        n++;
    return r < 0 ? r : n;
}

/* ---- sw_sip_validate ----------------------------------------------------- */

static int at_value(sw_sip_msg *m, sw_str v, int r, sw_sip_error *err)
{
    sw__rebase(err, m->buf, v.ptr);
    return r;
}

typedef int (*value_check)(sw_sip_msg *m, sw_str v, sw_sip_error *err);

static int each_value(sw_sip_msg *m, sw_hdr_id id, value_check fn, sw_sip_error *err)
{
    sw_sip_values it;
    sw_sip_values_init(&it, m, id);
    sw_str v;
    int r;
    while ((r = sw_sip_values_next(&it, &v, err)) > 0) {
        r = fn(m, v, err);
        if (r < 0)
            return r;
    }
    return r;
}

static int check_nameaddr(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_nameaddr na;
    int r = sw_nameaddr_parse(v, &na, err);
    if (r < 0)
        return at_value(m, v, r, err);
    if (na.wildcard)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "'*' is only allowed in Contact");
    return SW_OK;
}

static int check_route(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_nameaddr na;
    int r = sw_nameaddr_parse(v, &na, err);
    if (r < 0)
        return at_value(m, v, r, err);
    if (!na.angle)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "route value must be <URI>");
    return SW_OK;
}

static int check_contact(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_nameaddr na;
    int r = sw_nameaddr_parse(v, &na, err);
    if (r < 0)
        return at_value(m, v, r, err);
    sw_str ex;
    if (sw_param_find(na.params, "expires", &ex)) {
        uint64_t n;
        if (sw_parse_uint(ex, UINT32_MAX, &n) < 0)
            return sw__fail(err, SW_ERANGE, (size_t)((ex.ptr ? ex.ptr : v.ptr) - m->buf),
                            "Contact expires is not a number from 0 to 2^32-1");
    }
    return SW_OK;
}

static int check_via(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_via via;
    int r = sw_via_parse(v, &via, err);
    return r < 0 ? at_value(m, v, r, err) : SW_OK;
}

static int check_auth(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_auth a;
    int r = sw_auth_parse(v, &a, err);
    return r < 0 ? at_value(m, v, r, err) : SW_OK;
}

static int check_identity(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_identity id;
    int r = sw_identity_parse(v, &id, err);
    return r < 0 ? at_value(m, v, r, err) : SW_OK;
}

static int check_media_type(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    sw_media_type mt;
    int r = sw_media_type_parse(v, &mt, err);
    return r < 0 ? at_value(m, v, r, err) : SW_OK;
}

static int check_u32(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    uint64_t n;
    int r = sw_parse_uint(v, UINT32_MAX, &n);
    if (r < 0)
        return sw__fail(err, r == SW_ERANGE ? SW_ERANGE : SW_EINVAL, (size_t)(v.ptr - m->buf),
                        "value is not a number from 0 to 2^32-1");
    return SW_OK;
}

/* delta-seconds followed by parameters (Session-Expires, Min-SE). */
static int check_delta_params(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    const char *semi = memchr(v.ptr, ';', v.len);
    sw_str num = semi ? sw_str_make(v.ptr, (size_t)(semi - v.ptr)) : v;
    int r = check_u32(m, num, err);
    if (r < 0)
        return r;
    if (semi && sw__check_generic_params(sw_str_make(semi, (size_t)(v.ptr + v.len - semi)), err) < 0)
        return at_value(m, sw_str_make(semi, 0), SW_EINVAL, err);
    return SW_OK;
}

/* Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) */
static int check_retry_after(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    const char *d = p;
    while (p < end && sw__is_digit(*p))
        p++;
    int r = check_u32(m, sw_str_make(d, (size_t)(p - d)), err);
    if (r < 0)
        return r;
    p = sw__skip_lws(p, end);
    if (p < end && *p == '(') {
        int depth = 0;
        for (; p < end; p++) {
            if (*p == '\\' && p + 1 < end) {
                p++;
                continue;
            }
            if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
        if (depth)
            return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "unterminated comment in Retry-After");
    }
    p = sw__skip_lws(p, end);
    if (p < end && (*p != ';' || sw__check_generic_params(sw_str_make(p, (size_t)(end - p)), err) < 0))
        return sw__fail(err, SW_EINVAL, (size_t)(p - m->buf), "invalid Retry-After parameters");
    return SW_OK;
}

/* warning-value = warn-code SP warn-agent SP warn-text; warn-code = 3DIGIT */
static int check_warning(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    if (v.len < 5 || !sw__is_digit(v.ptr[0]) || !sw__is_digit(v.ptr[1]) || !sw__is_digit(v.ptr[2]) ||
        v.ptr[3] != ' ')
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "Warning code is not three digits");
    const char *q = memchr(v.ptr + 4, ' ', v.len - 4);
    if (!q || q + 1 >= v.ptr + v.len || q[1] != '"' || sw__scan_quoted(q + 1, v.ptr + v.len) != v.ptr + v.len)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "Warning without agent and quoted text");
    return SW_OK;
}

/* rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17) */
static int check_date(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    static const char *const wk[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *p = v.ptr;
    int ok = v.len == 29 && p[3] == ',' && p[4] == ' ' && p[7] == ' ' && p[11] == ' ' &&
             p[16] == ' ' && p[19] == ':' && p[22] == ':' && p[25] == ' ' && memcmp(p + 26, "GMT", 3) == 0;
    if (ok) {
        static const int digits[] = {5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24};
        for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++)
            ok &= sw__is_digit(p[digits[i]]);
        int w = 0, mo = 0;
        for (int i = 0; i < 7; i++)
            w |= memcmp(p, wk[i], 3) == 0;
        for (int i = 0; i < 12; i++)
            mo |= memcmp(p + 8, mon[i], 3) == 0;
        ok &= w && mo;
    }
    if (!ok)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf),
                        "Date is not an RFC 1123 date in GMT");
    return SW_OK;
}

/* Call-ID = word [ "@" word ] */
static int check_call_id(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    int at = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '@' && !at && i > 0 && i + 1 < v.len) {
            at = 1;
            continue;
        }
        if (!SW__IS(v.ptr[i], SW__C_WORD))
            return sw__fail(err, SW_EINVAL, (size_t)(v.ptr + i - m->buf), "invalid character in Call-ID");
    }
    if (v.len == 0)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "empty Call-ID");
    return SW_OK;
}

/* RAck = response-num LWS CSeq-num LWS Method */
static int check_rack(sw_sip_msg *m, sw_str v, sw_sip_error *err)
{
    const char *p = v.ptr, *end = v.ptr + v.len, *d = p;
    while (p < end && sw__is_digit(*p))
        p++;
    if (check_u32(m, sw_str_make(d, (size_t)(p - d)), err) < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "invalid RAck");
    sw_cseq cs;
    if (sw_cseq_parse(sw_str_make(p, (size_t)(end - p)), &cs, err) < 0)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "invalid RAck");
    return SW_OK;
}

/* Header values are UTF-8 text: no control characters except HT and the
 * CRLF of a fold, unless escaped as a quoted-pair; multi-byte sequences
 * must be well-formed. */
static int check_text(sw_sip_msg *m, const sw_sip_header *h, sw_sip_error *err)
{
    const unsigned char *p = (const unsigned char *)h->value.ptr, *end = p + h->value.len;
    while (p < end) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x7f) {
            p++;
            continue;
        }
        if (c == '\t') {
            p++;
            continue;
        }
        if (c == '\r' && end - p >= 3 && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
            p += 3;
            continue;
        }
        if (c < 0x80 && p > (const unsigned char *)h->value.ptr && p[-1] == '\\' && c != '\r' && c != '\n') {
            p++;
            continue;
        }
        if (c < 0x80)
            return sw__fail(err, SW_EINVAL, (size_t)((const char *)p - m->buf),
                            "control character in header value");
        unsigned n = c >= 0xf0 && c <= 0xf4 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c <= 0xdf ? 1 : 0;
        if (c >= 0xf5)
            n = 0;
        if (!n || end - p <= (long)n)
            goto bad;
        for (unsigned i = 1; i <= n; i++)
            if ((p[i] & 0xc0) != 0x80)
                goto bad;
        /* overlongs and surrogates */
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
            (c == 0xf4 && p[1] > 0x8f))
            goto bad;
        p += n + 1;
        continue;
    bad:
        return sw__fail(err, SW_EINVAL, (size_t)((const char *)p - m->buf), "invalid UTF-8 in header value");
    }
    return SW_OK;
}

static const struct {
    sw_hdr_id id;
    value_check fn;
} typed_checks[] = {
    {SW_HDR_VIA, check_via},
    {SW_HDR_FROM, check_nameaddr},
    {SW_HDR_TO, check_nameaddr},
    {SW_HDR_CALL_ID, check_call_id},
    {SW_HDR_CONTACT, check_contact},
    {SW_HDR_ROUTE, check_route},
    {SW_HDR_RECORD_ROUTE, check_route},
    {SW_HDR_PATH, check_route},
    {SW_HDR_SERVICE_ROUTE, check_route},
    {SW_HDR_P_ASSERTED_IDENTITY, check_nameaddr},
    {SW_HDR_P_PREFERRED_IDENTITY, check_nameaddr},
    {SW_HDR_REFER_TO, check_nameaddr},
    {SW_HDR_REFERRED_BY, check_nameaddr},
    {SW_HDR_CONTENT_TYPE, check_media_type},
    {SW_HDR_AUTHORIZATION, check_auth},
    {SW_HDR_PROXY_AUTHORIZATION, check_auth},
    {SW_HDR_WWW_AUTHENTICATE, check_auth},
    {SW_HDR_PROXY_AUTHENTICATE, check_auth},
    {SW_HDR_IDENTITY, check_identity},
    {SW_HDR_EXPIRES, check_u32},
    {SW_HDR_MIN_EXPIRES, check_u32},
    {SW_HDR_RSEQ, check_u32},
    {SW_HDR_RACK, check_rack},
    {SW_HDR_SESSION_EXPIRES, check_delta_params},
    {SW_HDR_MIN_SE, check_delta_params},
    {SW_HDR_RETRY_AFTER, check_retry_after},
    {SW_HDR_WARNING, check_warning},
    {SW_HDR_DATE, check_date},
};

int sw_sip_validate(sw_sip_msg *m, sw_sip_error *err)
{
    static const struct {
        sw_hdr_id id;
        const char *reason;
    } mandatory[] = {
        {SW_HDR_VIA, "missing Via header"},       {SW_HDR_FROM, "missing From header"},
        {SW_HDR_TO, "missing To header"},         {SW_HDR_CALL_ID, "missing Call-ID header"},
        {SW_HDR_CSEQ, "missing CSeq header"},
    };
    for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++)
        if (m->first[mandatory[i].id] == SW_HDR_NONE)
            return sw__fail(err, SW_EMISSING, m->header_len ? m->header_len - 2 : 0, mandatory[i].reason);

    for (int id = 1; id < SW_HDR__COUNT; id++) {
        const sw_sip_header *h = sw_sip_first(m, (sw_hdr_id)id);
        if (h && h->next != SW_HDR_NONE && (sw_hdr_flags((sw_hdr_id)id) & SW_HF_SINGLE))
            return sw__fail(err, SW_ECONFLICT, m->hdrs[h->next].offset,
                            "single-value header appears more than once");
    }

    int r;
    if (m->is_request) {
        const sw_uri *u;
        if ((r = sw_sip_ruri(m, &u, err)) < 0)
            return r;
        if ((u->kind == SW_URI_SIP || u->kind == SW_URI_SIPS) && u->headers.len)
            return sw__fail(err, SW_EINVAL, (size_t)(u->headers.ptr - m->buf),
                            "escaped headers in Request-URI");
    }

    for (size_t i = 0; i < sizeof typed_checks / sizeof typed_checks[0]; i++)
        if (m->first[typed_checks[i].id] != SW_HDR_NONE &&
            (r = each_value(m, typed_checks[i].id, typed_checks[i].fn, err)) < 0)
            return r;

    int nvia = sw_sip_via_count(m, err);
    if (nvia < 0)
        return nvia;
    if (nvia == 0)
        return sw__fail(err, SW_EMISSING, m->hdrs[m->first[SW_HDR_VIA]].offset, "empty Via header");
    if (nvia > m->max_via)
        return sw__fail(err, SW_ELIMIT, m->hdrs[m->first[SW_HDR_VIA]].offset, "too many Via values");

    const sw_cseq *cs;
    if ((r = sw_sip_cseq(m, &cs, err)) < 0)
        return r;
    if (m->is_request && !sw_str_eq(cs->method_name, m->method_name))
        return sw__fail(err, SW_EINVAL, m->hdrs[m->first[SW_HDR_CSEQ]].offset,
                        "CSeq method does not match the request method");

    if (m->first[SW_HDR_MAX_FORWARDS] != SW_HDR_NONE) {
        int64_t mf;
        if ((r = sw_sip_max_forwards(m, &mf, err)) < 0)
            return r;
    }

    for (uint16_t i = 0; i < m->nhdrs; i++)
        if ((r = check_text(m, &m->hdrs[i], err)) < 0)
            return r;

    /* An SDP body is parsed too: a broken offer is as malformed as a broken header. */
    const sw_sip_header *ct = sw_sip_first(m, SW_HDR_CONTENT_TYPE);
    if (ct && m->body.len) {
        sw_media_type mt;
        if (sw_media_type_parse(ct->value, &mt, NULL) == SW_OK &&
            sw_str_caseeq_cstr(mt.type, "application") && sw_str_caseeq_cstr(mt.subtype, "sdp")) {
            sw_sdp sdp;
            if ((r = sw_sdp_parse(m->body, &sdp, err)) < 0)
                return at_value(m, m->body, r, err);
        }
    }
    return SW_OK;
}
