/* Shared checks for the SIP fuzz targets (fuzz_sip_msg.c, fuzz_uri.c).
 *
 * Beyond what ASan and UBSan catch, the targets check the parser's
 * contracts: every view it returns lies inside the input (zero-copy), every
 * error carries a known code and a reason, parameter and value iterators make
 * progress, and counts stay within the caller's capacities.  A broken
 * contract aborts, which libFuzzer reports as a crash with the input. */
#ifndef SW_FUZZ_COMMON_H
#define SW_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/sip.h"

/* The input being checked: views must point into [fz_buf, fz_buf + fz_len). */
static const char *fz_buf;
static size_t fz_len;
static volatile unsigned fz_sink; /* keeps the reads of returned views alive */

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* Copies the input into an exactly sized heap block, so that reading one
 * byte past its end is an ASan heap-buffer-overflow. */
static inline char *fz_input(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        abort();
    if (size)
        memcpy(buf, data, size);
    fz_buf = buf;
    fz_len = size;
    return buf;
}

/* A view returned by the parser: empty, or inside the input.  Its first and
 * last bytes are read so that a view past the end is also an ASan report. */
static inline void fz_view(sw_str s)
{
    if (s.len == 0)
        return;
    FZ_CHECK(s.ptr != NULL);
    uintptr_t b = (uintptr_t)fz_buf, p = (uintptr_t)s.ptr;
    FZ_CHECK(p >= b && s.len <= fz_len && p - b <= fz_len - s.len);
    fz_sink += (unsigned char)s.ptr[0] + (unsigned char)s.ptr[s.len - 1];
}

/* Called before each parser call, so that fz_error can tell "set" from "left alone". */
static inline void fz_error_reset(sw_sip_error *err)
{
    err->code = 0x7fff;
    err->offset = (size_t)-1;
    err->reason = NULL;
}

/* rc is a failure from a function documented to set *err: it must be a known
 * negative code with a reason; `offset_max` bounds the offset (SIZE_MAX: unchecked). */
static inline void fz_error(int rc, const sw_sip_error *err, size_t offset_max)
{
    FZ_CHECK(rc < 0);
    FZ_CHECK(strcmp(sw_strerror(rc), "unknown error") != 0);
    FZ_CHECK(err->reason != NULL);
    fz_sink += (unsigned)strlen(err->reason);
    if (offset_max != (size_t)-1)
        FZ_CHECK(err->offset <= offset_max);
}

/* A failure from an accessor: EMISSING may leave *err alone; anything else
 * must be a known code, and a reason, when given, must be a string. */
static inline void fz_soft_error(int rc, const sw_sip_error *err)
{
    FZ_CHECK(rc < 0);
    FZ_CHECK(strcmp(sw_strerror(rc), "unknown error") != 0);
    if (err->reason != NULL)
        fz_sink += (unsigned)strlen(err->reason);
}

