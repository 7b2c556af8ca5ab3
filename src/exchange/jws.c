/* sipwall — Ed25519 keys, JWKS and detached JWS (RFC 7515 App. F, RFC 7797,
 * RFC 8037) on OpenSSL 3 EVP.  The only algorithm is Ed25519, named
 * "EdDSA" or "Ed25519"; every other alg is refused before any crypto. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exchange/internal.h"

#define KEYFILE_MAX (64 * 1024)
#define HEADER_MAX 1024
#define ED25519_LEN 32
#define ED25519_SIG_LEN 64

/* ---- base64url -------------------------------------------------------------------- */

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sw__b64url_enc(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64u[v >> 18];
        out[o++] = b64u[(v >> 12) & 63];
        out[o++] = b64u[(v >> 6) & 63];
        out[o++] = b64u[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64u[v >> 18];
        out[o++] = b64u[(v >> 12) & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = b64u[v >> 18];
        out[o++] = b64u[(v >> 12) & 63];
        out[o++] = b64u[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64u_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long sw__b64url_dec(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64u_val((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return -1;
    return (long)o;
}

/* ---- keys ------------------------------------------------------------------------- */

struct sw_jws_key {
    EVP_PKEY *pk;
    char kid[SW_FSE_NAME_MAX];
};

static int kid_ok(const char *kid)
{
    size_t n = strlen(kid);
    if (n == 0 || n >= SW_FSE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = kid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static sw_jws_key *key_wrap(EVP_PKEY *pk, const char *kid)
{
    sw_jws_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pk);
        return NULL;
    }
    k->pk = pk;
    snprintf(k->kid, sizeof k->kid, "%s", kid);
    return k;
}

sw_jws_key *sw_jws_key_generate(const char *kid)
{
    if (!kid_ok(kid))
        return NULL;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return pk ? key_wrap(pk, kid) : NULL;
}

/* Reads at most KEYFILE_MAX bytes of path into a malloc'd NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(KEYFILE_MAX + 1);
    size_t n = 0;
    ssize_t r = 0;
    while (buf && n <= KEYFILE_MAX && (r = read(fd, buf + n, KEYFILE_MAX + 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    if (!buf || r < 0 || n > KEYFILE_MAX) {
        sw_errf(err, errlen, "%s: %s", path,
                 !buf ? "out of memory" : r < 0 ? "read error" : "larger than 64 KiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A 32-byte base64url member of a JWK. */
static int jwk_bytes(const json_t *jwk, const char *name, unsigned char out[ED25519_LEN])
{
    json_t *v = json_object_get(jwk, name);
    unsigned char tmp[64];
    if (!json_is_string(v) || json_string_length(v) != 43)
        return SW_EINVAL;
    long n = sw__b64url_dec(json_string_value(v), 43, tmp);
    if (n != ED25519_LEN)
        return SW_EINVAL;
    memcpy(out, tmp, ED25519_LEN);
    return SW_OK;
}

static const unsigned char pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                               0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};

/* The seed of an Ed25519 "PRIVATE KEY" PEM (PKCS#8 v1, RFC 8410 §7). */
static int pkcs8_pem_seed(const char *text, size_t len, unsigned char d[ED25519_LEN])
{
    static const char begin[] = "-----BEGIN PRIVATE KEY-----", end[] = "-----END PRIVATE KEY-----";
    const char *b = memmem(text, len, begin, sizeof begin - 1);
    if (!b)
        return SW_EINVAL;
    b += sizeof begin - 1;
    const char *e = memmem(b, len - (size_t)(b - text), end, sizeof end - 1);
    if (!e)
        return SW_EINVAL;
    char b64[128];
    size_t n = 0;
    for (const char *p = b; p < e; p++) {
        if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
            continue;
        if (n == sizeof b64 - 1)
            return SW_EINVAL;
        b64[n++] = *p;
    }
    unsigned char der[96];
    if (n != 64) /* 48 bytes of DER */
        return SW_EINVAL;
    int dl = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n);
    if (dl != 48 || memcmp(der, pkcs8_prefix, sizeof pkcs8_prefix) != 0) {
        OPENSSL_cleanse(der, sizeof der);
        return SW_EINVAL;
    }
    memcpy(d, der + sizeof pkcs8_prefix, ED25519_LEN);
    OPENSSL_cleanse(der, sizeof der);
    OPENSSL_cleanse(b64, sizeof b64);
    return SW_OK;
}

sw_jws_key *sw_jws_key_load(const char *path, const char *kid, char *err, size_t errlen)
{
    if (!kid_ok(kid)) {
        sw_errf(err, errlen, "kid '%s' is not [A-Za-z0-9._:-]{1,63}", kid);
        return NULL;
    }
    size_t len;
    char *text = slurp(path, &len, err, errlen);
    if (!text)
        return NULL;
    EVP_PKEY *pk = NULL;
    const char *p = text;
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    if (*p == '{') {
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        unsigned char d[ED25519_LEN];
        if (j && json_is_string(json_object_get(j, "kty")) &&
            strcmp(json_string_value(json_object_get(j, "kty")), "OKP") == 0 &&
            json_is_string(json_object_get(j, "crv")) &&
            strcmp(json_string_value(json_object_get(j, "crv")), "Ed25519") == 0 &&
            jwk_bytes(j, "d", d) == SW_OK)
            pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, sizeof d);
        OPENSSL_cleanse(d, sizeof d);
        json_decref(j);
        if (!pk)
            sw_errf(err, errlen, "%s: not an OKP/Ed25519 JWK with \"d\"", path);
    } else {
        unsigned char d[ED25519_LEN];
        if (pkcs8_pem_seed(text, len, d) == SW_OK)
            pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, sizeof d);
        OPENSSL_cleanse(d, sizeof d);
        if (!pk)
            sw_errf(err, errlen, "%s: not an Ed25519 PKCS#8 PEM private key", path);
    }
    OPENSSL_cleanse(text, len);
    free(text);
    if (!pk)
        return NULL;
    sw_jws_key *k = key_wrap(pk, kid);
    if (!k)
        sw_errf(err, errlen, "out of memory");
    return k;
}

void sw_jws_key_free(sw_jws_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pk);
    free(k);
}

const char *sw_jws_key_kid(const sw_jws_key *k) { return k->kid; }

int sw_jws_key_write_private(const sw_jws_key *k, const char *path, char *err, size_t errlen)
{
    /* PKCS#8 of an Ed25519 seed (RFC 8410): a fixed 16-byte prefix and the
     * 32-byte seed; base64 in 64-column lines (RFC 7468). */
    unsigned char der[sizeof pkcs8_prefix + ED25519_LEN];
    size_t dl = ED25519_LEN;
    memcpy(der, pkcs8_prefix, sizeof pkcs8_prefix);
    if (!EVP_PKEY_get_raw_private_key(k->pk, der + sizeof pkcs8_prefix, &dl) ||
        dl != ED25519_LEN) {
        sw_errf(err, errlen, "cannot encode the key");
        return SW_EIO;
    }
    char pem[200];
    int bl = EVP_EncodeBlock((unsigned char *)pem + 28, der, (int)sizeof der);
    OPENSSL_cleanse(der, sizeof der);
    memcpy(pem, "-----BEGIN PRIVATE KEY-----\n", 28);
    size_t n = 28 + (size_t)bl;
    memcpy(pem + n, "\n-----END PRIVATE KEY-----\n", 27);
    n += 27;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        OPENSSL_cleanse(pem, sizeof pem);
        return SW_EIO;
    }
    int rc = SW_OK;
    if (fchmod(fd, 0600) != 0 || write(fd, pem, n) != (ssize_t)n || fsync(fd) != 0) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        rc = SW_EIO;
    }
    close(fd);
    OPENSSL_cleanse(pem, sizeof pem);
    if (rc != SW_OK)
        unlink(path);
    return rc;
}

