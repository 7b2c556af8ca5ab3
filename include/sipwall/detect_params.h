/* sipwall — the behavioural detectors' names and parameters with their
 * defaults (specs: docs/detectors.md).  One table, read by the policy
 * parser (what a `detector NAME { … }` block may set) and by the detectors.
 *
 * X(DETECTOR_ENUM, "detector-name", default event type)
 * P(DETECTOR_ENUM, PARAM_ENUM, "param-name", kind, default)
 *   kinds: COUNT (integer >= 0), DURATION (ns; written 10s, 5m, 1h, 3d, 250ms),
 *          PERCENT (0..100, written 70%), DIGITS (count of digits) */
#ifndef SIPWALL_DETECT_PARAMS_H
#define SIPWALL_DETECT_PARAMS_H

#include <stdint.h>

#include "sipwall/vocab.h"

#define SW_NS_S INT64_C(1000000000)

#define SW_DETECTOR_LIST(X)                                                  \
    X(SCAN, "scan", SW_EVT_SIP_SCAN)                /* D1 */                \
    X(BRUTEFORCE, "bruteforce", SW_EVT_SIP_BRUTEFORCE) /* D2 */             \
    X(FLOOD, "flood", SW_EVT_SIP_FLOOD)             /* D3 */                \
    X(MALFORMED, "malformed", SW_EVT_SIP_MALFORMED) /* D4 per-source */     \
    X(IRSF, "irsf", SW_EVT_IRSF_CALL)               /* D5 R3/R4 */          \
    X(WANGIRI, "wangiri", SW_EVT_WANGIRI_CLI)       /* D6 */                \
    X(LOCATION_PROBE, "location-probe", SW_EVT_LOCATION_PROBE) /* D11 */

