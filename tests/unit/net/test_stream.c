/* Streams (src/net/stream*.c) on loopback sockets with a throwaway PKI made
 * by mkpki.sh: plain, TLS server/client, DTLS; handshakes, refusals
 * (wrong CA, wrong name, missing client certificate), partial writes,
 * peer identities, close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sipwall/net.h"

static char pki[256];

static const char *P(const char *name)
{
    static char buf[8][512];
    static unsigned k;
    char *b = buf[k++ % 8];
    snprintf(b, 512, "%s/%s", pki, name);
    return b;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup_pki(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(pki, sizeof pki, "/tmp/sw-stream-pki-XXXXXX");
    if (!mkdtemp(pki))
        return -1;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sh unit/net/mkpki.sh %s", pki);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown_pki(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", pki);
    return system(cmd) == 0 ? 0 : -1;
}

static void nonblock(int fd) { assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0); }

/* A connected TCP pair on 127.0.0.1: fds[0] the client, fds[1] accepted. */
static void tcp_pair(int fds[2])
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 4), 0);
    socklen_t sl = sizeof a;
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &sl), 0);
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fds[0], (struct sockaddr *)&a, sizeof a), 0);
    fds[1] = accept(l, NULL, NULL);
    assert_true(fds[1] >= 0);
    close(l);
    nonblock(fds[0]);
    nonblock(fds[1]);
}

/* Two UDP sockets on 127.0.0.1 connected to each other. */
static void udp_pair(int fds[2])
{
    struct sockaddr_in a[2];
    for (int i = 0; i < 2; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        assert_true(fds[i] >= 0);
        memset(&a[i], 0, sizeof a[i]);
        a[i].sin_family = AF_INET;
        a[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fds[i], (struct sockaddr *)&a[i], sizeof a[i]), 0);
        socklen_t sl = sizeof a[i];
        assert_int_equal(getsockname(fds[i], (struct sockaddr *)&a[i], &sl), 0);
    }
    assert_int_equal(connect(fds[0], (struct sockaddr *)&a[1], sizeof a[1]), 0);
    assert_int_equal(connect(fds[1], (struct sockaddr *)&a[0], sizeof a[0]), 0);
    nonblock(fds[0]);
    nonblock(fds[1]);
}

/* Waits (at most 200 ms) for what either stream asked for. */
static void wait_both(sw_stream *a, sw_stream *b)
{
    struct pollfd p[2];
    sw_stream *s[2] = {a, b};
    int t = 200;
    for (int i = 0; i < 2; i++) {
        unsigned w = sw_stream_want(s[i]);
        p[i].fd = sw_stream_fd(s[i]);
        p[i].events = (short)((w & SW_STREAM_WANT_WRITE ? POLLOUT : 0) | POLLIN);
        p[i].revents = 0;
        int to = sw_stream_timeout_ms(s[i]);
        if (to >= 0 && to < t)
            t = to;
    }
    (void)poll(p, 2, t);
}

/* Drives both handshakes to an end (5 s at most): rc[0] client, rc[1] server. */
static void handshake_both(sw_stream *c, sw_stream *s, int rc[2])
{
    rc[0] = rc[1] = SW_EAGAIN;
    int64_t end = now_ms() + 5000;
    while ((rc[0] == SW_EAGAIN || rc[1] == SW_EAGAIN) && now_ms() < end) {
        if (rc[0] == SW_EAGAIN)
            rc[0] = sw_stream_handshake(c);
        if (rc[1] == SW_EAGAIN)
            rc[1] = sw_stream_handshake(s);
        if (rc[0] == SW_EAGAIN || rc[1] == SW_EAGAIN)
            wait_both(c, s);
    }
}

/* Reads exactly n bytes (5 s at most) while the other stream is kept going. */
static void read_all(sw_stream *r, sw_stream *other, char *buf, size_t n)
{
    size_t got = 0;
    int64_t end = now_ms() + 5000;
    while (got < n && now_ms() < end) {
        ssize_t k = sw_stream_read(r, buf + got, n - got);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        assert_int_equal(k, SW_EAGAIN);
        wait_both(r, other);
    }
    assert_int_equal(got, n);
}

typedef struct tls_setup {
    SSL_CTX *sctx, *cctx;
    sw_stream *c, *s;
    int rc[2];
} tls_setup;

