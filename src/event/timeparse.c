/* Times as operators write them (include/sipwall/event.h
 * sw_event_parse_time): `sipwall events --since` and the admin API's
 * events query share this parser. */
#define _GNU_SOURCE /* timegm */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sipwall/event.h"

#define NS 1000000000LL

static int err_out(char *err, size_t errlen, const char *fmt, ...) SW_PRINTF(3, 4);

static int err_out(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SW_EINVAL;
}

/* n digits at s as a number; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

#define MAX_RELATIVE_S (100LL * 366 * 86400) /* a century back is enough for any store */

static int parse_relative(const char *s, int64_t now_ns, int64_t *out)
{
    /* "-" digits unit */
    const char *q = s + 1;
    int64_t v = 0;
    if (*q < '0' || *q > '9')
        return -1;
    for (; *q >= '0' && *q <= '9'; q++) {
        v = v * 10 + (*q - '0');
        if (v > MAX_RELATIVE_S)
            return -1;
    }
    int64_t unit;
    switch (*q) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return -1;
    }
    if (q[1] != '\0' || v > MAX_RELATIVE_S / unit)
        return -1;
    *out = now_ns - v * unit * NS;
    return SW_OK;
}

int sw_event_parse_time(const char *s, int64_t now_ns, int64_t *out, char *err, size_t errlen)
{
#define bad "'%.64s' is not a time (RFC 3339 like 2026-12-07T10:00:00Z, a date, now, or -30s/-10m/-2h/-1d)"
    if (strcmp(s, "now") == 0) {
        *out = now_ns;
        return SW_OK;
    }
    if (s[0] == '-')
        return parse_relative(s, now_ns, out) == 0 ? 0 : err_out(err, errlen, bad, s);
    size_t len = strlen(s);
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return err_out(err, errlen, bad, s);
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return err_out(err, errlen, bad, s);
    int h = 0, mi = 0, se = 0;
    int64_t frac_ns = 0, off_s = 0;
    const char *q = s + 10;
    if (*q != '\0') {
        if (!(*q == 'T' || *q == 't' || *q == ' ') || strlen(q) < 9 || q[3] != ':' || q[6] != ':')
            return err_out(err, errlen, bad, s);
        h = digits(q + 1, 2);
        mi = digits(q + 4, 2);
        se = digits(q + 7, 2);
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) /* 60: a leap second */
            return err_out(err, errlen, bad, s);
        q += 9;
        if (*q == '.') {
            int nd = 0;
            int64_t scale = NS / 10;
            for (q++; *q >= '0' && *q <= '9'; q++, nd++)
                if (nd < 9) {
                    frac_ns += (*q - '0') * scale;
                    scale /= 10;
                }
            if (nd == 0)
                return err_out(err, errlen, bad, s);
        }
        if (*q == 'Z' || *q == 'z') {
            q++;
        } else if (*q == '+' || *q == '-') {
            int oh = digits(q + 1, 2), om = q[1] && q[2] && q[3] == ':' ? digits(q + 4, 2) : -1;
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return err_out(err, errlen, bad, s);
            off_s = (int64_t)(oh * 3600 + om * 60) * (*q == '+' ? 1 : -1);
            q += 6;
        } else {
            return err_out(err, errlen, "'%.64s': an RFC 3339 time needs Z or an offset like +01:00", s);
        }
        if (*q != '\0')
            return err_out(err, errlen, bad, s);
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || (int64_t)t > INT64_MAX / NS - 2 * 86400)
        return err_out(err, errlen, bad, s);
    *out = ((int64_t)t - off_s) * NS + frac_ns;
    return SW_OK;
#undef bad
}

