/* sw_policy.sha256: the SHA-256 over every text the policy was read from
 * (length-prefixed, in reading order), which sipwalld's config.start and
 * config.reload events name.  It equals the hash computed independently
 * for the built-in default and for one text; it changes when an included
 * file changes although the top-level file does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "sipwall/policy.h"

/* SHA-256 of the 8-byte big-endian length followed by the text. */
static void expect_hash(const char *text, size_t len, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    uint8_t n[8];
    for (int i = 0; i < 8; i++)
        n[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, n, 8);
    crypto_hash_sha256_update(&st, (const unsigned char *)text, len);
    crypto_hash_sha256_final(&st, out);
}

static sw_policy *load_paths(const char *const *paths, size_t n)
{
    sw_policy *p = NULL;
    sw_policy_diags *d = calloc(1, sizeof *d);
    assert_non_null(d);
    int rc = sw_policy_load(paths, n, &p, d);
    if (rc != SW_OK) {
        char line[600];
        if (d->n && sw_policy_diag_format(&d->d[0], line, sizeof line) > 0)
            fail_msg("%s", line);
        fail_msg("load: %d", rc);
    }
    free(d);
    return p;
}

static void test_builtin_and_text(void **state)
{
    (void)state;
    size_t len;
    const char *text = sw_policy_default_text(&len);
    uint8_t want[32];
    expect_hash(text, len, want);
    static const char *const builtin[] = {"builtin:default"};
    sw_policy *p = load_paths(builtin, 1);
    assert_memory_equal(p->sha256, want, 32);
    sw_policy_free(p);

    sw_policy_diags *d = calloc(1, sizeof *d);
    assert_non_null(d);
    assert_int_equal(sw_policy_load_text("t.policy", text, len, NULL, &p, d), SW_OK);
    assert_memory_equal(p->sha256, want, 32);
    sw_policy_free(p);
    free(d);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_include_changes_hash(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-policy-hash-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char top[128], inc[128];
    snprintf(top, sizeof top, "%s/main.policy", dir);
    snprintf(inc, sizeof inc, "%s/partners.policy", dir);
    const char *top_text = "include \"partners.policy\"\n";
    const char *inc1 = "partner alpha { role interconnect; address 192.0.2.10/32 }\n";
    const char *inc2 = "partner alpha { role interconnect; address 192.0.2.11/32 }\n";
    write_file(top, top_text);
    write_file(inc, inc1);
    const char *const paths[] = {"builtin:default", top};
    sw_policy *a = load_paths(paths, 2);
    sw_policy *a2 = load_paths(paths, 2);
    assert_memory_equal(a->sha256, a2->sha256, 32); /* the same texts, the same hash */
    write_file(inc, inc2);
    sw_policy *b = load_paths(paths, 2);
    assert_memory_not_equal(a->sha256, b->sha256, 32);
    /* the hash covers the top-level file too: not just the include */
    size_t dlen;
    const char *dtext = sw_policy_default_text(&dlen);
    uint8_t only_default[32];
    expect_hash(dtext, dlen, only_default);
    assert_memory_not_equal(b->sha256, only_default, 32);
    sw_policy_free(a);
    sw_policy_free(a2);
    sw_policy_free(b);
    unlink(top);
    unlink(inc);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_and_text),
        cmocka_unit_test(test_include_changes_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
