/* The login limiter (src/admin/limiter.c) and the credential
 * (src/admin/cred.c): refusals before hashing, per source and overall,
 * the concurrency cap, the bounded table; a token made once, kept as
 * Argon2id, verified, refused when wrong, files with loose modes refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sipwall/admin.h"

#define S INT64_C(1000000000)
#define T0 (INT64_C(1796000000) * S)

static sw_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    sw_addr x;
    memset(&x, 0, sizeof x);
    x.family = 4;
    x.ip[0] = a, x.ip[1] = b, x.ip[2] = c, x.ip[3] = d;
    return x;
}

static void test_per_source(void **st)
{
    (void)st;
    sw_admin_limits l = {.burst = 5, .per_min = 12, .global_per_s = 1000, .max_concurrent = 10};
    sw_admin_limiter *lim = sw_admin_limiter_new(&l);
    assert_non_null(lim);
    sw_addr a = ip4(192, 0, 2, 1), b = ip4(192, 0, 2, 2);
    /* burst 5 failures, then refused */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(sw_admin_limiter_take(lim, &a, T0 + i), SW_OK);
        sw_admin_limiter_done(lim, &a, 0);
    }
    assert_int_equal(sw_admin_limiter_take(lim, &a, T0 + 10), SW_ELIMIT);
    /* another source is not affected */
    assert_int_equal(sw_admin_limiter_take(lim, &b, T0 + 10), SW_OK);
    sw_admin_limiter_done(lim, &b, 0);
    /* 12 a minute: one more after 5 s, not before */
    assert_int_equal(sw_admin_limiter_take(lim, &a, T0 + 4 * S), SW_ELIMIT);
    assert_int_equal(sw_admin_limiter_take(lim, &a, T0 + 5 * S + 1000), SW_OK);
    sw_admin_limiter_done(lim, &a, 0);
    assert_int_equal(sw_admin_limiter_take(lim, &a, T0 + 5 * S + 2000), SW_ELIMIT);
    /* a steady 100 attempts a second for a minute get 5 + 12 through */
    sw_addr c = ip4(192, 0, 2, 3);
    int through = 0;
    for (int i = 0; i < 6000; i++) {
        if (sw_admin_limiter_take(lim, &c, T0 + 100 * S + (int64_t)i * (S / 100)) == SW_OK) {
            through++;
            sw_admin_limiter_done(lim, &c, 0);
        }
    }
    assert_in_range(through, 5 + 11, 5 + 12);
    sw_admin_limiter_stats_get(lim, &(sw_admin_limiter_stats){0});
    sw_admin_limiter_free(lim);
}

static void test_success_gives_back(void **st)
{
    (void)st;
    sw_admin_limits l = {.burst = 2, .per_min = 1, .global_per_s = 1000, .max_concurrent = 10};
    sw_admin_limiter *lim = sw_admin_limiter_new(&l);
    sw_addr a = ip4(198, 51, 100, 1);
    /* a legitimate client logging in again and again is never throttled */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(sw_admin_limiter_take(lim, &a, T0 + i), SW_OK);
        sw_admin_limiter_done(lim, &a, 1);
    }
    sw_admin_limiter_free(lim);
}

static void test_ipv6_by_64(void **st)
{
    (void)st;
    sw_admin_limits l = {.burst = 3, .per_min = 1, .global_per_s = 1000, .max_concurrent = 10};
    sw_admin_limiter *lim = sw_admin_limiter_new(&l);
    sw_addr a;
    memset(&a, 0, sizeof a);
    a.family = 6;
    a.ip[0] = 0x20, a.ip[1] = 0x01, a.ip[2] = 0x0d, a.ip[3] = 0xb8;
    /* every address of one /64 is one source */
    for (int i = 0; i < 3; i++) {
        a.ip[15] = (uint8_t)i;
        assert_int_equal(sw_admin_limiter_take(lim, &a, T0), SW_OK);
        sw_admin_limiter_done(lim, &a, 0);
    }
    a.ip[15] = 200;
    assert_int_equal(sw_admin_limiter_take(lim, &a, T0), SW_ELIMIT);
    a.ip[7] = 1; /* another /64 */
    assert_int_equal(sw_admin_limiter_take(lim, &a, T0), SW_OK);
    sw_admin_limiter_done(lim, &a, 0);
    sw_admin_limiter_free(lim);
}

