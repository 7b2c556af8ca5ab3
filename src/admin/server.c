/* The admin API's HTTPS server (include/sipwall/admin.h): libevent evhttp
 * over TLS bufferevents (src/net/https.c), one thread with its own
 * event_base.  Per request: TLS check, authentication (limiter first, then
 * the credential), routing and parsing (request.c), then the backend.
 *
 * Bounds: request line and headers 8 KiB, body SW_ADMIN_BODY_MAX (a larger
 * one is answered 413 by us up to 64 KiB, by evhttp beyond), a read/write
 * timeout per connection, max_conns connections (the listener pauses at
 * the cap: further clients wait in the kernel's backlog). */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sipwall/admin.h"

#define HEADERS_MAX 8192
#define EVHTTP_BODY_MAX 65536 /* evhttp's own cut; ours (SW_ADMIN_BODY_MAX) answers JSON below it */

struct sw_admin_server {
    sw_admin_server_config c;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    sw_admin_limiter *lim;
    pthread_t th;
    int started;
    unsigned conns_now; /* the server's thread only */
    int paused;
    atomic_uint_least64_t requests, auth_failures, throttled, conns, expired;
    atomic_uint_least32_t conns_gauge;
};

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static int threads_ok;
static void threads_init(void) { threads_ok = evthread_use_pthreads() == 0; }

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- connections ----------------------------------------------------------------- */

/* One connection: its lifetime timer.  evhttp's timeout is per read, so a
 * client trickling a byte at a time would keep its slot for ever; at the
 * end of its lifetime the connection's timeouts become 1 ms and evhttp
 * closes it at the next pause, by its own timeout path (re-armed every
 * second in case evhttp set them back). */
typedef struct conn {
    sw_admin_server *s;
    struct bufferevent *bev;
    struct event *timer;
    int expired;
} conn;

static void conn_gone(void *arg)
{
    conn *c = arg;
    sw_admin_server *s = c->s;
    if (c->timer)
        event_free(c->timer);
    free(c);
    if (s->conns_now)
        s->conns_now--;
    atomic_store(&s->conns_gauge, s->conns_now);
    if (s->paused && s->conns_now < s->c.max_conns && s->bound) {
        evconnlistener_enable(evhttp_bound_socket_get_listener(s->bound));
        s->paused = 0;
    }
}

static void conn_expire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    conn *c = arg;
    if (!c->expired)
        atomic_fetch_add(&c->s->expired, 1);
    c->expired = 1;
    struct timeval now = {0, 1000}, again = {1, 0};
    bufferevent_set_timeouts(c->bev, &now, &now);
    event_add(c->timer, &again);
}

static struct bufferevent *new_conn(struct event_base *base, void *arg)
{
    sw_admin_server *s = arg;
    s->conns_now++;
    atomic_fetch_add(&s->conns, 1);
    atomic_store(&s->conns_gauge, s->conns_now);
    if (s->conns_now >= s->c.max_conns && s->bound && !s->paused) {
        evconnlistener_disable(evhttp_bound_socket_get_listener(s->bound));
        s->paused = 1;
    }
    /* NULL would make evhttp serve this connection in plain text: every
     * request checks that its connection is TLS (on_request) */
    conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = NULL;
    if (c) {
        c->s = s;
        c->timer = evtimer_new(base, conn_expire, c);
        bev = c->timer ? sw_https_bev_new(base, s->c.tls, conn_gone, c) : NULL;
    }
    if (!bev) {
        if (c) {
            if (c->timer)
                event_free(c->timer);
            free(c);
        }
        /* nothing will call conn_gone for this one: uncount it here */
        if (s->conns_now)
            s->conns_now--;
        atomic_store(&s->conns_gauge, s->conns_now);
        return NULL;
    }
    c->bev = bev;
    struct timeval life = {(time_t)s->c.timeout_s * SW_ADMIN_LIFETIME_TIMEOUTS, 0};
    event_add(c->timer, &life);
    return bev;
}

/* ---- replies ------------------------------------------------------------------------- */

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

static void send_json(struct evhttp_request *req, int status, const char *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    if (b) {
        evbuffer_add(b, body, strlen(body));
        evbuffer_add(b, "\n", 1);
    }
    evhttp_send_reply(req, status, reason_of(status), b);
    if (b)
        evbuffer_free(b);
}

