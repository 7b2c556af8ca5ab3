/* The admin API in sipwalld (daemon/api.h, docs/admin-api.md): the HTTPS
 * server of src/admin/ on its own thread, and its backend.
 *
 * What touches the daemon's state goes through the control thread, by the
 * very path of `sipwalld ctl`: the API thread writes "WHO\nFROM\nCOMMAND\n"
 * into one end of a socketpair, hands the other end to the control loop
 * over a pipe, and reads the reply (bounded in time and size).  So a
 * reload is the reload of SIGHUP and ctl (src/daemon/reload.c), with its
 * answer, and nothing in the daemon is shared with this thread but the
 * thread-safe event pipeline.  Event queries read the store through a
 * read-only handle of this thread's own. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/admin.h"
#include "daemon/api.h"
#include "daemon/metrics.h"
#include "daemon/publish.h"
#include "sipwall/admin.h"

#define CTL_REPLY_MAX (16u << 20)    /* a block list of 100000 entries fits */
#define CTL_TIMEOUT_MS 5000
#define CTL_RELOAD_TIMEOUT_MS 60000  /* a large policy compiles for seconds */
#define EVENTS_REPLY_MAX (32u << 20)

struct swd_api {
    swd_daemon *d;
    sw_admin_server *srv;
    sw_admin_cred *cred;
    SSL_CTX *tls;
    int chan[2];            /* [1]: the API thread writes fds; [0]: the control loop reads */
    sw_event_store *store;  /* read-only, the API thread's; opened on first query */
};

/* ---- the hand-over to the control thread ------------------------------------------- */

/* Runs a ctl command on the control thread; the reply (malloc'd, NUL
 * terminated, without the final newline) or NULL with *why. */
static char *ctl_call(swd_api *a, const char *who, const sw_addr *from, const char *cmd, int timeout_ms,
                      const char **why)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        *why = "no file descriptors left";
        return NULL;
    }
    char fromtxt[SW_ADDR_STRLEN] = "";
    if (from && from->family)
        (void)sw_addr_format(from, fromtxt, sizeof fromtxt);
    char head[1024];
    int n = snprintf(head, sizeof head, "%s\n%s\n%s\n", who, fromtxt, cmd);
    if (n < 0 || (size_t)n >= sizeof head || write(sv[0], head, (size_t)n) != n ||
        write(a->chan[1], &sv[1], sizeof sv[1]) != (ssize_t)sizeof sv[1]) {
        close(sv[0]);
        close(sv[1]);
        *why = "the control thread is busy; try again";
        return NULL;
    }
    /* sv[1] is the control thread's now */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int64_t deadline = swd_now_ns() + (int64_t)timeout_ms * 1000000;
    while (buf) {
        int64_t left = (deadline - swd_now_ns()) / 1000000;
        struct pollfd pf = {sv[0], POLLIN, 0};
        if (atomic_load(&a->d->stop)) { /* the control loop is gone: nobody will answer */
            free(buf);
            buf = NULL;
            *why = "sipwalld is stopping";
            break;
        }
        int pr = left > 0 ? poll(&pf, 1, left > 200 ? 200 : (int)left) : 0;
        if (pr == 0 && left > 0)
            continue; /* look at the stop flag again */
        if (pr <= 0) {
            free(buf);
            buf = NULL;
            *why = "no answer from the control thread in time";
            break;
        }
        if (len + 1 == cap) {
            if (cap >= CTL_REPLY_MAX) {
                free(buf);
                buf = NULL;
                *why = "reply too large";
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                *why = "out of memory";
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(sv[0], buf + len, cap - 1 - len);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            buf = NULL;
            *why = "the control thread closed the request";
            break;
        }
        len += (size_t)r;
    }
    close(sv[0]);
    if (!buf) {
        if (!*why)
            *why = "out of memory";
        return NULL;
    }
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    return buf;
}

int swd_api_fd(swd_daemon *d) { return d->api ? d->api->chan[0] : -1; }

void swd_api_poll(swd_daemon *d)
{
    if (!d->api)
        return;
    int fd;
    /* a few per turn: the control loop has signals and reloads to see to */
    for (int i = 0; i < 16 && read(d->api->chan[0], &fd, sizeof fd) == (ssize_t)sizeof fd; i++)
        swd_admin_serve_api(d, fd);
}

/* ---- the backend ------------------------------------------------------------------- */

static char *err_body(int *status, int st, const char *msg)
{
    *status = st;
    return sw_admin_error_json(st, msg);
}

