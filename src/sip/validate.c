/* Lazy typed accessors and the full message check (sw_sip_validate). */
#include "sipwall/sip.h"
#include "sip/chars.h"
#include "sip/internal.h"

#ifdef __SSE2__
#include <ctype.h>
#include <emmintrin.h>
#endif

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

/* What the checks of one header's values share: the value's position, and
 * what a check read that a later step of sw_sip_validate uses again. */
typedef struct vstate {
    sw_sip_msg *m;
    sw_hdr_id id;
    unsigned idx;          /* index of the value among all values of the id */
    sw_media_type ct;      /* Content-Type as checked */
} vstate;

typedef int (*value_check)(vstate *vs, sw_str v, sw_sip_error *err);

/* 1 for the header ids whose values are comma-separated lists (SW_HF_LIST). */
static const uint8_t list_value[SW_HDR__COUNT] = {
#define SW__LIST(id, name, compact, flags) [SW_HDR_##id] = ((flags) & SW_HF_LIST) != 0,
    SW_HEADER_LIST(SW__LIST)
#undef SW__LIST
};

/* Calls fn on every value of the id, in the order sw_sip_values_next gives
 * them.  Returns the number of values checked, or the first error. */
static int each_value(vstate *vs, sw_hdr_id id, value_check fn, sw_sip_error *err)
{
    const sw_sip_msg *m = vs->m;
    const int list = list_value[id];
    int r;
    vs->id = id;
    vs->idx = 0;
    for (uint16_t hi = m->first[id]; hi != SW_HDR_NONE; hi = m->hdrs[hi].next) {
        sw_str v = m->hdrs[hi].value;
        /* A value is trimmed of LWS at both ends (sw_sip_parse): a list
         * value without a comma is one element, or none when empty. */
        if (!list || !memchr(v.ptr, ',', v.len)) {
            if (list && !v.len)
                continue;
            if ((r = fn(vs, v, err)) < 0)
                return r;
            vs->idx++;
            continue;
        }
        sw_str rest = v, e;
        while (sw__list_next(&rest, &e)) {
            if (e.len == 0)
                return sw__fail(err, SW_EINVAL, (size_t)(e.ptr - m->buf), "empty element in a header list");
            if ((r = fn(vs, e, err)) < 0)
                return r;
            vs->idx++;
        }
    }
    return (int)vs->idx;
}

/* The strict parse of a header's first value is what the lazy accessor
 * would read, plus checks: when it passes, its result becomes the memo, so
 * the accessors do not parse the value again.  Two things the lazy parse
 * reports differently are set as it would: the type of a host it did not
 * check (from the characters alone), and no tag= outside From and To. */
static void lazy_uri_host_type(sw_uri *u)
{
    /* a valid dotted quad (IPV4) has a digit up front in its last label,
     * which is what the lazy parse looks at; IPV6 is bracketed, checked by both */
    if ((u->kind == SW_URI_SIP || u->kind == SW_URI_SIPS) && u->host_type == SW_HOST_NAME && u->host.len)
        u->host_type = sw__scanned_host_type(u->host.ptr, u->host.ptr + u->host.len);
}

static sw_nameaddr *nameaddr_memo(sw_sip_msg *m, sw_hdr_id id, uint32_t *bit)
{
    switch (id) {
    case SW_HDR_FROM: *bit = SW_MEMO_FROM; return &m->from;
    case SW_HDR_TO: *bit = SW_MEMO_TO; return &m->to;
    case SW_HDR_CONTACT: *bit = SW_MEMO_CONTACT; return &m->contact;
    case SW_HDR_P_ASSERTED_IDENTITY: *bit = SW_MEMO_PAI; return &m->pai;
    case SW_HDR_ROUTE: *bit = SW_MEMO_ROUTE; return &m->route;
    default: return NULL;
    }
}

/* Strict parse of one name-addr value into *out; the first value of a
 * memoised header lands in the memo.  SW_OK or the error (offset in the
 * message). */
static int strict_nameaddr(vstate *vs, sw_str v, sw_nameaddr *tmp, const sw_nameaddr **out,
                           sw_sip_error *err, sw__pcap *cap)
{
    sw_sip_msg *m = vs->m;
    uint32_t bit = 0;
    sw_nameaddr *slot = vs->idx == 0 ? nameaddr_memo(m, vs->id, &bit) : NULL;
    if (slot && (m->memo & bit))
        slot = NULL;
    sw_nameaddr *o = slot ? slot : tmp;
    int keep_tag = slot && (vs->id == SW_HDR_FROM || vs->id == SW_HDR_TO);
    int r = sw__nameaddr_parse_lim(v, o, err, SW__STRICT | (keep_tag ? 0 : SW__NO_TAG), m->buf + m->len,
                                   cap);
    if (r < 0)
        return at_value(m, v, r, err);
    if (slot) {
        lazy_uri_host_type(&slot->uri);
        m->memo |= bit;
    }
    *out = o;
    return SW_OK;
}

