/* The Prometheus text format 0.0.4 writer (sipwall/metrics.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/metrics.h"

#define MAX_FAMILIES 256
#define NAME_MAX_LEN 200

struct sw_metrics {
    char *buf;
    size_t len, cap, ceiling;
    int err;                       /* the first error, sticky */
    int open;                      /* a family is open */
    sw_metric_type type;           /* the open family's */
    char name[NAME_MAX_LEN + 1];   /* the open family's */
    char *families[MAX_FAMILIES];  /* every name used so far (duplicates refused) */
    size_t nfamilies;
};

sw_metrics *sw_metrics_new(size_t ceiling)
{
    sw_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ceiling = ceiling ? ceiling : SW_METRICS_DEFAULT_CEILING;
    return m;
}

static void forget_families(sw_metrics *m)
{
    for (size_t i = 0; i < m->nfamilies; i++)
        free(m->families[i]);
    m->nfamilies = 0;
}

void sw_metrics_free(sw_metrics *m)
{
    if (!m)
        return;
    forget_families(m);
    free(m->buf);
    free(m);
}

static int fail(sw_metrics *m, int err)
{
    if (!m->err)
        m->err = err;
    return m->err;
}

/* Appends n bytes, growing the buffer up to the ceiling (plus the NUL). */
static int put(sw_metrics *m, const char *s, size_t n)
{
    if (m->err)
        return m->err;
    if (n > m->ceiling - m->len)
        return fail(m, SW_ELIMIT);
    if (m->len + n + 1 > m->cap) {
        size_t nc = m->cap ? m->cap : 4096;
        while (nc < m->len + n + 1)
            nc *= 2;
        if (nc > m->ceiling + 1)
            nc = m->ceiling + 1;
        char *nb = realloc(m->buf, nc);
        if (!nb)
            return fail(m, SW_ENOMEM);
        m->buf = nb;
        m->cap = nc;
    }
    memcpy(m->buf + m->len, s, n);
    m->len += n;
    m->buf[m->len] = '\0';
    return SW_OK;
}

static int puts_(sw_metrics *m, const char *s) { return put(m, s, strlen(s)); }

static int putf(sw_metrics *m, const char *fmt, ...) SW_PRINTF(2, 3);
static int putf(sw_metrics *m, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return fail(m, SW_EINVAL);
    return put(m, tmp, (size_t)n);
}

int sw_metrics_name_ok(const char *name, int label)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    if (label && n >= 2 && name[0] == '_' && name[1] == '_')
        return 0; /* reserved for Prometheus itself */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (!label && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* HELP text: backslash and newline escaped (0.0.4). */
static int put_help(sw_metrics *m, const char *s)
{
    for (; *s; s++) {
        int rc = *s == '\\' ? put(m, "\\\\", 2) : *s == '\n' ? put(m, "\\n", 2) : put(m, s, 1);
        if (rc)
            return rc;
    }
    return SW_OK;
}

/* A label value: backslash, double quote and newline escaped. */
static int put_label_value(sw_metrics *m, const char *s)
{
    for (; *s; s++) {
        int rc = *s == '\\'  ? put(m, "\\\\", 2)
                 : *s == '"' ? put(m, "\\\"", 2)
                 : *s == '\n' ? put(m, "\\n", 2)
                              : put(m, s, 1);
        if (rc)
            return rc;
    }
    return SW_OK;
}

int sw_metrics_family(sw_metrics *m, const char *name, sw_metric_type t, const char *help)
{
    if (m->err)
        return m->err;
    if (!sw_metrics_name_ok(name, 0) || t > SW_METRIC_HISTOGRAM ||
        (t == SW_METRIC_COUNTER && !ends_with(name, "_total")) ||
        (t != SW_METRIC_COUNTER && ends_with(name, "_total")))
        return fail(m, SW_EINVAL);
    for (size_t i = 0; i < m->nfamilies; i++)
        if (strcmp(m->families[i], name) == 0)
            return fail(m, SW_EINVAL);
    if (m->nfamilies == MAX_FAMILIES)
        return fail(m, SW_ELIMIT);
    if (!(m->families[m->nfamilies] = strdup(name)))
        return fail(m, SW_ENOMEM);
    m->nfamilies++;
    static const char *const tname[] = {"counter", "gauge", "histogram"};
    puts_(m, "# HELP ");
    puts_(m, name);
    puts_(m, " ");
    put_help(m, help);
    puts_(m, "\n# TYPE ");
    puts_(m, name);
    puts_(m, " ");
    puts_(m, tname[t]);
    puts_(m, "\n");
    if (m->err)
        return m->err;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->type = t;
    m->open = 1;
    return SW_OK;
}

/* name{labels[,extra="v"]} — extra (le) may be NULL. */
static int put_series(sw_metrics *m, const char *suffix, const sw_metric_label *labels,
                      size_t nlabels, const char *extra_name, const char *extra_value)
{
    if (nlabels > SW_METRICS_MAX_LABELS || (nlabels && !labels))
        return fail(m, SW_EINVAL);
    for (size_t i = 0; i < nlabels; i++) {
        if (!labels[i].name || !labels[i].value || !sw_metrics_name_ok(labels[i].name, 1) ||
            (extra_name && strcmp(labels[i].name, extra_name) == 0))
            return fail(m, SW_EINVAL);
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i].name, labels[j].name) == 0)
                return fail(m, SW_EINVAL);
    }
    puts_(m, m->name);
    puts_(m, suffix);
    if (nlabels || extra_name) {
        puts_(m, "{");
        for (size_t i = 0; i < nlabels; i++) {
            if (i)
                puts_(m, ",");
            puts_(m, labels[i].name);
            puts_(m, "=\"");
            put_label_value(m, labels[i].value);
            puts_(m, "\"");
        }
        if (extra_name) {
            if (nlabels)
                puts_(m, ",");
            puts_(m, extra_name);
            puts_(m, "=\"");
            put_label_value(m, extra_value);
            puts_(m, "\"");
        }
        puts_(m, "}");
    }
    return m->err;
}

