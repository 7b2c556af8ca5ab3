/* TLS bufferevents for the admin API's evhttp server (include/sipwall/net.h
 * "HTTPS"): the SSL objects stay behind the seam; the admin layer gets
 * bufferevents and identities. */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>

#include "sipwall/net.h"

typedef struct on_free {
    void (*fn)(void *);
    void *arg;
} on_free;

static int ex_index = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

/* OpenSSL calls this when the SSL object goes (bufferevent_free with
 * BEV_OPT_CLOSE_ON_FREE frees it): the owner learns the connection ended. */
static void ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    on_free *f = ptr;
    if (f) {
        f->fn(f->arg);
        free(f);
    }
}

static void ex_init(void) { ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, ex_free); }

struct bufferevent *sw_https_bev_new(struct event_base *base, SSL_CTX *ctx, void (*fn)(void *), void *arg)
{
    pthread_once(&ex_once, ex_init);
    if (ex_index < 0)
        return NULL;
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    if (fn) {
        on_free *f = malloc(sizeof *f);
        if (!f || SSL_set_ex_data(ssl, ex_index, f) != 1) {
            free(f);
            SSL_free(ssl);
            return NULL;
        }
        f->fn = fn;
        f->arg = arg;
    }
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        SSL_free(ssl); /* calls fn: the caller counted nothing yet, see net.h */
    return bev;
}

unsigned sw_https_peer_ids(struct bufferevent *bev, char ids[][SW_TLS_ID_LEN], unsigned max)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    return ssl ? sw_tls_peer_ids(ssl, ids, max) : 0;
}

int sw_https_is_tls(struct bufferevent *bev) { return bufferevent_openssl_get_ssl(bev) != NULL; }
