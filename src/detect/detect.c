/* Behavioural detectors: shared machinery, transaction and dialog tracking
 * (include/sipwall/detect.h).
 *
 * Every message passes here first.  A request is looked up in the
 * transaction table (Call-ID, CSeq number and method, top-Via branch): a
 * copy seen again within the transaction lifetime is a retransmission and
 * nothing counts it.  Responses find their request the same way, so a
 * detector learns "the first final response to a request of source S that
 * carried credentials for user U".  Initial INVITEs open a dialog (by
 * Call-ID) that records what the call-based detectors need: when it rang,
 * was answered, cancelled or ended, A, B, where it came from, and the
 * concurrency counters it holds (released on end, expiry and eviction). */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/random.h>

#include "detect/detect_int.h"

#define TXN_LIFETIME (64 * SW_NS_S)   /* 64*T1 (Timer B/F): clients stop retransmitting by then */
#define MAX_RETRANS 10                /* RFC 3261 clients send at most 10 retransmissions;
                                       * beyond that identical copies are a replay flood */
#define DLG_RINGING_MAX (300 * SW_NS_S) /* Timer C is 3 min: an unanswered call is over by 5 */
#define DLG_ANSWERED_IDLE (4 * 3600 * SW_NS_S) /* BYE never seen */
#define DLG_ENDED_KEEP (32 * SW_NS_S) /* absorb retransmitted BYE/CANCEL/487 */
#define EXPIRE_PER_MSG 4              /* bounded work per message */

#define DEFAULT_ENTRIES 16384u

static const sw_event_type det_event[SW_DET__COUNT] = {
#define SW__DET_EVT(id, name, evt) evt,
    SW_DETECTOR_LIST(SW__DET_EVT)
#undef SW__DET_EVT
};

/* ---- building blocks -------------------------------------------------------- */

static inline int64_t ring_width(int64_t window)
{
    int64_t w = window / SW__RING_SLOTS;
    return w > 0 ? w : 1;
}

static inline uint16_t sat16(uint32_t a, uint32_t k)
{
    uint32_t v = a + k;
    return v > UINT16_MAX || v < a ? UINT16_MAX : (uint16_t)v;
}

/* Moves the ring's newest slot to ts's; returns the newest slot's index in n[]
 * and clears the slots it passes over (in the nc arrays of n each). */
static inline unsigned ring_slide(int64_t *slot, uint16_t *n, unsigned nc, int64_t ts, int64_t width)
{
    int64_t s = (ts > 0 ? ts : 0) / width;
    int64_t cur = *slot;
    if (s > cur) {
        if (s - cur >= SW__RING_SLOTS) {
            memset(n, 0, nc * SW__RING_SLOTS * sizeof *n);
        } else {
            unsigned i = (unsigned)(cur % SW__RING_SLOTS);
            for (int64_t k = cur; k < s; k++) {
                i = i + 1 == SW__RING_SLOTS ? 0 : i + 1;
                for (unsigned c = 0; c < nc; c++)
                    n[c * SW__RING_SLOTS + i] = 0;
            }
        }
        *slot = cur = s;
    }
    /* same slot, or time went back: count into the newest */
    return (unsigned)(cur % SW__RING_SLOTS);
}

static inline uint32_t ring_total(const uint16_t *n)
{
    uint32_t sum = 0;
#pragma GCC unroll 16
    for (unsigned i = 0; i < SW__RING_SLOTS; i++)
        sum += n[i];
    return sum;
}

uint32_t sw__ring_add(sw__ring *r, int64_t ts, int64_t width, uint32_t k)
{
    unsigned i = ring_slide(&r->slot, r->n, 1, ts, width);
    r->n[i] = sat16(r->n[i], k);
    return ring_total(r->n);
}

uint32_t sw__ring_sum(sw__ring *r, int64_t ts, int64_t width)
{
    ring_slide(&r->slot, r->n, 1, ts, width);
    return ring_total(r->n);
}

_Static_assert(offsetof(sw__ring2, b) == offsetof(sw__ring2, a) + sizeof(uint16_t) * SW__RING_SLOTS,
               "ring2 counters are consecutive");

void sw__ring2_add(sw__ring2 *r, int64_t ts, int64_t width, uint32_t ka, uint32_t kb,
                   uint32_t *sa, uint32_t *sb)
{
    unsigned i = ring_slide(&r->slot, r->a, 2, ts, width);
    if (ka)
        r->a[i] = sat16(r->a[i], ka);
    if (kb)
        r->b[i] = sat16(r->b[i], kb);
    *sa = ring_total(r->a);
    *sb = ring_total(r->b);
}

