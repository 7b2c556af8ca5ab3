/* The state store of sipwalld: one store shared by every worker's engine
 * (blocks, the daemon-wide event budget), resized on a reload that changes
 * the policy's `limits blocks`: in-process, or the Redis backend shared by
 * the nodes of a cluster (`state redis`, docs/cluster.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "sipwall/cluster.h"

static void cluster_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    swd_log(level <= 3 ? SWD_LOG_ERROR : level == 4 ? SWD_LOG_WARN : SWD_LOG_INFO, "cluster", "%s", msg);
}

/* The first line of the password file (at most 512 bytes), no newline. */
static int read_password(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "state redis password-file %s: %s", path, strerror(errno));
        return SW_EIO;
    }
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    if (n < 0)
        n = 0;
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (!out[0]) {
        snprintf(err, errlen, "state redis password-file %s: empty (or longer than %zu bytes on its first line)",
                 path, outlen - 2);
        return SW_EINVAL;
    }
    return SW_OK;
}

int swd_state_open(swd_daemon *d, uint32_t capacity, char *err, size_t errlen)
{
    const swd_state_redis *sr = &d->cfg->state_redis;
    if (!sr->line) {
        if (!(d->state = sw_state_mem_new(capacity))) {
            snprintf(err, errlen, "out of memory for the state store");
            return SW_ENOMEM;
        }
        return SW_OK;
    }
    char password[514], node[80], e[512];
    password[0] = '\0';
    if (sr->password_file && read_password(sr->password_file, password, sizeof password, err, errlen) != SW_OK)
        return SW_EINVAL;
    if (sr->ca && !(d->redis_tls = sw_tls_client_ctx(sr->cert, sr->key, sr->ca, SW_TLS_VERIFY_REQUIRED, e,
                                                     sizeof e))) {
        snprintf(err, errlen, "state redis (line %d): TLS: %s", sr->line, e);
        explicit_bzero(password, sizeof password); /* not optimised away */
        return SW_EINVAL;
    }
    if (sr->node) {
        snprintf(node, sizeof node, "%s", sr->node);
    } else {
        char host[64] = "sipwalld";
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "sipwalld");
        host[sizeof host - 1] = '\0';
        snprintf(node, sizeof node, "%s:%ld", host, (long)getpid());
    }
    sw_redis_config rc = {
        .addr = sr->addr,
        .user = sr->user,
        .password = password[0] ? password : NULL,
        .prefix = sr->prefix,
        .node = node,
        .tls = d->redis_tls,
        .tls_name = sr->server_name,
        .capacity = capacity,
        .queue = sr->queue,
        .log = cluster_log,
    };
    d->state = sw_state_redis_new(&rc, &d->redis, e, sizeof e);
    explicit_bzero(password, sizeof password); /* not optimised away */
    if (!d->state) {
        snprintf(err, errlen, "state redis (line %d): %s", sr->line, e);
        return SW_EINVAL;
    }
    char where[SW_ADDR_STRLEN];
    sw_addr_format(&sr->addr, where, sizeof where);
    swd_info("cluster", "state store: redis %s%s prefix %s node %s; local mirror of %u entries", where,
             d->redis_tls ? " (TLS)" : "", sr->prefix, node, capacity);
    return SW_OK;
}

void swd_state_close(swd_daemon *d)
{
    sw_state_free(d->state); /* stops the Redis thread first */
    d->state = NULL;
    d->redis = NULL;
    sw_tls_ctx_free(d->redis_tls);
    d->redis_tls = NULL;
}

uint32_t swd_state_capacity(const sw_policy *p)
{
    return p->limits.blocks ? p->limits.blocks : 65536;
}

/* Called by the reload before the new policy is published: the workers go
 * on with the store while it is resized (under its lock).  msg gets a
 * summary ("" when nothing changed). */
int swd_state_reload(swd_daemon *d, const sw_policy *p, char *msg, size_t msglen)
{
    msg[0] = '\0';
    if (!d->state)
        return SW_OK;
    sw_state_stats st;
    sw_state_stats_get(d->state, &st);
    uint32_t cap = swd_state_capacity(p);
    if (cap == st.capacity)
        return SW_OK;
    uint64_t moved, dropped;
    int r = sw_state_resize(d->state, cap, &moved, &dropped);
    if (r != SW_OK) {
        snprintf(msg, msglen, "no memory to resize the block store to %u entries", cap);
        return r;
    }
    snprintf(msg, msglen, "blocks table %u -> %u entries: %llu migrated, %llu dropped", st.capacity, cap,
             (unsigned long long)moved, (unsigned long long)dropped);
    if (dropped)
        swd_warn("reload", "limits: blocks table %u -> %u entries: %llu migrated, %llu dropped (did not fit; "
                 "the soonest to expire went first)", st.capacity, cap, (unsigned long long)moved,
                 (unsigned long long)dropped);
    else
        swd_info("reload", "limits: blocks table %u -> %u entries: %llu migrated, 0 dropped", st.capacity,
                 cap, (unsigned long long)moved);
    return SW_OK;
}
