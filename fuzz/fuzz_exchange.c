/* libFuzzer target: what the exchange layer reads from partners
 * (src/exchange): FSE v1 objects, batches of them, JWS protected headers
 * and detached JWS, JWKS documents, JSON for canonicalisation, and export
 * policy files.
 *
 * Input: byte 0 picks the entry point (mod 7), the rest is the input:
 *   0 sw_fse_decode: an accepted object validates, encodes, and the
 *     encoding decodes to the same bytes again (canonical round trip);
 *   1 sw_jws_header_parse: an accepted header has an allowed alg, a kid,
 *     and b64 0/1;
 *   2 sw_jcs: the output is its own canonical form (idempotent);
 *   3 sw_jwks_parse: 1..SW_JWKS_MAX_KEYS keys when accepted;
 *   4 sw_export_policy_parse: errors start "line N: " or name the missing
 *     producer;
 *   5 sw_fse_verify_batch against a fixed keyring: accepted + quarantined
 *     never exceeds the input length, the quarantine stays within its capacity
 *     and keeps at most SW_QUARANTINE_RAW_MAX bytes per entry;
 *   6 sw_jws_verify_detached: input "JWS\nPAYLOAD", a fixed JWKS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/exchange.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static const char jwks_text[] =
    "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ZZ01:1\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";

static sw_fse_keyring *keyring;
static sw_jwks *jwks;

static int on_accept(void *arg, const sw_fse *o)
{
    (void)arg;
    FZ_CHECK(sw_fse_validate(o, NULL, 0) == SW_OK);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!keyring) {
        keyring = sw_fse_keyring_new();
        FZ_CHECK(keyring != NULL);
        sw_jwks *k = sw_jwks_parse(jwks_text, sizeof jwks_text - 1, NULL, 0);
        FZ_CHECK(k != NULL);
        FZ_CHECK(sw_fse_keyring_set(keyring, "ZZ01", k) == SW_OK);
        jwks = sw_jwks_parse(jwks_text, sizeof jwks_text - 1, NULL, 0);
        FZ_CHECK(jwks != NULL);
    }
    unsigned sel = data[0] % 7;
    size_t len = size - 1;
    char *in = malloc(len ? len : 1); /* exactly sized: over-reads are reports */
    FZ_CHECK(in != NULL);
    memcpy(in, data + 1, len);
    char err[256];
    err[0] = '\0';
    switch (sel) {
    case 0: {
        sw_fse o, o2;
        if (sw_fse_decode(in, len, &o, err, sizeof err) == SW_OK) {
            FZ_CHECK(sw_fse_validate(&o, NULL, 0) == SW_OK);
            size_t el, el2;
            char *enc = sw_fse_encode(&o, 1, &el);
            FZ_CHECK(enc != NULL);
            FZ_CHECK(sw_fse_decode(enc, el, &o2, err, sizeof err) == SW_OK);
            char *enc2 = sw_fse_encode(&o2, 1, &el2);
            FZ_CHECK(enc2 != NULL && el == el2 && memcmp(enc, enc2, el) == 0);
            free(enc);
            free(enc2);
        } else {
            FZ_CHECK(err[0] != '\0');
        }
        break;
    }
    case 1: {
        sw_jws_header h;
        if (sw_jws_header_parse(in, len, &h, err, sizeof err) == SW_OK) {
            FZ_CHECK(h.alg == SW_JWS_EDDSA || h.alg == SW_JWS_ED25519);
            FZ_CHECK(h.kid[0] != '\0' && (h.b64 == 0 || h.b64 == 1));
        } else {
            FZ_CHECK(err[0] != '\0');
        }
        break;
    }
    case 2: {
        size_t ol, ol2;
        char *c = sw_jcs(in, len, &ol, err, sizeof err);
        if (c) {
            char *c2 = sw_jcs(c, ol, &ol2, err, sizeof err);
            FZ_CHECK(c2 != NULL && ol == ol2 && memcmp(c, c2, ol) == 0);
            free(c2);
            free(c);
        } else {
            FZ_CHECK(err[0] != '\0');
        }
        break;
    }
    case 3: {
        sw_jwks *s = sw_jwks_parse(in, len, err, sizeof err);
        if (s) {
            FZ_CHECK(sw_jwks_count(s) >= 1 && sw_jwks_count(s) <= SW_JWKS_MAX_KEYS);
            sw_jwks_free(s);
        } else {
            FZ_CHECK(err[0] != '\0');
        }
        break;
    }
    case 4: {
        sw_export_policy *p = sw_export_policy_parse(in, len, err, sizeof err);
        if (p)
            sw_export_policy_free(p);
        else
            FZ_CHECK(strncmp(err, "line ", 5) == 0 || strstr(err, "producer") != NULL);
        break;
    }
    case 5: {
        sw_quarantine *q = sw_quarantine_new(4);
        FZ_CHECK(q != NULL);
        size_t nq = 0;
        int n = sw_fse_verify_batch(keyring, in, len, q, 0, on_accept, NULL, &nq, err,
                                    sizeof err);
        sw_quarantine_stats st = sw_quarantine_stats_get(q);
        FZ_CHECK(st.total == nq && st.held <= 4);
        if (n >= 0)
            FZ_CHECK((size_t)n + nq <= len); /* "[,,,]": every comma an element */
        for (size_t i = 0; i < st.held; i++) {
            const sw_quarantine_entry *e = sw_quarantine_get(q, i);
            FZ_CHECK(e != NULL && e->raw_len <= SW_QUARANTINE_RAW_MAX && e->reason[0] != '\0');
        }
        sw_quarantine_free(q);
        break;
    }
    case 6: {
        char *nl = memchr(in, '\n', len);
        size_t jl = nl ? (size_t)(nl - in) : len;
        const char *payload = nl ? nl + 1 : in + len;
        size_t pl = nl ? len - jl - 1 : 0;
        sw_jws_header h;
        int rc = sw_jws_verify_detached(in, jl, payload, pl, jwks, &h, err, sizeof err);
        FZ_CHECK(rc == SW_OK || rc == SW_EINVAL || rc == SW_ENOTFOUND || rc == SW_EAUTH);
        break;
    }
    }
    free(in);
    return 0;
}