/* A double as the format spells it: +Inf, -Inf, NaN, else shortest
 * round-trip-safe %.17g (integers print without a fraction). */
static void fmt_double(double v, char *out, size_t cap)
{
    if (isnan(v))
        snprintf(out, cap, "NaN");
    else if (isinf(v))
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
    else {
        /* the shortest of %.15g..%.17g that reads back the same value */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, cap, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

int sw_metrics_u64(sw_metrics *m, const sw_metric_label *labels, size_t nlabels, uint64_t value)
{
    if (m->err)
        return m->err;
    if (!m->open || m->type == SW_METRIC_HISTOGRAM)
        return fail(m, SW_EINVAL);
    if (put_series(m, "", labels, nlabels, NULL, NULL))
        return m->err;
    return putf(m, " %llu\n", (unsigned long long)value);
}

int sw_metrics_double(sw_metrics *m, const sw_metric_label *labels, size_t nlabels, double value)
{
    if (m->err)
        return m->err;
    if (!m->open || m->type == SW_METRIC_HISTOGRAM)
        return fail(m, SW_EINVAL);
    if (m->type == SW_METRIC_COUNTER && !(value >= 0)) /* counters are never negative, never NaN */
        return fail(m, SW_EINVAL);
    if (put_series(m, "", labels, nlabels, NULL, NULL))
        return m->err;
    char v[40];
    fmt_double(value, v, sizeof v);
    return putf(m, " %s\n", v);
}

int sw_metrics_histogram(sw_metrics *m, const sw_metric_label *labels, size_t nlabels,
                         const double *bounds, size_t nb, const uint64_t *counts, double sum)
{
    if (m->err)
        return m->err;
    if (!m->open || m->type != SW_METRIC_HISTOGRAM || nb > SW_METRICS_MAX_BUCKETS)
        return fail(m, SW_EINVAL);
    for (size_t i = 0; i < nb; i++)
        if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1])))
            return fail(m, SW_EINVAL);
    uint64_t cum = 0;
    char le[40], v[40];
    for (size_t i = 0; i <= nb; i++) {
        cum += counts[i];
        if (i < nb)
            fmt_double(bounds[i], le, sizeof le);
        else
            snprintf(le, sizeof le, "+Inf");
        if (put_series(m, "_bucket", labels, nlabels, "le", le) ||
            putf(m, " %llu\n", (unsigned long long)cum))
            return m->err;
    }
    fmt_double(sum, v, sizeof v);
    if (put_series(m, "_sum", labels, nlabels, NULL, NULL) || putf(m, " %s\n", v) ||
        put_series(m, "_count", labels, nlabels, NULL, NULL) ||
        putf(m, " %llu\n", (unsigned long long)cum))
        return m->err;
    return SW_OK;
}

char *sw_metrics_finish(sw_metrics *m, size_t *len)
{
    *len = 0;
    if (!m->err && !m->buf) {
        /* nothing written: an empty text (still a valid exposition) */
        forget_families(m);
        m->open = 0;
        return calloc(1, 1);
    }
    if (m->err)
        return NULL;
    char *out = m->buf;
    *len = m->len;
    m->buf = NULL;
    m->len = m->cap = 0;
    m->open = 0;
    forget_families(m);
    return out;
}

int sw_metrics_error(const sw_metrics *m) { return m->err; }