char *sw_jws_key_public_jwks(const sw_jws_key *k)
{
    unsigned char x[ED25519_LEN];
    size_t xl = sizeof x;
    char xb[48];
    if (!EVP_PKEY_get_raw_public_key(k->pk, x, &xl) || xl != ED25519_LEN)
        return NULL;
    sw__b64url_enc(x, xl, xb);
    json_t *key = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
                            xb, "kid", k->kid, "alg", "EdDSA", "use", "sig");
    json_t *doc = key ? json_pack("{s:[o]}", "keys", key) : NULL;
    if (!doc)
        return NULL;
    sw__xbuf b = {0};
    size_t len;
    int rc = sw__jcs_dump(doc, &b);
    json_decref(doc);
    if (rc != SW_OK) {
        free(b.p);
        return NULL;
    }
    return sw__xbuf_take(&b, &len);
}

/* ---- JWKS ------------------------------------------------------------------------------ */

struct sw_jwks {
    size_t n;
    struct {
        char kid[SW_FSE_NAME_MAX];
        EVP_PKEY *pk;
    } k[SW_JWKS_MAX_KEYS];
};

void sw_jwks_free(sw_jwks *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        EVP_PKEY_free(s->k[i].pk);
    free(s);
}

size_t sw_jwks_count(const sw_jwks *s) { return s->n; }

