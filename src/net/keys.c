/* Keys in tamper-resistant storage (src/net/keys_int.h): a "pkcs11:" URI
 * loads the private key through OpenSSL's pkcs11 engine.  Debian 12's
 * OpenSSL 3.0 has no pkcs11 provider package, so the engine API (deprecated
 * in 3.0, still supported) is used here and only here; a provider can
 * replace this file without touching the callers. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "net/keys_int.h"

int sw__key_is_pkcs11(const char *ref) { return ref && strncmp(ref, "pkcs11:", 7) == 0; }

void sw__key_ref_show(const char *uri, char *out, size_t outlen)
{
    if (!outlen)
        return;
    size_t o = 0;
    for (const char *p = uri; *p && o + 1 < outlen;) {
        if (strncmp(p, "pin-value=", 10) == 0) {
            int n = snprintf(out + o, outlen - o, "pin-value=***");
            o = n < 0 ? o : (o + (size_t)n < outlen ? o + (size_t)n : outlen - 1);
            p += 10;
            while (*p && *p != ';' && *p != '&' && *p != '?')
                p++;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
}

static pthread_mutex_t engine_mu = PTHREAD_MUTEX_INITIALIZER;
static ENGINE *engine; /* initialised once, kept: keys sign through it */

static void fail(char *err, size_t errlen, const char *uri, const char *what)
{
    char shown[512], reason[256] = "";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    sw__key_ref_show(uri, shown, sizeof shown);
    if (err && errlen)
        snprintf(err, errlen, "private key %s: %s%s%s", shown, what, e ? ": " : "", reason);
}

EVP_PKEY *sw__key_load_pkcs11(const char *uri, char *err, size_t errlen)
{
    pthread_mutex_lock(&engine_mu);
    if (!engine) {
        OPENSSL_init_crypto(OPENSSL_INIT_ENGINE_DYNAMIC, NULL);
        ENGINE *e = ENGINE_by_id("pkcs11");
        if (!e) {
            pthread_mutex_unlock(&engine_mu);
            fail(err, errlen, uri, "the OpenSSL pkcs11 engine is not installed (libengine-pkcs11-openssl)");
            return NULL;
        }
        if (!ENGINE_init(e)) {
            ENGINE_free(e);
            pthread_mutex_unlock(&engine_mu);
            fail(err, errlen, uri, "the pkcs11 engine does not start (no PKCS#11 module registered "
                                   "with p11-kit?)");
            return NULL;
        }
        ENGINE_free(e); /* the functional reference from ENGINE_init stays */
        engine = e;
    }
    EVP_PKEY *k = ENGINE_load_private_key(engine, uri, NULL, NULL);
    pthread_mutex_unlock(&engine_mu);
    if (!k)
        fail(err, errlen, uri, "not found in any token, or the PIN is wrong");
    return k;
}
