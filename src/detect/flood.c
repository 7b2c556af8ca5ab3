/* D3 request floods (T-DoS).
 *
 * Per unknown source: more than source-requests requests (retransmissions
 * excluded) in source-window.  Per partner: new calls per second over its
 * contracted CPS times peer-cps-factor, or live calls over its contracted
 * concurrency; a partner is answered 503 + Retry-After, never blocked.  Per
 * callee B and per caller A: more than callee-/caller-invites new calls in
 * their windows.  Every message over a threshold is a hit; only the one
 * that crosses it trips (emits an event).
 *
 * A partner without a contracted CPS (flood.peer-burst) is trusted for who
 * it is, not for an unbounded rate: its new calls per peer-burst-window
 * are held against max(peer-burst-floor, peer-burst-factor x its learned
 * rate).  The rate is learned per window-long bucket: a running mean over
 * the first peer-baseline, then an EWMA with that time constant; a bucket
 * teaches at most the threshold, so a burst never raises its own limit.
 * Until the partner has been seen for peer-warmup (again after peer-idle
 * without a new call) the learned rate is not trusted on its own: the
 * burst must also fail (at least
 * peer-burst-failure-ratio of the window's new calls answered >= 400, not
 * busy or cancelled) -- a failover or a big partner's first minutes bring
 * calls that connect, a flood to guessed or unassigned numbers does not. */
#include "detect/detect_int.h"

static void count_hit(sw__msg *m, int r, const char *rule, const sw__who *who, int64_t block,
                      uint32_t n, int64_t limit, int64_t window, const char *what)
{
    sw_detect_hit *h = sw__hit(m, SW_DET_FLOOD, rule, r, who, block);
    if (!h)
        return;
    sw__hit_reason(h, "%u %s in %llds (limit %lld)", n, what,
                   (long long)(window / SW_NS_S), (long long)limit);
    sw__ev(h, "count", n);
    sw__ev(h, "window_s", window / SW_NS_S);
    sw__ev(h, "threshold", limit);
}

void sw__flood_request(sw__msg *m)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_FLOOD) || m->partner)
        return;
    int64_t win = sw__p(d, SW_DP_FL_SRC_WINDOW), lim = sw__p(d, SW_DP_FL_SRC_REQUESTS);
    sw__count_st *s = sw_table_upsert(d->fl_src, &m->src, NULL);
    s->last = m->ts;
    uint32_t n = sw__ring_add(&s->n, m->ts, sw__rw(d, SW_DP_FL_SRC_WINDOW), 1);
    int r = sw__trip_check(&s->trip, n > lim, 0, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    sw__who who = sw__who_source(&m->src, 0);
    count_hit(m, r, "flood.source", &who, sw__p(d, SW_DP_FL_SRC_BLOCK), n, lim, win,
              "requests from one source");
}

/* A partner over its contract is told to back off (RFC 3261 21.5.4), not
 * silently dropped: dropping makes it retransmit. */
static sw_detect_hit *peer_hit(sw__msg *m, int r, const char *rule, const char *what,
                               uint32_t n, int64_t limit)
{
    sw_detectors *d = m->d;
    const sw_peer *p = m->f->peer;
    sw__who who = sw__who_text(SW_OFFENDER_PEER, p->name ? p->name : "",
                               p->name ? strlen(p->name) : 0);
    sw_detect_hit *h = sw__hit(m, SW_DET_FLOOD, rule, r, &who, 0);
    if (!h)
        return NULL;
    if (h->action != SW_ACTION_TAG && h->action != SW_ACTION_ALLOW) {
        h->action = SW_ACTION_REJECT;
        h->status = 503;
        h->retry_after_s = sw__secs(sw__p(d, SW_DP_FL_RETRY_AFTER));
    }
    sw__hit_reason(h, "partner %s: %u %s (limit %lld)", p->name ? p->name : "?", n, what,
                   (long long)limit);
    sw__ev(h, "count", n);
    sw__ev(h, "threshold", limit);
    return h;
}

