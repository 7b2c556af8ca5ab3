/* The daemon's events (daemon.h "events"): every worker's engine emits
 * into its own producer of one event pipeline (src/event/, bounded
 * per-worker queues, never blocking the packet path); the pipeline's writer
 * thread commits them to the SQLite store (events-db) and appends them to
 * the JSON-lines file (events).  The control thread reads the counters,
 * logs losses and asks for reopens; the workers only emit. */
#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "sipwall/table.h"

#define SWD_AUDIT_INCIDENTS 64
#define SWD_AUDIT_INCIDENT_NS (INT64_C(600) * SW_NS_S)

struct swd_events {
    sw_event_pipeline *pipe;
    sw_event_store *store;  /* owned here, written by the pipeline's writer */
    sw_event_sink *file;    /* owned here, written by the pipeline's writer */
    sw_event_pipeline_stats last; /* at the previous tick */
    /* the audit producer (the last one): shared by the control thread and
     * the admin API's thread, so it is taken under a lock */
    pthread_mutex_t audit_mu;
    /* under audit_mu: the audit events' ids, and their incidents (who,
     * what kind, from where, within SWD_AUDIT_INCIDENT_NS of the first),
     * in a small table that reuses its oldest slot when full */
    sw_event_ids audit_ids;
    struct { uint64_t key; int64_t start; } audit_inc[SWD_AUDIT_INCIDENTS];
    /* TLS handshake failures per listener (swd_tls_failure): counted
     * between summary events, at most one per SWD_TLS_EVENT_NS each */
    pthread_mutex_t tls_mu;
    struct {
        uint64_t pending;  /* failures not in an event yet */
        int64_t next_ns;   /* no summary before this */
        sw_addr peer;      /* the last failure's peer and reason */
        char why[96];
    } tls[SWD_TLS_SLOTS];
};

static void tls_failures_flush(swd_daemon *d, int all);

/* A path where a symbolic link stands is refused: the daemon opens these
 * files as root before it drops privileges, in directories its user may
 * write (defect R5).  The sinks open with O_NOFOLLOW too; this check gives
 * the operator the reason in words. */
static int refuse_symlink(const char *what, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        snprintf(err, errlen, "%s %s is a symbolic link: refused (give the file's real path)", what,
                 path);
        return SW_EINVAL;
    }
    return SW_OK;
}

/* The store's files: the database and SQLite's companions. */
static int refuse_db_symlinks(const char *db, char *err, size_t errlen)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        char p[4200];
        if ((size_t)snprintf(p, sizeof p, "%s%s", db, suffix[i]) >= sizeof p) {
            snprintf(err, errlen, "events-db %s: path too long", db);
            return SW_EINVAL;
        }
        int rc = refuse_symlink("events-db", p, err, errlen);
        if (rc)
            return rc;
    }
    return SW_OK;
}

/* The store is opened as root (before the drop) and its descriptors stay
 * open; its files are handed to the daemon's user so that the user's
 * processes (and a later start without root) can use them.  lchown: a
 * link is never followed. */
static void give_db_to_user(const swd_config *cfg)
{
    if (!cfg->user || !cfg->events_db)
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
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", cfg->events_db, suffix[i]);
        if (lchown(p, pw->pw_uid, gid) < 0 && errno != ENOENT)
            swd_warn("events", "cannot give %s to %s: %s", p, cfg->user, strerror(errno));
    }
}

/* The directory a file will be created in exists and is writable. */
static int dir_writable(const char *what, const char *path, char *err, size_t errlen)
{
    char dir[4200];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir) {
        snprintf(err, errlen, "%s %s: path too long", what, path);
        return SW_EINVAL;
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: the directory %s does not exist", what, path, dir);
        return SW_EINVAL;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errlen, "%s %s: cannot write in %s: %s", what, path, dir, strerror(errno));
        return SW_EINVAL;
    }
    return SW_OK;
}

