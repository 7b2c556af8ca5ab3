/* sipwall — exchange layer internals shared by its files (not public). */
#ifndef SIPWALL_EXCHANGE_INTERNAL_H
#define SIPWALL_EXCHANGE_INTERNAL_H

#include <jansson.h>
#include "sipwall/exchange.h"

/* A growable byte buffer; oom sticks once an allocation failed. */
typedef struct sw__xbuf {
    char *p;
    size_t len, cap;
    int oom;
} sw__xbuf;
void sw__xbuf_put(sw__xbuf *b, const void *s, size_t n);
void sw__xbuf_puts(sw__xbuf *b, const char *s);
/* NUL-terminates and hands the bytes over (NULL after oom). */
char *sw__xbuf_take(sw__xbuf *b, size_t *len);

/* Appends the JCS form of v.  SW_OK, SW_EINVAL (NaN/Inf), SW_ENOMEM. */
int sw__jcs_dump(const json_t *v, sw__xbuf *b);
/* jansson flags every partner decoder uses. */
#define SW__JSON_STRICT (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* base64url without padding.  enc: out needs 4 * ceil(n / 3) + 1 bytes,
 * returns the length.  dec: returns the length, or -1 on a bad character,
 * padding or a bad length; out needs 3 * n / 4 + 1 bytes. */
size_t sw__b64url_enc(const unsigned char *in, size_t n, char *out);
long sw__b64url_dec(const char *in, size_t n, unsigned char *out);

/* 1 when s is a UUID in lowercase text (8-4-4-4-12 hex digits). */
int sw__uuid_lower_ok(const char *s);

/* The object <-> its JSON tree. */
json_t *sw__fse_to_json(const sw_fse *o, int with_sig);
int sw__fse_from_json(const json_t *root, sw_fse *out, char *err, size_t errlen);


#endif
