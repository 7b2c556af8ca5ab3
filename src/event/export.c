/* The exporter (include/sipwall/event.h, "the exporter"): one thread per
 * configured collector, reading the event store with its own handle and
 * sending every event as one octet-counted RFC 5424 message over TLS
 * (RFC 5425) or DTLS (RFC 6012).
 *
 * Delivery is at-least-once.  The cursor "export:NAME" in the store moves
 * only when a batch is known to have left us: over TLS when the
 * collector's TCP has acknowledged its last byte (TCP_INFO bytes_acked
 * against the connection's byte count when the batch was queued), over
 * DTLS when the record was written; it is persisted whenever it moves.
 * What our own send queue held when a session died is therefore sent
 * again.  An acknowledged byte is still not a delivery (a collector killed
 * with data in its receive buffer loses it: the spec measured 1..18 lost
 * per outage), so after every new session the last `window` events before
 * the cursor are sent again too; resends are counted (duplicates).
 *
 * TLS 1.3 lets our handshake finish before the collector has checked our
 * certificate: a new session is confirmed by waiting briefly for what the
 * collector sends first (a session ticket: accepted; an alert or EOF:
 * refused), and the stream looks for an alert before every write.
 *
 * DTLS is best effort: a collector that loses its session state (restart
 * on the same port) drops our records without telling us, so sessions are
 * renewed every dtls_rekey_s seconds / dtls_rekey_records records, and
 * each renewal resends the window.  What was sent between the loss and the
 * renewal, beyond the window, is lost. */
#include <errno.h>
#include <linux/sockios.h> /* SIOCOUTQ */
#include <linux/tcp.h>     /* TCP_INFO with tcpi_bytes_acked */
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sipwall/event.h"
#include "sipwall/net.h"

#define EXP_NAME_MAX 32
#define EXP_BUF (1u << 20)                 /* bytes of frames per batch, at most */
#define EXP_FRAME_MAX (SW_SYSLOG_MAX_MSG + SW_SYSLOG_FRAME_HDR)
#define EXP_CONNECT_MS 5000                /* TCP connect */
#define EXP_HANDSHAKE_MS 10000             /* TLS/DTLS handshake */
#define EXP_CONFIRM_MS 1000                /* TLS 1.3: waiting for the collector's verdict */
#define EXP_WRITE_MS 10000                 /* a batch that cannot be written within: session lost */
#define EXP_LOG_EVERY_NS INT64_C(10000000000) /* one log line per kind per 10 s */
#define EXP_INFLIGHT 32                    /* TLS batches written, not yet acked by the collector's TCP */

enum { LOG_CONNECT, LOG_HANDSHAKE, LOG_WRITE, LOG_STORE, LOG__COUNT };

struct sw_exporter {
    uint8_t cursor_read; /* the thread read its cursor from the store */
    char name[EXP_NAME_MAX];
    char cursor_name[EXP_NAME_MAX + 8];
    char *store_path, *host, *server_name, *hostname, *app_name, *version;
    uint16_t port;
    sw_export_transport transport;
    sw_syslog_opts syslog;
    unsigned window, batch, backoff_min_ms, backoff_max_ms, rekey_s, rekey_records, poll_ms;
    unsigned dtls_rate;       /* records per second at most (DTLS pacing) */
    int64_t pace_ns;          /* DTLS: when the next record may go */
    void (*log)(void *arg, int level, const char *msg);
    void *log_arg;
    SSL_CTX *ctx;

    pthread_t thread;
    int started;
    atomic_int stop;

    /* counters (written by the thread, read by anyone) */
    _Atomic uint64_t sent, duplicates, reconnects, connect_failures, handshake_failures,
        write_failures, format_errors;
    _Atomic int64_t cursor, last_id;
    atomic_uchar connected;

