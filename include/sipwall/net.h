/* sipwall — sockets for sipwalld: UDP/TCP listeners with SO_REUSEPORT and
 * source-address steering, address conversion, and TLS contexts
 * (OpenSSL 3, TLS 1.2+, mutual TLS, peer identity from the certificate). */
#ifndef SIPWALL_NET_H
#define SIPWALL_NET_H

#include <sys/socket.h>
#include <sys/types.h>

#include "sipwall/addr.h"

typedef struct sw_sock_opts {
    uint8_t reuseport;   /* SO_REUSEPORT: one socket per worker on the same address */
    uint32_t rcvbuf, sndbuf; /* 0 = system default */
    int backlog;         /* TCP listeners */
} sw_sock_opts;

/* Opens a non-blocking socket bound to addr.  UDP sockets get IP_RECVERR
 * (ICMP errors on the error queue: next-hop failover) and IP_PKTINFO off;
 * IPv6 sockets are v6-only.  Returns the fd, or -1 with a message in err. */
int sw_sock_udp(const sw_addr *addr, const sw_sock_opts *o, char *err, size_t errlen) SW_NONNULL(1, 2);
int sw_sock_tcp_listen(const sw_addr *addr, const sw_sock_opts *o, char *err, size_t errlen)
    SW_NONNULL(1, 2);
/* Starts a non-blocking connect (EINPROGRESS is success). */
int sw_sock_tcp_connect(const sw_addr *to, char *err, size_t errlen) SW_NONNULL(1);

/* Steers a SO_REUSEPORT group by the source IP address, so that every
 * datagram and connection of one source lands on the same worker (its
 * detectors see all of it): index = sw_sock_owner(src, n).  Attach to any
 * socket of the group after all n have been bound, in worker order. */
int sw_sock_steer_by_source(int fd, unsigned n, int family) SW_NONNULL();
/* Steers a SO_REUSEPORT group of UDP sockets by a marker in the payload:
 * a response (a datagram starting "SIP/") whose first occurrence of MARKER
 * (4..32 bytes, within the first 900 bytes; fewer where the kernel refuses
 * so large a program) is followed by CHARS[k] goes to
 * socket k < n; everything else is steered by source as above.  sipwalld
 * uses it on the core side so that a response reaches the worker that
 * forwarded its request (our branch names it) without a hand-over. */
int sw_sock_steer_by_marker(int fd, unsigned n, int family, const char *marker, const char *chars)
    SW_NONNULL(4, 5);
/* The worker a source address belongs to (the same function as the
 * steering program: the last 32 bits of the address, mod n). */
unsigned sw_sock_owner(const sw_addr *a, unsigned n) SW_NONNULL(1);

/* sockaddr <-> sw_addr */
socklen_t sw_addr_to_sockaddr(const sw_addr *a, struct sockaddr_storage *ss) SW_NONNULL(1, 2);
int sw_addr_from_sockaddr(const struct sockaddr *sa, sw_addr *out) SW_NONNULL(1, 2);

/* ---- TLS ----------------------------------------------------------------- */
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

typedef enum sw_tls_verify {
    SW_TLS_VERIFY_NONE = 0,     /* no client certificate asked */
    SW_TLS_VERIFY_OPTIONAL = 1, /* asked, checked when given */
    SW_TLS_VERIFY_REQUIRED = 2, /* mutual TLS: no valid certificate, no connection */
} sw_tls_verify;

/* A server (listener) or client (outgoing) context: TLS 1.2 minimum,
 * the system's secure cipher defaults, no renegotiation, no compression,
 * no session tickets.  ca may be NULL with verify NONE.  Returns NULL with
 * the OpenSSL reason in err. */
SSL_CTX *sw_tls_server_ctx(const char *cert, const char *key, const char *ca, sw_tls_verify v,
                           char *err, size_t errlen);
SSL_CTX *sw_tls_client_ctx(const char *cert, const char *key, const char *ca, sw_tls_verify v,
                           char *err, size_t errlen);

#define SW_TLS_MAX_IDS 8
#define SW_TLS_ID_LEN 128

/* The peer certificate's identities: subject CN first, then the
 * subjectAltName DNS and URI entries.  Returns how many were written
 * (0: no certificate). */
unsigned sw_tls_peer_ids(SSL *ssl, char ids[][SW_TLS_ID_LEN], unsigned max) SW_NONNULL(1, 2);

/* DTLS 1.2 contexts (RFC 6347; OpenSSL 3.0 has no DTLS 1.3): the peer's
 * certificate is always verified against ca (required for a client; the
 * server asks for a client certificate and requires it when ca is given).
 * NULL with the OpenSSL reason in err. */
SSL_CTX *sw_dtls_client_ctx(const char *cert, const char *key, const char *ca, char *err, size_t errlen);
SSL_CTX *sw_dtls_server_ctx(const char *cert, const char *key, const char *ca, char *err, size_t errlen);
/* Frees a context made by any of the functions above; NULL is fine. */
void sw_tls_ctx_free(SSL_CTX *ctx);

/* ---- HTTPS (the admin API's evhttp server, src/net/https.c) ----------------- */
struct bufferevent;
struct event_base;
/* A server-side TLS bufferevent (libevent bufferevent_openssl, accepting,
 * closes its fd and SSL when freed) for evhttp_set_bevcb: a new SSL from
 * ctx (sw_tls_server_ctx; with VERIFY_REQUIRED the handshake refuses a
 * client without a valid certificate).  fn(arg), when given, is called
 * once when the connection's SSL object is freed (connection counting);
 * also when this call fails after making it, so count before calling.
 * NULL on no memory. */
struct bufferevent *sw_https_bev_new(struct event_base *base, SSL_CTX *ctx, void (*fn)(void *), void *arg)
    SW_NONNULL(1, 2);
