/* D2 digest brute force (svcrack), password spraying, distributed guessing.
 *
 * A failure is the first final response 401/407/403 to a request that
 * carried credentials; a 401/407 with stale=true is a nonce refresh, not a
 * failure; the challenge to a request without credentials is normal and
 * never looked at.  Counts are 10-slot sliding windows, so one guess every
 * 20 s adds up over a 300 s window just like a burst does.
 *   guessing     per (source, username): failures >= failures within window
 *                and failures >= failure-ratio of its final responses; a
 *                2xx clears the pair (the phone found its password)
 *   spraying     per source: spray-failures across spray-users usernames
 *                within spray-window
 *   distributed  per username: distributed-failures from
 *                distributed-sources sources within spray-window; the
 *                offender is the username, never blocked (a lockout is
 *                itself a DoS), the action throttles its attempts
 * Partners are exempt from the per-source rules when exempt_peers is set
 * (a P-CSCF forwards many users' REGISTERs); they still count toward the
 * distributed rule. */
#include "detect/detect_int.h"

static void pair_hit(sw__msg *m, int r, const sw__skey *src, int partner, const char *user,
                     size_t ulen, uint32_t fails, uint32_t att)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_BF_WINDOW);
    sw__who who = sw__who_source(src, partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_BRUTEFORCE, "bruteforce.guessing", r, &who,
                               sw__p(d, SW_DP_BF_BLOCK));
    if (!h)
        return;
    uint32_t pct = att ? (uint32_t)((uint64_t)fails * 100 / att) : 100;
    sw__hit_reason(h, "%u failed digest authentications for user '%.*s' in %llds (%u%% of %u)",
                   fails, (int)ulen, user, (long long)(win / SW_NS_S), pct, att);
    sw__ev(h, "failures", fails);
    sw__ev(h, "attempts", att);
    sw__ev(h, "ratio_pct", pct);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_BF_FAILURES));
}

static void spray_hit(sw__msg *m, int r, const sw__skey *src, int partner, uint32_t fails,
                      uint32_t users)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_BF_SPRAY_WINDOW);
    sw__who who = sw__who_source(src, partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_BRUTEFORCE, "bruteforce.spraying", r, &who,
                               sw__p(d, SW_DP_BF_BLOCK));
    if (!h)
        return;
    sw__hit_reason(h, "%u failed digest authentications across %u usernames in %llds", fails,
                   users, (long long)(win / SW_NS_S));
    sw__ev(h, "failures", fails);
    sw__ev(h, "distinct", users);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_BF_SPRAY_FAILURES));
}

static void dist_hit(sw__msg *m, int r, const char *user, size_t ulen, uint32_t fails,
                     uint32_t srcs)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_BF_SPRAY_WINDOW);
    sw__who who = sw__who_text(SW_OFFENDER_USER, user, ulen);
    sw_detect_hit *h = sw__hit(m, SW_DET_BRUTEFORCE, "bruteforce.distributed", r, &who, 0);
    if (!h)
        return;
    sw__hit_reason(h, "%u failed digest authentications for user '%.*s' from %u sources in %llds",
                   fails, (int)ulen, user, srcs, (long long)(win / SW_NS_S));
    sw__ev(h, "failures", fails);
    sw__ev(h, "distinct", srcs);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_BF_DIST_FAILURES));
}

/* A request with credentials from a tripped key is itself offending. */
void sw__bf_request(sw__msg *m)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_BRUTEFORCE))
        return;
    uint64_t uh = sw__hstr(d, SW__TAG_USER, f->auth_user.ptr, f->auth_user.len);
    if (!(m->partner && d->conf[SW_DET_BRUTEFORCE].exempt_peers)) {
        int64_t win = sw__p(d, SW_DP_BF_WINDOW);
        sw__hkey2 pk = {sw__m_hsrc(m), uh};
        sw__bf_pair_st *p = sw_table_peek(d->bf_pair, &pk);
        if (p && sw__trip_check(&p->trip, 0, 1, m->ts, win) == 0) {
            uint32_t fails, att;
            sw__ring2_add(&p->fa, m->ts, sw__rw(d, SW_DP_BF_WINDOW), 0, 0, &fails, &att);
            pair_hit(m, 0, &m->src, m->partner, f->auth_user.ptr, f->auth_user.len, fails, att);
        }
        sw__bf_spray_st *s = sw_table_peek(d->bf_spray, &m->src);
        int64_t sw = sw__p(d, SW_DP_BF_SPRAY_WINDOW);
        if (s && sw__trip_check(&s->trip, 0, 1, m->ts, sw) == 0)
            spray_hit(m, 0, &m->src, m->partner,
                      sw__ring_sum(&s->fail, m->ts, sw__rw(d, SW_DP_BF_SPRAY_WINDOW)),
                      sw__dset_count(&s->ubase, s->uh, s->ut, SW__BF_SPRAY_USERS, m->now_s,
                                     sw__ws(d, SW_DP_BF_SPRAY_WINDOW)));
    }
    sw__bf_user_st *u = sw_table_peek(d->bf_user, &uh);
    int64_t dw = sw__p(d, SW_DP_BF_SPRAY_WINDOW);
    if (u && sw__trip_check(&u->trip, 0, 1, m->ts, dw) == 0)
        dist_hit(m, 0, f->auth_user.ptr, f->auth_user.len,
                 sw__ring_sum(&u->fail, m->ts, sw__rw(d, SW_DP_BF_SPRAY_WINDOW)),
                 sw__dset_count(&u->sbase, u->sh, u->st, SW__BF_DIST_SOURCES, m->now_s,
                                sw__ws(d, SW_DP_BF_SPRAY_WINDOW)));
}

