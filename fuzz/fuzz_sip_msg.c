/* fuzz_sip_msg — libFuzzer target for the SIP message path.
 *
 * The input is one buffer as it would arrive in a datagram or at the head of
 * a TCP stream.  It is parsed with both framings under small limits (so the
 * limit paths are reachable within -max_len=8192), then every typed accessor
 * runs before and after sw_sip_validate (fresh and memoised paths), every
 * header's values are iterated and typed, the body goes through the SDP
 * reader, and sw_sip_frame must agree with the stream parse on where the
 * message ends.  See fuzz_common.h for the contracts checked on top of ASan
 * and UBSan. */
#include "fuzz_common.h"

/* Smaller than the defaults on purpose; the header array is smaller than
 * max_headers so that both ceilings get hit. */
enum { FZ_HDR_CAP = 32 };
static const sw_sip_limits fz_limits = {
    .max_msg_size = 6000,
    .max_header_len = 700,
    .max_headers = 40,
    .max_via = 6,
};

/* The index sw_sip_parse built must be self-consistent and point into the input. */
static void check_index(const sw_sip_msg *m, long n, uint16_t cap, sw_sip_framing framing)
{
    FZ_CHECK(n > 0 && (size_t)n <= fz_len);
    FZ_CHECK(m->buf != NULL);
    fz_view(sw_str_make(m->buf, m->len));
    FZ_CHECK(m->header_len <= m->len);
    FZ_CHECK(m->len <= fz_limits.max_msg_size);
    fz_view(m->method_name);
    fz_view(m->ruri);
    fz_view(m->version);
    fz_view(m->reason);
    fz_view(m->body);
    if (m->is_request) {
        FZ_CHECK(m->method < SW_METHOD__COUNT);
        FZ_CHECK(m->method_name.len > 0);
        FZ_CHECK(sw_method_lookup(m->method_name.ptr, m->method_name.len) == m->method);
    } else {
        FZ_CHECK(m->status >= 100 && m->status <= 999);
    }
    /* The body is what follows the empty line, Content-Length bytes of it. */
    if (m->body.len) {
        FZ_CHECK(m->body.ptr == m->buf + m->header_len);
        FZ_CHECK(m->header_len + m->body.len <= m->len);
    }
    FZ_CHECK(m->content_length >= -1);
    if (m->content_length >= 0)
        FZ_CHECK(m->body.len == (uint64_t)m->content_length);
    if (framing == SW_SIP_STREAM)
        FZ_CHECK(m->content_length >= 0);

    FZ_CHECK(m->nhdrs <= cap && m->nhdrs <= fz_limits.max_headers);
    FZ_CHECK(m->hdrs != NULL);
    size_t known = 0;
    for (uint16_t i = 0; i < m->nhdrs; i++) {
        const sw_sip_header *h = &m->hdrs[i];
        fz_view(h->name);
        fz_view(h->value);
        FZ_CHECK(h->name.len > 0);
        FZ_CHECK(h->offset < m->header_len);
        FZ_CHECK(h->id < SW_HDR__COUNT);
        FZ_CHECK(sw_hdr_lookup(h->name.ptr, h->name.len) == (sw_hdr_id)h->id);
        FZ_CHECK(h->next == SW_HDR_NONE || (h->next > i && h->next < m->nhdrs &&
                                            m->hdrs[h->next].id == h->id));
        known += h->id != SW_HDR_OTHER;
    }
    /* Every known header is reachable from first[] through the chain. */
    size_t chained = 0;
    for (int id = 1; id < SW_HDR__COUNT; id++) {
        for (const sw_sip_header *h = sw_sip_first(m, (sw_hdr_id)id); h; h = sw_sip_next(m, h)) {
            FZ_CHECK(h >= m->hdrs && h < m->hdrs + m->nhdrs);
            FZ_CHECK(h->id == id);
            chained++;
        }
    }
    FZ_CHECK(chained == known);

    const sw_sip_header *cl = sw_sip_first(m, SW_HDR_CONTENT_LENGTH);
    FZ_CHECK((cl == NULL) == (m->content_length < 0));
}