    /* the thread's own state */
    sw_event_store *store;
    sw_stream *st;
    int64_t pos;              /* last id sent in this session */
    int64_t session_ns;       /* when the session started */
    uint64_t session_records;
    int had_session;
    int renewing;             /* DTLS: the next session is a planned renewal (logged at debug) */
    unsigned backoff_ms;
    int64_t next_try_ns;
    int64_t log_ns[LOG__COUNT];
    unsigned log_suppressed[LOG__COUNT];
    int64_t sent_hwm;         /* the highest id ever written (resends are ids <= it) */
    struct {
        int64_t id;           /* last id of a written batch */
        uint64_t mark;        /* the connection's byte count once it was queued */
    } inflight[EXP_INFLIGHT]; /* TLS: a FIFO, oldest at in_head */
    unsigned in_head, in_n;
    char *buf;                /* the batch's frames, EXP_BUF bytes */
    size_t *frame_end;        /* end offset of each frame in buf (batch entries) */
    int64_t *frame_id;        /* store id of each frame */
};

/* ---- small helpers ------------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *dup_or_null(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

static void exp_log(sw_exporter *e, int level, const char *fmt, ...) SW_PRINTF(3, 4);
static void exp_log(sw_exporter *e, int level, const char *fmt, ...)
{
    char msg[600];
    int n = snprintf(msg, sizeof msg, "export %s: ", e->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (e->log)
        e->log(e->log_arg, level, msg);
    else
        fprintf(stderr, "%s\n", msg);
}

/* Failures repeat on every retry while a collector is down: one line per
 * kind per EXP_LOG_EVERY_NS, saying how many were left out. */
static int log_allowed(sw_exporter *e, int kind, unsigned *suppressed)
{
    int64_t t = now_ns();
    if (e->log_ns[kind] && t - e->log_ns[kind] < EXP_LOG_EVERY_NS) {
        e->log_suppressed[kind]++;
        return 0;
    }
    e->log_ns[kind] = t;
    *suppressed = e->log_suppressed[kind];
    e->log_suppressed[kind] = 0;
    return 1;
}

#define EXP_LOG_LIMITED(e, kind, level, fmt, ...)                                            \
    do {                                                                                     \
        unsigned sup_ = 0;                                                                   \
        if (log_allowed(e, kind, &sup_)) {                                                   \
            if (sup_)                                                                        \
                exp_log(e, level, fmt " (and %u more like it not logged)", __VA_ARGS__, sup_); \
            else                                                                             \
                exp_log(e, level, fmt, __VA_ARGS__);                                         \
        }                                                                                    \
    } while (0)

/* Sleeps up to ms, in slices, returning early when asked to stop. */
static void nap(sw_exporter *e, unsigned ms)
{
    while (ms > 0 && !atomic_load(&e->stop)) {
        unsigned slice = ms < 50 ? ms : 50;
        struct timespec ts = {0, (long)slice * 1000000};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

/* The next reconnect delay: backoff_ms jittered by ±25 %, then doubled up
 * to the cap. */
static void schedule_retry(sw_exporter *e)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)now_ns();
    uint64_t base = e->backoff_ms;
    uint64_t jit = base / 2 ? (uint64_t)r % (base / 2 + 1) : 0; /* 0..base/2 */
    uint64_t delay = base - base / 4 + jit;
    e->next_try_ns = now_ns() + (int64_t)delay * 1000000;
    e->backoff_ms = e->backoff_ms * 2 > e->backoff_max_ms ? e->backoff_max_ms : e->backoff_ms * 2;
}

/* ---- configuration ------------------------------------------------------------------ */

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= EXP_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

