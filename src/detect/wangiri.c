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

static void camp_note(sw_detect_hit *h, const sw__wg_camp_st *c, const char *what, const char *text,
                      size_t len, unsigned cut);

/* rule NULL: wangiri.caller / wangiri.prefix by kind.  camp: a campaign
 * key (the reason and evidence name its carriers); block: the block of
 * a tripping hit (-1: the detector's). */
static void eval_key(sw__msg *m, sw__wg_st *s, int sticky, sw_offender_kind kind, const char *text,
                     size_t len, const char *rule, const sw__wg_camp_st *camp, int64_t block);

static void eval(sw__msg *m, sw__wg_st *s, int sticky, sw_offender_kind kind, const char *text,
                 size_t len)
{
    eval_key(m, s, sticky, kind, text, len, NULL, NULL, -1);
}

static void eval_key(sw__msg *m, sw__wg_st *s, int sticky, sw_offender_kind kind, const char *text,
                     size_t len, const char *rule, const sw__wg_camp_st *camp, int64_t block)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_WG_WINDOW);
    uint32_t ws = sw__ws(d, SW_DP_WG_WINDOW);
    uint32_t need = sw__cap(sw__p(d, SW_DP_WG_DISTINCT_CALLEES), SW__WG_CALLEES);
    uint32_t ended, canc;
    sw__ring2_add(&s->ec, m->ts, sw__rw(d, SW_DP_WG_WINDOW), 0, 0, &ended, &canc);
    /* The cheap part of the condition first: a key whose ended calls are
     * too few or mostly answered (nearly every key) and that is not
     * tripped cannot hit, whatever its distinct count. */
    int ratio_ok = ended >= (need / 2 ? need / 2 : 1) &&
                   (int64_t)canc * 100 >= sw__p(d, SW_DP_WG_UNANSWERED_RATIO) * ended;
    if (!ratio_ok && !sw__tripped(&s->trip))
        return;
    uint32_t distinct = sw__dset_count(&s->bbase, s->bh, s->bt, SW__WG_CALLEES, m->now_s, ws);
    int64_t med = -1;
    int over = ratio_ok && distinct >= need;
    if (over) {
        med = median_ms(s, m->now_s, ws);
        over = med >= 0 && med * 1000000 <= sw__p(d, SW_DP_WG_RING_MEDIAN);
    }
    int r = sw__trip_check(&s->trip, over, sticky, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    if (camp && kind == SW_OFFENDER_CALLER_PREFIX && d->camp_until < m->ts + win)
        d->camp_until = m->ts + win; /* its INVITEs are looked up until then */
    sw__who who = sw__who_text(kind, text, len);
    if (!rule)
        rule = kind == SW_OFFENDER_CALLER ? "wangiri.caller" : "wangiri.prefix";
    sw_detect_hit *h = sw__hit(m, SW_DET_WANGIRI, rule, r, &who, block < 0 ? sw__p(d, SW_DP_WG_BLOCK) : block);
    if (!h)
        return;
    if (camp) {
        if (kind == SW_OFFENDER_CALLEE) { /* our own range: an alert, nobody to refuse */
            h->action = SW_ACTION_TAG;
            h->status = 0;
            h->retry_after_s = 0;
        }
        if (!h->trip) {
            sw__hit_reason(h, "%s", "");
            return;
        }
        if (med < 0)
            med = median_ms(s, m->now_s, ws);
        uint32_t pct = ended ? (uint32_t)((uint64_t)canc * 100 / ended) : 0;
        sw__ev(h, "distinct", distinct);
        sw__ev(h, "ended", ended);
        sw__ev(h, "ratio_pct", pct);
        sw__ev(h, "ring_median_ms", med);
        sw__ev(h, "window_s", win / SW_NS_S);
        sw__ev(h, "threshold", need);
        sw__ev(h, "carriers", camp->ncarriers);
        char what[160];
        snprintf(what, sizeof what,
                 "%u distinct %s in %llds, %u%% of %u ended calls cancelled unanswered, median "
                 "ring %lld ms",
                 distinct, kind == SW_OFFENDER_CALLEE ? "callers" : "callees",
                 (long long)(win / SW_NS_S), pct, ended, (long long)med);
        camp_note(h, camp, what, text, len,
                  (unsigned)sw__p(d, kind == SW_OFFENDER_CALLEE ? SW_DP_WG_CALLED_DIGITS
                                                                : SW_DP_WG_RANGE_DIGITS));
        return;
    }
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
    sw__wangiri_campaign_call(m, g);
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
    if (g->flags & SW__DLG_WANGIRI)
        sw__wangiri_campaign_end(m, g, cancelled);
}

