/* The Redis backend of the state store (include/sipwall/cluster.h,
 * docs/cluster.md).
 *
 * Every op is answered by the mirror, an in-process store
 * (sw_state_mem_new): the hot path never waits on the network.  block_set
 * and block_remove also put a write on a bounded queue; one background
 * thread owns two connections to Redis (commands, and a subscriber) and
 *   - sends each write (SET with PXAT, or DEL) and PUBLISHes it on the
 *     channel PREFIX"blocks", so the other nodes apply it to their mirrors;
 *   - applies the other nodes' messages to this mirror (a block replaces
 *     ours unless ours began later: last writer wins by the block's start);
 *   - after every (re)connection, subscribes first, sends what was queued
 *     while Redis was away, then SCANs the block keys and loads them: what
 *     was published during the outage is covered by that resync.  An
 *     unblock is a tombstone (a key "0 NODE WROTE" kept 48 h), not a DEL,
 *     so that a resync can tell "unblocked elsewhere" (remove it here) from
 *     "Redis lost it" (a restart without persistence, or a write dropped
 *     from the full queue: this node sends its entry again).
 *   - reconnects with a backoff (100 ms doubling to 1 s: a node is back in
 *     step at most about a second after Redis is).
 * A key lives until the block's end plus 24 h (SW_STATE_BLOCK_CAP_NS): an
 * ended block still doubles a repeat offence within a day, on every node.
 * The renewal is computed by the node that sets the block, from its mirror,
 * and written as a whole (docs/cluster.md "Consistency").
 * Windowed counters (the per-rule event budget) stay per node. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sipwall/cluster.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 1000
#define SCAN_COUNT "256"
#define VALUE_MAX 1024
#define KEY_MAX 256

enum { OP_SET = 1, OP_DEL = 2 };

typedef struct qop {
    uint8_t op;
    sw_state_block b;
} qop;

typedef struct conn {
    sw_stream *s;
    sw_resp_reader *rd;
} conn;

/* (kind, id) of a key seen by a resync */
typedef struct seen {
    uint8_t kind;
    char id[SW_STATE_ID_MAX];
} seen;

struct sw_redis {
    sw_state_store *mirror;
    sw_addr addr;
    char *user, *password, *prefix, *node, *tls_name;
    char channel[80];
    SSL_CTX *tls;
    int timeout_ms;
    sw_cluster_log_fn log;
    void *log_ctx;

    pthread_t th;
    int started;
    int wake_fd;
    atomic_int stop;

    pthread_mutex_t mu; /* the queue and the stats */
    qop *q;
    uint32_t qcap, qhead, qn;
    sw_redis_stats st;

