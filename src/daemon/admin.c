/* The admin socket and `sipwalld ctl` (daemon/admin.h); the admin API
 * hands its commands to the control thread through the same function. */

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/admin.h"
#include "daemon/metrics.h"
#include "daemon/publish.h"
#include "daemon/worker.h"
#include "daemon/reload.h"
#include "sipwall/cluster.h"

static int sun_of(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path)
        return SW_ELIMIT;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return SW_OK;
}

int swd_admin_listen(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (sun_of(path, &sa) != SW_OK) {
        snprintf(err, errlen, "admin socket path too long: %s", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "admin socket: %s", strerror(errno));
        return -1;
    }
    unlink(path); /* a stale socket from a previous run */
    mode_t old = umask(0177); /* created 0600: only the daemon's user */
    int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (r < 0 || listen(fd, 8) < 0) {
        snprintf(err, errlen, "admin socket %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void put_counters(json_t *o, const swd_counters *c)
{
#define SWD__JSON(n) json_object_set_new(o, #n, json_integer((json_int_t)c->n));
    SWD_COUNTER_LIST(SWD__JSON)
#undef SWD__JSON
}

char *swd_stats_json(swd_daemon *d)
{
    swd_counters c;
    sw_engine_stats es;
    uint64_t conns;
    swd_workers_stats(d, &c, &es, &conns);
    json_t *o = json_object();
    swd_policy_gen *g = atomic_load(&d->policy);
    json_object_set_new(o, "version", json_string(swd_version()));
    json_object_set_new(o, "mode", json_string(swd_mode_name(d->cfg->mode)));
    json_object_set_new(o, "workers", json_integer(d->nworkers));
    json_object_set_new(o, "uptime_s", json_integer((json_int_t)((swd_now_ns() - d->started_ns) / 1000000000)));
    json_object_set_new(o, "policy_generation", json_integer((json_int_t)g->gen));
    json_object_set_new(o, "policy_generation_in_force", json_integer((json_int_t)swd_workers_policy_acked(d)));
    json_object_set_new(o, "reloads", json_integer((json_int_t)d->reloads));
    json_object_set_new(o, "connections", json_integer((json_int_t)conns));
    json_t *ct = json_object();
    put_counters(ct, &c);
    json_object_set_new(o, "counters", ct);
    json_t *en = json_object();
    json_object_set_new(en, "messages", json_integer((json_int_t)es.messages));
    json_object_set_new(en, "malformed", json_integer((json_int_t)es.malformed));
    json_object_set_new(en, "retransmissions", json_integer((json_int_t)es.retransmissions));
    json_object_set_new(en, "events", json_integer((json_int_t)es.events));
    json_object_set_new(en, "events_suppressed", json_integer((json_int_t)es.events_suppressed));
    json_object_set_new(en, "blocked", json_integer((json_int_t)es.blocked));
    json_object_set_new(en, "admission_drops", json_integer((json_int_t)es.admission_drops));
    json_object_set_new(en, "blocks_refused", json_integer((json_int_t)es.blocks_refused));
    json_object_set_new(en, "blocks_lifted", json_integer((json_int_t)es.blocks_lifted));
    json_object_set_new(en, "active_blocks", json_integer((json_int_t)es.active_blocks));
    json_object_set_new(en, "state_migrated", json_integer((json_int_t)es.state_migrated));
    json_object_set_new(en, "state_dropped", json_integer((json_int_t)es.state_dropped));
    if (d->state) {
        /* the shared store: blocks of every worker, resizes by reloads */
        sw_state_stats ss;
        sw_state_stats_get(d->state, &ss);
        json_t *st = json_object();
        json_object_set_new(st, "capacity", json_integer((json_int_t)ss.capacity));
        json_object_set_new(st, "entries", json_integer((json_int_t)ss.entries));
        json_object_set_new(st, "active", json_integer((json_int_t)ss.active));
        json_object_set_new(st, "evictions", json_integer((json_int_t)ss.evictions));
        json_object_set_new(st, "blocks_set", json_integer((json_int_t)ss.blocks_set));
        json_object_set_new(st, "migrated", json_integer((json_int_t)ss.migrated));
        json_object_set_new(st, "dropped", json_integer((json_int_t)ss.dropped));
        json_object_set_new(o, "state", st);
    }
    if (d->redis) { /* state redis: the cluster's connection (docs/cluster.md) */
        sw_redis_stats rs;
        sw_redis_stats_get(d->redis, &rs);
        json_t *cl = json_object();
        json_object_set_new(cl, "connected", json_boolean(rs.connected));
        json_object_set_new(cl, "connects", json_integer((json_int_t)rs.connects));
        json_object_set_new(cl, "failures", json_integer((json_int_t)rs.failures));
        json_object_set_new(cl, "auth_failures", json_integer((json_int_t)rs.auth_failures));
        json_object_set_new(cl, "sent", json_integer((json_int_t)rs.sent));
        json_object_set_new(cl, "queued", json_integer((json_int_t)rs.queued));
        json_object_set_new(cl, "dropped", json_integer((json_int_t)rs.dropped));
        json_object_set_new(cl, "refused", json_integer((json_int_t)rs.refused));
        json_object_set_new(cl, "applied", json_integer((json_int_t)rs.applied));
        json_object_set_new(cl, "resyncs", json_integer((json_int_t)rs.resyncs));
        json_object_set_new(cl, "resync_loaded", json_integer((json_int_t)rs.resync_loaded));
        json_object_set_new(cl, "resync_ms", json_real((double)rs.resync_ns / 1e6));
        json_object_set_new(cl, "lag_last_ms", json_real((double)rs.lag_last_ns / 1e6));
        json_object_set_new(cl, "lag_max_ms", json_real((double)rs.lag_max_ns / 1e6));
        json_object_set_new(o, "cluster", cl);
    }
    json_t *vd = json_object();
    for (unsigned a = 0; a < SW_ACTION__COUNT; a++)
        json_object_set_new(vd, sw_action_name((sw_action)a), json_integer((json_int_t)es.verdicts[a]));
    json_object_set_new(en, "verdicts", vd);
    json_object_set_new(o, "engine", en);
    swd_events_stats(d, o);
    if (d->nexporters) { /* export syslog lines (daemon/export.c) */
        char *ex = swd_exports_stats_json(d);
        json_t *xo = ex ? json_loads(ex, 0, NULL) : NULL;
        if (xo)
            json_object_set_new(o, "exporters", xo);
        free(ex);
    }
    if (d->publish) { /* taxii and publish lines (daemon/publish.c) */
        char *px = swd_publish_stats_json(d);
        json_t *po = px ? json_loads(px, 0, NULL) : NULL;
        if (po)
            json_object_set_new(o, "publish", po);
        free(px);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* Reads until nlines newlines arrived (1 s at most); NUL-terminates. */
static size_t read_lines(int fd, char *buf, size_t size, int nlines)
{
    size_t n = 0;
    int64_t deadline = swd_now_ns() + 1000000000;
    for (;;) {
        int seen = 0;
        for (size_t i = 0; i < n; i++)
            seen += buf[i] == '\n';
        if (seen >= nlines || n >= size - 1)
            break;
        int64_t left = (deadline - swd_now_ns()) / 1000000;
        struct pollfd pf = {fd, POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

/* Splits cmd at spaces into at most max words (the last one keeps the
 * rest of the line: a block's reason). */
static int words(char *cmd, char **w, int max)
{
    int n = 0;
    char *p = cmd;
    while (*p && n < max) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        w[n++] = p;
        if (n == max)
            break;
        p += strcspn(p, " ");
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static void reply_text(int fd, const char *reply)
{
    size_t len = strlen(reply);
    while (len) {
        ssize_t w = write(fd, reply, len);
        if (w <= 0)
            break;
        reply += w;
        len -= (size_t)w;
    }
    ssize_t w2 = write(fd, "\n", 1);
    (void)w2;
}

/* One command line from a client of the local socket (who "ctl", from
 * NULL) or from the admin API (its authenticated identity and address);
 * answers on fd and closes it (a reload answers later, see reload.h). */
static void serve_cmd(swd_daemon *d, int fd, char *cmd, const char *who, const sw_addr *from)
{
    char msg[700];
    char *reply = NULL;
    char *w[5];
    int nw = words(cmd, w, 5);
    if (nw == 1 && strcmp(w[0], "reload") == 0) {
        swd_info("admin", "reload requested by %s", who);
        char detail[200];
        char fromtxt[SW_ADDR_STRLEN] = "local";
        if (from && from->family)
            (void)sw_addr_format(from, fromtxt, sizeof fromtxt);
        snprintf(detail, sizeof detail, "reload requested (the outcome follows in the log and the reply)");
        swd_audit(d, SW_EVT_ADMIN_CHANGE, "admin.reload", who, from, "reload", detail);
        if (swd_reloader_request(d->reloader, fd) == SW_OK)
            return; /* the reloader answers and closes fd when the new policy is in force */
        snprintf(msg, sizeof msg, "error: too many reloads waiting; try again");
        reply = msg;
    } else if (nw == 1 && strcmp(w[0], "reopen") == 0) {
        swd_info("admin", "reopen requested by %s", who);
        (void)swd_events_reopen(d, msg, sizeof msg);
        reply = msg;
    } else if (nw == 1 && strcmp(w[0], "stats") == 0) {
        reply = swd_stats_json(d);
    } else if ((nw == 1 || nw == 2) && strcmp(w[0], "blocks") == 0) {
        char *end = NULL;
        unsigned long lim = nw == 2 ? strtoul(w[1], &end, 10) : SWD_BLOCKS_LIST_DEFAULT;
        if (nw == 2 && (!*w[1] || *end || lim == 0 || lim > SWD_BLOCKS_LIST_MAX)) {
            snprintf(msg, sizeof msg, "error: blocks [LIMIT]: LIMIT is 1..%d", SWD_BLOCKS_LIST_MAX);
            reply = msg;
        } else {
            reply = swd_blocks_json(d, lim);
            if (!reply) {
                snprintf(msg, sizeof msg, "error: out of memory");
                reply = msg;
            }
        }
    } else if (nw == 3 && strcmp(w[0], "unblock") == 0) {
        (void)swd_unblock(d, w[1], w[2], who, from, msg, sizeof msg);
        reply = msg;
    } else if (nw >= 4 && strcmp(w[0], "block") == 0) {
        char *end = NULL;
        long long secs = strtoll(w[3], &end, 10);
        if (!*w[3] || *end) {
            snprintf(msg, sizeof msg, "error: block KIND KEY SECONDS [REASON]: SECONDS is a number");
        } else {
            (void)swd_block_add(d, w[1], w[2], secs, nw == 5 ? w[4] : "", who, from, msg, sizeof msg);
        }
        reply = msg;
    } else if (nw == 1 && strcmp(w[0], "metrics") == 0) { /* the Prometheus text (docs/metrics.md) */
        size_t len;
        reply = swd_metrics_text(d, &len);
        if (reply && len && reply[len - 1] == '\n')
            reply[len - 1] = '\0'; /* the newline reply_text adds ends it */
        if (!reply) {
            snprintf(msg, sizeof msg, "error: out of memory for the metrics");
            reply = msg;
        }
    } else if (nw == 1 && strcmp(w[0], "health") == 0) {
        char *j = NULL;
        int ok = swd_health(d, &j);
        snprintf(msg, sizeof msg, "%s %s", ok ? "ok" : "error: unhealthy", j ? j : "{}");
        free(j);
        reply = msg;
#ifdef SWD_TEST_HOOKS
    } else if (nw == 3 && strcmp(w[0], "debug-stall") == 0) {
        /* test builds only: worker W sleeps MS ms once (a stuck worker for /health) */
        unsigned wk = 0, ms = 0;
        if (sscanf(w[1], "%u", &wk) == 1 && sscanf(w[2], "%u", &ms) == 1 && wk < d->nworkers &&
            ms <= 60000) {
            atomic_store(&d->workers[wk]->m.stall_ms, (int64_t)ms);
            swd_workers_wake(d);
            snprintf(msg, sizeof msg, "ok worker %u stalls %u ms", wk, ms);
        } else {
            snprintf(msg, sizeof msg, "error: debug-stall WORKER MS (MS <= 60000)");
        }
        reply = msg;
#endif
    } else if (nw >= 1 && strcmp(w[0], "intel") == 0) {
        /* intel [LIMIT] | intel show ID | intel revoke ID | intel take PATH */
        char *end = NULL;
        if (nw == 3 && strcmp(w[1], "show") == 0) {
            reply = swd_intel_show_json(d, w[2], msg, sizeof msg);
        } else if (nw == 3 && strcmp(w[1], "revoke") == 0) {
            (void)swd_intel_revoke(d, w[2], who, from, msg, sizeof msg);
        } else if (nw == 2 && strcmp(w[1], "pulls") == 0) {
            /* the intel-pull collections and their counters (daemon/pull.c) */
            if (!(reply = swd_pull_json(d)))
                snprintf(msg, sizeof msg, "error: out of memory");
        } else if (nw == 2 && strcmp(w[1], "pushes") == 0) {
            /* the intel-push receivers and their queues (daemon/push.c) */
            if (!(reply = swd_push_json(d)))
                snprintf(msg, sizeof msg, "error: out of memory");
        } else if (nw == 3 && strcmp(w[1], "publish") == 0 && !(from && from->family)) {
            /* the local socket only: signed objects of ours, pushed to partners */
            reply = swd_push_publish_file(d, w[2], msg, sizeof msg);
        } else if (nw == 3 && strcmp(w[1], "take") == 0 && !(from && from->family)) {
            /* the local socket only: a path on this host */
            reply = swd_intel_take_file(d, w[2], who, msg, sizeof msg);
        } else if (nw <= 2) {
            unsigned long lim = nw == 2 ? strtoul(w[1], &end, 10) : SWD_BLOCKS_LIST_DEFAULT;
            if (nw == 2 && (!*w[1] || *end || lim == 0 || lim > SWD_BLOCKS_LIST_MAX))
                snprintf(msg, sizeof msg, "error: intel [LIMIT]: LIMIT is 1..%d", SWD_BLOCKS_LIST_MAX);
            else if (!(reply = swd_intel_list_json(d, lim)))
                snprintf(msg, sizeof msg, "error: out of memory");
        } else {
            snprintf(msg, sizeof msg, "error: intel [LIMIT] | intel show ID | intel revoke ID | intel take PATH | "
                                      "intel publish PATH | intel pulls | intel pushes");
        }
        if (!reply)
            reply = msg;
    } else if (nw == 3 && strcmp(w[0], "exchange") == 0 && strcmp(w[1], "revoke") == 0) {
        /* exchange revoke ID: withdraw one of our published indicators */
        (void)swd_publish_revoke(d, w[2], who, from, msg, sizeof msg);
        reply = msg;
    } else if (nw == 1 && strcmp(w[0], "partners") == 0) {
        reply = swd_partners_json(d);
        if (!reply) {
            snprintf(msg, sizeof msg, "error: out of memory");
            reply = msg;
        }
    } else {
        snprintf(msg, sizeof msg,
                 "error: unknown command (reload, reopen, stats, blocks [LIMIT], "
                 "block KIND KEY SECONDS [REASON], unblock KIND KEY, partners, metrics, health, "
                 "intel [LIMIT|show ID|revoke ID|take PATH|publish PATH|pulls|pushes], exchange revoke ID)");
        reply = msg;
    }
    reply_text(fd, reply);
    if (reply != msg)
        free(reply);
    close(fd);
}

void swd_admin_serve(swd_daemon *d, int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    char cmd[1024];
    read_lines(fd, cmd, sizeof cmd, 1);
    cmd[strcspn(cmd, "\r\n")] = '\0';
    serve_cmd(d, fd, cmd, "ctl (local socket)", NULL);
}

void swd_admin_serve_api(swd_daemon *d, int fd)
{
    /* "WHO\nFROM\nCOMMAND\n", written by the API thread before it handed fd over */
    char buf[2048];
    read_lines(fd, buf, sizeof buf, 3);
    char *who = buf, *fromtxt = NULL, *cmd = NULL;
    char *nl = strchr(who, '\n');
    if (nl) {
        *nl = '\0';
        fromtxt = nl + 1;
        nl = strchr(fromtxt, '\n');
    }
    if (nl) {
        *nl = '\0';
        cmd = nl + 1;
        cmd[strcspn(cmd, "\r\n")] = '\0';
    }
    if (!cmd) {
        reply_text(fd, "error: malformed internal request");
        close(fd);
        return;
    }
    sw_addr from;
    memset(&from, 0, sizeof from);
    if (sw_addr_parse(fromtxt, &from) != SW_OK)
        memset(&from, 0, sizeof from);
    serve_cmd(d, fd, cmd, who, &from);
}

int swd_admin_client(const char *conf_path, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: sipwalld -c FILE ctl reload|reopen|stats|blocks [LIMIT]|"
                        "block KIND KEY SECONDS [REASON]|unblock KIND KEY|partners|metrics|health\n");
        return 2;
    }
    char line[1024];
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]);
        if (strchr(argv[i], '\n') || at + len + 2 > sizeof line) {
            fprintf(stderr, "sipwalld: ctl: command too long or has a newline\n");
            return 2;
        }
        if (i)
            line[at++] = ' ';
        memcpy(line + at, argv[i], len);
        at += len;
    }
    line[at] = '\0';
    swd_config cfg;
    char err[1024];
    memset(&cfg, 0, sizeof cfg);
    if (swd_config_load(conf_path, &cfg, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sipwalld: %s\n", err);
        return 1;
    }
    if (!cfg.admin) {
        fprintf(stderr, "sipwalld: %s has no admin socket configured\n", conf_path);
        swd_config_free(&cfg);
        return 1;
    }
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sun_of(cfg.admin, &sa) != SW_OK ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "sipwalld: cannot reach %s: %s\n", cfg.admin, strerror(errno));
        if (fd >= 0)
            close(fd);
        swd_config_free(&cfg);
        return 1;
    }
    swd_config_free(&cfg);
    dprintf(fd, "%s\n", line);
    shutdown(fd, SHUT_WR);
    /* a block list may be large: read it all (64 MiB at most) */
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf) {
        fprintf(stderr, "sipwalld: out of memory\n");
        return 1;
    }
    buf[n] = '\0';
    fputs(buf, stdout);
    int rc = strncmp(buf, "ok", 2) == 0 || buf[0] == '{' || buf[0] == '[' ||
             strncmp(buf, "# ", 2) == 0 ? 0 : 1;
    free(buf);
    return rc;
}