static void tls_go(tls_setup *t, const char *ccert, const char *ca, const char *host, sw_tls_verify sv)
{
    char err[256] = "";
    t->sctx = sw_tls_server_ctx(P("server.pem"), P("server.key"), P("ca.pem"), sv, err, sizeof err);
    assert_non_null(t->sctx);
    t->cctx = sw_tls_client_ctx(ccert ? P(ccert) : NULL, ccert ? P(strcmp(ccert, "client.pem") ? "rogue-client.key" : "client.key") : NULL,
                                P(ca), SW_TLS_VERIFY_REQUIRED, err, sizeof err);
    assert_non_null(t->cctx);
    int fds[2];
    tcp_pair(fds);
    t->c = sw_stream_tls_client_new(fds[0], t->cctx, host);
    t->s = sw_stream_tls_server_new(fds[1], t->sctx);
    assert_non_null(t->c);
    assert_non_null(t->s);
    handshake_both(t->c, t->s, t->rc);
}

static void tls_done(tls_setup *t)
{
    sw_stream_close(t->c);
    sw_stream_close(t->s);
    sw_tls_ctx_free(t->sctx);
    sw_tls_ctx_free(t->cctx);
}

static void test_plain(void **state)
{
    (void)state;
    int fds[2];
    tcp_pair(fds);
    sw_stream *a = sw_stream_plain_new(fds[0]), *b = sw_stream_plain_new(fds[1]);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(sw_stream_handshake(a), SW_OK);
    assert_int_equal(sw_stream_is_secure(a), 0);
    assert_string_equal(sw_stream_version(a), "plain");
    char ids[2][SW_TLS_ID_LEN];
    assert_int_equal(sw_stream_peer_ids(a, ids, 2), 0);
    char buf[16];
    assert_int_equal(sw_stream_read(b, buf, sizeof buf), SW_EAGAIN);
    assert_int_equal(sw_stream_want(b), SW_STREAM_WANT_READ);
    assert_int_equal(sw_stream_write(a, "hello", 5), 5);
    read_all(b, a, buf, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_string_equal(sw_stream_error(a), "");
    sw_stream_close(a);
    int64_t end = now_ms() + 2000;
    ssize_t r;
    while ((r = sw_stream_read(b, buf, sizeof buf)) == SW_EAGAIN && now_ms() < end)
        usleep(1000);
    assert_int_equal(r, 0); /* orderly close */
    sw_stream_close(b);
    sw_stream_close(NULL);
}

static void test_tls_ok(void **state)
{
    (void)state;
    tls_setup t;
    tls_go(&t, "client.pem", "ca.pem", "server.test", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_OK);
    assert_int_equal(t.rc[1], SW_OK);
    assert_int_equal(sw_stream_is_secure(t.c), 1);
    assert_string_equal(sw_stream_version(t.c), "TLSv1.3");
    char ids[SW_TLS_MAX_IDS][SW_TLS_ID_LEN];
    unsigned n = sw_stream_peer_ids(t.s, ids, SW_TLS_MAX_IDS);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "client.test");
    assert_string_equal(ids[1], "client.test");
    assert_string_equal(ids[2], "sip:client.test");
    n = sw_stream_peer_ids(t.c, ids, SW_TLS_MAX_IDS);
    assert_true(n >= 1);
    assert_string_equal(ids[0], "server.test");
    /* both ways, and pending: a 100-byte record read 10 bytes at a time */
    char msg[100], buf[100];
    for (int i = 0; i < 100; i++)
        msg[i] = (char)('a' + i % 26);
    assert_int_equal(sw_stream_write(t.c, msg, 100), 100);
    read_all(t.s, t.c, buf, 10);
    assert_int_equal(sw_stream_pending(t.s), 90);
    read_all(t.s, t.c, buf + 10, 90);
    assert_memory_equal(buf, msg, 100);
    assert_int_equal(sw_stream_write(t.s, "pong", 4), 4);
    read_all(t.c, t.s, buf, 4);
    assert_memory_equal(buf, "pong", 4);
    /* close_notify: the server reads an orderly close */
    sw_stream_close(t.c);
    t.c = NULL;
    int64_t end = now_ms() + 2000;
    ssize_t r;
    while ((r = sw_stream_read(t.s, buf, sizeof buf)) == SW_EAGAIN && now_ms() < end)
        usleep(1000);
    assert_int_equal(r, 0);
    tls_done(&t);
}

static void test_tls_ip_name(void **state)
{
    (void)state;
    tls_setup t;
    tls_go(&t, "client.pem", "ca.pem", "127.0.0.1", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_OK);
    assert_int_equal(t.rc[1], SW_OK);
    tls_done(&t);
    tls_go(&t, "client.pem", "ca.pem", "127.0.0.2", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_EAUTH);
    tls_done(&t);
}

static void test_tls_wrong_ca(void **state)
{
    (void)state;
    tls_setup t;
    tls_go(&t, "client.pem", "rogue-ca.pem", "server.test", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_EAUTH);
    assert_non_null(strstr(sw_stream_error(t.c), "certificate verify failed"));
    /* the server hears the client's alert: a refused certificate too */
    assert_int_equal(t.rc[1], SW_EAUTH);
    assert_true(strlen(sw_stream_error(t.s)) > 0);
    char b[4];
    assert_int_equal(sw_stream_write(t.c, "x", 1), SW_EIO);
    assert_int_equal(sw_stream_read(t.s, b, 4), SW_EIO);
    tls_done(&t);
}

