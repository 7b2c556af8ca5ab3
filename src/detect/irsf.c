/* D5 IRSF behaviour: who calls high-risk ranges, how much, how.
 *
 * The caller is A, or the source trunk when A is missing.
 *   volume       calls to hot ranges (irsf_hot) >= calls within window
 *   concurrency  live calls to hot ranges >= concurrent
 *   sequential   >= sequential distinct B in one range (B minus its last
 *                range-digits digits) within window; needs no hot list;
 *                our own subscribers' numbers never count (no revenue
 *                share there)
 *   test-call    (R4) an answered call shorter than short-call to a range,
 *                then within test-window an answered call to the same
 *                range lasting long-call: the fraudster checked the route,
 *                then pumps.  Per (caller, range), on hot B when a hot list
 *                is configured, else on any non-subscriber E.164 B.
 *                Detected at the BYE of the long call or at its first
 *                in-dialog request after long-call has passed.
 *
 * By trunk (the sending partner, else the source; counted from its first
 * call to a hot range, all its calls from then on), on hot B only, so that
 * a carrier's calls from many A-numbers add up while its ordinary calls,
 * and an enterprise's few calls to those countries, do not:
 *   spread       >= trunk-distinct distinct hot B within window, and hot
 *                calls >= trunk-share of the trunk's calls with an E.164
 *                B in that window (a big carrier that always carries some
 *                traffic to those countries stays under its share)
 *   sequential   >= sequential distinct hot B in one range from the trunk
 *                within window: number walking spread over rotating
 *                A-numbers
 *   test-then-burst  per (trunk, hot range): at least test-calls short
 *                (answered < short-call) or unanswered calls, then within
 *                burst-window of the first one at least burst new calls
 *                to that range: the route was checked, then pumped.  The
 *                event names the test numbers and the burst size.
 *   long-call    per (trunk, hot range): an answered call that lasts
 *                night-call and was answered in the operator's quiet-hours
 *                or quiet-days (local time: UTC + utc-offset), unless the trunk made a
 *                call that long to that range outside quiet hours within
 *                day-history, or the partner says `night-calls yes`.
 *                Offender the caller.
 *   rate         the trunk's hot calls within window above rate-factor of
 *                its own normal (and at least `calls`): an exponentially
 *                weighted rate of its hot calls over learn-window, judged
 *                once it has learned for learn-min.  A carrier's usual
 *                traffic to those countries is its normal; a jump is not.
 *   contract     a partner with a contracted cps or concurrency in the
 *                policy: its hot calls in contract-window above
 *                contract-share of cps x contract-window, or its live hot
 *                calls above contract-share of its concurrency (at least
 *                `concurrent` either way).  Without a contract the learned
 *                normal (rate) and the spread rule's trunk-share stand for
 *                the trunk's normal.
 * A partner is named (offender PEER, never blocked); only its calls to
 * hot ranges are refused while the pattern holds. */
#include <math.h>

#include "detect/detect_int.h"

/* The caller key of the message's own dialog (its hashes are cached). */
static uint64_t m_caller_key(sw__msg *m, const sw__dlg *g)
{
    return g->a_len ? sw__m_ha(m) : sw__m_hsrc(m);
}

static sw__who caller_who(const sw__dlg *g)
{
    if (g->a_len)
        return sw__who_text(SW_OFFENDER_CALLER, g->a, g->a_len);
    return sw__who_source(&g->src, (g->flags & SW__DLG_PARTNER) != 0);
}

/* Digits of B that name its range, 0 when B has no range. */
static size_t range_len(const sw_detectors *d, const char *b, size_t blen)
{
    size_t rd = (size_t)sw__p(d, SW_DP_IRSF_RANGE_DIGITS);
    if (blen < rd + 5 || b[0] != '+')
        return 0; /* "+" and 4 digits must remain */
    return blen - rd;
}

static sw_detect_hit *hit(sw__msg *m, int r, const char *rule, const sw__dlg *g)
{
    sw__who who = caller_who(g);
    return sw__hit(m, SW_DET_IRSF, rule, r, &who, sw__p(m->d, SW_DP_IRSF_BLOCK));
}

/* The trunk of the message: its partner, else its source. */
static uint64_t trunk_key(sw__msg *m)
{
    if (m->partner && m->f->peer->name)
        return sw__peer_key(m->d, m->f->peer->name);
    return sw__m_hsrc(m);
}

