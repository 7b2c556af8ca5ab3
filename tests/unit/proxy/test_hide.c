/* Sealed tokens (sw_hide), base64url and SipHash for the proxy core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "proxy/proxy_int.h"
#include "proxy/siphash.h"
#include "sipwall/proxy.h"

static const uint8_t key_a[SW_HIDE_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t key_b[SW_HIDE_KEY_LEN] = {32, 31, 30, 29};

static int is_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return 0;
    }
    return 1;
}

static void test_round_trip(void **state)
{
    (void)state;
    sw_hide *h = sw_hide_new(key_a);
    assert_non_null(h);
    /* lengths around the base64 group and the chunk boundaries */
    static const size_t lens[] = {0, 1, 2, 3, 4, 5, 47, 383, 384, 385, 1000, 4096, 65536};
    char *pt = malloc(65536), *tok = malloc(100000), *back = malloc(65536);
    assert_non_null(pt);
    assert_non_null(tok);
    assert_non_null(back);
    for (size_t i = 0; i < 65536; i++)
        pt[i] = (char)(i * 7 + 3);
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = lens[k];
        for (uint8_t purpose = SW_HIDE_VIA; purpose <= SW_HIDE_CALL_ID; purpose++) {
            long tl = sw_hide_seal(h, purpose, pt, n, tok, 100000);
            assert_true(tl > 0);
            assert_int_equal((size_t)tl, sw_hide_token_len(n));
            assert_int_equal(strlen(tok), (size_t)tl);
            assert_true(is_b64url(tok, (size_t)tl));
            long bl = sw_hide_open(h, purpose, tok, (size_t)tl, back, 65536);
            assert_int_equal(bl, (long)n);
            assert_memory_equal(back, pt, n);
        }
    }
    /* longer than SW_HIDE_MAX_PLAINTEXT is refused */
    char *big = calloc(1, SW_HIDE_MAX_PLAINTEXT + 1);
    assert_non_null(big);
    assert_int_equal(sw_hide_seal(h, SW_HIDE_VIA, big, SW_HIDE_MAX_PLAINTEXT + 1, tok, 100000), SW_ELIMIT);
    free(big);
    free(pt);
    free(tok);
    free(back);
    sw_hide_free(h);
}

static void test_deterministic(void **state)
{
    (void)state;
    sw_hide *h1 = sw_hide_new(key_a), *h2 = sw_hide_new(key_a);
    assert_non_null(h1);
    assert_non_null(h2);
    const char *cid = "c1-7f3e2a9b4c@pcscf2.ims.mnc002.mcc001.3gppnetwork.org";
    char t1[256], t2[256], t3[256], t4[256];
    assert_true(sw_hide_seal(h1, SW_HIDE_CALL_ID, cid, strlen(cid), t1, sizeof t1) > 0);
    assert_true(sw_hide_seal(h1, SW_HIDE_CALL_ID, cid, strlen(cid), t2, sizeof t2) > 0);
    assert_true(sw_hide_seal(h2, SW_HIDE_CALL_ID, cid, strlen(cid), t3, sizeof t3) > 0);
    assert_string_equal(t1, t2); /* same key, same value: same token */
    assert_string_equal(t1, t3); /* another sw_hide with the key (another worker) too */
    /* another purpose or another value: another token (and another IV) */
    assert_true(sw_hide_seal(h1, SW_HIDE_CONTACT, cid, strlen(cid), t4, sizeof t4) > 0);
    assert_string_not_equal(t1, t4);
    assert_memory_not_equal(t1, t4, 16);
    assert_true(sw_hide_seal(h1, SW_HIDE_CALL_ID, "x", 1, t4, sizeof t4) > 0);
    assert_memory_not_equal(t1, t4, 16);
    sw_hide_free(h1);
    sw_hide_free(h2);
}

static void test_rejects(void **state)
{
    (void)state;
    sw_hide *h = sw_hide_new(key_a), *other = sw_hide_new(key_b);
    assert_non_null(h);
    assert_non_null(other);
    const char *v = "<sip:scscf1.core.example:5060;lr>,<sip:10.1.0.2;lr>";
    char tok[512], back[512];
    long tl = sw_hide_seal(h, SW_HIDE_RR, v, strlen(v), tok, sizeof tok);
    assert_true(tl > 0);
    /* another purpose, another key */
    assert_int_equal(sw_hide_open(h, SW_HIDE_VIA, tok, (size_t)tl, back, sizeof back), SW_EAUTH);
    assert_int_equal(sw_hide_open(other, SW_HIDE_RR, tok, (size_t)tl, back, sizeof back), SW_EAUTH);
    /* every single-character change anywhere is caught */
    for (long i = 0; i < tl; i++) {
        char t[512];
        memcpy(t, tok, (size_t)tl);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        long r = sw_hide_open(h, SW_HIDE_RR, t, (size_t)tl, back, sizeof back);
        /* the last character may carry unused bits: then it is not canonical */
        assert_true(r == SW_EAUTH || r == SW_EINVAL);
    }
    /* truncated and extended */
    long cut = sw_hide_open(h, SW_HIDE_RR, tok, (size_t)tl - 4, back, sizeof back);
    assert_true(cut == SW_EAUTH || cut == SW_EINVAL); /* the new last character may carry bits */
    size_t whole = ((size_t)tl / 4 - 1) * 4; /* whole groups: canonical, so only the tag fails */
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, tok, whole, back, sizeof back), SW_EAUTH);
    char ext[520];
    memcpy(ext, tok, (size_t)tl);
    memcpy(ext + tl, "AAAA", 4);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, ext, (size_t)tl + 4, back, sizeof back), SW_EAUTH);
    /* bad base64url: alphabet, length, padding, non-zero unused bits */
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "abc=", 4, back, sizeof back), SW_EINVAL);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "ab+d", 4, back, sizeof back), SW_EINVAL);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "abcde", 5, back, sizeof back), SW_EINVAL);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "ab.d", 4, back, sizeof back), SW_EINVAL);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "AB", 2, back, sizeof back), SW_EINVAL); /* B: bits set */
    /* too short to be a token */
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "AAAA", 4, back, sizeof back), SW_EAUTH);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, "", 0, back, sizeof back), SW_EAUTH);
    /* output too small; and it still opens with room */
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, tok, (size_t)tl, back, strlen(v) - 1), SW_ELIMIT);
    assert_int_equal(sw_hide_open(h, SW_HIDE_RR, tok, (size_t)tl, back, strlen(v)), (long)strlen(v));
    /* seal needs room for the token and its NUL */
    char small[512];
    size_t need = sw_hide_token_len(strlen(v));
    assert_int_equal(sw_hide_seal(h, SW_HIDE_RR, v, strlen(v), small, need), SW_ELIMIT);
    assert_int_equal(sw_hide_seal(h, SW_HIDE_RR, v, strlen(v), small, need + 1), (long)need);
    assert_int_equal(sw_hide_seal(h, SW_HIDE_RR, v, strlen(v), small, 0), SW_ELIMIT);
    sw_hide_free(h);
    sw_hide_free(other);
}

