/* Our own answers (RFC 3261 §8.2.6, §16.2 stateless) and reason phrases. */
#include "proxy/proxy_int.h"
#include "proxy/siphash.h"

/* RFC 3261 §21, plus the codes sipwall answers with from other RFCs. */
static const struct {
    uint16_t code;
    const char *phrase;
} phrases[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {199, "Early Dialog Terminated"},       /* RFC 6228 */
    {200, "OK"},
    {202, "Accepted"},                      /* RFC 3265 */
    {204, "No Notification"},               /* RFC 5839 */
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {412, "Conditional Request Failed"},    /* RFC 3903 */
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {417, "Unknown Resource-Priority"},     /* RFC 4412 */
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {422, "Session Interval Too Small"},    /* RFC 4028 */
    {423, "Interval Too Brief"},
    {428, "Use Identity Header"},           /* RFC 8224 */
    {429, "Provide Referrer Identity"},     /* RFC 3892 */
    {433, "Anonymity Disallowed"},          /* RFC 5079 */
    {436, "Bad Identity Info"},             /* RFC 8224 */
    {437, "Unsupported Credential"},        /* RFC 8224 */
    {438, "Invalid Identity Header"},       /* RFC 8224 */
    {470, "Consent Needed"},                /* RFC 5360 */
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},                     /* RFC 6665 */
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {494, "Security Agreement Required"},   /* RFC 3329 */
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {580, "Precondition Failure"},          /* RFC 3312 */
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
    {607, "Unwanted"},                      /* RFC 8197 */
    {608, "Rejected"},                      /* RFC 8688 */
};

const char *sw_sip_reason_phrase(uint16_t status)
{
    size_t lo = 0, hi = sizeof phrases / sizeof phrases[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (phrases[mid].code == status)
            return phrases[mid].phrase;
        if (phrases[mid].code < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return "";
}

/* ;tag= in a raw From/To value whose parse failed (after the URI). */
static sw_str raw_tag(sw_str v)
{
    const char *p = v.ptr, *end = v.ptr + v.len;
    const char *gt = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '>')
            gt = q;
    if (gt)
        p = gt + 1;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi)
            break;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p > 4 && sw_str_caseeq_cstr(sw_str_make(p, 3), "tag")) {
            const char *q = p + 3;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q < end && *q == '=') {
                q++;
                while (q < end && (*q == ' ' || *q == '\t'))
                    q++;
                const char *s = q;
                while (q < end && *q != ';' && *q != ' ' && *q != '\t' && *q != '\r')
                    q++;
                return sw_str_make(s, (size_t)(q - s));
            }
        }
    }
    return sw_str_make(v.ptr, 0);
}

/* The tags of From and To, parsed when possible, else found in the raw value. */
static sw_str from_tag(sw_sip_msg *m)
{
    const sw_nameaddr *na;
    if (sw_sip_from(m, &na, NULL) == 0)
        return na->tag;
    const sw_sip_header *h = sw_sip_first(m, SW_HDR_FROM);
    return h ? raw_tag(h->value) : SW_STR_NULL;
}

static int to_has_tag(sw_sip_msg *m, const sw_sip_header *to)
{
    const sw_nameaddr *na;
    if (sw_sip_to(m, &na, NULL) == 0)
        return sw_param_find(na->params, "tag", NULL);
    return raw_tag(to->value).len > 0;
}