#define SW_DETECTOR_PARAM_LIST(P)                                                     \
    /* D1: vertical enumeration and horizontal sweeps per source */                  \
    P(SCAN, SCAN_WINDOW, "window", DURATION, 60 * SW_NS_S)                           \
    P(SCAN, SCAN_DISTINCT_USERS, "distinct-users", COUNT, 20)                        \
    P(SCAN, SCAN_FAILURE_RATIO, "failure-ratio", PERCENT, 70)                        \
    P(SCAN, SCAN_DISTINCT_TARGETS, "distinct-targets", COUNT, 10)                    \
    P(SCAN, SCAN_BLOCK, "block", DURATION, 3600 * SW_NS_S)                           \
    /* D2: failures of requests that carried credentials */                          \
    P(BRUTEFORCE, BF_WINDOW, "window", DURATION, 300 * SW_NS_S)                      \
    P(BRUTEFORCE, BF_FAILURES, "failures", COUNT, 10)                                \
    P(BRUTEFORCE, BF_FAILURE_RATIO, "failure-ratio", PERCENT, 90)                    \
    P(BRUTEFORCE, BF_SPRAY_WINDOW, "spray-window", DURATION, 600 * SW_NS_S)          \
    P(BRUTEFORCE, BF_SPRAY_FAILURES, "spray-failures", COUNT, 30)                    \
    P(BRUTEFORCE, BF_SPRAY_USERS, "spray-users", COUNT, 5)                           \
    P(BRUTEFORCE, BF_DIST_FAILURES, "distributed-failures", COUNT, 50)               \
    P(BRUTEFORCE, BF_DIST_SOURCES, "distributed-sources", COUNT, 10)                 \
    P(BRUTEFORCE, BF_BLOCK, "block", DURATION, 3600 * SW_NS_S)                       \
    /* D2: a success after failures (the password was found) */                      \
    P(BRUTEFORCE, BF_COMPROMISED_FAILURES, "compromised-failures", COUNT, 2)         \
    /* D2: slow spraying spread over a network, and over a whole realm */            \
    P(BRUTEFORCE, BF_NET_PREFIX_V4, "network-prefix-v4", COUNT, 24) /* 8..32 */      \
    P(BRUTEFORCE, BF_NET_PREFIX_V6, "network-prefix-v6", COUNT, 64) /* 16..64 */     \
    P(BRUTEFORCE, BF_NET_WINDOW, "network-window", DURATION, 1800 * SW_NS_S)         \
    P(BRUTEFORCE, BF_NET_FAILURES, "network-failures", COUNT, 40)                    \
    P(BRUTEFORCE, BF_NET_USERS, "network-users", COUNT, 10)                          \
    P(BRUTEFORCE, BF_NET_FAILURE_RATIO, "network-failure-ratio", PERCENT, 80)        \
    P(BRUTEFORCE, BF_REALM_FAILURES, "realm-failures", COUNT, 150)                   \
    P(BRUTEFORCE, BF_REALM_USERS, "realm-users", COUNT, 20)                          \
    P(BRUTEFORCE, BF_REALM_SOURCES, "realm-sources", COUNT, 8)                       \
    /* D3: request floods */                                                         \
    P(FLOOD, FL_SRC_WINDOW, "source-window", DURATION, 2 * SW_NS_S)                  \
    P(FLOOD, FL_SRC_REQUESTS, "source-requests", COUNT, 30)                          \
    P(FLOOD, FL_SRC_BLOCK, "source-block", DURATION, 120 * SW_NS_S)                  \
    P(FLOOD, FL_PEER_CPS_FACTOR, "peer-cps-factor", PERCENT, 150)                    \
    P(FLOOD, FL_CALLEE_WINDOW, "callee-window", DURATION, 60 * SW_NS_S)              \
    P(FLOOD, FL_CALLEE_INVITES, "callee-invites", COUNT, 10)                         \
    P(FLOOD, FL_CALLER_WINDOW, "caller-window", DURATION, 10 * SW_NS_S)              \
    P(FLOOD, FL_CALLER_INVITES, "caller-invites", COUNT, 20)                         \
    P(FLOOD, FL_RETRY_AFTER, "retry-after", DURATION, 30 * SW_NS_S)                  \
    /* D3: a partner's burst over its own learned rate (no contract needed) */      \
    P(FLOOD, FL_BURST_WINDOW, "peer-burst-window", DURATION, 2 * SW_NS_S)            \
    P(FLOOD, FL_BURST_FLOOR, "peer-burst-floor", COUNT, 40)                          \
    P(FLOOD, FL_BURST_FACTOR, "peer-burst-factor", PERCENT, 400)                     \
    P(FLOOD, FL_BURST_FAILURE_RATIO, "peer-burst-failure-ratio", PERCENT, 50)        \
    P(FLOOD, FL_BASELINE, "peer-baseline", DURATION, 300 * SW_NS_S)                  \
    P(FLOOD, FL_WARMUP, "peer-warmup", DURATION, 600 * SW_NS_S)                      \
    P(FLOOD, FL_PEER_IDLE, "peer-idle", DURATION, 60 * SW_NS_S)                      \
    /* D4: repeated malformed messages from one source */                            \
    P(MALFORMED, MF_WINDOW, "window", DURATION, 60 * SW_NS_S)                        \
    P(MALFORMED, MF_COUNT, "count", COUNT, 5)                                        \
    P(MALFORMED, MF_BLOCK, "block", DURATION, 3600 * SW_NS_S)                        \
    /* D5: IRSF behaviour (R3 volume/concurrency/sequential, R4 test calls) */       \
    P(IRSF, IRSF_WINDOW, "window", DURATION, 600 * SW_NS_S)                          \
    P(IRSF, IRSF_CALLS, "calls", COUNT, 10)                                          \
    P(IRSF, IRSF_CONCURRENT, "concurrent", COUNT, 3)                                 \
    P(IRSF, IRSF_SEQUENTIAL, "sequential", COUNT, 5)                                 \
    P(IRSF, IRSF_RANGE_DIGITS, "range-digits", DIGITS, 3) /* B minus this many digits = one range */ \
    P(IRSF, IRSF_SHORT_CALL, "short-call", DURATION, 10 * SW_NS_S)                   \
    P(IRSF, IRSF_LONG_CALL, "long-call", DURATION, 300 * SW_NS_S)                    \
    P(IRSF, IRSF_TEST_WINDOW, "test-window", DURATION, 3600 * SW_NS_S)               \
    P(IRSF, IRSF_BLOCK, "block", DURATION, 3600 * SW_NS_S)                           \
    /* D5 by pattern: one trunk (partner, else source) spreading calls over hot ranges */ \
    P(IRSF, IRSF_TRUNK_DISTINCT, "trunk-distinct", COUNT, 6)                         \
    P(IRSF, IRSF_TRUNK_SHARE, "trunk-share", PERCENT, 20)                            \
    /* D5 by trunk: its hot calls above the normal learned from its own past */     \
    P(IRSF, IRSF_LEARN_WINDOW, "learn-window", DURATION, 86400 * SW_NS_S)            \
    P(IRSF, IRSF_LEARN_MIN, "learn-min", DURATION, 6 * 3600 * SW_NS_S)               \
    P(IRSF, IRSF_RATE_FACTOR, "rate-factor", PERCENT, 500)                           \
    /* D5 by contract: a partner's hot calls against its contracted cps/concurrency */ \
    P(IRSF, IRSF_CONTRACT_SHARE, "contract-share", PERCENT, 50)                      \
    P(IRSF, IRSF_CONTRACT_WINDOW, "contract-window", DURATION, 10 * SW_NS_S)         \
    /* D5 by trunk: short or unanswered test calls to a hot range, then a burst */  \
    P(IRSF, IRSF_TEST_CALLS, "test-calls", COUNT, 2)                                 \
    P(IRSF, IRSF_BURST, "burst", COUNT, 8)                                           \
    P(IRSF, IRSF_BURST_WINDOW, "burst-window", DURATION, 900 * SW_NS_S)              \
    /* D5: long answered calls to hot ranges in the operator's quiet hours */        \
    P(IRSF, IRSF_NIGHT_CALL, "night-call", DURATION, 1800 * SW_NS_S)                 \
    P(IRSF, IRSF_QUIET_HOURS, "quiet-hours", HOURS, 2206) /* from * 100 + to, local */ \
    P(IRSF, IRSF_UTC_OFFSET, "utc-offset", OFFSET, 0)     /* local time - UTC, minutes */ \
    P(IRSF, IRSF_QUIET_DAYS, "quiet-days", DAYS, 156)    /* sat-sun: 100 + FROM * 10 + TO */ \
    P(IRSF, IRSF_DAY_HISTORY, "day-history", DURATION, 7 * 86400 * SW_NS_S)          \
    /* D6: one-ring calls per A number and per A prefix */                           \
    P(WANGIRI, WG_WINDOW, "window", DURATION, 600 * SW_NS_S)                         \
    P(WANGIRI, WG_DISTINCT_CALLEES, "distinct-callees", COUNT, 20)                   \
    P(WANGIRI, WG_UNANSWERED_RATIO, "unanswered-ratio", PERCENT, 80)                 \
    P(WANGIRI, WG_RING_MEDIAN, "ring-median", DURATION, 6 * SW_NS_S)                 \
    P(WANGIRI, WG_PREFIX_DIGITS, "prefix-digits", DIGITS, 3)                         \
    P(WANGIRI, WG_BLOCK, "block", DURATION, 72 * 3600 * SW_NS_S)                     \
    /* D6 campaigns across carriers: per calling range and per called range */    \
    P(WANGIRI, WG_RANGE_DIGITS, "range-digits", DIGITS, 6)                           \
    P(WANGIRI, WG_CALLED_DIGITS, "called-range-digits", DIGITS, 3)                   \
    /* D11: location probing of one subscriber */                                    \
    P(LOCATION_PROBE, LP_WINDOW, "window", DURATION, 3600 * SW_NS_S)                 \
    P(LOCATION_PROBE, LP_CANCEL_PAIRS, "cancel-pairs", COUNT, 5)                     \
    P(LOCATION_PROBE, LP_OOD_PROBES, "ood-probes", COUNT, 3)