static sw_detect_hit *trunk_hit(sw__msg *m, int r, const char *rule)
{
    sw__who who;
    if (m->partner && m->f->peer->name)
        who = sw__who_text(SW_OFFENDER_PEER, m->f->peer->name,
                           strnlen(m->f->peer->name, SW__PEER_NAME_MAX));
    else
        who = sw__who_source(&m->src, m->partner);
    return sw__hit(m, SW_DET_IRSF, rule, r, &who, sw__p(m->d, SW_DP_IRSF_BLOCK));
}

/* "partner NAME", or "source" (the offender names it). */
static const char *trunk_kind(const sw__msg *m)
{
    return m->partner && m->f->peer->name ? "partner " : "source";
}
static const char *trunk_name(const sw__msg *m)
{
    return m->partner && m->f->peer->name ? m->f->peer->name : "";
}

/* A contracted partner's call to a hot range (t: its trunk entry): its
 * hot rate and live hot calls against its contract. */
static void contract_call(sw__msg *m, sw__dlg *g, sw__ir_trunk_st *t)
{
    sw_detectors *d = m->d;
    const sw_peer *p = m->f->peer;
    int64_t share = sw__p(d, SW_DP_IRSF_CONTRACT_SHARE);
    int64_t least = sw__p(d, SW_DP_IRSF_CONCURRENT);
    uint32_t cw_s = sw__ws(d, SW_DP_IRSF_CONTRACT_WINDOW);
    uint32_t n = sw__ring_add(&t->hr, m->ts, sw__rw(d, SW_DP_IRSF_CONTRACT_WINDOW), 1);
    /* in doubles: cps x share x seconds can pass 2^63 */
    double rate_lim = (double)p->cps * (double)share * (double)cw_s / 100.0;
    double conc_lim = (double)p->concurrency * (double)share / 100.0;
    int rate_over = p->cps && n >= least && (double)n > rate_lim;
    int conc_over = p->concurrency && t->active >= least && (double)t->active > conc_lim;
    int64_t win = sw__p(d, SW_DP_IRSF_WINDOW);
    int r = sw__trip_check(&t->ctrip, rate_over || conc_over, 1, m->ts, win);
    /* one hit per call is enough: an earlier IRSF hit's enforcement covers it */
    if (r == SW__NO_HIT ||
        (r == 0 && m->out->nhits && m->out->hits[m->out->nhits - 1].detector == SW_DET_IRSF))
        return;
    sw_detect_hit *h = trunk_hit(m, r, "irsf.contract");
    if (!h)
        return;
    if (conc_over)
        sw__hit_reason(h, "partner %s: %u live calls to high-risk ranges, over %lld%% of its "
                          "contracted concurrency %u, last to %.*s",
                       p->name, t->active, (long long)share, p->concurrency, (int)g->b_len, g->b);
    else if (rate_over)
        sw__hit_reason(h, "partner %s: %u calls to high-risk ranges in %us, over %lld%% of its "
                          "contracted %u cps, last to %.*s",
                       p->name, n, cw_s, (long long)share, p->cps, (int)g->b_len, g->b);
    else
        sw__hit_reason(h, "partner %s: call to a high-risk range after its calls to those "
                          "ranges passed %lld%% of its contract, to %.*s",
                       p->name, (long long)share, (int)g->b_len, g->b);
    sw__ev(h, "hot_calls", n);
    sw__ev(h, "window_s", cw_s);
    sw__ev(h, "concurrent", t->active);
    sw__ev(h, "cps", p->cps);
    sw__ev(h, "concurrency", p->concurrency);
    sw__ev(h, "share", share);
}

/* A new call from a trunk to hot range rk (rl digits of B): after enough
 * test calls to the range, a burst call. */
