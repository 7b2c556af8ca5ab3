/* Helpers shared by the labels comparison and the HTML report. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm */
#endif
#include <ctype.h>
#include <stdlib.h>
#include <time.h>

#include "report_int.h"

/* ---- interning ---------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void sw__strtab_init(sw__strtab *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max;
}

void sw__strtab_free(sw__strtab *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slot[i]);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

static int strtab_grow(sw__strtab *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    char **ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return SW_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        char *s = t->slot[i];
        if (!s)
            continue;
        size_t j = (size_t)fnv1a(s, strlen(s)) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = s;
    }
    free(t->slot);
    t->slot = ns;
    t->cap = ncap;
    return SW_OK;
}

const char *sw__strtab_intern(sw__strtab *t, const char *s, size_t len)
{
    if (!s)
        s = "", len = 0;
    if (t->cap) {
        size_t j = (size_t)fnv1a(s, len) & (t->cap - 1);
        while (t->slot[j]) {
            if (strlen(t->slot[j]) == len && memcmp(t->slot[j], s, len) == 0)
                return t->slot[j];
            j = (j + 1) & (t->cap - 1);
        }
    }
    if (t->n >= t->max)
        return NULL;
    if ((t->n + 1) * 2 > t->cap && strtab_grow(t) != SW_OK)
        return NULL;
    char *c = malloc(len + 1);
    if (!c)
        return NULL;
    memcpy(c, s, len);
    c[len] = '\0';
    size_t j = (size_t)fnv1a(s, len) & (t->cap - 1);
    while (t->slot[j])
        j = (j + 1) & (t->cap - 1);
    t->slot[j] = c;
    t->n++;
    return c;
}

/* ---- text --------------------------------------------------------------------- */

static size_t utf8_char_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    return 2;
}

size_t sw__clean_text(sw_str in, size_t max, char *out, size_t outcap)
{
    if (outcap == 0)
        return 0;
    char stackbuf[3 * 512];
    char *tmp = stackbuf;
    if (max > 512)
        max = 512;
    int cut = 0;
    size_t n = sw_event_sanitize(in, max, tmp, &cut);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)tmp[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            if (o + 4 >= outcap)
                break;
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
            i++;
            continue;
        }
        size_t l = utf8_char_len(c);
        if (i + l > n || o + l >= outcap)
            break;
        memcpy(out + o, tmp + i, l);
        o += l;
        i += l;
    }
    out[o] = '\0';
    return o;
}

size_t sw__number_key(const char *s, size_t len, char *out)
{
    size_t o = 0;
    int digits_only = len > 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isdigit(c) || c == '+' || c == '-' || c == '.' || c == ' ' || c == '(' ||
              c == ')')) {
            digits_only = 0;
            break;
        }
    }
    if (!digits_only) {
        memcpy(out, s, len);
        out[len] = '\0';
        return len;
    }
    for (size_t i = 0; i < len; i++)
        if (isdigit((unsigned char)s[i]))
            out[o++] = s[i];
    out[o] = '\0';
    return o;
}

int sw__parse_iso8601(const char *s, int64_t *ns)
{
    int Y, M, D, h, m, sec, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &used) != 6 ||
        used == 0)
        return SW_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || h < 0 ||
        m < 0 || sec < 0)
        return SW_EINVAL;
    const char *p = s + used;
    int64_t frac = 0;
    if (*p == '.') {
        int64_t scale = 100000000;
        p++;
        if (!isdigit((unsigned char)*p))
            return SW_EINVAL;
        while (isdigit((unsigned char)*p)) {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p != '\0')
        return SW_EINVAL;
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    int64_t v;
    if (__builtin_mul_overflow((int64_t)t, (int64_t)1000000000, &v) ||
        __builtin_add_overflow(v, frac, &v))
        return SW_EINVAL; /* beyond what ns since the epoch can hold */
    *ns = v;
    return SW_OK;
}