int swd_events_check(const swd_config *cfg, char *err, size_t errlen)
{
    if (cfg->events && (refuse_symlink("events file", cfg->events, err, errlen) ||
                        dir_writable("events file", cfg->events, err, errlen)))
        return SW_EINVAL;
    if (cfg->events_db && (refuse_db_symlinks(cfg->events_db, err, errlen) ||
                           dir_writable("events-db", cfg->events_db, err, errlen)))
        return SW_EINVAL;
    if (cfg->log && strcmp(cfg->log, "stderr") != 0 && strcmp(cfg->log, "syslog") != 0 &&
        (refuse_symlink("log file", cfg->log, err, errlen) ||
         dir_writable("log file", cfg->log, err, errlen)))
        return SW_EINVAL;
    return SW_OK;
}

int swd_events_open(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    if (!cfg->events && !cfg->events_db)
        return SW_OK;
    if (swd_events_check(cfg, err, errlen) != SW_OK)
        return SW_EINVAL;
    swd_events *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    char why[512];
    if (cfg->events_db) {
        sw_event_store_opts so = {.max_age_s = cfg->events_db_max_age_s,
                                  .max_bytes = cfg->events_db_max_bytes};
        e->store = sw_event_store_open(cfg->events_db, &so, why, sizeof why);
        if (!e->store) {
            snprintf(err, errlen, "events-db %s: %s", cfg->events_db, why);
            free(e);
            return SW_EIO;
        }
        give_db_to_user(cfg);
    }
    if (cfg->events) {
        e->file = sw_jsonl_sink_open_append(cfg->events, why, sizeof why);
        if (!e->file) {
            snprintf(err, errlen, "events file %s: %s", cfg->events, why);
            sw_event_store_close(e->store);
            free(e);
            return SW_EIO;
        }
        uint64_t cut = sw_jsonl_sink_repaired(e->file);
        if (cut)
            swd_warn("events", "%s ended in a torn line (%llu bytes, from a crash): cut off",
                     cfg->events, (unsigned long long)cut);
    }
    sw_event_pipeline_opts po = {
        .producers = d->nworkers + 1, /* + the audit producer (swd_audit) */
        .queue_records = cfg->events_queue ? cfg->events_queue : SWD_EVENTS_DEFAULT_QUEUE,
        .store = e->store,
        .sinks = &e->file,
        .nsinks = e->file ? 1 : 0,
    };
    e->pipe = sw_event_pipeline_new(&po, why, sizeof why);
    if (!e->pipe) {
        snprintf(err, errlen, "event pipeline: %s", why);
        (void)sw_event_sink_close(e->file);
        sw_event_store_close(e->store);
        free(e);
        return SW_ENOMEM;
    }
    pthread_mutex_init(&e->audit_mu, NULL);
    pthread_mutex_init(&e->tls_mu, NULL);
    sw_event_ids_init(&e->audit_ids);
    d->events = e;
    swd_info("events", "events: store %s, file %s, %u queues of %u events",
             cfg->events_db ? cfg->events_db : "none", cfg->events ? cfg->events : "none",
             d->nworkers, (unsigned)po.queue_records);
    return SW_OK;
}

sw_event_sink *swd_events_sink(swd_daemon *d, unsigned worker)
{
    if (!d->events)
        return NULL;
    return sw_event_pipeline_producer(d->events->pipe, worker);
}

int swd_events_reopen(swd_daemon *d, char *msg, size_t msglen)
{
    char err[512] = "";
    int rc = SW_OK;
    size_t at = 0;
    /* both are tried whatever the other's outcome */
    if (swd_log_reopen(err, sizeof err) != SW_OK) {
        swd_err("events", "reopen: %s; still writing to the old log file", err);
        at += (size_t)snprintf(msg, msglen, "error: %s", err);
        rc = SW_EIO;
    }
    if (d->events && d->events->file) {
        /* the writer reopens between two batches; wait (bounded) for its
         * outcome so the answer tells the truth */
        sw_event_pipeline_stats before, now;
        sw_event_pipeline_stats_get(d->events->pipe, &before);
        sw_event_pipeline_reopen(d->events->pipe);
        int done = 0;
        for (int i = 0; i < 2000 && !done; i++) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
            sw_event_pipeline_stats_get(d->events->pipe, &now);
            done = now.reopens + now.reopen_errors > before.reopens + before.reopen_errors;
        }
        const char *fail = NULL;
        if (!done) {
            swd_warn("events", "reopen of %s asked for; the writer has not done it within 2 s "
                     "(busy with a failing store?)", d->cfg->events);
            fail = "reopen pending (the writer is busy)";
        } else if (now.reopen_errors > before.reopen_errors) {
            char why[256];
            sw_event_pipeline_last_error(d->events->pipe, why, sizeof why);
            swd_err("events", "reopen of %s failed (%s); events still go to the old file",
                    d->cfg->events, why);
            fail = "could not be reopened (see the log)";
        }
        if (fail) {
            if (at < msglen)
                snprintf(msg + at, msglen - at, "%serror: events file %s: %s", at ? "; " : "",
                         d->cfg->events, fail);
            rc = SW_EIO;
        }
    }
    if (rc != SW_OK)
        return rc;
    int with_file = d->events && d->events->file;
    swd_info("events", "reopened the log%s", with_file ? " and the events file" : "");
    snprintf(msg, msglen, "ok reopened log%s", with_file ? " events" : "");
    return SW_OK;
}