/* Every typed accessor; err == NULL is allowed by the API and tried too. */
static void accessors(sw_sip_msg *m, int null_err)
{
    sw_sip_error e, *err = null_err ? NULL : &e;
    int rc;
#define ACCESS(call, check)                                                 \
    do {                                                                    \
        fz_error_reset(&e);                                                 \
        rc = (call);                                                        \
        if (rc == SW_OK)                                                    \
            check;                                                          \
        else                                                                \
            fz_soft_error(rc, &e);                                          \
    } while (0)

    const sw_via *via;
    ACCESS(sw_sip_top_via(m, &via, err), fz_via(via));
    const sw_nameaddr *na;
    ACCESS(sw_sip_from(m, &na, err), fz_nameaddr(na));
    ACCESS(sw_sip_to(m, &na, err), fz_nameaddr(na));
    ACCESS(sw_sip_contact(m, &na, err), fz_nameaddr(na));
    ACCESS(sw_sip_pai(m, &na, err), fz_nameaddr(na));
    ACCESS(sw_sip_route(m, &na, err), fz_nameaddr(na));
    const sw_cseq *cseq;
    ACCESS(sw_sip_cseq(m, &cseq, err), fz_cseq(cseq));
    const sw_uri *ruri;
    ACCESS(sw_sip_ruri(m, &ruri, err), fz_uri(ruri));
    sw_str cid;
    ACCESS(sw_sip_call_id(m, &cid), fz_view(cid));
    int64_t x;
    ACCESS(sw_sip_max_forwards(m, &x, err), FZ_CHECK(x >= 0));
    ACCESS(sw_sip_expires(m, &x, err), FZ_CHECK(x >= 0));
#undef ACCESS
    fz_error_reset(&e);
    rc = sw_sip_via_count(m, err);
    if (rc < 0)
        fz_soft_error(rc, &e);
    else if (sw_sip_first(m, SW_HDR_VIA) == NULL)
        FZ_CHECK(rc == 0);
}

/* The comma-separated values of every header present, each typed. */
static void values(const sw_sip_msg *m)
{
    for (int id = 0; id < SW_HDR__COUNT; id++) {
        if (id != SW_HDR_OTHER && m->first[id] == SW_HDR_NONE)
            continue;
        sw_sip_values it;
        sw_sip_values_init(&it, m, (sw_hdr_id)id);
        for (size_t k = 0;; k++) {
            FZ_CHECK(k <= fz_len + 1); /* at most one empty value per header line */
            sw_str v;
            sw_sip_error err;
            fz_error_reset(&err);
            int rc = sw_sip_values_next(&it, &v, &err);
            if (rc <= 0) {
                if (rc < 0)
                    fz_soft_error(rc, &err);
                break;
            }
            fz_view(v);
            /* List elements are never empty; a single value may be ("Subject:"). */
            if (id != SW_HDR_OTHER && (sw_hdr_flags((sw_hdr_id)id) & SW_HF_LIST))
                FZ_CHECK(v.len > 0);
            if (id != SW_HDR_OTHER)
                fz_typed_value((sw_hdr_id)id, v, (size_t)-1);
        }
    }
    /* Headers that are not lists carry one value each: run their parsers on
     * the whole header value as well (Digest parameters contain commas). */
    static const sw_hdr_id whole[] = {SW_HDR_AUTHORIZATION, SW_HDR_PROXY_AUTHORIZATION,
                                      SW_HDR_WWW_AUTHENTICATE, SW_HDR_PROXY_AUTHENTICATE,
                                      SW_HDR_IDENTITY, SW_HDR_CSEQ, SW_HDR_CONTENT_TYPE};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        for (const sw_sip_header *h = sw_sip_first(m, whole[i]); h; h = sw_sip_next(m, h))
            fz_typed_value(whole[i], h->value, (size_t)-1);
}

