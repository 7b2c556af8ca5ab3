/* Internals of the bundle layer (src/bundle/). */
#ifndef SW_BUNDLE_INT_H
#define SW_BUNDLE_INT_H

#include <openssl/evp.h>

#include "sipwall/bundle.h"

struct sw_bundle_key {
    EVP_PKEY *pk;
    int priv;                        /* holds the private half */
    char id[SW_BUNDLE_KEYID_LEN + 1];
};

/* The signed message is this prefix followed by the manifest bytes. */
#define SW__BUNDLE_SIG_DOMAIN "sipwall-bundle-v1\n"

int sw__bundle_sha256(const void *data, size_t len, uint8_t out[32]);
/* SW_OK and sig, SW_EUSAGE for a public-only key, SW_EIO. */
int sw__bundle_sign(const sw_bundle_key *k, const uint8_t *msg, size_t len, uint8_t sig[64]);
/* 1 when sig is k's signature of msg. */
int sw__bundle_sig_ok(const sw_bundle_key *k, const uint8_t *msg, size_t len, const uint8_t sig[64]);

#endif