static int check_nameaddr(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_nameaddr tmp;
    const sw_nameaddr *na;
    int r = strict_nameaddr(vs, v, &tmp, &na, err, NULL);
    if (r < 0)
        return r;
    if (na->wildcard)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - vs->m->buf), "'*' is only allowed in Contact");
    return SW_OK;
}

static int check_route(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_nameaddr tmp;
    const sw_nameaddr *na;
    int r = strict_nameaddr(vs, v, &tmp, &na, err, NULL);
    if (r < 0)
        return r;
    if (!na->angle)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - vs->m->buf), "route value must be <URI>");
    return SW_OK;
}

static int check_contact(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    sw_nameaddr tmp;
    const sw_nameaddr *na;
    sw__pcap cap = {"expires", 7, SW_STR_NULL, 0, 0};
    int r = strict_nameaddr(vs, v, &tmp, &na, err, &cap);
    if (r < 0)
        return r;
    sw_str ex = cap.value;
    if (cap.done ? cap.found : sw_param_find(na->params, "expires", &ex)) {
        uint64_t n;
        if (sw_parse_uint(ex, UINT32_MAX, &n) < 0)
            return sw__fail(err, SW_ERANGE, (size_t)((ex.ptr ? ex.ptr : v.ptr) - m->buf),
                            "Contact expires is not a number from 0 to 2^32-1");
    }
    return SW_OK;
}

static int check_via(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    sw_via tmp;
    /* the top Via becomes the memo (see lazy_uri_host_type) */
    int memo = vs->idx == 0 && !(m->memo & SW_MEMO_VIA);
    sw_via *o = memo ? &m->top_via : &tmp;
    int r = sw__via_parse_lim(v, o, err, 1, m->buf + m->len);
    if (r < 0)
        return at_value(m, v, r, err);
    if (memo) {
        if (o->host_type == SW_HOST_NAME && o->host.len)
            o->host_type = sw__scanned_host_type(o->host.ptr, o->host.ptr + o->host.len);
        m->memo |= SW_MEMO_VIA;
    }
    return SW_OK;
}

static int check_auth(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    sw_auth a;
    int r = sw_auth_parse(v, &a, err);
    return r < 0 ? at_value(m, v, r, err) : SW_OK;
}

static int check_identity(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    sw_identity id;
    int r = sw_identity_parse(v, &id, err);
    return r < 0 ? at_value(m, v, r, err) : SW_OK;
}

static int check_media_type(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    int r = sw_media_type_parse(v, &vs->ct, err);
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

static int check_u32_value(vstate *vs, sw_str v, sw_sip_error *err)
{
    return check_u32(vs->m, v, err);
}

/* delta-seconds followed by parameters (Session-Expires, Min-SE). */
static int check_delta_params(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
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
static int check_retry_after(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
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
static int check_warning(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    if (v.len < 5 || !sw__is_digit(v.ptr[0]) || !sw__is_digit(v.ptr[1]) || !sw__is_digit(v.ptr[2]) ||
        v.ptr[3] != ' ')
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "Warning code is not three digits");
    const char *q = memchr(v.ptr + 4, ' ', v.len - 4);
    if (!q || q + 1 >= v.ptr + v.len || q[1] != '"' || sw__scan_quoted(q + 1, v.ptr + v.len) != v.ptr + v.len)
        return sw__fail(err, SW_EINVAL, (size_t)(v.ptr - m->buf), "Warning without agent and quoted text");
    return SW_OK;
}

/* rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17) */
static int check_date(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
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
static int check_call_id(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
    /* word chars, and at most one '@' with words on both sides */
    const char *end = v.ptr + v.len, *limit = m->buf + m->len;
    const char *q = sw__span_tab_lim(v.ptr, end, limit, sw__sip_chars, SW__C_WORD);
    if (q < end && *q == '@' && q > v.ptr && q + 1 < end)
        q = sw__span_tab_lim(q + 1, end, limit, sw__sip_chars, SW__C_WORD);
    if (q == end && v.len)
        return SW_OK;
    int at = 0; /* the rest finds the error */
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
static int check_rack(vstate *vs, sw_str v, sw_sip_error *err)
{
    sw_sip_msg *m = vs->m;
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
    {SW_HDR_EXPIRES, check_u32_value},
    {SW_HDR_MIN_EXPIRES, check_u32_value},
    {SW_HDR_RSEQ, check_u32_value},
    {SW_HDR_RACK, check_rack},
    {SW_HDR_SESSION_EXPIRES, check_delta_params},
    {SW_HDR_MIN_SE, check_delta_params},
    {SW_HDR_RETRY_AFTER, check_retry_after},
    {SW_HDR_WARNING, check_warning},
    {SW_HDR_DATE, check_date},
};

/* 1 for the header ids that allow one value only (SW_HF_SINGLE). */
static const uint8_t single_value[SW_HDR__COUNT] = {
#define SW__SINGLE(id, name, compact, flags) [SW_HDR_##id] = ((flags) & SW_HF_SINGLE) != 0,
    SW_HEADER_LIST(SW__SINGLE)
#undef SW__SINGLE
};

/* 1 when every byte of [p, p+n) is printable ASCII or HT: then check_text
 * has nothing to say about it.  16 bytes per step; `limit` is the end of
 * the readable buffer (a short value is read as 16 bytes when they are
 * there, the bytes past it masked off). */
static int plain_text(const char *p, size_t n, const char *limit)
{
#ifdef __SSE2__
    if (n < 16 && limit - p >= 16) {
        const __m128i lo = _mm_set1_epi8(0x1f), hi = _mm_set1_epi8(0x7f), tab = _mm_set1_epi8('\t');
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(_mm_min_epu8(v, lo), v));
        __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(v, hi), v);
        unsigned bad = (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, high));
        return (bad & ((1u << n) - 1)) == 0;
    }
    if (n >= 16) {
        const __m128i lo = _mm_set1_epi8(0x1f), hi = _mm_set1_epi8(0x7f), tab = _mm_set1_epi8('\t');
        const char *end = p + n;
        for (;;) {
            /* the last step overlaps the one before instead of a scalar tail */
            const char *q = end - p >= 16 ? p : end - 16;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
            __m128i ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(_mm_min_epu8(v, lo), v));
            __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(v, hi), v);
            if (_mm_movemask_epi8(_mm_or_si128(ctl, high)))
                return 0;
            if (q + 16 >= end)
                return 1;
            p = q + 16;
        }
    }
