/* sipwall — RFC 8785 JSON Canonicalization Scheme.
 *
 * The input is parsed by jansson (duplicates refused, strict UTF-8, lone
 * surrogates refused by its decoder) and written back: members sorted by
 * their names as UTF-16 code units (§3.2.3), strings with only the
 * escapes JSON requires (§3.2.2.2), numbers as ECMAScript's
 * Number.prototype.toString writes the IEEE-754 double (§3.2.2.3). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/internal.h"

#define JCS_INPUT_MAX (1u << 20)

void sw__xbuf_put(sw__xbuf *b, const void *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sw__xbuf_puts(sw__xbuf *b, const char *s) { sw__xbuf_put(b, s, strlen(s)); }

char *sw__xbuf_take(sw__xbuf *b, size_t *len)
{
    if (b->oom || !b->p) {
        if (!b->oom)
            sw__xbuf_put(b, "", 0);
        if (b->oom) {
            free(b->p);
            *b = (sw__xbuf){0};
            return NULL;
        }
    }
    char *p = b->p;
    *len = b->len;
    *b = (sw__xbuf){0};
    return p;
}

/* ---- numbers ------------------------------------------------------------- */

int sw_jcs_number(double v, char buf[32])
{
    if (isnan(v) || isinf(v))
        return SW_EINVAL;
    if (v == 0) { /* +0 and -0 */
        memcpy(buf, "0", 2);
        return 1;
    }
    char *o = buf;
    if (v < 0) {
        *o++ = '-';
        v = -v;
    }
    /* The shortest decimal that reads back as v: %.*e is correctly rounded,
     * so the first precision that round-trips gives ECMAScript's digits. */
    char tmp[40];
    int p;
    for (p = 0; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    if (p == 17)
        snprintf(tmp, sizeof tmp, "%.16e", v);
    /* tmp = d[.ddd]e[+-]XX */
    char digits[20];
    int k = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[k++] = *s;
    int e = atoi(s + 1);
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int n = e + 1; /* v = 0.d1d2..dk * 10^n */
    if (k <= n && n <= 21) {
        memcpy(o, digits, (size_t)k);
        o += k;
        for (int i = 0; i < n - k; i++)
            *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, digits + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -n; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)k);
        o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    *o = '\0';
    return (int)(o - buf);
}

/* ---- strings --------------------------------------------------------------- */

static void put_string(sw__xbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sw__xbuf_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c < 0x20) {
            switch (c) {
            case '\b': esc = "\\b"; break;
            case '\t': esc = "\\t"; break;
            case '\n': esc = "\\n"; break;
            case '\f': esc = "\\f"; break;
            case '\r': esc = "\\r"; break;
            default:
                u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
                u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            sw__xbuf_put(b, s + i - run, run);
            run = 0;
            sw__xbuf_puts(b, esc);
        } else {
            run++;
        }
    }
    sw__xbuf_put(b, s + n - run, run);
    sw__xbuf_put(b, "\"", 1);
}

/* ---- member order: UTF-16 code units ----------------------------------------- */

typedef struct u16it {
    const unsigned char *p, *end;
    unsigned pending; /* a low surrogate still to give, or 0 */
} u16it;

/* Next UTF-16 unit, or -1 at the end.  Input is valid UTF-8 (jansson). */
static long u16_next(u16it *it)
{
    if (it->pending) {
        long r = it->pending;
        it->pending = 0;
        return r;
    }
    if (it->p >= it->end)
        return -1;
    unsigned c = *it->p++;
    unsigned cp;
    int more;
    if (c < 0x80) {
        cp = c;
        more = 0;
    } else if (c < 0xE0) {
        cp = c & 0x1F;
        more = 1;
    } else if (c < 0xF0) {
        cp = c & 0x0F;
        more = 2;
    } else {
        cp = c & 0x07;
        more = 3;
    }
    while (more-- > 0 && it->p < it->end)
        cp = (cp << 6) | (*it->p++ & 0x3F);
    if (cp >= 0x10000) {
        cp -= 0x10000;
        it->pending = 0xDC00 | (cp & 0x3FF);
        return 0xD800 | (cp >> 10);
    }
    return cp;
}

typedef struct member {
    const char *key;
    size_t len;
    json_t *val;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    u16it i = {(const unsigned char *)x->key, (const unsigned char *)x->key + x->len, 0};
    u16it j = {(const unsigned char *)y->key, (const unsigned char *)y->key + y->len, 0};
    for (;;) {
        long u = u16_next(&i), v = u16_next(&j);
        if (u != v)
            return u < v ? -1 : 1;
        if (u < 0)
            return 0;
    }
}

int sw__jcs_dump(const json_t *v, sw__xbuf *b)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_NULL: sw__xbuf_puts(b, "null"); break;
    case JSON_TRUE: sw__xbuf_puts(b, "true"); break;
    case JSON_FALSE: sw__xbuf_puts(b, "false"); break;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        /* Exact up to 2^53; beyond, what a double makes of it (I-JSON). */
        if (i >= -9007199254740992LL && i <= 9007199254740992LL)
            snprintf(num, sizeof num, "%lld", (long long)i);
        else if (sw_jcs_number((double)i, num) < 0)
            return SW_EINVAL;
        sw__xbuf_puts(b, num);
        break;
    }
    case JSON_REAL:
        if (sw_jcs_number(json_real_value(v), num) < 0)
            return SW_EINVAL;
        sw__xbuf_puts(b, num);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY: {
        sw__xbuf_put(b, "[", 1);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (i)
                sw__xbuf_put(b, ",", 1);
            int rc = sw__jcs_dump(e, b);
            if (rc != SW_OK)
                return rc;
        }
        sw__xbuf_put(b, "]", 1);
        break;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), k = 0;
        member *m = n ? calloc(n, sizeof *m) : NULL;
        if (n && !m)
            return SW_ENOMEM;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            m[k].key = key;
            m[k].len = strlen(key);
            m[k].val = val;
            k++;
        }
        if (k > 1)
            qsort(m, k, sizeof *m, member_cmp);
        sw__xbuf_put(b, "{", 1);
        for (size_t i = 0; i < k; i++) {
            if (i)
                sw__xbuf_put(b, ",", 1);
            put_string(b, m[i].key, m[i].len);
            sw__xbuf_put(b, ":", 1);
            int rc = sw__jcs_dump(m[i].val, b);
            if (rc != SW_OK) {
                free(m);
                return rc;
            }
        }
        free(m);
        sw__xbuf_put(b, "}", 1);
        break;
    }
    }
    return b->oom ? SW_ENOMEM : SW_OK;
}

char *sw_jcs(const char *json, size_t len, size_t *outlen, char *err, size_t errlen)
{
    if (len > JCS_INPUT_MAX) {
        sw_errf(err, errlen, "input larger than %u bytes", JCS_INPUT_MAX);
        return NULL;
    }
    json_error_t je;
    /* Every number is an IEEE-754 double (RFC 8785 §3.2.2.3), integers of any
     * size included. */
    json_t *root =
        json_loadb(json, len, SW__JSON_STRICT | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
    if (!root) {
        sw_errf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    sw__xbuf b = {0};
    int rc = sw__jcs_dump(root, &b);
    json_decref(root);
    if (rc != SW_OK) {
        free(b.p);
        sw_errf(err, errlen, "%s", rc == SW_EINVAL ? "number not representable" : "out of memory");
        return NULL;
    }
    char *out = sw__xbuf_take(&b, outlen);
    if (!out)
        sw_errf(err, errlen, "out of memory");
    return out;
}
