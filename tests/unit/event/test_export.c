/* The exporter (src/event/export.c) against an in-process TLS collector
 * built on the stream layer: every event delivered once and in order, an
 * unreadable row skipped and counted, the cursor persisted in the store, a
 * restart resending exactly the window, a collector that drops the session
 * (everything still arrives, the reconnect counted), and a collector of
 * the wrong name getting nothing while the failure is counted.  The PKI
 * comes from tests/peers/mkpki.sh. */
#define _GNU_SOURCE /* accept4, memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/event.h"
#include "sipwall/net.h"

static char dir[64];
static char pki[128];

/* ---- a TLS collector -------------------------------------------------------------- */

typedef struct collector {
    int lfd;
    uint16_t port;
    SSL_CTX *ctx;
    pthread_t thr;
    atomic_int stop;
    atomic_int drop_idle;  /* 1: close the session at the next idle moment (then 0) */
    atomic_int stall_after; /* > 0: after this many bytes in a session, stop reading for
                             * 500 ms, then close it (then 0): a collector that hangs and dies */
    int rcvbuf;            /* > 0: SO_RCVBUF of the collector's sockets */
    atomic_int sessions;   /* handshakes completed */
    pthread_mutex_t mu;
    char *data; /* everything received, all sessions */
    size_t len, cap;
} collector;

static void coll_append(collector *c, const char *p, size_t n)
{
    pthread_mutex_lock(&c->mu);
    if (c->len + n > c->cap) {
        c->cap = (c->len + n) * 2;
        c->data = realloc(c->data, c->cap);
        assert_non_null(c->data);
    }
    memcpy(c->data + c->len, p, n);
    c->len += n;
    pthread_mutex_unlock(&c->mu);
}