typedef enum sw_detector_id {
#define SW__DET_ENUM(id, name, evt) SW_DET_##id,
    SW_DETECTOR_LIST(SW__DET_ENUM)
#undef SW__DET_ENUM
    SW_DET__COUNT
} sw_detector_id;

typedef enum sw_detector_param {
#define SW__DP_ENUM(det, id, name, kind, def) SW_DP_##id,
    SW_DETECTOR_PARAM_LIST(SW__DP_ENUM)
#undef SW__DP_ENUM
    SW_DP__COUNT
} sw_detector_param;

/* HOURS: "FROM-TO" local hours 0-23, kept as FROM * 100 + TO (FROM == TO:
 * none); OFFSET: "+HH:MM" / "-HH:MM" from UTC, kept in minutes (-14 h to
 * +14 h); DAYS: "FROM-TO" weekdays mon..sun (0..6), kept as 100 + FROM * 10
 * + TO, or "none" (0). */
typedef enum sw_param_kind {
    SW_PK_COUNT,
    SW_PK_DURATION,
    SW_PK_PERCENT,
    SW_PK_DIGITS,
    SW_PK_HOURS,
    SW_PK_OFFSET,
    SW_PK_DAYS
} sw_param_kind;

/* "mon".."sun" for DAYS (0..6). */
extern const char *const sw_weekday_names[7];

typedef struct sw_detector_param_spec {
    uint8_t detector;  /* sw_detector_id */
    uint8_t kind;      /* sw_param_kind */
    uint16_t param;    /* sw_detector_param */
    const char *name;
    int64_t def;
} sw_detector_param_spec;

/* Static tables (src/detect/params.c). */
const char *sw_detector_name(sw_detector_id d);
int sw_detector_lookup(const char *name, sw_detector_id *out);
/* The parameter table; *n receives its length. */
const sw_detector_param_spec *sw_detector_params(unsigned *n);
/* Parameter of detector d by name, or NULL. */
const sw_detector_param_spec *sw_detector_param_lookup(sw_detector_id d, const char *name);

#endif