/* Distinct sets: see detect_int.h.  When now runs past what 16 bits reach,
 * the base moves forward and values that can no longer be live (older than
 * the window, or than 9 h for longer windows) are dropped, so an offset
 * never wraps. */
void sw__dset_rebase(uint32_t *base, uint16_t *fp, uint16_t *t, unsigned n, uint32_t now_s,
                     uint32_t window_s)
{
    uint32_t keep = window_s < SW__DSET_SPAN ? window_s : SW__DSET_SPAN;
    uint32_t nb = now_s - keep;
    for (unsigned i = 0; i < n; i++) {
        if (!fp[i])
            continue;
        uint64_t ti = (uint64_t)*base + t[i];
        if (ti < nb)
            fp[i] = 0;
        else
            t[i] = (uint16_t)(ti - nb);
    }
    *base = nb;
}

uint32_t sw__secs(int64_t ns)
{
    if (ns <= SW_NS_S)
        return 1;
    int64_t s = (ns + SW_NS_S - 1) / SW_NS_S;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static uint32_t secs_of(int64_t ts)
{
    if (ts <= 0)
        return 0;
    int64_t s = ts / SW_NS_S;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint64_t sw__hstr(const sw_detectors *d, uint64_t tag, const char *s, size_t n)
{
    return sw_hash64(s, n, d->seed ^ (tag * UINT64_C(0x9e3779b97f4a7c15)));
}

uint64_t sw__hsrc(const sw_detectors *d, const sw__skey *k)
{
    return sw__hstr(d, SW__TAG_SRC, (const char *)k, sizeof *k);
}

void sw__skey_of(const sw_addr *a, sw__skey *k)
{
    memset(k, 0, sizeof *k);
    k->family = a->family;
    if (a->family == 4)
        memcpy(k->ip, a->ip, 4);
    else if (a->family == 6)
        memcpy(k->ip, a->ip, 8); /* one host owns a whole /64 */
}

uint32_t sw__next_gen(sw_detectors *d)
{
    if (++d->gen == 0)
        d->gen = 1; /* 0: holds nothing */
    return d->gen;
}

/* ---- hits ------------------------------------------------------------------ */

static void fmt_source(const sw__skey *k, sw_addr *a, char *out, size_t cap)
{
    memset(a, 0, sizeof *a);
    a->family = k->family;
    memcpy(a->ip, k->ip, sizeof k->ip);
    if (sw_addr_format_ip(a, out, cap) < 0)
        out[0] = '\0';
}

sw_detect_hit *sw__hit(sw__msg *m, sw_detector_id det, const char *rule, int trip,
                       const sw__who *who, int64_t block_ns)
{
    sw_detect_result *out = m->out;
    sw_detect_hit *h = NULL;
    if (out->nhits < SW_DETECT_MAX_HITS) {
        h = &out->hits[out->nhits++];
    } else if (trip) {
        /* A crossing (an event) matters more than one more enforcement. */
        for (unsigned i = 0; i < out->nhits && !h; i++)
            if (!out->hits[i].trip)
                h = &out->hits[i];
    }
    m->d->hits++;
    if (trip)
        m->d->trips++;
    if (!h) {
        m->d->dropped_hits++;
        return NULL;
    }
    const sw_detector_conf *c = &m->d->conf[det];
    memset(h, 0, offsetof(sw_detect_hit, reason));
    h->reason[0] = '\0';
    h->nevidence = 0;
    h->detector = det;
    h->rule = rule;
    h->type = det_event[det];
    h->category = det == SW_DET_MALFORMED ? SW_CAT_CAT1 : SW_CAT_BEHAVIOURAL;
    h->action = c->action;
    h->status = c->status;
    h->retry_after_s = c->retry_after_s;
    h->monitor = c->monitor;
    h->confidence = c->confidence;
    h->trip = trip ? 1 : 0;
    h->offender_kind = (uint8_t)who->kind;
    if (who->kind == SW_OFFENDER_SOURCE && who->src) {
        _Static_assert(sizeof m->src_text <= sizeof h->offender, "source text fits");
        if (who->src == &m->src) { /* the message's source: format it once */
            if (!m->src_text_len) {
                sw_addr a;
                fmt_source(&m->src, &a, m->src_text, sizeof m->src_text);
                m->src_text_len = (uint8_t)strlen(m->src_text) + 1;
            }
            h->offender_addr.family = m->src.family;
            memcpy(h->offender_addr.ip, m->src.ip, sizeof m->src.ip);
            memcpy(h->offender, m->src_text, m->src_text_len);
        } else {
            fmt_source(who->src, &h->offender_addr, h->offender, sizeof h->offender);
        }
    } else if (who->text) {
        size_t n = who->text_len < sizeof h->offender - 1 ? who->text_len : sizeof h->offender - 1;
        memcpy(h->offender, who->text, n);
        h->offender[n] = '\0';
    }
    /* Never block a partner, a username (a lockout is itself a DoS) or a
     * peer; monitor mode changes nothing. */
    if (c->monitor || who->partner || who->kind == SW_OFFENDER_PEER ||
        who->kind == SW_OFFENDER_USER || block_ns < 0)
        block_ns = 0;
    h->block_ns = block_ns;
    /* Dropping a BYE or ACK would keep a fraudulent call up: enforce on
     * the next call attempt instead (the block still applies). */
    const sw_facts *f = m->f;
    if (f->is_request && (f->method == SW_METHOD_BYE || f->method == SW_METHOD_ACK) &&
        (h->action == SW_ACTION_DROP || h->action == SW_ACTION_REJECT))
        h->action = SW_ACTION_TAG;
    return h;
}

void sw__hit_reason(sw_detect_hit *h, const char *fmt, ...)
{
    /* Enforcement hits (trip=0) come by the million under a flood and
     * raise no event: a fixed text keeps them cheap. */
    if (!h->trip) {
        static const char fixed[] = "over the threshold (already reported)";
        memcpy(h->reason, fixed, sizeof fixed);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->reason, sizeof h->reason, fmt, ap);
    va_end(ap);
}

/* ---- lifecycle ---------------------------------------------------------------- */

/* A dialog leaves (end, expiry, eviction): give back the concurrency it holds. */
static void dlg_release(sw_detectors *d, sw__dlg *g)
{
    sw__flood_release(d, g);
    sw__irsf_release(d, g);
}

static void on_dlg_evict(void *ctx, const void *key, void *value)
{
    (void)key;
    dlg_release(ctx, value);
}

static sw_table *mk_table(const sw_detect_config *cfg, unsigned i, size_t key_size,
                          size_t value_size, uint32_t capacity, sw_table_evict_fn fn, void *ctx)
{
    sw_table_config tc = {.key_size = key_size,
                          .value_size = value_size,
                          .capacity = capacity,
                          .seed = cfg->seed ? cfg->seed + i * UINT64_C(0x9e3779b97f4a7c15) : 0,
                          .on_evict = fn,
                          .evict_ctx = ctx};
    return sw_table_new(&tc);
}

static int64_t sane_param(const sw_detector_param_spec *s, int64_t v)
{
    switch (s->kind) {
    case SW_PK_DURATION:
        return v > 0 ? v : s->def; /* a zero window would divide by zero */
    case SW_PK_PERCENT:
        return v < 0 ? 0 : v > 10000 ? 10000 : v; /* factors go above 100% */
    case SW_PK_DIGITS:
        return v < 0 ? 0 : v > 15 ? 15 : v;
    case SW_PK_HOURS:
        return v >= 0 && v / 100 < 24 && v % 100 < 24 ? v : s->def;
    case SW_PK_OFFSET:
        return v < -14 * 60 ? -14 * 60 : v > 14 * 60 ? 14 * 60 : v;
    case SW_PK_DAYS:
        return v == 0 || (v >= 100 && v <= 166 && (v - 100) / 10 < 7 && v % 10 < 7) ? v : s->def;
    default:
        return v < 1 ? 1 : v; /* "at least 0 events" would trip on anything */
    }
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

_Static_assert(offsetof(sw_detectors, ir_tb) == offsetof(sw_detectors, all[SW__NTABLES - 1]),
               "every table is in all[]");

static void set_conf(sw_detectors *d, const sw_detect_config *cfg)
{
    memcpy(d->conf, cfg->conf, sizeof d->conf);
    unsigned np;
    const sw_detector_param_spec *ps = sw_detector_params(&np);
    for (unsigned i = 0; i < np && i < SW_DP__COUNT; i++) {
        unsigned p = ps[i].param;
        d->p[p] = sane_param(&ps[i], cfg->conf[ps[i].detector].params[p]);
        d->rw[p] = ring_width(d->p[p]);
        d->ws[p] = sw__secs(d->p[p]);
    }
    d->hot = cfg->irsf_hot;
}

int sw_detectors_reconfigure(sw_detectors *d, const sw_detect_config *cfg)
{
    /* Table sizes and ring widths are fixed at creation: state stays only
     * when they would come out the same. */
    if (!cfg->conf || memcmp(&d->lim, &cfg->limits, sizeof d->lim) != 0)
        return SW_ELIMIT;
    unsigned np;
    const sw_detector_param_spec *ps = sw_detector_params(&np);
    for (unsigned i = 0; i < np && i < SW_DP__COUNT; i++) {
        unsigned p = ps[i].param;
        if (ring_width(sane_param(&ps[i], cfg->conf[ps[i].detector].params[p])) != d->rw[p])
            return SW_ELIMIT;
    }
    set_conf(d, cfg);
    return SW_OK;
}

sw_detectors *sw_detectors_new(const sw_detect_config *cfg)
{
    if (!cfg->conf)
        return NULL;
    sw_detectors *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    set_conf(d, cfg);
    d->lim = cfg->limits;
    uint32_t ns = d->lim.sources ? d->lim.sources : DEFAULT_ENTRIES;
    uint32_t nn = d->lim.numbers ? d->lim.numbers : DEFAULT_ENTRIES;
    uint32_t nd = d->lim.dialogs ? d->lim.dialogs : DEFAULT_ENTRIES;
    uint32_t npeer = ns < 4096 ? ns : 4096; /* partners are configured, not attacker-made */
    uint32_t nrealm = ns / 16 > 64 ? ns / 16 : 64;
    uint32_t nnet = ns / 4 > 64 ? ns / 4 : 64, nnetpair = ns / 2 > 64 ? ns / 2 : 64;
    d->seed = cfg->seed;
    if (!d->seed && getrandom(&d->seed, sizeof d->seed, GRND_NONBLOCK) != (ssize_t)sizeof d->seed)
        d->seed = sw_hash64(&d, sizeof d, (uint64_t)(uintptr_t)cfg);

    unsigned i = 0;
    d->txn = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__txn), nd, NULL, NULL);
    d->dlg = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__dlg), nd, on_dlg_evict, d);
    d->scan = mk_table(cfg, i++, sizeof(sw__skey), sizeof(sw__scan_st), ns, NULL, NULL);
    d->bf_pair = mk_table(cfg, i++, sizeof(sw__hkey2), sizeof(sw__bf_pair_st), ns, NULL, NULL);
    d->bf_spray = mk_table(cfg, i++, sizeof(sw__skey), sizeof(sw__bf_spray_st), ns, NULL, NULL);
    d->bf_user = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__bf_user_st), nn, NULL, NULL);
    d->fl_src = mk_table(cfg, i++, sizeof(sw__skey), sizeof(sw__count_st), ns, NULL, NULL);
    d->fl_peer = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__peer_st), npeer, NULL, NULL);
    d->fl_callee = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__count_st), nn, NULL, NULL);
    d->fl_caller = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__count_st), nn, NULL, NULL);
    d->mf = mk_table(cfg, i++, sizeof(sw__skey), sizeof(sw__count_st), ns, NULL, NULL);
    d->ir_caller = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__ir_caller_st), nn, NULL, NULL);
    d->ir_range = mk_table(cfg, i++, sizeof(sw__hkey2), sizeof(sw__ir_range_st), nn, NULL, NULL);
    d->wg_a = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__wg_st), nn, NULL, NULL);
    d->wg_p = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__wg_st), nn, NULL, NULL);
    d->lp = mk_table(cfg, i++, sizeof(sw__hkey2), sizeof(sw__lp_st), nn, NULL, NULL);
    /* a network holds many sources, so fewer entries: sources/4 networks,
     * sources/2 (network, username) pairs */
    d->bf_net = mk_table(cfg, i++, sizeof(sw__skey), sizeof(sw__bf_agg_st), nnet, NULL, NULL);
    d->bf_netpair = mk_table(cfg, i++, sizeof(sw__hkey2), sizeof(sw__bf_netpair_st), nnetpair,
                             NULL, NULL);
    /* realms are ours (a handful); random ones from an attacker evict
     * each other, least recently used first.  sources/16 (at least 64)
     * keeps the size linear in the limits, which the daemon's memory
     * estimate relies on (4096 with the default limits). */
    d->bf_realm = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__bf_agg_st), nrealm, NULL, NULL);
    /* D5 trunks and D6 campaign ranges: numbers/8 each (at least 64); a
     * trunk is a partner or a source, a campaign a whole number range */
    uint32_t nagg = nn / 8 > 64 ? nn / 8 : 64;
    d->ir_trunk = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__ir_trunk_st), nagg, NULL, NULL);
    d->wg_c = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__wg_camp_st), nagg, NULL, NULL);
    d->wg_r = mk_table(cfg, i++, sizeof(uint64_t), sizeof(sw__wg_camp_st), nagg, NULL, NULL);
    d->ir_tb = mk_table(cfg, i++, sizeof(sw__hkey2), sizeof(sw__ir_tb_st), nagg, NULL, NULL);
    for (unsigned k = 0; k < SW__NTABLES; k++) {
        if (!d->all[k]) {
            sw_detectors_free(d);
            return NULL;
        }
    }
    /* Expiry ages, in the order of all[] (0: fl_peer, a handful of partners
     * holding live-call counts, is never expired). */
    const int64_t hz[SW__NTABLES] = {
        TXN_LIFETIME,
        DLG_ENDED_KEEP,
        sw__p(d, SW_DP_SCAN_WINDOW),
        sw__p(d, SW_DP_BF_WINDOW),
        sw__p(d, SW_DP_BF_SPRAY_WINDOW),
        sw__p(d, SW_DP_BF_SPRAY_WINDOW),
        sw__p(d, SW_DP_FL_SRC_WINDOW),
        0,
        sw__p(d, SW_DP_FL_CALLEE_WINDOW),
        sw__p(d, SW_DP_FL_CALLER_WINDOW),
        sw__p(d, SW_DP_MF_WINDOW),
        sw__p(d, SW_DP_IRSF_WINDOW),
        max64(sw__p(d, SW_DP_IRSF_WINDOW),
              sw__p(d, SW_DP_IRSF_TEST_WINDOW) + sw__p(d, SW_DP_IRSF_LONG_CALL)),
        sw__p(d, SW_DP_WG_WINDOW),
        sw__p(d, SW_DP_WG_WINDOW),
        sw__p(d, SW_DP_LP_WINDOW),
        sw__p(d, SW_DP_BF_NET_WINDOW),
        sw__p(d, SW_DP_BF_NET_WINDOW),
        sw__p(d, SW_DP_BF_NET_WINDOW),
        /* a trunk keeps its learned normal while it calls hot ranges at least
         * once per learn-window */
        max64(sw__p(d, SW_DP_IRSF_WINDOW), sw__p(d, SW_DP_IRSF_LEARN_WINDOW)),
        sw__p(d, SW_DP_WG_WINDOW),
        sw__p(d, SW_DP_WG_WINDOW),
        max64(sw__p(d, SW_DP_IRSF_BURST_WINDOW), sw__p(d, SW_DP_IRSF_DAY_HISTORY)),
    };
    memcpy(d->horizon, hz, sizeof hz);
    return d;
}

