/* sipwalld's signed bundles (daemon.h "signed bundles", docs/bundles.md):
 * the policy generation loaded from a verified bundle in memory, the
 * refusals counted and told as events, the accepted bundle recorded in the
 * state directory (its mark for rollback protection and a copy that start
 * falls back to). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "sipwall/bundle.h"

/* ---- the policy's files from the bundle ------------------------------------------------ */
static int bundle_read(void *ctx, const char *path, size_t cap, char **text, size_t *len)
{
    const sw_bundle_file *f = sw_bundle_find(ctx, path);
    if (!f)
        return SW_ENOTFOUND;
    if (f->len > cap)
        return SW_ELIMIT;
    char *t = malloc(f->len + 1);
    if (!t)
        return SW_ENOMEM;
    if (f->len)
        memcpy(t, f->data, f->len);
    t[f->len] = '\0';
    *text = t;
    *len = f->len;
    return SW_OK;
}

static void log_diags(const sw_policy_diags *d, const char *what)
{
    char line[600];
    for (uint32_t i = 0; i < d->n; i++) {
        if (sw_policy_diag_format(&d->d[i], line, sizeof line) < 0)
            continue;
        if (d->d[i].warning)
            swd_warn("bundle", "%s: %s", what, line);
        else
            swd_err("bundle", "%s: %s", what, line);
    }
}

