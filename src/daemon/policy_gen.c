/* Loading a policy generation: the compiled policy and one location feed
 * per worker (each engine owns its feed). */
#include <stdio.h>
#include <stdlib.h>

#include "daemon/daemon.h"

static void log_diags(const sw_policy_diags *d)
{
    char line[600];
    for (uint32_t i = 0; i < d->n; i++) {
        if (sw_policy_diag_format(&d->d[i], line, sizeof line) < 0)
            continue;
        if (d->d[i].warning)
            swd_warn("policy", "%s", line);
        else
            swd_err("policy", "%s", line);
    }
}

swd_policy_gen *swd_policy_gen_load(const swd_config *cfg, unsigned nworkers, uint64_t gen,
                                    char *err, size_t errlen)
{
    if (cfg->bundle) { /* verified and compiled from memory; nothing recorded */
        swd_bundle_info info;
        swd_policy_gen *bg = swd_bundle_gen_load(cfg, cfg->bundle, nworkers, gen, &info, err, errlen);
        swd_bundle_info_free(&info);
        return bg;
    }
    swd_policy_gen *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->gen = gen;
    static const char *const builtin[] = {"builtin:default"};
    const char *const *paths = cfg->npolicies ? (const char *const *)cfg->policies : builtin;
    size_t n = cfg->npolicies ? cfg->npolicies : 1;
    sw_policy_diags *diags = calloc(1, sizeof *diags);
    if (!diags) {
        free(g);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int r = sw_policy_load(paths, n, &g->policy, diags);
    log_diags(diags);
    if (r != SW_OK) {
        /* the errors themselves, so that whoever asked (ctl reload, the
         * admin API) reads what to fix, not "see the log" */
        size_t at = (size_t)snprintf(err, errlen, "the policy does not load (%u error%s)", diags->errors,
                                     diags->errors == 1 ? "" : "s");
        unsigned shown = 0;
        char line[600];
        for (uint32_t i = 0; i < diags->n && shown < 5 && at < errlen; i++) {
            if (diags->d[i].warning || sw_policy_diag_format(&diags->d[i], line, sizeof line) < 0)
                continue;
            at += (size_t)snprintf(err + at, errlen - at, "%s%s", shown ? "; " : ": ", line);
            shown++;
        }
        if (shown < diags->errors && at < errlen)
            snprintf(err + at, errlen - at, "; and %u more (see the log)", diags->errors - shown);
        free(diags);
        free(g);
        return NULL;
    }
    const char *feed = cfg->location_feed ? cfg->location_feed : g->policy->location_feed;
    for (unsigned w = 0; feed && w < nworkers && w < SWD_MAX_WORKERS; w++) {
        memset(diags, 0, sizeof *diags);
        if (sw_location_feed_load(feed, &g->feeds[w], diags) != SW_OK) {
            log_diags(diags);
            snprintf(err, errlen, "the location feed %s does not load", feed);
            free(diags);
            swd_policy_gen_free(g);
            return NULL;
        }
    }
    free(diags);
    return g;
}

void swd_policy_gen_free(swd_policy_gen *g)
{
    if (!g)
        return;
    for (unsigned w = 0; w < SWD_MAX_WORKERS; w++)
        sw_location_feed_free(g->feeds[w]);
    sw_policy_free(g->policy);
    free(g);
}
