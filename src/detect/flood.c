/* D3 request floods (T-DoS).
 *
 * Per unknown source: more than source-requests requests (retransmissions
 * excluded) in source-window.  Per partner: new calls per second over its
 * contracted CPS times peer-cps-factor, or live calls over its contracted
 * concurrency; a partner is answered 503 + Retry-After, never blocked.  Per
 * callee B and per caller A: more than callee-/caller-invites new calls in
 * their windows.  Every message over a threshold is a hit; only the one
 * that crosses it trips (emits an event). */
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
static void peer_hit(sw__msg *m, int r, const char *rule, const char *what, uint32_t n,
                     int64_t limit)
{
    sw_detectors *d = m->d;
    const sw_peer *p = m->f->peer;
    sw__who who = sw__who_text(SW_OFFENDER_PEER, p->name ? p->name : "",
                               p->name ? strlen(p->name) : 0);
    sw_detect_hit *h = sw__hit(m, SW_DET_FLOOD, rule, r, &who, 0);
    if (!h)
        return;
    if (h->action != SW_ACTION_TAG && h->action != SW_ACTION_ALLOW) {
        h->action = SW_ACTION_REJECT;
        h->status = 503;
        h->retry_after_s = sw__secs(sw__p(d, SW_DP_FL_RETRY_AFTER));
    }
    sw__hit_reason(h, "partner %s: %u %s (limit %lld)", p->name ? p->name : "?", n, what,
                   (long long)limit);
    sw__ev(h, "count", n);
    sw__ev(h, "threshold", limit);
}

void sw__flood_call(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_FLOOD))
        return;
    const sw_peer *p = f->peer;
    if (m->partner && (p->cps || p->concurrency)) {
        uint64_t key = sw__peer_key(d, p->name);
        int created;
        sw__peer_st *ps = sw_table_upsert(d->fl_peer, &key, &created);
        if (created)
            ps->gen = sw__next_gen(d);
        ps->last = m->ts;
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
