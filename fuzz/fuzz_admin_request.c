/* fuzz_admin_request — libFuzzer target for the admin API's request
 * parsers (src/admin/request.c): what any client on the admin port sends
 * once authenticated, and what the route sees before.
 *
 * Byte 0 picks the entry point, the rest is the input:
 *   0..5  sw_admin_route with method GET, POST, DELETE, PUT, PATCH, HEAD
 *         and the rest as the request target (NUL-terminated copy)
 *   6     sw_admin_parse_block on the rest as the body (exactly sized)
 *   7     sw_admin_error_json with the rest as the message
 * Contracts beyond ASan/UBSan: the status is one the API documents; an
 * error always has a message; an accepted request is consistent (an
 * unblock has a printable kind and key, limits within their maxima, a
 * block's duration within 1 s..24 h and its strings printable); an error
 * body is JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/admin.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define FZ_NOW (1796637600LL * 1000000000LL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int printable(const char *s, int may_be_empty, int spaces)
{
    if (!*s)
        return may_be_empty;
    for (; *s; s++)
        if ((unsigned char)*s < (spaces ? 0x20 : 0x21) || *s == 0x7f)
            return 0;
    return 1;
}

static void fz_route(unsigned m, const uint8_t *d, size_t n)
{
    static const char *const methods[] = {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD"};
    char *t = malloc(n + 1);
    if (!t)
        return;
    memcpy(t, d, n);
    t[n] = '\0';
    sw_admin_req r;
    char err[300];
    err[0] = '\0';
    int st = sw_admin_route(methods[m], t, FZ_NOW, &r, err, sizeof err);
    FZ_CHECK(st == 200 || st == 400 || st == 404 || st == 405);
    if (st != 200) {
        FZ_CHECK(err[0] != '\0');
    } else {
        FZ_CHECK(r.op >= SW_ADMIN_STATUS && r.op <= SW_ADMIN_EXCHANGE_REVOKE);
        if (r.op == SW_ADMIN_INTEL_PUSH) /* the body and the partner come later (server.c) */
            FZ_CHECK(strcmp(methods[m], "POST") == 0 && !r.body && !r.push_org[0]);
        if (r.op == SW_ADMIN_METRICS || r.op == SW_ADMIN_HEALTH || r.op == SW_ADMIN_STATUS ||
            r.op == SW_ADMIN_PARTNERS || r.op == SW_ADMIN_EVENTS || r.op == SW_ADMIN_INTEL ||
            r.op == SW_ADMIN_INTEL_SHOW)
            FZ_CHECK(strcmp(methods[m], "GET") == 0);
        if (r.op == SW_ADMIN_INTEL_REVOKE || r.op == SW_ADMIN_EXCHANGE_REVOKE)
            FZ_CHECK(strcmp(methods[m], "POST") == 0);
        if (r.op == SW_ADMIN_INTEL_SHOW || r.op == SW_ADMIN_INTEL_REVOKE || r.op == SW_ADMIN_EXCHANGE_REVOKE)
            FZ_CHECK(r.key[0] != '\0' && printable(r.key, 0, 0));
        if (r.op == SW_ADMIN_UNBLOCK) {
            FZ_CHECK(printable(r.kind, 0, 0) && printable(r.key, 0, 0));
            FZ_CHECK(strcmp(methods[m], "DELETE") == 0);
        }
        if (r.op == SW_ADMIN_EVENTS) {
            FZ_CHECK(r.limit >= 1 && r.limit <= SW_ADMIN_EVENTS_MAX);
            FZ_CHECK(printable(r.type, 1, 0) && printable(r.src, 1, 0) && printable(r.peer, 1, 0) &&
                     printable(r.rule, 1, 0));
            FZ_CHECK(!r.since_ns || !r.until_ns || r.until_ns > r.since_ns);
            FZ_CHECK(r.after_id >= 0);
        }
        if (r.op == SW_ADMIN_BLOCKS)
            FZ_CHECK(r.limit >= 1 && r.limit <= SW_ADMIN_BLOCKS_MAX);
    }
    free(t);
}

static void fz_block(const uint8_t *d, size_t n)
{
    /* an exactly sized copy: a read past the body is an ASan report */
    char *b = malloc(n ? n : 1);
    if (!b)
        return;
    memcpy(b, d, n);
    sw_admin_req r;
    memset(&r, 0, sizeof r);
    char err[300];
    err[0] = '\0';
    int st = sw_admin_parse_block(b, n, &r, err, sizeof err);
    FZ_CHECK(st == 200 || st == 400 || st == 413);
    if (st != 200) {
        FZ_CHECK(err[0] != '\0');
    } else {
        FZ_CHECK(r.duration_s >= 1 && r.duration_s <= SW_ADMIN_DURATION_MAX_S);
        FZ_CHECK(printable(r.kind, 0, 0) && printable(r.key, 0, 0) && printable(r.reason, 1, 1));
        FZ_CHECK(strlen(r.reason) < SW_ADMIN_REASON_MAX);
    }
    free(b);
}

static void fz_error(const uint8_t *d, size_t n)
{
    char *m = malloc(n + 1);
    if (!m)
        return;
    memcpy(m, d, n);
    m[n] = '\0';
    char *s = sw_admin_error_json(400, m);
    FZ_CHECK(s != NULL);
    json_t *o = json_loads(s, 0, NULL);
    FZ_CHECK(o != NULL && json_is_object(json_object_get(o, "error")));
    json_decref(o);
    free(s);
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned sel = data[0] % 8;
    if (sel < 6)
        fz_route(sel, data + 1, size - 1);
    else if (sel == 6)
        fz_block(data + 1, size - 1);
    else
        fz_error(data + 1, size - 1);
    return 0;
}
