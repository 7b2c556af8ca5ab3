/* sipwall — the Prometheus text exposition format 0.0.4 (docs/metrics.md).
 *
 * A writer, not a registry: whoever owns the numbers (sipwalld's workers,
 * its event pipeline, its exporters) reads them at scrape time and writes
 * them family by family into one sw_metrics text.  The writer enforces the
 * format's rules so that no caller can break them:
 *   - every family opens with "# HELP" and "# TYPE" lines, once;
 *   - names are [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 *     and not starting with "__"; counters end in "_total";
 *   - label values are escaped (\\, \", \n), HELP text too (\\, \n);
 *   - a histogram's buckets are cumulative, end with le="+Inf" equal to
 *     its _count, and come with _sum and _count;
 *   - the text ends with a newline and holds at most the ceiling set at
 *     creation (a scrape cannot grow memory without bound).
 * No dependency beyond libc (common layer).  Not thread-safe: one writer
 * per scrape. */
#ifndef SIPWALL_METRICS_H
#define SIPWALL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall/common.h"

typedef enum sw_metric_type {
    SW_METRIC_COUNTER = 0,
    SW_METRIC_GAUGE = 1,
    SW_METRIC_HISTOGRAM = 2,
} sw_metric_type;

/* One label: name=value.  value may hold any bytes but NUL (escaped on
 * output). */
typedef struct sw_metric_label {
    const char *name;
    const char *value;
} sw_metric_label;

#define SW_METRICS_MAX_LABELS 8       /* labels per sample */
#define SW_METRICS_MAX_BUCKETS 32     /* histogram bounds (without +Inf) */
#define SW_METRICS_DEFAULT_CEILING (8u << 20) /* bytes of text at most */

typedef struct sw_metrics sw_metrics;

/* A new, empty text of at most ceiling bytes (0: the default).  NULL when
 * out of memory. */
sw_metrics *sw_metrics_new(size_t ceiling) SW_WUR;
void sw_metrics_free(sw_metrics *m);

/* Opens family name of type t with its help text (one line; escaped).
 * Samples written after it belong to it.  A name used before, an invalid
 * name, or a counter not ending in "_total" is refused (SW_EINVAL) and
 * the writer goes into its error state: every later call returns that
 * error and sw_metrics_finish returns NULL.  SW_ELIMIT past the ceiling. */
int sw_metrics_family(sw_metrics *m, const char *name, sw_metric_type t, const char *help)
    SW_NONNULL(1, 2, 4);

/* One sample of the open counter or gauge family (value as an unsigned
 * integer or a double; NaN and ±Inf are written as the format spells
 * them).  labels may be NULL when nlabels is 0.  SW_EINVAL when no counter
 * or gauge family is open, a label name is invalid, or nlabels is over
 * SW_METRICS_MAX_LABELS; SW_ELIMIT past the ceiling. */
int sw_metrics_u64(sw_metrics *m, const sw_metric_label *labels, size_t nlabels, uint64_t value)
    SW_NONNULL(1);
int sw_metrics_double(sw_metrics *m, const sw_metric_label *labels, size_t nlabels, double value)
    SW_NONNULL(1);

/* One histogram series of the open histogram family: bounds[nb] strictly
 * increasing upper bounds (le, in the family's unit), counts[nb + 1]
 * observations per bucket, NOT cumulative (counts[nb]: above the last
 * bound), sum of all observed values.  Writes the cumulative _bucket
 * series with le="+Inf" = _count, then _sum and _count.  SW_EINVAL on
 * bad bounds or labels (a label named "le" included). */
int sw_metrics_histogram(sw_metrics *m, const sw_metric_label *labels, size_t nlabels,
                         const double *bounds, size_t nb, const uint64_t *counts, double sum)
    SW_NONNULL(1, 4, 6);

/* The text (NUL-terminated, ends with a newline unless empty), its length
 * in *len; the caller owns it (free()).  The writer is empty again
 * afterwards.  NULL when a call failed since the writer was made (or out
 * of memory); then sw_metrics_error says which error. */
char *sw_metrics_finish(sw_metrics *m, size_t *len) SW_NONNULL(1, 2);
int sw_metrics_error(const sw_metrics *m) SW_NONNULL(1);

/* Checks a name as the format wants it: 1 when valid (metric name; label
 * name when label is 1). */
int sw_metrics_name_ok(const char *name, int label) SW_NONNULL(1);

#endif