void swd_events_tick(swd_daemon *d)
{
    if (!d->events)
        return;
    tls_failures_flush(d, 0);
    sw_event_pipeline_stats st;
    sw_event_pipeline_stats_get(d->events->pipe, &st);
    sw_event_pipeline_stats *l = &d->events->last;
    if (st.dropped > l->dropped)
        swd_warn("events", "%llu events dropped: the writer's queues were full (%llu in all)",
                 (unsigned long long)(st.dropped - l->dropped), (unsigned long long)st.dropped);
    if (st.write_errors > l->write_errors) {
        char why[256];
        sw_event_pipeline_last_error(d->events->pipe, why, sizeof why);
        swd_warn("events", "%llu failed writes to the event store (disk full or I/O error; "
                 "retried, the queues fill meanwhile; %llu in all): %s",
                 (unsigned long long)(st.write_errors - l->write_errors),
                 (unsigned long long)st.write_errors, why);
    }
    if (st.sink_errors > l->sink_errors)
        swd_warn("events", "%llu events could not be written to %s (disk full or I/O error; "
                 "%llu in all)",
                 (unsigned long long)(st.sink_errors - l->sink_errors),
                 d->cfg->events ? d->cfg->events : "the events file",
                 (unsigned long long)st.sink_errors);
    *l = st;
}

void swd_events_pipeline_stats(swd_daemon *d, sw_event_pipeline_stats *out)
{
    memset(out, 0, sizeof *out);
    if (d->events)
        sw_event_pipeline_stats_get(d->events->pipe, out);
}

void swd_events_stats(swd_daemon *d, void *out)
{
    json_t *o = json_object_get(out, "events") ? NULL : json_object();
    if (!o)
        return;
    json_object_set_new(o, "store", json_boolean(d->cfg->events_db != NULL));
    json_object_set_new(o, "file", json_boolean(d->cfg->events != NULL));
    if (d->events) {
        sw_event_pipeline_stats st;
        sw_event_pipeline_stats_get(d->events->pipe, &st);
        const struct {
            const char *name;
            uint64_t v;
        } f[] = {{"enqueued", st.enqueued},         {"dropped", st.dropped},
                 {"written", st.written},           {"write_errors", st.write_errors},
                 {"sink_errors", st.sink_errors},   {"batches", st.batches},
                 {"queue_depth", st.queued},        {"max_queue_depth", st.max_depth},
                 {"summaries", st.summaries},       {"reopens", st.reopens},
                 {"reopen_errors", st.reopen_errors}, {"retained", st.retained},
                 {"abandoned", st.abandoned}};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
            json_object_set_new(o, f[i].name, json_integer((json_int_t)f[i].v));
    }
    json_object_set_new(out, "events", o);
}

void swd_events_close(swd_daemon *d)
{
    swd_events *e = d->events;
    if (!e)
        return;
    tls_failures_flush(d, 1); /* the workers are gone: the last counts */
    sw_event_pipeline_stats st;
    /* writes everything accepted (retrying a failing store for a while) */
    int rc = sw_event_pipeline_free(e->pipe, &st);
    swd_info("events", "events closed: enqueued=%llu written=%llu dropped=%llu write_errors=%llu "
             "sink_errors=%llu abandoned=%llu",
             (unsigned long long)st.enqueued, (unsigned long long)st.written,
             (unsigned long long)st.dropped, (unsigned long long)st.write_errors,
             (unsigned long long)st.sink_errors, (unsigned long long)st.abandoned);
    if (rc != SW_OK)
        swd_err("events", "%llu accepted events could not be stored before the stop",
                (unsigned long long)st.abandoned);
    (void)sw_event_sink_close(e->file);
    sw_event_store_close(e->store);
    pthread_mutex_destroy(&e->audit_mu);
    pthread_mutex_destroy(&e->tls_mu);
    free(e);
    d->events = NULL;
}