/* The Prometheus text as it is (it ends with its own newline). */
static void send_metrics(struct evhttp_request *req, int status, const char *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, status, reason_of(status), b);
    if (b)
        evbuffer_free(b);
}

static void send_error(struct evhttp_request *req, int status, const char *msg)
{
    char *body = sw_admin_error_json(status, msg);
    send_json(req, status, body ? body : "{\"error\":{\"status\":500,\"message\":\"out of memory\"}}");
    free(body);
}

/* ---- authentication -------------------------------------------------------------- */

/* The bearer token of an Authorization header ("Bearer TOKEN"), or NULL. */
static const char *bearer(const char *h, size_t *len)
{
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, " \t");
    if (n == 0 || h[n] != '\0')
        return NULL;
    *len = n;
    return h;
}

/* 200 when the request may go on (who filled), else the status to answer
 * with (the reply is the caller's). */
static int authenticate(sw_admin_server *s, struct evhttp_request *req, struct bufferevent *bev,
                        const sw_addr *from, char *who, size_t wholen, const char **why)
{
    char cert[SW_TLS_ID_LEN + 8] = "";
    if (s->c.client_cert) {
        char ids[1][SW_TLS_ID_LEN];
        /* the handshake already required a certificate from the CA */
        if (sw_https_peer_ids(bev, ids, 1) == 0) {
            *why = "no client certificate";
            return 403;
        }
        snprintf(cert, sizeof cert, " cert:%s", ids[0]);
    }
    const char *hdr = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    size_t tlen = 0;
    const char *tok = bearer(hdr, &tlen);
    if (tok && !sw_admin_cred_costly(s->c.cred, tok, tlen)) {
        snprintf(who, wholen, "token%s", cert);
        return 200; /* the token verified before: no hashing, no limiter */
    }
    /* anything else may be a guess: the limiter first, before any work */
    int64_t now = now_ns();
    if (sw_admin_limiter_take(s->lim, from, now) != SW_OK) {
        atomic_fetch_add(&s->throttled, 1);
        *why = "too many attempts";
        return 429;
    }
    int ok = tok && sw_admin_cred_verify(s->c.cred, tok, tlen);
    sw_admin_limiter_done(s->lim, from, ok);
    if (ok) {
        snprintf(who, wholen, "token%s", cert);
        return 200;
    }
    atomic_fetch_add(&s->auth_failures, 1);
    *why = !hdr ? "no credential" : !tok ? "not a bearer token" : "wrong token";
    snprintf(who, wholen, "%s", cert[0] ? cert + 1 : "anonymous");
    if (s->c.ops->auth_failed)
        s->c.ops->auth_failed(s->c.ctx, from, who, *why);
    return 401;
}

/* ---- a mounted protocol (sw_admin_mount) ------------------------------------------ */

static const char *reason_any(int status)
{
    switch (status) {
    case 202: return "Accepted";
    case 406: return "Not Acceptable";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    default: return reason_of(status);
    }
}

static const char *method_name(enum evhttp_cmd_type t);

static void on_mount(sw_admin_server *s, struct evhttp_request *req, struct bufferevent *bev, const sw_addr *from)
{
    char cert[SW_TLS_ID_LEN] = "";
    if (s->c.client_cert) {
        char ids[1][SW_TLS_ID_LEN];
        if (sw_https_peer_ids(bev, ids, 1) == 0) {
            send_error(req, 403, "no client certificate");
            return;
        }
        snprintf(cert, sizeof cert, "%s", ids[0]);
    }
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t blen = evbuffer_get_length(body);
    sw_admin_mount_req r = {
        .method = method_name(evhttp_request_get_command(req)),
        .target = evhttp_request_get_uri(req),
        .accept = evhttp_find_header(in, "Accept"),
        .content_type = evhttp_find_header(in, "Content-Type"),
        .authorization = evhttp_find_header(in, "Authorization"),
        .host = evhttp_find_header(in, "Host"),
        .body = blen ? (const char *)evbuffer_pullup(body, -1) : NULL,
        .body_len = blen,
        .cert = cert,
        .from = from,
    };
    sw_admin_mount_resp out;
    memset(&out, 0, sizeof out);
    s->c.mount->handle(s->c.mount->ctx, &r, &out);
    if (!out.body) {
        send_error(req, 500, "out of memory");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", out.content_type ? out.content_type : "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    for (int i = 0; i < SW_ADMIN_MOUNT_HEADERS; i++)
        if (out.hname[i])
            evhttp_add_header(h, out.hname[i], out.hval[i]);
    if (out.status == 401 || out.status == 429)
        evhttp_add_header(h, "Connection", "close");
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, out.body, out.len);
    evhttp_send_reply(req, out.status, reason_any(out.status), b);
    if (b)
        evbuffer_free(b);
    free(out.body);
}

