/* fuzz_assess_reply — libFuzzer target for what `sipwall assess` reads in a
 * target's reply: the SIP parse (datagram), the enumeration fingerprint and
 * its text, product disclosure on every header value, the leak scan, and
 * the digest header built from every WWW-/Proxy-Authenticate challenge.
 *
 * The input is one reply in an exactly sized heap block.  Contracts beyond
 * ASan and UBSan: a fingerprint equals itself; its text and every leak are
 * NUL-terminated within their arrays; the leak count stays within max; a
 * digest header, when one is built, fits the buffer, ends CRLF and starts
 * with the right header name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess/assess_int.h"

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SW__ASSESS_MSG_MAX)
        return 0;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    static sw_sip_header hdrs[256];
    static sw_sip_msg m;
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    sw_sip_error e;
    if (sw_sip_parse(&m, hdrs, 256, buf, size, SW_SIP_DATAGRAM, &lim, &e) <= 0) {
        free(buf);
        return 0;
    }
    sw__assess_fp fp;
    sw__assess_fp_of(&m, &fp);
    const char *what = "x";
    FZ_CHECK(sw__assess_fp_equal(&fp, &fp, &what) && what == NULL);
    FZ_CHECK(memchr(fp.names, 0, sizeof fp.names) && memchr(fp.auth, 0, sizeof fp.auth) &&
             memchr(fp.reason, 0, sizeof fp.reason));
    char text[800];
    sw__assess_fp_text(&fp, text, sizeof text);
    FZ_CHECK(strlen(text) < sizeof text);
    for (uint16_t i = 0; i < m.nhdrs; i++) {
        int lv = sw__assess_product_level(m.hdrs[i].value);
        FZ_CHECK(lv >= 0 && lv <= 2);
    }
    sw__assess_leak leaks[4];
    size_t n = sw__assess_leaks(&m, "127.0.0.1", "192.0.2.1", leaks, 4);
    FZ_CHECK(n <= 4);
    for (size_t i = 0; i < n; i++)
        FZ_CHECK(memchr(leaks[i].header, 0, sizeof leaks[i].header) && memchr(leaks[i].what, 0, sizeof leaks[i].what));
    for (int proxy = 0; proxy < 2; proxy++) {
        for (const sw_sip_header *h = sw_sip_first(&m, proxy ? SW_HDR_PROXY_AUTHENTICATE : SW_HDR_WWW_AUTHENTICATE); h;
             h = sw_sip_next(&m, h)) {
            sw_auth a;
            if (sw_auth_parse(h->value, &a, &e) != SW_OK)
                continue;
            char out[600];
            long k = sw__digest_header(&a, proxy, "1000", "pw", "REGISTER", "sip:192.0.2.1", out, sizeof out);
            if (k > 0) {
                FZ_CHECK((size_t)k < sizeof out && (size_t)k == strlen(out));
                FZ_CHECK(out[k - 2] == '\r' && out[k - 1] == '\n');
                FZ_CHECK(!memchr(out, '\n', (size_t)k - 1));
                FZ_CHECK(!strncmp(out, proxy ? "Proxy-Authorization: Digest " : "Authorization: Digest ",
                                  proxy ? 28 : 22));
            }
        }
    }
    free(buf);
    return 0;
}
