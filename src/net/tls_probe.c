/* TLS probes for `sipwall assess` (include/sipwall/net.h): client contexts
 * pinned to one protocol version or one TLS 1.2 suite, at security level 0
 * so that what a server should refuse can be offered; the outcome of the
 * handshake is captured by callbacks (server hello, alerts both ways, the
 * chain as PEM, the first verification error, the leaf's facts), so it is
 * there whether the handshake finished or not. */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/net.h"

#define MAX_CHAIN 8

struct sw_tls_probe {
    SSL_CTX *ctx;
    char name[256];
    int has_name;
    sw_tls_probe_info info;
    int have_depth[MAX_CHAIN];
    char *pem[MAX_CHAIN];
};

static void set_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[200] = "";
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", reason);
}

static void record_session(sw_tls_probe *p, const SSL *ssl)
{
    snprintf(p->info.version, sizeof p->info.version, "%s", SSL_get_version(ssl));
    const SSL_SESSION *ss = SSL_get_session(ssl);
    const SSL_CIPHER *c = ss ? SSL_SESSION_get0_cipher(ss) : NULL;
    if (!c)
        c = SSL_get_current_cipher(ssl);
    if (c)
        snprintf(p->info.cipher, sizeof p->info.cipher, "%s", SSL_CIPHER_get_name(c));
}

/* Alert names (RFC 8446 §6 and RFC 5246 §7.2; OpenSSL 3.0's own table
 * lacks the TLS 1.3 ones, e.g. certificate_required). */
static const char *alert_name(int d)
{
    switch (d) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return NULL;
    }
}

static void on_msg(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    (void)version;
    (void)ssl;
    sw_tls_probe *p = arg;
    const unsigned char *b = buf;
    if (content_type == SSL3_RT_ALERT && len >= 2) {
        if (write_p) {
            p->info.alert_tx = b[1];
        } else {
            p->info.alert_rx = b[1];
            const char *n = alert_name(b[1]);
            if (n)
                snprintf(p->info.alert_text, sizeof p->info.alert_text, "%s (%d)", n, b[1]);
            else
                snprintf(p->info.alert_text, sizeof p->info.alert_text, "alert %d", b[1]);
        }
    } else if (content_type == SSL3_RT_HANDSHAKE && !write_p && len >= 1 && b[0] == 2) {
        p->info.server_hello = 1;
    }
}

static void on_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    sw_tls_probe *p = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (p && (where & SSL_CB_HANDSHAKE_DONE)) {
        p->info.handshake_done = 1;
        record_session(p, ssl);
    }
}

static int inet_pton_any(const char *s, unsigned char *bin)
{
    return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

static void leaf_facts(sw_tls_probe *p, X509 *x)
{
    sw_tls_probe_info *in = &p->info;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdl = 0;
    if (X509_digest(x, EVP_sha256(), md, &mdl) == 1) {
        for (unsigned i = 0; i < mdl && 3 * i + 3 < sizeof in->leaf_sha256; i++)
            snprintf(in->leaf_sha256 + 3 * i, 4, "%02X%s", md[i], i + 1 < mdl ? ":" : "");
    }
    X509_NAME_oneline(X509_get_subject_name(x), in->leaf_subject, sizeof in->leaf_subject);
    X509_NAME_oneline(X509_get_issuer_name(x), in->leaf_issuer, sizeof in->leaf_issuer);
    EVP_PKEY *k = X509_get0_pubkey(x);
    if (k) {
        in->key_bits = EVP_PKEY_get_bits(k);
        int id = EVP_PKEY_get_base_id(k);
        snprintf(in->key_type, sizeof in->key_type, "%s",
                 id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : id == EVP_PKEY_ED25519 ? "Ed25519"
                                                               : id == EVP_PKEY_DSA ? "DSA" : "other");
    }
    int mdnid = 0, pknid = 0, secbits = 0;
    uint32_t flags = 0;
    if (X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags) == 1)
        in->sig_sha1 = mdnid == NID_sha1 || mdnid == NID_md5;
    snprintf(in->sig_alg, sizeof in->sig_alg, "%s", OBJ_nid2ln(X509_get_signature_nid(x)));
    int days = 0, secs = 0;
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) == 1)
        in->days_left = days;
    in->expired = X509_cmp_current_time(X509_get0_notAfter(x)) < 0;
    in->not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(x)) > 0;
    if (p->has_name) {
        in->name_checked = 1;
        unsigned char bin[16];
        int ip = inet_pton_any(p->name, bin);
        in->name_ok = ip ? X509_check_ip_asc(x, p->name, 0) == 1
                         : X509_check_host(x, p->name, strlen(p->name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                                           NULL) == 1;
    }
}

static int on_verify(int ok, X509_STORE_CTX *sc)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
    sw_tls_probe *p = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    if (!p)
        return ok;
    record_session(p, ssl);
    int depth = X509_STORE_CTX_get_error_depth(sc);
    X509 *x = X509_STORE_CTX_get_current_cert(sc);
    if (!ok && !p->info.verify_error) {
        p->info.verify_error = X509_STORE_CTX_get_error(sc);
        p->info.verify_depth = depth;
        snprintf(p->info.verify_text, sizeof p->info.verify_text, "%s",
                 X509_verify_cert_error_string(p->info.verify_error));
    }
    if (x && depth >= 0 && depth < MAX_CHAIN && !p->have_depth[depth]) {
        p->have_depth[depth] = 1;
        BIO *b = BIO_new(BIO_s_mem());
        if (b && PEM_write_bio_X509(b, x) == 1) {
            char *data;
            long n = BIO_get_mem_data(b, &data);
            p->pem[depth] = malloc((size_t)n + 1);
            if (p->pem[depth]) {
                memcpy(p->pem[depth], data, (size_t)n);
                p->pem[depth][n] = '\0';
            }
        }
        BIO_free(b);
        if (depth == 0)
            leaf_facts(p, x);
    }
    /* the handshake goes on: the checks judge the chain, not the library */
    return 1;
}

