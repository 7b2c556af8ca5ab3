/* sipwalld's metrics and health (src/daemon/metrics.c, docs/metrics.md).
 *
 * Each worker owns its own counters here and is their only writer
 * (relaxed atomic stores: no lock, no shared cache line on the packet
 * path); a scrape reads every worker's and sums.  They live in the worker,
 * not in the engine's policy, so a reload never takes them back; the
 * engine's own statistics are folded into monotonic totals once a second
 * (swd_wmetrics_publish), so a reset inside the engine cannot show as a
 * counter going backwards either.
 *
 * Verdicts are counted by (action, rule, category, partner): rule and
 * partner names come from the policy, so the set is bounded by it; the
 * table has a fixed ceiling per worker (SWD_VERDICT_SLOTS) and what does
 * not fit is counted under rule="_other", partner="_other" — never lost,
 * never growing. */
#ifndef SWD_METRICS_H
#define SWD_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "daemon/config.h"
#include "sipwall/engine.h"

struct swd_daemon;
struct swd_worker;

#define SWD_LAT_BOUNDS 14     /* screening latency histogram bounds (see metrics.c) */
#define SWD_VERDICT_SLOTS 512 /* (action, rule, category, partner) series per worker */
#define SWD_VERDICT_NAME 64
#define SWD_HEALTH_STALE_NS (INT64_C(5) * 1000000000) /* a worker silent this long is stuck */

typedef struct swd_verdict_slot {
    atomic_uint used;         /* set (release) once the names below are written */
    uint8_t action, category; /* category SW_CAT__COUNT: none (allowed by default) */
    char rule[SWD_VERDICT_NAME];
    char partner[SWD_VERDICT_NAME];
    atomic_uint_fast64_t n;
} swd_verdict_slot;

typedef struct swd_wmetrics {
    atomic_uint_fast64_t rx[SWD_MAX_LISTENS]; /* messages received per listener */
    atomic_uint_fast64_t tx[SWD_MAX_LISTENS]; /* messages sent per listener */
    atomic_uint_fast64_t lat[SWD_LAT_BOUNDS + 1]; /* per bucket, not cumulative */
    atomic_uint_fast64_t lat_sum_ns;
    atomic_int_fast64_t heartbeat_ns;         /* the loop's last turn (swd_now_ns) */
    atomic_int_fast64_t stall_ms;             /* test hook: sleep this long once */
    /* the engine's statistics as monotonic totals (publish) */
    sw_engine_stats last;
    atomic_uint_fast64_t messages, malformed, retransmissions, events, events_suppressed, blocked,
        admission_drops, detector_hits, detector_trips, detector_evictions;
    /* verdicts: open addressing on the names' hash, the last slot is _other */
    swd_verdict_slot slots[SWD_VERDICT_SLOTS];
    unsigned nslots;
    /* the last slot taken, for the next message of the same kind */
    uint64_t c_gen;
    const char *c_rule;
    const void *c_peer;
    uint8_t c_action, c_category;
    swd_verdict_slot *c_slot;
} swd_wmetrics;

/* Worker side (its own thread only). */
/* One screening of ns nanoseconds. */
void swd_wmetrics_latency(swd_wmetrics *m, int64_t ns);
/* One verdict; gen is the policy generation the rule and peer belong to. */
void swd_wmetrics_verdict(swd_wmetrics *m, uint64_t gen, const sw_verdict *v);
/* Folds the engine's statistics into the totals (once a second). */
void swd_wmetrics_publish(swd_wmetrics *m, const sw_engine_stats *es);
static inline void swd_wmetrics_bump(atomic_uint_fast64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* The Prometheus text (format 0.0.4, docs/metrics.md) of the whole daemon:
 * malloc'd, NUL-terminated, its length in *len; NULL when out of memory.
 * Callable from any thread once the workers exist (the control thread,
 * the metrics listener, the admin API). */
char *swd_metrics_text(struct swd_daemon *d, size_t *len);

/* Health for load balancers: 1 when every worker turned its loop within
 * SWD_HEALTH_STALE_NS and a policy is in force, else 0; *json gets a
 * small malloc'd JSON object saying why (NULL when out of memory). */
int swd_health(struct swd_daemon *d, char **json);

/* The plain-HTTP metrics listener (`metrics listen ADDR:PORT`): GET
 * /metrics and GET /health only, on its own thread.  _start binds (before
 * privileges drop) and starts; NULL with err when it cannot bind. */
typedef struct swd_metrics_http swd_metrics_http;
swd_metrics_http *swd_metrics_http_start(struct swd_daemon *d, char *err, size_t errlen);
void swd_metrics_http_stop(swd_metrics_http *h);

#endif
