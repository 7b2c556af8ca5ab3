/* sipwalld — the inline SIP firewall and passive sensor.
 *
 *   sipwalld -c FILE                 run (foreground; systemd supervises)
 *   sipwalld -c FILE --check-config  validate the config, the policy and
 *                                    what start needs (startcheck.c)
 *   sipwalld -c FILE ctl COMMAND     talk to the running daemon's admin
 *                                    socket: reload | reopen | stats
 *
 * Start-up order: config -> start checks (startcheck.c: another instance,
 * directories, accounts, fd limit) -> secret -> policy (and its engine
 * memory) -> sockets -> pid file -> privilege drop -> workers.  Everything
 * that needs privileges (ports below 1024, raw capture, the secret file)
 * happens before the drop. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/admin.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/publish.h"
#include "daemon/metrics.h"
#include "daemon/reload.h"
#include "daemon/startcheck.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: sipwalld -c FILE [--check-config]\n"
               "       sipwalld -c FILE ctl reload|reopen|stats|metrics|health\n"
               "       sipwalld --version\n"
               "Runs sipwall's inline SIP firewall / passive sensor (docs/sipwalld.md).\n");
}

static int setup_ifaces(swd_daemon *d, char *err, size_t errlen)
{
    const swd_config *cfg = d->cfg;
    for (unsigned i = 0; i < cfg->nlistens; i++) {
        const swd_listen *l = &cfg->listens[i];
        d->ifaces[i].transport = l->transport;
        d->ifaces[i].side = l->side;
        d->ifaces[i].addr = l->has_advertise ? l->advertise : l->addr;
        if (l->transport == SW_TRANSPORT_TLS) {
            d->tls_server[i] = sw_tls_server_ctx(l->cert, l->key, l->ca, (sw_tls_verify)l->verify, err,
                                                 errlen);
            if (!d->tls_server[i])
                return SW_EINVAL;
        }
    }
    for (unsigned i = 0; i < cfg->nheps; i++) { /* hep tls: HEP3 over TLS */
        const swd_hep *h = &cfg->heps[i];
        if (h->tls && !(d->hep_tls[i] = sw_tls_server_ctx(h->cert, h->key, h->ca, (sw_tls_verify)h->verify,
                                                          err, errlen)))
            return SW_EINVAL;
    }
    int need_client = cfg->tls_client_cert || cfg->tls_client_ca;
    for (unsigned i = 0; i < cfg->nforward; i++)
        need_client |= cfg->forward[i].transport == SW_TRANSPORT_TLS;
    for (unsigned r = 0; r < cfg->nroutes; r++)
        for (unsigned i = 0; i < cfg->routes[r].nhops; i++)
            need_client |= cfg->routes[r].hops[i].transport == SW_TRANSPORT_TLS;
    if (need_client) {
        d->tls_client = sw_tls_client_ctx(cfg->tls_client_cert, cfg->tls_client_key, cfg->tls_client_ca,
                                          cfg->tls_client_ca ? (sw_tls_verify)cfg->tls_client_verify
                                                             : SW_TLS_VERIFY_NONE,
                                          err, errlen);
        if (!d->tls_client)
            return SW_EINVAL;
        if (!cfg->tls_client_ca)
            swd_warn("main", "outgoing TLS without tls-client ca=: next hops' certificates are not verified");
    }
    return SW_OK;
}

static int drop_privileges(const swd_config *cfg, char *err, size_t errlen)
{
    swd_caps_bound_drop(); /* no capability can come back (daemon/privs.c) */
    if (!cfg->user) /* root without any capability, no_new_privs, not dumpable */
        return swd_caps_clear(err, errlen);
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        snprintf(err, errlen, "user %s does not exist", cfg->user);
        return SW_EINVAL;
    }
    gid_t gid = pw->pw_gid;
    if (cfg->group) {
        struct group *gr = getgrnam(cfg->group);
        if (!gr) {
            snprintf(err, errlen, "group %s does not exist", cfg->group);
            return SW_EINVAL;
        }
        gid = gr->gr_gid;
    }
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: %s", cfg->user, strerror(errno));
        return SW_EIO;
    }
    if (setuid(0) == 0) { /* must not be able to get root back */
        snprintf(err, errlen, "privileges were not dropped");
        return SW_EIO;
    }
    if (swd_caps_clear(err, errlen) != SW_OK) /* also no_new_privs, no core dumps */
        return SW_EIO;
    swd_info("main", "running as %s (uid %u, gid %u)", cfg->user, (unsigned)pw->pw_uid, (unsigned)gid);
    return SW_OK;
}