/* A fresh self-signed EC P-256 certificate on ctx (the rogue client). */
static int self_signed(SSL_CTX *ctx)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    int ok = k && x;
    if (ok) {
        unsigned char serial[8];
        RAND_bytes(serial, sizeof serial);
        serial[0] &= 0x7f;
        BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
        BN_free(bn);
        X509_set_version(x, 2);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_NAME *nm = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"sipwall-assess-rogue", -1, -1,
                                   0);
        X509_set_issuer_name(x, nm);
        ok = ok && X509_set_pubkey(x, k) == 1 && X509_sign(x, k, EVP_sha256()) > 0 &&
             SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return ok;
}

sw_tls_probe *sw_tls_probe_new(const sw_tls_probe_opts *o, char *err, size_t errlen)
{
    sw_tls_probe *p = calloc(1, sizeof *p);
    if (!p) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->info.alert_rx = p->info.alert_tx = -1;
    ERR_clear_error();
    p->ctx = SSL_CTX_new(TLS_client_method());
    if (!p->ctx) {
        set_err(err, errlen, "SSL_CTX_new");
        free(p);
        return NULL;
    }
    SSL_CTX_set_security_level(p->ctx, 0);
    SSL_CTX_set_options(p->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION | SSL_OP_LEGACY_SERVER_CONNECT);
    SSL_CTX_set_app_data(p->ctx, p);
    SSL_CTX_set_msg_callback(p->ctx, on_msg);
    SSL_CTX_set_msg_callback_arg(p->ctx, p);
    SSL_CTX_set_info_callback(p->ctx, on_info);
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, on_verify);
    SSL_CTX_set_verify_depth(p->ctx, MAX_CHAIN - 2);
    int ok = 1;
    const char *why = "";
    if (o->version) {
        ok = SSL_CTX_set_min_proto_version(p->ctx, o->version) == 1 &&
             SSL_CTX_set_max_proto_version(p->ctx, o->version) == 1 &&
             SSL_CTX_get_min_proto_version(p->ctx) == o->version;
        why = "this OpenSSL cannot offer that protocol version";
    }
    if (ok && o->cipher12) {
        char list[128];
        snprintf(list, sizeof list, "%s:@SECLEVEL=0", o->cipher12);
        ok = SSL_CTX_set_max_proto_version(p->ctx, TLS1_2_VERSION) == 1 &&
             SSL_CTX_set_cipher_list(p->ctx, list) == 1;
        why = "this OpenSSL cannot offer that suite";
    } else if (ok) {
        ok = SSL_CTX_set_cipher_list(p->ctx, "ALL:@SECLEVEL=0") == 1;
        why = "cipher list";
    }
    if (ok && o->ca) {
        ok = SSL_CTX_load_verify_locations(p->ctx, o->ca, NULL) == 1;
        why = "CA file";
    } else if (ok) {
        ok = SSL_CTX_set_default_verify_paths(p->ctx) == 1;
        why = "the system's CA store";
    }
    if (ok && o->self_signed) {
        ok = self_signed(p->ctx);
        why = "self-signed certificate";
    } else if (ok && o->cert) {
        ok = SSL_CTX_use_certificate_chain_file(p->ctx, o->cert) == 1 &&
             SSL_CTX_use_PrivateKey_file(p->ctx, o->key ? o->key : o->cert, SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(p->ctx) == 1;
        why = "client certificate";
    }
    if (!ok) {
        set_err(err, errlen, why);
        sw_tls_probe_free(p);
        return NULL;
    }
    if (o->name && *o->name) {
        snprintf(p->name, sizeof p->name, "%s", o->name);
        p->has_name = 1;
    }
    return p;
}

SSL_CTX *sw_tls_probe_ctx(sw_tls_probe *p) { return p->ctx; }

const sw_tls_probe_info *sw_tls_probe_get(sw_tls_probe *p)
{
    /* the chain, leaf first, as one PEM text */
    if (!p->info.chain_pem) {
        size_t total = 0;
        unsigned n = 0;
        for (int d = 0; d < MAX_CHAIN; d++)
            if (p->pem[d]) {
                total += strlen(p->pem[d]);
                n++;
            }
        if (n) {
            char *all = malloc(total + 1);
            if (all) {
                size_t off = 0;
                for (int d = 0; d < MAX_CHAIN; d++)
                    if (p->pem[d]) {
                        size_t l = strlen(p->pem[d]);
                        memcpy(all + off, p->pem[d], l);
                        off += l;
                    }
                all[off] = '\0';
                p->info.chain_pem = all;
                p->info.ncerts = n;
            }
        }
    }
    return &p->info;
}

void sw_tls_probe_free(sw_tls_probe *p)
{
    if (!p)
        return;
    SSL_CTX_free(p->ctx);
    for (int d = 0; d < MAX_CHAIN; d++)
        free(p->pem[d]);
    free(p->info.chain_pem);
    free(p);
    ERR_clear_error();
}
