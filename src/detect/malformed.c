/* D4 repeated malformed messages from one source (fuzzers, broken stacks).
 *
 * Each malformed message is already refused by the category-1 rule; this
 * detector blocks a source that keeps sending them: count or more within
 * window.  Every malformed message counts, identical copies included (a
 * fuzzer replaying one case is still fuzzing). */
#include "detect/detect_int.h"

void sw__malformed(sw__msg *m)
{
    sw_detectors *d = m->d;
    const sw_facts *f = m->f;
    if (!sw__enabled(d, SW_DET_MALFORMED) || (m->partner && d->conf[SW_DET_MALFORMED].exempt_peers))
        return;
    int64_t win = sw__p(d, SW_DP_MF_WINDOW), lim = sw__p(d, SW_DP_MF_COUNT);
    sw__count_st *s = sw_table_upsert(d->mf, &m->src, NULL);
    s->last = m->ts;
    uint32_t n = sw__ring_add(&s->n, m->ts, sw__rw(d, SW_DP_MF_WINDOW), 1);
    int r = sw__trip_check(&s->trip, n >= lim, 1, m->ts, win);
    if (r == SW__NO_HIT)
        return;
    sw__who who = sw__who_source(&m->src, m->partner);
    sw_detect_hit *h = sw__hit(m, SW_DET_MALFORMED, "malformed.repeat", r, &who,
                               sw__p(d, SW_DP_MF_BLOCK));
    if (!h)
        return;
    sw__hit_reason(h, "%u malformed messages in %llds from one source (limit %lld; last: %s)", n,
                   (long long)(win / SW_NS_S), (long long)lim,
                   f->error.reason ? f->error.reason : "unparsable");
    sw__ev(h, "count", n);
    sw__ev(h, "window_s", win / SW_NS_S);
    sw__ev(h, "threshold", lim);
}