static void burst_call(sw__msg *m, const sw__dlg *g, const sw__hkey2 *rk, size_t rl)
{
    sw_detectors *d = m->d;
    sw__ir_tb_st *b = sw_table_get(d->ir_tb, rk);
    if (!b || !b->test_ts)
        return; /* no test call to the range lately */
    int64_t bw = sw__p(d, SW_DP_IRSF_BURST_WINDOW);
    int over = 0;
    if (m->ts - b->test_ts > bw) {
        b->test_ts = 0; /* the series is over */
        b->tests = b->burst = b->nnum = 0;
    } else if (b->tests >= (uint64_t)sw__p(d, SW_DP_IRSF_TEST_CALLS)) {
        b->burst++;
        b->last = m->ts;
        over = (int64_t)b->burst >= sw__p(d, SW_DP_IRSF_BURST);
    }
    int r = sw__trip_check(&b->trip, over, 1, m->ts, bw);
    if (r == SW__NO_HIT ||
        (r == 0 && m->out->nhits && m->out->hits[m->out->nhits - 1].detector == SW_DET_IRSF))
        return;
    sw_detect_hit *h = trunk_hit(m, r, "irsf.test-then-burst");
    if (!h)
        return;
    char nums[SW__IR_TESTS * (SW_NUMBER_MAX + 2) + 8];
    size_t o = 0;
    for (unsigned i = 0; i < b->nnum && i < SW__IR_TESTS; i++)
        o += (size_t)snprintf(nums + o, sizeof nums - o, "%s%.*s", i ? ", " : "", (int)b->nlen[i],
                              b->num[i]);
    if (b->tests > b->nnum)
        snprintf(nums + o, sizeof nums - o, ", ...");
    sw__hit_reason(h,
                   "%s%s: %u test calls to %s (short or unanswered), then %u calls to range "
                   "%.*s%.*s within %llds (limits %lld, %lld)",
                   trunk_kind(m), trunk_name(m), b->tests, nums, b->burst, (int)rl, g->b,
                   (int)(g->b_len - rl), "XXXXXXXXXXXXXXX", (long long)(bw / SW_NS_S),
                   (long long)sw__p(d, SW_DP_IRSF_TEST_CALLS), (long long)sw__p(d, SW_DP_IRSF_BURST));
    sw__ev(h, "tests", b->tests);
    sw__ev(h, "burst", b->burst);
    sw__ev(h, "window_s", bw / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_IRSF_BURST));
}

/* A trunk's call to a hot range (t: its entry; hots: its hot calls within
 * window, this one included; t->active: its live hot calls, this one
 * included) against the normal learned from its past: rate is an
 * exponentially weighted count of hot calls per ns, conc the time-weighted
 * average of its live hot calls, both with the time constant learn-window
 * from its first hot call on.  Averages that started at zero have reached
 * 1 - e^(-age/learn-window) of the true ones, which the normals correct
 * for. */