sw_exporter *sw_exporter_new(const sw_exporter_conf *c, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!c->name || !name_ok(c->name)) {
        snprintf(err, errlen, "exporter name: 1..%d of [A-Za-z0-9._-]", EXP_NAME_MAX - 1);
        return NULL;
    }
    if (!c->store || !c->host || !*c->host || c->port == 0) {
        snprintf(err, errlen, "export %s: a store, a host and a port are needed", c->name);
        return NULL;
    }
    if (!c->ca || !c->cert || !c->key) {
        snprintf(err, errlen, "export %s: ca=, cert= and key= are needed (mutual TLS)", c->name);
        return NULL;
    }
    if (c->transport != SW_EXPORT_TLS && c->transport != SW_EXPORT_DTLS) {
        snprintf(err, errlen, "export %s: transport is tls or dtls", c->name);
        return NULL;
    }
    if (!sw_export_format_name(c->syslog.format) || c->syslog.facility > 23) {
        snprintf(err, errlen, "export %s: bad format or facility", c->name);
        return NULL;
    }
    sw_exporter *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int fail = 0;
    snprintf(e->name, sizeof e->name, "%s", c->name);
    snprintf(e->cursor_name, sizeof e->cursor_name, "export:%s", c->name);
    e->store_path = dup_or_null(c->store, &fail);
    e->host = dup_or_null(c->host, &fail);
    e->server_name = dup_or_null(c->server_name ? c->server_name : c->host, &fail);
    e->hostname = dup_or_null(c->syslog.hostname, &fail);
    e->app_name = dup_or_null(c->syslog.app_name, &fail);
    e->version = dup_or_null(c->syslog.version, &fail);
    e->port = c->port;
    e->transport = c->transport;
    e->syslog = c->syslog;
    e->syslog.hostname = e->hostname;
    e->syslog.app_name = e->app_name;
    e->syslog.version = e->version;
    e->window = c->window ? c->window : 64;
    e->batch = c->batch ? c->batch : 256;
    if (e->batch > 4096)
        e->batch = 4096;
    e->backoff_min_ms = c->backoff_min_ms ? c->backoff_min_ms : 250;
    e->backoff_max_ms = c->backoff_max_ms ? c->backoff_max_ms : 30000;
    if (e->backoff_max_ms < e->backoff_min_ms)
        e->backoff_max_ms = e->backoff_min_ms;
    e->rekey_s = c->dtls_rekey_s ? c->dtls_rekey_s : 10;
    e->rekey_records = c->dtls_rekey_records ? c->dtls_rekey_records : 50000;
    e->poll_ms = c->poll_ms ? c->poll_ms : 50;
    e->dtls_rate = c->dtls_rate ? c->dtls_rate : 5000;
    e->log = c->log;
    e->log_arg = c->log_arg;
    e->backoff_ms = e->backoff_min_ms;
    e->buf = malloc(EXP_BUF);
    e->frame_end = calloc(e->batch, sizeof *e->frame_end);
    e->frame_id = calloc(e->batch, sizeof *e->frame_id);
    if (fail || !e->buf || !e->frame_end || !e->frame_id) {
        snprintf(err, errlen, "out of memory");
        sw_exporter_free(e);
        return NULL;
    }
    if (e->transport == SW_EXPORT_DTLS)
        e->ctx = sw_dtls_client_ctx(c->cert, c->key, c->ca, err, errlen);
    else
        e->ctx = sw_tls_client_ctx(c->cert, c->key, c->ca, SW_TLS_VERIFY_REQUIRED, err, errlen);
    if (!e->ctx) {
        sw_exporter_free(e);
        return NULL;
    }
    return e;
}

const char *sw_exporter_name(const sw_exporter *e) { return e->name; }

void sw_exporter_get_stats(const sw_exporter *e, sw_exporter_stats *out)
{
    sw_exporter *m = (sw_exporter *)e; /* atomics are read through a non-const pointer */
    memset(out, 0, sizeof *out);
    out->sent = atomic_load(&m->sent);
    out->duplicates = atomic_load(&m->duplicates);
    out->reconnects = atomic_load(&m->reconnects);
    out->connect_failures = atomic_load(&m->connect_failures);
    out->handshake_failures = atomic_load(&m->handshake_failures);
    out->write_failures = atomic_load(&m->write_failures);
    out->format_errors = atomic_load(&m->format_errors);
    out->cursor = atomic_load(&m->cursor);
    out->last_id = atomic_load(&m->last_id);
    out->behind = out->last_id > out->cursor ? out->last_id - out->cursor : 0;
    out->connected = atomic_load(&m->connected);
}

/* ---- sessions ---------------------------------------------------------------------- */

/* Waits until the stream wants nothing more than it said, the deadline, or
 * stop.  1: go on; 0: timed out or stopping. */
