/* The questionnaire: the template of every profile loads back, evidence
 * files are hashed relative to the questionnaire (a missing one, an
 * absolute path, ".." or a wrong sha256 is an error naming the line),
 * line-numbered errors for bad values, and every merge rule of spec §4. */
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
#include <jansson.h>

#include "sipwall/assess.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sw-q-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/ev", tmpdir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/ev/boot.txt", tmpdir);
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs("abc", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static sw_assess_questionnaire *parse(const char *text, char *err, size_t errlen)
{
    return sw_assess_questionnaire_parse(text, strlen(text), "q.yaml", tmpdir, err, errlen);
}

static char *template_text(sw_assess_profile p, size_t *len)
{
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    assert_non_null(m);
    sw_assess_questionnaire_template(p, m);
    fclose(m);
    return buf;
}

static void test_template_loads(void **state)
{
    (void)state;
    const sw_assess_profile ps[] = {SW_ASSESS_PROFILE_IOT, SW_ASSESS_PROFILE_SBC, SW_ASSESS_PROFILE_SIP_SERVICE};
    size_t counts[3];
    for (int i = 0; i < 3; i++) {
        size_t len;
        char *t = template_text(ps[i], &len);
        char err[256] = "";
        sw_assess_questionnaire *q = sw_assess_questionnaire_parse(t, len, "t.yaml", tmpdir, err, sizeof err);
        if (!q)
            fail_msg("template %d: %s", i, err);
        counts[i] = sw_assess_questionnaire_nanswers(q);
        /* every control C1..C7 appears, each item has checked_by and EN refs */
        for (int c = 1; c <= 7; c++) {
            char needle[32];
            snprintf(needle, sizeof needle, "control: C%d\n", c);
            assert_non_null(strstr(t, needle));
        }
        assert_non_null(strstr(t, "checked_by: [SIP-CRED-01, NET-DEFCRED-01]"));
        assert_non_null(strstr(t, "en: [\"5.7-2\", \"5.10-1\"]"));
        /* nothing claimed: every item unknown with basis none */
        sw_assess_merged m[256];
        size_t n = sw_assess_questionnaire_merge(q, NULL, 0, m, 256);
        assert_int_equal(n, counts[i]);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(m[j].result, SW_ASSESS_UNKNOWN);
            assert_int_equal(m[j].basis, SW_ASSESS_BASIS_NONE);
        }
        if (ps[i] == SW_ASSESS_PROFILE_IOT)
            assert_null(strstr(t, "Q-NET-02"));
        else
            assert_non_null(strstr(t, "Q-NET-02"));
        assert_int_equal(strstr(t, "Q-NET-05") != NULL, ps[i] == SW_ASSESS_PROFILE_SBC);
        sw_assess_questionnaire_free(q);
        free(t);
    }
    assert_true(counts[1] > counts[0]);
}

static const char *good =
    "sipwall_questionnaire: 1\n"
    "subject: {name: \"GW\", vendor: V, model: M, firmware: \"1.2.3\", profile: iot}\n"
    "declared_services:\n"
    "  - {port: 5061, proto: tcp, service: sips, purpose: \"SIP trunk\"}\n"
    "  - {port: 8883, proto: tcp, service: mqtts}\n"
    "evidence:\n"
    "  - {id: E1, kind: file, path: \"ev/boot.txt\"}\n"
    "  - {id: E2, kind: url, url: \"https://example.com/vdp\"}\n"
    "answers:\n"
    "  - {id: Q-C1-01, claim: yes, detail: \"label password\", evidence: [E1]}\n" /* test fails: contradiction */
    "  - {id: Q-C2-01, control: C2, claim: yes, detail: \"ROM verifies\", evidence: [E1]}\n" /* declared+evidence */
    "  - {id: Q-C2-02, claim: partial, detail: \"logged, no alert\"}\n"                      /* fail, low */
    "  - {id: Q-C3-05, claim: yes, evidence: []}\n"                                         /* unknown, declared */
    "  - {id: Q-C6-01, claim: no}\n"                                                        /* fail */
    "  - {id: Q-C5-03, claim: n/a}\n"                                                       /* unknown */
    "  - {id: Q-C5-01, claim: n/a, detail: \"no debug hardware\"}\n"                        /* skipped */
    "  - {id: Q-C7-01}\n"                                                                   /* unknown, none */
    "  - {id: Q-C4-01, claim: no}\n"                                                        /* test pass beats no */
    "  - {id: X-OWN-1, control: C5, claim: yes, checked_by: [NET-PORT-01]}\n"               /* own item, failed test */
    ;