/* The security events of a start: what the process holds after the drop
 * (type privilege, rule sipwall.privileges) and the policy generation in
 * force with its hash (admin_change, rule config.start), the baseline the
 * config.reload events continue. */
static void start_events(swd_daemon *d)
{
    char what[300], detail[500];
    int kept;
    swd_privs_describe(what, sizeof what, &kept);
    snprintf(detail, sizeof detail, "privileges dropped%s%s: %d capabilit%s kept; %s",
             d->cfg->user ? " to user " : " (no user configured: root without capabilities)",
             d->cfg->user ? d->cfg->user : "", kept, kept == 1 ? "y" : "ies", what);
    swd_audit(d, SW_EVT_PRIVILEGE, "sipwall.privileges", d->cfg->user ? d->cfg->user : "root", NULL,
              "privilege drop", detail);
    const swd_policy_gen *g = atomic_load(&d->policy);
    char hx[65];
    swd_sha256_hex(g->policy->sha256, hx);
    snprintf(detail, sizeof detail, "started with policy generation %llu (sha256 %s)%s%s",
             (unsigned long long)g->gen, hx, d->cfg->bundle ? " from the bundle " : "",
             d->cfg->bundle ? d->cfg->bundle : "");
    swd_audit(d, SW_EVT_ADMIN_CHANGE, "config.start", "sipwalld", NULL, "policy", detail);
}

/* A start that a key check refused (a key file's owner or mode, a weak
 * or placeholder key): besides the message on stderr and in the log, an
 * integrity_failure event (rule sipwall.start.refused) in the event store
 * when one is configured, so that the refusal reaches the SIEM with the
 * next export.  The message names the file and the line, never a secret.
 * Other refusals (a busy port, a missing directory) are not security
 * events and stay in the log. */
static void start_refused(swd_daemon *d, const char *why)
{
    char e2[512];
    if (swd_check_secrets(d->cfg, e2, sizeof e2) == SW_OK)
        return; /* not a key refusal */
    if ((!d->cfg->events && !d->cfg->events_db) || swd_events_open(d, e2, sizeof e2) != SW_OK)
        return;
    swd_audit(d, SW_EVT_INTEGRITY_FAILURE, "sipwall.start.refused", "sipwalld", NULL, "start", why);
}

/* ---- start-up checks and run-time files ---------------------------------------------------- */

/* What must hold before anything is opened (shared with --check-config,
 * src/daemon/startcheck.c): no other sipwalld on the pid file or the admin
 * socket (stale ones are replaced), the files' directories, accounts and
 * keys, and file descriptors for max-connections (the soft limit is raised
 * up to the hard one). */
static int start_checks(const swd_config *cfg, unsigned nworkers, char *err, size_t errlen)
{
    long other;
    int rc = SW_OK;
    if (cfg->pid_file)
        rc = swd_check_pid_file(cfg->pid_file, &other, err, errlen);
    if (rc == SW_OK && cfg->admin)
        rc = swd_check_admin_socket(cfg->admin, SWD_CHECK_START, err, errlen);
    if (rc == SW_OK)
        rc = swd_check_environment(cfg, SWD_CHECK_START, err, errlen);
    if (rc == SW_OK)
        rc = swd_check_fd_limit(cfg, nworkers, SWD_CHECK_START, NULL, 0, err, errlen);
    char note[512];
    if (rc == SW_OK && swd_check_conn_memory(cfg, nworkers, note, sizeof note))
        swd_warn("main", "%s", note + 9); /* without "warning: " */
    return rc;
}

/* Removes the pid file or the admin socket at stop.  After the privilege
 * drop this needs the directory to be writable by the user (the unit's
 * RuntimeDirectory is; systemd also removes it): otherwise say so. */
static void remove_runtime_file(const char *what, const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        swd_warn("main", "cannot remove the %s %s: %s (the next start replaces it)", what, path,
                 strerror(errno));
}

/* ---- the control loop ------------------------------------------------------------------ */