typedef struct mig_ctx {
    sw_table *to;
    size_t value_size;
} mig_ctx;

static void mig_entry(void *ctx, const void *key, void *value)
{
    mig_ctx *c = ctx;
    void *v = sw_table_upsert(c->to, key, NULL); /* a full table evicts its oldest (a dialog releases) */
    memcpy(v, value, c->value_size);
}

sw_detectors *sw_detectors_migrate(sw_detectors *old, const sw_detect_config *cfg, uint64_t *migrated,
                                   uint64_t *dropped, uint8_t *reshaped)
{
    sw_detect_config c = *cfg;
    c.seed = old->seed; /* keys hold hashes made with it */
    sw_detectors *d = sw_detectors_new(&c);
    *migrated = *dropped = 0;
    *reshaped = 0;
    if (!d)
        return NULL;
    uint64_t total = 0;
    for (unsigned k = 0; k < SW__NTABLES; k++)
        total += sw_table_count(old->all[k]);
    for (unsigned p = 0; p < SW_DP__COUNT; p++)
        if (old->rw[p] != d->rw[p])
            *reshaped = 1;
    d->gen = old->gen;
    d->messages = old->messages;
    d->retransmissions = old->retransmissions;
    d->hits = old->hits;
    d->trips = old->trips;
    d->dropped_hits = old->dropped_hits;
    d->camp_until = old->camp_until;
    if (*reshaped) {
        *dropped = total;
        return d;
    }
    /* dialogs last: one that does not fit releases the concurrency it
     * holds in the partner and caller tables, which must be there */
    for (unsigned n = 0; n < SW__NTABLES; n++) {
        unsigned k = (n + 2) % SW__NTABLES;
        mig_ctx m = {d->all[k], sw_table_value_size(d->all[k])};
        sw_table_foreach_oldest(old->all[k], mig_entry, &m);
    }
    for (unsigned k = 0; k < SW__NTABLES; k++)
        *migrated += sw_table_count(d->all[k]);
    *dropped = total - *migrated;
    return d;
}