static void rate_call(sw__msg *m, sw__ir_trunk_st *t, uint32_t hots)
{
    sw_detectors *d = m->d;
    double tau = (double)sw__p(d, SW_DP_IRSF_LEARN_WINDOW);
    int64_t win = sw__p(d, SW_DP_IRSF_WINDOW);
    if (!t->learn_from) {
        t->learn_from = t->rate_ts = m->ts;
        t->rate = t->conc = 0;
    } else if (m->ts > t->rate_ts) {
        double keep = exp(-(double)(m->ts - t->rate_ts) / tau);
        t->rate *= keep;
        /* the level before this call held since the last hot call (the
         * calls that ended in between are taken as ending now) */
        t->conc = t->conc * keep + (1.0 - keep) * (double)(t->active - 1);
        t->rate_ts = m->ts;
    }
    t->rate += 1.0 / tau;
    int64_t age = m->ts - t->learn_from;
    double normal = 0, live_normal = 0;
    int over = 0, live_over = 0;
    int64_t least = sw__p(d, SW_DP_IRSF_CALLS), factor = sw__p(d, SW_DP_IRSF_RATE_FACTOR);
    if (age >= sw__p(d, SW_DP_IRSF_LEARN_MIN) && age > 0) {
        double learned = 1.0 - exp(-(double)age / tau);
        normal = t->rate * (double)win / learned;
        live_normal = t->conc / learned;
        over = (int64_t)hots >= least && (double)hots * 100.0 > (double)factor * normal;
        live_over = (int64_t)t->active >= least && (double)t->active * 100.0 > (double)factor * live_normal;
    }
    if (live_over && !over) {
        int r = sw__trip_check(&t->rtrip, 1, 1, m->ts, win);
        if (r == SW__NO_HIT ||
            (r == 0 && m->out->nhits && m->out->hits[m->out->nhits - 1].detector == SW_DET_IRSF))
            return;
        sw_detect_hit *h = trunk_hit(m, r, "irsf.rate");
        if (!h)
            return;
        sw__hit_reason(h, "%s%s: %u live calls to high-risk ranges, over %lld%% of its normal %.1f (learned "
                          "over %llds)",
                       trunk_kind(m), trunk_name(m), t->active, (long long)factor, live_normal,
                       (long long)(age / SW_NS_S));
        sw__ev(h, "live", t->active);
        sw__ev(h, "live_normal_x10", (int64_t)(live_normal * 10.0 + 0.5));
        sw__ev(h, "learned_s", age / SW_NS_S);
        sw__ev(h, "factor_pct", factor);
        return;
    }
    int r = sw__trip_check(&t->rtrip, over, 1, m->ts, win);
    /* one hit per call is enough: an earlier IRSF hit's enforcement covers it */
    if (r == SW__NO_HIT ||
        (r == 0 && m->out->nhits && m->out->hits[m->out->nhits - 1].detector == SW_DET_IRSF))
        return;
    sw_detect_hit *h = trunk_hit(m, r, "irsf.rate");
    if (!h)
        return;
    sw__hit_reason(h,
                   "%s%s: %u calls to high-risk ranges in %llds, over %lld%% of its normal %.1f "
                   "(learned over %llds)",
                   trunk_kind(m), trunk_name(m), hots, (long long)(win / SW_NS_S),
                   (long long)sw__p(d, SW_DP_IRSF_RATE_FACTOR), normal, (long long)(age / SW_NS_S));
    sw__ev(h, "hot_calls", hots);
    sw__ev(h, "normal_x10", (int64_t)(normal * 10.0 + 0.5));
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "learned_s", age / SW_NS_S);
    sw__ev(h, "factor_pct", sw__p(d, SW_DP_IRSF_RATE_FACTOR));
}

/* The trunk aggregates: every new call with an E.164 B is counted, the
 * rules look at calls to hot ranges. */