static void test_tls_wrong_host(void **state)
{
    (void)state;
    tls_setup t;
    tls_go(&t, "client.pem", "ca.pem", "other.test", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_EAUTH);
    assert_non_null(strstr(sw_stream_error(t.c), "hostname mismatch"));
    tls_done(&t);
}

/* No client certificate where one is required: the server refuses; the
 * TLS 1.3 client finished first and learns it at its next write/read. */
static void test_tls_client_cert_missing(void **state)
{
    (void)state;
    const char *certs[2] = {NULL, "rogue-client.pem"};
    for (int k = 0; k < 2; k++) {
        tls_setup t;
        tls_go(&t, certs[k], "ca.pem", "server.test", SW_TLS_VERIFY_REQUIRED);
        assert_int_equal(t.rc[1], SW_EAUTH);
        assert_true(t.rc[0] == SW_OK || t.rc[0] == SW_EAUTH);
        ssize_t r = t.rc[0];
        int64_t end = now_ms() + 3000;
        while (r != SW_EAUTH && now_ms() < end) {
            r = sw_stream_write(t.c, "INVITE", 6);
            assert_true(r == 6 || r == SW_EAUTH || r == SW_EAGAIN);
            usleep(5000);
        }
        assert_int_equal(r, SW_EAUTH);
        tls_done(&t);
    }
}

/* Writes of 1 MB through small socket buffers: partial counts or EAGAIN
 * with WANT_WRITE, every byte arriving in order. */
static void pump(sw_stream *w, sw_stream *r)
{
    size_t total = 1u << 20, sent = 0, got = 0;
    char *src = malloc(total), *dst = malloc(total);
    assert_non_null(src);
    assert_non_null(dst);
    for (size_t i = 0; i < total; i++)
        src[i] = (char)(i * 7 + i / 4093);
    int partial = 0, eagain = 0;
    int64_t end = now_ms() + 20000;
    while (got < total && now_ms() < end) {
        if (sent < total) {
            ssize_t k = sw_stream_write(w, src + sent, total - sent);
            if (k > 0) {
                partial += (size_t)k < total - sent;
                sent += (size_t)k;
            } else {
                assert_int_equal(k, SW_EAGAIN);
                assert_true(sw_stream_want(w) != 0);
                eagain++;
            }
        }
        ssize_t k = sw_stream_read(r, dst + got, total - got);
        if (k > 0)
            got += (size_t)k;
        else {
            assert_int_equal(k, SW_EAGAIN);
            wait_both(r, w);
        }
    }
    assert_int_equal(got, total);
    assert_memory_equal(src, dst, total);
    assert_true(partial + eagain > 0);
    free(src);
    free(dst);
}

static void small_buffers(int fd)
{
    int v = 16384;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}

static void test_partial_writes(void **state)
{
    (void)state;
    int fds[2];
    tcp_pair(fds);
    small_buffers(fds[0]);
    small_buffers(fds[1]);
    sw_stream *a = sw_stream_plain_new(fds[0]), *b = sw_stream_plain_new(fds[1]);
    pump(a, b);
    sw_stream_close(a);
    sw_stream_close(b);

    tls_setup t;
    tls_go(&t, "client.pem", "ca.pem", "server.test", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_OK);
    small_buffers(sw_stream_fd(t.c));
    small_buffers(sw_stream_fd(t.s));
    pump(t.s, t.c);
    pump(t.c, t.s);
    tls_done(&t);
}

/* An abrupt end (no close_notify) is an error, not an orderly close. */
static void test_tls_truncated(void **state)
{
    (void)state;
    tls_setup t;
    tls_go(&t, "client.pem", "ca.pem", "server.test", SW_TLS_VERIFY_REQUIRED);
    assert_int_equal(t.rc[0], SW_OK);
    assert_int_equal(shutdown(sw_stream_fd(t.c), SHUT_RDWR), 0);
    char b[8];
    int64_t end = now_ms() + 2000;
    ssize_t r;
    while ((r = sw_stream_read(t.s, b, sizeof b)) == SW_EAGAIN && now_ms() < end)
        usleep(1000);
    assert_int_equal(r, SW_EIO);
    assert_true(strlen(sw_stream_error(t.s)) > 0);
    tls_done(&t);
}