static void test_global_and_concurrency(void **st)
{
    (void)st;
    sw_admin_limits l = {.burst = 100, .per_min = 60, .global_per_s = 10, .max_concurrent = 2};
    sw_admin_limiter *lim = sw_admin_limiter_new(&l);
    /* many sources: the global rate still caps hashing at 10 a second */
    int ok = 0;
    for (int i = 0; i < 1000; i++) {
        sw_addr a = ip4(10, 0, (uint8_t)(i >> 8), (uint8_t)i);
        if (sw_admin_limiter_take(lim, &a, T0) == SW_OK) {
            ok++;
            sw_admin_limiter_done(lim, &a, 0);
        }
    }
    assert_int_equal(ok, 10);
    sw_admin_limiter_stats s;
    sw_admin_limiter_stats_get(lim, &s);
    assert_int_equal(s.refused_global, 990);
    /* two verifications at once, a third refused until one is done */
    sw_addr a = ip4(10, 1, 0, 1), b = ip4(10, 1, 0, 2), c = ip4(10, 1, 0, 3);
    int64_t t = T0 + 10 * S;
    assert_int_equal(sw_admin_limiter_take(lim, &a, t), SW_OK);
    assert_int_equal(sw_admin_limiter_take(lim, &b, t), SW_OK);
    assert_int_equal(sw_admin_limiter_take(lim, &c, t), SW_ELIMIT);
    sw_admin_limiter_done(lim, &a, 0);
    assert_int_equal(sw_admin_limiter_take(lim, &c, t), SW_OK);
    sw_admin_limiter_done(lim, &b, 0);
    sw_admin_limiter_done(lim, &c, 0);
    sw_admin_limiter_stats_get(lim, &s);
    assert_int_equal(s.refused_busy, 1);
    sw_admin_limiter_free(lim);
}

static void test_table_bounded(void **st)
{
    (void)st;
    sw_admin_limits l = {.capacity = 16, .burst = 1, .per_min = 1, .global_per_s = 100000, .max_concurrent = 4};
    sw_admin_limiter *lim = sw_admin_limiter_new(&l);
    for (int i = 0; i < 1000; i++) {
        sw_addr a = ip4(10, 2, (uint8_t)(i >> 8), (uint8_t)i);
        if (sw_admin_limiter_take(lim, &a, T0 + i) == SW_OK)
            sw_admin_limiter_done(lim, &a, 0);
    }
    sw_admin_limiter_stats s;
    sw_admin_limiter_stats_get(lim, &s);
    assert_int_equal(s.evictions, 1000 - 16);
    sw_admin_limiter_free(lim);
}

static void test_credential(void **st)
{
    (void)st;
    char dir[] = "/tmp/sw_cred_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[300], tok[SW_ADMIN_TOKEN_LEN + 1], tok2[SW_ADMIN_TOKEN_LEN + 1];
    snprintf(path, sizeof path, "%s/admin.hash", dir);
    sw_admin_cred *c = sw_admin_cred_open(path, tok, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(strlen(tok), SW_ADMIN_TOKEN_LEN); /* 256 bits, base64url */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    char line[200] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_memory_equal(line, "$argon2id$", 10);
    assert_null(strstr(line, tok));
    assert_true(sw_admin_cred_costly(c, tok, strlen(tok)));
    assert_int_equal(sw_admin_cred_verify(c, tok, strlen(tok)), 1);
    assert_false(sw_admin_cred_costly(c, tok, strlen(tok))); /* cached */
    assert_int_equal(sw_admin_cred_verify(c, tok, strlen(tok)), 1);
    assert_int_equal(sw_admin_cred_verify(c, tok, strlen(tok) - 1), 0);
    assert_int_equal(sw_admin_cred_verify(c, "", 0), 0);
    char wrong[SW_ADMIN_TOKEN_LEN + 1];
    memcpy(wrong, tok, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_true(sw_admin_cred_costly(c, wrong, strlen(wrong)));
    assert_int_equal(sw_admin_cred_verify(c, wrong, strlen(wrong)), 0);
    sw_admin_cred_free(c);
    /* a second open loads the hash: no new token, the old one still works */
    c = sw_admin_cred_open(path, tok2, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(tok2, "");
    assert_int_equal(sw_admin_cred_verify(c, tok, strlen(tok)), 1);
    sw_admin_cred_free(c);
    /* group-readable: refused */
    chmod(path, 0640);
    assert_null(sw_admin_cred_open(path, tok2, err, sizeof err));
    assert_non_null(strstr(err, "chmod 600"));
    /* not an Argon2id string: refused */
    chmod(path, 0600);
    f = fopen(path, "w");
    fputs("$2y$10$abcdefghijklmnopqrstuv\n", f);
    fclose(f);
    assert_null(sw_admin_cred_open(path, tok2, err, sizeof err));
    assert_non_null(strstr(err, "Argon2id"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_source),     cmocka_unit_test(test_success_gives_back),
        cmocka_unit_test(test_ipv6_by_64),     cmocka_unit_test(test_global_and_concurrency),
        cmocka_unit_test(test_table_bounded),  cmocka_unit_test(test_credential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
