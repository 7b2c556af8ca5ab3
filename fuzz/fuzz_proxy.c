/* fuzz_proxy — libFuzzer target for the stateless proxy core.
 *
 * The input is one SIP message as it would arrive.  Two proxies with a fixed
 * secret (one hiding topology, one not) each take it on a core and on an
 * interconnect interface:
 *  - a request goes through sw_proxy_route and, when forwarded,
 *    sw_proxy_write_request toward the other side; an answer through
 *    sw_proxy_reply;
 *  - what was written then comes back: the forwarded request as a response
 *    ("SIP/2.0 200" + its headers) through sw_proxy_response, and as a
 *    request arriving on the interface it left by (tokens opened);
 *  - a response goes through sw_proxy_response.
 * Contracts on top of ASan/UBSan: every message the proxy writes parses
 * with sw_sip_parse, whole, with a Content-Length that frames it on a
 * stream; a forwarded request always fits a buffer of 256 KiB (the input
 * is at most 8 KiB) unless a value is too long to hide; every write fails with SW_ELIMIT (and stays inside
 * the buffer, an exactly sized heap block) when the buffer is one byte or
 * half too small; the same call twice gives the same bytes (no state, no
 * randomness). */
#include "fuzz_common.h"

#include "sipwall/proxy.h"

enum { FZ_HDR_CAP = 64, FZ_OUT_CAP = 1 << 18 };

static const sw_sip_limits fz_in_limits = {
    .max_msg_size = 8192,
    .max_header_len = 2048,
    .max_headers = 60,
    .max_via = 16,
};
/* What we write may be longer than what came (tokens): generous limits. */
static const sw_sip_limits fz_out_limits = {
    .max_msg_size = FZ_OUT_CAP,
    .max_header_len = FZ_OUT_CAP,
    .max_headers = 256,
    .max_via = 256,
};

static const uint8_t fz_secret[SW_HIDE_KEY_LEN] = "sipwall fuzz_proxy fixed secret";
enum { IF_CORE, IF_X, IF_X_TCP, IF_CORE6, IF_COUNT };
static sw_proxy *fz_px[2];

