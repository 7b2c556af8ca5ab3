/* bench_exchange — FSE v1 signing and verification throughput (objects/s)
 * next to raw Ed25519 anchors measured in the same run.
 *
 * usage: bench_exchange [-n OBJECTS] [-r ROUNDS]
 *
 * OBJECTS (default 20000) distinct realistic objects (every field set,
 * about 560 bytes of canonical JSON) are made up front.  Rows, interleaved
 * per round, best of ROUNDS (3) printed:
 *   anchor sign      EVP_DigestSign (one-shot Ed25519) over each object's
 *                    JCS bytes, nothing else: the floor of any signer;
 *   fse sign         sw_fse_sign: JCS encoding of the object, the detached
 *                    JWS header, base64url, Ed25519;
 *   anchor verify    EVP_DigestVerify over the same bytes;
 *   fse verify       sw_fse_verify on the received text: strict decode,
 *                    validation, JCS of the object without "sig", header
 *                    parse, key lookup, Ed25519 verify;
 *   batch verify     sw_fse_verify_batch over one array of all objects.
 * Figures are printed, never asserted. */
#define _GNU_SOURCE
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipwall/exchange.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_cb(void *arg, const sw_fse *o)
{
    (void)o;
    (*(size_t *)arg)++;
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = 20000;
    int rounds = 3, c;
    while ((c = getopt(argc, argv, "n:r:")) != -1) {
        if (c == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (c == 'r')
            rounds = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_exchange [-n OBJECTS] [-r ROUNDS]\n");
            return 2;
        }
    }
    if (n == 0 || rounds < 1)
        return 2;
    sw_jws_key *k = sw_jws_key_generate("ZZ01:bench");
    char *jwks_text = k ? sw_jws_key_public_jwks(k) : NULL;
    sw_jwks *jwks = jwks_text ? sw_jwks_parse(jwks_text, strlen(jwks_text), NULL, 0) : NULL;
    sw_fse_keyring *kr = sw_fse_keyring_new();
    if (!jwks || !kr || sw_fse_keyring_set(kr, "ZZ01", jwks) != SW_OK) {
        fprintf(stderr, "bench_exchange: setup failed\n");
        return 1;
    }
    /* The anchors need the raw key: a second copy through PEM. */
    char pem[] = "/tmp/bench_exchange.XXXXXX";
    int fd = mkstemp(pem);
    if (fd < 0)
        return 1;
    close(fd);
    unlink(pem);
    if (sw_jws_key_write_private(k, pem, NULL, 0) != SW_OK)
        return 1;
    FILE *f = fopen(pem, "r");
    EVP_PKEY *pk = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    unlink(pem);
    if (!pk)
        return 1;

    sw_fse *objs = calloc(n, sizeof *objs);
    char **jcs = calloc(n, sizeof *jcs), **signed_text = calloc(n, sizeof *signed_text);
    size_t *jl = calloc(n, sizeof *jl), *sl = calloc(n, sizeof *sl);
    unsigned char (*sig)[64] = calloc(n, 64);
    if (!objs || !jcs || !signed_text || !jl || !sl || !sig)
        return 1;
    size_t batch_cap = 0;
    for (size_t i = 0; i < n; i++) {
        sw_fse *o = &objs[i];
        snprintf(o->org, sizeof o->org, "ZZ01");
        snprintf(o->node, sizeof o->node, "6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11");
        snprintf(o->event_type, sizeof o->event_type, "wangiri_cli");
        snprintf(o->fraud_class, sizeof o->fraud_class, "wangiri");
        snprintf(o->fs_category, sizeof o->fs_category, "behavioural");
        o->kind = SW_FSE_KIND_E164;
        snprintf(o->value, sizeof o->value, "+8821%08zu", i);
        sw_fse_make_id(o->org, o->kind, o->value, o->event_type, o->id);
        o->modified_ms = 1796623200000LL + (int64_t)i;
        o->first_seen_ms = o->modified_ms - 3600000;
        o->last_seen_ms = o->modified_ms;
        o->valid_until_ms = o->modified_ms + 86400000;
        o->count = 1 + (int64_t)i;
        o->confidence = 80;
        o->severity = SW_FSE_SEV_HIGH;
        o->action = SW_FSE_ACT_BLOCK;
        o->tlp = SW_FSE_TLP_AMBER;
        snprintf(o->ctx_sip_method, sizeof o->ctx_sip_method, "INVITE");
        snprintf(o->ctx_transport, sizeof o->ctx_transport, "udp");
        o->ctx_distinct_callees = 377;
        snprintf(o->kid, sizeof o->kid, "ZZ01:bench");
        jcs[i] = sw_fse_encode(o, 0, &jl[i]);
        sw_fse t = *o;
        if (!jcs[i] || sw_fse_sign(&t, k, SW_JWS_EDDSA, 0) != SW_OK)
            return 1;
        signed_text[i] = sw_fse_encode(&t, 1, &sl[i]);
        if (!signed_text[i])
            return 1;
        batch_cap += sl[i] + 2;
    }
    char *batch = malloc(batch_cap + 4), *bp = batch;
    *bp++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *bp++ = ',';
        memcpy(bp, signed_text[i], sl[i]);
        bp += sl[i];
    }
    *bp++ = ']';
    size_t batch_len = (size_t)(bp - batch);

    enum { R_ASIGN, R_SIGN, R_AVERIFY, R_VERIFY, R_BATCH, R__N };
    static const char *const names[] = {"anchor sign (EVP_DigestSign)", "fse sign (sw_fse_sign)",
                                        "anchor verify (EVP_DigestVerify)",
                                        "fse verify (sw_fse_verify)",
                                        "batch verify (sw_fse_verify_batch)"};
    double best[R__N] = {0};
    size_t failures = 0;
    for (int r = 0; r < rounds; r++) {
        for (int row = 0; row < R__N; row++) {
            double t0 = now_s();
            if (row == R_ASIGN || row == R_AVERIFY) {
                for (size_t i = 0; i < n; i++) {
                    EVP_MD_CTX *m = EVP_MD_CTX_new();
                    size_t slen = 64;
                    int ok = row == R_ASIGN
                                 ? EVP_DigestSignInit(m, NULL, NULL, NULL, pk) == 1 &&
                                       EVP_DigestSign(m, sig[i], &slen,
                                                      (unsigned char *)jcs[i], jl[i]) == 1
                                 : EVP_DigestVerifyInit(m, NULL, NULL, NULL, pk) == 1 &&
                                       EVP_DigestVerify(m, sig[i], 64, (unsigned char *)jcs[i],
                                                        jl[i]) == 1;
                    failures += !ok;
                    EVP_MD_CTX_free(m);
                }
            } else if (row == R_SIGN) {
                for (size_t i = 0; i < n; i++) {
                    sw_fse t = objs[i];
                    failures += sw_fse_sign(&t, k, SW_JWS_EDDSA, 0) != SW_OK;
                }
            } else if (row == R_VERIFY) {
                for (size_t i = 0; i < n; i++) {
                    sw_fse out;
                    failures += sw_fse_verify(kr, signed_text[i], sl[i], &out, NULL, 0) != SW_OK;
                }
            } else {
                sw_quarantine *q = sw_quarantine_new(16);
                size_t acc = 0, nq = 0;
                sw_fse_verify_batch(kr, batch, batch_len, q, 0, count_cb, &acc, &nq, NULL, 0);
                failures += nq + (n - acc);
                sw_quarantine_free(q);
            }
            double rate = (double)n / (now_s() - t0);
            if (rate > best[row])
                best[row] = rate;
        }
    }
    printf("bench_exchange: %zu objects (%zu bytes of JCS each, %zu signed), best of %d rounds\n",
           n, jl[0], sl[0], rounds);
    for (int row = 0; row < R__N; row++)
        printf("  %-36s %10.0f objects/s\n", names[row], best[row]);
    printf("  sign   / anchor: %.2f\n", best[R_SIGN] / best[R_ASIGN]);
    printf("  verify / anchor: %.2f\n", best[R_VERIFY] / best[R_AVERIFY]);
    if (failures)
        printf("  FAILURES: %zu\n", failures);
    for (size_t i = 0; i < n; i++) {
        free(jcs[i]);
        free(signed_text[i]);
    }
    free(objs), free(jcs), free(signed_text), free(jl), free(sl), free(sig), free(batch);
    free(jwks_text);
    EVP_PKEY_free(pk);
    sw_fse_keyring_free(kr);
    sw_jws_key_free(k);
    return failures ? 1 : 0;
}
