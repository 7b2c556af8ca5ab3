/* Internals shared by the behavioural detectors (src/detect/).
 *
 * Building blocks, all fixed-size so they live inline in sw_table values:
 *   sw__ring  a sliding-window counter: 10 slots of window/10 each, so a
 *             count covers the last 0.9-1.0 windows and slow activity
 *             spread over the whole window still adds up; 16-bit slot
 *             counts (saturating), one slot index shared by the counters
 *             of a group (sw__ring2: two counters with the same window);
 *   dset      a distinct counter: N (16-bit fingerprint, 16-bit second)
 *             pairs against a 32-bit base second, exact up to N live
 *             values (barring fingerprint collisions), values older than
 *             the window drop out;
 *   sw__trip  per-rule trip state in one word: tripped keys report trip=0
 *             hits until a whole window passes without the rule's
 *             condition holding. */
#ifndef SW_DETECT_INT_H
#define SW_DETECT_INT_H

#include <stdio.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sipwall/detect.h"
#include "sipwall/table.h"

#define SW__RING_SLOTS 10

typedef struct sw__ring {
    int64_t slot; /* index (ts / width) of the newest slot */
    uint16_t n[SW__RING_SLOTS];
} sw__ring;

typedef struct sw__ring2 { /* two counters with one window */
    int64_t slot;
    uint16_t a[SW__RING_SLOTS], b[SW__RING_SLOTS];
} sw__ring2;

/* width: the slot width (window / 10, at least 1 ns; see sw__rw).
 * Adds k at ts and returns the sum over the window. */
uint32_t sw__ring_add(sw__ring *r, int64_t ts, int64_t width, uint32_t k);
/* The sum over the window ending at ts (slides the ring forward). */
uint32_t sw__ring_sum(sw__ring *r, int64_t ts, int64_t width);
/* Adds ka and kb at ts; sa and sb receive the sums over the window. */
void sw__ring2_add(sw__ring2 *r, int64_t ts, int64_t width, uint32_t ka, uint32_t kb,
                   uint32_t *sa, uint32_t *sb);

/* Distinct values.  fp[i] == 0 is an empty slot; t[i] is the second it was
 * last seen, relative to *base.  sw__dset_add returns the number of live
 * distinct values after adding `hash` (capped at n).  Inline so that n is a
 * constant and the scans unroll. */
#define SW__DSET_SPAN 0x7fffu
_Static_assert(SW__DSET_SPAN < 0x10000u, "dset times are 16-bit");
void sw__dset_rebase(uint32_t *base, uint16_t *fp, uint16_t *t, unsigned n, uint32_t now_s,
                     uint32_t window_s);

/* now relative to the base (rebasing when needed); negative when time went
 * back before the base. */
static inline int32_t sw__dset_now(uint32_t *base, uint16_t *fp, uint16_t *t, unsigned n,
                                   uint32_t now_s, uint32_t window_s)
{
    if (now_s > *base && now_s - *base > UINT16_MAX)
        sw__dset_rebase(base, fp, t, n, now_s, window_s);
    if (now_s >= *base)
        return (int32_t)(now_s - *base);
    uint32_t back = *base - now_s;
    return back > SW__DSET_SPAN ? -(int32_t)SW__DSET_SPAN : -(int32_t)back;
}

static inline int32_t sw__dset_win(uint32_t window_s)
{
    return window_s > 0x10000u ? 0x10000 : (int32_t)window_s;
}

static inline int sw__dset_is_live(uint16_t fp, uint16_t t, int32_t now, int32_t w)
{
    return fp != 0 && now - (int32_t)t < w;
}

/* Bits set in x, inline (the x86-64 baseline has no POPCNT: the builtin
 * would be a libgcc call on every distinct count). */