static void fz_setup(void)
{
    static sw_proxy_iface ifs[IF_COUNT];
    if (fz_px[0])
        return;
    ifs[IF_CORE] = (sw_proxy_iface){SW_TRANSPORT_UDP, {4, 0, 5060, {10, 0, 0, 1}}, SW_SIDE_CORE};
    ifs[IF_X] = (sw_proxy_iface){SW_TRANSPORT_UDP, {4, 0, 5060, {192, 0, 2, 1}}, SW_SIDE_INTERCONNECT};
    ifs[IF_X_TCP] = (sw_proxy_iface){SW_TRANSPORT_TCP, {4, 0, 0, {192, 0, 2, 1}}, SW_SIDE_INTERCONNECT};
    ifs[IF_CORE6] = (sw_proxy_iface){SW_TRANSPORT_TLS, {6, 0, 5061, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
                                     SW_SIDE_CORE};
    for (int hide = 0; hide < 2; hide++) {
        sw_proxy_config cfg = {.secret = fz_secret, .hide_topology = (uint8_t)hide, .ifaces = ifs,
                               .nifaces = IF_COUNT};
        fz_px[hide] = sw_proxy_new(&cfg);
        FZ_CHECK(fz_px[hide] != NULL);
    }
}

static char *fz_out;     /* FZ_OUT_CAP */
static char *fz_again;   /* FZ_OUT_CAP: the same call twice */

/* What the proxy wrote must be one whole message, framed for a stream too. */
static void check_written(const char *buf, long len)
{
    FZ_CHECK(len > 0 && len <= FZ_OUT_CAP);
    static sw_sip_header hdrs[256];
    sw_sip_msg m;
    sw_sip_error err;
    long n = sw_sip_parse(&m, hdrs, 256, buf, (size_t)len, SW_SIP_STREAM, &fz_out_limits, &err);
    if (n != len) {
        fprintf(stderr, "fuzz: written message does not parse (%ld: %s at %zu):\n%.*s\n", n,
                n < 0 && err.reason ? err.reason : "-", n < 0 ? err.offset : 0, (int)len, buf);
        FZ_CHECK(n == len);
    }
    FZ_CHECK(m.content_length >= 0);
}

/* An exactly sized block one byte short, and one half as long: SW_ELIMIT. */
typedef long (*fz_writer)(void *ctx, char *out, size_t cap);

static void check_caps(fz_writer w, void *ctx, long full)
{
    size_t caps[2] = {(size_t)full - 1, (size_t)full / 2};
    for (int i = 0; i < 2; i++) {
        char *b = malloc(caps[i] ? caps[i] : 1);
        FZ_CHECK(b != NULL);
        long r = w(ctx, b, caps[i]);
        FZ_CHECK(r == SW_ELIMIT);
        free(b);
    }
}

typedef struct req_ctx {
    sw_proxy *p;
    sw_proxy_req *r;
    unsigned out_if;
} req_ctx;

static long write_req(void *ctx, char *out, size_t cap)
{
    req_ctx *c = ctx;
    return sw_proxy_write_request(c->p, c->r, c->out_if, out, cap);
}

typedef struct resp_ctx {
    sw_proxy *p;
    sw_proxy_resp *r;
} resp_ctx;

static long write_resp(void *ctx, char *out, size_t cap)
{
    resp_ctx *c = ctx;
    long len = 0;
    sw_proxy_result res = sw_proxy_response(c->p, c->r, out, cap, &len);
    if (res == SW_PROXY_FORWARD)
        return len;
    return len < 0 ? len : SW_EINVAL;
}

typedef struct reply_ctx {
    sw_proxy *p;
    sw_sip_msg *m;
    const sw_addr *src;
    uint16_t status;
} reply_ctx;

static long write_reply(void *ctx, char *out, size_t cap)
{
    reply_ctx *c = ctx;
    return sw_proxy_reply(c->p, c->m, c->src, c->status, NULL, 7, out, cap);
}

static void run_response(sw_proxy *p, sw_sip_msg *m, unsigned in_if);

/* A response to what we forwarded: the same headers under a status line. */
static void bounce_as_response(sw_proxy *p, const char *req, long len, unsigned in_if)
{
    const char *eol = memchr(req, '\n', (size_t)len);
    FZ_CHECK(eol != NULL);
    size_t rest = (size_t)len - (size_t)(eol + 1 - req);
    static const char status[] = "SIP/2.0 200 OK\r\n";
    char *buf = malloc(sizeof status - 1 + rest);
    FZ_CHECK(buf != NULL);
    memcpy(buf, status, sizeof status - 1);
    memcpy(buf + sizeof status - 1, eol + 1, rest);
    static sw_sip_header hdrs[256];
    sw_sip_msg m;
    sw_sip_error err;
    long n = sw_sip_parse(&m, hdrs, 256, buf, sizeof status - 1 + rest, SW_SIP_DATAGRAM, &fz_out_limits, &err);
    FZ_CHECK(n > 0);
    run_response(p, &m, in_if);
    free(buf);
}

static void run_request(sw_proxy *p, sw_sip_msg *m, unsigned in_if, int depth)
{
    sw_proxy_req *r = calloc(1, sizeof *r);
    FZ_CHECK(r != NULL);
    r->msg = m;
    r->src = p == fz_px[0] ? (sw_addr){4, 0, 40000, {198, 51, 100, 20}}
                           : (sw_addr){4, 0, 5060, {10, 0, 0, 9}};
    r->transport = SW_TRANSPORT_UDP;
    r->in_iface = in_if;
    sw_proxy_result res = sw_proxy_route(p, r);
    FZ_CHECK(res == SW_PROXY_FORWARD || res == SW_PROXY_REPLY || res == SW_PROXY_DROP);
    if (res == SW_PROXY_REPLY) {
        FZ_CHECK(r->status >= 200 && r->status <= 699 && r->reason != NULL);
        FZ_CHECK(m->method != SW_METHOD_ACK);
        reply_ctx rc = {p, m, &r->src, r->status};
        long l = write_reply(&rc, fz_out, FZ_OUT_CAP);
        if (l > 0) {
            check_written(fz_out, l);
            check_caps(write_reply, &rc, l);
        }
    } else if (res == SW_PROXY_FORWARD) {
        FZ_CHECK(r->hop.host.len == 0 || r->hop.host.ptr != NULL);
        if (r->hop.host.len)
            fz_sink += (unsigned char)r->hop.host.ptr[r->hop.host.len - 1];
        unsigned out_if = in_if == IF_CORE || in_if == IF_CORE6 ? IF_X : IF_CORE;
        if (in_if == IF_X && (m->len & 1))
            out_if = IF_CORE6;
        req_ctx c = {p, r, out_if};
        long l = write_req(&c, fz_out, FZ_OUT_CAP);
        FZ_CHECK(l > 0 || l == SW_ERANGE); /* ERANGE: a value too long to hide */
        if (l > 0) {
            check_written(fz_out, l);
            long l2 = write_req(&c, fz_again, FZ_OUT_CAP);
            FZ_CHECK(l2 == l && memcmp(fz_out, fz_again, (size_t)l) == 0);
            check_caps(write_req, &c, l);
            if (depth == 0) {
                char *copy = malloc((size_t)l);
                FZ_CHECK(copy != NULL);
                memcpy(copy, fz_out, (size_t)l);
                bounce_as_response(p, copy, l, out_if);
                /* back in through the interface it left by: tokens open */
                static sw_sip_header hdrs[256];
                sw_sip_msg back;
                sw_sip_error err;
                if (sw_sip_parse(&back, hdrs, 256, copy, (size_t)l, SW_SIP_DATAGRAM, &fz_out_limits, &err) > 0)
                    run_request(p, &back, out_if, depth + 1);
                free(copy);
            }
        }
    }
    /* any request can be answered, malformed or not (never an ACK) */
    reply_ctx rc = {p, m, &r->src, 503};
    long l = write_reply(&rc, fz_out, FZ_OUT_CAP);
    if (m->method == SW_METHOD_ACK)
        FZ_CHECK(l == SW_EINVAL);
    if (l > 0)
        check_written(fz_out, l);
    free(r);
}

static void run_response(sw_proxy *p, sw_sip_msg *m, unsigned in_if)
{
    sw_proxy_resp r;
    memset(&r, 0, sizeof r);
    r.msg = m;
    r.src = (sw_addr){4, 0, 5060, {10, 0, 0, 9}};
    r.transport = SW_TRANSPORT_UDP;
    r.in_iface = in_if;
    long len = -1;
    sw_proxy_result res = sw_proxy_response(p, &r, fz_out, FZ_OUT_CAP, &len);
    if (res != SW_PROXY_FORWARD) {
        FZ_CHECK(res == SW_PROXY_DROP && (len == 0 || len == SW_ERANGE));
        return;
    }
    check_written(fz_out, len);
    FZ_CHECK(r.out_iface < IF_COUNT);
    FZ_CHECK(r.hop.host.len > 0);
    resp_ctx c = {p, &r};
    long l2 = write_resp(&c, fz_again, FZ_OUT_CAP);
    FZ_CHECK(l2 == len && memcmp(fz_out, fz_again, (size_t)len) == 0);
    check_caps(write_resp, &c, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    if (!fz_out) {
        fz_out = malloc(FZ_OUT_CAP);
        fz_again = malloc(FZ_OUT_CAP);
        FZ_CHECK(fz_out && fz_again);
    }
    char *buf = fz_input(data, size);
    sw_sip_header hdrs[FZ_HDR_CAP];
    sw_sip_msg m;
    sw_sip_error err;
    long n = sw_sip_parse(&m, hdrs, FZ_HDR_CAP, buf, size, SW_SIP_DATAGRAM, &fz_in_limits, &err);
    if (n > 0) {
        static const unsigned in_ifs[] = {IF_CORE, IF_X, IF_X_TCP, IF_CORE6};
        for (int hide = 0; hide < 2; hide++) {
            for (size_t k = 0; k < sizeof in_ifs / sizeof in_ifs[0]; k++) {
                /* a fresh parse each time: the memoised values start clean */
                n = sw_sip_parse(&m, hdrs, FZ_HDR_CAP, buf, size, SW_SIP_DATAGRAM, &fz_in_limits, &err);
                FZ_CHECK(n > 0);
                if (m.is_request)
                    run_request(fz_px[hide], &m, in_ifs[k], 0);
                else
                    run_response(fz_px[hide], &m, in_ifs[k]);
            }
        }
    }
    free(buf);
    return 0;
}