static swd_policy_gen *compile(const sw_bundle *b, const char *path, unsigned nworkers, uint64_t gen,
                               char *err, size_t errlen)
{
    const char *names[SW_BUNDLE_MAX_FILES];
    size_t n = 0;
    const sw_bundle_file *feedf = NULL;
    for (size_t i = 0; i < sw_bundle_nfiles(b); i++) {
        const sw_bundle_file *f = sw_bundle_file_at(b, i);
        if (f->role == SW_BUNDLE_ROLE_POLICY)
            names[n++] = f->name;
        else if (f->role == SW_BUNDLE_ROLE_FEED)
            feedf = f;
    }
    swd_policy_gen *g = calloc(1, sizeof *g);
    sw_policy_diags *diags = calloc(1, sizeof *diags);
    if (!g || !diags) {
        free(g);
        free(diags);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->gen = gen;
    sw_policy_source src = {(void *)b, bundle_read};
    int rc = sw_policy_load_source(&src, names, n, &g->policy, diags);
    log_diags(diags, path);
    if (rc != SW_OK) {
        char first[600] = "";
        for (uint32_t i = 0; i < diags->n; i++)
            if (!diags->d[i].warning && sw_policy_diag_format(&diags->d[i], first, sizeof first) >= 0)
                break;
        snprintf(err, errlen, "the policy in bundle %s does not load (%u error%s): %s", path,
                 diags->errors, diags->errors == 1 ? "" : "s", first);
        free(diags);
        free(g);
        return NULL;
    }
    /* the feed: the one the policy names (inside the bundle), else the
     * bundle's feed file */
    if (g->policy->location_feed) {
        feedf = sw_bundle_find(b, g->policy->location_feed);
        if (!feedf) {
            snprintf(err, errlen, "the location feed %s is not in bundle %s", g->policy->location_feed,
                     path);
            free(diags);
            swd_policy_gen_free(g);
            return NULL;
        }
    }
    for (unsigned w = 0; feedf && w < nworkers && w < SWD_MAX_WORKERS; w++) {
        if (sw_location_feed_load_text(feedf->name, (const char *)feedf->data, feedf->len, &g->feeds[w],
                                       diags) != SW_OK) {
            log_diags(diags, path);
            snprintf(err, errlen, "the location feed %s in bundle %s does not load", feedf->name, path);
            free(diags);
            swd_policy_gen_free(g);
            return NULL;
        }
    }
    free(diags);
    return g;
}

void swd_bundle_info_free(swd_bundle_info *info)
{
    sw_bundle_free(info->bundle);
    info->bundle = NULL;
}

swd_policy_gen *swd_bundle_gen_load(const swd_config *cfg, const char *path, unsigned nworkers,
                                    uint64_t gen, swd_bundle_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    sw_bundle_key *keys[SWD_MAX_TRUST_KEYS] = {0};
    sw_bundle_trust trust[SWD_MAX_TRUST_KEYS];
    swd_policy_gen *g = NULL;
    char why[600] = "";
    sw_bundle *b = NULL;
    sw_bundle_status st = SW_BUNDLE_OK;
    unsigned nk = 0;
    for (; nk < cfg->ntrust_keys && nk < SWD_MAX_TRUST_KEYS; nk++) {
        if (sw_bundle_key_load_public(cfg->trust_keys[nk], &keys[nk], why, sizeof why) != SW_OK) {
            st = SW_BUNDLE_IO;
            goto refused;
        }
        trust[nk].key = keys[nk];
        trust[nk].retiring = cfg->trust_retiring[nk];
    }
    if ((st = sw_bundle_load(path, &b, why, sizeof why)) != SW_BUNDLE_OK)
        goto refused;
    size_t used = 0;
    if ((st = sw_bundle_verify(b, trust, nk, &used, why, sizeof why)) != SW_BUNDLE_OK)
        goto refused;
    info->retiring = trust[used].retiring;
    snprintf(info->keyid, sizeof info->keyid, "%s", sw_bundle_key_id(keys[used]));
    info->version = sw_bundle_version(b);
    sw_bundle_mark mark;
    int mr = sw_bundle_mark_read(cfg->bundle_state, &mark);
    if (mr != SW_OK && mr != SW_ENOTFOUND) {
        st = SW_BUNDLE_IO;
        snprintf(why, sizeof why, "the mark of the last accepted bundle %s cannot be read (%s); "
                 "refusing rather than losing rollback protection", cfg->bundle_state,
                 mr == SW_EFORMAT ? "damaged" : strerror(errno));
        goto refused;
    }
    if ((st = sw_bundle_check_version(b, mr == SW_OK ? &mark : NULL, why, sizeof why)) !=
        SW_BUNDLE_OK)
        goto refused;
    g = compile(b, path, nworkers, gen, err, errlen);
    info->bundle = b;
    for (unsigned i = 0; i < nk; i++)
        sw_bundle_key_free(keys[i]);
    return g;
refused:
    info->status = st;
    snprintf(err, errlen, "bundle %s refused (%s): %s", path, sw_bundle_status_name(st), why);
    sw_bundle_free(b);
    for (unsigned i = 0; i < nk && i < SWD_MAX_TRUST_KEYS; i++)
        sw_bundle_key_free(keys[i]);
    if (nk < SWD_MAX_TRUST_KEYS)
        sw_bundle_key_free(keys[nk]);
    return NULL;
}

/* ---- the daemon's side: events, metrics, the record --------------------------------------- */
static void note(swd_daemon *d, sw_event_type type, const char *rule, const char *detail)
{
    if (d->events) {
        swd_audit(d, type, rule, "sipwalld", NULL, "bundle", detail);
        return;
    }
    for (int i = 0; i < SWD_BUNDLE_NOTES; i++)
        if (!d->bundle_notes[i].detail[0]) {
            d->bundle_notes[i].type = (int)type;
            snprintf(d->bundle_notes[i].rule, sizeof d->bundle_notes[i].rule, "%s", rule);
            snprintf(d->bundle_notes[i].detail, sizeof d->bundle_notes[i].detail, "%s", detail);
            return;
        }
}

void swd_bundle_flush_events(swd_daemon *d)
{
    for (int i = 0; i < SWD_BUNDLE_NOTES && d->events; i++)
        if (d->bundle_notes[i].detail[0]) {
            swd_audit(d, (sw_event_type)d->bundle_notes[i].type, d->bundle_notes[i].rule, "sipwalld",
                      NULL, "bundle", d->bundle_notes[i].detail);
            d->bundle_notes[i].detail[0] = '\0';
        }
}

static void refusal(swd_daemon *d, const swd_bundle_info *info, const char *err)
{
    unsigned s = (unsigned)info->status < 16 ? (unsigned)info->status : 0;
    atomic_fetch_add(&d->bundle_refused[s], 1);
    char rule[48];
    snprintf(rule, sizeof rule, "sipwall.bundle.%s", sw_bundle_status_name(info->status));
    swd_err("bundle", "%s", err);
    note(d, SW_EVT_INTEGRITY_FAILURE, rule, err);
}

/* At start sipwalld is root: the mark and the copy it writes go to the
 * service user, who rewrites them on reloads after the privilege drop
 * (lchown: a link is never followed). */
static void give_to_user(const swd_config *cfg, const char *good)
{
    if (!cfg->user || geteuid() != 0)
        return;
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw)
        return; /* drop_privileges reports it */
    gid_t gid = pw->pw_gid;
    if (cfg->group) {
        struct group *gr = getgrnam(cfg->group);
        if (gr)
            gid = gr->gr_gid;
    }
    const char *paths[] = {cfg->bundle_state, good};
    for (int i = 0; i < 2; i++)
        if (lchown(paths[i], pw->pw_uid, gid) < 0 && errno != ENOENT)
            swd_warn("bundle", "cannot give %s to %s: %s", paths[i], cfg->user, strerror(errno));
}

