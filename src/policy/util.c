/* Small helpers of the policy layer: diagnostics, value syntax shared by
 * the parser and the list readers, capped file reading, path joining. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/policy_int.h"

void sw__diag_vadd(sw_policy_diags *d, int warning, const char *file, uint32_t line,
                   uint32_t col, const char *fmt, va_list ap)
{
    if (warning)
        d->warnings++;
    else
        d->errors++;
    if (d->n >= SW_POLICY_MAX_DIAGS)
        return; /* still counted above */
    sw_policy_diag *g = &d->d[d->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->file, sizeof g->file, "%s", file ? file : "");
    g->line = line;
    g->col = col;
    g->warning = warning ? 1 : 0;
    vsnprintf(g->msg, sizeof g->msg, fmt, ap);
}

void sw__diag_add(sw_policy_diags *d, int warning, const char *file, uint32_t line, uint32_t col,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sw__diag_vadd(d, warning, file, line, col, fmt, ap);
    va_end(ap);
}

int sw_policy_diag_format(const sw_policy_diag *d, char *buf, size_t len)
{
    const char *kind = d->warning ? "warning" : "error";
    int n;
    if (d->line && d->col)
        n = snprintf(buf, len, "%s:%u:%u: %s: %s", d->file, d->line, d->col, kind, d->msg);
    else if (d->line)
        n = snprintf(buf, len, "%s:%u: %s: %s", d->file, d->line, kind, d->msg);
    else
        n = snprintf(buf, len, "%s: %s: %s", d->file, kind, d->msg);
    if (n < 0)
        return SW_EINVAL;
    return (size_t)n < len ? n : SW_ELIMIT;
}

int sw__parse_uint(const char *text, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (*text == '\0')
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int sw__parse_duration(const char *text, int64_t *ns)
{
    const char *p = text;
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > 1000000000ull)
            return -1; /* far beyond any sensible duration; keeps the product in range */
        v = v * 10 + (uint64_t)(*p - '0');
    }
    int64_t unit;
    if (strcmp(p, "ms") == 0)
        unit = 1000000;
    else if (strcmp(p, "s") == 0)
        unit = SW_NS_S;
    else if (strcmp(p, "m") == 0)
        unit = 60 * SW_NS_S;
    else if (strcmp(p, "h") == 0)
        unit = 3600 * SW_NS_S;
    else if (strcmp(p, "d") == 0)
        unit = 86400 * SW_NS_S;
    else
        return -1;
    if (v > (uint64_t)(INT64_MAX / unit))
        return -1;
    *ns = (int64_t)v * unit;
    return 0;
}

int sw__plmn_valid(const char *t)
{
    size_t n = strlen(t);
    if (n != 6 && n != 7)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 3) {
            if (t[i] != '-')
                return 0;
        } else if (t[i] < '0' || t[i] > '9') {
            return 0;
        }
    }
    return 1;
}

int sw__read_file_capped(const char *path, size_t cap, int regular_only, char **out,
                         size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return SW_EIO;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || S_ISDIR(st.st_mode) ||
        (regular_only && !S_ISREG(st.st_mode))) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        fclose(fp);
        errno = e;
        return SW_EIO;
    }
    size_t n = 0, bcap = 0;
    char *buf = NULL;
    for (;;) {
        if (bcap - n < 4096) {
            size_t ncap = bcap ? bcap * 2 : 16384;
            if (ncap > cap + 4096)
                ncap = cap + 4096; /* one block past the cap tells "too big" */
            if (ncap <= n) {
                free(buf);
                fclose(fp);
                return SW_ELIMIT;
            }
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                return SW_ENOMEM;
            }
            buf = nb;
            bcap = ncap;
        }
        size_t r = fread(buf + n, 1, bcap - n, fp);
        n += r;
        if (n > cap) {
            free(buf);
            fclose(fp);
            return SW_ELIMIT;
        }
        if (r == 0) {
            int bad = ferror(fp);
            int e = errno;
            fclose(fp);
            if (bad) {
                free(buf);
                errno = e ? e : EIO;
                return SW_EIO;
            }
            break;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return SW_OK;
}

char *sw__dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup("");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

char *sw__path_join_dir(const char *base_dir, const char *rel)
{
    if (rel[0] == '/' || !base_dir || base_dir[0] == '\0')
        return strdup(rel);
    size_t a = strlen(base_dir), b = strlen(rel);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, base_dir, a);
    size_t o = a;
    if (base_dir[a - 1] != '/')
        p[o++] = '/';
    memcpy(p + o, rel, b + 1);
    return p;
}