/* The client certificate's identities on such a bufferevent, as
 * sw_tls_peer_ids (0: none, or not a TLS bufferevent). */
unsigned sw_https_peer_ids(struct bufferevent *bev, char ids[][SW_TLS_ID_LEN], unsigned max) SW_NONNULL(1, 2);
/* 1 when bev is a TLS bufferevent (made by sw_https_bev_new), else 0. */
int sw_https_is_tls(struct bufferevent *bev) SW_NONNULL(1);

/* ---- Streams ---------------------------------------------------------------
 * One interface over a connected non-blocking socket, plain or secured:
 * TCP, TLS over TCP, DTLS over a connected UDP socket (src/net/stream.c,
 * one file per backend).  Nothing outside src/net/ calls OpenSSL on a
 * connection.  A stream is used by one thread at a time.  Writing to a
 * peer that has gone may raise SIGPIPE inside OpenSSL: programs using
 * secure streams ignore SIGPIPE (sipwalld does). */
typedef struct sw_stream sw_stream;

enum { SW_STREAM_WANT_READ = 1, SW_STREAM_WANT_WRITE = 2 };

/* Wrap an already connected/accepted non-blocking fd.  The stream owns fd
 * from then on (closed by sw_stream_close, also when the call fails).
 * NULL on ENOMEM.  plain: TCP, or a connected UDP socket (one datagram per
 * read/write). */
sw_stream *sw_stream_plain_new(int fd);
/* TLS on an accepted TCP socket; ctx from sw_tls_server_ctx. */
sw_stream *sw_stream_tls_server_new(int fd, SSL_CTX *ctx) SW_NONNULL(2);
/* TLS on a connected TCP socket; ctx from sw_tls_client_ctx.  verify_host:
 * the name the server's certificate must carry (subjectAltName DNS, or the
 * CN when it has none; an IP literal is matched against the IP SANs); it is
 * also sent as SNI when it is a DNS name.  NULL: the chain only. */
sw_stream *sw_stream_tls_client_new(int fd, SSL_CTX *ctx, const char *verify_host) SW_NONNULL(2);
/* DTLS 1.2 on a connected UDP socket; ctx from sw_dtls_client_ctx /
 * sw_dtls_server_ctx.  The handshake's retransmissions are driven inside
 * the stream: call sw_stream_handshake again when the fd is readable or
 * when sw_stream_timeout_ms has passed. */
sw_stream *sw_stream_dtls_client_new(int fd, SSL_CTX *ctx, const char *verify_host) SW_NONNULL(2);
sw_stream *sw_stream_dtls_server_new(int fd, SSL_CTX *ctx) SW_NONNULL(2);

/* Drives the handshake.  SW_OK when done (at once for plain); SW_EAGAIN:
 * wait for sw_stream_want() (or the timeout) then call again; SW_EAUTH: the
 * peer's certificate failed verification, or the peer refused ours (a TLS
 * 1.3 client may only learn that at its first read or write, which then
 * return SW_EAUTH); SW_EIO: any other failure (sw_stream_error says why). */
int sw_stream_handshake(sw_stream *s) SW_NONNULL(1);
/* Reads up to n bytes: >0 bytes read; 0: the peer closed in order;
 * SW_EAGAIN: would block (see sw_stream_want); SW_EAUTH / SW_EIO: the
 * stream is broken (an unexpected EOF on TLS is SW_EIO).  A connected UDP
 * socket's empty datagram reads as SW_EAGAIN. */
ssize_t sw_stream_read(sw_stream *s, void *buf, size_t n) SW_NONNULL(1, 2);
/* Writes up to n bytes: the count written (it may be less than n: call
 * again with the rest), SW_EAGAIN (call again later with the same bytes),
 * SW_EAUTH / SW_EIO.  DTLS and UDP: one call = one record/datagram, all
 * or nothing (n above 16384 for DTLS is SW_EUSAGE).  A TLS client first
 * reads what the server has sent without consuming application data, so
 * an alert refusing our certificate surfaces here as SW_EAUTH. */
ssize_t sw_stream_write(sw_stream *s, const void *buf, size_t n) SW_NONNULL(1, 2);
/* SW_STREAM_WANT_* after an SW_EAGAIN (0 otherwise). */
unsigned sw_stream_want(const sw_stream *s) SW_NONNULL(1);
/* Milliseconds until the stream needs a call although its fd is idle (a
 * DTLS handshake retransmission), -1: none. */
int sw_stream_timeout_ms(sw_stream *s) SW_NONNULL(1);
int sw_stream_fd(const sw_stream *s) SW_NONNULL(1);
/* 1 for TLS/DTLS, 0 for plain. */
int sw_stream_is_secure(const sw_stream *s) SW_NONNULL(1);
/* Bytes already decrypted and buffered: read them before waiting on the fd
 * (epoll will not say they are there). */
size_t sw_stream_pending(const sw_stream *s) SW_NONNULL(1);
/* The peer certificate's identities as sw_tls_peer_ids (0 for plain or no
 * certificate). */
unsigned sw_stream_peer_ids(sw_stream *s, char ids[][SW_TLS_ID_LEN], unsigned max) SW_NONNULL(1, 2);
/* The negotiated protocol ("TLSv1.3", "DTLSv1.2"), "plain" for plain. */
const char *sw_stream_version(const sw_stream *s) SW_NONNULL(1);
/* The reason of the last failure (OpenSSL's text, or the certificate
 * verification error), "" when none. */
const char *sw_stream_error(const sw_stream *s) SW_NONNULL(1);
/* close_notify best effort (non-blocking), close(fd), free.  NULL is fine. */
void sw_stream_close(sw_stream *s);

#endif