static void trunk_call(sw__msg *m, sw__dlg *g, int hot)
{
    sw_detectors *d = m->d;
    if (!hot && !sw_table_count(d->ir_trunk))
        return; /* no trunk has called a hot range lately */
    uint64_t tk = trunk_key(m);
    /* A trunk enters the table with its first call to a hot range; from
     * then on all its calls count (the share's denominator) until it
     * expires: trunks that never call a hot range cost a lookup. */
    sw__ir_trunk_st *t = hot ? sw_table_upsert(d->ir_trunk, &tk, NULL) : sw_table_get(d->ir_trunk, &tk);
    if (!t)
        return;
    t->last = m->ts;
    uint32_t calls, hots;
    sw__ring2_add(&t->ch, m->ts, sw__rw(d, SW_DP_IRSF_WINDOW), 1, (uint32_t)hot, &calls, &hots);
    if (!hot)
        return;
    int64_t win = sw__p(d, SW_DP_IRSF_WINDOW);
    uint32_t ws = sw__ws(d, SW_DP_IRSF_WINDOW);
    uint32_t need = sw__cap(sw__p(d, SW_DP_IRSF_TRUNK_DISTINCT), SW__IR_TRUNK_B);
    int64_t share = sw__p(d, SW_DP_IRSF_TRUNK_SHARE);
    uint32_t distinct = sw__dset_add(&t->bbase, t->bh, t->bt, SW__IR_TRUNK_B, sw__m_hb(m), m->now_s, ws);
    int over = distinct >= need && (int64_t)hots * 100 >= share * (int64_t)calls;
    int r = sw__trip_check(&t->trip, over, 1, m->ts, win);
    sw_detect_hit *h;
    if (r != SW__NO_HIT && (h = trunk_hit(m, r, "irsf.spread")) != NULL) {
        sw__hit_reason(h,
                       "%s%s: %u distinct high-risk numbers in %llds (limit %u), %u of its %u "
                       "calls to high-risk ranges (share limit %lld%%), last to %.*s",
                       trunk_kind(m), trunk_name(m), distinct, (long long)(win / SW_NS_S), need, hots, calls,
                       (long long)share, (int)g->b_len, g->b);
        sw__ev(h, "distinct", distinct);
        sw__ev(h, "hot_calls", hots);
        sw__ev(h, "calls", calls);
        sw__ev(h, "window_s", win / SW_NS_S);
        sw__ev(h, "threshold", need);
    }
    /* its live hot calls (given back at release) */
    if (!t->gen)
        t->gen = sw__next_gen(d);
    t->active++;
    g->ir_tgen = t->gen;
    rate_call(m, t, hots);
    if (m->partner && m->f->peer->name && (m->f->peer->cps || m->f->peer->concurrency))
        contract_call(m, g, t);
    size_t rl = range_len(d, g->b, g->b_len);
    if (!rl)
        return;
    sw__hkey2 rk = {tk ^ SW__TAG_TRUNK_RANGE, sw__hstr(d, SW__TAG_RANGE, g->b, rl)};
    g->flags |= SW__DLG_TRUNK_HOT;
    if (m->partner && m->f->peer->night_calls)
        g->flags |= SW__DLG_NIGHT_OK;
    burst_call(m, g, &rk, rl);
    sw__ir_range_st *s = sw_table_upsert(d->ir_range, &rk, NULL);
    s->last = m->ts;
    uint32_t sneed = sw__cap(sw__p(d, SW_DP_IRSF_SEQUENTIAL), SW__IR_RANGE_B);
    uint32_t sd = sw__dset_add(&s->bbase, s->bh, s->bt, SW__IR_RANGE_B, sw__m_hb(m), m->now_s, ws);
    r = sw__trip_check(&s->seq_trip, sd >= sneed, 1, m->ts, win);
    /* one hit per call is enough: the spread rule's enforcement covers it */
    if (r == 1 || (r == 0 && !(m->out->nhits && m->out->hits[m->out->nhits - 1].detector == SW_DET_IRSF))) {
        if ((h = trunk_hit(m, r, "irsf.sequential")) != NULL) {
            sw__hit_reason(h, "%s%s: %u distinct numbers dialled in high-risk range %.*s%.*s in "
                              "%llds (limit %u), from rotating calling numbers",
                           trunk_kind(m), trunk_name(m), sd, (int)rl, g->b, (int)(g->b_len - rl), "XXXXXXXXXXXXXXX",
                           (long long)(win / SW_NS_S), sneed);
            sw__ev(h, "distinct", sd);
            sw__ev(h, "window_s", win / SW_NS_S);
            sw__ev(h, "threshold", sneed);
        }
    }
}