static int wait_stream(sw_exporter *e, sw_stream *st, int64_t deadline)
{
    unsigned w = sw_stream_want(st);
    short ev = (short)(((w & SW_STREAM_WANT_WRITE) ? POLLOUT : 0) | POLLIN);
    int64_t left = (deadline - now_ns()) / 1000000;
    if (left <= 0 || atomic_load(&e->stop))
        return 0;
    int t = left > 100 ? 100 : (int)left;
    int to = sw_stream_timeout_ms(st);
    if (to >= 0 && to < t)
        t = to;
    struct pollfd pf = {sw_stream_fd(st), ev, 0};
    (void)poll(&pf, 1, t);
    return 1;
}

/* A socket connected (or connecting, TCP) to the collector, or -1. */
static int open_socket(sw_exporter *e, char *why, size_t whylen)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = e->transport == SW_EXPORT_DTLS ? SOCK_DGRAM : SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof port, "%u", e->port);
    int r = getaddrinfo(e->host, port, &hints, &res);
    if (r != 0 || !res) {
        snprintf(why, whylen, "resolving %s: %s", e->host, gai_strerror(r));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        freeaddrinfo(res);
        return -1;
    }
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        snprintf(why, whylen, "connect: %s", strerror(errno));
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    if (e->transport == SW_EXPORT_DTLS)
        return fd;
    int64_t deadline = now_ns() + (int64_t)EXP_CONNECT_MS * 1000000;
    for (;;) {
        struct pollfd pf = {fd, POLLOUT, 0};
        int left = (int)((deadline - now_ns()) / 1000000);
        if (left <= 0 || atomic_load(&e->stop)) {
            snprintf(why, whylen, "connect: timed out");
            close(fd);
            return -1;
        }
        if (poll(&pf, 1, left > 100 ? 100 : left) > 0)
            break;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
        snprintf(why, whylen, "connect: %s", strerror(soerr ? soerr : errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void drop_session(sw_exporter *e)
{
    e->in_n = 0; /* not acknowledged: sent again from the cursor */
    e->in_head = 0;
    sw_stream_close(e->st);
    e->st = NULL;
    atomic_store(&e->connected, 0);
}

/* TLS 1.3: the collector's verdict on our certificate comes after our
 * handshake ended.  Waits up to EXP_CONFIRM_MS for its first bytes: a
 * session ticket (read as SW_EAGAIN) or nothing means accepted; EOF or an
 * alert means refused.  SW_OK or the failure. */
static int confirm_session(sw_exporter *e)
{
    if (e->transport != SW_EXPORT_TLS || strcmp(sw_stream_version(e->st), "TLSv1.3") != 0)
        return SW_OK;
    int64_t deadline = now_ns() + (int64_t)EXP_CONFIRM_MS * 1000000;
    while (now_ns() < deadline && !atomic_load(&e->stop)) {
        struct pollfd pf = {sw_stream_fd(e->st), POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        char b[256];
        ssize_t r = sw_stream_read(e->st, b, sizeof b);
        if (r == SW_EAGAIN || r > 0)
            return SW_OK; /* a ticket, or (unexpected) data: the collector took us */
        return r == 0 ? SW_EIO : (int)r;
    }
    return SW_OK;
}

/* Sets up a session.  SW_OK, or a failure already counted and logged. */
static int connect_session(sw_exporter *e)
{
    char why[300];
    int fd = open_socket(e, why, sizeof why);
    if (fd < 0) {
        atomic_fetch_add(&e->connect_failures, 1);
        EXP_LOG_LIMITED(e, LOG_CONNECT, 1, "collector %s:%u unreachable: %s", e->host, e->port,
                        why);
        return SW_EIO;
    }
    e->st = e->transport == SW_EXPORT_DTLS ? sw_stream_dtls_client_new(fd, e->ctx, e->server_name)
                                           : sw_stream_tls_client_new(fd, e->ctx, e->server_name);
    if (!e->st) {
        atomic_fetch_add(&e->connect_failures, 1);
        EXP_LOG_LIMITED(e, LOG_CONNECT, 0, "%s", "out of memory for a session");
        return SW_ENOMEM;
    }
    int64_t deadline = now_ns() + (int64_t)EXP_HANDSHAKE_MS * 1000000;
    int r;
    while ((r = sw_stream_handshake(e->st)) == SW_EAGAIN)
        if (!wait_stream(e, e->st, deadline)) {
            r = SW_EIO;
            snprintf(why, sizeof why, "%s", atomic_load(&e->stop) ? "stopping" : "timed out");
            break;
        }
    if (r == SW_OK)
        r = confirm_session(e);
    if (r != SW_OK) {
        const char *reason = sw_stream_error(e->st);
        if (!*reason)
            reason = why;
        /* DTLS to a closed port: ICMP says so; that is not a handshake
         * failure but the collector being down. */
        if (e->transport == SW_EXPORT_DTLS && r == SW_EIO && strstr(reason, "refused")) {
            atomic_fetch_add(&e->connect_failures, 1);
            EXP_LOG_LIMITED(e, LOG_CONNECT, 1, "collector %s:%u unreachable: %s", e->host, e->port,
                            reason);
        } else if (!atomic_load(&e->stop)) {
            atomic_fetch_add(&e->handshake_failures, 1);
            EXP_LOG_LIMITED(e, LOG_HANDSHAKE, 0, "%s handshake with %s:%u (expecting %s) failed: %s%s",
                            e->transport == SW_EXPORT_DTLS ? "DTLS" : "TLS", e->host, e->port,
                            e->server_name, reason,
                            r == SW_EAUTH ? " (certificate refused)" : "");
        }
        drop_session(e);
        return r;
    }
    e->session_ns = now_ns();
    e->session_records = 0;
    if (e->had_session)
        atomic_fetch_add(&e->reconnects, 1);
    e->had_session = 1;
    atomic_store(&e->connected, 1);
    /* At-least-once: what the previous session wrote last may not have
     * reached the collector; send the window before the cursor again. */
    int64_t cur = atomic_load(&e->cursor);
    e->pos = cur > (int64_t)e->window ? cur - (int64_t)e->window : 0;
    if (cur > e->sent_hwm)
        e->sent_hwm = cur; /* a restart: what the cursor passed went out before */
    exp_log(e, e->renewing ? 3 : 2, "%s %s:%u (%s), sending from id %lld (cursor %lld)",
            e->renewing ? "session renewed with" : "connected to", e->host, e->port,
            sw_stream_version(e->st), (long long)e->pos + 1, (long long)cur);
    e->renewing = 0;
    return SW_OK;
}

/* The collector never sends us data; a readable stream is a ticket, an
 * alert or the end.  SW_OK while alive. */
static int check_alive(sw_exporter *e)
{
    struct pollfd pf = {sw_stream_fd(e->st), POLLIN, 0};
    if (sw_stream_pending(e->st) == 0 && poll(&pf, 1, 0) <= 0)
        return SW_OK;
    char b[512];
    for (int i = 0; i < 16; i++) {
        ssize_t r = sw_stream_read(e->st, b, sizeof b);
        if (r == SW_EAGAIN)
            return SW_OK;
        if (r <= 0)
            return r == 0 ? SW_EIO : (int)r;
    }
    return SW_OK;
}

/* ---- batches ------------------------------------------------------------------------ */

typedef struct batch_ctx {
    sw_exporter *e;
    unsigned n;
    size_t used;
    int64_t last; /* last id looked at (formatted or skipped) */
} batch_ctx;

static int batch_row(void *arg, const sw_event_row *row)
{
    batch_ctx *b = arg;
    sw_exporter *e = b->e;
    if (b->n == e->batch || EXP_BUF - b->used < EXP_FRAME_MAX)
        return 1;
    char msg[SW_SYSLOG_MAX_MSG];
    int n = sw_syslog_format(&e->syslog, row->id, row->ts_ns, row->json, row->json_len, msg,
                             sizeof msg);
    b->last = row->id;
    if (n < 0) {
        /* A row we cannot read is skipped (counted): it would otherwise
         * stop the exporter for good. */
        atomic_fetch_add(&e->format_errors, 1);
        return 0;
    }
    int f = sw_syslog_frame(msg, (size_t)n, e->buf + b->used, EXP_BUF - b->used);
    if (f < 0) {
        atomic_fetch_add(&e->format_errors, 1);
        return 0;
    }
    b->used += (size_t)f;
    e->frame_end[b->n] = b->used;
    e->frame_id[b->n] = row->id;
    b->n++;
    return 0;
}

/* Writes buf[from, to) completely (TLS) or as one record (DTLS).  SW_OK or
 * the failure. */
static int write_all(sw_exporter *e, size_t from, size_t to, int64_t deadline)
{
    while (from < to) {
        ssize_t w = sw_stream_write(e->st, e->buf + from, to - from);
        if (w > 0) {
            if (e->transport == SW_EXPORT_DTLS)
                return SW_OK; /* one record, all or nothing */
            from += (size_t)w;
            continue;
        }
        if (w == SW_EAGAIN) {
            if (!wait_stream(e, e->st, deadline))
                return SW_EIO;
            continue;
        }
        return w == 0 ? SW_EIO : (int)w;
    }
    return SW_OK;
}

/* DTLS has no flow control: a backlog written at full speed overflows the
 * collector's socket buffer and is dropped without a word (measured: 1 in
 * 10 of 20000 records into socat).  Records are spaced 1/dtls_rate apart;
 * an idle spell builds up credit for 16 records at most. */
static void pace(sw_exporter *e)
{
    int64_t gap = 1000000000 / (int64_t)e->dtls_rate;
    int64_t t = now_ns();
    if (e->pace_ns < t - gap * 16)
        e->pace_ns = t - gap * 16;
    if (e->pace_ns > t) {
        int64_t w = e->pace_ns - t;
        struct timespec ts = {(time_t)(w / 1000000000), (long)(w % 1000000000)};
        nanosleep(&ts, NULL);
    }
    e->pace_ns += gap;
}

/* The connection's TCP byte counts: acknowledged by the collector, and
 * queued by us in all (acknowledged + in the send queue).  -1 when the
 * kernel does not say. */
static int tcp_progress(int fd, uint64_t *acked, uint64_t *queued)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    int outq = 0;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0 ||
        l < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked ||
        ioctl(fd, SIOCOUTQ, &outq) != 0 || outq < 0)
        return -1;
    *acked = ti.tcpi_bytes_acked;
    *queued = ti.tcpi_bytes_acked + (uint64_t)outq;
    return 0;
}

static void set_cursor(sw_exporter *e, int64_t id)
{
    if (id <= atomic_load(&e->cursor))
        return;
    atomic_store(&e->cursor, id);
    int s = sw_event_store_cursor_set(e->store, e->cursor_name, id);
    if (s != SW_OK)
        EXP_LOG_LIMITED(e, LOG_STORE, 0, "saving the cursor: %s", sw_strerror(s));
}

/* TLS: moves the cursor over the batches the collector's TCP has
 * acknowledged. */
static void ack_progress(sw_exporter *e)
{
    uint64_t acked, queued;
    if (!e->st || e->in_n == 0)
        return;
    if (tcp_progress(sw_stream_fd(e->st), &acked, &queued) != 0)
        return; /* unknown: nothing counts as acknowledged */
    int64_t id = -1;
    while (e->in_n > 0 && e->inflight[e->in_head].mark <= acked) {
        id = e->inflight[e->in_head].id;
        e->in_head = (e->in_head + 1) % EXP_INFLIGHT;
        e->in_n--;
    }
    if (id >= 0)
        set_cursor(e, id);
}

/* Records a batch written up to id (TLS: its bytes must be acknowledged
 * before the cursor passes it; DTLS: it is passed now). */
static void batch_written(sw_exporter *e, int64_t id)
{
    uint64_t acked, queued;
    if (e->transport == SW_EXPORT_DTLS || tcp_progress(sw_stream_fd(e->st), &acked, &queued) != 0) {
        set_cursor(e, id);
        return;
    }
    if (e->in_n == EXP_INFLIGHT) /* the caller waits for room; never here */
        ack_progress(e);
    unsigned slot = (e->in_head + e->in_n) % EXP_INFLIGHT;
    e->inflight[slot].id = id;
    e->inflight[slot].mark = queued;
    e->in_n++;
    ack_progress(e);
}

/* Sends the next batch after e->pos.  1: sent something, 0: nothing to
 * send, <0: the session failed. */
static int send_batch(sw_exporter *e)
{
    batch_ctx b = {e, 0, 0, e->pos};
    int r = sw_event_store_scan(e->store, e->pos, e->batch, batch_row, &b);
    if (r < 0) {
        EXP_LOG_LIMITED(e, LOG_STORE, 0, "reading the store: %s", sw_strerror(r));
        return 0;
    }
    if (b.last == e->pos)
        return 0;
    int64_t deadline = now_ns() + (int64_t)EXP_WRITE_MS * 1000000;
    int rc = SW_OK;
    unsigned done = 0;
    if (b.n > 0 && (rc = check_alive(e)) == SW_OK) {
        if (e->transport == SW_EXPORT_DTLS) {
            size_t start = 0;
            for (; done < b.n && !atomic_load(&e->stop); done++) {
                pace(e);
                if ((rc = write_all(e, start, e->frame_end[done], deadline)) != SW_OK)
                    break;
                start = e->frame_end[done];
            }
        } else if ((rc = write_all(e, 0, b.used, deadline)) == SW_OK) {
            done = b.n;
        }
    }
    uint64_t dups = 0;
    for (unsigned i = 0; i < done; i++)
        dups += e->frame_id[i] <= e->sent_hwm;
    if (done > 0 && e->frame_id[done - 1] > e->sent_hwm)
        e->sent_hwm = e->frame_id[done - 1];
    atomic_fetch_add(&e->sent, done);
    atomic_fetch_add(&e->duplicates, dups);
    e->session_records += done;
    if (rc != SW_OK) {
        if (done > 0) { /* DTLS: the records written went out */
            e->pos = e->frame_id[done - 1];
            batch_written(e, e->pos);
        }
        ack_progress(e); /* what the collector's TCP took before the end */
        atomic_fetch_add(&e->write_failures, 1);
        EXP_LOG_LIMITED(e, LOG_WRITE, 1, "session with %s:%u lost while sending: %s", e->host,
                        e->port, sw_stream_error(e->st));
        return rc;
    }
    e->pos = b.last;
    batch_written(e, e->pos);
    /* A session that carried a batch is a good one: the next failure
     * starts the backoff from the bottom again. */
    e->backoff_ms = e->backoff_min_ms;
    return 1;
}

static void save_cursor(sw_exporter *e)
{
    if (e->store)
        (void)sw_event_store_cursor_set(e->store, e->cursor_name, atomic_load(&e->cursor));
}

/* ---- the thread --------------------------------------------------------------------- */

static int open_store(sw_exporter *e)
{
    char err[300];
    if (sw_exporter_open_store(e, err, sizeof err) != SW_OK) {
        EXP_LOG_LIMITED(e, LOG_STORE, 0, "%s", err);
        return SW_EIO;
    }
    int64_t c = 0;
    int r = sw_event_store_cursor_get(e->store, e->cursor_name, &c);
    if (r != SW_OK && r != SW_ENOTFOUND) {
        EXP_LOG_LIMITED(e, LOG_STORE, 0, "reading the cursor: %s", sw_strerror(r));
        sw_event_store_close(e->store);
        e->store = NULL;
        return r;
    }
    atomic_store(&e->cursor, r == SW_OK ? c : 0);
    e->cursor_read = 1;
    return SW_OK;
}

int sw_exporter_open_store(sw_exporter *e, char *err, size_t errlen)
{
    if (e->store)
        return SW_OK;
    sw_event_store_opts o;
    memset(&o, 0, sizeof o);
    char why[300];
    e->store = sw_event_store_open(e->store_path, &o, why, sizeof why);
    if (!e->store) {
        if (err && errlen)
            snprintf(err, errlen, "event store %s: %s", e->store_path, why);
        return SW_EIO;
    }
    return SW_OK;
}

static void *exporter_main(void *arg)
{
    sw_exporter *e = arg;
    /* the store may have been opened before the privilege drop (the handle
     * is used by this thread only from now on); the cursor is read here */
    while (!atomic_load(&e->stop) && (!e->store || !e->cursor_read))
        if (open_store(e) != SW_OK)
            nap(e, 1000);
    while (!atomic_load(&e->stop)) {
        int64_t last = sw_event_store_last_id(e->store);
        if (last >= 0)
            atomic_store(&e->last_id, last);
        if (!e->st) {
            int64_t wait = e->next_try_ns - now_ns();
            if (wait > 0) {
                nap(e, (unsigned)(wait / 1000000 + 1));
                continue;
            }
            if (connect_session(e) != SW_OK) {
                schedule_retry(e);
                continue;
            }
        }
        /* DTLS sessions are renewed: a collector that lost ours would drop
         * everything silently until we do.  Only when there is something
         * to send: an idle exporter would resend its window every time. */
        if (e->transport == SW_EXPORT_DTLS && atomic_load(&e->last_id) > e->pos &&
            (now_ns() - e->session_ns >= (int64_t)e->rekey_s * 1000000000 ||
             e->session_records >= e->rekey_records)) {
            drop_session(e);
            e->next_try_ns = 0;
            e->renewing = 1;
            continue;
        }
        ack_progress(e);
        if (e->in_n == EXP_INFLIGHT) {
            /* The collector's TCP is behind by EXP_INFLIGHT batches: wait
             * for its acknowledgements rather than queue more. */
            struct pollfd pf = {sw_stream_fd(e->st), POLLIN, 0};
            if (poll(&pf, 1, 10) > 0 && check_alive(e) != SW_OK) {
                ack_progress(e);
                atomic_fetch_add(&e->write_failures, 1);
                drop_session(e);
                schedule_retry(e);
            }
            continue;
        }
        int r = send_batch(e);
        if (r < 0) {
            drop_session(e);
            schedule_retry(e);
            continue;
        }
        if (r == 0) {
            /* Idle: watch the session (a collector's close shows as
             * readable) while waiting for new events. */
            struct pollfd pf = {sw_stream_fd(e->st), POLLIN, 0};
            if (poll(&pf, 1, (int)e->poll_ms) > 0 && check_alive(e) != SW_OK) {
                ack_progress(e);
                EXP_LOG_LIMITED(e, LOG_WRITE, 1, "collector %s:%u closed the session: %s", e->host,
                                e->port, sw_stream_error(e->st));
                atomic_fetch_add(&e->write_failures, 1);
                drop_session(e);
                schedule_retry(e);
            }
        }
    }
    /* A clean stop: give the collector's TCP up to a second to acknowledge
     * what is in flight, so the next start resends no more than the window. */
    for (int i = 0; i < 100 && e->st && e->in_n > 0; i++) {
        ack_progress(e);
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    ack_progress(e);
    save_cursor(e);
    drop_session(e);
    return NULL;
}

int sw_exporter_start(sw_exporter *e)
{
    if (e->started)
        return SW_OK;
    atomic_store(&e->stop, 0);
    if (pthread_create(&e->thread, NULL, exporter_main, e) != 0)
        return SW_EIO;
    e->started = 1;
    return SW_OK;
}

void sw_exporter_stop(sw_exporter *e)
{
    atomic_store(&e->stop, 1);
    if (e->started) {
        pthread_join(e->thread, NULL);
        e->started = 0;
    }
}

void sw_exporter_free(sw_exporter *e)
{
    if (!e)
        return;
    sw_exporter_stop(e);
    if (e->store)
        sw_event_store_close(e->store);
    sw_tls_ctx_free(e->ctx);
    free(e->store_path);
    free(e->host);
    free(e->server_name);
    free(e->hostname);
    free(e->app_name);
    free(e->version);
    free(e->buf);
    free(e->frame_end);
    free(e->frame_id);
    free(e);
}