static inline uint32_t sw__popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (uint32_t)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* Which slots are live, and which live slots hold v: a bit per slot (n <= 64). */
static inline void sw__dset_scan(const uint16_t *fp, const uint16_t *t, unsigned n, int32_t now,
                                 int32_t w, uint16_t v, uint64_t *live, uint64_t *match)
{
    uint64_t lv = 0, mt = 0;
    unsigned i = 0;
#ifdef __SSE2__
    /* live: fp != 0 and now - t < w, i.e. t > now - w (t is 0..65535) */
    int32_t thr = now - w;
    if (n % 16 == 0 && thr < 65535) {
        const __m128i zero = _mm_setzero_si128(), bias = _mm_set1_epi16((short)0x8000);
        const __m128i vv = _mm_set1_epi16((short)v);
        const __m128i th = _mm_set1_epi16((short)((thr < 0 ? 0 : thr) ^ 0x8000));
        const int all_recent = thr < 0; /* every t is newer */
        for (; i < n; i += 16) {
            __m128i f0 = _mm_loadu_si128((const __m128i *)(const void *)(fp + i));
            __m128i f1 = _mm_loadu_si128((const __m128i *)(const void *)(fp + i + 8));
            __m128i l0 = _mm_andnot_si128(_mm_cmpeq_epi16(f0, zero), _mm_set1_epi16(-1));
            __m128i l1 = _mm_andnot_si128(_mm_cmpeq_epi16(f1, zero), _mm_set1_epi16(-1));
            if (!all_recent) {
                __m128i t0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + i)), bias);
                __m128i t1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + i + 8)), bias);
                l0 = _mm_and_si128(l0, _mm_cmpgt_epi16(t0, th));
                l1 = _mm_and_si128(l1, _mm_cmpgt_epi16(t1, th));
            }
            __m128i m0 = _mm_and_si128(l0, _mm_cmpeq_epi16(f0, vv));
            __m128i m1 = _mm_and_si128(l1, _mm_cmpeq_epi16(f1, vv));
            lv |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_packs_epi16(l0, l1)) << i;
            mt |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_packs_epi16(m0, m1)) << i;
        }
    } else if (n % 16 == 0) {
        i = n; /* thr >= 65535: nothing is live */
    }
#endif
    for (; i < n; i++) {
        int l = sw__dset_is_live(fp[i], t[i], now, w);
        lv |= (uint64_t)l << i;
        mt |= (uint64_t)(l & (fp[i] == v)) << i;
    }
    *live = lv;
    *match = mt;
}

static inline __attribute__((always_inline)) uint32_t sw__dset_add(uint32_t *base, uint16_t *fp, uint16_t *t, unsigned n,
                                    uint64_t hash, uint32_t now_s, uint32_t window_s)
{
    uint16_t v = (uint16_t)(hash >> 48);
    if (v == 0)
        v = 1; /* 0 marks an empty slot */
    int32_t now = sw__dset_now(base, fp, t, n, now_s, window_s), w = sw__dset_win(window_s);
    uint64_t lv, mt;
    sw__dset_scan(fp, t, n, now, w, v, &lv, &mt);
    uint32_t live = sw__popcount64(lv);
    uint16_t tn = (uint16_t)(now > 0 ? now : 0);
    if (mt) {
        unsigned i = (unsigned)__builtin_ctzll(mt); /* the first live slot holding v */
        if (tn > t[i])
            t[i] = tn;
        return live;
    }
    if (live < n) {
        unsigned i = (unsigned)__builtin_ctzll(~lv); /* the first free slot */
        fp[i] = v;
        t[i] = tn;
        return live + 1;
    }
    /* Full of live values: the count is saturated at n; keep the newest. */
    unsigned oldest = 0;
#ifdef __SSE2__
    if (n % 16 == 0) {
        /* the first slot with the smallest t (unsigned, via a bias) */
        const __m128i bias = _mm_set1_epi16((short)0x8000);
        __m128i mn = _mm_set1_epi16(0x7fff);
        for (unsigned i = 0; i < n; i += 8)
            mn = _mm_min_epi16(mn, _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + i)), bias));
        mn = _mm_min_epi16(mn, _mm_shuffle_epi32(mn, 0x4e));
        mn = _mm_min_epi16(mn, _mm_shuffle_epi32(mn, 0xb1));
        mn = _mm_min_epi16(mn, _mm_shufflelo_epi16(_mm_shufflehi_epi16(mn, 0xb1), 0xb1));
        uint64_t at = 0;
        for (unsigned i = 0; i < n; i += 16) {
            __m128i a = _mm_cmpeq_epi16(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + i)), bias), mn);
            __m128i b = _mm_cmpeq_epi16(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(t + i + 8)), bias), mn);
            at |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_packs_epi16(a, b)) << i;
        }
        oldest = (unsigned)__builtin_ctzll(at);
    } else