/* The new calls per window that a partner may place: max(floor, factor x
 * learned rate x window). */
static double burst_limit(const sw_detectors *d, const sw__peer_st *ps)
{
    double win_s = (double)sw__p(d, SW_DP_FL_BURST_WINDOW) / (double)SW_NS_S;
    double k = (double)sw__p(d, SW_DP_FL_BURST_FACTOR) / 100.0;
    double floor = (double)sw__p(d, SW_DP_FL_BURST_FLOOR), lim = k * ps->base * win_s;
    return lim > floor ? lim : floor;
}

/* One bucket's rate into the learned rate: a running mean until the time
 * constant is filled (so a new partner is learned within it), then an EWMA. */
static void learn_step(sw__peer_st *ps, double sample, uint32_t tau_buckets)
{
    double alpha = ps->nbuckets < tau_buckets ? 1.0 / (ps->nbuckets + 1.0) : 1.0 / tau_buckets;
    ps->base += alpha * (sample - ps->base);
    if (ps->nbuckets < UINT32_MAX)
        ps->nbuckets++;
}

/* x to the power e, by squaring (no libm, O(log e)). */
static double pow_u(double x, uint64_t e)
{
    double r = 1.0;
    for (; e; e >>= 1, x *= x)
        if (e & 1)
            r *= x;
    return r;
}

/* Closes the buckets before ts's: the one counted, then the empty ones
 * since (an idle partner's rate decays; in closed form, so a long gap
 * costs no more than a short one). */
static void learn(const sw_detectors *d, sw__peer_st *ps, int64_t ts)
{
    int64_t w = sw__p(d, SW_DP_FL_BURST_WINDOW);
    int64_t s = (ts > 0 ? ts : 0) / w;
    if (s <= ps->bucket)
        return; /* same bucket, or time went back */
    double win_s = (double)w / (double)SW_NS_S;
    int64_t tb = sw__p(d, SW_DP_FL_BASELINE) / w;
    uint32_t tau = tb < 1 ? 1 : tb > 1000000 ? 1000000 : (uint32_t)tb;
    /* the excess over the limit was refused: it does not teach */
    double cap = burst_limit(d, ps);
    double n = ps->bucket_n < cap ? (double)ps->bucket_n : cap;
    learn_step(ps, n / win_s, tau);
    int64_t gaps = s - ps->bucket - 1;
    /* Silent for peer-idle: what comes back (a failover's return, a
     * restart of its SBC) is warming up again.  The rate learned so far
     * still counts, but alone it no longer trips. */
    if (gaps * w >= sw__p(d, SW_DP_FL_PEER_IDLE))
        ps->first = ts ? ts : 1;
    if (gaps > 4 * (int64_t)tau) {
        /* Idle for four time constants (under 2% would be left): its rate
         * is unknown again, e.g. traffic coming back after a failover.
         * Learn afresh, with the warm-up's guard. */
        ps->base = 0;
        ps->nbuckets = 0;
        ps->first = ts ? ts : 1;
    } else if (gaps > 0) {
        uint64_t g = (uint64_t)gaps;
        if (ps->nbuckets < tau) { /* running mean: k zeros scale it by n / (n + k) */
            uint64_t k = g < tau - ps->nbuckets ? g : tau - ps->nbuckets;
            ps->base *= (double)ps->nbuckets / (double)(ps->nbuckets + k);
            ps->nbuckets += (uint32_t)k;
            g -= k;
        }
        ps->base *= pow_u(1.0 - 1.0 / tau, g); /* EWMA: (1 - alpha) per zero */
        ps->nbuckets = g > UINT32_MAX - ps->nbuckets ? UINT32_MAX : ps->nbuckets + (uint32_t)g;
    }
    ps->bucket = s;
    ps->bucket_n = 0;
}