int px_reply_tag(const sw_proxy *p, sw_sip_msg *m, char out[PX_TAG_LEN])
{
    sw_str cid = SW_STR_NULL, branch = SW_STR_NULL;
    if (sw_sip_call_id(m, &cid) < 0)
        return SW_EMISSING;
    uint32_t cseq = 0;
    const sw_cseq *cs;
    if (sw_sip_cseq(m, &cs, NULL) == 0) {
        cseq = cs->number;
    } else {
        const sw_sip_header *h = sw_sip_first(m, SW_HDR_CSEQ);
        for (size_t i = 0; h && i < h->value.len && h->value.ptr[i] >= '0' &&
                           h->value.ptr[i] <= '9' && i < 10;
             i++)
            cseq = cseq * 10 + (uint32_t)(h->value.ptr[i] - '0');
    }
    const sw_via *tv;
    if (sw_sip_top_via(m, &tv, NULL) == 0)
        branch = tv->branch;
    sw_str ft = from_tag(m);
    sw__siphash s;
    sw__siphash_init(&s, p->hash_key);
    sw__siphash_update(&s, "T", 1);
    sw__siphash_field(&s, cid.ptr, cid.len);
    sw__siphash_field(&s, ft.ptr, ft.len);
    sw__siphash_update(&s, &cseq, sizeof cseq);
    sw__siphash_field(&s, branch.ptr, branch.len);
    uint64_t hv = sw__siphash_final(&s);
    static const char hex[] = "0123456789abcdef";
    out[0] = 's';
    out[1] = 'w';
    for (int i = 0; i < 16; i++)
        out[2 + i] = hex[(hv >> (60 - 4 * i)) & 15];
    return SW_OK;
}

static int reason_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return 0;
    return 1;
}

/* A header line as written, name included. */
static void copy_line(px_out *o, const sw_sip_msg *m, const sw_sip_header *h)
{
    unsigned i = (unsigned)(h - m->hdrs);
    px_put(o, m->buf + h->offset, px_line_end(m, i) - h->offset);
}

long sw_proxy_reply(sw_proxy *p, sw_sip_msg *req, const sw_addr *src, uint16_t status,
                    const char *reason, uint32_t retry_after_s, char *out, size_t cap)
{
    if (!req->is_request || req->method == SW_METHOD_ACK || status < 100 || status > 699)
        return SW_EINVAL;
    const sw_sip_header *via = sw_sip_first(req, SW_HDR_VIA),
                        *from = sw_sip_first(req, SW_HDR_FROM), *to = sw_sip_first(req, SW_HDR_TO),
                        *cid = sw_sip_first(req, SW_HDR_CALL_ID),
                        *cseq = sw_sip_first(req, SW_HDR_CSEQ);
    if (!via || !from || !to || !cid || !cseq)
        return SW_EINVAL;
    if (!reason || !reason_ok(reason))
        reason = sw_sip_reason_phrase(status);

    px_out o = {out, cap, 0, 0};
    PX_LIT(&o, "SIP/2.0 ");
    px_uint(&o, status);
    PX_LIT(&o, " ");
    px_put(&o, reason, strlen(reason));
    PX_LIT(&o, "\r\n");

    const sw_via *tv;
    for (const sw_sip_header *h = via; h; h = sw_sip_next(req, h)) {
        if (h == via && sw_sip_top_via(req, &tv, NULL) == 0) {
            sw_str rest = h->value, v;
            if (px_list_next(&rest, &v)) {
                PX_LIT(&o, "Via: ");
                px_out_top_via(&o, v, tv, src, 0);
                if (rest.len) {
                    PX_LIT(&o, ", ");
                    px_str(&o, rest);
                }
                PX_LIT(&o, "\r\n");
                continue;
            }
        }
        copy_line(&o, req, h);
    }
    copy_line(&o, req, from);
    PX_LIT(&o, "To: ");
    px_str(&o, to->value);
    if (status > 100 && !to_has_tag(req, to)) {
        char tag[PX_TAG_LEN];
        if (px_reply_tag(p, req, tag) == 0) {
            PX_LIT(&o, ";tag=");
            px_put(&o, tag, PX_TAG_LEN);
        }
    }
    PX_LIT(&o, "\r\n");
    copy_line(&o, req, cid);
    copy_line(&o, req, cseq);
    if (retry_after_s > 0) {
        PX_LIT(&o, "Retry-After: ");
        px_uint(&o, retry_after_s);
        PX_LIT(&o, "\r\n");
    }
    PX_LIT(&o, "Content-Length: 0\r\n\r\n");
    if (o.err)
        return o.err;
    return (long)o.len;
}
