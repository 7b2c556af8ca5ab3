/* D6 Wangiri (one-ring calls) per calling number A and per A prefix (A
 * minus its last prefix-digits digits: the fraudster rotates through a
 * block of numbers).
 *
 * Inbound (ingress) INVITEs only.  A key trips when, within window, it
 * called distinct-callees distinct B numbers, at least unanswered-ratio of
 * its calls that ended were cancelled before answer (CANCEL or 487), and
 * the median INVITE->CANCEL time of those is at most ring-median.  The
 * ratio needs a sample: at least half of distinct-callees calls must have
 * ended.  Answered calls (a call centre) and calls that end busy or
 * rejected lower the ratio.  Evaluated when a call ends and at each new
 * INVITE, so the trip lands on the CANCEL or the next INVITE; the INVITEs
 * of a tripped key are hits until a window passes below the thresholds. */
#include "detect/detect_int.h"

/* Median ring time (ms) of the samples within the window; -1 when none. */
static int64_t median_ms(sw__wg_st *s, uint32_t now_s, uint32_t ws)
{
    uint16_t v[SW__WG_SAMPLES];
    unsigned n = 0;
    /* the samples' times are a distinct set of their own (ring4 != 0: used) */
    sw__dset_count(&s->rbase, s->ring4, s->ring_t, SW__WG_SAMPLES, now_s, ws);
    int64_t now = (int64_t)now_s - s->rbase;
    for (unsigned i = 0; i < SW__WG_SAMPLES; i++) {
        if (s->ring4[i] && now - s->ring_t[i] < (int64_t)ws) {
            /* insertion sort: at most 16 values */
            uint16_t x = s->ring4[i];
            unsigned j = n++;
            while (j > 0 && v[j - 1] > x) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
    }
    if (!n)
        return -1;
    int64_t med4 = n % 2 ? (int64_t)(v[n / 2] - 1) * 2 : (int64_t)(v[n / 2 - 1] - 1) + (v[n / 2] - 1);
    return med4 * 2; /* (4 ms units) * 4 / 2 */
}

static void eval(sw__msg *m, sw__wg_st *s, int sticky, sw_offender_kind kind, const char *text,
                 size_t len)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_WG_WINDOW);
    uint32_t ws = sw__ws(d, SW_DP_WG_WINDOW);
    uint32_t need = sw__cap(sw__p(d, SW_DP_WG_DISTINCT_CALLEES), SW__WG_CALLEES);
    uint32_t ended, canc;
    sw__ring2_add(&s->ec, m->ts, sw__rw(d, SW_DP_WG_WINDOW), 0, 0, &ended, &canc);
    /* Nothing ended yet and not tripped: the condition cannot hold. */
    if (!ended && !sw__tripped(&s->trip))
        return;
    uint32_t distinct = sw__dset_count(&s->bbase, s->bh, s->bt, SW__WG_CALLEES, m->now_s, ws);
    int64_t med = -1;
    int over = distinct >= need && ended >= (need / 2 ? need / 2 : 1) &&
               (int64_t)canc * 100 >= sw__p(d, SW_DP_WG_UNANSWERED_RATIO) * ended;
    if (over) {
        med = median_ms(s, m->now_s, ws);
        over = med >= 0 && med * 1000000 <= sw__p(d, SW_DP_WG_RING_MEDIAN);
    }
    int r = sw__trip_check(&s->trip, over, sticky, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    sw__who who = sw__who_text(kind, text, len);
    sw_detect_hit *h = sw__hit(m, SW_DET_WANGIRI,
                               kind == SW_OFFENDER_CALLER ? "wangiri.caller" : "wangiri.prefix", r,
                               &who, sw__p(d, SW_DP_WG_BLOCK));
    if (!h)
        return;
    if (med < 0)
        med = median_ms(s, m->now_s, ws);
    uint32_t pct = ended ? (uint32_t)((uint64_t)canc * 100 / ended) : 0;
    sw__hit_reason(h,
                   "%s %.*s: %u distinct callees in %llds, %u%% of %u ended calls cancelled "
                   "unanswered, median ring %lld ms",
                   kind == SW_OFFENDER_CALLER ? "caller" : "caller prefix", (int)len, text, distinct,
                   (long long)(win / SW_NS_S), pct, ended, (long long)med);
    sw__ev(h, "distinct", distinct);
    sw__ev(h, "ended", ended);
    sw__ev(h, "cancelled", canc);
    sw__ev(h, "ratio_pct", pct);
    sw__ev(h, "ring_median_ms", med);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", need);
}