void sw__irsf_call(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_IRSF) || !f->b_len || !f->b_e164)
        return;
    int64_t win = sw__p(d, SW_DP_IRSF_WINDOW);
    uint64_t ck = m_caller_key(m, g);
    int hot = d->hot && f->b_len > 1 && sw_prefix_set_lookup(d->hot, f->b + 1, f->b_len - 1, NULL) > 0;
    if (d->hot)
        trunk_call(m, g, hot && !f->b_subscriber);
    if (hot) {
        g->flags |= SW__DLG_HOT;
        int created;
        sw__ir_caller_st *c = sw_table_upsert(d->ir_caller, &ck, &created);
        if (created)
            c->gen = sw__next_gen(d);
        c->last = m->ts;
        uint32_t calls = sw__ring_add(&c->hot, m->ts, sw__rw(d, SW_DP_IRSF_WINDOW), 1);
        c->active++;
        g->ir_gen = c->gen;
        int64_t need = sw__p(d, SW_DP_IRSF_CALLS);
        int r = sw__trip_check(&c->vol_trip, calls >= need, 1, m->ts, win);
        sw_detect_hit *h;
        if (r != SW__NO_HIT && (h = hit(m, r, "irsf.volume", g)) != NULL) {
            sw__hit_reason(h, "%u calls to high-risk destinations in %llds (limit %lld), last to %.*s",
                           calls, (long long)(win / SW_NS_S), (long long)need, (int)g->b_len, g->b);
            sw__ev(h, "count", calls);
            sw__ev(h, "window_s", win / SW_NS_S);
            sw__ev(h, "threshold", need);
        }
        need = sw__p(d, SW_DP_IRSF_CONCURRENT);
        r = sw__trip_check(&c->conc_trip, c->active >= need, 1, m->ts, win);
        /* One enforcement hit per call is enough once volume already hit. */
        if (r == 1 || (r == 0 && !(m->out->nhits && m->out->hits[m->out->nhits - 1].detector ==
                                                         SW_DET_IRSF))) {
            if ((h = hit(m, r, "irsf.concurrency", g)) != NULL) {
                sw__hit_reason(h, "%u concurrent calls to high-risk destinations (limit %lld)",
                               c->active, (long long)need);
                sw__ev(h, "concurrent", c->active);
                sw__ev(h, "threshold", need);
            }
        }
    }
    size_t rl = f->b_subscriber ? 0 : range_len(d, g->b, g->b_len);
    if (!rl)
        return;
    sw__hkey2 rk = {ck, sw__hstr(d, SW__TAG_RANGE, g->b, rl)};
    sw__ir_range_st *s = sw_table_upsert(d->ir_range, &rk, NULL);
    s->last = m->ts;
    uint32_t need = sw__cap(sw__p(d, SW_DP_IRSF_SEQUENTIAL), SW__IR_RANGE_B);
    uint32_t distinct = sw__dset_add(&s->bbase, s->bh, s->bt, SW__IR_RANGE_B, sw__m_hb(m), m->now_s,
                                     sw__ws(d, SW_DP_IRSF_WINDOW));
    int r = sw__trip_check(&s->seq_trip, distinct >= need, 1, m->ts, win);
    sw_detect_hit *h;
    if (r != SW__NO_HIT && (h = hit(m, r, "irsf.sequential", g)) != NULL) {
        sw__hit_reason(h, "%u distinct numbers dialled in range %.*s%.*s in %llds (limit %u)",
                       distinct, (int)rl, g->b, (int)(g->b_len - rl), "XXXXXXXXXXXXXXX",
                       (long long)(win / SW_NS_S), need);
        sw__ev(h, "distinct", distinct);
        sw__ev(h, "window_s", win / SW_NS_S);
        sw__ev(h, "threshold", need);
    }
    if (d->hot ? hot : 1) {
        g->flags |= SW__DLG_TESTCALL;
        /* A range caught with a test call: further calls to it are offending. */
        int64_t tw = sw__p(d, SW_DP_IRSF_TEST_WINDOW);
        r = sw__trip_check(&s->tc_trip, 0, 1, m->ts, tw);
        if (r == 0 && (h = hit(m, 0, "irsf.test-call", g)) != NULL)
            sw__hit_reason(h, "call to range %.*s after a test-call pattern", (int)rl, g->b);
    }
}

/* The trunk of a dialog, as trunk_key made it at its INVITE. */
static uint64_t dlg_trunk_key(const sw_detectors *d, const sw__dlg *g)
{
    return (g->flags & SW__DLG_PARTNER) && g->peer_name[0] ? sw__peer_key(d, g->peer_name)
                                                           : sw__hsrc(d, &g->src);
}

/* The local hour (0-23) of ts: UTC + utc-offset. */
static int local_hour(const sw_detectors *d, int64_t ts)
{
    int64_t s = ts / SW_NS_S + sw__p(d, SW_DP_IRSF_UTC_OFFSET) * 60;
    return (int)(((s % 86400) + 86400) % 86400 / 3600);
}

/* The local weekday (0 = Monday) of ts: 1970-01-01 was a Thursday. */
static int local_weekday(const sw_detectors *d, int64_t ts)
{
    int64_t s = ts / SW_NS_S + sw__p(d, SW_DP_IRSF_UTC_OFFSET) * 60;
    int64_t day = s >= 0 ? s / 86400 : (s - 86399) / 86400;
    return (int)(((day + 3) % 7 + 7) % 7);
}

static int quiet_day(const sw_detectors *d, int wd)
{
    int64_t q = sw__p(d, SW_DP_IRSF_QUIET_DAYS);
    if (q < 100)
        return 0; /* none */
    int from = (int)((q - 100) / 10), to = (int)(q % 10);
    return from <= to ? wd >= from && wd <= to : wd >= from || wd <= to;
}

static int quiet_hour(const sw_detectors *d, int hour)
{
    int64_t q = sw__p(d, SW_DP_IRSF_QUIET_HOURS);
    int from = (int)(q / 100), to = (int)(q % 100);
    return from <= to ? hour >= from && hour < to : hour >= from || hour < to;
}

