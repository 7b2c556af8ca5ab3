/* libFuzzer target: the exchange renderers on indicators whose strings are
 * outside bytes (a scanner chooses its User-Agent, a caller its number):
 * sw_xo_ind_check, sw_stix_pattern (every buffer size), sw_stix_bundle,
 * sw_xo_csv_write.
 *
 * Input: byte 0 picks kind (low nibble) and TLP/revoked (high nibble),
 * byte 1 the confidence, then fields split at 0x1f: value, hmac key id,
 * event type, sig.  Checks beyond ASan/UBSan: an indicator that passes the
 * check always renders; its pattern is "[...]" with every quote escaped
 * (an unescaped ' would end the string early: the pattern re-read with the
 * escapes undone gives the value back) and fits exactly the length it
 * reports; the bundle is one JSON object with unique keys whose indicator
 * carries the pattern as is. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "sipwall/exchange_fmt.h"

static const char *const kinds[] = {"ipv4",      "ipv6",      "cidr",    "e164",    "e164_prefix", "e164_hmac",
                                    "imsi_hmac", "imei_hmac", "sip_uri", "user_agent", "trunk", "bogus"};
static const char *const tlps[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", "WHITE"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    char *buf = fz_input(data + 2, size - 2);
    char *copy = malloc(size - 2 + 1);
    if (!copy)
        abort();
    memcpy(copy, buf, size - 2);
    copy[size - 2] = '\0';
    char *field[4] = {copy, NULL, NULL, NULL};
    for (int i = 1; i < 4; i++) {
        char *sep = field[i - 1] ? strchr(field[i - 1], 0x1f) : NULL;
        if (sep) {
            *sep = '\0';
            field[i] = sep + 1;
        }
    }
    sw_xo_ind x;
    memset(&x, 0, sizeof x);
    snprintf(x.id, sizeof x.id, "6f1c2a1e-6a5e-5b0e-9c1d-2f6f8f7f0a11");
    x.kind = kinds[(data[0] & 15) % 12];
    x.tlp = tlps[((data[0] >> 4) & 7) % 6];
    x.revoked = data[0] >> 7;
    x.confidence = data[1];
    x.value = field[0];
    x.hmac_key_id = field[1];
    x.event_type = field[2] && field[2][0] ? field[2] : "sip_scan";
    x.sig = field[3];
    x.severity = "high";
    x.action = "block";
    x.first_seen_ns = 1764547200000000000LL;
    x.last_seen_ns = x.modified_ns = x.first_seen_ns + 1;
    x.valid_until_ns = x.first_seen_ns + 86400000000000LL;
    x.count = 1;

    char pat[1200];
    int pn = sw_stix_pattern(&x, pat, sizeof pat);
    if (pn >= 0) {
        FZ_CHECK((size_t)pn == strlen(pat) && pat[0] == '[' && pat[pn - 1] == ']');
        /* the first quoted string, unescaped, is the value (LIKE adds %) */
        const char *q = strchr(pat, '\'');
        FZ_CHECK(q != NULL);
        char un[sizeof pat];
        size_t k = 0;
        for (q++; *q && *q != '\''; q++) {
            if (*q == '\\')
                q++;
            FZ_CHECK(*q != '\0' && k + 1 < sizeof un);
            un[k++] = *q;
        }
        FZ_CHECK(*q == '\'');
        un[k] = '\0';
        if (!strcmp(x.kind, "e164_prefix")) {
            FZ_CHECK(k > 0 && un[k - 1] == '%');
            un[k - 1] = '\0';
        }
        FZ_CHECK(strcmp(un, x.value) == 0);
        char small[64];
        for (size_t len = 0; len < sizeof small && len <= (size_t)pn; len++)
            FZ_CHECK(sw_stix_pattern(&x, small, len) == SW_ELIMIT);
    }
    const char *why = NULL;
    if (sw_xo_ind_check(&x, &why) == SW_OK) {
        FZ_CHECK(pn > 0);
        sw_xo_producer p = {.org = "ZZ01"};
        size_t len = 0;
        char *b = sw_stix_bundle(&p, &x, 1, &len, &why, NULL);
        FZ_CHECK(b != NULL);
        json_error_t je;
        json_t *root = json_loadb(b, len, JSON_REJECT_DUPLICATES, &je);
        FZ_CHECK(json_is_object(root));
        json_t *objs = json_object_get(root, "objects"), *o;
        size_t i;
        int found = 0;
        json_array_foreach(objs, i, o) {
            if (!strcmp(json_string_value(json_object_get(o, "type")), "indicator")) {
                FZ_CHECK(!strcmp(json_string_value(json_object_get(o, "pattern")), pat));
                found = 1;
            }
        }
        FZ_CHECK(found);
        json_decref(root);
        free(b);
        char *csv = NULL;
        size_t clen = 0;
        FILE *fp = open_memstream(&csv, &clen);
        if (fp) {
            FZ_CHECK(sw_xo_csv_write(fp, &x, 1) == SW_OK);
            fclose(fp);
        }
        free(csv);
    } else {
        FZ_CHECK(why != NULL);
    }
    free(copy);
    free(buf);
    return 0;
}