static const char *jstr(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

sw_jwks *sw_jwks_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (len > KEYFILE_MAX) {
        sw_errf(err, errlen, "JWKS larger than 64 KiB");
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        sw_errf(err, errlen, "line %d col %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    sw_jwks *s = calloc(1, sizeof *s);
    json_t *keys = json_object_get(root, "keys");
    size_t i;
    json_t *k;
    if (!s) {
        sw_errf(err, errlen, "out of memory");
        goto fail;
    }
    if (!json_is_object(root) || !json_is_array(keys)) {
        sw_errf(err, errlen, "not a JWKS: no \"keys\" array");
        goto fail;
    }
    if (json_array_size(keys) == 0 || json_array_size(keys) > SW_JWKS_MAX_KEYS) {
        sw_errf(err, errlen, "keys: 1..%d keys expected", SW_JWKS_MAX_KEYS);
        goto fail;
    }
    json_array_foreach(keys, i, k) {
        const char *kty = jstr(k, "kty"), *crv = jstr(k, "crv"), *kid = jstr(k, "kid");
        const char *alg = jstr(k, "alg"), *use = jstr(k, "use");
        unsigned char x[ED25519_LEN];
        if (!json_is_object(k) || !kty || strcmp(kty, "OKP") != 0 || !crv ||
            strcmp(crv, "Ed25519") != 0) {
            sw_errf(err, errlen, "keys[%zu]: not an OKP/Ed25519 key", i);
            goto fail;
        }
        if (json_object_get(k, "d")) {
            sw_errf(err, errlen, "keys[%zu]: private key material (\"d\") in a JWKS", i);
            goto fail;
        }
        if (!kid || !kid_ok(kid)) {
            sw_errf(err, errlen, "keys[%zu]: kid missing or not [A-Za-z0-9._:-]{1,63}", i);
            goto fail;
        }
        if ((json_object_get(k, "alg") && (!alg || (strcmp(alg, "EdDSA") != 0 &&
                                                    strcmp(alg, "Ed25519") != 0))) ||
            (json_object_get(k, "use") && (!use || strcmp(use, "sig") != 0))) {
            sw_errf(err, errlen, "keys[%zu]: alg/use not EdDSA/Ed25519 and sig", i);
            goto fail;
        }
        if (jwk_bytes(k, "x", x) != SW_OK) {
            sw_errf(err, errlen, "keys[%zu]: x is not 32 bytes of base64url", i);
            goto fail;
        }
        for (size_t j = 0; j < s->n; j++)
            if (strcmp(s->k[j].kid, kid) == 0) {
                sw_errf(err, errlen, "keys[%zu]: duplicate kid '%s'", i, kid);
                goto fail;
            }
        EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, sizeof x);
        if (!pk) {
            sw_errf(err, errlen, "keys[%zu]: not a valid Ed25519 public key", i);
            goto fail;
        }
        s->k[s->n].pk = pk;
        snprintf(s->k[s->n].kid, sizeof s->k[s->n].kid, "%s", kid);
        s->n++;
    }
    json_decref(root);
    return s;
fail:
    json_decref(root);
    sw_jwks_free(s);
    return NULL;
}

sw_jwks *sw_jwks_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = slurp(path, &len, err, errlen);
    if (!text)
        return NULL;
    char e2[200] = "";
    sw_jwks *s = sw_jwks_parse(text, len, e2, sizeof e2);
    if (!s)
        sw_errf(err, errlen, "%s: %s", path, e2);
    free(text);
    return s;
}

