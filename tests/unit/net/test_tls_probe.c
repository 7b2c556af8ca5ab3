/* TLS probes (src/net/tls_probe.c) against a sipwall TLS server stream on a
 * loopback pair, PKI from mkpki.sh: a pinned TLS 1.1 hello is refused with
 * protocol_version, TLS 1.3 and one TLS 1.2 suite are accepted, a suite the
 * server lacks is not; the chain is captured as PEM and verified against
 * the right CA (and not the rogue one); the name check; a self-signed
 * client certificate is refused by a mutual-TLS server with unknown_ca. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

static int setup_pki(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(pki, sizeof pki, "/tmp/sw-probe-pki-XXXXXX");
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
    for (int i = 0; i < 2; i++)
        assert_int_equal(fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK), 0);
}

/* Drives both handshakes (3 s at most); returns the client's result. */
static int handshake(sw_stream *c, sw_stream *s)
{
    int rc = SW_EAGAIN, rs = SW_EAGAIN;
    for (int i = 0; i < 300 && (rc == SW_EAGAIN || rs == SW_EAGAIN); i++) {
        if (rc == SW_EAGAIN)
            rc = sw_stream_handshake(c);
        if (rs == SW_EAGAIN)
            rs = sw_stream_handshake(s);
        struct pollfd p[2] = {{.fd = sw_stream_fd(c), .events = POLLIN}, {.fd = sw_stream_fd(s), .events = POLLIN}};
        poll(p, 2, 10);
    }
    /* a TLS 1.3 client learns of a refused certificate at its first read */
    if (rc == SW_OK) {
        char b[16];
        for (int i = 0; i < 50; i++) {
            ssize_t n = sw_stream_read(c, b, sizeof b);
            if (n != SW_EAGAIN) {
                if (n < 0)
                    rc = (int)n;
                break;
            }
            (void)sw_stream_read(s, b, sizeof b);
            poll(NULL, 0, 10);
        }
    }
    return rc;
}

typedef struct run {
    sw_tls_probe *p;
    int rc;
} run;

static run probe_once(const sw_tls_probe_opts *o, SSL_CTX *server)
{
    run r = {0};
    char err[256];
    r.p = sw_tls_probe_new(o, err, sizeof err);
    assert_non_null(r.p);
    int fds[2];
    tcp_pair(fds);
    sw_stream *c = sw_stream_tls_client_new(fds[0], sw_tls_probe_ctx(r.p), NULL);
    sw_stream *s = sw_stream_tls_server_new(fds[1], server);
    assert_non_null(c);
    assert_non_null(s);
    r.rc = handshake(c, s);
    sw_stream_close(c);
    sw_stream_close(s);
    return r;
}

