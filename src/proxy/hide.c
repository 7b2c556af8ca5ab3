/* Sealed tokens for topology hiding: AES-256-GCM with a synthetic IV.
 *
 *   k_enc, k_iv = HKDF-SHA256(key, info "sipwall hide enc" / "sipwall hide iv")
 *   iv          = HMAC-SHA256(k_iv, purpose || pt)[0..12)
 *   ct, tag     = AES-256-GCM(k_enc, iv, aad = version || purpose, pt)
 *   token       = base64url(iv || ct || tag), no padding
 *
 * The IV depends on the plaintext only, so the same value always seals to
 * the same token (a retransmission, the CANCEL, every request of a dialog)
 * and nothing has to be remembered; two different values never share an IV
 * unless the HMAC collides.  Sealing and opening stream through a small
 * stack buffer: the token is encoded straight into the caller's buffer and
 * the plaintext decrypted straight into the caller's. */
#include "proxy/proxy_int.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "proxy/siphash.h"

#define HIDE_VERSION 1
#define IV_LEN 12
#define TAG_LEN 16
#define OVERHEAD (IV_LEN + TAG_LEN)

/* A small cache of recent (purpose, plaintext) <-> token pairs: every
 * message of a dialog carries the same Contact, Record-Route set and
 * Call-ID, so after the first seal the rest are lookups.  Direct-mapped,
 * fixed size (about 1 MiB per sw_hide), entries compared in full, so a hit
 * returns exactly what sealing or opening would.  Only short values are
 * kept; longer ones always go through the cipher. */
#define HC_SLOTS 1024
#define HC_PT_MAX 200
#define HC_TOK_MAX 304 /* sw_hide_token_len(HC_PT_MAX) = 304 */

typedef struct hc_entry {
    uint8_t used, purpose;
    uint16_t ptlen, toklen;
    char pt[HC_PT_MAX];
    char tok[HC_TOK_MAX];
} hc_entry;

struct sw_hide {
    EVP_CIPHER_CTX *gcm; /* keyed once; each call only sets the IV and direction */
    EVP_MAC_CTX *mac;    /* HMAC-SHA256 keyed with k_iv; re-initialised per call */
    uint8_t hc_key[16];
    hc_entry *by_pt;     /* HC_SLOTS, indexed by a hash of (purpose, plaintext) */
    hc_entry *by_tok;    /* HC_SLOTS, indexed by a hash of (purpose, token) */
    uint64_t hits, misses;
};

static uint32_t hc_slot(const sw_hide *h, uint8_t purpose, const void *d, size_t n)
{
    sw__siphash s;
    sw__siphash_init(&s, h->hc_key);
    sw__siphash_update(&s, &purpose, 1);
    sw__siphash_update(&s, d, n);
    return (uint32_t)(sw__siphash_final(&s) % HC_SLOTS);
}

static void hc_put(sw_hide *h, uint8_t purpose, const void *pt, size_t n, const char *tok, size_t tl)
{
    if (n > HC_PT_MAX || tl > HC_TOK_MAX || !h->by_pt)
        return;
    hc_entry *e = &h->by_pt[hc_slot(h, purpose, pt, n)];
    hc_entry *f = &h->by_tok[hc_slot(h, purpose, tok, tl)];
    e->used = f->used = 1;
    e->purpose = f->purpose = purpose;
    e->ptlen = f->ptlen = (uint16_t)n;
    e->toklen = f->toklen = (uint16_t)tl;
    if (n) {
        memcpy(e->pt, pt, n);
        memcpy(f->pt, pt, n);
    }
    memcpy(e->tok, tok, tl);
    memcpy(f->tok, tok, tl);
}

/* ---- base64url ------------------------------------------------------------ */

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63, or 0xff (255) for a byte outside the alphabet. */
static const uint8_t b64_value[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
    255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};
#define b64v(c) b64_value[(c)]

size_t sw__b64url_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t sw__b64url_encode(const uint8_t *in, size_t n, char *out)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o[2] = b64_alphabet[(v >> 6) & 63];
        o[3] = b64_alphabet[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o += 2;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        o[0] = b64_alphabet[v >> 18];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o[2] = b64_alphabet[(v >> 6) & 63];
        o += 3;
    }
    return (size_t)(o - out);
}