static EVP_PKEY *jwks_find(const sw_jwks *s, const char *kid)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->k[i].kid, kid) == 0)
            return s->k[i].pk;
    return NULL;
}

/* ---- JWS ----------------------------------------------------------------------------------- */

static const char *alg_name(sw_jws_alg a) { return a == SW_JWS_ED25519 ? "Ed25519" : "EdDSA"; }

/* The signing input: B64URL(header) "." payload-or-its-B64URL, malloc'd. */
static unsigned char *signing_input(const char *hdr_b64, size_t hl, int b64, const void *payload,
                                    size_t len, size_t *out_len)
{
    size_t pl = b64 ? 4 * ((len + 2) / 3) + 1 : len;
    unsigned char *in = malloc(hl + 1 + pl + 1);
    if (!in)
        return NULL;
    memcpy(in, hdr_b64, hl);
    in[hl] = '.';
    if (b64)
        pl = sw__b64url_enc(payload, len, (char *)in + hl + 1);
    else if (len)
        memcpy(in + hl + 1, payload, len);
    *out_len = hl + 1 + pl;
    return in;
}

int sw_jws_sign_detached(const sw_jws_key *k, sw_jws_alg alg, int b64, const void *payload,
                         size_t len, char out[SW_FSE_SIG_MAX])
{
    char hdr[256], hb[400];
    if (!kid_ok(k->kid))
        return SW_ELIMIT;
    int hl = snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",%s\"typ\":\"fse+jws\"}",
                      alg_name(alg), k->kid, b64 ? "" : "\"b64\":false,\"crit\":[\"b64\"],");
    if (hl < 0 || (size_t)hl >= sizeof hdr)
        return SW_ELIMIT;
    size_t hbl = sw__b64url_enc((const unsigned char *)hdr, (size_t)hl, hb);
    size_t inl;
    unsigned char *in = signing_input(hb, hbl, b64, payload, len, &inl);
    if (!in)
        return SW_ENOMEM;
    unsigned char sig[ED25519_SIG_LEN];
    size_t sl = sizeof sig;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k->pk) == 1 &&
             EVP_DigestSign(c, sig, &sl, in, inl) == 1 && sl == ED25519_SIG_LEN;
    EVP_MD_CTX_free(c);
    free(in);
    if (!ok)
        return SW_EIO;
    if (hbl + 2 + 86 + 1 > SW_FSE_SIG_MAX)
        return SW_ELIMIT;
    memcpy(out, hb, hbl);
    out[hbl] = '.';
    out[hbl + 1] = '.';
    sw__b64url_enc(sig, sl, out + hbl + 2);
    return SW_OK;
}