static void test_load_and_merge(void **state)
{
    (void)state;
    char err[256] = "";
    sw_assess_questionnaire *q = parse(good, err, sizeof err);
    if (!q)
        fail_msg("%s", err);
    const sw_assess_service *sv;
    assert_int_equal(sw_assess_questionnaire_services(q, &sv), 2);
    assert_int_equal(sv[0].port, 5061);
    assert_string_equal(sv[1].proto, "tcp");
    assert_string_equal(sv[1].service, "mqtts");

    sw_assess_finding f[4];
    memset(f, 0, sizeof f);
    f[0].id = "SIP-CRED-01";
    f[0].result = SW_ASSESS_FAIL;
    f[0].severity = SW_ASSESS_CRITICAL;
    f[1].id = "TLS-01";
    f[1].result = SW_ASSESS_PASS;
    f[2].id = "NET-PORT-01";
    f[2].result = SW_ASSESS_FAIL;
    f[2].severity = SW_ASSESS_HIGH;
    f[3].id = "NET-DEFCRED-01";
    f[3].result = SW_ASSESS_SKIPPED;

    sw_assess_merged m[16];
    size_t n = sw_assess_questionnaire_merge(q, f, 4, m, 16);
    assert_int_equal(n, 10);
    /* Q-C1-01: test fail beats claim yes */
    assert_string_equal(m[0].id, "Q-C1-01");
    assert_int_equal(m[0].result, SW_ASSESS_FAIL);
    assert_int_equal(m[0].contradiction, 1);
    assert_int_equal(m[0].basis, SW_ASSESS_BASIS_TESTED);
    assert_int_equal(m[0].severity, SW_ASSESS_CRITICAL);
    assert_string_equal(m[0].decided_by, "SIP-CRED-01");
    assert_int_equal(m[0].control, SW_ASSESS_C(1));
    assert_int_equal(f[0].contradiction, 1);
    assert_int_equal(f[3].contradiction, 0);
    /* Q-C2-01: yes + evidence, no test */
    assert_int_equal(m[1].result, SW_ASSESS_PASS);
    assert_int_equal(m[1].basis, SW_ASSESS_BASIS_DECLARED_EVIDENCE);
    assert_null(m[1].decided_by);
    /* Q-C2-02 partial: fail one severity lower than medium */
    assert_int_equal(m[2].result, SW_ASSESS_FAIL);
    assert_int_equal(m[2].severity, SW_ASSESS_LOW);
    assert_int_equal(m[2].contradiction, 0);
    /* Q-C3-05 yes without evidence */
    assert_int_equal(m[3].result, SW_ASSESS_UNKNOWN);
    assert_int_equal(m[3].basis, SW_ASSESS_BASIS_DECLARED);
    /* Q-C6-01 no */
    assert_int_equal(m[4].result, SW_ASSESS_FAIL);
    assert_int_equal(m[4].severity, SW_ASSESS_HIGH);
    /* n/a without and with detail */
    assert_int_equal(m[5].result, SW_ASSESS_UNKNOWN);
    assert_int_equal(m[6].result, SW_ASSESS_SKIPPED);
    /* no claim at all */
    assert_int_equal(m[7].result, SW_ASSESS_UNKNOWN);
    assert_int_equal(m[7].basis, SW_ASSESS_BASIS_NONE);
    /* test pass beats claim no, no contradiction flag (a pass is not hidden) */
    assert_int_equal(m[8].result, SW_ASSESS_PASS);
    assert_int_equal(m[8].basis, SW_ASSESS_BASIS_TESTED);
    assert_int_equal(m[8].contradiction, 0);
    /* own item with its own checked_by */
    assert_int_equal(m[9].result, SW_ASSESS_FAIL);
    assert_int_equal(m[9].contradiction, 1);
    assert_int_equal(f[2].contradiction, 1);

    char *js = sw_assess_questionnaire_json(q, m, n);
    assert_non_null(js);
    json_error_t je;
    json_t *o = json_loads(js, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "file")), "q.yaml");
    assert_int_equal(strlen(json_string_value(json_object_get(o, "sha256"))), 64);
    json_t *ev = json_array_get(json_object_get(o, "evidence"), 0);
    /* SHA-256("abc") */
    assert_string_equal(json_string_value(json_object_get(ev, "sha256")),
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    json_t *a0 = json_array_get(json_object_get(o, "answers"), 0);
    assert_string_equal(json_string_value(json_object_get(a0, "merged_result")), "fail");
    assert_true(json_is_true(json_object_get(a0, "contradiction")));
    assert_string_equal(json_string_value(json_object_get(a0, "control")), "C1");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a0, "en"), 1)), "5.1-2");
    json_t *a1 = json_array_get(json_object_get(o, "answers"), 1);
    assert_string_equal(json_string_value(json_object_get(a1, "basis")), "declared+evidence");
    json_decref(o);
    free(js);

    char *empty = sw_assess_questionnaire_json(NULL, NULL, 0);
    o = json_loads(empty, 0, &je);
    assert_non_null(o);
    assert_true(json_is_null(json_object_get(o, "file")));
    assert_int_equal(json_array_size(json_object_get(o, "answers")), 0);
    json_decref(o);
    free(empty);
    sw_assess_questionnaire_free(q);
}

