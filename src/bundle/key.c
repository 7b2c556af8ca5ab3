/* Ed25519 keys of the bundles (include/sipwall/bundle.h): generation,
 * loading, key ids.  OpenSSL 3 EVP only (libcrypto). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bundle/bundle_int.h"

void sw_bundle_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int sw__bundle_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? SW_OK : SW_ENOMEM;
}

static sw_bundle_key *wrap(EVP_PKEY *pk, int priv, char *err, size_t errlen)
{
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519) {
        sw_errf(err, errlen, "not an Ed25519 key");
        EVP_PKEY_free(pk);
        return NULL;
    }
    uint8_t raw[32];
    size_t rl = sizeof raw;
    uint8_t h[32];
    sw_bundle_key *k = calloc(1, sizeof *k);
    if (!k || EVP_PKEY_get_raw_public_key(pk, raw, &rl) != 1 || rl != 32 ||
        sw__bundle_sha256(raw, rl, h) != SW_OK) {
        sw_errf(err, errlen, "cannot read the public key");
        free(k);
        EVP_PKEY_free(pk);
        return NULL;
    }
    k->pk = pk;
    k->priv = priv;
    sw_bundle_hex(h, SW_BUNDLE_KEYID_LEN / 2, k->id);
    return k;
}

void sw_bundle_key_free(sw_bundle_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pk);
    free(k);
}

const char *sw_bundle_key_id(const sw_bundle_key *k) { return k->id; }

static FILE *open_regular(const char *path, int want_private, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        sw_errf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if (want_private && (st.st_mode & 077)) {
        sw_errf(err, errlen, "%s: a private key must be mode 0600 or stricter (it is %04o)", path,
                (unsigned)(st.st_mode & 07777));
        close(fd);
        return NULL;
    }
    if (st.st_size > 64 * 1024) {
        sw_errf(err, errlen, "%s: too large for a key file", path);
        close(fd);
        return NULL;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return fp;
}

/* A PEM key file, private (priv = 1) or public, as a bundle key. */
static int load_pem(const char *path, int priv, sw_bundle_key **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *fp = open_regular(path, priv, err, errlen);
    if (!fp)
        return SW_EIO;
    EVP_PKEY *pk = priv ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    fclose(fp);
    if (!pk) {
        sw_errf(err, errlen, "%s: not a PEM %s key", path, priv ? "private" : "public");
        return SW_EFORMAT;
    }
    char e2[100] = "";
    *out = wrap(pk, priv, e2, sizeof e2);
    if (!*out) {
        sw_errf(err, errlen, "%s: %s", path, e2);
        return SW_EFORMAT;
    }
    return SW_OK;
}

int sw_bundle_key_load_private(const char *path, sw_bundle_key **out, char *err, size_t errlen)
{
    return load_pem(path, 1, out, err, errlen);
}

int sw_bundle_key_load_public(const char *path, sw_bundle_key **out, char *err, size_t errlen)
{
    return load_pem(path, 0, out, err, errlen);
}

static int write_pem(const char *path, EVP_PKEY *pk, int priv, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, priv ? 0600 : 0644);
    if (fd < 0) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return SW_EIO;
    }
    if (priv && fchmod(fd, 0600) != 0) { /* whatever the umask said */
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return SW_EIO;
    }
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        close(fd);
        unlink(path);
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return SW_EIO;
    }
    int ok = priv ? PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(fp, pk);
    ok = ok == 1 && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    if (fclose(fp) != 0)
        ok = 0;
    if (!ok) {
        unlink(path);
        sw_errf(err, errlen, "%s: cannot write the key", path);
        return SW_EIO;
    }
    return SW_OK;
}

int sw_bundle_keygen(const char *priv_path, const char *pub_path,
                     char keyid[SW_BUNDLE_KEYID_LEN + 1], char *err, size_t errlen)
{
    keyid[0] = '\0';
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pk) {
        sw_errf(err, errlen, "cannot make an Ed25519 key");
        return SW_ENOMEM;
    }
    int rc = write_pem(priv_path, pk, 1, err, errlen);
    if (rc == SW_OK && (rc = write_pem(pub_path, pk, 0, err, errlen)) != SW_OK)
        unlink(priv_path);
    if (rc != SW_OK) {
        EVP_PKEY_free(pk);
        return rc;
    }
    sw_bundle_key *k = wrap(pk, 1, err, errlen);
    if (!k)
        return SW_ENOMEM;
    memcpy(keyid, k->id, SW_BUNDLE_KEYID_LEN + 1);
    sw_bundle_key_free(k);
    return SW_OK;
}

int sw__bundle_sign(const sw_bundle_key *k, const uint8_t *msg, size_t len, uint8_t sig[64])
{
    if (!k->priv)
        return SW_EUSAGE;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t sl = 64;
    int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k->pk) == 1 &&
             EVP_DigestSign(c, sig, &sl, msg, len) == 1 && sl == 64;
    EVP_MD_CTX_free(c);
    return ok ? SW_OK : SW_EIO;
}

int sw__bundle_sig_ok(const sw_bundle_key *k, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k->pk) == 1 &&
             EVP_DigestVerify(c, sig, 64, msg, len) == 1;
    EVP_MD_CTX_free(c);
    return ok;
}