int sw_jws_header_parse(const char *b64hdr, size_t len, sw_jws_header *out, char *err,
                        size_t errlen)
{
    static const char *const allowed[] = {"alg", "kid", "b64", "crit", "typ", "cty", NULL};
    unsigned char raw[HEADER_MAX + 4];
    memset(out, 0, sizeof *out);
    out->b64 = 1;
    if (len == 0 || len > 4 * HEADER_MAX / 3) {
        sw_errf(err, errlen, "header: empty or larger than %d bytes", HEADER_MAX);
        return SW_EINVAL;
    }
    long n = sw__b64url_dec(b64hdr, len, raw);
    if (n <= 0) {
        sw_errf(err, errlen, "header: not base64url");
        return SW_EINVAL;
    }
    json_error_t je;
    json_t *h = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, &je);
    if (!h) {
        sw_errf(err, errlen, "header: %s", je.text);
        return SW_EINVAL;
    }
    int rc = SW_EINVAL;
    const char *key;
    json_t *v;
    if (!json_is_object(h)) {
        sw_errf(err, errlen, "header: not a JSON object");
        goto out;
    }
    json_object_foreach(h, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            sw_errf(err, errlen, "header: member '%.32s' not allowed", key);
            goto out;
        }
    }
    const char *alg = jstr(h, "alg");
    if (!alg) {
        sw_errf(err, errlen, "header: alg missing");
        goto out;
    }
    if (strcmp(alg, "EdDSA") == 0)
        out->alg = SW_JWS_EDDSA;
    else if (strcmp(alg, "Ed25519") == 0)
        out->alg = SW_JWS_ED25519;
    else {
        sw_errf(err, errlen, "header: alg '%.32s' not allowed", alg);
        goto out;
    }
    const char *kid = jstr(h, "kid");
    if (!kid || !kid_ok(kid)) {
        sw_errf(err, errlen, "header: kid missing or not [A-Za-z0-9._:-]{1,63}");
        goto out;
    }
    snprintf(out->kid, sizeof out->kid, "%s", kid);
    json_t *b = json_object_get(h, "b64"), *crit = json_object_get(h, "crit");
    if (b && !json_is_boolean(b)) {
        sw_errf(err, errlen, "header: b64 not a boolean");
        goto out;
    }
    if (crit) {
        if (!json_is_array(crit) || json_array_size(crit) != 1 ||
            !json_is_string(json_array_get(crit, 0)) ||
            strcmp(json_string_value(json_array_get(crit, 0)), "b64") != 0) {
            sw_errf(err, errlen, "header: crit must be [\"b64\"]");
            goto out;
        }
        if (!b) {
            sw_errf(err, errlen, "header: crit names b64, which is absent");
            goto out;
        }
    } else if (b) {
        sw_errf(err, errlen, "header: b64 without crit");
        goto out;
    }
    out->b64 = b ? json_is_true(b) : 1;
    json_t *typ = json_object_get(h, "typ"), *cty = json_object_get(h, "cty");
    if ((typ && (!json_is_string(typ) || json_string_length(typ) >= SW_FSE_NAME_MAX)) ||
        (cty && !json_is_string(cty))) {
        sw_errf(err, errlen, "header: typ/cty not a short string");
        goto out;
    }
    if (typ)
        snprintf(out->typ, sizeof out->typ, "%s", json_string_value(typ));
    rc = SW_OK;
out:
    json_decref(h);
    return rc;
}

int sw_jws_verify_detached(const char *jws, size_t jws_len, const void *payload, size_t len,
                           const sw_jwks *keys, sw_jws_header *hdr_out, char *err, size_t errlen)
{
    sw_jws_header hdr;
    const char *dot = memchr(jws, '.', jws_len);
    if (!dot || (size_t)(dot - jws) + 1 >= jws_len || dot[1] != '.') {
        sw_errf(err, errlen, "not a detached compact JWS (HEADER..SIGNATURE)");
        return SW_EINVAL;
    }
    size_t hl = (size_t)(dot - jws);
    const char *sb = dot + 2;
    size_t sbl = jws_len - hl - 2;
    unsigned char sig[ED25519_SIG_LEN + 8];
    if (sbl != 86 || memchr(sb, '.', sbl) || sw__b64url_dec(sb, sbl, sig) != ED25519_SIG_LEN) {
        sw_errf(err, errlen, "signature: not 64 bytes of base64url");
        return SW_EINVAL;
    }
    int rc = sw_jws_header_parse(jws, hl, &hdr, err, errlen);
    if (rc != SW_OK)
        return rc;
    if (hdr_out)
        *hdr_out = hdr;
    EVP_PKEY *pk = jwks_find(keys, hdr.kid);
    if (!pk) {
        sw_errf(err, errlen, "no key with kid '%s'", hdr.kid);
        return SW_ENOTFOUND;
    }
    size_t inl;
    unsigned char *in = signing_input(jws, hl, hdr.b64, payload, len, &inl);
    if (!in) {
        sw_errf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(c, sig, ED25519_SIG_LEN, in, inl) == 1;
    EVP_MD_CTX_free(c);
    free(in);
    if (!ok) {
        sw_errf(err, errlen, "bad signature (kid '%s')", hdr.kid);
        return SW_EAUTH;
    }
    return SW_OK;
}

int sw_fse_sign(sw_fse *o, const sw_jws_key *k, sw_jws_alg alg, int b64)
{
    snprintf(o->kid, sizeof o->kid, "%s", k->kid);
    o->sig[0] = '\0';
    size_t len;
    char *payload = sw_fse_encode(o, 0, &len);
    if (!payload)
        return SW_EINVAL;
    int rc = sw_jws_sign_detached(k, alg, b64, payload, len, o->sig);
    free(payload);
    return rc;
}