/* An audit event's event_id, and its incident_id: the same rule (what
 * kind of change or refusal) from the same address (any port) within 10 minutes of
 * the first is one incident (a login brute force is one episode).  Under
 * audit_mu. */
static void audit_ids(swd_events *e, sw_event *ev, const char *rule, const sw_addr *from)
{
    sw_event_id_next(&e->audit_ids, ev->ts_ns, ev->event_id);
    char k[SW_STATE_RULE_MAX + 1 + 17];
    size_t rl = strnlen(rule, SW_STATE_RULE_MAX);
    memcpy(k, rule, rl);
    k[rl] = '|';
    memset(k + rl + 1, 0, 17);
    if (from && from->family) { /* the address, not the port: each try is a new connection */
        k[rl + 1] = (char)from->family;
        memcpy(k + rl + 2, from->ip, 16);
    }
    uint64_t key = sw_hash64(k, rl + 1 + 17, UINT64_C(0xa0d17));
    unsigned slot = 0, oldest = 0;
    int found = 0;
    for (unsigned i = 0; i < SWD_AUDIT_INCIDENTS; i++) {
        if (e->audit_inc[i].key == key) {
            slot = i;
            found = 1;
            break;
        }
        if (e->audit_inc[i].start < e->audit_inc[oldest].start)
            oldest = i;
    }
    if (!found || ev->ts_ns - e->audit_inc[slot].start >= SWD_AUDIT_INCIDENT_NS ||
        ev->ts_ns < e->audit_inc[slot].start) {
        if (!found)
            slot = oldest;
        e->audit_inc[slot].key = key;
        e->audit_inc[slot].start = ev->ts_ns;
    }
    uint64_t h[2] = {key, (uint64_t)e->audit_inc[slot].start};
    uint64_t v = sw_hash64(h, sizeof h, UINT64_C(0xa0d17));
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        ev->incident_id[i] = hex[(v >> (60 - 4 * i)) & 15];
    ev->incident_id[16] = '\0';
}

/* swd_audit with one more number in the evidence (num_key NULL: none). */
static void audit_emit(swd_daemon *d, sw_event_type type, const char *rule, const char *who,
                       const sw_addr *from, const char *what, const char *detail, const char *num_key,
                       int64_t num)
{
    char fromtxt[SW_ADDR_STRLEN] = "local";
    if (from && from->family)
        (void)sw_addr_format(from, fromtxt, sizeof fromtxt);
    int refused = type == SW_EVT_ADMIN_AUTH_FAILURE || type == SW_EVT_INTEGRITY_FAILURE ||
                  type == SW_EVT_TLS_FAILURE;
    if (refused)
        swd_warn("audit", "%s refused: who=%s from=%s %s", what, who, fromtxt, detail);
    else
        swd_info("audit", "%s by %s from %s: %s", what, who, fromtxt, detail);
    if ((unsigned)type < SW_EVT__COUNT)
        atomic_fetch_add(&d->security_events[type], 1);
    if (!d->events)
        return;
    sw_event ev;
    sw_event_init(&ev, type, SW_CAT_SYSTEM, rule);
    ev.ts_ns = swd_now_ns();
    ev.action = refused ? SW_ACTION_REJECT : SW_ACTION_ALLOW;
    ev.reason = sw_str_make(detail, strlen(detail));
    if (from && from->family)
        ev.src = *from;
    (void)sw_event_add_str(&ev, "who", sw_str_make(who, strlen(who)));
    (void)sw_event_add_str(&ev, "what", sw_str_make(what, strlen(what)));
    (void)sw_event_add_str(&ev, "from", sw_str_make(fromtxt, strlen(fromtxt)));
    if (num_key)
        (void)sw_event_add_num(&ev, num_key, num);
    pthread_mutex_lock(&d->events->audit_mu);
    audit_ids(d->events, &ev, rule, from);
    sw_event_sink *s = sw_event_pipeline_producer(d->events->pipe, d->nworkers);
    if (s)
        (void)sw_event_emit(s, &ev);
    pthread_mutex_unlock(&d->events->audit_mu);
}