static void peer_burst(sw__msg *m, sw__peer_st *ps)
{
    sw_detectors *d = m->d;
    int64_t w = sw__p(d, SW_DP_FL_BURST_WINDOW);
    if (!ps->first) {
        ps->first = m->ts ? m->ts : 1;
        ps->bucket = (m->ts > 0 ? m->ts : 0) / w;
    }
    learn(d, ps, m->ts);
    ps->bucket_n++;
    uint32_t n, failed;
    sw__ring2_add(&ps->burst, m->ts, sw__rw(d, SW_DP_FL_BURST_WINDOW), 1, 0, &n, &failed);
    double lim = burst_limit(d, ps);
    int warm = m->ts - ps->first >= sw__p(d, SW_DP_FL_WARMUP);
    int failing = (int64_t)failed * 100 >= sw__p(d, SW_DP_FL_BURST_FAILURE_RATIO) * (int64_t)n;
    int over = (double)n > lim && (warm || failing);
    int r = sw__trip_check(&ps->burst_trip, over, 0, m->ts, sw__p(d, SW_DP_FL_RETRY_AFTER));
    if (r == SW__NO_HIT)
        return;
    int64_t limit = (int64_t)lim;
    char what[40];
    snprintf(what, sizeof what, "new calls in %llds", (long long)(w / SW_NS_S));
    sw_detect_hit *h = peer_hit(m, r, "flood.peer-burst", what, n, limit);
    /* Retry-After: the window, not retry-after.  A partner's SBC that
     * honours RFC 3261 21.5.4 sends us nothing for that long; the excess
     * has left the window by then, and a long pause would cut the
     * partner's legitimate calls too (the trunk is not to be blocked). */
    if (h && h->action == SW_ACTION_REJECT)
        h->retry_after_s = sw__secs(w);
    /* A call we refuse is a failed call: its dialog goes and no answer of
     * the far end will be counted, so the burst stays failing while the
     * excess is refused. */
    if (h && !h->monitor && (h->action == SW_ACTION_REJECT || h->action == SW_ACTION_DROP)) {
        uint32_t calls, fails;
        sw__ring2_add(&ps->burst, m->ts, sw__rw(d, SW_DP_FL_BURST_WINDOW), 0, 1, &calls, &fails);
    }
    if (!h || !h->trip)
        return;
    const sw_peer *p = m->f->peer;
    double win_s = (double)w / (double)SW_NS_S;
    snprintf(h->reason, sizeof h->reason,
             "partner %s: %u new calls in %.3g s (%.1f/s) over the limit %lld: learned rate "
             "%.2f/s x %lld%%, floor %lld; %u failed%s",
             p->name ? p->name : "?", n, win_s, n / win_s, (long long)limit, ps->base,
             (long long)sw__p(d, SW_DP_FL_BURST_FACTOR), (long long)sw__p(d, SW_DP_FL_BURST_FLOOR),
             failed, warm ? "" : " (still learning: failing calls required)");
    sw__ev(h, "window_ms", w / 1000000);
    sw__ev(h, "rate_mcps", (int64_t)(n / win_s * 1000.0));
    sw__ev(h, "baseline_mcps", (int64_t)(ps->base * 1000.0));
    sw__ev(h, "failed", failed);
    sw__ev(h, "learning", !warm);
}

void sw__flood_failed(sw__msg *m, sw__dlg *g, uint16_t status)
{
    sw_detectors *d = m->d;
    /* Busy (486, 600) and cancelled (487) are the callee's or caller's
     * doing, not a sign that the calls were never meant to connect. */
    if (!sw__enabled(d, SW_DET_FLOOD) || status < 400 || status == 486 || status == 487 ||
        status == 600)
        return;
    uint64_t key = sw__peer_key(d, g->peer_name);
    sw__peer_st *ps = sw_table_peek(d->fl_peer, &key);
    if (!ps || !ps->first)
        return;
    uint32_t n, failed;
    sw__ring2_add(&ps->burst, m->ts, sw__rw(d, SW_DP_FL_BURST_WINDOW), 0, 1, &n, &failed);
}

