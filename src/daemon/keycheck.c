/* The secrets an operator configures (daemon/startcheck.h): private keys
 * and password files only the daemon can read, and inline keys that are
 * neither a value from the documentation nor too short to guess at.  No
 * default credential is ever accepted (issue 15, items 2 and 3). */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/startcheck.h"

int swd_key_file_check(const char *path, long service_uid, char *why, size_t whylen)
{
    struct stat st;
    if (strncmp(path, "pkcs11:", 7) == 0) {
        /* in a token: only a PIN file is on disk to protect, and a PIN in
         * the config would be readable by whoever reads the config */
        if (strstr(path, "pin-value=")) {
            char shown[512];
            size_t o = 0;
            for (const char *q = path; *q && o + 16 < sizeof shown;) {
                if (strncmp(q, "pin-value=", 10) == 0) {
                    o += (size_t)snprintf(shown + o, sizeof shown - o, "pin-value=***");
                    for (q += 10; *q && *q != ';' && *q != '&' && *q != '?';)
                        q++;
                } else {
                    shown[o++] = *q++;
                }
            }
            shown[o] = '\0';
            snprintf(why, whylen, "%s: a PIN in the configuration is refused; put it in a 0600 file "
                     "and name it with ?pin-source=file:PATH", shown);
            return SW_EINVAL;
        }
        const char *pin = strstr(path, "pin-source=file:");
        if (!pin)
            return SW_OK;
        char file[1024];
        pin += strlen("pin-source=file:");
        size_t n = strcspn(pin, ";&");
        if (n == 0 || n >= sizeof file) {
            snprintf(why, whylen, "pkcs11 URI: pin-source=file: needs a path");
            return SW_EINVAL;
        }
        memcpy(file, pin, n);
        file[n] = '\0';
        return swd_key_file_check(file, service_uid, why, whylen);
    }
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return SW_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s: not a regular file", path);
        return SW_EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(why, whylen, "%s: mode %04o lets others read or change it; chmod 600 (or keep it in "
                 "a token: pkcs11:)", path, (unsigned)(st.st_mode & 07777));
        return SW_EINVAL;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid() && (service_uid < 0 || st.st_uid != (uid_t)service_uid)) {
        snprintf(why, whylen, "%s: owned by uid %u, not by root or the service user; chown it", path,
                 (unsigned)st.st_uid);
        return SW_EINVAL;
    }
    return SW_OK;
}

/* Values documentation, examples and other products ship as defaults. */
static const char *const known_defaults[] = {
    "CHANGE-ME", "CHANGEME", "REPLACE-ME", "REPLACEME", "CHANGE_ME", "REPLACE_ME", "SECRET",
    "PASSWORD",  "KEY",      "S3CRET",     "PASSW0RD",  "ADMIN",     "SIPWALL",    "HOMER",
    "HEP",       "HEPKEY",   "DEFAULT",    "TEST",      "123456",    "12345678",   "DEMO",
    "myHep",     "sipcapture", "00000000000000000000000000000000"};

swd_key_verdict swd_weak_key(const char *key, size_t len, int loopback, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof known_defaults / sizeof known_defaults[0]; i++)
        if (strlen(known_defaults[i]) == len && strncasecmp(key, known_defaults[i], len) == 0) {
            snprintf(why, whylen, "is a placeholder or well-known default");
            return SWD_KEY_DEFAULT;
        }
    if (len < SWD_KEY_MIN) {
        snprintf(why, whylen, "is shorter than %d bytes", SWD_KEY_MIN);
        return SWD_KEY_WEAK;
    }
    unsigned char seen[256] = {0};
    unsigned distinct = 0;
    for (size_t i = 0; i < len; i++)
        if (!seen[(unsigned char)key[i]]++)
            distinct++;
    if (distinct < SWD_KEY_MIN_DISTINCT) {
        snprintf(why, whylen, "has fewer than %d different characters", SWD_KEY_MIN_DISTINCT);
        return SWD_KEY_WEAK;
    }
    /* the documentation's loopback examples name themselves demo keys */
    char low[256];
    size_t n = len < sizeof low - 1 ? len : sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)key[i]);
    low[n] = '\0';
    if (!loopback && (strstr(low, "demo") || strstr(low, "example"))) {
        snprintf(why, whylen, "is a documentation demo key, accepted on loopback addresses only");
        return SWD_KEY_WEAK;
    }
    return SWD_KEY_OK;
}

static int is_loopback(const sw_addr *a)
{
    static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return a->family == 4 ? a->ip[0] == 127 : memcmp(a->ip, v6lo, 16) == 0;
}

static int key_file(const swd_config *cfg, long uid, int line, const char *what, const char *path,
                    char *err, size_t errlen)
{
    char why[512];
    if (!path || swd_key_file_check(path, uid, why, sizeof why) == SW_OK)
        return SW_OK;
    if (line > 0)
        snprintf(err, errlen, "%s:%d: %s %s", cfg->path, line, what, why);
    else
        snprintf(err, errlen, "%s: %s %s", cfg->path, what, why);
    return SW_EINVAL;
}

