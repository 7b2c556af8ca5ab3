/* D2 digest brute force (svcrack), password spraying, distributed guessing,
 * and the success that ends one.
 *
 * A failure is the first final response 401/407/403 to a request that
 * carried credentials; a 401/407 with stale=true is a nonce refresh, not a
 * failure; the challenge to a request without credentials is normal and
 * never looked at.  Counts are 10-slot sliding windows, so one guess every
 * 20 s adds up over a 300 s window just like a burst does.
 *   guessing     per (source, username): failures >= failures within window
 *                and failures >= failure-ratio of its final responses
 *   compromised  a 2xx to a credentialed request of a (source, username)
 *                with >= compromised-failures failures within window, or
 *                of a (source network, username) with as many within
 *                network-window: the password was found.  Confidence 100,
 *                the source is blocked; the counts start again
 *   spraying     per source: spray-failures across spray-users usernames
 *                within spray-window
 *   network      per source network (network-prefix-v4/-v6):
 *                network-failures across network-users usernames within
 *                network-window, and failures >= network-failure-ratio of
 *                the network's credentialed final responses (a busy
 *                office behind the prefix mostly succeeds).  Every
 *                credentialed request from a tripped network is offending
 *   realm        per target realm (the credentials' realm, else the
 *                Request-URI host): realm-failures across realm-users
 *                usernames from realm-sources sources within
 *                network-window; the offender is our own registrar, so it
 *                only alerts (tag, no block)
 *   distributed  per username: distributed-failures from
 *                distributed-sources sources within spray-window; the
 *                offender is the username, never blocked (a lockout is
 *                itself a DoS), the action throttles its attempts
 * Partners are exempt from the per-source and per-network rules
 * (guessing, compromised, spraying, network) when exempt_peers is set (a
 * P-CSCF forwards many users' REGISTERs); they still count toward the
 * distributed and realm rules. */
#include "detect/detect_int.h"

static void hit_user(sw_detect_hit *h, const char *user, size_t len)
{
    size_t n = len < sizeof h->username - 1 ? len : sizeof h->username - 1;
    if (n)
        memcpy(h->username, user, n);
    h->username[n] = '\0';
}

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
    hit_user(h, user, ulen);
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

/* The source network of k (network-prefix-v4 / -v6 leading bits). */
static void net_of(const sw_detectors *d, const sw__skey *k, sw__skey *net, unsigned *bits)
{
    *net = *k;
    unsigned max = k->family == 4 ? 32 : 64, lo = k->family == 4 ? 8 : 16;
    int64_t b = sw__p(d, k->family == 4 ? SW_DP_BF_NET_PREFIX_V4 : SW_DP_BF_NET_PREFIX_V6);
    unsigned n = b < (int64_t)lo ? lo : b > (int64_t)max ? max : (unsigned)b;
    *bits = n;
    for (unsigned i = 0; i < sizeof net->ip; i++) {
        unsigned keep = n >= 8 * (i + 1) ? 8 : n > 8 * i ? n - 8 * i : 0;
        net->ip[i] &= (uint8_t)(keep ? 0xffu << (8 - keep) : 0);
    }
}

static void net_text(const sw__skey *net, unsigned bits, char *out, size_t cap)
{
    sw_addr a;
    memset(&a, 0, sizeof a);
    a.family = net->family;
    memcpy(a.ip, net->ip, sizeof net->ip);
    int n = sw_addr_format_ip(&a, out, cap);
    if (n < 0 || (size_t)n + 4 >= cap) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out + n, cap - (size_t)n, "/%u", bits);
}

static void compromised_hit(sw__msg *m, const sw__txn *t, const char *scope, uint32_t fails,
                            int64_t win)
{
    sw_detectors *d = m->d;
    sw__who who = sw__who_source(&t->src, t->partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_BRUTEFORCE, "bruteforce.compromised", 1, &who,
                               sw__p(d, SW_DP_BF_BLOCK));
    if (!h)
        return;
    h->confidence = 100; /* an accepted password after failed ones: not a guess */
    hit_user(h, t->auth_user, t->auth_len);
    sw__hit_reason(h,
                   "user '%.*s' authenticated after %u failed digest authentications from the "
                   "same %s in %llds: the password was probably guessed",
                   (int)t->auth_len, t->auth_user, fails, scope, (long long)(win / SW_NS_S));
    sw__ev(h, "failures", fails);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_BF_COMPROMISED_FAILURES));
}