/* The token cache: with far more values than slots, a token from the cache
 * is byte for byte the one a fresh sw_hide (empty cache) makes, and opens to
 * the same plaintext; a cached token altered by one character still fails. */
static void test_cache_exact(void **state)
{
    (void)state;
    sw_hide *h = sw_hide_new(key_a);
    assert_non_null(h);
    char pt[64], tok[256], tok2[256], back[128];
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 5000; i++) {
            int n = snprintf(pt, sizeof pt, "<sip:10.%u.%u.1:5060;lr>", i / 250, i % 250);
            long t = sw_hide_seal(h, SW_HIDE_RR, pt, (size_t)n, tok, sizeof tok);
            assert_true(t > 0);
            sw_hide *fresh = round == 1 && i % 500 == 0 ? sw_hide_new(key_a) : NULL;
            if (fresh) {
                long t2 = sw_hide_seal(fresh, SW_HIDE_RR, pt, (size_t)n, tok2, sizeof tok2);
                assert_int_equal(t, t2);
                assert_memory_equal(tok, tok2, (size_t)t);
                sw_hide_free(fresh);
            }
            long b = sw_hide_open(h, SW_HIDE_RR, tok, (size_t)t, back, sizeof back);
            assert_int_equal(b, n);
            assert_memory_equal(back, pt, (size_t)n);
            /* the same token as another purpose, or altered, never comes from the cache */
            assert_int_equal(sw_hide_open(h, SW_HIDE_CONTACT, tok, (size_t)t, back, sizeof back), SW_EAUTH);
            tok[t / 2] = tok[t / 2] == 'A' ? 'B' : 'A';
            assert_int_equal(sw_hide_open(h, SW_HIDE_RR, tok, (size_t)t, back, sizeof back), SW_EAUTH);
        }
    }
    sw_hide_free(h);
}

static void test_b64url(void **state)
{
    (void)state;
    /* RFC 4648 §10 vectors, unpadded, in the URL alphabet */
    static const char *const vec[][2] = {{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char out[16];
        uint8_t back[16];
        size_t n = strlen(vec[i][0]);
        size_t m = sw__b64url_encode((const uint8_t *)vec[i][0], n, out);
        assert_int_equal(m, strlen(vec[i][1]));
        assert_int_equal(m, sw__b64url_len(n));
        assert_memory_equal(out, vec[i][1], m);
        assert_int_equal(sw__b64url_decode(out, m, back, sizeof back), (long)n);
        assert_memory_equal(back, vec[i][0], n);
    }
    const uint8_t bin[3] = {0xfb, 0xff, 0xbf};
    char out[8];
    assert_int_equal(sw__b64url_encode(bin, 3, out), 4);
    assert_memory_equal(out, "-_-_", 4);
    uint8_t back[2];
    assert_int_equal(sw__b64url_decode("Zm9v", 4, back, 2), SW_ELIMIT);
}

static void test_siphash(void **state)
{
    (void)state;
    /* The paper's vector: key 00..0f, message 00..0e. */
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    sw__siphash s;
    sw__siphash_init(&s, key);
    sw__siphash_update(&s, msg, 15);
    assert_true(sw__siphash_final(&s) == 0xa129ca6149be45e5ULL);

    /* Every length 0..63, whole and split in two, against OpenSSL's SipHash. */
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    assert_non_null(mac);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    assert_non_null(ctx);
    size_t outsize = 8;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outsize),
                           OSSL_PARAM_construct_end()};
    for (size_t n = 0; n < 64; n++) {
        uint8_t ref[8];
        size_t rl = 0;
        assert_int_equal(EVP_MAC_init(ctx, key, 16, params), 1);
        assert_int_equal(EVP_MAC_update(ctx, msg, n), 1);
        assert_int_equal(EVP_MAC_final(ctx, ref, &rl, sizeof ref), 1);
        assert_int_equal(rl, 8);
        uint64_t want = 0;
        for (int i = 7; i >= 0; i--)
            want = want << 8 | ref[i];
        for (size_t cut = 0; cut <= n; cut += (n > 9 ? n / 3 : 1)) {
            sw__siphash_init(&s, key);
            sw__siphash_update(&s, msg, cut);
            sw__siphash_update(&s, msg + cut, n - cut);
            assert_true(sw__siphash_final(&s) == want);
        }
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_rejects),    cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_siphash),    cmocka_unit_test(test_cache_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