    /* the thread's own */
    conn cmd, sub;
    char last_err[256], last_refusal[256];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void logf_(sw_redis *r, int level, const char *fmt, ...) SW_PRINTF(3, 4);
static void logf_(sw_redis *r, int level, const char *fmt, ...)
{
    if (!r->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->log(r->log_ctx, level, msg);
}

static void wake(sw_redis *r)
{
    uint64_t one = 1;
    ssize_t n = write(r->wake_fd, &one, sizeof one);
    (void)n; /* a full counter already wakes the thread */
}

/* ---- the queue --------------------------------------------------------------------- */

static void enqueue(sw_redis *r, uint8_t op, const sw_state_block *b)
{
    pthread_mutex_lock(&r->mu);
    if (r->qn == r->qcap) {
        r->st.dropped++;
    } else {
        qop *o = &r->q[(r->qhead + r->qn) % r->qcap];
        o->op = op;
        o->b = *b;
        r->qn++;
    }
    r->st.queued = r->qn;
    pthread_mutex_unlock(&r->mu);
    wake(r);
}

static int peek_op(sw_redis *r, qop *out)
{
    pthread_mutex_lock(&r->mu);
    int have = r->qn > 0;
    if (have)
        *out = r->q[r->qhead];
    pthread_mutex_unlock(&r->mu);
    return have;
}

static void pop_op(sw_redis *r, int sent)
{
    pthread_mutex_lock(&r->mu);
    if (r->qn) {
        r->qhead = (r->qhead + 1) % r->qcap;
        r->qn--;
    }
    r->st.queued = r->qn;
    if (sent)
        r->st.sent++;
    else
        r->st.refused++;
    pthread_mutex_unlock(&r->mu);
}

/* 1 when a write of kind/id waits in the queue */
static int queued_for(sw_redis *r, uint8_t kind, const char *id)
{
    int found = 0;
    pthread_mutex_lock(&r->mu);
    for (uint32_t i = 0; i < r->qn && !found; i++) {
        const qop *o = &r->q[(r->qhead + i) % r->qcap];
        found = o->b.kind == kind && strncmp(o->b.id, id, SW_STATE_ID_MAX) == 0;
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

/* ---- connections ---------------------------------------------------------------------- */

static void conn_close(conn *c)
{
    sw_stream_close(c->s);
    sw_resp_reader_free(c->rd);
    c->s = NULL;
    c->rd = NULL;
}

/* Waits until the stream can go on (want: SW_STREAM_WANT_*), or the
 * deadline: SW_OK or SW_EAGAIN (timed out). */
static int wait_io(sw_stream *s, unsigned want, int64_t deadline)
{
    int64_t left = (deadline - mono_ns()) / 1000000;
    if (left <= 0)
        return SW_EAGAIN;
    struct pollfd p = {sw_stream_fd(s), 0, 0};
    if (want & SW_STREAM_WANT_WRITE)
        p.events |= POLLOUT;
    if ((want & SW_STREAM_WANT_READ) || !p.events)
        p.events |= POLLIN;
    int n = poll(&p, 1, (int)left);
    return n > 0 ? SW_OK : SW_EAGAIN;
}

static int send_all(conn *c, const char *buf, size_t n, int64_t deadline, char *err, size_t errlen)
{
    while (n) {
        ssize_t w = sw_stream_write(c->s, buf, n);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
        } else if (w == SW_EAGAIN) {
            if (wait_io(c->s, sw_stream_want(c->s), deadline) != SW_OK) {
                snprintf(err, errlen, "timed out sending");
                return SW_EIO;
            }
        } else {
            snprintf(err, errlen, "send failed: %s", sw_stream_error(c->s)[0] ? sw_stream_error(c->s) : "closed");
            return (int)w == SW_EAUTH ? SW_EAUTH : SW_EIO;
        }
    }
    return SW_OK;
}

/* Reads what the stream has without waiting, at most 64 KiB, so that the
 * caller drains the replies before more is buffered (a burst of messages
 * never reaches the reader's ceiling): SW_OK (maybe nothing), SW_EIO
 * (closed or broken, err says why). */
static int pull(conn *c, char *err, size_t errlen)
{
    char buf[16384];
    for (int round = 0; round < 4; round++) {
        ssize_t n = sw_stream_read(c->s, buf, sizeof buf);
        if (n > 0) {
            int rc = sw_resp_feed(c->rd, buf, (size_t)n);
            if (rc != SW_OK) {
                snprintf(err, errlen, "bad reply: %s", sw_resp_error(c->rd));
                return SW_EIO;
            }
            continue;
        }
        if (n == SW_EAGAIN)
            return SW_OK;
        if (n == 0)
            snprintf(err, errlen, "connection closed by Redis");
        else
            snprintf(err, errlen, "read failed: %s", sw_stream_error(c->s)[0] ? sw_stream_error(c->s) : "closed");
        return n == SW_EAUTH ? SW_EAUTH : SW_EIO;
    }
    return SW_OK;
}

/* The next reply, waiting until the deadline. */
static int read_reply(conn *c, sw_resp **out, int64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        int rc = sw_resp_next(c->rd, out);
        if (rc == SW_OK)
            return SW_OK;
        if (rc != SW_EINCOMPLETE) {
            snprintf(err, errlen, "bad reply: %s", sw_resp_error(c->rd));
            return SW_EIO;
        }
        if ((rc = pull(c, err, errlen)) != SW_OK)
            return rc;
        if (sw_resp_next(c->rd, out) == SW_OK)
            return SW_OK;
        if (wait_io(c->s, SW_STREAM_WANT_READ, deadline) != SW_OK) {
            snprintf(err, errlen, "timed out waiting for a reply");
            return SW_EIO;
        }
    }
}

/* One command and its reply (the caller frees *out). */
static int call(sw_redis *r, conn *c, int argc, const char **argv, const size_t *lens, sw_resp **out, char *err,
                size_t errlen)
{
    char *cmd;
    size_t n;
    *out = NULL;
    if (sw_resp_command(&cmd, &n, argc, argv, lens) != SW_OK) {
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    int64_t deadline = mono_ns() + (int64_t)r->timeout_ms * 1000000;
    int rc = send_all(c, cmd, n, deadline, err, errlen);
    free(cmd);
    if (rc == SW_OK)
        rc = read_reply(c, out, deadline, err, errlen);
    return rc;
}

static int is_status(const sw_resp *v, const char *s)
{
    return v && v->type == SW_RESP_STATUS && strcmp(v->str, s) == 0;
}

static int dial(sw_redis *r, conn *c, char *err, size_t errlen)
{
    char e[256];
    int64_t deadline = mono_ns() + (int64_t)r->timeout_ms * 1000000;
    int fd = sw_sock_tcp_connect(&r->addr, e, sizeof e);
    if (fd < 0) {
        snprintf(err, errlen, "connect: %.200s", e);
        return SW_EIO;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    int64_t left = (deadline - mono_ns()) / 1000000;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0) {
        close(fd);
        snprintf(err, errlen, "connect: timed out");
        return SW_EIO;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
        close(fd);
        snprintf(err, errlen, "connect: %s", strerror(soerr ? soerr : errno));
        return SW_EIO;
    }
    c->s = r->tls ? sw_stream_tls_client_new(fd, r->tls, r->tls_name) : sw_stream_plain_new(fd);
    c->rd = sw_resp_reader_new(0, 0);
    if (!c->s || !c->rd) {
        conn_close(c);
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    for (;;) {
        int rc = sw_stream_handshake(c->s);
        if (rc == SW_OK)
            break;
        if (rc == SW_EAGAIN && wait_io(c->s, sw_stream_want(c->s), deadline) == SW_OK)
            continue;
        snprintf(err, errlen, "TLS handshake: %s",
                 rc == SW_EAGAIN ? "timed out" : sw_stream_error(c->s)[0] ? sw_stream_error(c->s) : "failed");
        conn_close(c);
        return rc == SW_EAUTH ? SW_EAUTH : SW_EIO;
    }
    if (r->password) {
        const char *argv[3] = {"AUTH", r->user ? r->user : r->password, r->password};
        size_t lens[3] = {4, strlen(argv[1]), strlen(r->password)};
        sw_resp *v;
        int rc = call(r, c, r->user ? 3 : 2, argv, lens, &v, e, sizeof e);
        if (rc == SW_OK && !is_status(v, "OK")) {
            /* Redis' message names neither the user's password nor ours */
            snprintf(err, errlen, "AUTH as %s refused: %.160s", r->user ? r->user : "default",
                     v->type == SW_RESP_ERROR ? v->str : "unexpected reply");
            sw_resp_free(v);
            conn_close(c);
            pthread_mutex_lock(&r->mu);
            r->st.auth_failures++;
            pthread_mutex_unlock(&r->mu);
            return SW_EAUTH;
        }
        sw_resp_free(v);
        if (rc != SW_OK) {
            snprintf(err, errlen, "AUTH: %.200s", e);
            conn_close(c);
            return rc;
        }
    }
    return SW_OK;
}

/* ---- keys and values ---------------------------------------------------------------------- */

static size_t key_of(sw_redis *r, uint8_t kind, const char *id, char *out)
{
    int n = snprintf(out, KEY_MAX, "%sb:%u:", r->prefix, kind);
    size_t len = (size_t)n, idl = strnlen(id, SW_STATE_ID_MAX - 1);
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < idl; i++) {
        out[len++] = hexd[(unsigned char)id[i] >> 4];
        out[len++] = hexd[(unsigned char)id[i] & 15];
    }
    out[len] = '\0';
    return len;
}

/* Puts another node's block b into the mirror unless ours began later. */
static int merge(sw_redis *r, const sw_state_block *b)
{
    sw_state_block cur, ev;
    if (sw_state_block_get(r->mirror, b->kind, b->id, &cur) == SW_OK && cur.since > b->since)
        return 0;
    int nev;
    return sw_state_block_put(r->mirror, b, &ev, &nev) == SW_OK;
}

/* Sends one write and publishes it.  nx: only when Redis has no such key
 * (a resync restoring what Redis lost must not overwrite an unblock or a
 * newer block written meanwhile).  SW_OK; SW_ECONFLICT when Redis answered
 * with an error (an ACL without our keys, a read-only replica: sending it
 * again would fail again); SW_EIO and the others: the connection failed. */
static int send_op(sw_redis *r, const qop *o, int nx, char *err, size_t errlen)
{
    char key[KEY_MAX], val[VALUE_MAX + 2], ms[32];
    size_t kl = key_of(r, o->b.kind, o->b.id, key);
    sw_resp *v = NULL;
    int rc;
    if (o->op == OP_SET) {
        val[0] = 'S';
        val[1] = ' ';
        int vl = sw_cluster_block_encode(&o->b, r->node, wall_ns(), val + 2, VALUE_MAX);
        if (vl < 0)
            return SW_OK; /* cannot happen: ids and rules are bounded; never retry forever */
        int64_t keep = o->b.until + SW_STATE_BLOCK_CAP_NS;
        int ml = snprintf(ms, sizeof ms, "%lld", (long long)(keep / 1000000));
        const char *argv[6] = {"SET", key, val + 2, "PXAT", ms, "NX"};
        size_t lens[6] = {3, kl, (size_t)vl, 4, (size_t)ml, 2};
        if ((rc = call(r, &r->cmd, nx ? 6 : 5, argv, lens, &v, err, errlen)) != SW_OK)
            return rc;
        if (nx && v->type == SW_RESP_NIL) { /* the key is there: nothing to restore */
            sw_resp_free(v);
            return SW_OK;
        }
        int good = is_status(v, "OK"), refused = v->type == SW_RESP_ERROR;
        if (!good)
            snprintf(err, errlen, "SET refused: %.160s", refused ? v->str : "unexpected reply");
        sw_resp_free(v);
        if (!good)
            return refused ? SW_ECONFLICT : SW_EIO;
        const char *pv[3] = {"PUBLISH", r->channel, val};
        size_t pl[3] = {7, strlen(r->channel), (size_t)vl + 2};
        rc = call(r, &r->cmd, 3, pv, pl, &v, err, errlen);
    } else {
        char tomb[96];
        int tl = snprintf(tomb, sizeof tomb, "0 %s %lld", r->node, (long long)wall_ns());
        int ml = snprintf(ms, sizeof ms, "%lld", (long long)(2 * SW_STATE_BLOCK_CAP_NS / 1000000));
        const char *argv[5] = {"SET", key, tomb, "PX", ms};
        size_t lens[5] = {3, kl, (size_t)tl, 2, (size_t)ml};
        if ((rc = call(r, &r->cmd, 5, argv, lens, &v, err, errlen)) != SW_OK)
            return rc;
        int good = is_status(v, "OK"), refused = v->type == SW_RESP_ERROR;
        if (!good)
            snprintf(err, errlen, "SET refused: %.160s", refused ? v->str : "unexpected reply");
        sw_resp_free(v);
        if (!good)
            return refused ? SW_ECONFLICT : SW_EIO;
        int vl = snprintf(val, sizeof val, "R %s %u %s", r->node, o->b.kind, key + kl - 2 * strnlen(o->b.id, SW_STATE_ID_MAX - 1));
        const char *pv[3] = {"PUBLISH", r->channel, val};
        size_t pl[3] = {7, strlen(r->channel), (size_t)vl};
        rc = call(r, &r->cmd, 3, pv, pl, &v, err, errlen);
    }
    if (rc == SW_OK && v && v->type == SW_RESP_ERROR) {
        snprintf(err, errlen, "PUBLISH refused: %.160s", v->str);
        rc = SW_ECONFLICT;
    }
    sw_resp_free(v);
    return rc;
}

static int flush_queue(sw_redis *r, char *err, size_t errlen)
{
    qop o;
    while (!atomic_load(&r->stop) && peek_op(r, &o)) {
        int rc = send_op(r, &o, 0, err, errlen);
        if (rc == SW_ECONFLICT) {
            /* dropped, counted and said (once per reason): the mirror keeps
             * the block, and a resync sends it again if Redis lacks it */
            if (strcmp(err, r->last_refusal) != 0)
                logf_(r, 4, "redis: %s; the write is dropped (counted in cluster.refused)", err);
            snprintf(r->last_refusal, sizeof r->last_refusal, "%s", err);
            pop_op(r, 0);
            continue;
        }
        if (rc != SW_OK)
            return rc; /* kept at the head: sent again after the reconnection */
        pop_op(r, 1);
    }
    return SW_OK;
}

/* kind and the hex of an offender key into b->kind/b->id, through the
 * block format's own checks. */
static int parse_id(unsigned kind, const char *idhex, sw_state_block *b)
{
    char val[VALUE_MAX], origin[65];
    int64_t wrote;
    if (strlen(idhex) > 2 * SW_STATE_ID_MAX)
        return SW_EINVAL;
    snprintf(val, sizeof val, "1 x 0 %u 0 0 0 1 0 0 0 - - %s - 0 -", kind, idhex);
    return sw_cluster_block_decode(val, strlen(val), b, origin, &wrote);
}

/* A message on the channel: "S VALUE" or "R NODE KIND IDHEX". */
static void on_message(sw_redis *r, const char *msg, size_t n)
{
    if (n > 2 && msg[0] == 'S' && msg[1] == ' ') {
        sw_state_block b;
        char origin[65];
        int64_t wrote;
        if (sw_cluster_block_decode(msg + 2, n - 2, &b, origin, &wrote) != SW_OK || strcmp(origin, r->node) == 0)
            return;
        int applied = merge(r, &b);
        int64_t lag = wall_ns() - wrote;
        pthread_mutex_lock(&r->mu);
        r->st.applied += (uint64_t)applied;
        r->st.lag_last_ns = lag;
        if (lag > r->st.lag_max_ns)
            r->st.lag_max_ns = lag;
        pthread_mutex_unlock(&r->mu);
    } else if (n > 2 && msg[0] == 'R' && msg[1] == ' ' && n < 256) {
        char line[256], node[65], idhex[2 * SW_STATE_ID_MAX + 1];
        unsigned kind;
        memcpy(line, msg, n);
        line[n] = '\0';
        char tail;
        if (sscanf(line, "R %64s %u %80s%c", node, &kind, idhex, &tail) != 3 || kind >= SW_STATE_KIND_ALL ||
            strcmp(node, r->node) == 0)
            return;
        sw_state_block b;
        if (parse_id(kind, idhex, &b) != SW_OK)
            return;
        int removed = sw_state_block_remove(r->mirror, b.kind, b.id) == SW_OK;
        pthread_mutex_lock(&r->mu);
        r->st.applied += (uint64_t)removed;
        pthread_mutex_unlock(&r->mu);
    }
}

static void on_reply(sw_redis *r, const sw_resp *v)
{
    if (v->type == SW_RESP_ARRAY && v->n == 3 && v->elem[0] && v->elem[0]->type == SW_RESP_STRING &&
        strcmp(v->elem[0]->str, "message") == 0 && v->elem[2] && v->elem[2]->type == SW_RESP_STRING)
        on_message(r, v->elem[2]->str, v->elem[2]->len);
}

/* ---- resync ------------------------------------------------------------------------------ */

static int seen_cmp(const void *a, const void *b)
{
    const seen *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strncmp(x->id, y->id, SW_STATE_ID_MAX);
}

/* A growing list of keys, at most max (then full = 1). */
typedef struct gather {
    seen *v;
    size_t n, cap, max;
    int full;
} gather;

static void gather_one(void *ctx, sw_state_block *b)
{
    gather *g = ctx;
    if (g->n == g->cap && g->cap < g->max) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        if (cap > g->max)
            cap = g->max;
        seen *v = realloc(g->v, cap * sizeof *v);
        if (v) {
            g->v = v;
            g->cap = cap;
        }
    }
    if (g->n == g->cap) {
        g->full = 1;
    } else {
        g->v[g->n].kind = b->kind;
        memcpy(g->v[g->n].id, b->id, SW_STATE_ID_MAX);
        g->n++;
    }
}

/* Loads the values of keys (an array reply of SCAN) with one MGET. */
static int load_keys(sw_redis *r, const sw_resp *keys, gather *in_redis, uint64_t *loaded, char *err,
                     size_t errlen)
{
    if (keys->n == 0)
        return SW_OK;
    const char **argv = calloc(keys->n + 1, sizeof *argv);
    size_t *lens = calloc(keys->n + 1, sizeof *lens);
    if (!argv || !lens) {
        free(argv);
        free(lens);
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    argv[0] = "MGET";
    lens[0] = 4;
    size_t k = 1;
    for (size_t i = 0; i < keys->n; i++) {
        if (!keys->elem[i] || keys->elem[i]->type != SW_RESP_STRING) {
            free(argv);
            free(lens);
            snprintf(err, errlen, "SCAN: a key that is not a string");
            return SW_EIO;
        }
        argv[k] = keys->elem[i]->str;
        lens[k++] = keys->elem[i]->len;
    }
    sw_resp *v = NULL;
    int rc = k > 1 ? call(r, &r->cmd, (int)k, argv, lens, &v, err, errlen) : SW_OK;
    free(argv);
    free(lens);
    if (rc != SW_OK || !v)
        return rc;
    if (v->type == SW_RESP_ARRAY && v->n == keys->n) {
        for (size_t i = 0; i < v->n; i++) {
            const sw_resp *e = v->elem[i];
            sw_state_block b;
            char origin[65];
            int64_t wrote;
            if (!e || e->type != SW_RESP_STRING)
                continue;
            if (e->len > 2 && e->str[0] == '0' && e->str[1] == ' ') { /* an unblock */
                const sw_resp *key = keys->elem[i];
                size_t pl = strlen(r->prefix);
                unsigned kind;
                char idhex[2 * SW_STATE_ID_MAX + 2], tail;
                if (!key || key->type != SW_RESP_STRING || key->len <= pl + 2 || key->len > KEY_MAX ||
                    sscanf(key->str + pl, "b:%u:%81[0-9a-f]%c", &kind, idhex, &tail) != 2 ||
                    parse_id(kind, idhex, &b) != SW_OK)
                    continue;
                gather_one(in_redis, &b);
                *loaded += (uint64_t)(sw_state_block_remove(r->mirror, b.kind, b.id) == SW_OK);
                continue;
            }
            if (sw_cluster_block_decode(e->str, e->len, &b, origin, &wrote) != SW_OK)
                continue;
            sw_state_block tmp = b;
            gather_one(in_redis, &tmp);
            *loaded += (uint64_t)merge(r, &b);
        }
    }
    sw_resp_free(v);
    return SW_OK;
}

/* SCANs the block keys into the mirror (blocks merged, tombstones
 * removed); then sends what the mirror holds and Redis does not. */
static int resync(sw_redis *r, char *err, size_t errlen)
{
    int64_t t0 = mono_ns();
    sw_state_stats ms;
    sw_state_stats_get(r->mirror, &ms);
    /* bounded: a Redis with more keys than twice our capacity is not
     * followed for the "what Redis lacks" pass */
    gather in_redis = {NULL, 0, 0, (size_t)ms.capacity * 2 + 1024, 0};
    char match[KEY_MAX], cursor[32] = "0";
    int ml = snprintf(match, sizeof match, "%sb:*", r->prefix);
    uint64_t loaded = 0;
    int rc = SW_OK, rounds = 0;
    do {
        const char *argv[6] = {"SCAN", cursor, "MATCH", match, "COUNT", SCAN_COUNT};
        size_t lens[6] = {4, strlen(cursor), 5, (size_t)ml, 5, strlen(SCAN_COUNT)};
        sw_resp *v;
        if ((rc = call(r, &r->cmd, 6, argv, lens, &v, err, errlen)) != SW_OK)
            break;
        if (v->type != SW_RESP_ARRAY || v->n != 2 || !v->elem[0] || v->elem[0]->type != SW_RESP_STRING ||
            v->elem[0]->len >= sizeof cursor || !v->elem[1] || v->elem[1]->type != SW_RESP_ARRAY) {
            snprintf(err, errlen, "SCAN: %.160s", v->type == SW_RESP_ERROR ? v->str : "unexpected reply");
            sw_resp_free(v);
            rc = SW_EIO;
            break;
        }
        memcpy(cursor, v->elem[0]->str, v->elem[0]->len + 1);
        rc = load_keys(r, v->elem[1], &in_redis, &loaded, err, errlen);
        sw_resp_free(v);
        /* bounded: a Redis that never ends its cursor is not followed forever */
        if (++rounds > 1000000) {
            snprintf(err, errlen, "SCAN did not finish");
            rc = SW_EIO;
        }
    } while (rc == SW_OK && strcmp(cursor, "0") != 0 && !atomic_load(&r->stop));
    if (rc == SW_OK && !in_redis.full) { /* complete: what Redis lacks is known */
        if (in_redis.n)
            qsort(in_redis.v, in_redis.n, sizeof *in_redis.v, seen_cmp);
        gather mine = {NULL, 0, 0, ms.capacity, 0};
        sw_state_block_foreach(r->mirror, gather_one, &mine);
        int64_t now = wall_ns();
        for (size_t i = 0; i < mine.n; i++) {
            if ((in_redis.n && bsearch(&mine.v[i], in_redis.v, in_redis.n, sizeof *in_redis.v, seen_cmp)) ||
                queued_for(r, mine.v[i].kind, mine.v[i].id))
                continue;
            sw_state_block b;
            if (sw_state_block_get(r->mirror, mine.v[i].kind, mine.v[i].id, &b) != SW_OK)
                continue;
            /* Redis lost it (or never got it): ours to send again,
             * while it still counts for the doubling */
            qop o = {OP_SET, b};
            if (b.until + SW_STATE_BLOCK_CAP_NS > now && (rc = send_op(r, &o, 1, err, errlen)) != SW_OK) {
                if (rc != SW_ECONFLICT)
                    break;
                rc = SW_OK; /* refused by Redis: counted, the next ones may pass */
                pthread_mutex_lock(&r->mu);
                r->st.refused++;
                pthread_mutex_unlock(&r->mu);
            }
        }
        free(mine.v);
    }
    free(in_redis.v);
    if (rc == SW_OK) {
        pthread_mutex_lock(&r->mu);
        r->st.resyncs++;
        r->st.resync_loaded = loaded;
        r->st.resync_ns = mono_ns() - t0;
        pthread_mutex_unlock(&r->mu);
    }
    return rc;
}

/* ---- the thread ---------------------------------------------------------------------------- */

static int connect_all(sw_redis *r, char *err, size_t errlen)
{
    int rc = dial(r, &r->cmd, err, errlen);
    if (rc == SW_OK)
        rc = dial(r, &r->sub, err, errlen);
    if (rc == SW_OK) {
        const char *argv[2] = {"SUBSCRIBE", r->channel};
        size_t lens[2] = {9, strlen(r->channel)};
        sw_resp *v;
        if ((rc = call(r, &r->sub, 2, argv, lens, &v, err, errlen)) == SW_OK) {
            if (v->type != SW_RESP_ARRAY || v->n < 1 || !v->elem[0] || v->elem[0]->type != SW_RESP_STRING ||
                strcmp(v->elem[0]->str, "subscribe") != 0) {
                snprintf(err, errlen, "SUBSCRIBE %s refused: %.160s", r->channel,
                         v->type == SW_RESP_ERROR ? v->str : "unexpected reply");
                rc = SW_EIO;
            }
            sw_resp_free(v);
        }
    }
    /* subscribed first: nothing published from here on is missed */
    if (rc == SW_OK)
        rc = flush_queue(r, err, errlen);
    if (rc == SW_OK)
        rc = resync(r, err, errlen);
    if (rc != SW_OK) {
        conn_close(&r->cmd);
        conn_close(&r->sub);
    }
    return rc;
}

static void set_down(sw_redis *r, const char *why, int was_up, int backoff_ms)
{
    conn_close(&r->cmd);
    conn_close(&r->sub);
    pthread_mutex_lock(&r->mu);
    r->st.connected = 0;
    r->st.failures++;
    pthread_mutex_unlock(&r->mu);
    char where[SW_ADDR_STRLEN];
    sw_addr_format(&r->addr, where, sizeof where);
    /* one line per change of reason, not one per attempt */
    if (was_up || strcmp(why, r->last_err) != 0)
        logf_(r, was_up ? 4 : 3, "redis %s: %s; screening goes on with the local state, retrying every %d ms at most",
              where, why, backoff_ms);
    snprintf(r->last_err, sizeof r->last_err, "%s", why);
}

static void *run(void *arg)
{
    sw_redis *r = arg;
    int up = 0, backoff = BACKOFF_MIN_MS;
    int64_t next_try = 0;
    char err[256], where[SW_ADDR_STRLEN];
    sw_addr_format(&r->addr, where, sizeof where);
    while (!atomic_load(&r->stop)) {
        if (!up) {
            int64_t now = mono_ns();
            if (now < next_try) {
                struct pollfd p = {r->wake_fd, POLLIN, 0};
                int ms = (int)((next_try - now) / 1000000) + 1;
                if (poll(&p, 1, ms) > 0) {
                    uint64_t v;
                    ssize_t n = read(r->wake_fd, &v, sizeof v);
                    (void)n;
                }
                continue;
            }
            if (connect_all(r, err, sizeof err) != SW_OK) {
                set_down(r, err, 0, BACKOFF_MAX_MS);
                next_try = mono_ns() + (int64_t)backoff * 1000000;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            up = 1;
            backoff = BACKOFF_MIN_MS;
            r->last_err[0] = '\0';
            pthread_mutex_lock(&r->mu);
            r->st.connected = 1;
            r->st.connects++;
            sw_redis_stats st = r->st;
            pthread_mutex_unlock(&r->mu);
            logf_(r, 6, "redis %s: connected as node %s%s; resynchronised: %llu entries loaded in %.1f ms", where,
                  r->node, r->tls ? " over TLS" : "", (unsigned long long)st.resync_loaded, st.resync_ns / 1e6);
        }
        struct pollfd p[2] = {{sw_stream_fd(r->sub.s), POLLIN, 0}, {r->wake_fd, POLLIN, 0}};
        int timeout = sw_stream_pending(r->sub.s) ? 0 : 1000;
        if (poll(p, 2, timeout) > 0 && (p[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t n = read(r->wake_fd, &v, sizeof v);
            (void)n;
        }
        int rc = pull(&r->sub, err, sizeof err);
        sw_resp *v;
        while (rc == SW_OK && sw_resp_next(r->sub.rd, &v) == SW_OK) {
            on_reply(r, v);
            sw_resp_free(v);
        }
        if (rc == SW_OK && sw_resp_error(r->sub.rd)[0]) {
            snprintf(err, sizeof err, "bad message: %s", sw_resp_error(r->sub.rd));
            rc = SW_EIO;
        }
        if (rc == SW_OK)
            rc = flush_queue(r, err, sizeof err);
        if (rc != SW_OK) {
            up = 0;
            set_down(r, err, 1, BACKOFF_MAX_MS);
            next_try = mono_ns() + (int64_t)backoff * 1000000;
        }
    }
    conn_close(&r->cmd);
    conn_close(&r->sub);
    return NULL;
}

/* ---- ops ------------------------------------------------------------------------------------ */

static int64_t r_block_set(void *self, const sw_state_block *b, int64_t dur_ns, sw_state_block *evicted,
                           int *nevicted)
{
    sw_redis *r = self;
    int64_t until = sw_state_block_set(r->mirror, b, dur_ns, evicted, nevicted);
    sw_state_block e;
    if (until && sw_state_block_get(r->mirror, b->kind, b->id, &e) == SW_OK) {
        e.suppressed = 0;
        enqueue(r, OP_SET, &e);
    }
    return until;
}

static int r_block_hit(void *self, uint8_t kind, const char *id, int64_t now, const sw_state_where *at,
                       sw_state_block *out, int *ended)
{
    return sw_state_block_hit(((sw_redis *)self)->mirror, kind, id, now, at, out, ended);
}

static int r_block_get(void *self, uint8_t kind, const char *id, sw_state_block *out)
{
    return sw_state_block_get(((sw_redis *)self)->mirror, kind, id, out);
}

static int r_block_remove(void *self, uint8_t kind, const char *id)
{
    sw_redis *r = self;
    int rc = sw_state_block_remove(r->mirror, kind, id);
    /* Redis may hold it although the mirror does not (evicted here) */
    sw_state_block b;
    memset(&b, 0, sizeof b);
    b.kind = kind;
    memcpy(b.id, id, strnlen(id, SW_STATE_ID_MAX - 1));
    if (b.id[0])
        enqueue(r, OP_DEL, &b);
    return rc;
}

static void r_block_foreach(void *self, sw_state_block_fn fn, void *ctx)
{
    sw_state_block_foreach(((sw_redis *)self)->mirror, fn, ctx);
}

static const _Atomic uint32_t *r_kinds(void *self)
{
    return sw_state_kinds(((sw_redis *)self)->mirror);
}

static int r_window_hit(void *self, uint64_t key, int64_t now, int64_t win_ns, int take, uint64_t limit,
                        sw_state_window *cur, sw_state_window *rolled)
{
    return sw_state_window_hit(((sw_redis *)self)->mirror, key, now, win_ns, take, limit, cur, rolled);
}

static uint64_t r_window_take_held(void *self, uint64_t key)
{
    return sw_state_window_take_held(((sw_redis *)self)->mirror, key);
}

static int r_resize(void *self, uint32_t capacity, uint64_t *migrated, uint64_t *dropped)
{
    return sw_state_resize(((sw_redis *)self)->mirror, capacity, migrated, dropped);
}

static void r_stats(void *self, sw_state_stats *out)
{
    sw_redis *r = self;
    sw_state_stats_get(r->mirror, out);
    out->memory += sizeof *r + (size_t)r->qcap * sizeof *r->q;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = '\0';
        free(s);
    }
}

static void r_free(void *self)
{
    sw_redis *r = self;
    if (!r)
        return;
    if (r->started) {
        atomic_store(&r->stop, 1);
        wake(r);
        pthread_join(r->th, NULL);
    }
    if (r->wake_fd >= 0)
        close(r->wake_fd);
    sw_state_free(r->mirror);
    free(r->q);
    free(r->user);
    wipe_free(r->password);
    free(r->prefix);
    free(r->node);
    free(r->tls_name);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static const sw_state_ops redis_ops = {
    .block_set = r_block_set,
    .block_hit = r_block_hit,
    .block_get = r_block_get,
    .block_remove = r_block_remove,
    .block_foreach = r_block_foreach,
    .kinds = r_kinds,
    .window_hit = r_window_hit,
    .window_take_held = r_window_take_held,
    .resize = r_resize,
    .stats = r_stats,
    .free = r_free,
};

static int name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 127)
            return 0;
    }
    return 1;
}

sw_state_store *sw_state_redis_new(const sw_redis_config *c, sw_redis **handle, char *err, size_t errlen)
{
    *handle = NULL;
    if (c->addr.family != 4 && c->addr.family != 6) {
        snprintf(err, errlen, "redis: no address");
        return NULL;
    }
    if (!name_ok(c->prefix, 64) || !name_ok(c->node, 64)) {
        snprintf(err, errlen, "redis: prefix and node must be 1..64 printable characters without spaces");
        return NULL;
    }
    if ((c->user && !name_ok(c->user, 128)) || (c->user && !c->password)) {
        snprintf(err, errlen, "redis: a user needs a password, and its name 1..128 printable characters");
        return NULL;
    }
    if (c->password && (!c->password[0] || strlen(c->password) > 512)) {
        snprintf(err, errlen, "redis: the password must be 1..512 bytes");
        return NULL;
    }
    sw_redis *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r->addr = c->addr;
    r->tls = c->tls;
    r->timeout_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 2000;
    r->log = c->log;
    r->log_ctx = c->log_ctx;
    r->qcap = c->queue ? c->queue : 16384;
    r->q = calloc(r->qcap, sizeof *r->q);
    r->prefix = strdup(c->prefix);
    r->node = strdup(c->node);
    r->user = c->user ? strdup(c->user) : NULL;
    r->password = c->password ? strdup(c->password) : NULL;
    r->tls_name = c->tls_name ? strdup(c->tls_name) : NULL;
    snprintf(r->channel, sizeof r->channel, "%sblocks", c->prefix);
    r->mirror = sw_state_mem_new(c->capacity);
    if (r->wake_fd < 0 || !r->q || !r->prefix || !r->node || (c->user && !r->user) ||
        (c->password && !r->password) || (c->tls_name && !r->tls_name) || !r->mirror) {
        snprintf(err, errlen, r->mirror ? "out of memory" : "redis: bad capacity %u or out of memory", c->capacity);
        r_free(r);
        return NULL;
    }
    if (pthread_create(&r->th, NULL, run, r) != 0) {
        snprintf(err, errlen, "redis: cannot start its thread");
        r_free(r);
        return NULL;
    }
    r->started = 1;
    sw_state_store *s = sw_state_new(&redis_ops, r); /* frees r on failure */
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *handle = r;
    return s;
}

void sw_redis_stats_get(sw_redis *r, sw_redis_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->st;
    pthread_mutex_unlock(&r->mu);
}