static int control_loop(swd_daemon *d, int sigfd, int admin_fd)
{
    int64_t last_tick = swd_now_ns();
    while (!atomic_load(&d->stop)) {
        /* the admin socket comes last: without one, poll skips it; the
         * admin API's hand-over is -1 (ignored by poll) without an API */
        struct pollfd pf[5] = {{sigfd, POLLIN, 0},
                               {swd_reloader_fd(d->reloader), POLLIN, 0},
                               {swd_api_fd(d), POLLIN, 0},
                               {admin_fd, POLLIN, 0},
                               {swd_pull_fd(d), POLLIN, 0}}; /* -1 (ignored) without intel-pull */
        int n = poll(pf, 5, swd_reloader_poll_ms(d->reloader, 1000));
        swd_reloader_poll(d->reloader);
        if (n > 0 && (pf[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                    char msg[600];
                    swd_info("main", "SIGHUP: reloading the policy, reopening the log and events files");
                    (void)swd_events_reopen(d, msg, sizeof msg);
                    (void)swd_reloader_request(d->reloader, -1);
                } else {
                    swd_info("main", "signal %u: stopping", si.ssi_signo);
                    atomic_store(&d->stop, 1);
                }
            }
        }
        if (n > 0 && (pf[2].revents & POLLIN))
            swd_api_poll(d);
        if (n > 0 && admin_fd >= 0 && (pf[3].revents & POLLIN))
            swd_admin_serve(d, admin_fd);
        if (n > 0 && (pf[4].revents & POLLIN))
            swd_pull_poll(d); /* a pulled TAXII page to verify and apply */
        int64_t now = swd_now_ns();
        if (now - last_tick >= 1000000000) {
            swd_events_tick(d);
            swd_intel_tick(d);
            last_tick = now;
        }
    }
    return SW_OK;
}