/* Checks that s is canonical unpadded base64url (alphabet, length, zero
 * bits after the last byte) and returns the decoded length, or -1. */
static long b64url_check(const char *s, size_t n)
{
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (b64v((unsigned char)s[i]) == 0xff)
            return -1;
    if (n % 4) {
        uint8_t last = b64v((unsigned char)s[n - 1]);
        if ((n % 4 == 2 && (last & 0x0f)) || (n % 4 == 3 && (last & 0x03)))
            return -1;
    }
    return (long)(n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0));
}

/* Decodes checked base64url: 4k characters (or the tail) into bytes. */
static size_t b64url_decode_checked(const char *s, size_t n, uint8_t *out)
{
    uint8_t *o = out;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v = (uint32_t)b64v((unsigned char)s[i]) << 18 |
                     (uint32_t)b64v((unsigned char)s[i + 1]) << 12 |
                     (uint32_t)b64v((unsigned char)s[i + 2]) << 6 |
                     b64v((unsigned char)s[i + 3]);
        o[0] = (uint8_t)(v >> 16);
        o[1] = (uint8_t)(v >> 8);
        o[2] = (uint8_t)v;
        o += 3;
    }
    if (n - i >= 2) {
        uint32_t v = (uint32_t)b64v((unsigned char)s[i]) << 18 |
                     (uint32_t)b64v((unsigned char)s[i + 1]) << 12;
        if (n - i == 3)
            v |= (uint32_t)b64v((unsigned char)s[i + 2]) << 6;
        *o++ = (uint8_t)(v >> 16);
        if (n - i == 3)
            *o++ = (uint8_t)(v >> 8);
    }
    return (size_t)(o - out);
}

long sw__b64url_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    long len = b64url_check(s, n);
    if (len < 0)
        return SW_EINVAL;
    if ((size_t)len > cap)
        return SW_ELIMIT;
    return (long)b64url_decode_checked(s, n, out);
}

/* Streams bytes into base64url: whole 3-byte groups are encoded as they
 * come, up to two bytes wait in `carry` for the next call or the end. */
typedef struct b64_stream {
    char *out;
    uint8_t carry[3];
    unsigned ncarry; /* 0..2 between calls */
} b64_stream;

static void b64_feed(b64_stream *b, const uint8_t *in, size_t n)
{
    while (b->ncarry && n) { /* complete the pending group first */
        b->carry[b->ncarry++] = *in++;
        n--;
        if (b->ncarry == 3) {
            b->out += sw__b64url_encode(b->carry, 3, b->out);
            b->ncarry = 0;
        }
    }
    size_t whole = n / 3 * 3;
    b->out += sw__b64url_encode(in, whole, b->out);
    for (size_t i = whole; i < n; i++)
        b->carry[b->ncarry++] = in[i];
}

static void b64_finish(b64_stream *b)
{
    b->out += sw__b64url_encode(b->carry, b->ncarry, b->out);
    b->ncarry = 0;
}

/* ---- keys ----------------------------------------------------------------- */

int sw__hkdf(const uint8_t *key, size_t keylen, const char *info, uint8_t *out, size_t outlen)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf)
        return SW_ENOMEM;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx)
        return SW_ENOMEM;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(ctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? SW_OK : SW_EINVAL;
}

sw_hide *sw_hide_new(const uint8_t key[SW_HIDE_KEY_LEN])
{
    uint8_t k_enc[32], k_iv[32];
    sw_hide *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (sw__hkdf(key, SW_HIDE_KEY_LEN, "sipwall hide enc", k_enc, sizeof k_enc) < 0 ||
        sw__hkdf(key, SW_HIDE_KEY_LEN, "sipwall hide iv", k_iv, sizeof k_iv) < 0)
        goto fail;
    h->gcm = EVP_CIPHER_CTX_new();
    if (!h->gcm)
        goto fail;
    EVP_CIPHER *aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!aes)
        goto fail;
    int ok = EVP_CipherInit_ex2(h->gcm, aes, k_enc, NULL, 1, NULL) == 1;
    EVP_CIPHER_free(aes);
    if (!ok)
        goto fail;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        goto fail;
    h->mac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    OSSL_PARAM mp[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!h->mac || EVP_MAC_init(h->mac, k_iv, sizeof k_iv, mp) != 1)
        goto fail;
    if (RAND_bytes(h->hc_key, sizeof h->hc_key) != 1)
        goto fail;
    h->by_pt = calloc(HC_SLOTS, sizeof *h->by_pt);
    h->by_tok = calloc(HC_SLOTS, sizeof *h->by_tok);
    if (!h->by_pt || !h->by_tok)
        goto fail;
    OPENSSL_cleanse(k_enc, sizeof k_enc);
    OPENSSL_cleanse(k_iv, sizeof k_iv);
    return h;
