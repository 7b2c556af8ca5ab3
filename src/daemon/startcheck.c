/* Start-time checks shared by the daemon and --check-config
 * (daemon/startcheck.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


#include "daemon/daemon.h"
#include "daemon/startcheck.h"

#define FD_RESERVE 64 /* files, the admin socket and its clients, syslog, signalfd … */
#define FD_PER_WORKER 2 /* epoll, eventfd */

unsigned swd_worker_count(const swd_config *cfg)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cfg->workers ? cfg->workers : (unsigned)(ncpu > 0 ? ncpu : 1);
    return n > SWD_MAX_WORKERS ? SWD_MAX_WORKERS : n;
}

/* ---- files and directories ------------------------------------------------------ */

/* The directory part of path ("." when there is none) into buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == path)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

static int check_dir(const swd_config *cfg, const char *what, const char *path, char *err,
                     size_t errlen)
{
    char dir[PATH_MAX];
    dir_of(path, dir, sizeof dir);
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: %s %s: directory %s: %s", cfg->path, what, path, dir, strerror(errno));
        return SW_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s %s: %s is not a directory", cfg->path, what, path, dir);
        return SW_EIO;
    }
    return SW_OK;
}

/* A file the daemon appends to (events, log): its directory exists; when
 * the file exists it is a regular file open for appending. */
static int check_append_file(const swd_config *cfg, const char *what, const char *path, char *err,
                             size_t errlen)
{
    int rc = check_dir(cfg, what, path, err, errlen);
    if (rc != SW_OK)
        return rc;
    struct stat st;
    if (lstat(path, &st) != 0)
        return SW_OK; /* created at start */
    if (S_ISLNK(st.st_mode)) { /* R5: never follow a link the service user may have planted */
        snprintf(err, errlen, "%s: %s %s: is a symbolic link; refused (name the file itself)", cfg->path,
                 what, path);
        return SW_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s %s: not a regular file", cfg->path, what, path);
        return SW_EIO;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s %s: %s", cfg->path, what, path, strerror(errno));
        return SW_EIO;
    }
    close(fd);
    return SW_OK;
}

static int check_secret(const swd_config *cfg, swd_check_mode mode, char *err, size_t errlen)
{
    int rc = check_dir(cfg, "secret", cfg->secret_path, err, errlen);
    if (rc != SW_OK)
        return rc;
    struct stat st;
    if (mode == SWD_CHECK_START || lstat(cfg->secret_path, &st) != 0)
        return SW_OK; /* start loads or creates it next, with its own messages */
    uint8_t key[SWD_SECRET_LEN];
    char e2[512];
    rc = swd_secret_load_or_create(cfg->secret_path, key, e2, sizeof e2);
    memset(key, 0, sizeof key);
    if (rc != SW_OK)
        snprintf(err, errlen, "%s: secret: %s", cfg->path, e2);
    return rc;
}

/* ---- accounts, keys, interfaces ------------------------------------------------------- */

static int check_accounts(const swd_config *cfg, char *err, size_t errlen)
{
    if (cfg->user && !getpwnam(cfg->user)) {
        snprintf(err, errlen, "%s: user %s does not exist", cfg->path, cfg->user);
        return SW_EINVAL;
    }
    if (cfg->group && !getgrnam(cfg->group)) {
        snprintf(err, errlen, "%s: group %s does not exist", cfg->path, cfg->group);
        return SW_EINVAL;
    }
    return SW_OK;
}

static int check_heps_and_captures(const swd_config *cfg, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->ncaptures; i++) {
        const swd_capture *c = &cfg->captures[i];
        if (strcmp(c->iface, "any") != 0 && if_nametoindex(c->iface) == 0) {
            snprintf(err, errlen, "%s:%d: capture %s: no such interface", cfg->path, c->line, c->iface);
            return SW_EINVAL;
        }
    }
    return SW_OK;
}