static void test_versions_and_suites(void **state)
{
    (void)state;
    char err[256];
    SSL_CTX *srv = sw_tls_server_ctx(P("server.pem"), P("server.key"), NULL, SW_TLS_VERIFY_NONE, err, sizeof err);
    assert_non_null(srv);
    /* sipwall servers are TLS 1.2+: a pinned 1.1 hello gets protocol_version */
    sw_tls_probe_opts o = {.version = SW_TLS_V_1_1, .ca = P("ca.pem")};
    run r = probe_once(&o, srv);
    const sw_tls_probe_info *in = sw_tls_probe_get(r.p);
    assert_int_not_equal(r.rc, SW_OK);
    assert_false(in->server_hello);
    assert_int_equal(in->alert_rx, 70);
    assert_non_null(strstr(in->alert_text, "protocol_version"));
    sw_tls_probe_free(r.p);
    /* TLS 1.3 accepted */
    o = (sw_tls_probe_opts){.version = SW_TLS_V_1_3, .ca = P("ca.pem")};
    r = probe_once(&o, srv);
    in = sw_tls_probe_get(r.p);
    assert_int_equal(r.rc, SW_OK);
    assert_true(in->server_hello && in->handshake_done);
    assert_string_equal(in->version, "TLSv1.3");
    sw_tls_probe_free(r.p);
    /* one TLS 1.2 suite the server has, and one (RSA key exchange with an
     * EC certificate) it cannot use */
    o = (sw_tls_probe_opts){.cipher12 = "ECDHE-ECDSA-AES128-GCM-SHA256", .ca = P("ca.pem")};
    r = probe_once(&o, srv);
    in = sw_tls_probe_get(r.p);
    assert_int_equal(r.rc, SW_OK);
    assert_string_equal(in->version, "TLSv1.2");
    assert_string_equal(in->cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
    sw_tls_probe_free(r.p);
    o = (sw_tls_probe_opts){.cipher12 = "AES128-SHA", .ca = P("ca.pem")};
    r = probe_once(&o, srv);
    in = sw_tls_probe_get(r.p);
    assert_int_not_equal(r.rc, SW_OK);
    assert_false(in->server_hello);
    assert_true(in->alert_rx >= 0);
    sw_tls_probe_free(r.p);
    /* a suite this OpenSSL does not have at all: no context, a reason */
    o = (sw_tls_probe_opts){.cipher12 = "NO-SUCH-SUITE"};
    assert_null(sw_tls_probe_new(&o, err, sizeof err));
    assert_true(err[0] != '\0');
    sw_tls_ctx_free(srv);
}

static void test_chain_and_name(void **state)
{
    (void)state;
    char err[256];
    SSL_CTX *srv = sw_tls_server_ctx(P("server.pem"), P("server.key"), NULL, SW_TLS_VERIFY_NONE, err, sizeof err);
    sw_tls_probe_opts o = {.ca = P("ca.pem"), .name = "server.test"};
    run r = probe_once(&o, srv);
    const sw_tls_probe_info *in = sw_tls_probe_get(r.p);
    assert_int_equal(r.rc, SW_OK);
    assert_int_equal(in->verify_error, 0);
    assert_true(in->name_checked && in->name_ok);
    assert_true(in->ncerts >= 1);
    assert_non_null(in->chain_pem);
    assert_int_equal(strncmp(in->chain_pem, "-----BEGIN CERTIFICATE-----", 27), 0);
    assert_string_equal(in->key_type, "EC");
    assert_int_equal(in->key_bits, 256);
    assert_false(in->sig_sha1);
    assert_true(in->days_left >= 0 && in->days_left <= 2);
    assert_int_equal(strlen(in->leaf_sha256), 95); /* 32 bytes as AA:BB:… */
    assert_non_null(strstr(in->leaf_subject, "server.test"));
    sw_tls_probe_free(r.p);
    /* the IP SAN; a wrong name; the rogue CA: recorded, the handshake goes on */
    o = (sw_tls_probe_opts){.ca = P("ca.pem"), .name = "127.0.0.1"};
    r = probe_once(&o, srv);
    assert_true(sw_tls_probe_get(r.p)->name_ok);
    sw_tls_probe_free(r.p);
    o = (sw_tls_probe_opts){.ca = P("rogue-ca.pem"), .name = "wrong.test"};
    r = probe_once(&o, srv);
    in = sw_tls_probe_get(r.p);
    assert_int_equal(r.rc, SW_OK);
    assert_true(in->name_checked && !in->name_ok);
    assert_int_not_equal(in->verify_error, 0);
    assert_true(in->verify_text[0] != '\0');
    sw_tls_probe_free(r.p);
    sw_tls_ctx_free(srv);
}

static void test_mutual_tls(void **state)
{
    (void)state;
    char err[256];
    SSL_CTX *srv =
        sw_tls_server_ctx(P("server.pem"), P("server.key"), P("ca.pem"), SW_TLS_VERIFY_REQUIRED, err, sizeof err);
    assert_non_null(srv);
    /* a fresh self-signed certificate: unknown_ca */
    sw_tls_probe_opts o = {.self_signed = 1};
    run r = probe_once(&o, srv);
    const sw_tls_probe_info *in = sw_tls_probe_get(r.p);
    assert_int_not_equal(r.rc, SW_OK);
    assert_int_equal(in->alert_rx, 48);
    assert_non_null(strstr(in->alert_text, "unknown_ca"));
    sw_tls_probe_free(r.p);
    /* no certificate at all (TLS 1.3): certificate_required */
    o = (sw_tls_probe_opts){.version = SW_TLS_V_1_3};
    r = probe_once(&o, srv);
    in = sw_tls_probe_get(r.p);
    assert_int_not_equal(r.rc, SW_OK);
    assert_int_equal(in->alert_rx, 116);
    assert_non_null(strstr(in->alert_text, "certificate_required"));
    sw_tls_probe_free(r.p);
    /* the partner's certificate: accepted */
    o = (sw_tls_probe_opts){.cert = P("client.pem"), .key = P("client.key"), .ca = P("ca.pem")};
    r = probe_once(&o, srv);
    assert_int_equal(r.rc, SW_OK);
    assert_int_equal(sw_tls_probe_get(r.p)->alert_rx, -1);
    sw_tls_probe_free(r.p);
    sw_tls_ctx_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_and_suites),
        cmocka_unit_test(test_chain_and_name),
        cmocka_unit_test(test_mutual_tls),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