#endif
    {
        for (unsigned i = 1; i < n; i++)
            if (t[i] < t[oldest])
                oldest = i;
    }
    fp[oldest] = v;
    t[oldest] = tn;
    return live;
}

static inline uint32_t sw__dset_count(uint32_t *base, uint16_t *fp, uint16_t *t, unsigned n,
                                      uint32_t now_s, uint32_t window_s)
{
    int32_t now = sw__dset_now(base, fp, t, n, now_s, window_s), w = sw__dset_win(window_s);
    uint64_t lv, mt;
    sw__dset_scan(fp, t, n, now, w, 0, &lv, &mt); /* v = 0 matches no live slot */
    return sw__popcount64(lv);
}

/* 0: armed.  Else the last time the condition held, with bit 0 set. */
typedef struct sw__trip {
    int64_t v;
} sw__trip;

#define SW__NO_HIT (-1)
/* over: the condition holds on this message.  sticky: a message of a
 * tripped key is offending even when the condition does not hold right now
 * (e.g. more attempts from a source caught scanning).  Returns SW__NO_HIT,
 * 1 (crossing: emit an event) or 0 (already tripped). */
static inline int sw__trip_check(sw__trip *tr, int over, int sticky, int64_t ts, int64_t window)
{
    if (tr->v && ts - (tr->v & ~(int64_t)1) >= window)
        tr->v = 0; /* a whole window without the condition: re-armed */
    if (over) {
        int crossing = !tr->v;
        tr->v = ts | 1;
        return crossing;
    }
    return tr->v && sticky ? 0 : SW__NO_HIT;
}
static inline int sw__tripped(const sw__trip *tr) { return tr->v != 0; }

/* ---- keys ---------------------------------------------------------------- */
/* A source: IPv4 address or IPv6 /64 (the first 8 bytes), no port.
 * Padding zeroed. */
typedef struct sw__skey {
    uint8_t family;
    uint8_t pad[3];
    uint8_t ip[8];
} sw__skey;

/* Two hashes (e.g. source or caller + username or range). */
typedef struct sw__hkey2 {
    uint64_t a, b;
} sw__hkey2;

#define SW__PEER_NAME_MAX 31 /* bytes of a partner's name a dialog keeps */

/* ---- the detector set -------------------------------------------------------- */
typedef struct sw__txn sw__txn;
typedef struct sw__dlg sw__dlg;

#define SW__NTABLES 23