/* An answered call to a hot range from a trunk has lasted night-call. */
static void night_check(sw__msg *m, sw__dlg *g, int64_t answer_ts, int64_t dur)
{
    sw_detectors *d = m->d;
    g->flags |= SW__DLG_NIGHT_DONE;
    size_t rl = range_len(d, g->b, g->b_len);
    if (!rl)
        return;
    sw__hkey2 rk = {dlg_trunk_key(d, g) ^ SW__TAG_TRUNK_RANGE, sw__hstr(d, SW__TAG_RANGE, g->b, rl)};
    int hour = local_hour(d, answer_ts), wd = local_weekday(d, answer_ts);
    int64_t hist = sw__p(d, SW_DP_IRSF_DAY_HISTORY);
    if (!quiet_hour(d, hour) && !quiet_day(d, wd)) {
        /* the trunk's normal: long calls to this range in the day */
        sw__ir_tb_st *b = sw_table_upsert(d->ir_tb, &rk, NULL);
        b->last = b->day_long = m->ts;
        return;
    }
    sw__ir_tb_st *b = sw_table_upsert(d->ir_tb, &rk, NULL);
    b->last = m->ts;
    if (b->day_long && m->ts - b->day_long <= hist)
        return; /* it calls that range that long in the day too */
    if (g->flags & SW__DLG_NIGHT_OK)
        return; /* the partner's night calls are agreed (`night-calls yes`) */
    int r = sw__trip_check(&b->night_trip, 1, 1, m->ts, sw__p(d, SW_DP_IRSF_WINDOW));
    sw_detect_hit *h = hit(m, r, "irsf.long-call", g);
    if (!h)
        return;
    int64_t q = sw__p(d, SW_DP_IRSF_QUIET_HOURS), off = sw__p(d, SW_DP_IRSF_UTC_OFFSET);
    sw__hit_reason(h,
                   "%llds call to %.*s in range %.*s%.*s answered %s %02d h local (quiet hours "
                   "%02lld-%02lld, UTC%+lld min), at least %llds, no such call from the trunk "
                   "outside quiet hours in %llds",
                   (long long)(dur / SW_NS_S), (int)g->b_len, g->b, (int)rl, g->b,
                   (int)(g->b_len - rl), "XXXXXXXXXXXXXXX", sw_weekday_names[wd], hour,
                   (long long)(q / 100),
                   (long long)(q % 100), (long long)off,
                   (long long)(sw__p(d, SW_DP_IRSF_NIGHT_CALL) / SW_NS_S),
                   (long long)(hist / SW_NS_S));
    sw__ev(h, "duration_s", dur / SW_NS_S);
    sw__ev(h, "start_hour", hour);
    sw__ev(h, "start_weekday", wd + 1); /* ISO 8601: Monday 1 */
    sw__ev(h, "threshold", sw__p(d, SW_DP_IRSF_NIGHT_CALL) / SW_NS_S);
    sw__ev(h, "utc_offset_min", off);
}

