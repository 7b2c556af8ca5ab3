/* sipwalld — the client side of its HTTPS links to partners (intel-pull:
 * daemon/pull.c, intel-push: daemon/push.c).
 *
 * A partner's endpoint is untrusted until its certificate chain and name
 * check against the configured CA: every request goes over HTTPS (plain
 * HTTP only with allow-http), TLS 1.2 or newer, no redirects, bounded in
 * time.  The credentials and the TLS material are read once, at start, as
 * root (before the privilege drop), kept in memory and wiped at close; a
 * secret file must be mode 0600 or stricter and hold one non-empty line. */
#ifndef SWD_HTTPS_CLIENT_H
#define SWD_HTTPS_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct swd_https_peer {
    const char *what;       /* "intel-pull", "intel-push": messages name it */
    const char *user;       /* HTTP Basic with secret; NULL = none */
    char *secret;           /* the password (with user) or the bearer token; NULL = none */
    int bearer;             /* secret is sent as Authorization: Bearer */
    char *ca, *cert, *key;  /* PEM file contents; NULL = the system's CAs / no client certificate */
    size_t ca_len, cert_len, key_len;
    unsigned timeout_s;     /* the whole request */
    int allow_http;
} swd_https_peer;

typedef struct swd_https_peer_cfg {
    const char *user, *password_file, *token_file; /* at most one of password_file, token_file */
    const char *ca, *cert, *key;                   /* cert and key go together */
    unsigned timeout_s;
    int allow_http;
} swd_https_peer_cfg;

/* Reads what c names into p (zeroed first); SW_OK, or an error with err
 * naming what and the file.  On error p may hold part of it: free it. */
int swd_https_peer_load(swd_https_peer *p, const char *what, const swd_https_peer_cfg *c, char *err,
                        size_t errlen);
/* A secret file (mode 0600 or stricter, one non-empty line, at most 4 KiB)
 * as a string the caller wipes and frees; NULL with err naming what. */
char *swd_https_read_secret(const char *what, const char *path, char *err, size_t errlen);
/* Wipes the secret and the key, frees everything. */
void swd_https_peer_free(swd_https_peer *p);

/* A handle for url with the peer's TLS material, credentials and the safe
 * options; the caller adds its own (method, body, callbacks) and calls
 * curl_easy_perform.  *hdrs (may be NULL) gets the bearer header appended
 * and is set as the request's headers: the caller frees it after the
 * request.  errbuf (CURL_ERROR_SIZE) gets libcurl's reason.  NULL when
 * libcurl has no handle. */
CURL *swd_https_handle(const swd_https_peer *p, const char *url, struct curl_slist **hdrs, char *errbuf);

#endif