void sw_detectors_free(sw_detectors *d)
{
    if (!d)
        return;
    for (unsigned k = 0; k < SW__NTABLES; k++)
        sw_table_free(d->all[k]);
    free(d);
}

size_t sw_detectors_memory(const sw_detectors *d)
{
    size_t sum = sizeof *d;
    for (unsigned k = 0; k < SW__NTABLES; k++)
        sum += sw_table_memory(d->all[k]);
    return sum;
}

void sw_detectors_stats(const sw_detectors *d, sw_detect_stats *out)
{
    memset(out, 0, sizeof *out);
    out->messages = d->messages;
    out->retransmissions = d->retransmissions;
    out->hits = d->hits;
    out->trips = d->trips;
    for (unsigned k = 0; k < SW__NTABLES; k++) {
        out->evictions += sw_table_evictions(d->all[k]);
        out->entries += sw_table_count(d->all[k]);
    }
}

/* ---- expiry ---------------------------------------------------------------------
 * A few of the least recently used entries per table per message: state
 * older than its horizon goes, so counts reflect live keys and a flood's
 * debris leaves.  Entries that must stay (they hold live calls) are moved to
 * the front instead. */
static int keep_dialog(sw_detectors *d, void *value, int64_t now)
{
    sw__dlg *g = value;
    int64_t horizon = (g->flags & SW__DLG_ENDED)      ? DLG_ENDED_KEEP
                      : (g->flags & SW__DLG_ANSWERED) ? DLG_ANSWERED_IDLE
                                                      : DLG_RINGING_MAX;
    if (now - g->last <= horizon)
        return 1;
    dlg_release(d, g);
    return 0;
}