struct sw_detectors {
    sw_detector_conf conf[SW_DET__COUNT]; /* copied: the policy may go away */
    int64_t p[SW_DP__COUNT]; /* each parameter from its own detector's conf, sanitised */
    int64_t rw[SW_DP__COUNT]; /* ring slot width of each duration parameter */
    uint32_t ws[SW_DP__COUNT]; /* each duration parameter in whole seconds (ceil, >= 1) */
    int64_t horizon[SW__NTABLES]; /* expiry age of each table, 0 = never */
    sw_engine_limits lim;
    const sw_prefix_set *hot;
    uint64_t seed;   /* string hashes */
    uint32_t gen;    /* generation numbers for counter entries */

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
            sw_table *bf_net, *bf_netpair, *bf_realm; /* D2 aggregates */
            sw_table *ir_trunk;  /* D5 per trunk */
            sw_table *wg_c, *wg_r; /* D6 campaigns: calling range, called range */
            sw_table *ir_tb; /* D5 per (trunk, hot range): test calls, then a burst */
        };
        sw_table *all[SW__NTABLES];
    };

    uint64_t messages, retransmissions, hits, trips, dropped_hits;
    int64_t camp_until; /* D6: a calling-range campaign may be tripped until then */
};

/* What one observe call works with.  Hashes are computed at most once per
 * message (the have_* bits say which are ready). */
enum { SW__H_SRC = 1, SW__H_A = 2, SW__H_B = 4 };
typedef struct sw__msg {
    sw_detectors *d;
    const sw_facts *f;
    sw_detect_result *out;
    int64_t ts;
    uint32_t now_s;
    sw__skey src;       /* of f->src */
    uint8_t partner;    /* sending peer is a configured partner */
    uint8_t new_call;   /* this INVITE created a dialog */
    uint8_t have;       /* SW__H_* */
    uint8_t src_text_len; /* 0 = not formatted yet */
    uint64_t h_cid;     /* Call-ID (the dialog key) */
    uint64_t h_src, h_a, h_b;
    char src_text[48];  /* the source as offender text */
} sw__msg;

/* Per-request transaction state (what its responses need). */
#define SW__USER_MAX 40
struct sw__txn {
    int64_t last;       /* first field of every value: last activity */
    uint64_t auth_hash;
    uint64_t realm_hash; /* digest realm (else Request-URI host) of the credentials */
    sw__skey src;       /* the requester */
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
    SW__DLG_A_E164 = 1 << 10,
    SW__DLG_TRUNK_HOT = 1 << 11, /* counted by D5 per trunk and hot range */
    SW__DLG_NIGHT_DONE = 1 << 12, /* D5 long-call at quiet hours: decided */
    SW__DLG_NIGHT_OK = 1 << 13,   /* D5: the partner's night calls are agreed */
};

/* Times after the INVITE are kept as milliseconds after it, plus one
 * (0 = not yet). */
struct sw__dlg {
    int64_t last;
    int64_t invite_ts;
    uint32_t ring_ms, answer_ms, cancel_ms, end_ms;
    uint32_t peer_gen, ir_gen;     /* partner (D3) / caller hot (D5) concurrency held */
    uint32_t ir_tgen;              /* its trunk's live hot (D5) calls: one held */
    sw__skey src;
    uint16_t flags;
    uint8_t a_len, b_len;
    uint16_t peer_fp;              /* D6 campaigns: the sending peer's position + 1 */
    uint16_t a_fp, b_fp;           /* D6 campaigns: distinct-set values of A and B */
    char a[SW_NUMBER_MAX], b[SW_NUMBER_MAX];
    char peer_name[SW__PEER_NAME_MAX + 1]; /* partner or zone: PEER offenders, carriers */
};

static inline uint32_t sw__dlg_ms(const sw__dlg *g, int64_t ts)
{
    int64_t ms = (ts - g->invite_ts) / 1000000;
    ms = ms < 0 ? 0 : ms > (int64_t)UINT32_MAX - 1 ? (int64_t)UINT32_MAX - 1 : ms;
    return (uint32_t)ms + 1;
}
static inline int64_t sw__dlg_ts(const sw__dlg *g, uint32_t ms)
{
    return g->invite_ts + (int64_t)(ms ? ms - 1 : 0) * 1000000;
}

/* ---- per-key state of the detectors (values of their tables) ---------------
 * Every value starts with `last` (last activity, ns) for age-based expiry. */
