/* fuzz_assess_reply — libFuzzer target for what `sipwall assess` reads in a
 * target's reply: the SIP parse (datagram), the enumeration fingerprint and
 * its text, product disclosure on every header value, the leak scan, and
 * the digest header built from every WWW-/Proxy-Authenticate challenge.
 *
 * The input is one reply in an exactly sized heap block.  Contracts beyond
 * ASan and UBSan: a fingerprint equals itself; its text and every leak are
 * NUL-terminated within their arrays; the leak count stays within max; a
 * digest header, when one is built, fits the buffer, ends CRLF and starts
 * with the right header name.  The same bytes also go through the
 * --robust-dir rewriter (sw__assess_rewrite, against a run and a connected
 * UDP socket made once; nothing is sent): its output fits, is never a
 * response, and its request line names the target.  SIP-ROBUST-01's
 * status-line reader (sw__assess_status_line, for replies the parser
 * refuses) answers 0 or 100..699, and a status only for "SIP/2.0 NNN". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
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

static void rewrite(const char *in, size_t len)
{
    static sw_assess_run *r;
    static sw__assess_conn *c;
    static char out[SW__ASSESS_MSG_MAX + 1];
    if (!r) {
        sw_assess_options o = {.target_uri = "sip:127.0.0.1:9;transport=udp"};
        r = sw_assess_run_new(&o, NULL, 0);
        c = r ? sw__assess_conn_open(r, SW_TRANSPORT_UDP, 0, NULL, 0) : NULL;
        FZ_CHECK(r && c);
    }
    size_t n = sw__assess_rewrite(r, c, in, len, out, SW__ASSESS_MSG_MAX);
    FZ_CHECK(n <= SW__ASSESS_MSG_MAX);
    if (n == 0)
        return;
    FZ_CHECK(n < 4 || memcmp(out, "SIP/", 4) != 0);
    /* the request line names the target, whatever the input said */
    const char *nl = memchr(out, '\n', n);
    size_t fl = nl ? (size_t)(nl - out) : n;
    FZ_CHECK(memmem(out, fl, "sip:127.0.0.1:9", 15) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SW__ASSESS_MSG_MAX)
        return 0;
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    rewrite(buf, size);
    int st = sw__assess_status_line(buf, size);
    FZ_CHECK(st == 0 || (st >= 100 && st <= 699));
    FZ_CHECK(st == 0 || (size >= 11 && memcmp(buf, "SIP/2.0 ", 8) == 0 &&
                         (buf[8] - '0') * 100 + (buf[9] - '0') * 10 + (buf[10] - '0') == st));
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
