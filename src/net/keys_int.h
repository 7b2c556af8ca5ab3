/* Private keys for the TLS contexts (src/net/keys.c): a PEM file or a
 * key in a PKCS#11 token.  Internal to src/net/. */
#ifndef SW_NET_KEYS_INT_H
#define SW_NET_KEYS_INT_H

#include <stddef.h>

typedef struct evp_pkey_st EVP_PKEY;

/* Nonzero when ref names a key in a token (an RFC 7512 "pkcs11:" URI). */
int sw__key_is_pkcs11(const char *ref);

/* The private key a "pkcs11:" URI names, through the OpenSSL pkcs11 engine
 * (libengine-pkcs11-openssl; the module comes from p11-kit's registry).
 * The PIN is in the URI (pin-value=, or ?pin-source=file:PATH).  The
 * engine stays loaded for the life of the process: the key signs through
 * it.  NULL with the reason in err; the URI in err has its PIN masked. */
EVP_PKEY *sw__key_load_pkcs11(const char *uri, char *err, size_t errlen);

/* uri with any pin-value= masked ("pin-value=***") into out: for messages. */
void sw__key_ref_show(const char *uri, char *out, size_t outlen);

#endif
