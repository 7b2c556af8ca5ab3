/* Digest authentication computed by us (RFC 2617 §3.2.2, RFC 7616 §3.4,
 * RFC 8760 for SIP): MD5, SHA-256 and SHA-512/256, with and without -sess,
 * qop=auth or none.  The hashes come from libcrypto's EVP interface. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "assess/assess_int.h"

static const struct {
    const char *token;
    sw__digest_alg alg;
} algs[] = {
    {"MD5", SW__DIGEST_MD5},
    {"MD5-sess", SW__DIGEST_MD5_SESS},
    {"SHA-256", SW__DIGEST_SHA256},
    {"SHA-256-sess", SW__DIGEST_SHA256_SESS},
    {"SHA-512-256", SW__DIGEST_SHA512_256},
    {"SHA-512-256-sess", SW__DIGEST_SHA512_256_SESS},
};

sw__digest_alg sw__digest_alg_of(sw_str token)
{
    if (token.len == 0)
        return SW__DIGEST_MD5;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (sw_str_caseeq_cstr(token, algs[i].token))
            return algs[i].alg;
    return SW__DIGEST_UNKNOWN;
}

const char *sw__digest_alg_name(sw__digest_alg a)
{
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (algs[i].alg == a)
            return algs[i].token;
    return "unknown";
}

static const EVP_MD *md_of(sw__digest_alg a)
{
    switch (a) {
    case SW__DIGEST_MD5:
    case SW__DIGEST_MD5_SESS:
        return EVP_md5();
    case SW__DIGEST_SHA256:
    case SW__DIGEST_SHA256_SESS:
        return EVP_sha256();
    case SW__DIGEST_SHA512_256:
    case SW__DIGEST_SHA512_256_SESS:
        return EVP_sha512_256();
    default:
        return NULL;
    }
}

static int is_sess(sw__digest_alg a)
{
    return a == SW__DIGEST_MD5_SESS || a == SW__DIGEST_SHA256_SESS || a == SW__DIGEST_SHA512_256_SESS;
}

/* H(part1:part2:...:partN) as lowercase hex into out (cap ≥ 129). */
static int hash_hex(const EVP_MD *md, char *out, size_t cap, const char *const *parts, size_t n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return SW_ENOMEM;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        if (i)
            ok = EVP_DigestUpdate(ctx, ":", 1) == 1;
        if (ok)
            ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
    }
    if (ok)
        ok = EVP_DigestFinal_ex(ctx, d, &dl) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok || cap < 2 * (size_t)dl + 1)
        return SW_EUSAGE;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < dl; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * dl] = '\0';
    return SW_OK;
}

int sw__digest_response(const sw__digest_in *in, char *out, size_t cap)
{
    const EVP_MD *md = md_of(in->alg);
    if (!md || !in->user || !in->realm || !in->password || !in->method || !in->uri || !in->nonce)
        return SW_EUSAGE;
    int qop = in->qop && *in->qop;
    if ((qop || is_sess(in->alg)) && (!in->cnonce || !*in->cnonce))
        return SW_EUSAGE;
    if (qop && (!in->nc || strcmp(in->qop, "auth") != 0))
        return SW_EUSAGE; /* auth-int needs the body: not used here */
    char ha1[129], ha2[129];
    const char *p1[] = {in->user, in->realm, in->password};
    int e = hash_hex(md, ha1, sizeof ha1, p1, 3);
    if (e == SW_OK && is_sess(in->alg)) {
        char tmp[129];
        memcpy(tmp, ha1, sizeof tmp);
        const char *ps[] = {tmp, in->nonce, in->cnonce};
        e = hash_hex(md, ha1, sizeof ha1, ps, 3);
    }
    const char *p2[] = {in->method, in->uri};
    if (e == SW_OK)
        e = hash_hex(md, ha2, sizeof ha2, p2, 2);
    if (e != SW_OK)
        return e;
    if (qop) {
        const char *p[] = {ha1, in->nonce, in->nc, in->cnonce, in->qop, ha2};
        return hash_hex(md, out, cap, p, 6);
    }
    const char *p[] = {ha1, in->nonce, ha2};
    return hash_hex(md, out, cap, p, 3);
}

/* Copies a view into a bounded C string (fails when it does not fit). */
static int cstr(sw_str s, char *out, size_t cap)
{
    if (s.len >= cap)
        return SW_ELIMIT;
    if (s.len)
        memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return SW_OK;
}

/* 1 when the qop list of a challenge ("auth,auth-int") offers auth. */
static int offers_auth(sw_str qop)
{
    const char *p = qop.ptr, *e = qop.ptr + qop.len;
    while (p < e) {
        while (p < e && (*p == ' ' || *p == ',' || *p == '\t'))
            p++;
        const char *s = p;
        while (p < e && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if (p - s == 4 && strncasecmp(s, "auth", 4) == 0)
            return 1;
    }
    return 0;
}

long sw__digest_header(const sw_auth *ch, int proxy, const char *user, const char *password, const char *method,
                       const char *uri, char *out, size_t cap)
{
    if (!sw_str_caseeq_cstr(ch->scheme, "Digest"))
        return SW_EUSAGE;
    char realm[256], nonce[256], opaque[256], alg[32];
    if (cstr(ch->realm, realm, sizeof realm) != SW_OK || cstr(ch->nonce, nonce, sizeof nonce) != SW_OK ||
        cstr(ch->opaque, opaque, sizeof opaque) != SW_OK || cstr(ch->algorithm, alg, sizeof alg) != SW_OK)
        return SW_ELIMIT;
    /* the quoted values must not carry what would break our header */
    for (const char *p = realm; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '\r' || *p == '\n')
            return SW_EUSAGE;
    for (const char *p = nonce; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '\r' || *p == '\n')
            return SW_EUSAGE;
    for (const char *p = opaque; *p; p++)
        if (*p == '"' || *p == '\\' || *p == '\r' || *p == '\n')
            return SW_EUSAGE;
    sw__digest_alg a = sw__digest_alg_of(ch->algorithm);
    if (a == SW__DIGEST_UNKNOWN || !nonce[0])
        return SW_EUSAGE;
    int qop = ch->qop.len > 0;
    if (qop && !offers_auth(ch->qop))
        return SW_EUSAGE;
    char cnonce[33], resp[129];
    sw__assess_rand_hex(cnonce, 8);
    sw__digest_in in = {.alg = a,
                        .user = user,
                        .realm = realm,
                        .password = password,
                        .method = method,
                        .uri = uri,
                        .nonce = nonce,
                        .qop = qop ? "auth" : NULL,
                        .nc = "00000001",
                        .cnonce = cnonce};
    int e = sw__digest_response(&in, resp, sizeof resp);
    if (e != SW_OK)
        return e;
    int n = snprintf(out, cap, "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\"",
                     proxy ? "Proxy-Authorization" : "Authorization", user, realm, nonce, uri, resp);
    if (n >= 0 && (size_t)n < cap && ch->algorithm.len)
        n += snprintf(out + n, cap - (size_t)n, ", algorithm=%s", alg);
    if (n >= 0 && (size_t)n < cap && qop)
        n += snprintf(out + n, cap - (size_t)n, ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
    if (n >= 0 && (size_t)n < cap && opaque[0])
        n += snprintf(out + n, cap - (size_t)n, ", opaque=\"%s\"", opaque);
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "\r\n");
    if (n < 0 || (size_t)n >= cap)
        return SW_ELIMIT;
    return n;
}