static int keep_ir_caller(sw_detectors *d, void *value, int64_t now)
{
    (void)d;
    (void)now;
    return ((sw__ir_caller_st *)value)->active > 0;
}

static void expire_slow(sw_detectors *d, unsigned k, int64_t now, int64_t horizon)
{
    sw_table *t = d->all[k];
    for (unsigned n = 0; n < EXPIRE_PER_MSG; n++) {
        const void *key;
        int64_t *last = sw_table_oldest(t, &key);
        if (!last || now - *last <= horizon)
            return;
        int keep = t == d->dlg         ? keep_dialog(d, last, now)
                   : t == d->ir_caller ? keep_ir_caller(d, last, now)
                                       : 0;
        if (keep) {
            if (!sw_table_get(t, key)) /* to the front: look behind it */
                return;
            continue;
        }
        sw_table_remove_value(t, last);
    }
}

/* The tables after bf_realm (IRSF trunks, Wangiri campaigns, IRSF test
 * calls per trunk and range) are written by calls only (initial INVITEs,
 * and call ends for the last): they are expired on initial INVITEs, not on
 * every message. */
#define SW__CALL_TABLES 4
_Static_assert(offsetof(sw_detectors, ir_trunk) == offsetof(sw_detectors, all[SW__NTABLES - SW__CALL_TABLES]),
               "the call-only tables are last");