/* "ok …" -> 200 {"ok":true,"message":…}; "error: …" -> st_err with the message */
static char *text_reply(char *reply, int st_err, int *status)
{
    char *out;
    if (strncmp(reply, "ok", 2) == 0) {
        json_t *o = json_pack("{s:b,s:s?}", "ok", 1, "message", reply);
        out = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        *status = 200;
    } else {
        const char *m = strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply;
        out = err_body(status, st_err, m);
    }
    free(reply);
    return out;
}

static char *via_ctl(swd_api *a, const char *who, const sw_addr *from, const char *cmd, int timeout_ms,
                     int *status, int st_err)
{
    const char *why = NULL;
    char *reply = ctl_call(a, who, from, cmd, timeout_ms, &why);
    if (!reply)
        return err_body(status, 503, why ? why : "unavailable");
    if (reply[0] == '{' || reply[0] == '[') {
        *status = 200;
        return reply;
    }
    return text_reply(reply, st_err, status);
}

typedef struct evbuf {
    char *p;
    size_t len, cap;
    int full;
} evbuf;

static void put(evbuf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 8192;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = nc <= EVENTS_REPLY_MAX ? realloc(b->p, nc) : NULL;
        if (!np) {
            b->full = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

typedef struct evq {
    evbuf b;
    size_t n;
    int64_t last;
} evq;

static int one_row(void *arg, const sw_event_row *row)
{
    evq *q = arg;
    char head[64];
    int n = snprintf(head, sizeof head, "%s{\"id\":%lld,\"event\":", q->n ? "," : "", (long long)row->id);
    put(&q->b, head, (size_t)n);
    put(&q->b, row->json, row->json_len);
    put(&q->b, "}", 1);
    q->n++;
    q->last = row->id;
    return q->b.full;
}

static char *events(swd_api *a, const sw_admin_req *r, int *status)
{
    const char *db = a->d->cfg->events_db;
    if (!db)
        return err_body(status, 404, "no events-db is configured: nothing to query");
    if (!a->store) {
        char why[300];
        sw_event_store_opts so = {.readonly = 1};
        a->store = sw_event_store_open(db, &so, why, sizeof why);
        if (!a->store)
            return err_body(status, 503, why);
    }
    sw_event_query q = {.since_ns = r->since_ns, .until_ns = r->until_ns,
                        .type = r->type[0] ? r->type : NULL, .src = r->src[0] ? r->src : NULL,
                        .peer = r->peer[0] ? r->peer : NULL, .rule = r->rule[0] ? r->rule : NULL,
                        .after_id = r->after_id, .limit = r->limit, .newest = r->after_id == 0};
    evq e = {0};
    put(&e.b, "{\"events\":[", 11);
    int rc = sw_event_store_query(a->store, &q, one_row, &e);
    if (rc < 0 || e.b.full) {
        free(e.b.p);
        return err_body(status, rc == SW_EINVAL ? 400 : 500,
                        e.b.full ? "reply too large: lower limit" : "the event store query failed");
    }
    char tail[96];
    int n = snprintf(tail, sizeof tail, "],\"count\":%zu,\"last_id\":%lld}", e.n, (long long)e.last);
    put(&e.b, tail, (size_t)n);
    if (e.b.full) {
        free(e.b.p);
        return err_body(status, 500, "out of memory");
    }
    *status = 200;
    return e.b.p;
}

static char *run(void *ctx, const sw_admin_req *r, const char *who, const sw_addr *from, int *status)
{
    swd_api *a = ctx;
    char cmd[512];
    switch (r->op) {
    case SW_ADMIN_STATUS: {
        char *body = via_ctl(a, who, from, "stats", CTL_TIMEOUT_MS, status, 500);
        json_t *o = *status == 200 && body ? json_loads(body, 0, NULL) : NULL;
        if (!o)
            return body;
        /* the API's own counters (this thread's) next to the daemon's */
        sw_admin_server_stats st;
        sw_admin_server_stats_get(a->srv, &st);
        json_t *x = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I}}", "requests",
                              (json_int_t)st.requests, "auth_failures", (json_int_t)st.auth_failures,
                              "throttled", (json_int_t)st.throttled, "connections", (json_int_t)st.conns,
                              "connections_now", (json_int_t)st.conns_now, "connections_expired",
                              (json_int_t)st.conns_expired, "limiter", "verifications",
                              (json_int_t)st.limiter.taken, "refused_source", (json_int_t)st.limiter.refused_source,
                              "refused_global", (json_int_t)st.limiter.refused_global, "refused_busy",
                              (json_int_t)st.limiter.refused_busy, "evictions", (json_int_t)st.limiter.evictions);
        if (x)
            json_object_set_new(o, "admin_api", x);
        char *out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        if (!out)
            return body;
        free(body);
        return out;
    }
    case SW_ADMIN_RELOAD: {
        /* 409: the policy in force stays, the one on disk is refused */
        const char *why = NULL;
        char *reply = ctl_call(a, who, from, "reload", CTL_RELOAD_TIMEOUT_MS, &why);
        /* the request was audited by the control thread; the outcome too */
        char detail[400];
        snprintf(detail, sizeof detail, "reload outcome: %.380s", reply ? reply : why ? why : "no answer");
        swd_audit(a->d, SW_EVT_ADMIN_CHANGE, "admin.reload", who, from, "reload", detail);
        if (!reply)
            return err_body(status, 503, why ? why : "unavailable");
        return text_reply(reply, 409, status);
    }
    case SW_ADMIN_BLOCKS:
        snprintf(cmd, sizeof cmd, "blocks %zu", r->limit);
        return via_ctl(a, who, from, cmd, CTL_TIMEOUT_MS, status, 400);
    case SW_ADMIN_BLOCK_ADD: {
        /* kind and key are plain words (request.c); the reason is the rest of the line */
        snprintf(cmd, sizeof cmd, "block %s %s %lld %s", r->kind, r->key, (long long)r->duration_s, r->reason);
        const char *why = NULL;
        char *reply = ctl_call(a, who, from, cmd, CTL_TIMEOUT_MS, &why);
        if (!reply)
            return err_body(status, 503, why ? why : "unavailable");
        return text_reply(reply, strstr(reply, "configured partner") ? 409 : 400, status);
    }
    case SW_ADMIN_UNBLOCK: {
        snprintf(cmd, sizeof cmd, "unblock %s %s", r->kind, r->key);
        const char *why = NULL;
        char *reply = ctl_call(a, who, from, cmd, CTL_TIMEOUT_MS, &why);
        if (!reply)
            return err_body(status, 503, why ? why : "unavailable");
        return text_reply(reply, strncmp(reply, "error: no block", 15) == 0 ? 404 : 400, status);
    }
    case SW_ADMIN_PARTNERS:
        return via_ctl(a, who, from, "partners", CTL_TIMEOUT_MS, status, 500);
    case SW_ADMIN_EVENTS:
        return events(a, r, status);
    case SW_ADMIN_METRICS: { /* the same text as `metrics listen` and `ctl metrics` */
        size_t len = 0;
        char *text = swd_metrics_text(a->d, &len);
        if (!text)
            return err_body(status, 500, "out of memory for the metrics");
        *status = 200;
        return text;
    }
    case SW_ADMIN_HEALTH: {
        char *j = NULL;
        int ok = swd_health(a->d, &j);
        if (!j)
            return err_body(status, 500, "out of memory");
        *status = ok ? 200 : 503;
        return j;
    }
    case SW_ADMIN_INTEL:
        snprintf(cmd, sizeof cmd, "intel %zu", r->limit);
        return via_ctl(a, who, from, cmd, CTL_TIMEOUT_MS, status, 400);
    case SW_ADMIN_INTEL_PUSH:
        /* verified and applied on the control thread, like a pulled page */
        return swd_intel_push_take(a->d, r->body ? r->body : "", r->body_len, r->push_org[0] ? r->push_org : NULL,
                                   who, status);
    case SW_ADMIN_INTEL_SHOW:
    case SW_ADMIN_INTEL_REVOKE: {
        snprintf(cmd, sizeof cmd, "intel %s %s", r->op == SW_ADMIN_INTEL_SHOW ? "show" : "revoke", r->key);
        const char *why = NULL;
        char *reply = ctl_call(a, who, from, cmd, CTL_TIMEOUT_MS, &why);
        if (!reply)
            return err_body(status, 503, why ? why : "unavailable");
        if (r->op == SW_ADMIN_INTEL_SHOW && reply[0] == '{') {
            *status = 200;
            return reply;
        }
        return text_reply(reply, strncmp(reply, "error: no indicator", 19) == 0 ? 404 : 400, status);
    }
    case SW_ADMIN_EXCHANGE_REVOKE: {
        /* the control thread publishes the revoked version and audits the request */
        snprintf(cmd, sizeof cmd, "exchange revoke %s", r->key);
        const char *why = NULL;
        char *reply = ctl_call(a, who, from, cmd, CTL_TIMEOUT_MS, &why);
        if (!reply)
            return err_body(status, 503, why ? why : "unavailable");
        int code = strncmp(reply, "error: no published indicator", 29) == 0  ? 404
                   : strncmp(reply, "error: nothing is published", 27) == 0 ? 409
                   : strncmp(reply, "error: cannot publish", 21) == 0       ? 500
                                                                             : 400;
        return text_reply(reply, code, status);
    }
    }
    return err_body(status, 404, "no such operation");
}

