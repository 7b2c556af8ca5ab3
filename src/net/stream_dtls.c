/* The DTLS stream backend (include/sipwall/net.h): DTLS 1.2 over a
 * connected UDP socket, one record per write.  The SSL calls are
 * stream_tls.c's; here: the datagram BIO and the handshake timer. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "net/stream_int.h"

static sw_stream *dtls_new(int fd, SSL_CTX *ctx, const char *host, int client)
{
    sw_stream *s = sw__stream_alloc(fd, &sw__ssl_stream_ops);
    if (!s)
        return NULL;
    s->secure = 1;
    s->dgram = 1;
    s->client = (uint8_t)client;
    ERR_clear_error();
    BIO *bio = NULL;
    if (!(s->ssl = SSL_new(ctx)) || !(bio = BIO_new_dgram(fd, BIO_NOCLOSE))) {
        BIO_free(bio);
        sw_stream_close(s);
        ERR_clear_error();
        return NULL;
    }
    struct sockaddr_storage peer;
    socklen_t sl = sizeof peer;
    if (getpeername(fd, (struct sockaddr *)&peer, &sl) == 0)
        (void)BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &peer);
    else {
        sw__stream_set_error(s, "DTLS needs a connected UDP socket");
        s->broken = 1;
    }
    SSL_set_bio(s->ssl, bio, bio);
    sw__ssl_set_role(s, client, host);
    return s;
}

sw_stream *sw_stream_dtls_client_new(int fd, SSL_CTX *ctx, const char *verify_host)
{
    return dtls_new(fd, ctx, verify_host, 1);
}

sw_stream *sw_stream_dtls_server_new(int fd, SSL_CTX *ctx) { return dtls_new(fd, ctx, NULL, 0); }
