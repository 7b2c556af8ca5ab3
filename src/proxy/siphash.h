/* SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF"),
 * streaming: the MAC in the To tag of our own answers, which the partner
 * sees and the ACK brings back.  A 64-bit keyed PRF at ~20 ns for a
 * SIP-sized input, where HMAC-SHA256 through EVP costs ~20 times that. */
#ifndef SW_PROXY_SIPHASH_H
#define SW_PROXY_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw__siphash {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;   /* pending bytes, little-endian */
    unsigned ntail;  /* 0..7 */
    uint64_t total;  /* bytes hashed so far */
} sw__siphash;

void sw__siphash_init(sw__siphash *s, const uint8_t key[16]);
void sw__siphash_update(sw__siphash *s, const void *data, size_t n);
uint64_t sw__siphash_final(sw__siphash *s);

/* Hashes a length-prefixed field, so that ("ab","c") and ("a","bc") differ. */
void sw__siphash_field(sw__siphash *s, const void *data, size_t n);

#endif