static void auth_failed(void *ctx, const sw_addr *from, const char *who, const char *reason)
{
    swd_api *a = ctx;
    char detail[200];
    snprintf(detail, sizeof detail, "admin API login refused: %s", reason);
    swd_audit(a->d, SW_EVT_ADMIN_AUTH_FAILURE, "admin.auth", who, from, "login", detail);
}

/* intel-push-peer: the partner a client certificate name is bound to */
static int push_peer(void *ctx, const char *cert_id, char *org)
{
    swd_api *a = ctx;
    const swd_config *c = a->d->cfg;
    for (unsigned i = 0; i < c->npush_peers; i++)
        if (strcmp(c->push_peers[i].cn, cert_id) == 0) {
            snprintf(org, SW_ADMIN_ORG_MAX, "%s", c->push_peers[i].org);
            return 1;
        }
    return 0;
}

static const sw_admin_ops api_ops = {.run = run, .auth_failed = auth_failed, .push_peer = push_peer};

/* ---- life ---------------------------------------------------------------------------- */

int swd_api_create(swd_daemon *d, char *err, size_t errlen)
{
    const swd_admin_api *c = &d->cfg->api;
    if (!c->on)
        return SW_OK;
    swd_api *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    a->d = d;
    a->chan[0] = a->chan[1] = -1;
    d->api = a;
    char why[512];
    a->tls = sw_tls_server_ctx(c->cert, c->key, c->client_ca,
                               c->client_ca ? SW_TLS_VERIFY_REQUIRED : SW_TLS_VERIFY_NONE, why, sizeof why);
    if (!a->tls) {
        snprintf(err, errlen, "admin-api (line %d): %s", c->line, why);
        return SW_EINVAL;
    }
    char token[SW_ADMIN_TOKEN_LEN + 1];
    a->cred = sw_admin_cred_open(c->credential, token, why, sizeof why);
    if (!a->cred) {
        snprintf(err, errlen, "admin-api (line %d): %s", c->line, why);
        return SW_EINVAL;
    }
    if (token[0]) {
        /* shown once, on stderr only (not in the log file, which may be
         * shipped elsewhere): only its hash is kept */
        fprintf(stderr,
                "sipwalld: admin API credential created; it is shown this once, only its hash is kept in %s:\n"
                "ADMIN-TOKEN %s\n",
                c->credential, token);
        fflush(stderr);
        memset(token, 0, sizeof token);
        swd_warn("api", "a new admin API credential was made (its hash is in %s); the token went to stderr",
                 c->credential);
    }
    if (pipe2(a->chan, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "admin-api: %s", strerror(errno));
        return SW_EIO;
    }
    sw_admin_server_config sc = {.listen = c->addr, .tls = a->tls, .client_cert = c->client_ca != NULL,
                                 .cred = a->cred, .max_conns = c->max_conns, .timeout_s = c->timeout_s,
                                 .ops = &api_ops, .ctx = a, .mount = swd_publish_mount(d)};
    a->srv = sw_admin_server_new(&sc, why, sizeof why);
    if (!a->srv) {
        snprintf(err, errlen, "admin-api (line %d): %s", c->line, why);
        return SW_EIO;
    }
    return SW_OK;
}

int swd_api_start(swd_daemon *d, char *err, size_t errlen)
{
    if (!d->api)
        return SW_OK;
    if (sw_admin_server_start(d->api->srv, err, errlen) != SW_OK)
        return SW_EIO;
    char at[SW_ADDR_STRLEN];
    (void)sw_addr_format(&d->cfg->api.addr, at, sizeof at);
    swd_info("api", "admin API on https://%s (%s)", at,
             d->cfg->api.client_ca ? "bearer token and client certificate" : "bearer token");
    return SW_OK;
}

void swd_api_free(swd_daemon *d)
{
    swd_api *a = d->api;
    if (!a)
        return;
    sw_admin_server_free(a->srv); /* joins the thread: nothing calls back after this */
    if (a->chan[0] >= 0) {
        int fd;
        while (read(a->chan[0], &fd, sizeof fd) == (ssize_t)sizeof fd)
            close(fd); /* handed over, never served */
        close(a->chan[0]);
        close(a->chan[1]);
    }
    if (a->store)
        sw_event_store_close(a->store);
    sw_admin_cred_free(a->cred);
    sw_tls_ctx_free(a->tls);
    free(a);
    d->api = NULL;
}
