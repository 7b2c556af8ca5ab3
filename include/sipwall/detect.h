/* sipwall — behavioural detectors (D1 scan/enumeration, D2 digest brute
 * force, D3 floods, D4 repeated malformed, D5 IRSF behaviour, D6 Wangiri,
 * D11 location probing) and the transaction/dialog tracking they need.
 *
 * Free of I/O: the engine hands every message's facts (with its timestamp,
 * the only clock) to sw_detectors_observe and gets back hits.  All state
 * lives in bounded tables (sw_table, LRU eviction) sized from the policy's
 * limits, so memory is fixed at sw_detectors_new and stays flat under a
 * flood from random sources.
 *
 * Retransmissions (same Call-ID, CSeq, method and top-Via branch within the
 * transaction lifetime) are recognised and never counted twice.  Responses
 * are matched to their request's transaction, so "failures of requests that
 * carried credentials" and "final responses to a source's requests" are
 * exact. */
#ifndef SIPWALL_DETECT_H
#define SIPWALL_DETECT_H

#include "sipwall/detect_params.h"
#include "sipwall/facts.h"
#include "sipwall/policy.h"

typedef struct sw_detectors sw_detectors;

typedef struct sw_detect_config {
    const sw_detector_conf *conf;   /* [SW_DET__COUNT], from sw_policy.detectors */
    sw_engine_limits limits;        /* table sizes */
    const sw_prefix_set *irsf_hot;  /* high-risk destination ranges (D5), NULL = none */
    uint64_t seed;                  /* table hash seed; 0 = random */
} sw_detect_config;

/* Whose traffic a hit is about (the engine blocks and summarises by it). */
typedef enum sw_offender_kind {
    SW_OFFENDER_SOURCE = 0,  /* source IP (IPv6: its /64) */
    SW_OFFENDER_CALLER,      /* calling number A */
    SW_OFFENDER_CALLER_PREFIX, /* A minus its last prefix-digits digits */
    SW_OFFENDER_CALLEE,      /* called number B */
    SW_OFFENDER_USER,        /* digest username (distributed brute force) */
    SW_OFFENDER_PEER,        /* a configured partner: never blocked, only limited */
    /* number ranges ("+" and 1..15 digits): a block covers every number
     * that starts with it, the longest held range decides (engine.c
     * blocked: INVITEs only).  Set by partners' e164_prefix indicators
     * (include/sipwall/intel.h); no detector trips on them. */
    SW_OFFENDER_CALLER_RANGE, /* calling numbers (Wangiri ranges) */
    SW_OFFENDER_CALLEE_RANGE, /* called numbers (IRSF ranges) */
} sw_offender_kind;

#define SW_DETECT_MAX_HITS 4
#define SW_DETECT_MAX_EVIDENCE 10

typedef struct sw_detect_hit {
    sw_detector_id detector;
    const char *rule;        /* static id, e.g. "scan.enumeration" */
    sw_event_type type;
    sw_category category;    /* behavioural (malformed: cat1) */
    sw_action action;        /* from the detector's conf */
    uint16_t status;
    uint32_t retry_after_s;
    uint8_t monitor;
    uint8_t confidence;
    uint8_t trip;            /* 1: this message crossed the threshold (emit an event);
                              * 0: the key is already over it (enforce, count, no event) */
    uint8_t offender_kind;   /* sw_offender_kind */
    sw_addr offender_addr;   /* SOURCE */
    char offender[SW_NUMBER_MAX + 16]; /* CALLER/PREFIX/CALLEE/USER/PEER as text */
    char username[48];       /* the digest username a brute-force hit is about
                              * ("" = none); never the password or response */
    int64_t block_ns;        /* block the offender this long (0 = none) */
    char reason[256];        /* human explanation with the figures */
    uint8_t nevidence;
    struct {
        const char *key;     /* static */
        int64_t num;
    } evidence[SW_DETECT_MAX_EVIDENCE];
} sw_detect_hit;

typedef struct sw_detect_result {
    uint8_t retransmission;  /* a retransmitted request (not counted) */
    uint8_t nhits;
    sw_detect_hit hits[SW_DETECT_MAX_HITS];
} sw_detect_result;

/* NULL on bad config or out of memory. */
sw_detectors *sw_detectors_new(const sw_detect_config *cfg) SW_WUR SW_NONNULL(1);
void sw_detectors_free(sw_detectors *d);
/* Takes new parameters and lists (a policy reload) keeping all state.
 * SW_ELIMIT when the limits or a window's ring width differ: then build a
 * new set of detectors instead. */
int sw_detectors_reconfigure(sw_detectors *d, const sw_detect_config *cfg) SW_WUR SW_NONNULL(1, 2);

/* A new set of detectors for cfg (other limits or window shapes) holding
 * what fits of old's state: every table's entries, least recently used
 * first, so that a smaller table keeps the most recent; old's hash seed,
 * generations and statistics.  When a window's ring width differs the
 * counts cannot be carried over: nothing is (*reshaped = 1) and every
 * entry counts as dropped.  *migrated / *dropped: entries over all tables.
 * old is unchanged (the caller frees it).  NULL on no memory. */
sw_detectors *sw_detectors_migrate(sw_detectors *old, const sw_detect_config *cfg, uint64_t *migrated,
                                   uint64_t *dropped, uint8_t *reshaped) SW_WUR SW_NONNULL(1, 2, 3, 4, 5);

/* Feeds one message (request or response, any direction).  Fills *out. */
void sw_detectors_observe(sw_detectors *d, const sw_facts *f, sw_detect_result *out)
    SW_NONNULL(1, 2, 3);

/* Bytes held by all tables (fixed after sw_detectors_new). */
size_t sw_detectors_memory(const sw_detectors *d) SW_NONNULL(1);

typedef struct sw_detect_stats {
    uint64_t messages, retransmissions, hits, trips;
    uint64_t evictions;      /* entries evicted from full tables */
    uint32_t entries;        /* live entries over all tables */
} sw_detect_stats;
void sw_detectors_stats(const sw_detectors *d, sw_detect_stats *out) SW_NONNULL(1, 2);

#endif