void sw__bf_response(sw__msg *m, const sw__txn *t, uint16_t status)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_BRUTEFORCE) || !t->creds)
        return;
    if ((status == 401 || status == 407) && m->f->challenge_stale)
        return; /* nonce expired: the password was right */
    int fail = status == 401 || status == 407 || status == 403;
    int ok = status >= 200 && status < 300;
    int exempt = t->partner && d->conf[SW_DET_BRUTEFORCE].exempt_peers;
    int64_t win = sw__p(d, SW_DP_BF_WINDOW), sw = sw__p(d, SW_DP_BF_SPRAY_WINDOW);
    uint32_t sws = sw__ws(d, SW_DP_BF_SPRAY_WINDOW);
    uint64_t hsrc = sw__hsrc(d, &t->src);

    if (!exempt) {
        sw__hkey2 pk = {hsrc, t->auth_hash};
        sw__bf_pair_st *p = sw_table_upsert(d->bf_pair, &pk, NULL);
        p->last = m->ts;
        if (ok) {
            memset(&p->fa, 0, sizeof p->fa);
        } else {
            uint32_t fails, att;
            sw__ring2_add(&p->fa, m->ts, sw__rw(d, SW_DP_BF_WINDOW), (uint32_t)fail, 1, &fails, &att);
            int over = fails >= sw__p(d, SW_DP_BF_FAILURES) &&
                       (int64_t)fails * 100 >= sw__p(d, SW_DP_BF_FAILURE_RATIO) * att;
            int r = sw__trip_check(&p->trip, over, fail, m->ts, win);
            if (r != SW__NO_HIT)
                pair_hit(m, r, &t->src, t->partner, t->auth_user, t->auth_len, fails, att);
        }
        if (fail) {
            sw__bf_spray_st *s = sw_table_upsert(d->bf_spray, &t->src, NULL);
            s->last = m->ts;
            uint32_t fails = sw__ring_add(&s->fail, m->ts, sw__rw(d, SW_DP_BF_SPRAY_WINDOW), 1);
            uint32_t users = sw__dset_add(&s->ubase, s->uh, s->ut, SW__BF_SPRAY_USERS, t->auth_hash,
                                          m->now_s, sws);
            int over = fails >= sw__p(d, SW_DP_BF_SPRAY_FAILURES) &&
                       users >= sw__cap(sw__p(d, SW_DP_BF_SPRAY_USERS), SW__BF_SPRAY_USERS);
            int r = sw__trip_check(&s->trip, over, 1, m->ts, sw);
            if (r != SW__NO_HIT)
                spray_hit(m, r, &t->src, t->partner, fails, users);
        }
    }
    if (fail) {
        sw__bf_user_st *u = sw_table_upsert(d->bf_user, &t->auth_hash, NULL);
        u->last = m->ts;
        uint32_t fails = sw__ring_add(&u->fail, m->ts, sw__rw(d, SW_DP_BF_SPRAY_WINDOW), 1);
        uint32_t srcs = sw__dset_add(&u->sbase, u->sh, u->st, SW__BF_DIST_SOURCES, hsrc, m->now_s,
                                     sws);
        int over = fails >= sw__p(d, SW_DP_BF_DIST_FAILURES) &&
                   srcs >= sw__cap(sw__p(d, SW_DP_BF_DIST_SOURCES), SW__BF_DIST_SOURCES);
        int r = sw__trip_check(&u->trip, over, 1, m->ts, sw);
        if (r != SW__NO_HIT)
            dist_hit(m, r, t->auth_user, t->auth_len, fails, srcs);
    }
}
