/* Internals shared by the behavioural detectors (src/detect/).
 *
 * Building blocks, all fixed-size so they live inline in sw_table values:
 *   sw__ring  a sliding-window counter: 10 slots of window/10 each, so a
 *             count covers the last 0.9-1.0 windows and slow activity
 *             spread over the whole window still adds up;
 *   sw__dset  a distinct counter: N (hash, last-seen second) pairs, exact
 *             up to N live values, values older than the window drop out;
 *   sw__trip  per-rule trip state: tripped keys report trip=0 hits until a
 *             whole window passes without the rule's condition holding. */
#ifndef SW_DETECT_INT_H
#define SW_DETECT_INT_H

#include <stdio.h>

#include "sipwall/detect.h"
#include "sipwall/table.h"

#define SW__RING_SLOTS 10

typedef struct sw__ring {
    int64_t slot; /* index (ts / width) of the newest slot */
    uint32_t n[SW__RING_SLOTS];
} sw__ring;

/* Adds k at ts and returns the sum over the window. */
uint32_t sw__ring_add(sw__ring *r, int64_t ts, int64_t window, uint32_t k);
/* The sum over the window ending at ts (slides the ring forward). */
uint32_t sw__ring_sum(sw__ring *r, int64_t ts, int64_t window);

/* Distinct values: h[i] == 0 is an empty slot.  Returns the number of live
 * distinct values after adding `hash` (capped at n). */
uint32_t sw__dset_add(uint32_t *h, uint32_t *t, unsigned n, uint32_t hash, uint32_t now_s,
                      uint32_t window_s);
uint32_t sw__dset_count(const uint32_t *h, const uint32_t *t, unsigned n, uint32_t now_s,
                        uint32_t window_s);

typedef struct sw__trip {
    int64_t last_over; /* last time the condition held */
    uint8_t on;
} sw__trip;

#define SW__NO_HIT (-1)
/* over: the condition holds on this message.  sticky: a message of a
 * tripped key is offending even when the condition does not hold right now
 * (e.g. more attempts from a source caught scanning).  Returns SW__NO_HIT,
 * 1 (crossing: emit an event) or 0 (already tripped). */
int sw__trip_check(sw__trip *tr, int over, int sticky, int64_t ts, int64_t window);

/* ---- keys ---------------------------------------------------------------- */
/* A source: IPv4 address or IPv6 /64, no port.  Padding zeroed. */
typedef struct sw__skey {
    uint8_t family;
    uint8_t pad[3];
    uint8_t ip[16];
} sw__skey;

/* Two hashes (e.g. source or caller + username or range). */
typedef struct sw__hkey2 {
    uint64_t a, b;
} sw__hkey2;

/* ---- the detector set -------------------------------------------------------- */
typedef struct sw__txn sw__txn;
typedef struct sw__dlg sw__dlg;

#define SW__NTABLES 16

struct sw_detectors {
    sw_detector_conf conf[SW_DET__COUNT]; /* copied: the policy may go away */
    int64_t p[SW_DP__COUNT]; /* each parameter from its own detector's conf, sanitised */
    sw_engine_limits lim;
    const sw_prefix_set *hot;
    uint64_t seed;   /* string hashes */
    uint64_t gen;    /* generation numbers for counter entries */

    union {
        struct {
            sw_table *txn;   /* transactions */
            sw_table *dlg;   /* dialogs by Call-ID */
            sw_table *scan;  /* D1 per source */
            sw_table *bf_pair, *bf_spray, *bf_user; /* D2 */
            sw_table *fl_src, *fl_peer, *fl_callee, *fl_caller; /* D3 */
            sw_table *mf;    /* D4 */
            sw_table *ir_caller, *ir_range; /* D5 */
            sw_table *wg_a, *wg_p; /* D6 */
            sw_table *lp;    /* D11 */
        };
        sw_table *all[SW__NTABLES];
    };

    uint64_t messages, retransmissions, hits, trips, dropped_hits;
};

/* What one observe call works with. */
typedef struct sw__msg {
    sw_detectors *d;
    const sw_facts *f;
    sw_detect_result *out;
    int64_t ts;
    uint32_t now_s;
    sw__skey src;       /* of f->src */
    uint8_t partner;    /* sending peer is a configured partner */
    uint8_t new_call;   /* this INVITE created a dialog */
} sw__msg;