void swd_audit(swd_daemon *d, sw_event_type type, const char *rule, const char *who,
               const sw_addr *from, const char *what, const char *detail)
{
    audit_emit(d, type, rule, who, from, what, detail, NULL, 0);
}

void swd_sha256_hex(const uint8_t sha[32], char out[65])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[sha[i] >> 4];
        out[2 * i + 1] = hx[sha[i] & 15];
    }
    out[64] = '\0';
}

/* The listener a TLS slot stands for, as the config names it. */
static void tls_slot_name(const swd_daemon *d, unsigned slot, char *out, size_t len)
{
    char a[SW_ADDR_STRLEN] = "?";
    if (slot < SWD_MAX_LISTENS && slot < d->cfg->nlistens) {
        (void)sw_addr_format(&d->cfg->listens[slot].addr, a, sizeof a);
        snprintf(out, len, "listen tls %s", a);
    } else if (slot >= SWD_MAX_LISTENS && slot < SWD_TLS_SLOT_CLIENT) {
        unsigned h = slot - SWD_MAX_LISTENS;
        if (h < d->cfg->nheps)
            (void)sw_addr_format(&d->cfg->heps[h].addr, a, sizeof a);
        snprintf(out, len, "hep tls %s", a);
    } else {
        snprintf(out, len, "outgoing tls");
    }
}

/* Emits the summary of slot: n failures, the last one's peer and reason. */
static void tls_summary(swd_daemon *d, unsigned slot, uint64_t n, const sw_addr *peer, const char *why)
{
    char where[96], detail[400];
    tls_slot_name(d, slot, where, sizeof where);
    snprintf(detail, sizeof detail,
             "%llu TLS handshake%s failed on %s since the last report; the last: %s",
             (unsigned long long)n, n == 1 ? "" : "s", where, why);
    audit_emit(d, SW_EVT_TLS_FAILURE, "sipwall.tls.handshake_failed", "peer", peer, where, detail,
               "failures", (int64_t)n);
}

void swd_tls_failure(swd_daemon *d, unsigned slot, const sw_addr *peer, const char *why)
{
    if (slot >= SWD_TLS_SLOTS)
        slot = SWD_TLS_SLOT_CLIENT;
    atomic_fetch_add(&d->tls_failures[slot], 1);
    swd_events *e = d->events;
    if (!e)
        return; /* counted above; no event store to summarise into */
    int64_t now = swd_now_ns();
    uint64_t n = 0;
    sw_addr p;
    char w[96];
    pthread_mutex_lock(&e->tls_mu);
    e->tls[slot].pending++;
    e->tls[slot].peer = *peer;
    snprintf(e->tls[slot].why, sizeof e->tls[slot].why, "%s", why ? why : "unknown");
    if (now >= e->tls[slot].next_ns) {
        n = e->tls[slot].pending;
        e->tls[slot].pending = 0;
        e->tls[slot].next_ns = now + SWD_TLS_EVENT_NS;
        p = e->tls[slot].peer;
        memcpy(w, e->tls[slot].why, sizeof w);
    }
    pthread_mutex_unlock(&e->tls_mu);
    if (n)
        tls_summary(d, slot, n, &p, w);
}

/* The summaries of failures that came after a slot's last event, once its
 * interval is over (from the control thread's tick). */
static void tls_failures_flush(swd_daemon *d, int all)
{
    swd_events *e = d->events;
    int64_t now = swd_now_ns();
    for (unsigned i = 0; i < SWD_TLS_SLOTS; i++) {
        uint64_t n = 0;
        sw_addr p;
        char w[96];
        pthread_mutex_lock(&e->tls_mu);
        if (e->tls[i].pending && (all || now >= e->tls[i].next_ns)) {
            n = e->tls[i].pending;
            e->tls[i].pending = 0;
            e->tls[i].next_ns = now + SWD_TLS_EVENT_NS;
            p = e->tls[i].peer;
            memcpy(w, e->tls[i].why, sizeof w);
        }
        pthread_mutex_unlock(&e->tls_mu);
        if (n)
            tls_summary(d, i, n, &p, w);
    }
}