/* The first line of the Redis password file, judged like an inline key. */
static int redis_password(const swd_config *cfg, char *err, size_t errlen)
{
    const swd_state_redis *r = &cfg->state_redis;
    FILE *f = fopen(r->password_file, "re");
    if (!f) {
        snprintf(err, errlen, "%s:%d: state redis password-file %s: %s", cfg->path, r->line,
                 r->password_file, strerror(errno));
        return SW_EIO;
    }
    char pw[520], why[256];
    size_t n = fgets(pw, sizeof pw, f) ? strcspn(pw, "\r\n") : 0;
    fclose(f);
    swd_key_verdict v = swd_weak_key(pw, n, is_loopback(&r->addr), why, sizeof why);
    explicit_bzero(pw, sizeof pw);
    if (v == SWD_KEY_OK)
        return SW_OK;
    snprintf(err, errlen, "%s:%d: state redis password-file %s: the password %s", cfg->path, r->line,
             r->password_file, why);
    return SW_EINVAL;
}

int swd_check_secrets(const swd_config *cfg, char *err, size_t errlen)
{
    long uid = -1;
    struct passwd *pw = cfg->user ? getpwnam(cfg->user) : NULL;
    if (pw)
        uid = (long)pw->pw_uid;
    int rc = SW_OK;
    for (unsigned i = 0; rc == SW_OK && i < cfg->nlistens; i++)
        rc = key_file(cfg, uid, cfg->listens[i].line, "listen key", cfg->listens[i].key, err, errlen);
    if (rc == SW_OK)
        rc = key_file(cfg, uid, 0, "tls-client key", cfg->tls_client_key, err, errlen);
    for (unsigned i = 0; rc == SW_OK && i < cfg->nexports; i++)
        rc = key_file(cfg, uid, cfg->exports[i].line, "export key", cfg->exports[i].key, err, errlen);
    if (rc == SW_OK && cfg->api.on)
        rc = key_file(cfg, uid, cfg->api.line, "admin-api key", cfg->api.key, err, errlen);
    for (unsigned i = 0; rc == SW_OK && i < cfg->nheps; i++)
        rc = key_file(cfg, uid, cfg->heps[i].line, "hep key", cfg->heps[i].key, err, errlen);
    if (rc == SW_OK && cfg->state_redis.line) {
        const swd_state_redis *r = &cfg->state_redis;
        rc = key_file(cfg, uid, r->line, "state redis key", r->key, err, errlen);
        if (rc == SW_OK)
            rc = key_file(cfg, uid, r->line, "state redis password-file", r->password_file, err, errlen);
        if (rc == SW_OK && r->password_file)
            rc = redis_password(cfg, err, errlen);
    }
    for (unsigned i = 0; rc == SW_OK && i < cfg->nheps; i++) {
        const swd_hep *h = &cfg->heps[i];
        char why[256];
        if (!h->auth_key)
            continue;
        swd_key_verdict v = swd_weak_key(h->auth_key, strlen(h->auth_key), is_loopback(&h->addr), why,
                                         sizeof why);
        if (v == SWD_KEY_DEFAULT)
            snprintf(err, errlen,
                     "%s:%d: hep: auth-key '%s' is a placeholder from the documentation or a well-known "
                     "default; set a key of your own (e.g. openssl rand -hex 16)",
                     cfg->path, h->line, h->auth_key);
        else if (v == SWD_KEY_WEAK)
            snprintf(err, errlen, "%s:%d: hep: auth-key %s; set a key of your own (e.g. openssl rand -hex 16)",
                     cfg->path, h->line, why);
        if (v != SWD_KEY_OK)
            rc = SW_EINVAL;
    }
    return rc;
}

void swd_warn_plain_listeners(swd_daemon *d)
{
    const swd_config *cfg = d->cfg;
    char a[SW_ADDR_STRLEN], detail[256];
    for (unsigned i = 0; i < cfg->nheps; i++) {
        const swd_hep *h = &cfg->heps[i];
        if (!h->insecure)
            continue;
        if (sw_addr_format(&h->addr, a, sizeof a) < 0)
            a[0] = '\0';
        snprintf(detail, sizeof detail, "hep %s %s (line %d) is plain text on a non-loopback address%s",
                 sw_transport_name(h->transport), a, h->line,
                 h->auth_key ? "" : " and takes packets without an auth-key");
        swd_warn("main", "insecure listener: %s", detail);
        swd_audit(d, SW_EVT_ADMIN_CHANGE, "config.insecure-listener", "config", NULL, "insecure", detail);
    }
    if (cfg->state_redis.line && cfg->state_redis.insecure) {
        if (sw_addr_format(&cfg->state_redis.addr, a, sizeof a) < 0)
            a[0] = '\0';
        snprintf(detail, sizeof detail,
                 "state redis %s (line %d) is plain text (no ca=) to a non-loopback address", a,
                 cfg->state_redis.line);
        swd_warn("main", "insecure connection: %s", detail);
        swd_audit(d, SW_EVT_ADMIN_CHANGE, "config.insecure-listener", "config", NULL, "insecure", detail);
    }
    if (cfg->has_metrics && cfg->metrics_insecure) {
        if (sw_addr_format(&cfg->metrics_addr, a, sizeof a) < 0)
            a[0] = '\0';
        snprintf(detail, sizeof detail,
                 "metrics listen %s (line %d) is plain HTTP without authentication on a non-loopback address",
                 a, cfg->metrics_line);
        swd_warn("main", "insecure listener: %s", detail);
        swd_audit(d, SW_EVT_ADMIN_CHANGE, "config.insecure-listener", "config", NULL, "insecure", detail);
    }
}