/* Records the accepted bundle: its copy first, then the mark (a crash
 * between the two leaves a copy newer than the mark, which start refuses
 * to fall back to: safe). */
static int record(const swd_config *cfg, const sw_bundle *b, char *err, size_t errlen)
{
    sw_bundle_mark old, m;
    m.version = sw_bundle_version(b);
    memcpy(m.sha256, sw_bundle_sha256(b), 32);
    char good[4096];
    snprintf(good, sizeof good, "%s.good", cfg->bundle_state);
    if (sw_bundle_mark_read(cfg->bundle_state, &old) == SW_OK && old.version == m.version &&
        memcmp(old.sha256, m.sha256, 32) == 0) {
        give_to_user(cfg, good);
        return SW_OK; /* the same bundle again */
    }
    size_t len;
    const uint8_t *bytes = sw_bundle_bytes(b, &len);
    if (sw_bundle_save_copy(good, bytes, len) != SW_OK ||
        sw_bundle_mark_write(cfg->bundle_state, &m) != SW_OK) {
        snprintf(err, errlen, "cannot record the accepted bundle in %s: %s", cfg->bundle_state,
                 strerror(errno));
        return SW_EIO;
    }
    give_to_user(cfg, good);
    return SW_OK;
}

swd_policy_gen *swd_policy_gen_load_d(swd_daemon *d, int at_start, uint64_t gen, char *err,
                                      size_t errlen)
{
    const swd_config *cfg = d->cfg;
    if (!cfg->bundle)
        return swd_policy_gen_load(cfg, d->nworkers, gen, err, errlen);
    swd_bundle_info info;
    swd_policy_gen *g = swd_bundle_gen_load(cfg, cfg->bundle, d->nworkers, gen, &info, err, errlen);
    if (!g && info.status != SW_BUNDLE_OK) {
        refusal(d, &info, err);
        if (at_start) {
            /* the last good bundle, recorded when it was accepted: it must
             * still verify and be the very one the mark names */
            char good[4096], err2[1200];
            snprintf(good, sizeof good, "%s.good", cfg->bundle_state);
            swd_bundle_info_free(&info);
            g = swd_bundle_gen_load(cfg, good, d->nworkers, gen, &info, err2, sizeof err2);
            sw_bundle_mark m;
            if (g && (sw_bundle_mark_read(cfg->bundle_state, &m) != SW_OK ||
                      m.version != info.version ||
                      memcmp(m.sha256, sw_bundle_sha256(info.bundle), 32) != 0)) {
                swd_policy_gen_free(g);
                g = NULL;
                snprintf(err2, sizeof err2, "the last good copy %.300s is not the recorded bundle", good);
            }
            if (g) {
                char msg[600];
                snprintf(msg, sizeof msg, "started with the last good bundle %.200s (version %llu) "
                         "instead of the refused %.200s", good, (unsigned long long)info.version,
                         cfg->bundle);
                swd_warn("bundle", "%s", msg);
                note(d, SW_EVT_INTEGRITY_WARNING, "sipwall.bundle.fallback", msg);
            } else {
                swd_err("bundle", "no last good bundle to start with: %s", err2);
            }
        }
    }
    if (g) {
        if (info.retiring) {
            char msg[300];
            snprintf(msg, sizeof msg, "bundle version %llu is signed by key %s, which is retiring: "
                     "sign the next bundle with the new key", (unsigned long long)info.version,
                     info.keyid);
            swd_warn("bundle", "%s", msg);
            note(d, SW_EVT_INTEGRITY_WARNING, "sipwall.bundle.retiring_key", msg);
        }
        if (record(cfg, info.bundle, err, errlen) != SW_OK) {
            swd_err("bundle", "%s", err);
            swd_policy_gen_free(g);
            g = NULL;
        } else {
            atomic_store(&d->bundle_version, info.version);
            swd_info("bundle", "bundle version %llu verified (key %s)",
                     (unsigned long long)info.version, info.keyid);
        }
    }
    swd_bundle_info_free(&info);
    return g;
}