/* ---- requests --------------------------------------------------------------------------- */

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "OTHER";
    }
}

/* A partner pushing its intelligence: POST /v1/intel/push with a client
 * certificate the daemon binds to a partner's org (ops->push_peer).  Only
 * that path; the objects are verified with that partner's keys after. */
static int push_partner(sw_admin_server *s, struct evhttp_request *req, struct bufferevent *bev, char *who,
                        size_t wholen, char *org)
{
    if (!s->c.client_cert || !s->c.ops->push_peer || evhttp_request_get_command(req) != EVHTTP_REQ_POST)
        return 0;
    const char *uri = evhttp_request_get_uri(req);
    if (!uri || strcmp(uri, "/v1/intel/push") != 0)
        return 0;
    char ids[1][SW_TLS_ID_LEN];
    if (sw_https_peer_ids(bev, ids, 1) == 0 || !s->c.ops->push_peer(s->c.ctx, ids[0], org))
        return 0;
    snprintf(who, wholen, "partner:%s cert:%s", org, ids[0]);
    return 1;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    sw_admin_server *s = arg;
    atomic_fetch_add(&s->requests, 1);
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    if (!bev || !sw_https_is_tls(bev)) {
        /* evhttp fell back to a plain connection (no memory for TLS) */
        evhttp_send_error(req, 400, "TLS required");
        return;
    }
    sw_addr from;
    memset(&from, 0, sizeof from);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(bufferevent_getfd(bev), (struct sockaddr *)&ss, &sl) == 0)
        (void)sw_addr_from_sockaddr((struct sockaddr *)&ss, &from);
    if (s->c.mount && s->c.mount->claims(s->c.mount->ctx, evhttp_request_get_uri(req))) {
        on_mount(s, req, bev, &from);
        return;
    }
    char who[SW_TLS_ID_LEN + 48];
    const char *why = "";
    char push_org[SW_ADMIN_ORG_MAX] = "";
    int st = push_partner(s, req, bev, who, sizeof who, push_org) ? 200
                                                                    : authenticate(s, req, bev, &from, who, sizeof who, &why);
    if (st != 200) {
        /* a refused client reconnects for its next try: it cannot sit on
         * one of the max_conns slots sending guesses */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        if (st == 401)
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                              "Bearer realm=\"sipwalld\"");
        if (st == 429)
            evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "5");
        send_error(req, st, why);
        return;
    }
    sw_admin_req r;
    char err[300];
    st = sw_admin_route(method_name(evhttp_request_get_command(req)), evhttp_request_get_uri(req), now_ns(),
                        &r, err, sizeof err);
    if (st == 200 && r.op == SW_ADMIN_BLOCK_ADD) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        if (len > SW_ADMIN_BODY_MAX) {
            st = 413;
            snprintf(err, sizeof err, "body above %d bytes", SW_ADMIN_BODY_MAX);
        } else {
            char *body = (char *)evbuffer_pullup(in, -1);
            st = sw_admin_parse_block(body, len, &r, err, sizeof err);
        }
    }
    if (st == 200 && r.op == SW_ADMIN_INTEL_PUSH) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        if (len > SW_ADMIN_PUSH_BODY_MAX) {
            st = 413;
            snprintf(err, sizeof err, "body above %d bytes", SW_ADMIN_PUSH_BODY_MAX);
        } else if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            st = 415;
            snprintf(err, sizeof err, "POST /v1/intel/push takes application/json (a JSON array of FSE objects)");
        } else {
            r.body = (const char *)evbuffer_pullup(in, -1);
            r.body_len = len;
            if (!r.body)
                r.body = "";
            memcpy(r.push_org, push_org, sizeof r.push_org);
        }
    } else if (st == 200 && push_org[0]) {
        st = 403; /* a partner's certificate opens the push path only */
        snprintf(err, sizeof err, "a partner's certificate may only POST /v1/intel/push");
    }
    if (st != 200) {
        send_error(req, st, err);
        return;
    }
    int status = 500;
    char *out = s->c.ops->run(s->c.ctx, &r, who, &from, &status);
    if (!out) {
        send_error(req, 500, "out of memory");
        return;
    }
    if (r.op == SW_ADMIN_METRICS && status == 200)
        send_metrics(req, status, out);
    else
        send_json(req, status, out);
    free(out);
}

