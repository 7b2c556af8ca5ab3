/* Helpers for the proxy tests: messages written with "\n" line ends become
 * CRLF messages with a correct Content-Length; parsed copies; header value
 * lookups. */
#ifndef PROXY_TEST_UTIL_H
#define PROXY_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sipwall/proxy.h"

#define PT_MSG_MAX 16384
#define PT_HDRS 256

/* "\n" -> "\r\n" (a "\r\n" already there stays). */
static inline size_t pt_crlf(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '\n' && (p == in || p[-1] != '\r')) {
            assert_true(o + 2 < cap);
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            assert_true(o + 1 < cap);
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return o;
}

/* Headers (printf format, "\n" line ends, no Content-Length, no empty
 * line) and a body: a whole message. */
static inline size_t pt_msg(char *out, size_t cap, const char *body, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline size_t pt_msg(char *out, size_t cap, const char *body, const char *fmt, ...)
{
    char tmp[PT_MSG_MAX], b[PT_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof tmp);
    size_t bl = body ? pt_crlf(body, b, sizeof b) : 0;
    size_t hl = pt_crlf(tmp, out, cap);
    int k = snprintf(out + hl, cap - hl, "Content-Length: %zu\r\n\r\n", bl);
    assert_true(k > 0 && (size_t)k < cap - hl);
    hl += (size_t)k;
    assert_true(hl + bl < cap);
    memcpy(out + hl, b, bl);
    out[hl + bl] = '\0';
    return hl + bl;
}

/* A parsed copy of a message (the proxy's views point into buf). */
typedef struct pt_parsed {
    char buf[PT_MSG_MAX];
    size_t len;
    sw_sip_header hdrs[PT_HDRS];
    sw_sip_msg m;
} pt_parsed;

/* Parses data; whole = 1: the message must be all of it. */
static inline sw_sip_msg *pt_parse_any(pt_parsed *p, const char *data, size_t len,
                                       sw_sip_framing framing, int whole)
{
    assert_true(len < sizeof p->buf);
    memcpy(p->buf, data, len);
    p->buf[len] = '\0';
    p->len = len;
    sw_sip_error err = {0, 0, NULL};
    long n = sw_sip_parse(&p->m, p->hdrs, PT_HDRS, p->buf, len, framing, NULL, &err);
    if (n <= 0)
        fail_msg("does not parse (%s at %zu):\n%.*s", err.reason ? err.reason : "?", err.offset,
                 (int)len, data);
    if (whole)
        assert_int_equal((size_t)n, len);
    return &p->m;
}

static inline sw_sip_msg *pt_parse_framing(pt_parsed *p, const char *data, size_t len,
                                           sw_sip_framing framing)
{
    return pt_parse_any(p, data, len, framing, 1);
}

static inline sw_sip_msg *pt_parse(pt_parsed *p, const char *data, size_t len)
{
    return pt_parse_framing(p, data, len, SW_SIP_DATAGRAM);
}

static inline pt_parsed *pt_new(void)
{
    pt_parsed *p = calloc(1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* The idx-th value of a (list) header over all its lines, NUL-terminated;
 * 0 when there is none. */
static inline int pt_value(const sw_sip_msg *m, sw_hdr_id id, unsigned idx, char *out, size_t cap)
{
    sw_sip_values it;
    sw_sip_values_init(&it, m, id);
    sw_str v;
    for (unsigned i = 0; sw_sip_values_next(&it, &v, NULL) > 0; i++) {
        if (i == idx) {
            assert_true(v.len < cap);
            memcpy(out, v.ptr, v.len);
            out[v.len] = '\0';
            return 1;
        }
    }
    out[0] = '\0';
    return 0;
}

static inline unsigned pt_count(const sw_sip_msg *m, sw_hdr_id id)
{
    sw_sip_values it;
    sw_sip_values_init(&it, m, id);
    sw_str v;
    unsigned n = 0;
    while (sw_sip_values_next(&it, &v, NULL) > 0)
        n++;
    return n;
}

static inline int pt_contains(const char *hay, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return 1;
    return 0;
}

static inline sw_addr pt_addr(const char *s)
{
    sw_addr a;
    assert_int_equal(sw_addr_parse(s, &a), SW_OK);
    return a;
}

/* A parameter of a Via value, or "" */
static inline void pt_via_param(const char *via, const char *name, char *out, size_t cap)
{
    sw_via v;
    out[0] = '\0';
    assert_int_equal(sw_via_parse(sw_str_make(via, strlen(via)), &v, NULL), SW_OK);
    sw_str val;
    if (sw_param_find(v.params, name, &val) == 1) {
        assert_true(val.len < cap);
        memcpy(out, val.ptr, val.len);
        out[val.len] = '\0';
    }
}

#endif
