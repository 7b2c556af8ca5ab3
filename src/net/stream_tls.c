/* The TLS stream backend (include/sipwall/net.h): TLS over a TCP socket.
 * Its SSL-object calls (handshake, read, write, close_notify, identities)
 * also serve stream_dtls.c.
 *
 * Client rules learned the hard way (TLS 1.3): the client's handshake ends
 * before the server has checked the client's certificate, so a refused
 * client only learns it when it reads; and session tickets or key updates
 * make the socket readable without any data.  So a client looks at what the
 * server sent (a non-consuming peek) before each write: an alert is a
 * failure, nothing or a ticket (WANT_READ) means alive. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "net/stream_int.h"

/* Reasons of a handshake or read failure that mean "a certificate was
 * refused", by us or by the peer (its alert). */
static int auth_reason(int reason)
{
    switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return 1;
    default:
        return 0;
    }
}

/* Classifies a failed SSL call (r <= 0): SW_EAGAIN with s->want set, 0 for
 * the peer's close_notify, SW_EAUTH or SW_EIO with the reason in s->err. */
static ssize_t ssl_fail(sw_stream *s, int r)
{
    int saved = errno;
    int e = SSL_get_error(s->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        s->want = SW_STREAM_WANT_READ;
        return SW_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        s->want = SW_STREAM_WANT_WRITE;
        return SW_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return 0;
    default:
        break;
    }
    unsigned long q = ERR_peek_last_error();
    long v = SSL_get_verify_result(s->ssl);
    int verified = SSL_get_verify_mode(s->ssl) != SSL_VERIFY_NONE;
    if (verified && v != X509_V_OK) {
        sw__stream_set_error(s, "certificate verify failed: %s", X509_verify_cert_error_string(v));
        ERR_clear_error();
        return SW_EAUTH;
    }
    if (q) {
        char reason[160];
        ERR_error_string_n(q, reason, sizeof reason);
        sw__stream_set_error(s, "%s", reason);
        ERR_clear_error();
        return auth_reason(ERR_GET_REASON(q)) ? SW_EAUTH : SW_EIO;
    }
    if (e == SSL_ERROR_SYSCALL && saved && saved != EAGAIN)
        sw__stream_set_error(s, "%s", strerror(saved));
    else
        sw__stream_set_error(s, "connection closed by the peer without close_notify");
    return SW_EIO;
}

/* A client's look at what the server sent, consuming nothing: SW_OK while
 * the connection is alive, else the failure (0 becomes SW_EIO). */
static int client_probe(sw_stream *s)
{
    unsigned want = s->want;
    char b;
    ERR_clear_error();
    int r = SSL_peek(s->ssl, &b, 1);
    if (r > 0)
        return SW_OK;
    ssize_t f = ssl_fail(s, r);
    s->want = want;
    if (f == SW_EAGAIN)
        return SW_OK;
    if (f == 0) {
        sw__stream_set_error(s, "connection closed by the peer");
        return SW_EIO;
    }
    return (int)f;
}

static int ssl_handshake(sw_stream *s)
{
    if (s->broken)
        return SW_EIO;
    ERR_clear_error();
    if (s->dgram && DTLSv1_handle_timeout(s->ssl) < 0) {
        sw__stream_set_error(s, "DTLS handshake: no answer after retransmissions");
        return SW_EIO;
    }
    int r = SSL_do_handshake(s->ssl);
    if (r == 1)
        return s->client && !s->dgram ? client_probe(s) : SW_OK;
    ssize_t f = ssl_fail(s, r);
    if (f == 0) {
        sw__stream_set_error(s, "connection closed by the peer during the handshake");
        return SW_EIO;
    }
    return (int)f;
}

static ssize_t ssl_read(sw_stream *s, void *buf, size_t n)
{
    if (n > INT_MAX)
        n = INT_MAX;
    ERR_clear_error();
    if (s->dgram)
        DTLSv1_handle_timeout(s->ssl);
    int r = SSL_read(s->ssl, buf, (int)n);
    return r > 0 ? r : ssl_fail(s, r);
}

