/* xo-sample: writes one indicator of every kind (and a revoked, a signed
 * and an HMAC one) in every export format, for the interop checks of
 * tests/scripts/test_exchange_export.sh (OASIS schemas, pattern
 * validator, python-stix2, PyMISP).
 *
 *   xo-sample OUTDIR
 *
 * Writes OUTDIR/bundle.json, OUTDIR/bundle-tlp1.json (TLP 1.0 markings),
 * OUTDIR/patterns.txt (one pattern a line),
 * OUTDIR/misp/ and OUTDIR/indicators.csv.  Exit 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sipwall/exchange_fmt.h"

#define T0 1764547200000000000LL /* 2025-12-01T00:00:00Z */
#define S 1000000000LL

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: xo-sample OUTDIR\n");
        return 2;
    }
    static const struct {
        const char *et, *kind, *value;
    } k[] = {
        {"sip_scan", "ipv4", "203.0.113.7"},
        {"sip_flood", "ipv6", "2001:db8::7"},
        {"sip_scan", "cidr", "198.51.100.0/24"},
        {"sip_bruteforce", "cidr", "2001:db8:1::/48"},
        {"wangiri_cli", "e164", "+88213012345"},
        {"irsf_range", "e164_prefix", "+882130"},
        {"irsf_call", "e164", "+882345678010"},
        {"sim_swap", "e164_hmac", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"subscription_fraud", "imsi_hmac", "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"subscription_fraud", "imei_hmac", "2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {"sip_scan", "sip_uri", "sip:100@198.51.100.9"},
        {"sip_scan", "user_agent", "friendly-scanner 'v2' \\o/"},
        {"cli_spoofing", "trunk", "carrier-x"},
        {"sip_scan", "ipv4", "198.51.100.77"},
    };
    enum { N = sizeof k / sizeof k[0] };
    static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
    sw_xo_ind v[N];
    sw_xo_producer p = {.org = "ZZ01", .name = "Example Operator ZZ01"};
    for (size_t i = 0; i < N; i++) {
        sw_xo_ind *x = &v[i];
        sw_fse_kind kind;
        memset(x, 0, sizeof *x);
        if (sw_fse_kind_lookup(k[i].kind, &kind) != SW_OK ||
            sw_fse_make_id(p.org, kind, k[i].value, k[i].et, x->id) != SW_OK)
            return 1;
        x->event_type = k[i].et;
        x->kind = k[i].kind;
        x->value = k[i].value;
        x->hmac_key_id = strstr(k[i].kind, "_hmac") ? "ZZ01-grp1:2026-12" : NULL;
        x->fraud_class = strncmp(k[i].et, "irsf", 4) == 0 ? "irsf" : NULL;
        x->fs_category = "behavioural";
        x->severity = "high";
        x->action = i % 3 ? "block" : "alert";
        x->tlp = tlps[i % 5];
        x->first_seen_ns = T0 + (int64_t)i * S;
        x->last_seen_ns = x->first_seen_ns + 600 * S;
        x->modified_ns = x->last_seen_ns;
        x->valid_until_ns = x->last_seen_ns + 86400 * S;
        x->count = (uint32_t)(i + 1);
        x->confidence = (uint8_t)(50 + i);
    }
    v[N - 1].revoked = 1;
    v[0].sig = "eyJhbGciOiJFZERTQSIsImtpZCI6IlpaMDE6MSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il0sInR5cCI6ImZzZStqd3MifQ..AAAA";

    char path[4096];
    size_t len = 0, bad = 0;
    const char *why = NULL;
    char *b = sw_stix_bundle(&p, v, N, &len, &why, &bad);
    if (!b) {
        fprintf(stderr, "xo-sample: bundle: indicator %zu: %s\n", bad, why);
        return 1;
    }
    snprintf(path, sizeof path, "%s/bundle.json", argv[1]);
    FILE *fp = fopen(path, "w");
    if (!fp || fwrite(b, 1, len, fp) != len || fclose(fp) != 0)
        return 1;
    free(b);
    /* the same with TLP 1.0 markings */
    p.tlp1 = 1;
    b = sw_stix_bundle(&p, v, N, &len, &why, &bad);
    p.tlp1 = 0;
    snprintf(path, sizeof path, "%s/bundle-tlp1.json", argv[1]);
    fp = b ? fopen(path, "w") : NULL;
    if (!fp || fwrite(b, 1, len, fp) != len || fclose(fp) != 0)
        return 1;
    free(b);
    snprintf(path, sizeof path, "%s/patterns.txt", argv[1]);
    fp = fopen(path, "w");
    if (!fp)
        return 1;
    for (size_t i = 0; i < N; i++) {
        char pat[1024];
        if (sw_stix_pattern(&v[i], pat, sizeof pat) < 0)
            return 1;
        fprintf(fp, "%s\n", pat);
    }
    if (fclose(fp) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/misp", argv[1]);
    mkdir(path, 0755);
    char err[256];
    if (sw_misp_feed_write(path, &p, v, N, err, sizeof err) != SW_OK) {
        fprintf(stderr, "xo-sample: misp: %s\n", err);
        return 1;
    }
    snprintf(path, sizeof path, "%s/indicators.csv", argv[1]);
    fp = fopen(path, "w");
    if (!fp || sw_xo_csv_write(fp, v, N) != SW_OK || fclose(fp) != 0)
        return 1;
    return 0;
}
