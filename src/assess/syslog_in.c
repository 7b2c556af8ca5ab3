/* Syslog as LOG-SINK-01's collector receives it from the device under
 * test: the frames of RFC 5425 / RFC 6587 and the RFC 5424 timestamp.
 * Pure functions over outside input: no allocation, views into the
 * caller's buffer, every length checked (fuzz/fuzz_logsink.c). */
#include <string.h>
#include <time.h>

#include "assess/host_int.h"

long sw__syslog_frame_next(const char *p, size_t n, size_t max, sw_str *msg)
{
    if (max > SW__SYSLOG_MAX_MSG)
        max = SW__SYSLOG_MAX_MSG;
    if (n == 0)
        return SW_EINCOMPLETE;
    if (p[0] >= '0' && p[0] <= '9') {
        if (p[0] == '0')
            return SW_EINVAL; /* MSG-LEN = NONZERO-DIGIT *DIGIT */
        size_t len = 0, i = 0;
        while (i < n && i < 6 && p[i] >= '0' && p[i] <= '9')
            len = len * 10 + (size_t)(p[i++] - '0');
        if (i == n)
            return SW_EINCOMPLETE;
        if (p[i] >= '0' && p[i] <= '9')
            return SW_ELIMIT; /* seven digits and more */
        if (p[i] != ' ')
            return SW_EINVAL;
        if (len > max)
            return SW_ELIMIT;
        if (n - i - 1 < len)
            return SW_EINCOMPLETE;
        *msg = sw_str_make(p + i + 1, len);
        return (long)(i + 1 + len);
    }
    size_t lim = n < max + 2 ? n : max + 2;
    const char *lf = memchr(p, '\n', lim);
    if (!lf)
        return n > max + 1 ? SW_ELIMIT : SW_EINCOMPLETE;
    size_t len = (size_t)(lf - p);
    if (len && p[len - 1] == '\r')
        len--;
    if (len > max)
        return SW_ELIMIT;
    *msg = sw_str_make(p, len);
    return (long)(lf - p) + 1;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

int sw__syslog_5424_time(sw_str msg, int64_t *unix_s)
{
    const char *p = msg.ptr;
    size_t n = msg.len, i = 0;
    /* <PRI>: 1..3 digits */
    if (n < 3 || p[0] != '<')
        return SW_EINVAL;
    for (i = 1; i < n && i < 4 && p[i] >= '0' && p[i] <= '9'; i++)
        ;
    if (i == 1 || i >= n || p[i] != '>')
        return SW_EINVAL;
    i++;
    /* VERSION "1" SP */
    if (n - i < 2 || p[i] != '1' || p[i + 1] != ' ')
        return SW_EINVAL;
    i += 2;
    /* FULL-DATE "T" PARTIAL-TIME [FRAC] TIME-OFFSET */
    if (n - i < 20)
        return SW_EINVAL;
    const char *t = p + i;
    int Y, M, D, h, m, s;
    if (!digits(t, 4, &Y) || t[4] != '-' || !digits(t + 5, 2, &M) || t[7] != '-' || !digits(t + 8, 2, &D) ||
        t[10] != 'T' || !digits(t + 11, 2, &h) || t[13] != ':' || !digits(t + 14, 2, &m) || t[16] != ':' ||
        !digits(t + 17, 2, &s))
        return SW_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
        return SW_EINVAL;
    size_t k = 19, rest = n - i;
    if (k < rest && t[k] == '.') {
        size_t f = ++k;
        while (k < rest && k - f < 6 && t[k] >= '0' && t[k] <= '9')
            k++;
        if (k == f)
            return SW_EINVAL;
    }
    if (k >= rest)
        return SW_EINVAL;
    int off = 0;
    if (t[k] == 'Z') {
        k++;
    } else if (t[k] == '+' || t[k] == '-') {
        int oh, om;
        if (rest - k < 6 || !digits(t + k + 1, 2, &oh) || t[k + 3] != ':' || !digits(t + k + 4, 2, &om) || oh > 23 ||
            om > 59)
            return SW_EINVAL;
        off = (t[k] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        k += 6;
    } else {
        return SW_EINVAL;
    }
    if (k < rest && t[k] != ' ')
        return SW_EINVAL;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = s};
    *unix_s = (int64_t)timegm(&tm) - off;
    return SW_OK;
}

static int addr_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
}

int sw__syslog_names(sw_str msg, const char *ip)
{
    size_t k = strlen(ip);
    if (!k || k > msg.len)
        return 0;
    for (size_t i = 0; i + k <= msg.len; i++) {
        if (memcmp(msg.ptr + i, ip, k))
            continue;
        int before = i > 0 && addr_char(msg.ptr[i - 1]);
        /* "1.2.3.4:5060" and "1.2.3.4." at a sentence end still name it */
        int after = i + k < msg.len && addr_char(msg.ptr[i + k]) &&
                    !(msg.ptr[i + k] == ':' && !strchr(ip, ':')) &&
                    !(msg.ptr[i + k] == '.' && (i + k + 1 == msg.len || !addr_char(msg.ptr[i + k + 1])));
        if (!before && !after)
            return 1;
    }
    return 0;
}