static void *coll_main(void *arg)
{
    collector *c = arg;
    while (!atomic_load(&c->stop)) {
        struct pollfd pf = {c->lfd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        sw_stream *s = sw_stream_tls_server_new(fd, c->ctx);
        if (!s)
            continue;
        int r;
        int64_t tries = 0;
        while ((r = sw_stream_handshake(s)) == SW_EAGAIN && tries++ < 200 && !atomic_load(&c->stop)) {
            short ev = (sw_stream_want(s) & SW_STREAM_WANT_WRITE) ? POLLOUT : POLLIN;
            struct pollfd hp = {sw_stream_fd(s), ev, 0};
            (void)poll(&hp, 1, 20);
        }
        if (r != SW_OK) {
            sw_stream_close(s);
            continue;
        }
        atomic_fetch_add(&c->sessions, 1);
        pthread_mutex_lock(&c->mu);
        size_t session_start = c->len;
        pthread_mutex_unlock(&c->mu);
        size_t in_session = 0;
        while (!atomic_load(&c->stop)) {
            char buf[4096];
            ssize_t n = sw_stream_read(s, buf, sizeof buf);
            if (n > 0) {
                coll_append(c, buf, (size_t)n);
                in_session += (size_t)n;
                int st = atomic_load(&c->stall_after);
                if (st > 0 && in_session >= (size_t)st) {
                    atomic_store(&c->stall_after, 0);
                    struct timespec ts = {0, 500000000};
                    nanosleep(&ts, NULL);
                    break; /* dies with whatever its buffers hold */
                }
                continue;
            }
            if (n != SW_EAGAIN)
                break;
            struct pollfd rp = {sw_stream_fd(s), POLLIN, 0};
            if (poll(&rp, 1, 20) == 0 && atomic_exchange(&c->drop_idle, 0))
                break; /* the collector goes away while the exporter is idle */
        }
        sw_stream_close(s);
        /* As a syslog collector does, a frame cut by the end of its
         * session is thrown away. */
        pthread_mutex_lock(&c->mu);
        size_t at = session_start;
        for (;;) {
            size_t len = 0, p = at;
            while (p < c->len && c->data[p] >= '0' && c->data[p] <= '9')
                len = len * 10 + (size_t)(c->data[p++] - '0');
            if (p >= c->len || c->data[p] != ' ' || p + 1 + len > c->len)
                break;
            at = p + 1 + len;
        }
        c->len = at;
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

static void coll_start(collector *c, int rcvbuf)
{
    memset(c, 0, sizeof *c);
    c->rcvbuf = rcvbuf;
    pthread_mutex_init(&c->mu, NULL);
    char err[300], cert[200], key[200], ca[200];
    snprintf(cert, sizeof cert, "%s/server.pem", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    c->ctx = sw_tls_server_ctx(cert, key, ca, SW_TLS_VERIFY_REQUIRED, err, sizeof err);
    if (!c->ctx)
        fail_msg("server ctx: %s", err);
    c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(c->lfd >= 0);
    if (c->rcvbuf > 0) /* inherited by the accepted sockets */
        assert_int_equal(setsockopt(c->lfd, SOL_SOCKET, SO_RCVBUF, &c->rcvbuf, sizeof c->rcvbuf), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(c->lfd, 8), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(c->lfd, (struct sockaddr *)&sa, &sl), 0);
    c->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&c->thr, NULL, coll_main, c), 0);
}

static void coll_stop(collector *c)
{
    atomic_store(&c->stop, 1);
    pthread_join(c->thr, NULL);
    close(c->lfd);
    sw_tls_ctx_free(c->ctx);
    free(c->data);
    pthread_mutex_destroy(&c->mu);
}

/* The sequenceIds of every complete frame received, in order; returns the
 * count.  Fails the test on a malformed frame. */
static size_t coll_ids(collector *c, int64_t *ids, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    size_t at = 0;
    while (at < c->len && n < max) {
        size_t len = 0, p = at;
        while (p < c->len && c->data[p] >= '0' && c->data[p] <= '9')
            len = len * 10 + (size_t)(c->data[p++] - '0');
        if (p == c->len)
            break; /* a frame still arriving */
        if (p == at || c->data[p] != ' ' || len == 0) {
            pthread_mutex_unlock(&c->mu);
            fail_msg("bad frame at byte %zu", at);
        }
        if (p + 1 + len > c->len)
            break;
        const char *m = c->data + p + 1;
        const char *s = memmem(m, len, "[meta sequenceId=\"", 18);
        if (!s) {
            pthread_mutex_unlock(&c->mu);
            fail_msg("frame without sequenceId at byte %zu", at);
        }
        ids[n++] = strtoll(s + 18, NULL, 10);
        at = p + 1 + len;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---- the store and the exporter ----------------------------------------------------------- */

static void store_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Appends n events; the one numbered bad (1-based, 0 = none) is a row that
 * is not JSON. */
static void feed(const char *path, int n, int bad)
{
    char err[300];
    sw_event_store *s = sw_event_store_open(path, NULL, err, sizeof err);
    if (!s)
        fail_msg("store: %s", err);
    for (int i = 1; i <= n; i++) {
        sw_event ev;
        sw_event_rec rec;
        sw_event_init(&ev, SW_EVT_SIP_SCAN, SW_CAT_BEHAVIOURAL, "scan.extensions");
        ev.ts_ns = INT64_C(1795500000000000000) + i;
        ev.action = SW_ACTION_REJECT;
        ev.reason = SW_STR_LIT("unit test event");
        assert_int_equal(sw_event_rec_fill(&rec, &ev), SW_OK);
        if (i == bad) {
            free(rec.json);
            rec.json = strdup("this is not JSON");
            rec.json_len = strlen(rec.json);
        }
        assert_int_equal(sw_event_store_append(s, &rec, 1), SW_OK);
        sw_event_rec_clear(&rec);
    }
    sw_event_store_close(s);
}

static int quiet_logs;
static void test_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (!quiet_logs || level == 0)
        fprintf(stderr, "[exporter %d] %s\n", level, msg);
}

static sw_exporter *exporter(const char *name, const char *store, uint16_t port,
                             const char *server_name, unsigned window)
{
    static char ca[200], cert[200], key[200];
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    snprintf(cert, sizeof cert, "%s/client.pem", pki);
    snprintf(key, sizeof key, "%s/client.key", pki);
    sw_exporter_conf c;
    memset(&c, 0, sizeof c);
    c.name = name;
    c.store = store;
    c.transport = SW_EXPORT_TLS;
    c.host = "127.0.0.1";
    c.port = port;
    c.ca = ca;
    c.cert = cert;
    c.key = key;
    c.server_name = server_name;
    c.syslog.format = SW_EXPORT_RFC5424;
    c.syslog.facility = 16;
    c.syslog.hostname = "unit";
    c.window = window;
    c.batch = 50;
    c.backoff_min_ms = 50;
    c.backoff_max_ms = 200;
    c.log = test_log;
    char err[300];
    sw_exporter *e = sw_exporter_new(&c, err, sizeof err);
    if (!e)
        fail_msg("exporter: %s", err);
    return e;
}

/* Waits (at most secs) until the exporter's cursor is at id. */
static int wait_cursor(sw_exporter *e, int64_t id, int secs)
{
    for (int i = 0; i < secs * 100; i++) {
        sw_exporter_stats st;
        sw_exporter_get_stats(e, &st);
        if (st.cursor == id)
            return 1;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Waits until the collector holds n complete frames. */
static size_t wait_frames(collector *c, int64_t *ids, size_t n, int secs)
{
    size_t got = 0;
    for (int i = 0; i < secs * 100; i++) {
        got = coll_ids(c, ids, n + 64);
        if (got >= n)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return got;
}

/* ---- tests ------------------------------------------------------------------------------- */

enum { N = 400, BAD = 123 };
static int64_t ids[N + 4096];

static void delivers_then_resends_window(void **state)
{
    (void)state;
    char store[200];
    store_path(store, sizeof store, "a.db");
    feed(store, N, BAD);
    static collector c;
    coll_start(&c, 0);
    sw_exporter *e = exporter("t1", store, c.port, "localhost", 16);
    assert_int_equal(sw_exporter_start(e), SW_OK);
    assert_true(wait_cursor(e, N, 30));
    size_t got = wait_frames(&c, ids, N - 1, 10);
    /* every id once, in order, except the unreadable row */
    assert_int_equal(got, N - 1);
    for (size_t i = 0, want = 1; i < got; i++, want++) {
        if (want == BAD)
            want++;
        if (ids[i] != (int64_t)want)
            fail_msg("frame %zu: sequenceId %lld, want %zu", i, (long long)ids[i], want);
    }
    sw_exporter_stats st;
    sw_exporter_get_stats(e, &st);
    assert_int_equal(st.sent, N - 1);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.format_errors, 1);
    assert_int_equal(st.handshake_failures, 0);
    assert_int_equal(st.behind, 0);
    assert_int_equal(st.connected, 1);
    sw_exporter_free(e);

    /* the cursor is in the store */
    char err[300];
    sw_event_store *s = sw_event_store_open(store, NULL, err, sizeof err);
    assert_non_null(s);
    int64_t cur = 0;
    assert_int_equal(sw_event_store_cursor_get(s, "export:t1", &cur), SW_OK);
    assert_int_equal(cur, N);
    sw_event_store_close(s);

    /* a restart resends the window (16) before the cursor, nothing else */
    e = exporter("t1", store, c.port, "localhost", 16);
    assert_int_equal(sw_exporter_start(e), SW_OK);
    got = wait_frames(&c, ids, N - 1 + 16, 10);
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    got = coll_ids(&c, ids, sizeof ids / sizeof ids[0]);
    assert_int_equal(got, N - 1 + 16);
    for (size_t i = N - 1; i < got; i++)
        assert_int_equal(ids[i], (int64_t)(N - 16 + 1) + (int64_t)(i - (N - 1)));
    sw_exporter_get_stats(e, &st);
    assert_int_equal(st.sent, 16);
    assert_int_equal(st.duplicates, 16);
    assert_int_equal(st.cursor, N);
    sw_exporter_free(e);
    assert_int_equal(atomic_load(&c.sessions), 2);
    coll_stop(&c);
}

/* The collector closes the session while the exporter is idle: the exporter
 * notices (EOF), reconnects with backoff, resends exactly the window, and
 * the events stored meanwhile arrive too: every id, duplicates = window. */
static void reconnects_after_close(void **state)
{
    (void)state;
    char store[200];
    store_path(store, sizeof store, "b.db");
    feed(store, 200, 0);
    static collector c;
    coll_start(&c, 0);
    quiet_logs = 1;
    sw_exporter *e = exporter("t2", store, c.port, "localhost", 32);
    assert_int_equal(sw_exporter_start(e), SW_OK);
    assert_true(wait_cursor(e, 200, 30));
    assert_int_equal(wait_frames(&c, ids, 200, 10), 200);
    atomic_store(&c.drop_idle, 1);
    sw_exporter_stats st;
    for (int i = 0; i < 500; i++) {
        sw_exporter_get_stats(e, &st);
        if (st.reconnects >= 1 && st.connected)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(st.reconnects, 1);
    assert_int_equal(st.write_failures, 1); /* the close, seen while idle */
    /* 200 more events (ids 201..400) after the reconnect */
    feed(store, 200, 0);
    assert_true(wait_cursor(e, 400, 30));
    size_t got = wait_frames(&c, ids, 432, 10);
    assert_int_equal(got, 432);
    for (size_t i = 0; i < 200; i++)
        assert_int_equal(ids[i], (int64_t)i + 1);
    for (size_t i = 200; i < 232; i++) /* the window: 169..200 again */
        assert_int_equal(ids[i], (int64_t)(169 + i - 200));
    for (size_t i = 232; i < 432; i++)
        assert_int_equal(ids[i], (int64_t)(201 + i - 232));
    sw_exporter_get_stats(e, &st);
    assert_int_equal(st.sent, 432);
    assert_int_equal(st.duplicates, 32);
    assert_int_equal(atomic_load(&c.sessions), 2);
    sw_exporter_free(e);
    quiet_logs = 0;
    coll_stop(&c);
}

/* A collector that stops reading and then dies: what our send queue still
 * held was never delivered.  The cursor only passes what the collector's
 * TCP acknowledged, so all of it is sent again and every id arrives (with
 * a small receive buffer at the collector, what it acknowledged but never
 * read fits the window). */
static void hung_collector_loses_nothing(void **state)
{
    (void)state;
    char store[200];
    store_path(store, sizeof store, "d.db");
    feed(store, 2000, 0);
    static collector c;
    coll_start(&c, 4096);
    atomic_store(&c.stall_after, 30000);
    quiet_logs = 1;
    sw_exporter *e = exporter("t4", store, c.port, "localhost", 64);
    assert_int_equal(sw_exporter_start(e), SW_OK);
    assert_true(wait_cursor(e, 2000, 60));
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    size_t got = coll_ids(&c, ids, sizeof ids / sizeof ids[0]);
    static unsigned char seen[2001];
    memset(seen, 0, sizeof seen);
    int64_t max = 0;
    for (size_t i = 0; i < got; i++) {
        assert_true(ids[i] >= 1 && ids[i] <= 2000);
        if (ids[i] > max + 1)
            fail_msg("frame %zu: id %lld after %lld: %lld..%lld lost", i, (long long)ids[i],
                     (long long)max, (long long)max + 1, (long long)ids[i] - 1);
        if (ids[i] == max + 1)
            max = ids[i];
        seen[ids[i]] = 1;
    }
    assert_int_equal(max, 2000);
    sw_exporter_stats st;
    sw_exporter_get_stats(e, &st);
    assert_true(st.reconnects >= 1);
    assert_int_equal(st.duplicates, st.sent - 2000);
    sw_exporter_free(e);
    quiet_logs = 0;
    coll_stop(&c);
}

/* The collector's certificate does not name what we expect: nothing is
 * sent, the failure is counted, the cursor stays. */
static void wrong_collector_name(void **state)
{
    (void)state;
    char store[200];
    store_path(store, sizeof store, "c.db");
    feed(store, 10, 0);
    static collector c;
    coll_start(&c, 0);
    quiet_logs = 1;
    sw_exporter *e = exporter("t3", store, c.port, "collector.elsewhere.test", 16);
    assert_int_equal(sw_exporter_start(e), SW_OK);
    sw_exporter_stats st;
    for (int i = 0; i < 500; i++) {
        sw_exporter_get_stats(e, &st);
        if (st.handshake_failures >= 2)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_true(st.handshake_failures >= 2);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.cursor, 0);
    assert_int_equal(st.connected, 0);
    sw_exporter_free(e);
    quiet_logs = 0;
    assert_int_equal(c.len, 0);
    coll_stop(&c);
}

static void bad_configs(void **state)
{
    (void)state;
    char err[300];
    sw_exporter_conf c;
    memset(&c, 0, sizeof c);
    c.name = "bad name";
    assert_null(sw_exporter_new(&c, err, sizeof err));
    c.name = "ok";
    assert_null(sw_exporter_new(&c, err, sizeof err)); /* no store/host */
    assert_non_null(strstr(err, "store"));
    c.store = "/tmp/x.db";
    c.host = "127.0.0.1";
    c.port = 1;
    assert_null(sw_exporter_new(&c, err, sizeof err)); /* no certificates */
    assert_non_null(strstr(err, "ca="));
    char ca[200];
    snprintf(ca, sizeof ca, "%s/ca.pem", pki);
    c.ca = ca;
    c.cert = "/nonexistent/cert.pem";
    c.key = "/nonexistent/key.pem";
    assert_null(sw_exporter_new(&c, err, sizeof err)); /* unreadable certificate */
    assert_true(strlen(err) > 0);
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/sw_export_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(pki, sizeof pki, "%s/pki", dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "sh peers/mkpki.sh %s", pki);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delivers_then_resends_window),
        cmocka_unit_test(reconnects_after_close),
        cmocka_unit_test(hung_collector_loses_nothing),
        cmocka_unit_test(wrong_collector_name),
        cmocka_unit_test(bad_configs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
