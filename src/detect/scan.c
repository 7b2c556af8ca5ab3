/* D1 scanning per source (IPv6: per /64).
 *
 * Enumeration (svwar): requests for distinct-users distinct users (R-URI
 * user, else To user) in window, and at least failure-ratio of the final
 * responses to its requests are 404/401/407/403/484.  The ratio needs a
 * sample: at least half of distinct-users responses must have been seen,
 * so a source with one 404 among 20 unanswered requests does not count.
 * Sweep (svmap): requests to distinct-targets distinct destination
 * ip:port in window.  Needs no responses (most probes get none).
 * Configured partners are exempt when exempt_peers is set (keep-alives).
 * A tripped source stays tripped: its further requests are hits. */
#include "detect/detect_int.h"

static int scan_failure(uint16_t status)
{
    return status == 404 || status == 401 || status == 407 || status == 403 || status == 484;
}

static void eval_enum(sw__msg *m, sw__scan_st *s, const sw__skey *src, int partner, uint32_t users,
                      uint32_t total, uint32_t fails)
{
    sw_detectors *d = m->d;
    int64_t win = sw__p(d, SW_DP_SCAN_WINDOW);
    uint32_t need = sw__cap(sw__p(d, SW_DP_SCAN_DISTINCT_USERS), SW__SCAN_USERS);
    int64_t ratio = sw__p(d, SW_DP_SCAN_FAILURE_RATIO);
    uint32_t min_resp = need / 2 ? need / 2 : 1;
    int over = users >= need && total >= min_resp && (int64_t)fails * 100 >= ratio * total;
    int r = sw__trip_check(&s->enum_trip, over, 1, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    sw__who who = sw__who_source(src, partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_SCAN, "scan.enumeration", r, &who, sw__p(d, SW_DP_SCAN_BLOCK));
    if (!h)
        return;
    uint32_t pct = total ? (uint32_t)((uint64_t)fails * 100 / total) : 0;
    sw__hit_reason(h, "%u distinct users in %llds, %u%% of %u final responses 404/401/407/403/484",
                   users, (long long)(win / SW_NS_S), pct, total);
    sw__ev(h, "distinct", users);
    sw__ev(h, "responses", total);
    sw__ev(h, "failures", fails);
    sw__ev(h, "ratio_pct", pct);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", need);
}

void sw__scan_request(sw__msg *m)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_SCAN) || (m->partner && d->conf[SW_DET_SCAN].exempt_peers))
        return;
    int64_t win = sw__p(d, SW_DP_SCAN_WINDOW);
    uint32_t ws = sw__ws(d, SW_DP_SCAN_WINDOW);
    sw__scan_st *s = sw_table_upsert(d->scan, &m->src, NULL);
    s->last = m->ts;
    sw_str user = f->ruri_user.len ? f->ruri_user : f->to_user;
    uint32_t users = user.len ? sw__dset_add(&s->ubase, s->uh, s->ut, SW__SCAN_USERS,
                                             sw__hstr(d, SW__TAG_USER, user.ptr, user.len),
                                             m->now_s, ws)
                              : sw__dset_count(&s->ubase, s->uh, s->ut, SW__SCAN_USERS, m->now_s, ws);
    /* ip:port of the destination, as one 24-byte block with no padding */
    uint64_t dst[3] = {0, 0, 0};
    memcpy(dst, f->dst.ip, sizeof f->dst.ip);
    dst[2] = ((uint64_t)f->dst.family << 16) | f->dst.port;
    uint32_t targets = sw__dset_add(&s->tbase, s->th, s->tt, SW__SCAN_TARGETS,
                                    sw__hstr(d, SW__TAG_TARGET, (const char *)dst, sizeof dst),
                                    m->now_s, ws);
    uint32_t total = 0, fails = 0;
    sw__ring2_add(&s->rf, m->ts, sw__rw(d, SW_DP_SCAN_WINDOW), 0, 0, &total, &fails);
    eval_enum(m, s, &m->src, m->partner, users, total, fails);

    uint32_t need = sw__cap(sw__p(d, SW_DP_SCAN_DISTINCT_TARGETS), SW__SCAN_TARGETS);
    int r = sw__trip_check(&s->sweep_trip, targets >= need, 1, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    sw__who who = sw__who_source(&m->src, m->partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_SCAN, "scan.sweep", r, &who, sw__p(d, SW_DP_SCAN_BLOCK));
    if (!h)
        return;
    sw__hit_reason(h, "requests to %u distinct addresses/ports in %llds (limit %u)", targets,
                   (long long)(win / SW_NS_S), need);
    sw__ev(h, "distinct", targets);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", need);
}

void sw__scan_response(sw__msg *m, const sw__txn *t, uint16_t status)
{
    sw_detectors *d = m->d;
    if (!sw__enabled(d, SW_DET_SCAN) || (t->partner && d->conf[SW_DET_SCAN].exempt_peers))
        return;
    sw__scan_st *s = sw_table_get(d->scan, &t->src);
    if (!s)
        return;
    s->last = m->ts;
    uint32_t total, fails;
    sw__ring2_add(&s->rf, m->ts, sw__rw(d, SW_DP_SCAN_WINDOW), 1, (uint32_t)scan_failure(status),
                  &total, &fails);
    uint32_t users = sw__dset_count(&s->ubase, s->uh, s->ut, SW__SCAN_USERS, m->now_s,
                                    sw__ws(d, SW_DP_SCAN_WINDOW));
    eval_enum(m, s, &t->src, t->partner, users, total, fails);
}