static void expire_all(sw_detectors *d, int64_t now, int invite)
{
    unsigned n = invite ? SW__NTABLES : SW__NTABLES - SW__CALL_TABLES;
    for (unsigned k = 0; k < n; k++) {
        int64_t hz = d->horizon[k];
        if (!hz)
            continue;
        /* Common case: the oldest entry is still young, nothing to do. */
        const int64_t *last = sw_table_oldest(d->all[k], NULL);
        if (last && now - *last > hz)
            expire_slow(d, k, now, hz);
    }
}

/* ---- transactions ---------------------------------------------------------------- */

static uint64_t txn_key(const sw_detectors *d, const sw__msg *m)
{
    const sw_facts *f = m->f;
    uint64_t mix[2] = {((uint64_t)f->cseq << 8) | (uint64_t)f->method, m->h_cid};
    uint64_t h = sw_hash64(mix, sizeof mix, d->seed ^ SW__TAG_TXN);
    if (f->method == SW_METHOD_OTHER && f->method_name.len)
        h = sw_hash64(f->method_name.ptr, f->method_name.len, h);
    return f->branch.len ? sw_hash64(f->branch.ptr, f->branch.len, h) : h;
}

/* Returns 1 when the request is a retransmission (not to be counted). */
static int track_request(sw__msg *m)
{
    const sw_facts *f = m->f;
    sw_detectors *d = m->d;
    if (!f->call_id.len)
        return 0;
    uint64_t k = txn_key(d, m);
    int created;
    sw__txn *t = sw_table_upsert(d->txn, &k, &created);
    if (!created) {
        /* a copy from another source is a replay, not a retransmission:
         * it counts (and is reported) as a request of its own */
        if (m->ts - t->last < TXN_LIFETIME && memcmp(&t->src, &m->src, sizeof t->src) == 0) {
            if (t->retrans < MAX_RETRANS) {
                t->retrans++;
                return 1;
            }
            return 0; /* over the budget: every further copy counts */
        }
        t->final_seen = t->retrans = 0;
    }
    t->last = m->ts;
    t->src = m->src;
    t->partner = m->partner;
    t->method = (uint8_t)f->method;
    t->creds = f->has_credentials;
    t->auth_len = 0;
    t->auth_hash = 0;
    t->realm_hash = 0;
    if (f->has_credentials) {
        size_t n = f->auth_user.len < SW__USER_MAX ? f->auth_user.len : SW__USER_MAX;
        if (n)
            memcpy(t->auth_user, f->auth_user.ptr, n);
        t->auth_len = (uint8_t)n;
        t->auth_hash = sw__hstr(d, SW__TAG_USER, f->auth_user.ptr, f->auth_user.len);
        sw_str rl = f->auth_realm.len ? f->auth_realm : f->ruri_host;
        t->realm_hash = sw__hstr(d, SW__TAG_REALM, rl.ptr, rl.len);
    }
    return 0;
}

