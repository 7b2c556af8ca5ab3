/* Live counters per partner (daemon.h "partners"): every worker counts the
 * messages, verdicts and block drops of each configured partner that sent
 * them, in an array indexed by the peer's index in the worker's policy
 * generation (fixed size, allocated with the worker), carried over by name
 * when the worker takes a new generation, and published with the other
 * counters.  The control thread sums what the workers published for the
 * generation in force (`ctl partners`, GET /v1/partners). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/worker.h"

int swd_partners_init(swd_worker *w)
{
    w->pctr = calloc(SWD_PARTNER_CTR_MAX, sizeof *w->pctr);
    w->pctr_tmp = calloc(SWD_PARTNER_CTR_MAX, sizeof *w->pctr_tmp);
    w->pub_pctr = calloc(SWD_PARTNER_CTR_MAX, sizeof *w->pub_pctr);
    return w->pctr && w->pctr_tmp && w->pub_pctr ? SW_OK : SW_ENOMEM;
}

void swd_partners_fini(swd_worker *w)
{
    free(w->pctr);
    free(w->pctr_tmp);
    free(w->pub_pctr);
}

static uint32_t counted(const swd_policy_gen *g)
{
    return g->policy->npeers < SWD_PARTNER_CTR_MAX ? g->policy->npeers : SWD_PARTNER_CTR_MAX;
}

void swd_partners_regen(swd_worker *w, const swd_policy_gen *old, const swd_policy_gen *g)
{
    if (!w->pctr)
        return;
    memset(w->pctr_tmp, 0, SWD_PARTNER_CTR_MAX * sizeof *w->pctr_tmp);
    /* a partner keeps its counts across reloads (found by name: indices move) */
    for (uint32_t j = 0; old && j < counted(g); j++) {
        const sw_peer *np = g->policy->peers[j];
        if (np->is_zone)
            continue;
        for (uint32_t i = 0; i < counted(old); i++) {
            const sw_peer *op = old->policy->peers[i];
            if (!op->is_zone && strcmp(op->name, np->name) == 0) {
                w->pctr_tmp[j] = w->pctr[i];
                break;
            }
        }
    }
    swd_partner_ctr *t = w->pctr;
    w->pctr = w->pctr_tmp;
    w->pctr_tmp = t;
    w->pctr_gen = g;
}

void swd_partners_count(swd_worker *w, const sw_verdict *v)
{
    if (!v->facts || !w->pctr || w->pctr_gen != w->gen)
        return;
    const sw_peer *p = v->facts->peer;
    if (!p || p->is_zone || p->index >= SWD_PARTNER_CTR_MAX)
        return;
    swd_partner_ctr *c = &w->pctr[p->index];
    c->messages++;
    if ((unsigned)v->action < SW_ACTION__COUNT)
        c->verdicts[v->action]++;
    if (v->blocked)
        c->blocked++;
}

void swd_partners_publish(swd_worker *w)
{
    /* under pub_mu; only the partners the generation has */
    if (!w->pctr || !w->pctr_gen)
        return;
    memcpy(w->pub_pctr, w->pctr, counted(w->pctr_gen) * sizeof *w->pctr);
    w->pub_pctr_gen = w->pctr_gen;
}

void swd_partners_add_json(swd_daemon *d, const swd_policy_gen *g, uint32_t idx, void *obj)
{
    json_t *o = obj;
    swd_partner_ctr sum;
    memset(&sum, 0, sizeof sum);
    unsigned workers = 0;
    for (unsigned i = 0; i < d->nworkers; i++) {
        swd_worker *w = d->workers[i];
        if (!w)
            continue;
        pthread_mutex_lock(&w->pub_mu);
        /* a worker still on an older generation (a reload in progress)
         * published other indices: left out, and said so */
        if (w->pub_pctr && w->pub_pctr_gen == g && idx < SWD_PARTNER_CTR_MAX) {
            const swd_partner_ctr *c = &w->pub_pctr[idx];
            sum.messages += c->messages;
            sum.blocked += c->blocked;
            for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
                sum.verdicts[a] += c->verdicts[a];
            workers++;
        }
        pthread_mutex_unlock(&w->pub_mu);
    }
    json_object_set_new(o, "messages", json_integer((json_int_t)sum.messages));
    json_t *vd = json_object();
    for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
        json_object_set_new(vd, sw_action_name((sw_action)a), json_integer((json_int_t)sum.verdicts[a]));
    json_object_set_new(o, "verdicts", vd);
    json_object_set_new(o, "blocked", json_integer((json_int_t)sum.blocked));
    json_object_set_new(o, "workers_counted", json_integer(workers));
    json_object_set_new(o, "counted", json_boolean(idx < SWD_PARTNER_CTR_MAX));
}