static int check_tls(const swd_config *cfg, char *err, size_t errlen)
{
    char e2[512];
    for (unsigned i = 0; i < cfg->nlistens; i++) {
        const swd_listen *l = &cfg->listens[i];
        if (l->transport != SW_TRANSPORT_TLS)
            continue;
        SSL_CTX *ctx = sw_tls_server_ctx(l->cert, l->key, l->ca, (sw_tls_verify)l->verify, e2, sizeof e2);
        if (!ctx) {
            snprintf(err, errlen, "%s:%d: listen tls: %s", cfg->path, l->line, e2);
            return SW_EINVAL;
        }
        sw_tls_ctx_free(ctx);
    }
    for (unsigned i = 0; i < cfg->nheps; i++) {
        const swd_hep *h = &cfg->heps[i];
        if (!h->tls)
            continue;
        SSL_CTX *ctx = sw_tls_server_ctx(h->cert, h->key, h->ca, (sw_tls_verify)h->verify, e2, sizeof e2);
        if (!ctx) {
            snprintf(err, errlen, "%s:%d: hep tls: %s", cfg->path, h->line, e2);
            return SW_EINVAL;
        }
        sw_tls_ctx_free(ctx);
    }
    if (cfg->tls_client_cert || cfg->tls_client_ca) {
        SSL_CTX *ctx = sw_tls_client_ctx(cfg->tls_client_cert, cfg->tls_client_key, cfg->tls_client_ca,
                                         cfg->tls_client_ca ? (sw_tls_verify)cfg->tls_client_verify
                                                            : SW_TLS_VERIFY_NONE,
                                         e2, sizeof e2);
        if (!ctx) {
            snprintf(err, errlen, "%s: tls-client: %s", cfg->path, e2);
            return SW_EINVAL;
        }
        sw_tls_ctx_free(ctx);
    }
    return SW_OK;
}

/* Binds once (as a worker would: SO_REUSEPORT) and closes. */
static int try_bind(const swd_config *cfg, int line, const char *what, sw_transport t,
                    const sw_addr *a, char *err, size_t errlen)
{
    sw_sock_opts o = {.reuseport = 1, .backlog = 1};
    char e2[256];
    int fd = t == SW_TRANSPORT_UDP ? sw_sock_udp(a, &o, e2, sizeof e2)
                                   : sw_sock_tcp_listen(a, &o, e2, sizeof e2);
    if (fd < 0) {
        snprintf(err, errlen, "%s:%d: %s: %s", cfg->path, line, what, e2);
        return SW_EIO;
    }
    close(fd);
    return SW_OK;
}

int swd_check_binds(const swd_config *cfg, char *err, size_t errlen)
{
    for (unsigned i = 0; i < cfg->nlistens; i++) {
        const swd_listen *l = &cfg->listens[i];
        int rc = try_bind(cfg, l->line, "listen", l->transport, &l->addr, err, errlen);
        if (rc != SW_OK)
            return rc;
    }
    for (unsigned i = 0; i < cfg->nheps; i++) {
        const swd_hep *h = &cfg->heps[i];
        int rc = try_bind(cfg, h->line, "hep", h->transport, &h->addr, err, errlen);
        if (rc != SW_OK)
            return rc;
    }
    if (cfg->has_metrics) /* the HTTP listener (daemon/metrics.c) */
        return try_bind(cfg, cfg->metrics_line, "metrics listen", SW_TRANSPORT_TCP, &cfg->metrics_addr,
                        err, errlen);
    return SW_OK;
}

int swd_check_environment(const swd_config *cfg, swd_check_mode mode, char *err, size_t errlen)
{
    int rc = SW_OK;
    if (cfg->events)
        rc = check_append_file(cfg, "events", cfg->events, err, errlen);
    if (rc == SW_OK && cfg->log && strcmp(cfg->log, "stderr") != 0 && strcmp(cfg->log, "syslog") != 0)
        rc = check_append_file(cfg, "log", cfg->log, err, errlen);
    if (rc == SW_OK && cfg->pid_file)
        rc = check_dir(cfg, "pid-file", cfg->pid_file, err, errlen);
    if (rc == SW_OK && cfg->admin)
        rc = check_dir(cfg, "admin", cfg->admin, err, errlen);
    if (rc == SW_OK && cfg->secret_path)
        rc = check_secret(cfg, mode, err, errlen);
    if (rc == SW_OK)
        rc = check_accounts(cfg, err, errlen);
    if (rc == SW_OK)
        rc = swd_check_secrets(cfg, err, errlen);
    if (rc == SW_OK)
        rc = check_heps_and_captures(cfg, err, errlen);
    if (rc == SW_OK && mode == SWD_CHECK_ONLY)
        rc = check_tls(cfg, err, errlen);
    return rc;
}

/* ---- file descriptors ------------------------------------------------------------------- */