/* ---- dialogs --------------------------------------------------------------------- */

enum { END_BYE, END_CANCEL, END_REJECT };

static void end_call(sw__msg *m, sw__dlg *g, int how)
{
    g->flags |= SW__DLG_ENDED;
    g->end_ms = sw__dlg_ms(g, m->ts);
    dlg_release(m->d, g);
    int cancelled = how == END_CANCEL && !(g->flags & SW__DLG_ANSWERED);
    if (cancelled) {
        g->flags |= SW__DLG_CANCELLED;
        if (!g->cancel_ms)
            g->cancel_ms = g->end_ms;
    }
    if (g->flags & SW__DLG_WANGIRI)
        sw__wangiri_end(m, g, cancelled);
    if (cancelled && (g->flags & SW__DLG_PROBE))
        sw__location_end(m, g);
    if (how == END_BYE)
        sw__irsf_progress(m, g);
    if (g->flags & SW__DLG_TRUNK_HOT)
        sw__irsf_end(m, g);
}

static sw__dlg *invite(sw__msg *m)
{
    const sw_facts *f = m->f;
    sw_detectors *d = m->d;
    if (!f->call_id.len)
        return NULL;
    int created;
    sw__dlg *g = sw_table_upsert(d->dlg, &m->h_cid, &created);
    if (!created) {
        /* The same call (an INVITE again after a 401/407 challenge, or
         * after a fork): counted once.  A Call-ID reused after the call
         * ended, or for another B, is a new call: reusing one Call-ID
         * must not hide a flood. */
        int same_b = g->b_len == f->b_len && memcmp(g->b, f->b, f->b_len) == 0;
        if (!(g->flags & SW__DLG_ENDED) && same_b) {
            g->last = m->ts;
            return NULL;
        }
        if (!(g->flags & SW__DLG_ENDED))
            dlg_release(d, g);
        memset(g, 0, sizeof *g);
    }
    g->last = g->invite_ts = m->ts;
    g->src = m->src;
    g->a_len = f->a_len < SW_NUMBER_MAX ? f->a_len : SW_NUMBER_MAX;
    memcpy(g->a, f->a, g->a_len);
    g->b_len = f->b_len < SW_NUMBER_MAX ? f->b_len : SW_NUMBER_MAX;
    memcpy(g->b, f->b, g->b_len);
    if (f->a_e164)
        g->flags |= SW__DLG_A_E164;
    if (f->direction == SW_DIR_INGRESS)
        g->flags |= SW__DLG_INGRESS;
    if (m->partner)
        g->flags |= SW__DLG_PARTNER;
    if (f->peer && f->peer->name) { /* a zone's too: the carriers of a campaign */
        size_t n = strnlen(f->peer->name, SW__PEER_NAME_MAX);
        memcpy(g->peer_name, f->peer->name, n);
    }
    m->new_call = 1;
    sw__flood_call(m, g);
    sw__wangiri_call(m, g);
    sw__irsf_call(m, g);
    sw__location_call(m, g);
    return g;
}