static void dtls_go(tls_setup *t, const char *ccert, const char *ca, const char *host)
{
    char err[256] = "";
    t->sctx = sw_dtls_server_ctx(P("server.pem"), P("server.key"), P("ca.pem"), err, sizeof err);
    assert_non_null(t->sctx);
    t->cctx = sw_dtls_client_ctx(ccert ? P(ccert) : NULL, ccert ? P("client.key") : NULL, P(ca), err,
                                 sizeof err);
    assert_non_null(t->cctx);
    int fds[2];
    udp_pair(fds);
    t->c = sw_stream_dtls_client_new(fds[0], t->cctx, host);
    t->s = sw_stream_dtls_server_new(fds[1], t->sctx);
    assert_non_null(t->c);
    assert_non_null(t->s);
    handshake_both(t->c, t->s, t->rc);
}

static void test_dtls(void **state)
{
    (void)state;
    tls_setup t;
    dtls_go(&t, "client.pem", "ca.pem", "server.test");
    assert_int_equal(t.rc[0], SW_OK);
    assert_int_equal(t.rc[1], SW_OK);
    assert_string_equal(sw_stream_version(t.c), "DTLSv1.2");
    assert_int_equal(sw_stream_is_secure(t.c), 1);
    char ids[SW_TLS_MAX_IDS][SW_TLS_ID_LEN];
    assert_true(sw_stream_peer_ids(t.s, ids, SW_TLS_MAX_IDS) >= 1);
    assert_string_equal(ids[0], "client.test");
    /* records stay whole: three writes, three reads of exactly their size */
    static char big[16384];
    memset(big, 'z', sizeof big);
    size_t sizes[3] = {5, 1200, sizeof big};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sw_stream_write(t.c, big, sizes[i]), (ssize_t)sizes[i]);
    for (int i = 0; i < 3; i++) {
        char buf[20000];
        ssize_t r = SW_EAGAIN;
        int64_t end = now_ms() + 2000;
        while ((r = sw_stream_read(t.s, buf, sizeof buf)) == SW_EAGAIN && now_ms() < end)
            wait_both(t.s, t.c);
        assert_int_equal(r, (ssize_t)sizes[i]);
    }
    char over[16385];
    memset(over, 'y', sizeof over);
    assert_int_equal(sw_stream_write(t.c, over, sizeof over), SW_EUSAGE);
    assert_int_equal(sw_stream_write(t.c, "still", 5), 5); /* not broken by the refusal */
    tls_done(&t);
}

static void test_dtls_refused(void **state)
{
    (void)state;
    tls_setup t;
    dtls_go(&t, "client.pem", "ca.pem", "other.test");
    assert_int_equal(t.rc[0], SW_EAUTH);
    tls_done(&t);
    dtls_go(&t, "client.pem", "rogue-ca.pem", "server.test");
    assert_int_equal(t.rc[0], SW_EAUTH);
    tls_done(&t);
    dtls_go(&t, NULL, "ca.pem", "server.test");
    assert_int_equal(t.rc[1], SW_EAUTH);
    assert_true(t.rc[0] != SW_OK);
    tls_done(&t);
}

/* The client's handshake retransmits by itself: a server that comes late
 * (the first flight is lost) still completes, driven by the timeout. */
static void test_dtls_retransmit(void **state)
{
    (void)state;
    char err[256];
    SSL_CTX *sctx = sw_dtls_server_ctx(P("server.pem"), P("server.key"), NULL, err, sizeof err);
    SSL_CTX *cctx = sw_dtls_client_ctx(NULL, NULL, P("ca.pem"), err, sizeof err);
    assert_non_null(sctx);
    assert_non_null(cctx);
    int fds[2];
    udp_pair(fds);
    sw_stream *c = sw_stream_dtls_client_new(fds[0], cctx, "server.test");
    assert_int_equal(sw_stream_handshake(c), SW_EAGAIN);
    int to = sw_stream_timeout_ms(c);
    assert_true(to > 0 && to <= 1000);
    char junk[2048];
    assert_true(recv(fds[1], junk, sizeof junk, 0) > 0); /* the ClientHello, lost */
    sw_stream *s = sw_stream_dtls_server_new(fds[1], sctx);
    int rc[2];
    handshake_both(c, s, rc);
    assert_int_equal(rc[0], SW_OK);
    assert_int_equal(rc[1], SW_OK);
    sw_stream_close(c);
    sw_stream_close(s);
    sw_tls_ctx_free(sctx);
    sw_tls_ctx_free(cctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_tls_ok),
        cmocka_unit_test(test_tls_ip_name),
        cmocka_unit_test(test_tls_wrong_ca),
        cmocka_unit_test(test_tls_wrong_host),
        cmocka_unit_test(test_tls_client_cert_missing),
        cmocka_unit_test(test_partial_writes),
        cmocka_unit_test(test_tls_truncated),
        cmocka_unit_test(test_dtls),
        cmocka_unit_test(test_dtls_refused),
        cmocka_unit_test(test_dtls_retransmit),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
