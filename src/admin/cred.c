/* The admin credential (include/sipwall/admin.h): a random bearer token
 * made at the first start, kept only as an Argon2id PHC string
 * (libsodium crypto_pwhash_str) in a 0600 file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sipwall/admin.h"

/* t=2, 19 MiB: the OWASP minimum for Argon2id; ~30 ms here (specs/operations.md §8) */
#define CRED_OPSLIMIT 2
#define CRED_MEMLIMIT (19u * 1024 * 1024)

struct sw_admin_cred {
    char hash[crypto_pwhash_STRBYTES];
    pthread_mutex_t mu;
    uint8_t cache_key[crypto_generichash_KEYBYTES];
    uint8_t cached[crypto_generichash_BYTES]; /* keyed BLAKE2b of the verified token */
    int have_cached;
};

static int load(const char *path, char *hash, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "admin credential %s: %s", path, strerror(errno));
        return errno == ENOENT ? SW_ENOTFOUND : SW_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "admin credential %s: not a regular file", path);
        close(fd);
        return SW_EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "admin credential %s: mode %03o lets others read or write it (chmod 600)",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return SW_EINVAL;
    }
    char buf[crypto_pwhash_STRBYTES + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        snprintf(err, errlen, "admin credential %s: empty or unreadable", path);
        return SW_EINVAL;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strncmp(buf, "$argon2id$", 10) != 0 || strlen(buf) >= crypto_pwhash_STRBYTES) {
        snprintf(err, errlen, "admin credential %s: not an Argon2id hash (delete it to make a new token)",
                 path);
        return SW_EINVAL;
    }
    memcpy(hash, buf, strlen(buf) + 1);
    return SW_OK;
}

static int create(const char *path, char *hash, char *token, char *err, size_t errlen)
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    char tok[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(tok, sizeof tok, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    if (crypto_pwhash_str(hash, tok, strlen(tok), CRED_OPSLIMIT, CRED_MEMLIMIT) != 0) {
        snprintf(err, errlen, "admin credential: out of memory for Argon2id");
        sodium_memzero(tok, sizeof tok);
        return SW_ENOMEM;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "admin credential %s: cannot create: %s", path, strerror(errno));
        sodium_memzero(tok, sizeof tok);
        return SW_EIO;
    }
    size_t len = strlen(hash);
    int ok = write(fd, hash, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "admin credential %s: cannot write: %s", path, strerror(errno));
        unlink(path);
        sodium_memzero(tok, sizeof tok);
        return SW_EIO;
    }
    memcpy(token, tok, SW_ADMIN_TOKEN_LEN);
    token[SW_ADMIN_TOKEN_LEN] = '\0';
    sodium_memzero(tok, sizeof tok);
    return SW_OK;
}

sw_admin_cred *sw_admin_cred_open(const char *path, char *new_token, char *err, size_t errlen)
{
    new_token[0] = '\0';
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium does not initialise");
        return NULL;
    }
    sw_admin_cred *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = load(path, c->hash, err, errlen);
    if (rc == SW_ENOTFOUND)
        rc = create(path, c->hash, new_token, err, errlen);
    if (rc != SW_OK) {
        free(c);
        return NULL;
    }
    crypto_generichash_keygen(c->cache_key);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void sw_admin_cred_free(sw_admin_cred *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    sodium_memzero(c, sizeof *c);
    free(c);
}

static void digest(const sw_admin_cred *c, const char *token, size_t len, uint8_t *out)
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)token, len, c->cache_key,
                       sizeof c->cache_key);
}

int sw_admin_cred_costly(sw_admin_cred *c, const char *token, size_t len)
{
    uint8_t d[crypto_generichash_BYTES];
    digest(c, token, len, d);
    pthread_mutex_lock(&c->mu);
    int hit = c->have_cached && sodium_memcmp(d, c->cached, sizeof d) == 0;
    pthread_mutex_unlock(&c->mu);
    return !hit;
}

int sw_admin_cred_verify(sw_admin_cred *c, const char *token, size_t len)
{
    if (len == 0 || len > 256)
        return 0;
    uint8_t d[crypto_generichash_BYTES];
    digest(c, token, len, d);
    pthread_mutex_lock(&c->mu);
    int hit = c->have_cached && sodium_memcmp(d, c->cached, sizeof d) == 0;
    pthread_mutex_unlock(&c->mu);
    if (hit)
        return 1;
    /* crypto_pwhash_str_verify wants a NUL-free C string */
    if (memchr(token, '\0', len))
        return 0;
    char *t = malloc(len + 1);
    if (!t)
        return 0;
    memcpy(t, token, len);
    t[len] = '\0';
    int ok = crypto_pwhash_str_verify(c->hash, t, len) == 0;
    sodium_memzero(t, len);
    free(t);
    if (ok) {
        pthread_mutex_lock(&c->mu);
        memcpy(c->cached, d, sizeof d);
        c->have_cached = 1;
        pthread_mutex_unlock(&c->mu);
    }
    return ok;
}