static void expect_error(const char *text, const char *want)
{
    char err[256] = "";
    sw_assess_questionnaire *q = parse(text, err, sizeof err);
    if (q)
        fail_msg("loaded, expected %s", want);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("sipwall_questionnaire: 1\nevidence:\n  - {id: E1, kind: file, path: \"ev/none.txt\"}\n",
                 "q.yaml:3: evidence: file \"ev/none.txt\" cannot be read");
    expect_error("sipwall_questionnaire: 1\nevidence:\n  - {id: E1, kind: file, path: \"/etc/passwd\"}\n",
                 "q.yaml:3: evidence: path \"/etc/passwd\" must be relative");
    expect_error("sipwall_questionnaire: 1\nevidence:\n  - {id: E1, kind: file, path: \"ev/../../x\"}\n",
                 "q.yaml:3: evidence: path \"ev/../../x\" leaves");
    expect_error("sipwall_questionnaire: 1\nevidence:\n  - {id: E1, kind: file, path: ev/boot.txt, sha256: "
                 "\"0000000000000000000000000000000000000000000000000000000000000000\"}\n",
                 "q.yaml:3: evidence E1: sha256 of \"ev/boot.txt\" is ba7816bf");
    expect_error("sipwall_questionnaire: 1\nanswers:\n  - id: Q-C1-01\n    claim: maybe\n",
                 "q.yaml:4: claim: yes, no, partial or n/a expected");
    expect_error("sipwall_questionnaire: 1\nanswers:\n  - {id: Q-C1-01, control: C9}\n",
                 "q.yaml:3: control: C1 to C7 expected");
    expect_error("sipwall_questionnaire: 1\nanswers:\n  - {id: Q-C1-01, evidence: [E7]}\n",
                 "q.yaml:3: answer Q-C1-01: evidence E7 is not in the evidence list");
    expect_error("sipwall_questionnaire: 1\nanswers:\n  - {id: A}\n  - {id: A}\n",
                 "q.yaml:4: answers: id A given twice (first on line 3)");
    expect_error("sipwall_questionnaire: 1\ndeclared_services:\n  - {port: 70000, proto: tcp}\n",
                 "q.yaml:3: declared_services: port 1..65535 expected");
    expect_error("sipwall_questionnaire: 1\ndeclared_services:\n  - {port: 22, proto: sctp}\n",
                 "q.yaml:3: declared_services: proto tcp or udp expected");
    expect_error("subject: {name: x}\n", "q.yaml:1: \"sipwall_questionnaire: 1\" missing");
    expect_error("sipwall_questionnaire: 2\n", "q.yaml:1: sipwall_questionnaire: version 1 expected");
    expect_error("sipwall_questionnaire: 1\nfoo: 1\n", "q.yaml:2: unknown key \"foo\"");
    expect_error("sipwall_questionnaire: 1\nanswers: [\n", "q.yaml:");
    expect_error("- a\n", "q.yaml:1: the questionnaire must be a mapping");
    expect_error("", "q.yaml:0: empty document");
}

static void test_load_file(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/q.yaml", tmpdir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(good, f);
    fclose(f);
    char err[256] = "";
    sw_assess_questionnaire *q = sw_assess_questionnaire_load(p, err, sizeof err);
    if (!q)
        fail_msg("%s", err);
    assert_int_equal(sw_assess_questionnaire_nanswers(q), 10);
    sw_assess_questionnaire_free(q);
    /* relative to the questionnaire's directory, not the working directory */
    snprintf(p, sizeof p, "%s/ev/q2.yaml", tmpdir);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("sipwall_questionnaire: 1\nevidence:\n  - {id: E1, kind: file, path: boot.txt}\n", f);
    fclose(f);
    q = sw_assess_questionnaire_load(p, err, sizeof err);
    if (!q)
        fail_msg("%s", err);
    sw_assess_questionnaire_free(q);
    q = sw_assess_questionnaire_load("/nonexistent/q.yaml", err, sizeof err);
    assert_null(q);
    assert_non_null(strstr(err, "/nonexistent/q.yaml:0: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_loads),
        cmocka_unit_test(test_load_and_merge),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