uint64_t swd_fd_need(const swd_config *cfg, unsigned nworkers)
{
    if (nworkers == 0)
        nworkers = 1;
    /* conn.c: each worker gets max-connections / workers slots, at least 16 */
    uint64_t per = cfg->limits.max_connections / nworkers;
    if (per < 16)
        per = 16;
    uint64_t sockets = cfg->nlistens + cfg->nheps;
    return (uint64_t)nworkers * (per + sockets + FD_PER_WORKER) + cfg->ncaptures + FD_RESERVE;
}

int swd_check_fd_limit(const swd_config *cfg, unsigned nworkers, swd_check_mode mode, char *note,
                       size_t notelen, char *err, size_t errlen)
{
    if (note && notelen)
        note[0] = '\0';
    uint64_t need = swd_fd_need(cfg, nworkers);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return SW_EIO;
    }
    if (rl.rlim_cur != RLIM_INFINITY && need <= rl.rlim_cur)
        return SW_OK;
    if (rl.rlim_cur == RLIM_INFINITY)
        return SW_OK;
    if (rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max) {
        snprintf(err, errlen,
                 "%s: limits max-connections=%u needs about %llu file descriptors with %u workers, "
                 "%u listeners and %u HEP inputs; the hard limit RLIMIT_NOFILE is %llu: lower "
                 "max-connections or raise the limit (LimitNOFILE= in the unit, ulimit -Hn)",
                 cfg->path, cfg->limits.max_connections, (unsigned long long)need, nworkers,
                 cfg->nlistens, cfg->nheps, (unsigned long long)rl.rlim_max);
        return SW_ELIMIT;
    }
    if (mode == SWD_CHECK_ONLY) {
        if (note && notelen)
            snprintf(note, notelen,
                     "note: about %llu file descriptors needed; start raises the soft RLIMIT_NOFILE "
                     "from %llu (hard limit %llu)",
                     (unsigned long long)need, (unsigned long long)rl.rlim_cur,
                     (unsigned long long)rl.rlim_max);
        return SW_OK;
    }
    unsigned long long was = (unsigned long long)rl.rlim_cur;
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "%s: raising RLIMIT_NOFILE from %llu to %llu: %s", cfg->path, was,
                 (unsigned long long)need, strerror(errno));
        return SW_EIO;
    }
    swd_info("main", "raised the soft RLIMIT_NOFILE from %llu to %llu for max-connections=%u",
             was, (unsigned long long)need, cfg->limits.max_connections);
    return SW_OK;
}

/* ---- memory ----------------------------------------------------------------------------------- */

static uint32_t scaled(uint32_t v, uint32_t div)
{
    uint32_t s = v / div;
    return s ? s : 1;
}

/* Engine bytes for p with every table limit divided by div (0 on failure). */
static uint64_t engine_bytes(sw_policy *p, const sw_engine_limits *full, uint32_t div)
{
    p->limits = *full;
    p->limits.sources = scaled(full->sources, div);
    p->limits.numbers = scaled(full->numbers, div);
    p->limits.dialogs = scaled(full->dialogs, div);
    p->limits.blocks = scaled(full->blocks, div);
    p->limits.event_keys = scaled(full->event_keys, div);
    sw_engine_config ec = {.policy = p};
    sw_engine *e = sw_engine_new(&ec);
    uint64_t m = e ? sw_engine_memory(e) : 0;
    sw_engine_free(e);
    return m;
}

/* The memory this process may use: MemAvailable, the cgroup's limit,
 * RLIMIT_AS, whichever is lowest (UINT64_MAX when none is known). */
static uint64_t memory_available(const char **which)
{
    uint64_t best = UINT64_MAX;
    *which = "unknown";
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                best = (uint64_t)kb * 1024;
                *which = "MemAvailable";
            }
        fclose(f);
    }
    f = fopen("/sys/fs/cgroup/memory.max", "re");
    if (f) {
        unsigned long long v;
        if (fscanf(f, "%llu", &v) == 1 && v < best) {
            best = v;
            *which = "the cgroup's memory.max";
        }
        fclose(f);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < best) {
        best = rl.rlim_cur;
        *which = "RLIMIT_AS";
    }
    return best;
}