#define SW__SCAN_USERS 32
#define SW__SCAN_TARGETS 16
typedef struct sw__scan_st {
    int64_t last;
    sw__ring2 rf;                /* final responses to its requests (a), failures among them (b) */
    sw__trip enum_trip, sweep_trip;
    uint32_t ubase, tbase;
    uint16_t uh[SW__SCAN_USERS], ut[SW__SCAN_USERS];
    uint16_t th[SW__SCAN_TARGETS], tt[SW__SCAN_TARGETS];
} sw__scan_st;

typedef struct sw__bf_pair_st {  /* (source, username) */
    int64_t last;
    sw__ring2 fa;                /* failures (a), attempts (b) */
    sw__trip trip;
} sw__bf_pair_st;

#define SW__BF_SPRAY_USERS 16
typedef struct sw__bf_spray_st { /* source */
    int64_t last;
    sw__ring fail;
    sw__trip trip;
    uint32_t ubase;
    uint16_t uh[SW__BF_SPRAY_USERS], ut[SW__BF_SPRAY_USERS];
} sw__bf_spray_st;

/* A source network (network-prefix-v4/-v6) or a realm: failures and
 * attempts (final responses to credentialed requests), the usernames and
 * sources they came from. */
#define SW__BF_AGG_USERS 32
#define SW__BF_AGG_SOURCES 16
typedef struct sw__bf_agg_st {
    int64_t last;
    sw__ring2 fa;                /* failures (a), attempts (b) */
    sw__trip trip;
    uint32_t ubase, sbase;
    uint16_t uh[SW__BF_AGG_USERS], ut[SW__BF_AGG_USERS];
    uint16_t sh[SW__BF_AGG_SOURCES], st[SW__BF_AGG_SOURCES];
} sw__bf_agg_st;

typedef struct sw__bf_netpair_st { /* (source network, username) */
    int64_t last;
    sw__ring fail;
} sw__bf_netpair_st;

#define SW__BF_DIST_SOURCES 32
typedef struct sw__bf_user_st {  /* username */
    int64_t last;
    sw__ring fail;
    sw__trip trip;
    uint32_t sbase;
    uint16_t sh[SW__BF_DIST_SOURCES], st[SW__BF_DIST_SOURCES];
} sw__bf_user_st;

typedef struct sw__count_st {    /* flood per source/callee/caller, malformed per source */
    int64_t last;
    sw__ring n;
    sw__trip trip;
} sw__count_st;

typedef struct sw__peer_st {     /* a partner: INVITE rate and live calls */
    int64_t last;
    sw__ring cps;
    uint32_t gen;
    uint32_t active;
    sw__trip cps_trip, conc_trip;
    /* flood.peer-burst: the partner's own rate, learned */
    sw__ring2 burst;             /* new calls (a), failed calls (b) in peer-burst-window */
    sw__trip burst_trip;
    int64_t first;               /* its first new call */
    int64_t bucket;              /* index (ts / peer-burst-window) of the bucket counted */
    uint32_t bucket_n;           /* new calls in that bucket */
    uint32_t nbuckets;           /* buckets learned so far */
    double base;                 /* learned rate: new calls per second (EWMA) */
} sw__peer_st;

typedef struct sw__ir_caller_st { /* A, or the source when A is missing */
    int64_t last;
    sw__ring hot;
    uint32_t gen;
    uint32_t active;
    sw__trip vol_trip, conc_trip;
} sw__ir_caller_st;

#define SW__IR_RANGE_B 16
typedef struct sw__ir_range_st { /* (caller, B range) */
    int64_t last;
    int64_t short_end;           /* end of the last short answered call, 0 = none */
    sw__trip seq_trip, tc_trip;
    uint32_t bbase;
    uint16_t bh[SW__IR_RANGE_B], bt[SW__IR_RANGE_B];
} sw__ir_range_st;

/* One trunk (a partner, else the source): its new calls, those to hot
 * ranges, and the distinct hot numbers it called. */