void sw__irsf_progress(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_IRSF) || !(g->flags & SW__DLG_ANSWERED))
        return;
    if ((g->flags & (SW__DLG_TRUNK_HOT | SW__DLG_NIGHT_DONE)) == SW__DLG_TRUNK_HOT) {
        int64_t end = (g->flags & SW__DLG_ENDED) ? sw__dlg_ts(g, g->end_ms) : m->ts;
        int64_t answer_ts = sw__dlg_ts(g, g->answer_ms);
        if (end - answer_ts >= sw__p(d, SW_DP_IRSF_NIGHT_CALL))
            night_check(m, g, answer_ts, end - answer_ts);
    }
    if (!(g->flags & SW__DLG_TESTCALL) || (g->flags & SW__DLG_LONG_DONE))
        return;
    int ended = (g->flags & SW__DLG_ENDED) != 0;
    int64_t end = ended ? sw__dlg_ts(g, g->end_ms) : m->ts;
    int64_t answer_ts = sw__dlg_ts(g, g->answer_ms);
    int64_t dur = end - answer_ts;
    int64_t shortc = sw__p(d, SW_DP_IRSF_SHORT_CALL), longc = sw__p(d, SW_DP_IRSF_LONG_CALL);
    size_t rl = range_len(d, g->b, g->b_len);
    if (!rl)
        return;
    sw__hkey2 rk = {sw__caller_key(d, g), sw__hstr(d, SW__TAG_RANGE, g->b, rl)};
    if (ended && dur < shortc) {
        sw__ir_range_st *s = sw_table_upsert(d->ir_range, &rk, NULL);
        s->last = m->ts;
        s->short_end = end;
        g->flags |= SW__DLG_LONG_DONE;
        return;
    }
    if (dur < longc)
        return;
    g->flags |= SW__DLG_LONG_DONE;
    sw__ir_range_st *s = sw_table_get(d->ir_range, &rk);
    int64_t tw = sw__p(d, SW_DP_IRSF_TEST_WINDOW);
    if (!s || !s->short_end || answer_ts < s->short_end || answer_ts - s->short_end > tw)
        return;
    s->last = m->ts;
    int r = sw__trip_check(&s->tc_trip, 1, 1, m->ts, tw);
    sw_detect_hit *h = hit(m, r, "irsf.test-call", g);
    if (!h)
        return;
    sw__hit_reason(h,
                   "short test call to range %.*s then a %llds call to %.*s %llds later "
                   "(short < %llds, long >= %llds, within %llds)",
                   (int)rl, g->b, (long long)(dur / SW_NS_S), (int)g->b_len, g->b,
                   (long long)((answer_ts - s->short_end) / SW_NS_S),
                   (long long)(shortc / SW_NS_S), (long long)(longc / SW_NS_S),
                   (long long)(tw / SW_NS_S));
    sw__ev(h, "duration_s", dur / SW_NS_S);
    sw__ev(h, "gap_s", (answer_ts - s->short_end) / SW_NS_S);
    sw__ev(h, "short_s", shortc / SW_NS_S);
    sw__ev(h, "long_s", longc / SW_NS_S);
    sw__ev(h, "window_s", tw / SW_NS_S);
}

void sw__irsf_end(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_IRSF))
        return;
    if (g->flags & SW__DLG_ANSWERED) {
        int64_t dur = sw__dlg_ts(g, g->end_ms) - sw__dlg_ts(g, g->answer_ms);
        if (dur >= sw__p(d, SW_DP_IRSF_SHORT_CALL))
            return; /* a real call, no test */
    }
    size_t rl = range_len(d, g->b, g->b_len);
    if (!rl)
        return;
    sw__hkey2 rk = {dlg_trunk_key(d, g) ^ SW__TAG_TRUNK_RANGE, sw__hstr(d, SW__TAG_RANGE, g->b, rl)};
    sw__ir_tb_st *b = sw_table_upsert(d->ir_tb, &rk, NULL);
    if (b->test_ts && m->ts - b->test_ts > sw__p(d, SW_DP_IRSF_BURST_WINDOW)) {
        b->test_ts = 0; /* a new series */
        b->tests = b->burst = b->nnum = 0;
    }
    b->last = m->ts;
    if (b->burst)
        return; /* the burst's own short calls are no tests */
    if (!b->test_ts)
        b->test_ts = m->ts;
    if (b->tests < UINT32_MAX)
        b->tests++;
    for (unsigned i = 0; i < b->nnum; i++)
        if (b->nlen[i] == g->b_len && memcmp(b->num[i], g->b, g->b_len) == 0)
            return;
    if (b->nnum < SW__IR_TESTS) {
        memcpy(b->num[b->nnum], g->b, g->b_len);
        b->nlen[b->nnum++] = g->b_len;
    }
}

void sw__irsf_release(sw_detectors *d, sw__dlg *g)
{
    if (g->ir_tgen) {
        /* a call to a hot range holds one on its trunk */
        uint64_t key = dlg_trunk_key(d, g);
        sw__ir_trunk_st *t = sw_table_peek(d->ir_trunk, &key);
        if (t && t->gen == g->ir_tgen && t->active)
            t->active--;
        g->ir_tgen = 0;
    }
    if (!g->ir_gen)
        return;
    uint64_t key = sw__caller_key(d, g);
    sw__ir_caller_st *c = sw_table_peek(d->ir_caller, &key);
    if (c && c->gen == g->ir_gen && c->active)
        c->active--;
    g->ir_gen = 0;
}
