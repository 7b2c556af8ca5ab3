/* Detached JWS with Ed25519: our signer reproduces signatures made by
 * `openssl pkeyutl -rawin` (tests/data/exchange/golden) and, when present,
 * the shared corpus's golden files byte for byte; what we sign verifies,
 * and every refusal of the header rules holds even when the signature
 * over the bad header is valid (signed here with raw EVP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "sipwall/exchange.h"

#define GOLD SW_TEST_DATA "/exchange/golden"

static void golden_dir(const char *dir, const char *payload_name, int required)
{
    char path[1024];
    size_t pl;
    snprintf(path, sizeof path, "%s/%s", dir, payload_name);
    char *payload = xread(path, &pl);
    if (!payload && !required) {
        printf("%s absent: skipped\n", path);
        return;
    }
    assert_non_null(payload);
    char err[256];
    sw_jws_key *k = sw_jws_key_load(GOLD "/rfc8037-a1.pem", "ZZ01:1", err, sizeof err);
    assert_non_null(k);
    sw_jwks *pub = sw_jwks_load(GOLD "/rfc8037-a1.jwks", err, sizeof err);
    assert_non_null(pub);
    static const char *const algs[] = {"EdDSA", "Ed25519"};
    for (int a = 0; a < 2; a++)
        for (int b64 = 0; b64 < 2; b64++) {
            snprintf(path, sizeof path, "%s/%s-b64%s.jws", dir, algs[a], b64 ? "true" : "false");
            size_t gl;
            char *gold = xread(path, &gl);
            assert_non_null(gold);
            chomp(gold, &gl);
            char out[SW_FSE_SIG_MAX];
            assert_int_equal(sw_jws_sign_detached(k, (sw_jws_alg)a, b64, payload, pl, out), SW_OK);
            assert_string_equal(out, gold);
            sw_jws_header h;
            assert_int_equal(sw_jws_verify_detached(gold, gl, payload, pl, pub, &h, err,
                                                    sizeof err),
                             SW_OK);
            assert_int_equal(h.alg, a);
            assert_int_equal(h.b64, b64);
            /* one flipped payload byte: refused */
            payload[pl / 2] ^= 1;
            assert_int_equal(sw_jws_verify_detached(gold, gl, payload, pl, pub, NULL, err,
                                                    sizeof err),
                             SW_EAUTH);
            payload[pl / 2] ^= 1;
            free(gold);
        }
    sw_jwks_free(pub);
    sw_jws_key_free(k);
    free(payload);
}

static void test_golden_own(void **state)
{
    (void)state;
    golden_dir(GOLD, "fse.jcs", 1);
}

static void test_golden_corpus(void **state)
{
    (void)state;
    golden_dir(SW_SHARED_CORPUS "/interop/jws/golden", "payload.jcs", 0);
}

/* A compact detached JWS over an arbitrary header, signed with raw EVP. */
static void raw_sign(const char *hdr, const char *payload, int b64, char *out, size_t cap)
{
    FILE *f = fopen(GOLD "/rfc8037-a1.pem", "r");
    assert_non_null(f);
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(pk);
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char hb[1024], in[4096], pb[2048];
    size_t n = 0;
    const unsigned char *s;
    size_t sl;
#define B64(src, len, dst)                                                   \
    do {                                                                     \
        s = (const unsigned char *)(src);                                    \
        sl = (len);                                                          \
        n = 0;                                                               \
        for (size_t i = 0; i < sl; i += 3) {                                 \
            unsigned v = s[i] << 16 | (i + 1 < sl ? s[i + 1] << 8 : 0) |     \
                         (i + 2 < sl ? s[i + 2] : 0);                        \
            dst[n++] = tbl[v >> 18];                                         \
            dst[n++] = tbl[(v >> 12) & 63];                                  \
            if (i + 1 < sl)                                                  \
                dst[n++] = tbl[(v >> 6) & 63];                               \
            if (i + 2 < sl)                                                  \
                dst[n++] = tbl[v & 63];                                      \
        }                                                                    \
        dst[n] = '\0';                                                       \
    } while (0)
    B64(hdr, strlen(hdr), hb);
    if (b64) {
        B64(payload, strlen(payload), pb);
        snprintf(in, sizeof in, "%s.%s", hb, pb);
    } else {
        snprintf(in, sizeof in, "%s.%s", hb, payload);
    }
    unsigned char sig[64];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(c, NULL, NULL, NULL, pk), 1);
    assert_int_equal(EVP_DigestSign(c, sig, &siglen, (unsigned char *)in, strlen(in)), 1);
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(pk);
    char sb[100];
    B64(sig, siglen, sb);
#undef B64
    snprintf(out, cap, "%s..%s", hb, sb);
}

