/* The HTML report: every section of spec §5 from a report JSON, escaped
 * evidence (no markup from the target reaches the page), masked passwords
 * (listed secrets, Basic credentials, digest responses, password=), no
 * script and no external resource, the top gap first, a bad report
 * refused, a partial one still rendered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sipwall/assess.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

static void test_sections(void **state)
{
    (void)state;
    char *js = slurp(SW_TEST_DATA "/assess/report-sample.json");
    char err[128] = "";
    char *h = sw_assess_report_html(js, err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    const char *ids[] = {"id=\"summary\"", "id=\"controls\"", "id=\"findings\"", "id=\"questionnaire\"",
                         "id=\"en303645\"", "id=\"method\"", "id=\"top-gaps\"", "<svg", "<details>"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (!strstr(h, ids[i]))
            fail_msg("missing %s", ids[i]);
    /* the worst failure is the first top gap */
    const char *gaps = strstr(h, "id=\"top-gaps\"");
    const char *first = strstr(gaps, "<li>");
    assert_non_null(first);
    assert_true(strstr(first, "NET-TELNET-01") < strstr(first, "</li>"));
    assert_true(strstr(gaps, "NET-SSH-01") > strstr(gaps, "NET-DEFCRED-01"));
    /* target bytes are escaped, never markup */
    assert_null(strstr(h, "<script"));
    assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(h, "\\x18"));
    /* passwords masked: the listed secret, the Basic credentials, password= in options */
    assert_null(strstr(h, "s3cretpw"));
    assert_null(strstr(h, "YWRtaW46czNjcmV0cHc="));
    assert_non_null(strstr(h, "Authorization: Basic ****"));
    assert_null(strstr(h, "password1"));
    /* no external resource: the only URL is the SVG namespace; the evidence url is text */
    const char *p = h;
    while ((p = strstr(p, "://")) != NULL) {
        if (p - h >= 4 && (!strncmp(p - 4, "http://www.w3.org/2000/svg\"", 27) ||
                           (p - h >= 5 && !strncmp(p - 5, "https://example.com/vdp<", 24)))) {
            p += 3;
            continue;
        }
        fail_msg("unexpected URL near: %.60s", p - 8);
    }
    assert_null(strstr(h, "href="));
    assert_null(strstr(h, "src="));
    assert_null(strstr(h, "url("));
    assert_null(strstr(h, "@import"));
    assert_null(strstr(h, "href=\"https://example.com"));
    assert_null(strstr(h, "src=\"http"));
    /* contradiction highlighted in the questionnaire and on the finding */
    assert_non_null(strstr(h, "<tr class=\"contra\"><td>Q-NET-01"));
    assert_non_null(strstr(h, "class=\"finding r-fail contra\" id=\"f-NET-TELNET-01\""));
    /* the provision matrix lists 5.5-1 before 5.5-7 and 5.6-1 after */
    const char *m = strstr(h, "id=\"en303645\"");
    assert_true(strstr(m, "<td>5.5-1</td>") < strstr(m, "<td>5.5-7</td>"));
    assert_true(strstr(m, "<td>5.5-7</td>") < strstr(m, "<td>5.6-1</td>"));
    free(h);
    free(js);
}

static void test_bad_and_partial(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(sw_assess_report_html("{not json", err, sizeof err));
    assert_non_null(strstr(err, "report JSON"));
    assert_null(sw_assess_report_html("[1,2]", err, sizeof err));
    char *h = sw_assess_report_html("{\"findings\":[{\"id\":\"X\",\"result\":\"fail\",\"severity\":\"bogus\\\"><b>\","
                                    "\"controls\":[\"C9\"],\"summary\":\"a\\u0000b\"}]}",
                                    err, sizeof err);
    assert_non_null(h);
    assert_null(strstr(h, "bogus\"><b>"));
    assert_non_null(strstr(h, "a\\x00b"));
    assert_non_null(strstr(h, "<h3>Other</h3>"));
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_bad_and_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
