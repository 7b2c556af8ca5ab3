/* fuzz_taxii_client — libFuzzer target for what the TAXII 2.1 pull client
 * reads from a server (src/exchange/taxii_client.c).
 *
 * Byte 0 picks the entry point, the rest is the input:
 *   0  an envelope of objects (sw_taxii_envelope_parse, partner ZZ01)
 *   1  a status resource (sw_taxii_status_parse)
 *   2  a STIX pattern (sw_taxii_pattern_map), NUL-terminated copy
 *   3  a timestamp (sw_taxii_parse_ts, then format and parse again)
 *   4  an FSE object wrapped as a STIX indicator (sw_taxii_wrap_fse), then
 *      read back out of an envelope (sw_taxii_envelope_parse)
 * Contracts beyond ASan/UBSan: a refused envelope leaves nothing allocated
 * and a message; an accepted one has counts that add up to at most the
 * object count, a next token of printable ASCII, an FSE array that parses
 * as a JSON array of nfse elements, plain indicators of producer ZZ01 with
 * a known kind, terminated fields and confidence 0..100; a status adds up;
 * a mapped pattern has a terminated value; a parsed timestamp survives a
 * format/parse round trip to the microsecond; a wrapped object comes back
 * out of an envelope as one FSE object that decodes to the same id, value
 * and signature. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/exchange.h"
#include "sipwall/taxii_client.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static const int64_t FZ_NOW = 1796623200LL * 1000000000LL; /* 2026-12-07T06:00:00Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_envelope(const char *p, size_t n)
{
    sw_taxii_envelope pg;
    char err[200] = "";
    int rc = sw_taxii_envelope_parse(p, n, "ZZ01", FZ_NOW, &pg, err, sizeof err);
    if (rc != SW_OK) {
        FZ_CHECK(err[0] != '\0');
        FZ_CHECK(pg.fse == NULL && pg.plain == NULL);
        sw_taxii_envelope_clear(&pg);
        return;
    }
    FZ_CHECK(pg.nfse + pg.nplain + pg.unmapped + pg.malformed + pg.ignored == pg.objects);
    FZ_CHECK(pg.objects <= SW_TAXII_PAGE_OBJECTS);
    for (size_t i = 0; pg.next[i]; i++)
        FZ_CHECK(pg.next[i] > 0x20 && pg.next[i] < 0x7f);
    if (pg.nfse) {
        FZ_CHECK(pg.fse && strlen(pg.fse) == pg.fse_len);
        json_t *a = json_loadb(pg.fse, pg.fse_len, JSON_ALLOW_NUL, NULL);
        FZ_CHECK(json_is_array(a) && json_array_size(a) == pg.nfse);
        json_decref(a);
    } else {
        FZ_CHECK(pg.fse == NULL);
    }
    for (size_t i = 0; i < pg.nplain; i++) {
        const sw_intel_ind *x = &pg.plain[i];
        FZ_CHECK(strcmp(x->producer, "ZZ01") == 0);
        FZ_CHECK(strcmp(x->kind, "ipv4") == 0 || strcmp(x->kind, "ipv6") == 0 || strcmp(x->kind, "e164") == 0);
        FZ_CHECK(memchr(x->value, '\0', sizeof x->value) && x->value[0]);
        FZ_CHECK(strlen(x->id) == 36 && x->confidence <= 100);
        FZ_CHECK(strcmp(x->action, "block") == 0 || strcmp(x->action, "alert") == 0);
    }
    sw_taxii_envelope_clear(&pg);
}

static void fz_status(const char *p, size_t n)
{
    sw_taxii_status st;
    char err[200] = "";
    if (sw_taxii_status_parse(p, n, &st, err, sizeof err) == SW_OK) {
        FZ_CHECK(st.success + st.failure + st.pending == st.total);
        FZ_CHECK(st.total >= 0 && memchr(st.id, '\0', sizeof st.id));
    } else {
        FZ_CHECK(err[0] != '\0');
    }
}

static void fz_pattern(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return;
    memcpy(s, p, n);
    s[n] = '\0';
    char kind[16], value[SW_INTEL_VALUE_MAX];
    if (sw_taxii_pattern_map(s, kind, value) == SW_OK)
        FZ_CHECK(memchr(value, '\0', sizeof value) && memchr(kind, '\0', sizeof kind) && value[0]);
    free(s);
}

static void fz_ts(const char *p, size_t n)
{
    char s[64];
    if (n >= sizeof s)
        return;
    memcpy(s, p, n);
    s[n] = '\0';
    int64_t us, back;
    if (sw_taxii_parse_ts(s, strlen(s), &us) != SW_OK)
        return;
    char out[SW_TAXII_TS_LEN];
    if (sw_taxii_format_ts(us, out) == SW_OK) {
        FZ_CHECK(sw_taxii_parse_ts(out, strlen(out), &back) == SW_OK);
        FZ_CHECK(back == us);
    }
}

static void fz_wrap(const char *p, size_t n)
{
    size_t wl;
    char err[200] = "";
    char *w = sw_taxii_wrap_fse(p, n, &wl, err, sizeof err);
    if (!w) {
        FZ_CHECK(err[0] != '\0');
        return;
    }
    sw_fse a, b;
    FZ_CHECK(sw_fse_decode(p, n, &a, err, sizeof err) == SW_OK);
    size_t el = wl + 16;
    char *env = malloc(el);
    if (!env) {
        free(w);
        return;
    }
    int m = snprintf(env, el, "{\"objects\":[%s]}", w);
    sw_taxii_envelope pg;
    FZ_CHECK(sw_taxii_envelope_parse(env, (size_t)m, "ZZ01", FZ_NOW, &pg, err, sizeof err) == SW_OK);
    FZ_CHECK(pg.nfse == 1 && pg.fse_len > 2);
    FZ_CHECK(sw_fse_decode(pg.fse + 1, pg.fse_len - 2, &b, err, sizeof err) == SW_OK);
    FZ_CHECK(strcmp(a.id, b.id) == 0 && strcmp(a.value, b.value) == 0 && strcmp(a.sig, b.sig) == 0);
    sw_taxii_envelope_clear(&pg);
    free(env);
    free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1024 * 1024)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 5) {
    case 0: fz_envelope(p, n); break;
    case 1: fz_status(p, n); break;
    case 2: fz_pattern(p, n); break;
    case 3: fz_ts(p, n); break;
    default: fz_wrap(p, n); break;
    }
    return 0;
}