#define SW__IR_TRUNK_B 32
typedef struct sw__ir_trunk_st {
    int64_t last;
    sw__ring2 ch;                /* new calls (a), to hot ranges (b) */
    sw__trip trip;
    uint32_t bbase;
    uint16_t bh[SW__IR_TRUNK_B], bt[SW__IR_TRUNK_B];
    /* a partner with a contract: hot calls in contract-window, live hot calls */
    sw__ring hr;
    sw__trip ctrip;
    uint32_t active, gen;
    /* its learned normals: hot calls per ns, and live hot calls, weighted
     * over learn-window */
    double rate, conc;
    int64_t rate_ts, learn_from;
    sw__trip rtrip;
} sw__ir_trunk_st;

/* One (trunk, hot range): its test calls (short answered or unanswered),
 * then the calls that followed them within burst-window. */
#define SW__IR_TESTS 3
typedef struct sw__ir_tb_st {
    int64_t last;
    int64_t test_ts;             /* end of the series' first test call, 0 = none */
    int64_t day_long;            /* last long call outside quiet hours, 0 = none */
    sw__trip trip, night_trip;
    uint32_t tests, burst;
    uint8_t nnum, nlen[SW__IR_TESTS];
    char num[SW__IR_TESTS][SW_NUMBER_MAX]; /* the first distinct test numbers */
} sw__ir_tb_st;

#define SW__WG_CALLEES 32
#define SW__WG_SAMPLES 16
typedef struct sw__wg_st {       /* A or A prefix */
    int64_t last;
    sw__ring2 ec;                /* ended (a), cancelled (b) */
    sw__trip trip;
    uint32_t bbase, rbase;
    uint16_t bh[SW__WG_CALLEES], bt[SW__WG_CALLEES];
    /* INVITE->CANCEL in 4 ms units plus one (0 = empty), and when */
    uint16_t ring4[SW__WG_SAMPLES], ring_t[SW__WG_SAMPLES];
    uint8_t next_sample;
} sw__wg_st;

/* A Wangiri campaign key (a calling range, or a called range), over all
 * sources and carriers: the counters of a key, the distinct numbers of the
 * other side (callees of a calling range, callers of a called range), and
 * the carriers (sending partner or zone) it came through, by name. */
#define SW__WG_CARRIERS 4       /* names kept */
#define SW__WG_CARRIER_FPS 16   /* distinct carriers counted exactly */
typedef struct sw__wg_camp_st {
    sw__wg_st w;                 /* w.bh: the other side's distinct numbers */
    uint8_t ncarriers;           /* distinct carriers seen (fingerprints kept, at most FPS) */
    uint8_t more;                /* 1: more than SW__WG_CARRIER_FPS carriers */
    uint16_t carrier_fp[SW__WG_CARRIER_FPS];
    char carrier[SW__WG_CARRIERS][SW__PEER_NAME_MAX + 1]; /* the first ones, by name */
} sw__wg_camp_st;

typedef struct sw__lp_st {       /* (source or partner, B) */
    int64_t last;
    sw__ring2 co;                /* cancels (a), ood probes (b) */
    sw__trip cancel_trip, ood_trip;
} sw__lp_st;

/* Hash domains, so equal text of different kinds never shares a key. */
enum {
    SW__TAG_CALLID = 1, SW__TAG_TXN, SW__TAG_SRC, SW__TAG_PEER, SW__TAG_A, SW__TAG_PREFIX,
    SW__TAG_B, SW__TAG_USER, SW__TAG_RANGE, SW__TAG_TARGET, SW__TAG_CALLER, SW__TAG_REALM,
    SW__TAG_TRUNK_RANGE, SW__TAG_CAMPAIGN, SW__TAG_CALLED_RANGE
};

