/* sipwalld — the client side of its HTTPS links to partners
 * (daemon/https_client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/daemon.h"
#include "daemon/https_client.h"

#define SECRET_MAX 4096        /* bytes of a password or token file */
#define BLOB_MAX (1u << 20)    /* bytes of a CA, certificate or key file */

static char *read_blob(const char *what, const char *path, size_t *len, char *err, size_t errlen)
{
    char why[300];
    char *b = swd_read_small(path, BLOB_MAX, len, why, sizeof why);
    if (!b)
        snprintf(err, errlen, "%s: %.250s", what, why);
    return b;
}

char *swd_https_read_secret(const char *what, const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & 077)) {
        snprintf(err, errlen, "%s: %.200s: readable by others (chmod 600)", what, path);
        return NULL;
    }
    size_t n;
    char why[300];
    char *s = swd_read_small(path, SECRET_MAX, &n, why, sizeof why);
    if (!s) {
        snprintf(err, errlen, "%s: %.250s", what, why);
        return NULL;
    }
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    if (n == 0 || memchr(s, '\n', n) || strlen(s) != n) {
        snprintf(err, errlen, "%s: %.200s: one non-empty line expected", what, path);
        explicit_bzero(s, n);
        free(s);
        return NULL;
    }
    return s;
}

int swd_https_peer_load(swd_https_peer *p, const char *what, const swd_https_peer_cfg *c, char *err,
                        size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->user = c->user;
    p->timeout_s = c->timeout_s;
    p->allow_http = c->allow_http;
    const char *sf = c->password_file ? c->password_file : c->token_file;
    if (sf && !(p->secret = swd_https_read_secret(what, sf, err, errlen)))
        return SW_EINVAL;
    p->bearer = !c->password_file && c->token_file;
    if (c->ca && !(p->ca = read_blob(what, c->ca, &p->ca_len, err, errlen)))
        return SW_EIO;
    if (c->cert && (!(p->cert = read_blob(what, c->cert, &p->cert_len, err, errlen)) ||
                    !(p->key = read_blob(what, c->key, &p->key_len, err, errlen))))
        return SW_EIO;
    return SW_OK;
}

void swd_https_peer_free(swd_https_peer *p)
{
    if (p->secret) {
        explicit_bzero(p->secret, strlen(p->secret));
        free(p->secret);
    }
    if (p->key) {
        explicit_bzero(p->key, p->key_len);
        free(p->key);
    }
    free(p->ca);
    free(p->cert);
    memset(p, 0, sizeof *p);
}

CURL *swd_https_handle(const swd_https_peer *p, const char *url, struct curl_slist **hdrs, char *errbuf)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    errbuf[0] = '\0';
    if (p->secret && p->bearer) {
        char auth[SECRET_MAX + 32];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", p->secret);
        struct curl_slist *t = curl_slist_append(*hdrs, auth);
        *hdrs = t ? t : *hdrs;
        explicit_bzero(auth, sizeof auth);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, p->allow_http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)p->timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(p->timeout_s < 10 ? p->timeout_s : 10));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (p->secret && !p->bearer && p->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, p->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, p->secret);
    }
    /* libcurl copies the blob structs; the PEM bytes stay ours (NOCOPY) */
    if (p->ca) {
        struct curl_blob b = {p->ca, p->ca_len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
    }
    if (p->cert) {
        struct curl_blob bc = {p->cert, p->cert_len, CURL_BLOB_NOCOPY};
        struct curl_blob bk = {p->key, p->key_len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &bc);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &bk);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    return h;
}