static ssize_t ssl_write(sw_stream *s, const void *buf, size_t n)
{
    if (s->dgram && n > SSL3_RT_MAX_PLAIN_LENGTH) {
        sw__stream_set_error(s, "a DTLS record holds at most %d bytes", SSL3_RT_MAX_PLAIN_LENGTH);
        return SW_EUSAGE;
    }
    if (n > INT_MAX)
        n = INT_MAX;
    if (s->client && !s->dgram) {
        int p = client_probe(s);
        if (p != SW_OK)
            return p;
    }
    ERR_clear_error();
    int r = SSL_write(s->ssl, buf, (int)n);
    if (r > 0)
        return r;
    ssize_t f = ssl_fail(s, r);
    if (f == 0) {
        sw__stream_set_error(s, "connection closed by the peer");
        return SW_EIO;
    }
    return f;
}

static size_t ssl_pending(const sw_stream *s)
{
    int n = SSL_pending(s->ssl);
    return n > 0 ? (size_t)n : 0;
}

static int ssl_timeout_ms(sw_stream *s)
{
    struct timeval tv;
    if (!s->dgram || DTLSv1_get_timeout(s->ssl, &tv) != 1)
        return -1;
    long ms = tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static unsigned ssl_peer_ids(sw_stream *s, char ids[][SW_TLS_ID_LEN], unsigned max)
{
    return sw_tls_peer_ids(s->ssl, ids, max);
}

static const char *ssl_version(const sw_stream *s) { return SSL_get_version(s->ssl); }

static void ssl_shutdown(sw_stream *s)
{
    if (!s->ssl)
        return;
    if (s->done && !s->broken) {
        ERR_clear_error();
        (void)SSL_shutdown(s->ssl); /* close_notify, not waiting for the peer's */
    }
    SSL_free(s->ssl);
    s->ssl = NULL;
    ERR_clear_error();
}

const sw__stream_ops sw__ssl_stream_ops = {
    .handshake = ssl_handshake,
    .read = ssl_read,
    .write = ssl_write,
    .pending = ssl_pending,
    .timeout_ms = ssl_timeout_ms,
    .peer_ids = ssl_peer_ids,
    .version = ssl_version,
    .shutdown = ssl_shutdown,
};

int sw__ssl_set_host(SSL *ssl, const char *host, int sni)
{
    if (!host)
        return SW_OK;
    /* asking for a name means verifying the chain too, whatever the context says */
    if (SSL_get_verify_mode(ssl) == SSL_VERIFY_NONE)
        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    unsigned char bin[16];
    if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? SW_OK : SW_EINVAL;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, host) != 1)
        return SW_EINVAL;
    if (sni && SSL_set_tlsext_host_name(ssl, host) != 1)
        return SW_EINVAL;
    return SW_OK;
}

static sw_stream *tls_new(int fd, SSL_CTX *ctx, const char *host, int client)
{
    sw_stream *s = sw__stream_alloc(fd, &sw__ssl_stream_ops);
    if (!s)
        return NULL;
    s->secure = 1;
    s->client = (uint8_t)client;
    ERR_clear_error();
    if (!(s->ssl = SSL_new(ctx)) || SSL_set_fd(s->ssl, fd) != 1) {
        sw_stream_close(s);
        ERR_clear_error();
        return NULL;
    }
    sw__ssl_set_role(s, client, host);
    return s;
}

/* The side of a new TLS or DTLS stream: a client checks the server's
 * name (a stream whose name cannot be set is broken from the start), a
 * server accepts.  Shared by both backends. */
void sw__ssl_set_role(sw_stream *s, int client, const char *host)
{
    if (client) {
        SSL_set_connect_state(s->ssl);
        if (sw__ssl_set_host(s->ssl, host, 1) != SW_OK) {
            sw__stream_set_error(s, "cannot verify the name \"%s\"", host);
            s->broken = 1;
        }
    } else {
        SSL_set_accept_state(s->ssl);
    }
    ERR_clear_error();
}

sw_stream *sw_stream_tls_server_new(int fd, SSL_CTX *ctx) { return tls_new(fd, ctx, NULL, 0); }

sw_stream *sw_stream_tls_client_new(int fd, SSL_CTX *ctx, const char *verify_host)
{
    return tls_new(fd, ctx, verify_host, 1);
}
