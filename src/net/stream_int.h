/* Streams (include/sipwall/net.h): the object every backend shares and the
 * backend interface.  Internal to src/net/. */
#ifndef SW_NET_STREAM_INT_H
#define SW_NET_STREAM_INT_H

#include "sipwall/net.h"

typedef struct sw__stream_ops {
    int (*handshake)(sw_stream *s);
    ssize_t (*read)(sw_stream *s, void *buf, size_t n);
    ssize_t (*write)(sw_stream *s, const void *buf, size_t n);
    size_t (*pending)(const sw_stream *s);
    int (*timeout_ms)(sw_stream *s);
    unsigned (*peer_ids)(sw_stream *s, char ids[][SW_TLS_ID_LEN], unsigned max);
    const char *(*version)(const sw_stream *s);
    void (*shutdown)(sw_stream *s); /* close_notify and free the backend's state; not the fd */
} sw__stream_ops;

struct sw_stream {
    const sw__stream_ops *ops;
    int fd;
    unsigned want;   /* SW_STREAM_WANT_* of the last SW_EAGAIN */
    uint8_t secure;
    uint8_t client;
    uint8_t dgram;   /* one record/datagram per call */
    uint8_t done;    /* handshake finished */
    uint8_t broken;  /* a fatal error: no close_notify */
    SSL *ssl;
    char err[200];
};

/* A stream of the given backend on fd; closes fd and returns NULL on ENOMEM. */
sw_stream *sw__stream_alloc(int fd, const sw__stream_ops *ops);
/* Records a failure's reason. */
void sw__stream_set_error(sw_stream *s, const char *fmt, ...) SW_PRINTF(2, 3);

/* stream_tls.c: the SSL-object half shared by TLS and DTLS. */
extern const sw__stream_ops sw__ssl_stream_ops;
/* Puts verify_host on ssl (host or IP check, SNI for a DNS name on TLS). */
int sw__ssl_set_host(SSL *ssl, const char *verify_host, int sni);
/* Sets a new stream's TLS/DTLS side (stream_tls.c). */
void sw__ssl_set_role(sw_stream *s, int client, const char *host);

#endif