/* Walks a ";a=b;c" list to its end; each step must consume input. */
static inline void fz_params(sw_str params)
{
    fz_view(params);
#ifdef FZ_SKIP_KNOWN
    /* Exploration builds only (-DFZ_SKIP_KNOWN, see fuzz/regressions/README.md):
     * do not feed the parser's own empty {NULL, 0} views back into
     * sw_param_next, so that a known NULL+0 report does not stop the run. */
    if (params.ptr == NULL)
        return;
#endif
    sw_str cur = params;
    for (size_t steps = 0;; steps++) {
        FZ_CHECK(steps <= params.len + 1);
        size_t before = cur.len;
        sw_param p;
        int rc = sw_param_next(&cur, &p);
        if (rc != 1) {
            FZ_CHECK(rc == 0 || rc == SW_EINVAL);
            break;
        }
        fz_view(p.name);
        fz_view(p.value);
        FZ_CHECK(p.has_value || p.value.len == 0);
        FZ_CHECK(cur.len < before);
        fz_view(cur);
    }
    sw_str v;
    static const char *const names[] = {"transport", "lr", "user", "tag", "branch", "maddr"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (sw_param_find(params, names[i], &v) == 1)
            fz_view(v);
}

/* %-decodes into an exactly sized heap block (decoding never grows), then
 * into one that is too small. */
static inline void fz_unescape(sw_str s)
{
    char *out = malloc(s.len ? s.len : 1);
    if (out == NULL)
        abort();
    long n = sw_uri_unescape(s, out, s.len);
    FZ_CHECK(n == SW_EINVAL || (n >= 0 && (size_t)n <= s.len));
    if (n > 0)
        fz_sink += (unsigned char)out[n - 1];
    free(out);
    if (s.len >= 2) {
        size_t cap = s.len / 2;
        out = malloc(cap);
        if (out == NULL)
            abort();
        n = sw_uri_unescape(s, out, cap);
        FZ_CHECK(n == SW_EINVAL || n == SW_ELIMIT || (n >= 0 && (size_t)n <= cap));
        free(out);
    }
}

static inline void fz_uri(const sw_uri *u)
{
    fz_view(u->raw);
    fz_view(u->scheme);
    fz_view(u->user);
    fz_view(u->password);
    fz_view(u->host);
    fz_view(u->params);
    fz_view(u->headers);
    fz_view(u->opaque);
    FZ_CHECK(u->kind <= SW_URI_TEL);
    FZ_CHECK(u->host_type <= SW_HOST_IPV6);
    FZ_CHECK(u->has_port || u->port == 0);
    fz_params(u->params);
    fz_unescape(u->user);
    fz_unescape(u->password);
    fz_unescape(u->headers);
}

static inline void fz_nameaddr(const sw_nameaddr *na)
{
    fz_view(na->display);
    fz_view(na->params);
    fz_view(na->tag);
    if (!na->wildcard)
        fz_uri(&na->uri);
    fz_params(na->params);
}

static inline void fz_via(const sw_via *v)
{
    fz_view(v->protocol);
    fz_view(v->transport);
    fz_view(v->host);
    fz_view(v->params);
    fz_view(v->branch);
    fz_view(v->received);
    fz_view(v->maddr);
    fz_view(v->ttl);
    FZ_CHECK(v->host_type <= SW_HOST_IPV6);
    FZ_CHECK(!v->has_rport || (v->rport >= -1 && v->rport <= 65535));
    fz_params(v->params);
}

static inline void fz_cseq(const sw_cseq *c)
{
    fz_view(c->method_name);
    FZ_CHECK(c->method < SW_METHOD__COUNT);
    if (c->method != SW_METHOD_OTHER)
        FZ_CHECK(sw_method_lookup(c->method_name.ptr, c->method_name.len) == c->method);
}

static inline void fz_auth(const sw_auth *a)
{
    const sw_str *v[] = {&a->scheme, &a->params, &a->username, &a->realm, &a->nonce,
                         &a->uri, &a->response, &a->algorithm, &a->cnonce, &a->opaque,
                         &a->qop, &a->nc, &a->stale, &a->domain};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fz_view(*v[i]);
}

static inline void fz_identity(const sw_identity *id)
{
    const sw_str *v[] = {&id->token, &id->header, &id->payload, &id->signature,
                         &id->info, &id->alg, &id->ppt, &id->params};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fz_view(*v[i]);
    fz_params(id->params);
}

static inline void fz_media_type(const sw_media_type *mt)
{
    fz_view(mt->type);
    fz_view(mt->subtype);
    fz_view(mt->params);
    fz_params(mt->params);
}

static inline void fz_sdp(const sw_sdp *s)
{
    const sw_str *v[] = {&s->o_username, &s->o_sess_id, &s->o_sess_version, &s->o_nettype,
                         &s->o_addrtype, &s->o_addr, &s->c_nettype, &s->c_addrtype,
                         &s->c_addr};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fz_view(*v[i]);
    FZ_CHECK(s->nmedia <= SW_SDP_MAX_MEDIA);
    for (unsigned i = 0; i < s->nmedia; i++) {
        const sw_sdp_media *md = &s->media[i];
        fz_view(md->media);
        fz_view(md->port);
        fz_view(md->proto);
        fz_view(md->fmts);
        fz_view(md->c_addrtype);
        fz_view(md->c_addr);
    }
}

/* Runs one typed parser over a single value (a header value, a list element,
 * or the whole fuzz input), chosen by the header it came from.  SW_HDR_OTHER
 * runs them all.  `offset_max` as for fz_error. */
static inline void fz_typed_value(sw_hdr_id id, sw_str v, size_t offset_max)
{
    sw_sip_error err;
    int all = id == SW_HDR_OTHER, rc;

    if (all || id == SW_HDR_VIA) {
        sw_via via;
        fz_error_reset(&err);
        rc = sw_via_parse(v, &via, &err);
        if (rc == SW_OK)
            fz_via(&via);
        else
            fz_error(rc, &err, offset_max);
    }
    switch (id) {
    case SW_HDR_OTHER:
    case SW_HDR_FROM:
    case SW_HDR_TO:
    case SW_HDR_CONTACT:
    case SW_HDR_ROUTE:
    case SW_HDR_RECORD_ROUTE:
    case SW_HDR_PATH:
    case SW_HDR_SERVICE_ROUTE:
    case SW_HDR_P_ASSERTED_IDENTITY:
    case SW_HDR_P_PREFERRED_IDENTITY:
    case SW_HDR_P_ASSOCIATED_URI:
    case SW_HDR_P_CALLED_PARTY_ID:
    case SW_HDR_REFER_TO:
    case SW_HDR_REFERRED_BY:
    case SW_HDR_DIVERSION:
    case SW_HDR_HISTORY_INFO:
    case SW_HDR_REMOTE_PARTY_ID: {
        sw_nameaddr na;
        fz_error_reset(&err);
        rc = sw_nameaddr_parse(v, &na, &err);
        if (rc == SW_OK)
            fz_nameaddr(&na);
        else
            fz_error(rc, &err, offset_max);
        if (!all)
            break;
    }
    /* fall through */
    case SW_HDR_CSEQ: {
        sw_cseq c;
        fz_error_reset(&err);
        rc = sw_cseq_parse(v, &c, &err);
        if (rc == SW_OK)
            fz_cseq(&c);
        else
            fz_error(rc, &err, offset_max);
        if (!all)
            break;
    }
    /* fall through */
    case SW_HDR_CONTENT_TYPE: {
        sw_media_type mt;
        fz_error_reset(&err);
        rc = sw_media_type_parse(v, &mt, &err);
        if (rc == SW_OK)
            fz_media_type(&mt);
        else
            fz_error(rc, &err, offset_max);
        if (!all)
            break;
    }
    /* fall through */
    case SW_HDR_AUTHORIZATION:
    case SW_HDR_PROXY_AUTHORIZATION:
    case SW_HDR_WWW_AUTHENTICATE:
    case SW_HDR_PROXY_AUTHENTICATE: {
        sw_auth a;
        fz_error_reset(&err);
        rc = sw_auth_parse(v, &a, &err);
        if (rc == SW_OK)
            fz_auth(&a);
        else
            fz_error(rc, &err, offset_max);
        if (!all)
            break;
    }
    /* fall through */
    case SW_HDR_IDENTITY: {
        sw_identity idn;
        fz_error_reset(&err);
        rc = sw_identity_parse(v, &idn, &err);
        if (rc == SW_OK)
            fz_identity(&idn);
        else
            fz_error(rc, &err, offset_max);
        if (!all)
            break;
    }
    /* fall through */
    case SW_HDR_CONTENT_LENGTH:
    case SW_HDR_MAX_FORWARDS:
    case SW_HDR_EXPIRES:
    case SW_HDR_MIN_EXPIRES:
    case SW_HDR_RSEQ:
    case SW_HDR_MIN_SE: {
#ifdef FZ_SKIP_KNOWN /* a maximum below 9 is a known report */
        static const uint64_t maxes[] = {9, 255, 65535, UINT32_MAX, INT64_MAX, UINT64_MAX};
#else
        static const uint64_t maxes[] = {0, 255, 65535, UINT32_MAX, INT64_MAX, UINT64_MAX};
#endif
        for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
            uint64_t x = 0;
            rc = sw_parse_uint(v, maxes[i], &x);
            FZ_CHECK(rc <= 0);
            if (rc == SW_OK)
                FZ_CHECK(x <= maxes[i]);
        }
        break;
    }
    default:
        break;
    }
}

#endif
