/* fuzz_questionnaire — libFuzzer target for the assess questionnaire
 * loader (libyaml document API + our walk and checks).
 *
 * The input is one YAML text in an exactly sized heap block.  The
 * evidence directory does not exist, so no evidence file is ever read.
 * Contracts beyond ASan and UBSan: a parse either succeeds (and the merge
 * against a fixed set of findings and the JSON member work, every merged
 * entry names an answer, counts stay within the documented ceilings) or
 * fails with a "NAME:LINE: reason" message; a tiny error buffer is never
 * overrun. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sipwall/assess.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define FZ_NAME "fuzz.yaml"
#define FZ_DIR "/nonexistent-fuzz-dir"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    char err[256];
    sw_assess_questionnaire *q = sw_assess_questionnaire_parse(text, size, FZ_NAME, FZ_DIR, err, sizeof err);
    if (!q) {
        FZ_CHECK(strncmp(err, FZ_NAME ":", sizeof FZ_NAME) == 0);
        FZ_CHECK(strlen(err) < sizeof err);
        char tiny[4];
        FZ_CHECK(sw_assess_questionnaire_parse(text, size, FZ_NAME, FZ_DIR, tiny, sizeof tiny) == NULL);
        FZ_CHECK(strlen(tiny) < sizeof tiny);
        free(text);
        return 0;
    }
    sw_assess_finding f[3];
    memset(f, 0, sizeof f);
    f[0].id = "NET-PORT-01";
    f[0].result = SW_ASSESS_FAIL;
    f[0].severity = SW_ASSESS_HIGH;
    f[1].id = "TLS-01";
    f[1].result = SW_ASSESS_PASS;
    f[2].id = "LOG-SINK-01";
    f[2].result = SW_ASSESS_UNKNOWN;
    size_t na = sw_assess_questionnaire_nanswers(q);
    FZ_CHECK(na <= 128);
    const sw_assess_service *sv;
    size_t ns = sw_assess_questionnaire_services(q, &sv);
    FZ_CHECK(ns <= 64);
    for (size_t i = 0; i < ns; i++)
        FZ_CHECK(sv[i].port >= 1 && (!strcmp(sv[i].proto, "tcp") || !strcmp(sv[i].proto, "udp")));
    sw_assess_merged m[128];
    FZ_CHECK(sw_assess_questionnaire_merge(q, f, 3, m, 128) == na);
    for (size_t i = 0; i < na; i++) {
        FZ_CHECK(m[i].id != NULL && m[i].id[0]);
        FZ_CHECK(m[i].result <= SW_ASSESS_ERROR && m[i].severity <= SW_ASSESS_CRITICAL);
        FZ_CHECK(!m[i].contradiction || m[i].result == SW_ASSESS_FAIL);
    }
    char *js = sw_assess_questionnaire_json(q, m, na);
    FZ_CHECK(js != NULL);
    json_t *o = json_loads(js, 0, NULL);
    FZ_CHECK(o != NULL);
    FZ_CHECK(json_array_size(json_object_get(o, "answers")) == na);
    json_decref(o);
    free(js);
    sw_assess_questionnaire_free(q);
    free(text);
    return 0;
}
