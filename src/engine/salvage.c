/* Identity of a message the parser refused: whatever can still be read
 * (method or status, Call-ID, From/To/PAI numbers, request-URI), from the
 * parser's index when only validation failed, else from a bounded
 * best-effort line scan — so a malformed-message event still says who. */
#include <string.h>

#include "engine/engine_int.h"

#define SALVAGE_MAX_BYTES 65536u /* scanned of an unparsable message */
#define SALVAGE_MAX_LINES 512u

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static sw_str trim(const char *b, const char *e)
{
    while (b < e && is_ws(*b))
        b++;
    while (e > b && is_ws(e[-1]))
        e--;
    return sw_str_make(b, (size_t)(e - b));
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Best-effort reading of an unparsable message: the start line, then header
 * lines up to the first empty line, LF or CRLF endings, folded lines
 * ignored.  Bounded in bytes and lines; never reads past len. */
static void salvage(const char *d, size_t len, sw__ident *id)
{
    const char *end = d + (len < SALVAGE_MAX_BYTES ? len : SALVAGE_MAX_BYTES);
    const char *p = d;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    if (le > p && le[-1] == '\r')
        le--;
    size_t n = (size_t)(le - p);

    if (n >= 12 && memcmp(p, "SIP/", 4) == 0) {
        const char *sp = memchr(p, ' ', n);
        if (sp && le - sp >= 4 && is_digit(sp[1]) && is_digit(sp[2]) && is_digit(sp[3]) &&
            (le - sp == 4 || sp[4] == ' ')) {
            unsigned code = (unsigned)(sp[1] - '0') * 100 + (unsigned)(sp[2] - '0') * 10 +
                            (unsigned)(sp[3] - '0');
            if (code >= 100 && code <= 699) {
                id->kind = 2;
                id->status = (uint16_t)code;
            }
        }
    } else {
        const char *sp = memchr(p, ' ', n);
        if (sp && sp > p && sp - p <= 32) {
            id->kind = 1;
            id->method = sw_str_make(p, (size_t)(sp - p));
            const char *u = sp;
            while (u < le && is_ws(*u))
                u++;
            const char *ue = u;
            while (ue < le && !is_ws(*ue))
                ue++;
            id->ruri = sw_str_make(u, (size_t)(ue - u));
        }
    }

    p = nl ? nl + 1 : end;
    for (unsigned lines = 0; p < end && lines < SALVAGE_MAX_LINES; lines++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        le = nl ? nl : end;
        if (le > p && le[-1] == '\r')
            le--;
        if (le == p)
            break; /* the empty line: headers end */
        const char *colon = is_ws(*p) ? NULL : memchr(p, ':', (size_t)(le - p));
        if (colon) {
            sw_str name = trim(p, colon);
            sw_str value = trim(colon + 1, le);
            sw_str *slot = NULL;
            switch (sw_hdr_lookup(name.ptr, name.len)) {
            case SW_HDR_CALL_ID: slot = &id->call_id; break;
            case SW_HDR_FROM: slot = &id->from; break;
            case SW_HDR_TO: slot = &id->to; break;
            case SW_HDR_P_ASSERTED_IDENTITY: slot = &id->pai; break;
            case SW_HDR_VIA: slot = &id->via; break;
            default: break;
            }
            if (slot && slot->len == 0)
                *slot = value;
        }
        p = nl ? nl + 1 : end;
    }
}

static sw_str uri_number(const sw_uri *u)
{
    return u->user.len ? u->user : u->raw;
}

/* The user part of the URI in a header value the parser refused: inside
 * <> when there are brackets (see find_uri_bracket), after sip:/sips:/tel:, up to '@' (sip)
 * or ';'.  Falls back to the value itself. */
/* The '<' that opens the URI of a name-addr: the first one outside quoted
 * display names (a display name can hold a fake "<sip:...>", e.g. a CRLF
 * injection); if a quote is never closed, the last '<' inside it. */
static const char *find_uri_bracket(const char *b, const char *e)
{
    int quoted = 0;
    const char *last_lt = NULL;
    for (const char *p = b; p < e; p++) {
        if (quoted) {
            if (*p == '\\' && p + 1 < e)
                p++;
            else if (*p == '"')
                quoted = 0;
            else if (*p == '<')
                last_lt = p;
        } else if (*p == '"') {
            quoted = 1;
        } else if (*p == '<') {
            return p;
        }
    }
    return quoted ? last_lt : NULL;
}

static sw_str crude_number(sw_str v)
{
    const char *b = v.ptr, *e = v.ptr + v.len;
    const char *lt = v.len ? find_uri_bracket(b, e) : NULL;
    if (lt) {
        b = lt + 1;
        const char *gt = memchr(b, '>', (size_t)(e - b));
        if (gt)
            e = gt;
    }
    sw_str uri = trim(b, e);
    size_t skip = 0;
    int sip = 0;
    if (uri.len > 4 && sw_str_caseeq_cstr(sw_str_make(uri.ptr, 4), "sip:")) {
        skip = 4;
        sip = 1;
    } else if (uri.len > 5 && sw_str_caseeq_cstr(sw_str_make(uri.ptr, 5), "sips:")) {
        skip = 5;
        sip = 1;
    } else if (uri.len > 4 && sw_str_caseeq_cstr(sw_str_make(uri.ptr, 4), "tel:")) {
        skip = 4;
    } else {
        return uri.len ? uri : v;
    }
    const char *u = uri.ptr + skip, *ue = uri.ptr + uri.len;
    const char *stop = u;
    while (stop < ue && *stop != (sip ? '@' : ';') && *stop != '>' && !is_ws(*stop))
        stop++;
    if (sip && (stop == ue || *stop != '@'))
        return uri; /* no user part */
    return stop > u ? sw_str_make(u, (size_t)(stop - u)) : uri;
}

static sw_str value_number(sw_str v)
{
    sw_nameaddr na;
    sw_sip_error e;
    if (v.len == 0)
        return v;
    if (sw_nameaddr_parse(v, &na, &e) == SW_OK)
        return uri_number(&na.uri);
    return crude_number(v);
}

/* Identity from the parser's index (only validation failed): the typed
 * accessors where they succeed, else the raw values. */
static void from_index(sw_sip_msg *m, sw__ident *id)
{
    const sw_nameaddr *na;
    const sw_uri *u;
    const sw_sip_header *h;
    sw_sip_error e;
    const sw_via *via;
    id->kind = m->is_request ? 1 : 2;
    id->via_ok = sw_sip_top_via(m, &via, &e) == SW_OK;
    if (m->is_request)
        id->method = m->method_name;
    else
        id->status = m->status;
    if (sw_sip_call_id(m, &id->call_id) != SW_OK)
        id->call_id = SW_STR_NULL;
    if (m->is_request)
        id->ruri = sw_sip_ruri(m, &u, &e) == SW_OK ? uri_number(u) : crude_number(m->ruri);
    if (sw_sip_from(m, &na, &e) == SW_OK)
        id->from = uri_number(&na->uri);
    else if ((h = sw_sip_first(m, SW_HDR_FROM)))
        id->from = crude_number(h->value);
    if (sw_sip_to(m, &na, &e) == SW_OK)
        id->to = uri_number(&na->uri);
    else if ((h = sw_sip_first(m, SW_HDR_TO)))
        id->to = crude_number(h->value);
    if (sw_sip_pai(m, &na, &e) == SW_OK)
        id->pai = uri_number(&na->uri);
    else if ((h = sw_sip_first(m, SW_HDR_P_ASSERTED_IDENTITY)))
        id->pai = crude_number(h->value);
}


void sw__ident_build(sw_engine *e, const sw_engine_msg *in, int parsed)
{
    sw__ident *id = &e->ident;
    memset(id, 0, sizeof *id);
    if (parsed) {
        from_index(&e->msg, id);
        return;
    }
    if (in->data && in->len)
        salvage(in->data, in->len, id);
    /* salvage() kept whole header values; reduce them to numbers, and see
     * whether the top Via could route a 400. */
    if (id->kind == 1 && id->via.len) {
        const char *comma = memchr(id->via.ptr, ',', id->via.len);
        sw_via via;
        sw_sip_error ve;
        sw_str top = comma ? trim(id->via.ptr, comma) : id->via;
        id->via_ok = sw_via_parse(top, &via, &ve) == SW_OK;
    }
    id->from = value_number(id->from);
    id->to = value_number(id->to);
    id->pai = value_number(id->pai);
    id->ruri = id->ruri.len ? crude_number(id->ruri) : id->ruri;
}