fail:
    OPENSSL_cleanse(k_enc, sizeof k_enc);
    OPENSSL_cleanse(k_iv, sizeof k_iv);
    sw_hide_free(h);
    return NULL;
}

void sw_hide_free(sw_hide *h)
{
    if (!h)
        return;
    EVP_CIPHER_CTX_free(h->gcm);
    EVP_MAC_CTX_free(h->mac);
    if (h->by_pt)
        OPENSSL_cleanse(h->by_pt, HC_SLOTS * sizeof *h->by_pt);
    if (h->by_tok)
        OPENSSL_cleanse(h->by_tok, HC_SLOTS * sizeof *h->by_tok);
    free(h->by_pt);
    free(h->by_tok);
    free(h);
}

size_t sw_hide_token_len(size_t n)
{
    return sw__b64url_len(n + OVERHEAD);
}

/* ---- seal / open ---------------------------------------------------------- */

/* Plaintext is encrypted in chunks of this many bytes (a multiple of 3, so
 * whole chunks encode without a carry). */
#define CHUNK 384

static long seal_cipher(sw_hide *h, uint8_t purpose, const void *pt, size_t n, char *out,
                        size_t cap)
{
    size_t tl = sw_hide_token_len(n);
    if (n > SW_HIDE_MAX_PLAINTEXT || tl > cap)
        return SW_ELIMIT;
    uint8_t iv_full[32];
    size_t ivl = 0;
    const uint8_t aad[2] = {HIDE_VERSION, purpose};
    if (EVP_MAC_init(h->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(h->mac, &purpose, 1) != 1 ||
        (n && EVP_MAC_update(h->mac, pt, n) != 1) ||
        EVP_MAC_final(h->mac, iv_full, &ivl, sizeof iv_full) != 1 || ivl < IV_LEN)
        return SW_EINVAL;
    int l = 0;
    if (EVP_CipherInit_ex2(h->gcm, NULL, NULL, iv_full, 1, NULL) != 1 ||
        EVP_CipherUpdate(h->gcm, NULL, &l, aad, sizeof aad) != 1)
        return SW_EINVAL;
    b64_stream b = {.out = out};
    b64_feed(&b, iv_full, IV_LEN);
    uint8_t chunk[CHUNK + 16];
    const uint8_t *p = pt;
    for (size_t off = 0; off < n;) {
        size_t c = n - off < CHUNK ? n - off : CHUNK;
        if (EVP_CipherUpdate(h->gcm, chunk, &l, p + off, (int)c) != 1)
            return SW_EINVAL;
        b64_feed(&b, chunk, (size_t)l);
        off += c;
    }
    uint8_t tag[TAG_LEN];
    if (EVP_CipherFinal_ex(h->gcm, chunk, &l) != 1 ||
        EVP_CIPHER_CTX_ctrl(h->gcm, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        return SW_EINVAL;
    b64_feed(&b, chunk, (size_t)l); /* GCM finishes with nothing; kept for form */
    b64_feed(&b, tag, TAG_LEN);
    b64_finish(&b);
    return (long)(b.out - out);
}

/* The token without a NUL (what the proxy writes into a message). */
long sw__hide_seal_raw(sw_hide *h, uint8_t purpose, const void *pt, size_t n, char *out,
                       size_t cap)
{
    if (n <= HC_PT_MAX && h->by_pt) {
        const hc_entry *e = &h->by_pt[hc_slot(h, purpose, pt, n)];
        if (e->used && e->purpose == purpose && e->ptlen == n && (!n || memcmp(e->pt, pt, n) == 0)) {
            if (e->toklen > cap)
                return SW_ELIMIT;
            memcpy(out, e->tok, e->toklen);
            h->hits++;
            return e->toklen;
        }
    }
    long r = seal_cipher(h, purpose, pt, n, out, cap);
    if (r >= 0) {
        h->misses++;
        hc_put(h, purpose, pt, n, out, (size_t)r);
    }
    return r;
}

long sw_hide_seal(sw_hide *h, uint8_t purpose, const void *pt, size_t n, char *out, size_t cap)
{
    if (cap == 0)
        return SW_ELIMIT;
    if (!pt && n)
        return SW_EINVAL;
    long r = sw__hide_seal_raw(h, purpose, pt, n, out, cap - 1);
    if (r >= 0)
        out[r] = '\0';
    return r;
}

static long hide_open_raw(sw_hide *h, uint8_t purpose, const char *tok, size_t n, void *out,
                          size_t cap);

long sw_hide_open(sw_hide *h, uint8_t purpose, const char *tok, size_t n, void *out, size_t cap)
{
    if (!tok && n)
        return SW_EINVAL;
    if (n <= HC_TOK_MAX && h->by_tok) {
        const hc_entry *e = &h->by_tok[hc_slot(h, purpose, tok, n)];
        if (e->used && e->purpose == purpose && e->toklen == n && memcmp(e->tok, tok, n) == 0) {
            if (e->ptlen > cap)
                return SW_ELIMIT;
            if (e->ptlen)
                memcpy(out, e->pt, e->ptlen);
            h->hits++;
            return e->ptlen;
        }
    }
    long r = hide_open_raw(h, purpose, tok, n, out, cap);
    if (r >= 0) {
        h->misses++;
        hc_put(h, purpose, out, (size_t)r, tok, n);
    }
    return r;
}

static long hide_open_raw(sw_hide *h, uint8_t purpose, const char *tok, size_t n, void *out,
                          size_t cap)
{
    if (!tok && n)
        return SW_EINVAL;
    long total = b64url_check(tok, n);
    if (total < 0)
        return SW_EINVAL;
    if (total < OVERHEAD)
        return SW_EAUTH; /* well-formed, but too short to be one of ours */
    size_t ptlen = (size_t)total - OVERHEAD;
    if (ptlen > cap)
        return SW_ELIMIT;
    uint8_t iv[IV_LEN], tag[TAG_LEN];
    const uint8_t aad[2] = {HIDE_VERSION, purpose};
    b64url_decode_checked(tok, 16, iv); /* 12 bytes are exactly 16 characters */
    int l = 0;
    if (EVP_CipherInit_ex2(h->gcm, NULL, NULL, iv, 0, NULL) != 1 ||
        EVP_CipherUpdate(h->gcm, NULL, &l, aad, sizeof aad) != 1)
        return SW_EINVAL;
    /* The rest decodes 4 characters to 3 bytes; the last TAG_LEN bytes of
     * the stream are the tag, everything before them ciphertext. */
    uint8_t *o = out;
    size_t done = 0, tagged = 0; /* ciphertext bytes decrypted, tag bytes taken */
    uint8_t chunk[CHUNK];
    for (size_t i = 16; i < n;) {
        size_t nc = n - i < CHUNK / 3 * 4 ? n - i : CHUNK / 3 * 4;
        size_t nb = b64url_decode_checked(tok + i, nc, chunk);
        i += nc;
        size_t take = ptlen - done < nb ? ptlen - done : nb;
        if (take) {
            if (EVP_CipherUpdate(h->gcm, o + done, &l, chunk, (int)take) != 1)
                goto fail;
            done += take;
        }
        size_t rest = nb - take;
        if (rest > TAG_LEN - tagged)
            goto fail; /* cannot happen: lengths were checked */
        memcpy(tag + tagged, chunk + take, rest);
        tagged += rest;
    }
    if (done != ptlen || tagged != TAG_LEN)
        goto fail;
    if (EVP_CIPHER_CTX_ctrl(h->gcm, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
        goto fail;
    if (EVP_CipherFinal_ex(h->gcm, chunk, &l) != 1)
        goto auth;
    return (long)ptlen;
auth:
    if (ptlen)
        OPENSSL_cleanse(out, ptlen);
    return SW_EAUTH;
fail:
    if (ptlen)
        OPENSSL_cleanse(out, ptlen);
    return SW_EINVAL;
}