/* Per-request transaction state (what its responses need). */
#define SW__USER_MAX 40
struct sw__txn {
    int64_t last;       /* first field of every value: last activity */
    sw__skey src;       /* the requester */
    uint64_t auth_hash;
    uint8_t auth_len;
    uint8_t creds, final_seen, partner, method, retrans;
    char auth_user[SW__USER_MAX];
};

/* Dialog (call) state, keyed by Call-ID. */
enum {
    SW__DLG_INGRESS = 1 << 0,
    SW__DLG_ANSWERED = 1 << 1,
    SW__DLG_ENDED = 1 << 2,
    SW__DLG_WANGIRI = 1 << 3,  /* counted by D6 */
    SW__DLG_HOT = 1 << 4,      /* B in a hot range (D5) */
    SW__DLG_TESTCALL = 1 << 5, /* eligible for the test-call pattern (D5) */
    SW__DLG_LONG_DONE = 1 << 6,
    SW__DLG_PROBE = 1 << 7,    /* counted by D11 */
    SW__DLG_PARTNER = 1 << 8,
    SW__DLG_CANCELLED = 1 << 9,
};

struct sw__dlg {
    int64_t last;
    int64_t invite_ts, ring_ts, answer_ts, cancel_ts, end_ts;
    sw__skey src;
    uint64_t peer_key, peer_gen;   /* partner concurrency (D3) */
    uint64_t ir_key, ir_gen;       /* caller hot concurrency (D5) */
    uint64_t probe_key;            /* D11 source-or-peer */
    uint32_t flags;
    uint8_t a_len, b_len;
    char a[SW_NUMBER_MAX], b[SW_NUMBER_MAX];
    char peer_name[32];            /* for PEER offenders at dialog end */
};

/* ---- per-key state of the detectors (values of their tables) ---------------
 * Every value starts with `last` (last activity, ns) for age-based expiry. */
#define SW__SCAN_USERS 32
#define SW__SCAN_TARGETS 16
typedef struct sw__scan_st {
    int64_t last;
    sw__ring resp, fail;         /* final responses to its requests, failures among them */
    sw__trip enum_trip, sweep_trip;
    uint32_t uh[SW__SCAN_USERS], ut[SW__SCAN_USERS];
    uint32_t th[SW__SCAN_TARGETS], tt[SW__SCAN_TARGETS];
} sw__scan_st;

typedef struct sw__bf_pair_st {  /* (source, username) */
    int64_t last;
    sw__ring fail, att;
    sw__trip trip;
} sw__bf_pair_st;

#define SW__BF_SPRAY_USERS 16
typedef struct sw__bf_spray_st { /* source */
    int64_t last;
    sw__ring fail;
    sw__trip trip;
    uint32_t uh[SW__BF_SPRAY_USERS], ut[SW__BF_SPRAY_USERS];
} sw__bf_spray_st;

#define SW__BF_DIST_SOURCES 32
typedef struct sw__bf_user_st {  /* username */
    int64_t last;
    sw__ring fail;
    sw__trip trip;
    uint32_t sh[SW__BF_DIST_SOURCES], st[SW__BF_DIST_SOURCES];
} sw__bf_user_st;

typedef struct sw__count_st {    /* flood per source/callee/caller, malformed per source */
    int64_t last;
    sw__ring n;
    sw__trip trip;
} sw__count_st;

typedef struct sw__peer_st {     /* a partner: INVITE rate and live calls */
    int64_t last;
    sw__ring cps;
    uint64_t gen;
    uint32_t active;
    sw__trip cps_trip, conc_trip;
} sw__peer_st;

typedef struct sw__ir_caller_st { /* A, or the source when A is missing */
    int64_t last;
    sw__ring hot;
    uint64_t gen;
    uint32_t active;
    sw__trip vol_trip, conc_trip;
} sw__ir_caller_st;

#define SW__IR_RANGE_B 16
typedef struct sw__ir_range_st { /* (caller, B range) */
    int64_t last;
    int64_t short_end;           /* end of the last short answered call, 0 = none */
    sw__trip seq_trip, tc_trip;
    uint32_t bh[SW__IR_RANGE_B], bt[SW__IR_RANGE_B];
} sw__ir_range_st;