#endif
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f)
            return 0;
    }
    return 1;
}

#define N_TYPED (sizeof typed_checks / sizeof typed_checks[0])
_Static_assert(N_TYPED <= 32, "a bit per typed check");

/* Per header id, the bit of its entry in typed_checks (0: none); built once. */
static uint32_t typed_bit[SW_HDR__COUNT];

__attribute__((constructor)) static void build_typed_bits(void)
{
    for (unsigned i = 0; i < N_TYPED; i++)
        typed_bit[typed_checks[i].id] |= 1u << i;
}

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

    /* A single-value header seen twice: the lowest such id is reported, at
     * its second occurrence.  In message order, the first header of an id
     * with a successor is that id's first occurrence. */
    unsigned dup_id = SW_HDR__COUNT;
    uint32_t dup_off = 0, typed_present = 0;
    for (uint16_t i = 0; i < m->nhdrs; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        if (h->next != SW_HDR_NONE && h->id < dup_id && single_value[h->id]) {
            dup_id = h->id;
            dup_off = m->hdrs[h->next].offset;
        }
        typed_present |= typed_bit[h->id];
    }
    if (dup_id != SW_HDR__COUNT)
        return sw__fail(err, SW_ECONFLICT, dup_off, "single-value header appears more than once");

    int r;
    if (m->is_request) {
        const sw_uri *u;
        if ((r = sw_sip_ruri(m, &u, err)) < 0)
            return r;
        if ((u->kind == SW_URI_SIP || u->kind == SW_URI_SIPS) && u->headers.len)
            return sw__fail(err, SW_EINVAL, (size_t)(u->headers.ptr - m->buf),
                            "escaped headers in Request-URI");
        /* RFC 3261 §25.1: escaped = "%" HEXDIG HEXDIG; a user with a broken
         * escape cannot be compared or routed (sipwall assess SIP-ROBUST-01) */
        if (u->kind == SW_URI_SIP || u->kind == SW_URI_SIPS)
            for (size_t i = 0; i < u->user.len; i++)
                if (u->user.ptr[i] == '%' &&
                    (i + 2 >= u->user.len || !isxdigit((unsigned char)u->user.ptr[i + 1]) ||
                     !isxdigit((unsigned char)u->user.ptr[i + 2])))
                    return sw__fail(err, SW_EINVAL, (size_t)(u->user.ptr + i - m->buf),
                                    "broken %-escape in Request-URI user");
    }

    vstate vs;
    vs.m = m;
    int nvia = 0;
    /* the typed checks of the ids present, in the table's order */
    for (uint32_t todo = typed_present; todo; todo &= todo - 1) {
        unsigned i = (unsigned)__builtin_ctz(todo);
        if ((r = each_value(&vs, typed_checks[i].id, typed_checks[i].fn, err)) < 0)
            return r;
        if (typed_checks[i].id == SW_HDR_VIA)
            nvia = r; /* what sw_sip_via_count would count: the same walk */
    }

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

    for (uint16_t i = 0; i < m->nhdrs; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        if (!plain_text(h->value.ptr, h->value.len, m->buf + m->len) && (r = check_text(m, h, err)) < 0)
            return r;
    }

    /* An SDP body is parsed too: a broken offer is as malformed as a broken header.
     * Content-Type, when present, passed its typed check above: vs.ct is its value. */
    const sw_sip_header *ct = sw_sip_first(m, SW_HDR_CONTENT_TYPE);
    if (ct && m->body.len && sw_str_caseeq_cstr(vs.ct.type, "application") &&
        sw_str_caseeq_cstr(vs.ct.subtype, "sdp")) {
        if ((r = sw__sdp_scan(m->body, NULL, err)) < 0)
            return at_value(m, m->body, r, err);
    }
    return SW_OK;
}