static void request(sw__msg *m, sw__dlg **newcall)
{
    const sw_facts *f = m->f;
    sw_detectors *d = m->d;
    sw__flood_request(m);
    sw__scan_request(m);
    if (f->has_credentials)
        sw__bf_request(m);
    int in_dialog = f->to_tag.len > 0;
    if (!in_dialog) {
        if (f->method == SW_METHOD_INVITE) {
            *newcall = invite(m);
            return;
        }
        if (f->method == SW_METHOD_OPTIONS || f->method == SW_METHOD_MESSAGE) {
            sw__location_request(m);
            return;
        }
    }
    /* Only what can change a call looks the dialog up: a CANCEL or BYE ends
     * it, anything in an answered call may complete an IRSF test call. */
    if (!f->call_id.len || f->method == SW_METHOD_REGISTER)
        return;
    sw__dlg *g = sw_table_get(d->dlg, &m->h_cid);
    if (!g)
        return;
    g->last = m->ts;
    if (g->flags & SW__DLG_ENDED)
        return;
    if (f->method == SW_METHOD_CANCEL) {
        if (!(g->flags & SW__DLG_ANSWERED)) {
            g->cancel_ms = sw__dlg_ms(g, m->ts);
            end_call(m, g, END_CANCEL);
        }
    } else if (f->method == SW_METHOD_BYE) {
        end_call(m, g, END_BYE);
    } else if (g->flags & SW__DLG_ANSWERED) {
        sw__irsf_progress(m, g);
    }
}

static void response(sw__msg *m)
{
    const sw_facts *f = m->f;
    sw_detectors *d = m->d;
    if (!f->call_id.len)
        return;
    /* Provisional responses to anything but an INVITE change nothing. */
    if (f->status < 200 && f->method != SW_METHOD_INVITE)
        return;
    m->h_cid = sw__hstr(d, SW__TAG_CALLID, f->call_id.ptr, f->call_id.len);
    if (f->status >= 200) {
        uint64_t k = txn_key(d, m);
        sw__txn *t = sw_table_peek(d->txn, &k);
        if (t && !t->final_seen) {
            t->final_seen = 1;
            sw__scan_response(m, t, f->status);
            sw__bf_response(m, t, f->status);
        }
    }
    if (f->method != SW_METHOD_INVITE)
        return;
    sw__dlg *g = sw_table_get(d->dlg, &m->h_cid);
    if (!g)
        return;
    g->last = m->ts;
    if (g->flags & (SW__DLG_ENDED | SW__DLG_ANSWERED))
        return;
    if (f->status >= 180 && f->status < 190) {
        if (!g->ring_ms)
            g->ring_ms = sw__dlg_ms(g, m->ts);
    } else if (f->status >= 200 && f->status < 300) {
        g->flags |= SW__DLG_ANSWERED;
        g->answer_ms = sw__dlg_ms(g, m->ts);
    } else if (f->status >= 300 && f->status != 401 && f->status != 407) {
        /* 401/407: the caller retries with credentials, same call. */
        if (g->flags & SW__DLG_PARTNER)
            sw__flood_failed(m, g, f->status);
        end_call(m, g, f->status == 487 ? END_CANCEL : END_REJECT);
    }
}

static int enforced(const sw_detect_result *out)
{
    for (unsigned i = 0; i < out->nhits; i++) {
        const sw_detect_hit *h = &out->hits[i];
        if (!h->monitor && (h->action == SW_ACTION_DROP || h->action == SW_ACTION_REJECT))
            return 1;
    }
    return 0;
}

void sw_detectors_observe(sw_detectors *d, const sw_facts *f, sw_detect_result *out)
{
    out->retransmission = 0;
    out->nhits = 0;
    d->messages++;
    sw__msg m;
    m.d = d;
    m.f = f;
    m.out = out;
    m.ts = f->ts_ns;
    m.now_s = secs_of(f->ts_ns);
    m.new_call = 0;
    m.have = 0;
    m.src_text_len = 0;
    sw__skey_of(&f->src, &m.src);
    m.partner = f->peer && !f->peer->is_zone;
    expire_all(d, m.ts, f->is_request && f->method == SW_METHOD_INVITE);

    if (f->malformed) {
        sw__malformed(&m);
        if (f->is_request || !f->msg)
            sw__flood_request(&m); /* garbage floods count as requests */
        return;
    }
    if (!f->is_request) {
        response(&m);
        return;
    }
    if (f->call_id.len)
        m.h_cid = sw__hstr(d, SW__TAG_CALLID, f->call_id.ptr, f->call_id.len);
    if (track_request(&m)) {
        out->retransmission = 1;
        d->retransmissions++;
        return;
    }
    sw__dlg *g = NULL;
    request(&m, &g);
    /* A refused call never starts: it must not hold concurrency or wait
     * for an end that will not come. */
    if (g && enforced(out)) {
        dlg_release(d, g);
        sw_table_remove_value(d->dlg, g);
    }
}
