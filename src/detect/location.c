/* D11 location probing of one subscriber: paging it without ever talking.
 *
 * Per (source, or the partner for partner traffic; B), toward us (not
 * egress):
 *   cancel-pairs  INVITEs cancelled before any answer (CANCEL or 487)
 *                 >= cancel-pairs within window
 *   ood-probe     out-of-dialog OPTIONS/MESSAGE to the same user
 *                 >= ood-probes within window
 * With exempt_peers, partners' out-of-dialog OPTIONS (keep-alives to a
 * fixed URI) and MESSAGEs (SMS over IMS) are not counted; their cancelled
 * calls are.  Without it, a partner whose own `methods` list MESSAGE
 * (by agreement) is not counted for its MESSAGEs either.  A partner
 * offender is never blocked (rate-limit and alert). */
#include "detect/detect_int.h"

/* The partner for partner traffic, else the source. */
static uint64_t probe_key(sw__msg *m)
{
    const sw_peer *p = m->f->peer;
    if (m->partner && p->name && p->name[0])
        return sw__peer_key(m->d, p->name);
    return sw__m_hsrc(m);
}

/* The same for a dialog (its INVITE's sender). */
static uint64_t dlg_probe_key(const sw_detectors *d, const sw__dlg *g)
{
    if ((g->flags & SW__DLG_PARTNER) && g->peer_name[0])
        return sw__peer_key(d, g->peer_name);
    return sw__hsrc(d, &g->src);
}

static sw__who who_of(const sw__skey *src, int partner, const char *peer)
{
    if (partner)
        return sw__who_text(SW_OFFENDER_PEER, peer, strlen(peer));
    return sw__who_source(src, 0);
}

static void ood_hit(sw__msg *m, int r, uint32_t n, sw_str user)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_LP_WINDOW), need = sw__p(d, SW_DP_LP_OOD_PROBES);
    sw__who who = who_of(&m->src, m->partner, m->partner && m->f->peer->name ? m->f->peer->name : "");
    sw_detect_hit *h = sw__hit(m, SW_DET_LOCATION_PROBE, "location.ood-probe", r, &who, 0);
    if (!h)
        return;
    sw__hit_reason(h, "%u out-of-dialog OPTIONS/MESSAGE to %.*s in %llds (limit %lld)", n,
                   (int)(user.len > 64 ? 64 : user.len), user.ptr, (long long)(win / SW_NS_S),
                   (long long)need);
    sw__ev(h, "count", n);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", need);
}

void sw__location_request(sw__msg *m)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_LOCATION_PROBE) || f->direction == SW_DIR_EGRESS ||
        (m->partner && d->conf[SW_DET_LOCATION_PROBE].exempt_peers))
        return;
    /* A partner whose own block lists MESSAGE exchanges it by agreement
     * (SMS over IMS, a messaging hub): a conversation is not a probe. */
    if (m->partner && f->method == SW_METHOD_MESSAGE &&
        (f->peer->agreed_methods & (1u << SW_METHOD_MESSAGE)))
        return;
    sw_str user = f->b_len ? sw_facts_b(f) : f->to_user;
    if (!user.len)
        return;
    int64_t win = sw__p(d, SW_DP_LP_WINDOW);
    sw__hkey2 k = {probe_key(m), f->b_len ? sw__m_hb(m) : sw__hstr(d, SW__TAG_B, user.ptr, user.len)};
    sw__lp_st *s = sw_table_upsert(d->lp, &k, NULL);
    s->last = m->ts;
    uint32_t cancels, n;
    sw__ring2_add(&s->co, m->ts, sw__rw(d, SW_DP_LP_WINDOW), 0, 1, &cancels, &n);
    int r = sw__trip_check(&s->ood_trip, n >= sw__p(d, SW_DP_LP_OOD_PROBES), 1, m->ts, win);
    if (r != SW__NO_HIT)
        ood_hit(m, r, n, user);
}

void sw__location_call(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_LOCATION_PROBE) || m->f->direction == SW_DIR_EGRESS || !g->b_len)
        return;
    g->flags |= SW__DLG_PROBE;
    /* A (source, B) caught probing: its further calls to B are offending. */
    sw__hkey2 k = {(g->flags & SW__DLG_PARTNER) && g->peer_name[0] ? sw__peer_key(d, g->peer_name)
                                                                   : sw__m_hsrc(m),
                   sw__m_hb(m)};
    sw__lp_st *s = sw_table_peek(d->lp, &k);
    if (!s || sw__trip_check(&s->cancel_trip, 0, 1, m->ts, sw__p(d, SW_DP_LP_WINDOW)) != 0)
        return;
    sw__who who = who_of(&g->src, m->partner, g->peer_name);
    sw_detect_hit *h = sw__hit(m, SW_DET_LOCATION_PROBE, "location.cancel-pairs", 0, &who, 0);
    if (h)
        sw__hit_reason(h, "call to %.*s from a source caught probing it", (int)g->b_len, g->b);
}

void sw__location_end(sw__msg *m, sw__dlg *g)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_LOCATION_PROBE))
        return;
    int64_t win = sw__p(d, SW_DP_LP_WINDOW), need = sw__p(d, SW_DP_LP_CANCEL_PAIRS);
    sw__hkey2 k = {dlg_probe_key(d, g), sw__hstr(d, SW__TAG_B, g->b, g->b_len)};
    sw__lp_st *s = sw_table_upsert(d->lp, &k, NULL);
    s->last = m->ts;
    uint32_t n, ood;
    sw__ring2_add(&s->co, m->ts, sw__rw(d, SW_DP_LP_WINDOW), 1, 0, &n, &ood);
    int r = sw__trip_check(&s->cancel_trip, n >= need, 0, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    int partner = (g->flags & SW__DLG_PARTNER) != 0;
    sw__who who = who_of(&g->src, partner, g->peer_name);
    sw_detect_hit *h = sw__hit(m, SW_DET_LOCATION_PROBE, "location.cancel-pairs", r, &who, 0);
    if (!h)
        return;
    sw__hit_reason(h, "%u calls to %.*s cancelled before answer in %llds (limit %lld)", n,
                   (int)g->b_len, g->b, (long long)(win / SW_NS_S), (long long)need);
    sw__ev(h, "count", n);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", need);
}
