/* sipwall — sockets for sipwalld: UDP/TCP listeners with SO_REUSEPORT and
 * source-address steering, address conversion, and TLS contexts
 * (OpenSSL 3, TLS 1.2+, mutual TLS, peer identity from the certificate). */
#ifndef SIPWALL_NET_H
#define SIPWALL_NET_H

#include <sys/socket.h>

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

#endif