static void finds(const sw_sip_msg *m)
{
    static const char *const names[] = {"Via", "v", "CONTENT-LENGTH", "l", "X-Real-IP",
                                        "X-Unknown", "", "i"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const sw_sip_header *h = sw_sip_find(m, names[i]);
        FZ_CHECK(h == NULL || (h >= m->hdrs && h < m->hdrs + m->nhdrs));
    }
    if (m->nhdrs > 0) {
        /* The name of the last header, as a C string, must find a header. */
        char name[64];
        sw_str n = m->hdrs[m->nhdrs - 1].name;
        if (n.len < sizeof name && memchr(n.ptr, '\0', n.len) == NULL) {
            memcpy(name, n.ptr, n.len);
            name[n.len] = '\0';
            FZ_CHECK(sw_sip_find(m, name) != NULL);
        }
    }
}

static void body(const sw_sip_msg *m)
{
    if (m->body.len == 0)
        return;
    sw_sdp sdp;
    sw_sip_error err;
    fz_error_reset(&err);
    int rc = sw_sdp_parse(m->body, &sdp, &err);
    if (rc == SW_OK)
        fz_sdp(&sdp);
    else
        fz_error(rc, &err, (size_t)-1);
}

/* Parses with one framing; returns what sw_sip_parse returned. */
static long one_framing(const char *buf, size_t size, sw_sip_framing framing)
{
    sw_sip_header hdrs[FZ_HDR_CAP];
    sw_sip_msg m;
    sw_sip_error err;
    fz_error_reset(&err);
    long n = sw_sip_parse(&m, hdrs, FZ_HDR_CAP, buf, size, framing, &fz_limits, &err);
    if (n < 0) {
        fz_error((int)n, &err, size);
        return n;
    }
    check_index(&m, n, FZ_HDR_CAP, framing);
    finds(&m);

    /* Datagram: accessors on a fresh message, then validate, then again from
     * the memo.  Stream: validate first, then accessors with a NULL err. */
    if (framing == SW_SIP_DATAGRAM)
        accessors(&m, 0);
    fz_error_reset(&err);
    int rc = sw_sip_validate(&m, &err);
    if (rc != SW_OK) {
#ifdef FZ_SKIP_KNOWN /* reported: offsets computed from {NULL, 0} views */
        fz_error(rc, &err, (size_t)-1);
#else
        fz_error(rc, &err, size);
#endif
    }
    accessors(&m, framing == SW_SIP_STREAM);
    values(&m);
    body(&m);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = fz_input(data, size);

    (void)sw_sip_looks_like(buf, size);
    (void)one_framing(buf, size, SW_SIP_DATAGRAM);
    long n = one_framing(buf, size, SW_SIP_STREAM);

    /* Framing alone must find the same message end as the stream parser:
     * two views of where a TCP message stops are a desync (smuggling). */
    size_t skip = 0;
    sw_sip_error err;
    fz_error_reset(&err);
    long r = sw_sip_frame(buf, size, &fz_limits, &skip, &err);
    if (r > 0) {
        FZ_CHECK(skip <= size && (size_t)r <= size - skip);
        if (skip == 0)
            FZ_CHECK(n != SW_EINCOMPLETE);
    } else {
        FZ_CHECK(r != 0);
        fz_error((int)r, &err, size);
    }
    if (n > 0) {
#ifdef FZ_SKIP_KNOWN /* reported: a folded Content-Length value */
        if (r == SW_EINVAL) {
            free(buf);
            return 0;
        }
#endif
        FZ_CHECK(r > 0);
        FZ_CHECK((size_t)n == skip + (size_t)r || (size_t)n == (size_t)r);
    }

    free(buf);
    return 0;
}