static void net_hit(sw__msg *m, int r, const sw__skey *src, int partner, const sw__skey *net,
                    unsigned bits, uint32_t fails, uint32_t att, uint32_t users, uint32_t srcs)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_BF_NET_WINDOW);
    sw__who who = sw__who_source(src, partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_BRUTEFORCE, "bruteforce.network", r, &who,
                               sw__p(d, SW_DP_BF_BLOCK));
    if (!h)
        return;
    if (h->trip) {
        char nt[64];
        net_text(net, bits, nt, sizeof nt);
        sw__hit_reason(h,
                       "%u failed digest authentications across %u usernames from %u sources "
                       "of %s in %llds (%u%% of %u)",
                       fails, users, srcs, nt, (long long)(win / SW_NS_S),
                       att ? (unsigned)((uint64_t)fails * 100 / att) : 100u, att);
    } else {
        sw__hit_reason(h, "-");
    }
    sw__ev(h, "failures", fails);
    sw__ev(h, "attempts", att);
    sw__ev(h, "distinct", users);
    sw__ev(h, "sources", srcs);
    sw__ev(h, "prefix_len", bits);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_BF_NET_FAILURES));
}

static void realm_hit(sw__msg *m, const sw__txn *t, uint32_t fails, uint32_t users, uint32_t srcs)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_BF_NET_WINDOW);
    /* The offender is our registrar's realm: report it under the source
     * that tripped it, block nothing, drop nothing. */
    sw__who who = sw__who_source(&t->src, 1);
    sw_detect_hit *h = sw__hit(m, SW_DET_BRUTEFORCE, "bruteforce.realm", 1, &who, 0);
    if (!h)
        return;
    h->action = SW_ACTION_TAG;
    sw__hit_reason(h,
                   "%u failed digest authentications across %u usernames from %u sources "
                   "against one realm in %llds",
                   fails, users, srcs, (long long)(win / SW_NS_S));
    sw__ev(h, "failures", fails);
    sw__ev(h, "distinct", users);
    sw__ev(h, "sources", srcs);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", sw__p(d, SW_DP_BF_REALM_FAILURES));
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
        sw__skey net;
        unsigned bits;
        net_of(d, &m->src, &net, &bits);
        sw__bf_agg_st *a = sw_table_peek(d->bf_net, &net);
        int64_t nw = sw__p(d, SW_DP_BF_NET_WINDOW);
        if (a && sw__trip_check(&a->trip, 0, 1, m->ts, nw) == 0)
            net_hit(m, 0, &m->src, m->partner, &net, bits, 0, 0, 0, 0);
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
        uint32_t cmin = (uint32_t)sw__cap(sw__p(d, SW_DP_BF_COMPROMISED_FAILURES), UINT16_MAX);
        int64_t nw = sw__p(d, SW_DP_BF_NET_WINDOW);
        sw__skey net;
        unsigned bits;
        net_of(d, &t->src, &net, &bits);
        sw__hkey2 nk = {sw__hsrc(d, &net), t->auth_hash};
        sw__hkey2 pk = {hsrc, t->auth_hash};
        sw__bf_pair_st *p = sw_table_upsert(d->bf_pair, &pk, NULL);
        p->last = m->ts;
        if (ok) {
            /* The success after failures: the worst outcome, not a reset. */
            uint32_t fails, att;
            sw__ring2_add(&p->fa, m->ts, sw__rw(d, SW_DP_BF_WINDOW), 0, 0, &fails, &att);
            sw__bf_netpair_st *np = sw_table_peek(d->bf_netpair, &nk);
            uint32_t nfails = np ? sw__ring_sum(&np->fail, m->ts, sw__rw(d, SW_DP_BF_NET_WINDOW)) : 0;
            if (fails >= cmin) {
                compromised_hit(m, t, "source", fails, win);
            } else if (nfails >= cmin) {
                char scope[80];
                char nt[64];
                net_text(&net, bits, nt, sizeof nt);
                snprintf(scope, sizeof scope, "network %s", nt);
                compromised_hit(m, t, scope, nfails, nw);
            }
            memset(&p->fa, 0, sizeof p->fa);
            if (np)
                memset(&np->fail, 0, sizeof np->fail);
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
            sw__bf_netpair_st *np = sw_table_upsert(d->bf_netpair, &nk, NULL);
            np->last = m->ts;
            sw__ring_add(&np->fail, m->ts, sw__rw(d, SW_DP_BF_NET_WINDOW), 1);
        }
        if (fail || ok) {
            sw__bf_agg_st *a = sw_table_upsert(d->bf_net, &net, NULL);
            a->last = m->ts;
            uint32_t fails, att;
            sw__ring2_add(&a->fa, m->ts, sw__rw(d, SW_DP_BF_NET_WINDOW), (uint32_t)fail, 1, &fails,
                          &att);
            uint32_t nws = sw__ws(d, SW_DP_BF_NET_WINDOW), users, srcs;
            if (fail) {
                users = sw__dset_add(&a->ubase, a->uh, a->ut, SW__BF_AGG_USERS, t->auth_hash,
                                     m->now_s, nws);
                srcs = sw__dset_add(&a->sbase, a->sh, a->st, SW__BF_AGG_SOURCES, hsrc, m->now_s,
                                    nws);
            } else {
                users = sw__dset_count(&a->ubase, a->uh, a->ut, SW__BF_AGG_USERS, m->now_s, nws);
                srcs = sw__dset_count(&a->sbase, a->sh, a->st, SW__BF_AGG_SOURCES, m->now_s, nws);
            }
            int over = fail && fails >= sw__p(d, SW_DP_BF_NET_FAILURES) &&
                       users >= sw__cap(sw__p(d, SW_DP_BF_NET_USERS), SW__BF_AGG_USERS) &&
                       (int64_t)fails * 100 >= sw__p(d, SW_DP_BF_NET_FAILURE_RATIO) * att;
            int r = sw__trip_check(&a->trip, over, fail, m->ts, nw);
            if (r != SW__NO_HIT)
                net_hit(m, r, &t->src, t->partner, &net, bits, fails, att, users, srcs);
        }
    }
    if (fail) {
        sw__bf_agg_st *a = sw_table_upsert(d->bf_realm, &t->realm_hash, NULL);
        a->last = m->ts;
        uint32_t fails, att, nws = sw__ws(d, SW_DP_BF_NET_WINDOW);
        sw__ring2_add(&a->fa, m->ts, sw__rw(d, SW_DP_BF_NET_WINDOW), 1, 1, &fails, &att);
        uint32_t users = sw__dset_add(&a->ubase, a->uh, a->ut, SW__BF_AGG_USERS, t->auth_hash,
                                      m->now_s, nws);
        uint32_t srcs = sw__dset_add(&a->sbase, a->sh, a->st, SW__BF_AGG_SOURCES, hsrc, m->now_s,
                                     nws);
        int over = fails >= sw__p(d, SW_DP_BF_REALM_FAILURES) &&
                   users >= sw__cap(sw__p(d, SW_DP_BF_REALM_USERS), SW__BF_AGG_USERS) &&
                   srcs >= sw__cap(sw__p(d, SW_DP_BF_REALM_SOURCES), SW__BF_AGG_SOURCES);
        /* not sticky: an alert, never enforcement on everyone's logins */
        if (sw__trip_check(&a->trip, over, 0, m->ts, sw__p(d, SW_DP_BF_NET_WINDOW)) == 1)
            realm_hit(m, t, fails, users, srcs);
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