int swd_check_engine_memory(sw_policy *p, unsigned nworkers, uint64_t *need, char *err,
                            size_t errlen)
{
    const sw_engine_limits full = p->limits;
    /* two small engines, scaled 1/1024 and 1/512: tables are linear in
     * their capacity, so the difference is the cost of 1/1024 of the limits */
    uint64_t m1 = engine_bytes(p, &full, 1024);
    uint64_t m2 = engine_bytes(p, &full, 512);
    p->limits = full;
    if (!m1 || !m2) {
        snprintf(err, errlen, "cannot create an engine for the policy's limits (memory)");
        return SW_ENOMEM;
    }
    uint64_t slope = m2 > m1 ? m2 - m1 : 0;
    uint64_t one = m1 + slope * 1023; /* m(1/1024) + 1023/1024 of the limits */
    uint64_t total = one * (nworkers ? nworkers : 1);
    if (need)
        *need = total;
    const char *which;
    uint64_t avail = memory_available(&which);
    if (total > avail) {
        snprintf(err, errlen,
                 "policy limits (sources %u, numbers %u, dialogs %u, blocks %u, event keys %u) need "
                 "about %llu MiB of engine state per worker, %llu MiB for %u workers; %s is %llu MiB: "
                 "lower the limits or the workers",
                 full.sources, full.numbers, full.dialogs, full.blocks, full.event_keys,
                 (unsigned long long)(one >> 20), (unsigned long long)(total >> 20), nworkers, which,
                 (unsigned long long)(avail >> 20));
        return SW_ELIMIT;
    }
    return SW_OK;
}

int swd_check_conn_memory(const swd_config *cfg, unsigned nworkers, char *note, size_t notelen)
{
    if (nworkers == 0)
        nworkers = 1;
    uint64_t per = cfg->limits.max_connections / nworkers;
    if (per < 16)
        per = 16;
    uint64_t worst = (uint64_t)nworkers * per *
                     ((uint64_t)cfg->limits.max_conn_buffer + cfg->limits.max_send_queue);
    const char *which;
    uint64_t avail = memory_available(&which);
    if (worst <= avail)
        return 0;
    snprintf(note, notelen,
             "warning: %llu connection slots with max-conn-buffer=%u and max-send-queue=%u can hold "
             "up to %llu MiB; %s is %llu MiB (lower them if untrusted peers can connect)",
             (unsigned long long)(nworkers * per), cfg->limits.max_conn_buffer,
             cfg->limits.max_send_queue, (unsigned long long)(worst >> 20), which,
             (unsigned long long)(avail >> 20));
    return 1;
}

/* ---- pid file and admin socket ----------------------------------------------------------------- */

/* 1 when pid runs a program named sipwalld. */
static int is_sipwalld(long pid)
{
    char path[64], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return kill((pid_t)pid, 0) == 0 || errno == EPERM; /* no /proc: alive is enough */
    int ok = fgets(comm, sizeof comm, f) != NULL;
    fclose(f);
    return ok && strncmp(comm, "sipwalld", 8) == 0;
}

int swd_check_pid_file(const char *path, long *pid, char *err, size_t errlen)
{
    *pid = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return SW_OK; /* absent (or unreadable: writing it will say why) */
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return SW_OK;
    buf[n] = '\0';
    char *end;
    long p = strtol(buf, &end, 10);
    if (p <= 0 || p == (long)getpid() || (*end && *end != '\n'))
        return SW_OK; /* not a pid: stale */
    if (!is_sipwalld(p))
        return SW_OK;
    *pid = p;
    snprintf(err, errlen, "pid file %s: sipwalld is already running (pid %ld)", path, p);
    return SW_ECONFLICT;
}

int swd_check_admin_socket(const char *path, swd_check_mode mode, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return SW_OK;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "admin socket %s: something else than a socket is there", path);
        return SW_EINVAL;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "admin socket path too long: %s", path);
        return SW_EINVAL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "admin socket: %s", strerror(errno));
        return SW_EIO;
    }
    int r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (r == 0) {
        snprintf(err, errlen, "admin socket %s: another sipwalld answers on it", path);
        return SW_ECONFLICT;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, errlen, "admin socket %s: %s", path, strerror(e));
        return SW_EIO;
    }
    if (mode == SWD_CHECK_START && unlink(path) == 0)
        swd_info("main", "removed the stale admin socket %s", path);
    return SW_OK;
}

int swd_pid_file_write(const char *path, char *err, size_t errlen)
{
    /* a stale file is replaced; a symlink is refused, not followed */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
        return SW_EIO;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    ssize_t w = write(fd, buf, (size_t)n);
    int e = errno;
    close(fd);
    if (w != n) {
        snprintf(err, errlen, "pid file %s: %s", path, w < 0 ? strerror(e) : "short write");
        return SW_EIO;
    }
    return SW_OK;
}