/* ---- campaigns across carriers ------------------------------------------------
 * A campaign rotates A-numbers inside one international range and spreads
 * its calls over several carriers, so every per-caller, per-prefix and
 * per-carrier key stays under the thresholds.  Two keys see it whole,
 * across every source and carrier:
 *   calling range  A minus range-digits digits (E.164, >= 4 digits left):
 *                  wangiri.campaign, offender CALLER_PREFIX (the range),
 *                  never blocked (a whole range of a country), its
 *                  INVITEs refused while the campaign holds;
 *   called range   B minus called-range-digits digits (our subscribers'
 *                  block): wangiri.called-range, offender CALLEE (the
 *                  range), an alert only (action tag): the victims are
 *                  ours, the counts are over distinct callers.
 * The same conditions as per caller (distinct numbers, unanswered ratio,
 * ring median), so the same guards hold: legitimate international callers
 * get answered, a call centre's pool of numbers gets answered or rings
 * long.  The event counts the carriers seen (exactly up to 16) and names
 * the first four, then "+N more", and the range. */
static void camp_note(sw_detect_hit *h, const sw__wg_camp_st *c, const char *what, const char *text,
                      size_t len, unsigned cut)
{
    char carriers[SW__WG_CARRIERS * (SW__PEER_NAME_MAX + 2) + 16];
    size_t o = 0;
    carriers[0] = '\0';
    for (unsigned i = 0; i < c->ncarriers && i < SW__WG_CARRIERS; i++) {
        int k = snprintf(carriers + o, sizeof carriers - o, "%s%s", i ? "," : "", c->carrier[i]);
        if (k < 0 || (size_t)k >= sizeof carriers - o)
            break;
        o += (size_t)k;
    }
    if (c->ncarriers > SW__WG_CARRIERS && o < sizeof carriers)
        snprintf(carriers + o, sizeof carriers - o, ",+%u%s more",
                 (unsigned)(c->ncarriers - SW__WG_CARRIERS), c->more ? " or" : "");
    sw__hit_reason(h, "%s range %.*s%.*s over %u%s carrier%s (%s): %s",
                   h->offender_kind == SW_OFFENDER_CALLEE ? "called" : "calling", (int)len, text,
                   (int)(cut > 15 ? 15 : cut), "XXXXXXXXXXXXXXX", (unsigned)c->ncarriers,
                   c->more ? " or more" : "", c->ncarriers == 1 ? "" : "s", carriers, what);
}

/* The range key of a number: n minus `digits` digits, 0 when too short. */
static size_t range_cut(const char *n, size_t len, int e164, size_t digits)
{
    if (!e164 || digits == 0 || len < digits + 5 || n[0] != '+')
        return 0;
    return len - digits;
}

static void camp_carrier(const sw__dlg *g, sw__wg_camp_st *c)
{
    uint16_t fp = g->peer_fp;
    for (unsigned i = 0; i < c->ncarriers; i++)
        if (c->carrier_fp[i] == fp)
            return;
    if (c->ncarriers >= SW__WG_CARRIER_FPS) {
        c->more = 1;
        return;
    }
    if (c->ncarriers < SW__WG_CARRIERS) {
        size_t n = strnlen(g->peer_name, SW__PEER_NAME_MAX);
        memcpy(c->carrier[c->ncarriers], g->peer_name, n);
        c->carrier[c->ncarriers][n] = '\0';
    }
    c->carrier_fp[c->ncarriers++] = fp;
}

/* At the INVITE: what the campaign keys need at the call's end, kept in
 * the dialog (no hashing then); and while a calling-range campaign may be
 * tripped, the INVITEs of that range are hits. */