/* The prefix key of A, or 0 digits when A is too short to have one. */
static size_t prefix_len(const sw_detectors *d, const char *a, size_t alen, int e164)
{
    size_t pd = (size_t)sw__p(d, SW_DP_WG_PREFIX_DIGITS);
    /* "+" and at least 4 digits must remain, or the prefix is a country. */
    if (!e164 || pd == 0 || alen < pd + 5 || a[0] != '+')
        return 0;
    return alen - pd;
}

void sw__wangiri_call(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_WANGIRI) || f->direction != SW_DIR_INGRESS || !g->a_len || !g->b_len)
        return;
    g->flags |= SW__DLG_WANGIRI;
    uint32_t ws = sw__ws(d, SW_DP_WG_WINDOW);
    uint64_t bh = sw__m_hb(m);
    uint64_t ka = sw__m_ha(m);
    sw__wg_st *s = sw_table_upsert(d->wg_a, &ka, NULL);
    s->last = m->ts;
    sw__dset_add(&s->bbase, s->bh, s->bt, SW__WG_CALLEES, bh, m->now_s, ws);
    eval(m, s, 1, SW_OFFENDER_CALLER, g->a, g->a_len);
    size_t pl = prefix_len(d, g->a, g->a_len, f->a_e164);
    if (pl) {
        uint64_t kp = sw__hstr(d, SW__TAG_PREFIX, g->a, pl);
        sw__wg_st *p = sw_table_upsert(d->wg_p, &kp, NULL);
        p->last = m->ts;
        sw__dset_add(&p->bbase, p->bh, p->bt, SW__WG_CALLEES, bh, m->now_s, ws);
        eval(m, p, 1, SW_OFFENDER_CALLER_PREFIX, g->a, pl);
    }
}

static void end_one(sw__msg *m, sw__wg_st *s, const sw__dlg *g, int cancelled)
{
    sw_detectors *d = m->d;
    s->last = m->ts;
    uint32_t ended, canc;
    sw__ring2_add(&s->ec, m->ts, sw__rw(d, SW_DP_WG_WINDOW), 1, (uint32_t)cancelled, &ended, &canc);
    if (!cancelled)
        return;
    /* INVITE->CANCEL in 4 ms units (up to 262 s, past Timer C), plus one. */
    uint32_t ring4 = g->cancel_ms ? (g->cancel_ms - 1) / 4 : 0;
    ring4 = ring4 > UINT16_MAX - 1 ? UINT16_MAX - 1 : ring4;
    /* Place the sample through the set's rebasing, then overwrite the
     * slot of the oldest sample in turn. */
    uint32_t ws = sw__ws(d, SW_DP_WG_WINDOW);
    sw__dset_count(&s->rbase, s->ring4, s->ring_t, SW__WG_SAMPLES, m->now_s, ws);
    unsigned i = s->next_sample++ % SW__WG_SAMPLES;
    s->ring4[i] = (uint16_t)(ring4 + 1);
    s->ring_t[i] = (uint16_t)(m->now_s > s->rbase ? m->now_s - s->rbase : 0);
}

void sw__wangiri_end(sw__msg *m, sw__dlg *g, int cancelled)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_WANGIRI))
        return;
    uint64_t ka = sw__hstr(d, SW__TAG_A, g->a, g->a_len);
    sw__wg_st *s = sw_table_get(d->wg_a, &ka);
    if (s) {
        end_one(m, s, g, cancelled);
        eval(m, s, 0, SW_OFFENDER_CALLER, g->a, g->a_len);
    }
    /* The prefix key exists only if the INVITE made one (A was E.164). */
    size_t pl = prefix_len(d, g->a, g->a_len, (g->flags & SW__DLG_A_E164) != 0);
    if (pl) {
        uint64_t kp = sw__hstr(d, SW__TAG_PREFIX, g->a, pl);
        sw__wg_st *p = sw_table_get(d->wg_p, &kp);
        if (p) {
            end_one(m, p, g, cancelled);
            eval(m, p, 0, SW_OFFENDER_CALLER_PREFIX, g->a, pl);
        }
    }
}
