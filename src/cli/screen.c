/* The per-message screening hook: today malformed-message detection.
 *
 * Malformed input (a framing, parse or validation error) gets one
 * sip_malformed event, category cat1 (never valid on any interface), rule
 * "sip.malformed".  The action follows specs/detections.md D4: a request
 * whose top Via can still be read is rejected with 400 (action "reject",
 * action_status 400, or 505 for an unsupported SIP version: the sender
 * learns why, and a 400 is no larger than the
 * request, so no amplification); anything else (responses, requests without
 * a usable Via to answer to, bytes without a start line) is dropped
 * silently, as there is nobody to answer safely.  Blocking repeat offenders
 * (D4: 5 in 60 s) is the detectors' job, not this hook's.
 *
 * The event names the offset and the parser's reason and carries whatever
 * identity could still be read (method or status, Call-ID, From/To/PAI
 * numbers, request-URI): from the parser's index when only validation
 * failed, else from a bounded best-effort line scan. */
#include "screen.h"

#include <stdio.h>
#include <stdlib.h>

#define SALVAGE_MAX_BYTES 65536u /* scanned of an unparsable message */
#define SALVAGE_MAX_LINES 512u
#define NEAR_BYTES 40u           /* message bytes quoted from the error offset */

struct cli_screener {
    sw_sip_limits lim;
    sw_event_sink *sink;
    sw_sip_header *hdrs;
    uint16_t cap;
    sw_sip_msg msg;
    sw_event ev;
    char reason[320];
};

/* What could be read of a message's identity, as written. */
typedef struct ident {
    uint8_t kind;
    uint8_t via_ok;               /* the top Via parsed: a reply could be routed */
    sw_str method;
    uint16_t status;
    sw_str ruri;                  /* the request-URI */
    sw_str call_id, from, to, pai; /* whole header values */
    sw_str via;                   /* salvage: the first Via header value */
} ident;

cli_screener *cli_screener_new(const sw_sip_limits *lim, sw_event_sink *sink)
{
    cli_screener *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (lim)
        s->lim = *lim;
    else
        sw_sip_limits_default(&s->lim);
    s->cap = s->lim.max_headers ? s->lim.max_headers : 1;
    s->hdrs = calloc(s->cap, sizeof *s->hdrs);
    if (!s->hdrs) {
        free(s);
        return NULL;
    }
    s->sink = sink;
    return s;
}