void sw__wangiri_campaign_call(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    /* the carrier by its name's fingerprint (a reload that reorders
     * partners keeps it the same carrier); 0xffff for none */
    g->peer_fp = m->f->peer ? m->f->peer->name_fp : 0xffffu;
    g->a_fp = (uint16_t)(sw__m_ha(m) >> 48);
    g->b_fp = (uint16_t)(sw__m_hb(m) >> 48);
    if (m->ts >= d->camp_until)
        return;
    size_t cl = range_cut(g->a, g->a_len, m->f->a_e164, (size_t)sw__p(d, SW_DP_WG_RANGE_DIGITS));
    if (!cl)
        return;
    uint64_t k = sw__hstr(d, SW__TAG_CAMPAIGN, g->a, cl);
    sw__wg_camp_st *c = sw_table_get(d->wg_c, &k);
    if (c && sw__tripped(&c->w.trip))
        eval_key(m, &c->w, 1, SW_OFFENDER_CALLER_PREFIX, g->a, cl, "wangiri.campaign", c, 0);
}

/* At a call's end: the call counts toward its calling range and its
 * called range.  A campaign trips here, at the end of a cancelled call. */
static void camp_end(sw__msg *m, const sw__dlg *g, int cancelled, sw_table *t, uint64_t tag,
                     const char *key, size_t klen, uint16_t other, sw_offender_kind kind,
                     const char *rule)
{
    sw_detectors *d = m->d;
    uint64_t k = sw__hstr(d, tag, key, klen);
    int created;
    sw__wg_camp_st *c = sw_table_upsert(t, &k, &created);
    if (created)
        memset(c, 0, sizeof *c);
    camp_carrier(g, c);
    end_one(m, &c->w, g, cancelled);
    /* A range whose ended calls are mostly answered (a busy legitimate
     * range: nearly all of them) cannot trip; its distinct numbers are
     * only collected while its sample is small, its ratio holds, or it is
     * tripped.  Once a campaign tips the ratio over, the count restarts
     * from its own numbers. */
    uint32_t ended, canc;
    sw__ring2_add(&c->w.ec, m->ts, sw__rw(d, SW_DP_WG_WINDOW), 0, 0, &ended, &canc);
    uint32_t need = sw__cap(sw__p(d, SW_DP_WG_DISTINCT_CALLEES), SW__WG_CALLEES);
    int ratio_ok = (int64_t)canc * 100 >= sw__p(d, SW_DP_WG_UNANSWERED_RATIO) * ended;
    if (ended <= (need / 2 ? need / 2 : 1) || ratio_ok || sw__tripped(&c->w.trip))
        sw__dset_add(&c->w.bbase, c->w.bh, c->w.bt, SW__WG_CALLEES, (uint64_t)other << 48, m->now_s,
                     sw__ws(d, SW_DP_WG_WINDOW));
    if (cancelled && (ratio_ok || sw__tripped(&c->w.trip)))
        eval_key(m, &c->w, 0, kind, key, klen, rule, c, 0);
}

void sw__wangiri_campaign_end(sw__msg *m, const sw__dlg *g, int cancelled)
{
    sw_detectors *d = m->d;
    size_t cl = range_cut(g->a, g->a_len, (g->flags & SW__DLG_A_E164) != 0,
                          (size_t)sw__p(d, SW_DP_WG_RANGE_DIGITS));
    if (cl)
        camp_end(m, g, cancelled, d->wg_c, SW__TAG_CAMPAIGN, g->a, cl, g->b_fp,
                 SW_OFFENDER_CALLER_PREFIX, "wangiri.campaign");
    size_t bl = range_cut(g->b, g->b_len, g->b_len > 1 && g->b[0] == '+',
                          (size_t)sw__p(d, SW_DP_WG_CALLED_DIGITS));
    if (bl)
        camp_end(m, g, cancelled, d->wg_r, SW__TAG_CALLED_RANGE, g->b, bl, g->a_fp, SW_OFFENDER_CALLEE,
                 "wangiri.called-range");
}