/* ---- helpers (detect.c) -------------------------------------------------------- */
static inline int64_t sw__p(const sw_detectors *d, sw_detector_param p) { return d->p[p]; }
static inline int64_t sw__rw(const sw_detectors *d, sw_detector_param p) { return d->rw[p]; }
static inline uint32_t sw__ws(const sw_detectors *d, sw_detector_param p) { return d->ws[p]; }
uint32_t sw__secs(int64_t ns); /* ceil, at least 1 */
uint64_t sw__hstr(const sw_detectors *d, uint64_t tag, const char *s, size_t n);
uint64_t sw__hsrc(const sw_detectors *d, const sw__skey *k);
void sw__skey_of(const sw_addr *a, sw__skey *k);
uint32_t sw__next_gen(sw_detectors *d);

/* Per-message hashes, computed on first use. */
static inline uint64_t sw__m_hsrc(sw__msg *m)
{
    if (!(m->have & SW__H_SRC)) {
        m->h_src = sw__hsrc(m->d, &m->src);
        m->have |= SW__H_SRC;
    }
    return m->h_src;
}
static inline uint64_t sw__m_ha(sw__msg *m)
{
    if (!(m->have & SW__H_A)) {
        m->h_a = sw__hstr(m->d, SW__TAG_A, m->f->a, m->f->a_len);
        m->have |= SW__H_A;
    }
    return m->h_a;
}
static inline uint64_t sw__m_hb(sw__msg *m)
{
    if (!(m->have & SW__H_B)) {
        m->h_b = sw__hstr(m->d, SW__TAG_B, m->f->b, m->f->b_len);
        m->have |= SW__H_B;
    }
    return m->h_b;
}
/* The caller key of D5 (A, or the source when A is missing) of a dialog. */
static inline uint64_t sw__caller_key(const sw_detectors *d, const sw__dlg *g)
{
    return g->a_len ? sw__hstr(d, SW__TAG_A, g->a, g->a_len) : sw__hsrc(d, &g->src);
}
/* A partner by name (cut to what a dialog keeps, so both agree). */
static inline uint64_t sw__peer_key(const sw_detectors *d, const char *name)
{
    size_t n = name ? strnlen(name, SW__PEER_NAME_MAX) : 0;
    return sw__hstr(d, SW__TAG_PEER, name ? name : "", n);
}

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
static inline void sw__ev(sw_detect_hit *h, const char *key, int64_t num)
{
    if (h->nevidence < SW_DETECT_MAX_EVIDENCE) {
        h->evidence[h->nevidence].key = key;
        h->evidence[h->nevidence].num = num;
        h->nevidence++;
    }
}

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

static inline uint32_t sw__cap(int64_t v, uint32_t n) { return v > (int64_t)n ? n : (uint32_t)v; }

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
/* A final failure (status >= 400) to the initial INVITE of a partner's call. */
void sw__flood_failed(sw__msg *m, sw__dlg *g, uint16_t status);
/* D4 */
void sw__malformed(sw__msg *m);
/* D5 */
void sw__irsf_call(sw__msg *m, sw__dlg *g);
void sw__irsf_progress(sw__msg *m, sw__dlg *g); /* any later message of an answered call */
void sw__irsf_end(sw__msg *m, sw__dlg *g); /* a call to a hot range from a trunk ended */
void sw__irsf_release(sw_detectors *d, sw__dlg *g);
/* D6 */
void sw__wangiri_call(sw__msg *m, sw__dlg *g);
void sw__wangiri_end(sw__msg *m, sw__dlg *g, int cancelled);
/* D6 campaigns across carriers (per calling range, per called range). */
void sw__wangiri_campaign_call(sw__msg *m, sw__dlg *g);
void sw__wangiri_campaign_end(sw__msg *m, const sw__dlg *g, int cancelled);
/* D11 */
void sw__location_request(sw__msg *m);
void sw__location_call(sw__msg *m, sw__dlg *g);
void sw__location_end(sw__msg *m, sw__dlg *g);

#endif
