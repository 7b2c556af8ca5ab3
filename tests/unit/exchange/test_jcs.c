/* RFC 8785 canonicalisation: the Appendix B numbers, our own vector
 * (UTF-16 member order with a non-BMP name against U+FB33, escapes,
 * numbers), refusals (duplicates, lone surrogates, bounds), and, when the
 * shared corpus is present, the JCS author's vectors byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "helpers.h"
#include "sipwall/exchange.h"

static void test_numbers_appendix_b(void **state)
{
    (void)state;
    size_t len;
    char *t = xread(SW_TEST_DATA "/exchange/jcs-numbers.tsv", &len);
    assert_non_null(t);
    int rows = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        uint64_t bits = strtoull(line, NULL, 16);
        double v;
        memcpy(&v, &bits, sizeof v);
        char buf[32];
        int n = sw_jcs_number(v, buf);
        if (strcmp(tab + 1, "error") == 0) {
            assert_int_equal(n, SW_EINVAL);
        } else {
            assert_true(n > 0);
            assert_string_equal(buf, tab + 1);
        }
        rows++;
    }
    assert_int_equal(rows, 26);
    free(t);
}

static void check_file(const char *in, const char *out)
{
    size_t il, ol, cl;
    char *i = xread(in, &il), *o = xread(out, &ol), err[128];
    assert_non_null(i);
    assert_non_null(o);
    char *c = sw_jcs(i, il, &cl, err, sizeof err);
    if (!c)
        fail_msg("%s: %s", in, err);
    if (cl != ol || memcmp(c, o, ol) != 0)
        fail_msg("%s:\n got %.*s\nwant %.*s", in, (int)cl, c, (int)ol, o);
    free(c);
    free(i);
    free(o);
}

static void test_own_vector(void **state)
{
    (void)state;
    check_file(SW_TEST_DATA "/exchange/jcs/order.in", SW_TEST_DATA "/exchange/jcs/order.out");
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"a\":1,\"a\":2}",         /* duplicate (I-JSON) */
        "[\"\\ud800\"]",             /* lone high surrogate */
        "[\"\\udc00x\"]",            /* lone low surrogate */
        "[1e400]",                   /* Infinity */
        "[NaN]", "{\"a\":1", "[1,]", "\"\xff\"", /* not JSON / not UTF-8 */
    };
    char err[128];
    size_t len;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        char *c = sw_jcs(bad[i], strlen(bad[i]), &len, err, sizeof err);
        if (c)
            fail_msg("accepted %s -> %s", bad[i], c);
        assert_true(err[0] != '\0');
    }
    /* bounded input */
    size_t big = (1u << 20) + 1;
    char *b = malloc(big);
    memset(b, ' ', big);
    b[0] = '1';
    assert_null(sw_jcs(b, big, &len, err, sizeof err));
    free(b);
}

static void test_sort_is_utf16(void **state)
{
    (void)state;
    /* UTF-8 byte order would put U+FB33 (EF AC B3) before U+1F602 (F0 9F 98 82). */
    const char *in = "{\"\xef\xac\xb3\":1,\"\xf0\x9f\x98\x82\":2}";
    size_t len;
    char *c = sw_jcs(in, strlen(in), &len, NULL, 0);
    assert_non_null(c);
    assert_string_equal(c, "{\"\xf0\x9f\x98\x82\":2,\"\xef\xac\xb3\":1}");
    free(c);
}

static void test_corpus_vectors(void **state)
{
    (void)state;
    static const char *const names[] = {"arrays", "french", "structures", "unicode", "values",
                                        "weird"};
    char in[1024], out[1024];
    snprintf(in, sizeof in, "%s/interop/jcs/input/arrays.json", SW_SHARED_CORPUS);
    FILE *probe = fopen(in, "r");
    if (!probe) {
        printf("shared corpus absent: JCS author vectors not run\n");
        return;
    }
    fclose(probe);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(in, sizeof in, "%s/interop/jcs/input/%s.json", SW_SHARED_CORPUS, names[i]);
        snprintf(out, sizeof out, "%s/interop/jcs/output/%s.json", SW_SHARED_CORPUS, names[i]);
        check_file(in, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_appendix_b), cmocka_unit_test(test_own_vector),
        cmocka_unit_test(test_refusals),           cmocka_unit_test(test_sort_is_utf16),
        cmocka_unit_test(test_corpus_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
