/* The admin socket and `sipwalld ctl` (daemon/admin.h). */

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
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

void swd_admin_serve(swd_daemon *d, int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    char cmd[128];
    size_t n = 0;
    int64_t deadline = swd_now_ns() + 1000000000;
    while (n < sizeof cmd - 1 && !memchr(cmd, '\n', n)) {
        int64_t left = (deadline - swd_now_ns()) / 1000000;
        struct pollfd pf = {fd, POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            break;
        ssize_t r = read(fd, cmd + n, sizeof cmd - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    cmd[n] = '\0';
    cmd[strcspn(cmd, "\r\n")] = '\0';
    char msg[700];
    char *reply = NULL;
    if (strcmp(cmd, "reload") == 0) {
        swd_info("admin", "reload requested on the admin socket");
        if (swd_reloader_request(d->reloader, fd) == SW_OK)
            return; /* the reloader answers and closes fd when the new policy is in force */
        snprintf(msg, sizeof msg, "error: too many reloads waiting; try again");
        reply = msg;
    } else if (strcmp(cmd, "reopen") == 0) {
        swd_info("admin", "reopen requested on the admin socket");
        (void)swd_events_reopen(d, msg, sizeof msg);
        reply = msg;
    } else if (strcmp(cmd, "stats") == 0) {
        reply = swd_stats_json(d);
    } else {
        snprintf(msg, sizeof msg, "error: unknown command (reload, reopen, stats)");
        reply = msg;
    }
    if (reply) {
        size_t len = strlen(reply);
        ssize_t w1 = write(fd, reply, len);
        ssize_t w2 = write(fd, "\n", 1);
        (void)w1;
        (void)w2;
        if (reply != msg)
            free(reply);
    }
    close(fd);
}

int swd_admin_client(const char *conf_path, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: sipwalld -c FILE ctl reload|reopen|stats\n");
        return 2;
    }
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
    dprintf(fd, "%s\n", argv[0]);
    shutdown(fd, SHUT_WR);
    char buf[65536];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0 || (n += (size_t)r) == sizeof buf - 1)
            break;
    }
    close(fd);
    buf[n] = '\0';
    fputs(buf, stdout);
    return strncmp(buf, "ok", 2) == 0 || buf[0] == '{' ? 0 : 1;
}
