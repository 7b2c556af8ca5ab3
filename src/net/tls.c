/* TLS contexts for sipwalld's listeners and outgoing connections
 * (include/sipwall/net.h): TLS 1.2+, DTLS 1.2, mutual TLS, peer identities. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "net/keys_int.h"
#include "sipwall/net.h"

/* TLS 1.2 (and DTLS 1.2) suites a sipwall server accepts. */
#define SW__TLS12_SERVER_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

static void ssl_fail(char *err, size_t errlen, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char reason[256];
    ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
                 e ? reason : "unknown TLS error");
}

static SSL_CTX *make_ctx(int server, int dtls, const char *cert, const char *key, const char *ca,
                         sw_tls_verify v, char *err, size_t errlen)
{
    const SSL_METHOD *m = dtls ? (server ? DTLS_server_method() : DTLS_client_method())
                               : (server ? TLS_server_method() : TLS_client_method());
    SSL_CTX *ctx = SSL_CTX_new(m);
    if (!ctx) {
        ssl_fail(err, errlen, "SSL_CTX_new", NULL);
        return NULL;
    }
    /* SIP over TLS (RFC 3261 §26, FS.38 device controls): 1.2 or newer,
     * nothing an attacker can drive into renegotiation or compression.
     * DTLS: 1.2 exactly (OpenSSL 3.0 has no DTLS 1.3), whole records. */
    if (dtls) {
        SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
        SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    } else {
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* A server offers TLS 1.2 only with forward secrecy and an AEAD cipher
     * (ECDHE with AES-GCM or ChaCha20-Poly1305): no RSA key exchange, no
     * CBC with SHA-1 (sipwall assess TLS-03 holds it against sipwalld too).
     * TLS 1.3 keeps OpenSSL's suites, which are all AEAD.  Clients keep the
     * defaults: a partner's older server is its operator's finding. */
    if (server && SSL_CTX_set_cipher_list(ctx, SW__TLS12_SERVER_CIPHERS) != 1) {
        ssl_fail(err, errlen, "cipher list", NULL);
        goto bad;
    }
    SSL_CTX_set_mode(ctx, (dtls ? 0 : SSL_MODE_ENABLE_PARTIAL_WRITE) | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_fail(err, errlen, "certificate", cert);
        goto bad;
    }
    if (key && sw__key_is_pkcs11(key)) { /* in a token: the key never leaves it */
        EVP_PKEY *pk = sw__key_load_pkcs11(key, err, errlen);
        if (!pk)
            goto bad;
        int ok = SSL_CTX_use_PrivateKey(ctx, pk);
        EVP_PKEY_free(pk);
        if (ok != 1) {
            char shown[512];
            sw__key_ref_show(key, shown, sizeof shown);
            ssl_fail(err, errlen, "private key", shown);
            goto bad;
        }
    } else if (key && SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_fail(err, errlen, "private key", key);
        goto bad;
    }
    if (cert && key && SSL_CTX_check_private_key(ctx) != 1) {
        ssl_fail(err, errlen, "private key does not match certificate", cert);
        goto bad;
    }
    if (ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ssl_fail(err, errlen, "CA file", ca);
        goto bad;
    }
    if (server && ca && v != SW_TLS_VERIFY_NONE) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    int mode = SSL_VERIFY_NONE;
    if (v == SW_TLS_VERIFY_OPTIONAL)
        mode = SSL_VERIFY_PEER;
    else if (v == SW_TLS_VERIFY_REQUIRED)
        mode = SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, NULL);
    SSL_CTX_set_verify_depth(ctx, 6);
    if (server)
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *sw_tls_server_ctx(const char *cert, const char *key, const char *ca, sw_tls_verify v,
                           char *err, size_t errlen)
{
    if (!cert || !key) {
        if (err && errlen)
            snprintf(err, errlen, "a TLS listener needs a certificate and a key");
        return NULL;
    }
    return make_ctx(1, 0, cert, key, ca, v, err, errlen);
}

SSL_CTX *sw_tls_client_ctx(const char *cert, const char *key, const char *ca, sw_tls_verify v,
                           char *err, size_t errlen)
{
    return make_ctx(0, 0, cert, key, ca, v, err, errlen);
}

SSL_CTX *sw_dtls_client_ctx(const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
    SSL_CTX *ctx = make_ctx(0, 1, cert, key, ca, SW_TLS_VERIFY_REQUIRED, err, errlen);
    if (ctx && !ca && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        ssl_fail(err, errlen, "the system's CA store", NULL);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *sw_dtls_server_ctx(const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
    if (!cert || !key) {
        if (err && errlen)
            snprintf(err, errlen, "a DTLS server needs a certificate and a key");
        return NULL;
    }
    return make_ctx(1, 1, cert, key, ca, ca ? SW_TLS_VERIFY_REQUIRED : SW_TLS_VERIFY_NONE, err, errlen);
}

void sw_tls_ctx_free(SSL_CTX *ctx) { SSL_CTX_free(ctx); }

/* Copies an ASN.1 string as printable ASCII (anything else becomes '?'):
 * identities end up in events and logs. */
static void put_id(char *dst, const unsigned char *s, int n)
{
    int k = 0;
    for (int i = 0; i < n && k < SW_TLS_ID_LEN - 1; i++)
        dst[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    dst[k] = '\0';
}

/* Subject CN first, then the subjectAltName DNS and URI entries. */
static unsigned cert_ids(X509 *cert, char ids[][SW_TLS_ID_LEN], unsigned max)
{
    unsigned n = 0;
    X509_NAME *subj = X509_get_subject_name(cert);
    int idx = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
    if (idx >= 0) {
        ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
        if (d)
            put_id(ids[n++], ASN1_STRING_get0_data(d), ASN1_STRING_length(d));
    }
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && n < max; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS || g->type == GEN_URI) {
            const ASN1_IA5STRING *s = g->type == GEN_DNS ? g->d.dNSName : g->d.uniformResourceIdentifier;
            put_id(ids[n++], ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
        }
    }
    GENERAL_NAMES_free(sans);
    return n;
}

unsigned sw_tls_peer_ids(SSL *ssl, char ids[][SW_TLS_ID_LEN], unsigned max)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert || max == 0) {
        X509_free(cert);
        return 0;
    }
    unsigned n = cert_ids(cert, ids, max);
    X509_free(cert);
    return n;
}

unsigned sw_tls_der_ids(const uint8_t *der, size_t len, char ids[][SW_TLS_ID_LEN], unsigned max)
{
    if (len == 0 || len > (size_t)LONG_MAX || max == 0)
        return 0;
    const unsigned char *q = der;
    X509 *cert = d2i_X509(NULL, &q, (long)len);
    if (!cert)
        return 0;
    unsigned n = cert_ids(cert, ids, max);
    X509_free(cert);
    return n;
}