#define SW__WG_CALLEES 32
#define SW__WG_SAMPLES 32
typedef struct sw__wg_st {       /* A or A prefix */
    int64_t last;
    sw__ring ended, cancelled;
    sw__trip trip;
    uint32_t bh[SW__WG_CALLEES], bt[SW__WG_CALLEES];
    uint32_t ring_ms[SW__WG_SAMPLES], ring_t[SW__WG_SAMPLES]; /* INVITE->CANCEL, when */
    uint32_t next_sample;
} sw__wg_st;

typedef struct sw__lp_st {       /* (source or partner, B) */
    int64_t last;
    sw__ring cancels, ood;
    sw__trip cancel_trip, ood_trip;
} sw__lp_st;

/* Hash domains, so equal text of different kinds never shares a key. */
enum {
    SW__TAG_CALLID = 1, SW__TAG_TXN, SW__TAG_SRC, SW__TAG_PEER, SW__TAG_A, SW__TAG_PREFIX,
    SW__TAG_B, SW__TAG_USER, SW__TAG_RANGE, SW__TAG_TARGET, SW__TAG_CALLER
};

/* ---- helpers (detect.c) -------------------------------------------------------- */
static inline int64_t sw__p(const sw_detectors *d, sw_detector_param p) { return d->p[p]; }
uint32_t sw__secs(int64_t ns); /* ceil, at least 1 */
uint64_t sw__hstr(const sw_detectors *d, uint64_t tag, const char *s, size_t n);
uint64_t sw__hsrc(const sw_detectors *d, const sw__skey *k);
void sw__skey_of(const sw_addr *a, sw__skey *k);

/* Offender of a hit. */
typedef struct sw__who {
    sw_offender_kind kind;
    const sw__skey *src;   /* SOURCE */
    const char *text;      /* the rest */
    size_t text_len;
    uint8_t partner;       /* the source is a configured partner: never block */
} sw__who;

/* Adds a hit (NULL when the result is full and this one lost).  block_ns is
 * cleared for PEER/USER offenders, partners and monitor mode. */
sw_detect_hit *sw__hit(sw__msg *m, sw_detector_id det, const char *rule, int trip,
                       const sw__who *who, int64_t block_ns);
void sw__hit_reason(sw_detect_hit *h, const char *fmt, ...) SW_PRINTF(2, 3);
void sw__ev(sw_detect_hit *h, const char *key, int64_t num);

static inline sw__who sw__who_source(const sw__skey *k, int partner)
{
    return (sw__who){.kind = SW_OFFENDER_SOURCE, .src = k, .partner = (uint8_t)partner};
}
static inline sw__who sw__who_text(sw_offender_kind kind, const char *s, size_t n)
{
    return (sw__who){.kind = kind, .text = s, .text_len = n};
}

static inline int sw__enabled(const sw_detectors *d, sw_detector_id det)
{
    return d->conf[det].enabled;
}

/* ---- the detectors ----------------------------------------------------------- */
/* D1 */
void sw__scan_request(sw__msg *m);
void sw__scan_response(sw__msg *m, const sw__txn *t, uint16_t status);
/* D2 */
void sw__bf_request(sw__msg *m);
void sw__bf_response(sw__msg *m, const sw__txn *t, uint16_t status);
/* D3 */
void sw__flood_request(sw__msg *m);
void sw__flood_call(sw__msg *m, sw__dlg *g);
void sw__flood_release(sw_detectors *d, sw__dlg *g);
/* D4 */
void sw__malformed(sw__msg *m);
/* D5 */
void sw__irsf_call(sw__msg *m, sw__dlg *g);
void sw__irsf_progress(sw__msg *m, sw__dlg *g); /* any later message of an answered call */
void sw__irsf_release(sw_detectors *d, sw__dlg *g);
/* D6 */
void sw__wangiri_call(sw__msg *m, sw__dlg *g);
void sw__wangiri_end(sw__msg *m, sw__dlg *g, int cancelled);
/* D11 */
void sw__location_request(sw__msg *m);
void sw__location_call(sw__msg *m, sw__dlg *g);
void sw__location_end(sw__msg *m, sw__dlg *g);

#endif