/* ---- the server --------------------------------------------------------------------- */

sw_admin_server *sw_admin_server_new(const sw_admin_server_config *c, char *err, size_t errlen)
{
    pthread_once(&threads_once, threads_init);
    if (!threads_ok) {
        snprintf(err, errlen, "libevent: no thread support");
        return NULL;
    }
    if (!c->tls || !c->cred || !c->ops || !c->ops->run) {
        snprintf(err, errlen, "admin API: TLS, a credential and a backend are required");
        return NULL;
    }
    sw_admin_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->c = *c;
    if (!s->c.max_conns)
        s->c.max_conns = 64;
    if (!s->c.timeout_s)
        s->c.timeout_s = 10;
    s->lim = sw_admin_limiter_new(&c->limits);
    s->base = s->lim ? event_base_new() : NULL;
    s->http = s->base ? evhttp_new(s->base) : NULL;
    if (!s->http) {
        snprintf(err, errlen, "admin API: out of memory");
        sw_admin_server_free(s);
        return NULL;
    }
    evhttp_set_max_headers_size(s->http, HEADERS_MAX);
    size_t body_max = EVHTTP_BODY_MAX;
    if (c->mount && c->mount->body_max * 2 > body_max)
        body_max = c->mount->body_max * 2;
    evhttp_set_max_body_size(s->http, body_max);
    evhttp_set_timeout(s->http, (int)s->c.timeout_s);
    /* every method reaches on_request, which answers 405 in JSON */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(s->http, new_conn, s);
    evhttp_set_gencb(s->http, on_request, s);
    sw_sock_opts o = {.backlog = 64};
    int fd = sw_sock_tcp_listen(&c->listen, &o, err, errlen);
    if (fd < 0) {
        sw_admin_server_free(s);
        return NULL;
    }
    s->bound = evhttp_accept_socket_with_handle(s->http, fd);
    if (!s->bound) {
        close(fd);
        snprintf(err, errlen, "admin API: cannot listen");
        sw_admin_server_free(s);
        return NULL;
    }
    return s;
}

static void *server_main(void *arg)
{
    sw_admin_server *s = arg;
    event_base_dispatch(s->base);
    return NULL;
}

int sw_admin_server_start(sw_admin_server *s, char *err, size_t errlen)
{
    int e = pthread_create(&s->th, NULL, server_main, s);
    if (e) {
        snprintf(err, errlen, "admin API thread: %s", strerror(e));
        return SW_EIO;
    }
    s->started = 1;
    return SW_OK;
}

void sw_admin_server_free(sw_admin_server *s)
{
    if (!s)
        return;
    if (s->started) {
        event_base_loopbreak(s->base);
        pthread_join(s->th, NULL);
    }
    s->bound = NULL; /* evhttp_free frees it; conn_gone must not touch it then */
    if (s->http)
        evhttp_free(s->http); /* frees the connections: conn_gone runs, s is still here */
    if (s->base)
        event_base_free(s->base);
    sw_admin_limiter_free(s->lim);
    free(s);
}

void sw_admin_server_stats_get(sw_admin_server *s, sw_admin_server_stats *out)
{
    out->requests = atomic_load(&s->requests);
    out->auth_failures = atomic_load(&s->auth_failures);
    out->throttled = atomic_load(&s->throttled);
    out->conns = atomic_load(&s->conns);
    out->conns_now = atomic_load(&s->conns_gauge);
    out->conns_expired = atomic_load(&s->expired);
    sw_admin_limiter_stats_get(s->lim, &out->limiter);
}
