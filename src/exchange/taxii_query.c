/* TAXII 2.1 timestamps and query strings (include/sipwall/taxii.h):
 * outside input, parsed without allocation into bounded arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipwall/taxii.h"

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int sw_taxii_format_ts(int64_t us, char out[SW_TAXII_TS_LEN])
{
    /* 253402300800 s = 10000-01-01 */
    if (us < 0 || us / 1000000 >= INT64_C(253402300800)) {
        out[0] = '\0';
        return SW_ERANGE;
    }
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[96];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
    memcpy(out, buf, SW_TAXII_TS_LEN - 1);
    out[SW_TAXII_TS_LEN - 1] = '\0';
    return SW_OK;
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

int sw_taxii_parse_ts(const char *s, size_t len, int64_t *us)
{
    unsigned y, mo, d, h, mi, se;
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return SW_EINVAL;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return SW_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return SW_EINVAL;
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd < 6)
                frac = frac * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0 || nd > 9)
            return SW_EINVAL;
        for (size_t k = nd; k < 6; k++)
            frac *= 10;
    }
    if (i + 1 != len || (s[i] != 'Z' && s[i] != 'z'))
        return SW_EINVAL;
    if (se == 60)
        se = 59; /* a leap second sorts with its minute */
    int64_t days = days_from_civil(y, mo, d);
    *us = ((days * 86400) + h * 3600 + mi * 60 + se) * INT64_C(1000000) + frac;
    return SW_OK;
}

/* ---- query strings ----------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL); '+' is a
 * space.  Control characters and %00 refused.  Length, or -1. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0)
                return -1;
            c = a * 16 + b;
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

static int id_ok(const char *v)
{
    /* TYPE--UUID: type [a-z0-9-], 3..250, then a UUID */
    const char *sep = strstr(v, "--");
    if (!sep || sep == v)
        return 0;
    for (const char *p = v; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    const char *u = sep + 2;
    if (strlen(u) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-')
                return 0;
        } else if (hexval(u[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

static int type_ok(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n >= SW_TAXII_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
            return 0;
    return 1;
}

static int fail(char *err, size_t errlen, const char *what, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, why);
    return SW_EINVAL;
}

/* Splits the decoded value on commas and checks each item. */
static int put_list(sw_taxii_query *q, int which, char *val, char *err, size_t errlen)
{
    static const char *const names[] = {"match[id]", "match[type]", "match[version]", "match[spec_version]"};
    const char *name = names[which];
    char *save = NULL;
    if (!val[0])
        return fail(err, errlen, name, "empty");
    size_t vl = strlen(val);
    if (val[0] == ',' || val[vl - 1] == ',' || strstr(val, ",,"))
        return fail(err, errlen, name, "empty item");
    for (char *it = strtok_r(val, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        switch (which) {
        case 0:
            if (q->nids == SW_TAXII_MATCH_MAX)
                return fail(err, errlen, name, "too many values");
            if (strlen(it) >= SW_TAXII_ID_MAX || !id_ok(it))
                return fail(err, errlen, name, "not a STIX id");
            snprintf(q->ids[q->nids++], SW_TAXII_ID_MAX, "%s", it);
            break;
        case 1:
            if (q->ntypes == SW_TAXII_MATCH_MAX)
                return fail(err, errlen, name, "too many values");
            if (!type_ok(it))
                return fail(err, errlen, name, "not a STIX type");
            snprintf(q->types[q->ntypes++], SW_TAXII_NAME_MAX, "%s", it);
            break;
        case 2:
            if (strcmp(it, "first") == 0)
                q->v_first = 1;
            else if (strcmp(it, "last") == 0)
                q->v_last = 1;
            else if (strcmp(it, "all") == 0)
                q->v_all = 1;
            else {
                if (q->nversions == SW_TAXII_MATCH_MAX)
                    return fail(err, errlen, name, "too many values");
                if (sw_taxii_parse_ts(it, strlen(it), &q->versions_us[q->nversions]) != SW_OK)
                    return fail(err, errlen, name, "not first, last, all or a timestamp");
                q->nversions++;
            }
            break;
        default:
            if (q->nspecs == SW_TAXII_MATCH_MAX)
                return fail(err, errlen, name, "too many values");
            if (strcmp(it, "2.0") != 0 && strcmp(it, "2.1") != 0)
                return fail(err, errlen, name, "not 2.0 or 2.1");
            snprintf(q->specs[q->nspecs++], sizeof q->specs[0], "%s", it);
            break;
        }
    }
    return SW_OK;
}

int sw_taxii_query_parse(const char *query, size_t len, sw_taxii_query *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->limit = SW_TAXII_LIMIT_DEFAULT;
    q->added_after_us = -1;
    q->next_us = -1;
    int seen_limit = 0, seen_after = 0, seen_next = 0;
    size_t i = 0;
    if (len > 8192)
        return fail(err, errlen, "query", "longer than 8192 bytes");
    while (i < len) {
        size_t j = i;
        while (j < len && query[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(query + i, '=', j - i);
            if (!eq)
                return fail(err, errlen, "query", "a parameter without '='");
            char key[64], val[4096];
            if (pct_decode(query + i, (size_t)(eq - query - i), key, sizeof key) < 0)
                return fail(err, errlen, "query", "bad parameter name");
            if (pct_decode(eq + 1, (size_t)(query + j - eq - 1), val, sizeof val) < 0)
                return fail(err, errlen, key, "bad percent-encoding or too long");
            int rc = SW_OK;
            if (strcmp(key, "limit") == 0) {
                char *end;
                if (seen_limit++)
                    return fail(err, errlen, key, "given twice");
                if (!val[0] || val[0] < '0' || val[0] > '9' || strlen(val) > 9)
                    return fail(err, errlen, key, "not a number 1..1000");
                long v = strtol(val, &end, 10);
                if (*end || v < 1)
                    return fail(err, errlen, key, "not a number 1..1000");
                /* a larger limit is lowered to ours (§3.4: the server may) */
                q->limit = v > SW_TAXII_LIMIT_MAX ? SW_TAXII_LIMIT_MAX : (size_t)v;
            } else if (strcmp(key, "added_after") == 0) {
                if (seen_after++)
                    return fail(err, errlen, key, "given twice");
                if (sw_taxii_parse_ts(val, strlen(val), &q->added_after_us) != SW_OK)
                    return fail(err, errlen, key, "not a timestamp");
            } else if (strcmp(key, "next") == 0) {
                char *end;
                if (seen_next++)
                    return fail(err, errlen, key, "given twice");
                if (!val[0] || val[0] < '0' || val[0] > '9' || strlen(val) > 18)
                    return fail(err, errlen, key, "not a cursor of this server");
                long long v = strtoll(val, &end, 10);
                if (*end || v < 0)
                    return fail(err, errlen, key, "not a cursor of this server");
                q->next_us = v;
            } else if (strcmp(key, "match[id]") == 0) {
                rc = put_list(q, 0, val, err, errlen);
            } else if (strcmp(key, "match[type]") == 0) {
                rc = put_list(q, 1, val, err, errlen);
            } else if (strcmp(key, "match[version]") == 0) {
                rc = put_list(q, 2, val, err, errlen);
            } else if (strcmp(key, "match[spec_version]") == 0) {
                rc = put_list(q, 3, val, err, errlen);
            }
            /* anything else: a filter we do not support, ignored (§3.4) */
            if (rc != SW_OK)
                return rc;
        }
        i = j + 1;
    }
    return SW_OK;
}
