/* fuzz_metrics — libFuzzer target for the Prometheus text writer
 * (sipwall/metrics.h), whose label values and help texts come from outside
 * (partner and rule names from a policy file, exporter names, versions).
 *
 * The input is split at 0xff bytes into: [0] control bytes, [1] family
 * name, [2] help text, [3] label name, [4] label value, [5] second label
 * value.  Contracts beyond ASan and UBSan: every call returns SW_OK or a
 * known error and the error is sticky; a finished text ends with a newline,
 * has exactly the lines written (no value breaks a line), and each label
 * value read back (unescaped) equals the value given; the text never
 * exceeds the ceiling. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/metrics.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of the n-th label="…" in line, unescaped into out; 0 when none. */
static int read_label(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    char key[256];
    int kl = snprintf(key, sizeof key, "%s=\"", name);
    if (kl < 0 || (size_t)kl >= sizeof key)
        return 0;
    const char *p = memmem(line, len, key, (size_t)kl);
    if (!p)
        return 0;
    p += kl;
    const char *end = line + len;
    size_t o = 0;
    while (p < end && *p != '"') {
        char ch = *p++;
        if (ch == '\\') {
            FZ_CHECK(p < end);
            ch = *p++;
            FZ_CHECK(ch == '\\' || ch == '"' || ch == 'n');
            if (ch == 'n')
                ch = '\n';
        }
        FZ_CHECK(o + 1 < cap);
        out[o++] = ch;
    }
    FZ_CHECK(p < end);
    out[o] = '\0';
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[6] = {0};
    char *buf = malloc(size + 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    unsigned np = 0;
    part[np++] = buf;
    for (size_t i = 0; i < size && np < 6; i++)
        if ((unsigned char)buf[i] == 0xff) {
            buf[i] = '\0';
            part[np++] = buf + i + 1;
        }
    for (unsigned i = np; i < 6; i++)
        part[i] = "";
    const unsigned char *ctl = (const unsigned char *)part[0];
    unsigned c0 = ctl[0], c1 = c0 ? ctl[1] : 0;

    size_t ceiling = 64 + (size_t)c1 * 32;
    sw_metrics *m = sw_metrics_new(ceiling);
    if (!m) {
        free(buf);
        return 0;
    }
    sw_metric_type t = (sw_metric_type)(c0 % 3);
    const char *fname = part[1][0] ? part[1] : (t == SW_METRIC_COUNTER ? "fz_total" : "fz");
    int rc = sw_metrics_family(m, fname, t, part[2]);
    sw_metric_label l[2] = {{part[3][0] ? part[3] : "rule", part[4]}, {"partner", part[5]}};
    size_t nl = (c0 >> 2) % 3;
    unsigned samples = 0;
    for (unsigned k = 0; k < 1 + (c0 >> 4) % 4; k++) {
        int r;
        if (t == SW_METRIC_HISTOGRAM) {
            const double b[] = {0.001, 0.01, 1};
            const uint64_t cnt[] = {k, 1, 2, (uint64_t)c1};
            r = sw_metrics_histogram(m, l, nl, b, 3, cnt, 1.5);
            if (r == SW_OK)
                samples += 4 + 2;
        } else {
            r = (c0 & 8) ? sw_metrics_double(m, l, nl, (double)c1 / 3 - 20)
                         : sw_metrics_u64(m, l, nl, UINT64_MAX - k);
            if (r == SW_OK)
                samples++;
        }
        FZ_CHECK(r == SW_OK || r == SW_EINVAL || r == SW_ELIMIT || r == SW_ENOMEM);
        if (rc == SW_OK)
            rc = r;
        else
            FZ_CHECK(r == rc); /* sticky */
    }
    FZ_CHECK(sw_metrics_error(m) == rc);
    size_t len = 0;
    char *text = sw_metrics_finish(m, &len);
    if (rc != SW_OK) {
        FZ_CHECK(text == NULL && len == 0);
    } else {
        FZ_CHECK(text != NULL);
        FZ_CHECK(len == strlen(text) && len <= ceiling);
        FZ_CHECK(len > 0 && text[len - 1] == '\n');
        unsigned lines = 0;
        const char *p = text;
        while (p < text + len) {
            const char *nl_at = memchr(p, '\n', (size_t)(text + len - p));
            FZ_CHECK(nl_at != NULL);
            if (lines >= 2 && nl > 0) {
                char v[4096];
                FZ_CHECK(read_label(p, (size_t)(nl_at - p), l[0].name, v, sizeof v));
                FZ_CHECK(strcmp(v, l[0].value) == 0);
            }
            lines++;
            p = nl_at + 1;
        }
        FZ_CHECK(lines == 2 + samples);
        free(text);
    }
    sw_metrics_free(m);
    free(buf);
    return 0;
}