void cli_screener_free(cli_screener *s)
{
    if (!s)
        return;
    free(s->hdrs);
    free(s);
}

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
static void salvage(const char *d, size_t len, ident *id)
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
                id->kind = CLI_MSG_RESPONSE;
                id->status = (uint16_t)code;
            }
        }
    } else {
        const char *sp = memchr(p, ' ', n);
        if (sp && sp > p && sp - p <= 32) {
            id->kind = CLI_MSG_REQUEST;
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
static void from_index(sw_sip_msg *m, ident *id)
{
    const sw_nameaddr *na;
    const sw_uri *u;
    const sw_sip_header *h;
    sw_sip_error e;
    const sw_via *via;
    id->kind = m->is_request ? CLI_MSG_REQUEST : CLI_MSG_RESPONSE;
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

static const char *stage_name(int stage)
{
    return stage == 0 ? "framing" : stage == 1 ? "parse" : "validate";
}

static int emit_malformed(cli_screener *s, const char *data, size_t len, const cli_meta *meta,
                          const ident *id, const sw_sip_error *err, int code, int stage)
{
    sw_event *ev = &s->ev;
    const char *why = err->reason ? err->reason : sw_strerror(code);
    int n = snprintf(s->reason, sizeof s->reason, "offset %zu: %s", err->offset, why);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof s->reason)
        n = (int)sizeof s->reason - 1;

    sw_event_init(ev, SW_EVT_SIP_MALFORMED, SW_CAT_CAT1, "sip.malformed");
    ev->ts_ns = meta->ts_ns;
    if (id->kind == CLI_MSG_REQUEST && id->via_ok) {
        ev->action = SW_ACTION_REJECT;
        ev->action_status = code == SW_EVERSION ? 505 : 400; /* 505: RFC 3261 21.5.6 */
    } else {
        ev->action = SW_ACTION_DROP;
    }
    ev->confidence = 100; /* the bytes themselves are the proof */
    ev->reason = sw_str_make(s->reason, (size_t)n);
    ev->src = meta->src;
    ev->dst = meta->dst;
    ev->transport = meta->transport;
    if (id->kind == CLI_MSG_REQUEST)
        ev->method = id->method;
    else if (id->kind == CLI_MSG_RESPONSE)
        ev->status = id->status;
    ev->call_id = id->call_id;
    ev->from = id->from;
    ev->to = id->to;
    ev->pai = id->pai;
    ev->ruri = id->ruri;
    ev->frame = meta->frame;
    ev->file = meta->file;

    (void)sw_event_add_str(ev, "stage", sw_str_make(stage_name(stage), strlen(stage_name(stage))));
    (void)sw_event_add_str(ev, "error", sw_str_make(sw_errname(code), strlen(sw_errname(code))));
    (void)sw_event_add_num(ev, "offset", (int64_t)err->offset);
    (void)sw_event_add_num(ev, "bytes", (int64_t)len);
    if (err->offset < len) {
        size_t k = len - err->offset < NEAR_BYTES ? len - err->offset : NEAR_BYTES;
        (void)sw_event_add_str(ev, "near", sw_str_make(data + err->offset, k));
    }
    if (!s->sink)
        return SW_OK;
    return sw_event_emit(s->sink, ev);
}

int cli_screen(cli_screener *s, const char *data, size_t len, const cli_meta *meta,
               cli_verdict *v)
{
    sw_sip_msg *m = &s->msg;
    sw_sip_error err;
    ident id;
    int stage = -1, code = SW_OK, parsed = 0;
    static const char empty[1] = "";

    memset(v, 0, sizeof *v);
    memset(&id, 0, sizeof id);
    memset(&err, 0, sizeof err);
    v->action = SW_ACTION_ALLOW;
    if (!data) {
        data = empty; /* a zero-length payload still gets a verdict */
        len = 0;
    }

    if (meta->framing_error && meta->framing_error->code != 0) {
        stage = 0;
        code = meta->framing_error->code;
        err = *meta->framing_error;
        /* The framer refused it; indexing it as a datagram still recovers
         * the identity fields when the headers are intact. */
        sw_sip_error ignored;
        parsed = sw_sip_parse(m, s->hdrs, s->cap, data, len, SW_SIP_DATAGRAM, &s->lim,
                              &ignored) > 0;
    } else {
        long r = sw_sip_parse(m, s->hdrs, s->cap, data, len, meta->framing, &s->lim, &err);
        if (r <= 0) {
            stage = 1;
            code = r < 0 ? (int)r : SW_EINVAL;
        } else {
            parsed = 1;
            int vr = sw_sip_validate(m, &err);
            if (vr != SW_OK) {
                stage = 2;
                code = vr;
            }
        }
    }

    if (parsed)
        from_index(m, &id);
    else
        salvage(data, len, &id);
    v->kind = id.kind;
    v->method = id.method;
    v->status = id.status;

    if (stage < 0)
        return SW_OK; /* the engine's policy and detectors will run here */

    /* salvage() kept whole header values; reduce them to numbers, and see
     * whether the top Via could route a 400. */
    if (!parsed) {
        if (id.kind == CLI_MSG_REQUEST && id.via.len) {
            const char *comma = memchr(id.via.ptr, ',', id.via.len);
            sw_via via;
            sw_sip_error ve;
            sw_str top = comma ? trim(id.via.ptr, comma) : id.via;
            id.via_ok = sw_via_parse(top, &via, &ve) == SW_OK;
        }
        id.from = value_number(id.from);
        id.to = value_number(id.to);
        id.pai = value_number(id.pai);
        id.ruri = id.ruri.len ? crude_number(id.ruri) : id.ruri;
    }
    v->malformed = 1;
    v->malformed_reason = err.reason ? err.reason : sw_strerror(code);
    v->rule = "sip.malformed";
    int r = emit_malformed(s, data, len, meta, &id, &err, code, stage);
    v->action = s->ev.action;
    v->reject_status = s->ev.action_status;
    if (r == SW_OK)
        v->events++;
    return r;
}