static void test_header_rules(void **state)
{
    (void)state;
    const char *payload = "{\"a\":1}";
    char err[256], jws[2048];
    sw_jwks *pub = sw_jwks_load(GOLD "/rfc8037-a1.jwks", err, sizeof err);
    assert_non_null(pub);
    /* A control: a valid header made the same way verifies. */
    raw_sign("{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\"}", payload, 1, jws, sizeof jws);
    assert_int_equal(sw_jws_verify_detached(jws, strlen(jws), payload, strlen(payload), pub, NULL,
                                            err, sizeof err),
                     SW_OK);
    raw_sign("{\"alg\":\"EdDSA\", \"kid\" : \"ZZ01:1\"}", payload, 1, jws, sizeof jws);
    assert_int_equal(sw_jws_verify_detached(jws, strlen(jws), payload, strlen(payload), pub, NULL,
                                            err, sizeof err),
                     SW_OK); /* whitespace: signed bytes are the received bytes */
    static const struct {
        const char *hdr;
        int b64;
        const char *why;
    } bad[] = {
        {"{\"alg\":\"none\",\"kid\":\"ZZ01:1\"}", 1, "alg 'none'"},
        {"{\"alg\":\"HS256\",\"kid\":\"ZZ01:1\"}", 1, "alg 'HS256'"},
        {"{\"alg\":\"ES256\",\"kid\":\"ZZ01:1\"}", 1, "alg 'ES256'"},
        {"{\"alg\":\"eddsa\",\"kid\":\"ZZ01:1\"}", 1, "alg 'eddsa'"},
        {"{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\"}", 1, "duplicate"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"kid\":\"ZZ01:1\"}", 1, "duplicate"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"b64\":false}", 0, "b64 without crit"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"crit\":[\"b64\"]}", 1, "absent"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"b64\":false,\"crit\":[\"b64\",\"exp\"]}", 0,
         "crit"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"b64\":false,\"crit\":[\"zip\"]}", 0, "crit"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"b64\":\"false\",\"crit\":[\"b64\"]}", 0,
         "boolean"},
        {"{\"alg\":\"EdDSA\"}", 1, "kid"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"jwk\":{}}", 1, "not allowed"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\",\"jku\":\"https://x/\"}", 1, "not allowed"},
        {"[\"alg\",\"EdDSA\"]", 1, "object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        raw_sign(bad[i].hdr, payload, bad[i].b64, jws, sizeof jws);
        err[0] = '\0';
        int rc = sw_jws_verify_detached(jws, strlen(jws), payload, strlen(payload), pub, NULL,
                                        err, sizeof err);
        if (rc != SW_EINVAL || !strstr(err, bad[i].why))
            fail_msg("%s: rc %d err '%s' (want '%s')", bad[i].hdr, rc, err, bad[i].why);
    }
    /* unknown kid, non-detached form, damaged signature */
    raw_sign("{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:2\"}", payload, 1, jws, sizeof jws);
    assert_int_equal(sw_jws_verify_detached(jws, strlen(jws), payload, strlen(payload), pub, NULL,
                                            err, sizeof err),
                     SW_ENOTFOUND);
    raw_sign("{\"alg\":\"EdDSA\",\"kid\":\"ZZ01:1\"}", payload, 1, jws, sizeof jws);
    char attached[2100];
    char *dd = strstr(jws, "..");
    snprintf(attached, sizeof attached, "%.*s.eyJhIjoxfQ.%s", (int)(dd - jws), jws, dd + 2);
    assert_int_equal(sw_jws_verify_detached(attached, strlen(attached), payload, strlen(payload),
                                            pub, NULL, err, sizeof err),
                     SW_EINVAL);
    size_t l = strlen(jws);
    jws[l - 5] = jws[l - 5] == 'A' ? 'B' : 'A';
    assert_int_equal(sw_jws_verify_detached(jws, l, payload, strlen(payload), pub, NULL, err,
                                            sizeof err),
                     SW_EAUTH);
    sw_jwks_free(pub);
}

static void test_keygen_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-exch-XXXXXX", path[256], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/k.pem", dir);
    sw_jws_key *k = sw_jws_key_generate("OP-A:2026-12");
    assert_non_null(k);
    assert_null(sw_jws_key_generate("bad kid"));
    assert_int_equal(sw_jws_key_write_private(k, path, err, sizeof err), SW_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never over an existing file */
    assert_int_equal(sw_jws_key_write_private(k, path, err, sizeof err), SW_EIO);
    sw_jws_key *k2 = sw_jws_key_load(path, "OP-A:2026-12", err, sizeof err);
    assert_non_null(k2);
    char *jwks = sw_jws_key_public_jwks(k);
    assert_non_null(jwks);
    assert_non_null(strstr(jwks, "\"kid\":\"OP-A:2026-12\""));
    assert_null(strstr(jwks, "\"d\""));
    sw_jwks *pub = sw_jwks_parse(jwks, strlen(jwks), err, sizeof err);
    assert_non_null(pub);
    const char *msg = "payload";
    char sig[SW_FSE_SIG_MAX];
    assert_int_equal(sw_jws_sign_detached(k2, SW_JWS_EDDSA, 0, msg, 7, sig), SW_OK);
    assert_int_equal(sw_jws_verify_detached(sig, strlen(sig), msg, 7, pub, NULL, err, sizeof err),
                     SW_OK);
    /* a different key with the same kid does not verify */
    sw_jws_key *other = sw_jws_key_generate("OP-A:2026-12");
    assert_int_equal(sw_jws_sign_detached(other, SW_JWS_EDDSA, 0, msg, 7, sig), SW_OK);
    assert_int_equal(sw_jws_verify_detached(sig, strlen(sig), msg, 7, pub, NULL, err, sizeof err),
                     SW_EAUTH);
    sw_jws_key_free(other);
    sw_jwks_free(pub);
    free(jwks);
    sw_jws_key_free(k2);
    sw_jws_key_free(k);
    unlink(path);
    rmdir(dir);
}

static void test_jwks_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}", "{\"keys\":[]}", "[]",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"X25519\",\"kid\":\"a\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\",\"x\":\"AAAA\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
        "\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
        "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\",\"alg\":\"ES256\","
        "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_jwks *s = sw_jwks_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (s)
            fail_msg("accepted: %s", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_own),      cmocka_unit_test(test_golden_corpus),
        cmocka_unit_test(test_header_rules),    cmocka_unit_test(test_keygen_roundtrip),
        cmocka_unit_test(test_jwks_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
