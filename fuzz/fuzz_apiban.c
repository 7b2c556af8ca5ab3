/* libFuzzer target: APIBAN replies (sw_apiban_parse), the consumer input
 * format of the exchange layer, then what we would make of them
 * (sw_stix_bundle, sw_xo_csv_write), and sw_apiban_parse_fse.
 *
 * Input: byte 0 picks the capacity (bits 0-3: 0..15 indicators) and the
 * cursor buffer (bits 4-7: 1..16 bytes); the rest is the reply body.
 * Checks beyond ASan/UBSan: the result is a count within the capacity or
 * SW_EINVAL/SW_ELIMIT with a reason; every indicator passes
 * sw_xo_ind_check, is an IP in canonical text, and renders into a bundle
 * that is one JSON object with unique keys; the cursor is terminated
 * inside its buffer and URL-safe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_common.h"
#include "sipwall/exchange_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = data[0] & 15, curlen = 1 + (data[0] >> 4);
    char *buf = fz_input(data + 1, size - 1);
    sw_xo_ind out[16];
    char vals[16][64], cursor[17];
    memset(cursor, 'Z', sizeof cursor);
    size_t skipped = 0;
    const char *why = NULL;
    int n = sw_apiban_parse(buf, size - 1, 1764547200000000000LL, 60, out, vals, cap, &skipped, cursor, curlen,
                            &why);
    if (n < 0) {
        FZ_CHECK(n == SW_EINVAL || n == SW_ELIMIT);
        FZ_CHECK(why != NULL && why[0] != '\0');
        free(buf);
        return 0;
    }
    FZ_CHECK((size_t)n <= cap);
    FZ_CHECK(memchr(cursor, '\0', curlen) != NULL);
    for (size_t i = 0; cursor[i]; i++)
        FZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", cursor[i]) != NULL);
    for (int i = 0; i < n; i++) {
        FZ_CHECK(out[i].value == vals[i]);
        FZ_CHECK(memchr(vals[i], '\0', 64) != NULL);
        FZ_CHECK(sw_xo_ind_check(&out[i], &why) == SW_OK);
    }
    sw_xo_producer p = {.org = "apiban"};
    size_t len = 0, bad = 0;
    char *b = sw_stix_bundle(&p, out, (size_t)n, &len, &why, &bad);
    FZ_CHECK(b != NULL);
    json_error_t je;
    json_t *root = json_loadb(b, len, JSON_REJECT_DUPLICATES, &je);
    FZ_CHECK(json_is_object(root));
    json_decref(root);
    free(b);
    char *csv = NULL;
    size_t clen = 0;
    FILE *fp = open_memstream(&csv, &clen);
    if (fp) {
        FZ_CHECK(sw_xo_csv_write(fp, out, (size_t)n) == SW_OK);
        fclose(fp);
    }
    free(csv);

    /* the FSE form: the same count, every object valid and the same ids */
    sw_fse f[16];
    char err[256];
    size_t skipped2 = 0;
    int m = sw_apiban_parse_fse(buf, size - 1, 1764547200000LL, 60, f, cap, &skipped2, cursor, curlen, &why);
    FZ_CHECK(m == n && skipped2 == skipped);
    for (int i = 0; i < m; i++) {
        FZ_CHECK(sw_fse_validate(&f[i], err, sizeof err) == SW_OK);
        FZ_CHECK(strcmp(f[i].id, out[i].id) == 0);
    }
    free(buf);
    return 0;
}