static int run(const char *path)
{
    swd_config cfg;
    char err[1024];
    memset(&cfg, 0, sizeof cfg);
    if (swd_config_load(path, &cfg, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sipwalld: %s\n", err);
        return 1;
    }
    if (swd_log_open(cfg.log, cfg.log_level, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sipwalld: %s\n", err);
        swd_config_free(&cfg);
        return 1;
    }
    swd_daemon *d = calloc(1, sizeof *d);
    if (!d) {
        swd_config_free(&cfg);
        return 1;
    }
    d->cfg = &cfg;
    d->started_ns = swd_now_ns();
    d->nworkers = swd_worker_count(&cfg);
    int rc = 1, sigfd = -1, admin_fd = -1, wrote_pid = 0;
    swd_metrics_http *metrics_http = NULL; /* metrics listen (daemon/metrics.c) */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    /* blocked before the workers start, so they inherit the mask and every
     * signal comes to the control loop */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    swd_info("main", "sipwalld %s starting: mode=%s workers=%u config=%s", swd_version(),
             swd_mode_name(cfg.mode), d->nworkers, path);
    if (start_checks(&cfg, d->nworkers, err, sizeof err) != SW_OK) {
        start_refused(d, err);
        goto out;
    }
    if (cfg.secret_path &&
        swd_secret_load_or_create(cfg.secret_path, d->secret, err, sizeof err) != SW_OK)
        goto out;
    swd_policy_gen *g = swd_policy_gen_load_d(d, 1, 1, err, sizeof err);
    if (!g)
        goto out;
    atomic_store(&d->policy, g);
    /* the memory check first: the shared store is sized by the same limits */
    if (swd_check_engine_memory(g->policy, d->nworkers, NULL, err, sizeof err) != SW_OK)
        goto out;
    if (swd_state_open(d, swd_state_capacity(g->policy), err, sizeof err) != SW_OK)
        goto out;
    if (!(d->reloader = swd_reloader_new(d, 1))) {
        snprintf(err, sizeof err, "reloader: %s", strerror(errno));
        goto out;
    }
    if (setup_ifaces(d, err, sizeof err) != SW_OK || swd_events_open(d, err, sizeof err) != SW_OK ||
        swd_workers_create(d, err, sizeof err) != SW_OK)
        goto out;
    swd_bundle_flush_events(d); /* a bundle refused or warned about at start */
    /* exporters' certificates are read while we may still read them */
    if (swd_exports_create(d, err, sizeof err) != SW_OK)
        goto out;
    if (cfg.admin && (admin_fd = swd_admin_listen(cfg.admin, err, sizeof err)) < 0)
        goto out;
    if (swd_publish_open(d, err, sizeof err) != SW_OK) /* the TAXII store, before the API mounts it */
        goto out;
    if (swd_api_create(d, err, sizeof err) != SW_OK) /* binds and reads its files as root */
        goto out;
    if (swd_intel_open(d, err, sizeof err) != SW_OK) /* reads the trust file and keys as root */
        goto out;
    if (swd_pull_open(d, err, sizeof err) != SW_OK) /* intel-pull: credentials and TLS files as root */
        goto out;
    if (swd_push_open(d, err, sizeof err) != SW_OK) /* intel-push: the same */
        goto out;
    if (cfg.pid_file) {
        if (swd_pid_file_write(cfg.pid_file, err, sizeof err) != SW_OK)
            goto out;
        wrote_pid = 1;
    }
    if (drop_privileges(&cfg, err, sizeof err) != SW_OK)
        goto out;
    if ((sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
        snprintf(err, sizeof err, "signalfd: %s", strerror(errno));
        goto out;
    }
    if (swd_workers_start(d, err, sizeof err) != SW_OK)
        goto out;
    if (swd_exports_start(d, err, sizeof err) != SW_OK)
        goto out;
    if (cfg.has_metrics && !(metrics_http = swd_metrics_http_start(d, err, sizeof err)))
        goto out;
    if (swd_api_start(d, err, sizeof err) != SW_OK)
        goto out;
    if (swd_publish_start(d, err, sizeof err) != SW_OK)
        goto out;
    if (swd_pull_start(d, err, sizeof err) != SW_OK)
        goto out;
    if (swd_push_start(d, err, sizeof err) != SW_OK)
        goto out;
    swd_warn_plain_listeners(d); /* insecure=yes listeners: a warning event each */
    start_events(d);
    swd_info("main", "ready: %u listeners, %u forward hops, %u routes, %u captures, %u HEP inputs, policy %s",
             cfg.nlistens, cfg.nforward, cfg.nroutes, cfg.ncaptures, cfg.nheps,
             g->policy->name ? g->policy->name : "unnamed");
    control_loop(d, sigfd, admin_fd);
    swd_workers_wake(d);
    swd_workers_join(d);
    rc = 0;
    err[0] = '\0';
out:
    if (rc)
        swd_err("main", "%s", err);
    swd_metrics_http_stop(metrics_http); /* it reads the workers: stopped before they go */
    atomic_store(&d->stop, 1);
    swd_api_free(d); /* its thread first: it hands commands to the control loop */
    swd_publish_close(d); /* after the API: it served the TAXII store */
    swd_pull_close(d); /* the same: it hands pages to the control loop */
    swd_push_close(d);
    swd_workers_join(d);
    /* a reload still compiling cannot be interrupted: the process ends
     * without it once everything else is closed (see below) */
    int abandoned = swd_reloader_free(d->reloader);
    d->reloader = NULL;
    if (rc == 0) {
        swd_counters c;
        sw_engine_stats es;
        uint64_t conns;
        swd_workers_stats(d, &c, &es, &conns);
        swd_info("main", "stopped: messages=%llu forwarded=%llu replies=%llu dropped=%llu events=%llu",
                 (unsigned long long)es.messages,
                 (unsigned long long)(c.requests_forwarded + c.responses_forwarded),
                 (unsigned long long)c.replies, (unsigned long long)(c.dropped_policy + c.dropped_proxy),
                 (unsigned long long)es.events);
    }
    swd_workers_free(d);
    if (admin_fd >= 0) {
        close(admin_fd);
        remove_runtime_file("admin socket", cfg.admin);
    }
    if (sigfd >= 0)
        close(sigfd);
    swd_events_close(d); /* drains the queues: every accepted event is written */
    swd_exports_free(d); /* last: the exporters' cursors are saved; the rest goes out at the next start */
    for (unsigned i = 0; i < SWD_MAX_LISTENS; i++)
        sw_tls_ctx_free(d->tls_server[i]);
    sw_tls_ctx_free(d->tls_client);
    for (unsigned i = 0; i < SWD_MAX_HEPS; i++)
        sw_tls_ctx_free(d->hep_tls[i]);
    swd_intel_close(d); /* its engine borrows the policy and the store */
    swd_policy_gen_free(atomic_load(&d->policy));
    swd_state_close(d);
    if (wrote_pid)
        remove_runtime_file("pid file", cfg.pid_file);
    explicit_bzero(d->secret, sizeof d->secret); /* a memset before free() may be elided */
    if (abandoned) { /* the compile thread still reads cfg and d */
        swd_log_close();
        _exit(rc);
    }
    free(d);
    swd_config_free(&cfg);
    swd_log_close();
    return rc;
}

/* --check-config: what start checks, without changing anything (the same
 * functions, src/daemon/startcheck.c), plus a bind of every address and
 * the TLS pairs, which start does for real.  A sipwalld already running on
 * this config is a note, not an error: its addresses are then not bound. */
static int check_config(const char *path)
{
    swd_config cfg;
    char err[1024], note[512];
    memset(&cfg, 0, sizeof cfg);
    if (swd_config_load(path, &cfg, err, sizeof err) != SW_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    (void)swd_log_open("stderr", SWD_LOG_WARN, err, sizeof err);
    unsigned nworkers = swd_worker_count(&cfg);
    long running = 0;
    int rc = SW_OK;
    if (cfg.pid_file && swd_check_pid_file(cfg.pid_file, &running, err, sizeof err) != SW_OK)
        printf("note: %s; start refuses while it runs\n", err);
    if (cfg.admin) {
        rc = swd_check_admin_socket(cfg.admin, SWD_CHECK_ONLY, err, sizeof err);
        if (rc == SW_ECONFLICT) {
            printf("note: %s; start refuses while it runs\n", err);
            running = running ? running : -1;
            rc = SW_OK;
        }
    }
    if (rc == SW_OK)
        rc = swd_check_environment(&cfg, SWD_CHECK_ONLY, err, sizeof err);
    if (rc == SW_OK)
        rc = swd_events_check(&cfg, err, sizeof err); /* what opening the event files would refuse */
    if (rc == SW_OK && !running)
        rc = swd_check_binds(&cfg, err, sizeof err);
    if (rc == SW_OK)
        rc = swd_check_fd_limit(&cfg, nworkers, SWD_CHECK_ONLY, note, sizeof note, err, sizeof err);
    if (rc != SW_OK) {
        fprintf(stderr, "%s\n", err);
        swd_config_free(&cfg);
        return 1;
    }
    if (note[0])
        printf("%s\n", note);
    if (swd_check_conn_memory(&cfg, nworkers, note, sizeof note))
        printf("%s\n", note);
    swd_policy_gen *g = swd_policy_gen_load(&cfg, 1, 1, err, sizeof err);
    uint64_t mem = 0;
    if (!g || swd_check_engine_memory(g->policy, nworkers, &mem, err, sizeof err) != SW_OK) {
        fprintf(stderr, "%s: %s\n", path, err);
        swd_policy_gen_free(g);
        swd_config_free(&cfg);
        return 1;
    }
    if (!g->policy->core)
        printf("warning: the policy has no partner with role core: traffic from the operator's "
               "own side (IBCF/SBC) counts as ingress from the unknown zone (which the default "
               "policy does not admit); add partner NAME { role core; address ... }\n");
    {
        /* exporters: their certificates and keys must load, as at start */
        swd_daemon *xd = calloc(1, sizeof *xd);
        int xr = xd ? (xd->cfg = &cfg, swd_exports_create(xd, err, sizeof err)) : SW_ENOMEM;
        if (xd)
            swd_exports_free(xd);
        free(xd);
        if (xr != SW_OK) {
            fprintf(stderr, "%s\n", xr == SW_ENOMEM ? "out of memory" : err);
            swd_policy_gen_free(g);
            swd_config_free(&cfg);
            return 1;
        }
    }
    if (cfg.api.on) {
        /* the admin API's certificate and key must load, as at start */
        char why[512];
        SSL_CTX *x = sw_tls_server_ctx(cfg.api.cert, cfg.api.key, cfg.api.client_ca,
                                       cfg.api.client_ca ? SW_TLS_VERIFY_REQUIRED : SW_TLS_VERIFY_NONE, why,
                                       sizeof why);
        if (!x) {
            fprintf(stderr, "%s:%d: admin-api: %s\n", path, cfg.api.line, why);
            swd_policy_gen_free(g);
            swd_config_free(&cfg);
            return 1;
        }
        sw_tls_ctx_free(x);
    }
    printf("%s: ok — mode %s, %u listeners, %u forward hops, %u routes, %u captures, %u HEP inputs; "
           "policy %s with %u rules; %u workers, about %llu MiB of engine state, %llu file descriptors\n",
           path, swd_mode_name(cfg.mode), cfg.nlistens, cfg.nforward, cfg.nroutes, cfg.ncaptures,
           cfg.nheps, g->policy->name ? g->policy->name : "unnamed", g->policy->nrules, nworkers,
           (unsigned long long)(mem >> 20), (unsigned long long)swd_fd_need(&cfg, nworkers));
    swd_policy_gen_free(g);
    swd_config_free(&cfg);
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    int check = 0;
    int i = 1;
    for (; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            conf = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("sipwalld %s\n", swd_version());
            return 0;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "ctl") == 0) {
            break;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!conf) {
        usage(stderr);
        return 2;
    }
    if (i < argc) /* ctl */
        return swd_admin_client(conf, argc - i - 1, argv + i + 1);
    return check ? check_config(conf) : run(conf);
}