void sw__flood_call(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_FLOOD))
        return;
    const sw_peer *p = f->peer;
    if (m->partner) {
        uint64_t key = sw__peer_key(d, p->name);
        int created;
        sw__peer_st *ps = sw_table_upsert(d->fl_peer, &key, &created);
        if (created)
            ps->gen = sw__next_gen(d);
        ps->last = m->ts;
        /* a contract is the better limit: flood.peer-cps, else learn */
        if (!p->cps)
            peer_burst(m, ps);
        /* Re-arm after the Retry-After we gave, so a partner hovering at its
         * limit does not raise an event every second. */
        int64_t rearm = sw__p(d, SW_DP_FL_RETRY_AFTER);
        if (p->cps) {
            uint32_t n = sw__ring_add(&ps->cps, m->ts, SW_NS_S / SW__RING_SLOTS, 1);
            int64_t limit = ((int64_t)p->cps * sw__p(d, SW_DP_FL_PEER_CPS_FACTOR) + 99) / 100;
            int over = (int64_t)n * 100 > (int64_t)p->cps * sw__p(d, SW_DP_FL_PEER_CPS_FACTOR);
            int r = sw__trip_check(&ps->cps_trip, over, 0, m->ts, rearm);
            if (r != SW__NO_HIT)
                peer_hit(m, r, "flood.peer-cps", "new calls in 1 s", n,
                         limit);
        }
        if (p->concurrency) {
            ps->active++;
            g->peer_gen = ps->gen;
            int r = sw__trip_check(&ps->conc_trip, ps->active > p->concurrency, 0, m->ts, rearm);
            if (r != SW__NO_HIT)
                peer_hit(m, r, "flood.peer-concurrency", "concurrent calls",
                         ps->active, p->concurrency);
        }
    }
    if (f->b_len) {
        int64_t win = sw__p(d, SW_DP_FL_CALLEE_WINDOW), lim = sw__p(d, SW_DP_FL_CALLEE_INVITES);
        uint64_t key = sw__m_hb(m);
        sw__count_st *s = sw_table_upsert(d->fl_callee, &key, NULL);
        s->last = m->ts;
        uint32_t n = sw__ring_add(&s->n, m->ts, sw__rw(d, SW_DP_FL_CALLEE_WINDOW), 1);
        int r = sw__trip_check(&s->trip, n > lim, 0, m->ts, win);
        if (r != SW__NO_HIT) {
            /* Only the excess is refused: blocking B would finish the DoS. */
            sw__who who = sw__who_text(SW_OFFENDER_CALLEE, f->b, f->b_len);
            count_hit(m, r, "flood.callee", &who, 0, n, lim, win, "calls to one callee");
        }
    }
    if (f->a_len) {
        int64_t win = sw__p(d, SW_DP_FL_CALLER_WINDOW), lim = sw__p(d, SW_DP_FL_CALLER_INVITES);
        uint64_t key = sw__m_ha(m);
        sw__count_st *s = sw_table_upsert(d->fl_caller, &key, NULL);
        s->last = m->ts;
        uint32_t n = sw__ring_add(&s->n, m->ts, sw__rw(d, SW_DP_FL_CALLER_WINDOW), 1);
        int r = sw__trip_check(&s->trip, n > lim, 0, m->ts, win);
        if (r != SW__NO_HIT) {
            /* A may be spoofed: refuse the excess, do not block the number. */
            sw__who who = sw__who_text(SW_OFFENDER_CALLER, f->a, f->a_len);
            count_hit(m, r, "flood.caller", &who, 0, n, lim, win, "calls from one caller");
        }
    }
}

void sw__flood_release(sw_detectors *d, sw__dlg *g)
{
    if (!g->peer_gen)
        return;
    uint64_t key = sw__peer_key(d, g->peer_name);
    sw__peer_st *ps = sw_table_peek(d->fl_peer, &key);
    /* The generation tells our entry from a newer one under the same key. */
    if (ps && ps->gen == g->peer_gen && ps->active)
        ps->active--;
    g->peer_gen = 0;
}
