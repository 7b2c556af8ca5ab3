/* fuzz_syslog — libFuzzer target for the export formatters
 * (sw_syslog_format, sw_syslog_frame): a stored event row is read back as
 * untrusted JSON (a store file is data another process wrote).
 *
 * Input: byte 0 picks the format (bits 0-1), a small output capacity (bit
 * 2) and the facility (bits 3-7); the rest is the row's JSON text.
 * Contracts beyond ASan and UBSan: the result is a known code or a length
 * within the capacity and SW_SYSLOG_MAX_MSG; a message starts "<PRI>1 ",
 * holds no control character, carries [meta sequenceId="…"] and our SD-ID;
 * an ECS MSG is JSON; the frame of a message is "LEN SP" and the message. */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipwall/event.h"

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
    static char out[SW_SYSLOG_MAX_MSG + 64];
    static char frame[SW_SYSLOG_MAX_MSG + SW_SYSLOG_FRAME_HDR];
    if (size < 1)
        return 0;
    sw_syslog_opts o = {(sw_export_format)(data[0] & 3), (unsigned)(data[0] >> 3), "fuzz-host",
                        NULL, 77, "9.9"};
    if (o.format > SW_EXPORT_ECS)
        o.format = SW_EXPORT_RFC5424;
    size_t cap = (data[0] & 4) ? 300 : sizeof out;
    /* the row in an exactly sized block: an over-read is an ASan report */
    char *row = malloc(size - 1 ? size - 1 : 1);
    if (!row)
        abort();
    memcpy(row, data + 1, size - 1);
    int64_t id = (int64_t)size * 7919;
    int n = sw_syslog_format(&o, id, (int64_t)size * 1000003, row, size - 1, out, cap);
    free(row);
    if (n < 0) {
        FZ_CHECK(n == SW_EINVAL || n == SW_ELIMIT || n == SW_ENOMEM);
        return 0;
    }
    FZ_CHECK((size_t)n <= cap && n <= SW_SYSLOG_MAX_MSG);
    FZ_CHECK(n > 8 && out[0] == '<');
    for (int i = 0; i < n; i++)
        FZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    static const char meta[] = " [meta sequenceId=\"", sd[] = "[" SW_SYSLOG_SD_ID " id=\"";
    FZ_CHECK(memmem(out, (size_t)n, meta, sizeof meta - 1) != NULL);
    FZ_CHECK(memmem(out, (size_t)n, sd, sizeof sd - 1) != NULL);
    if (o.format == SW_EXPORT_ECS) {
        const char *j = memmem(out, (size_t)n, "] {", 3);
        FZ_CHECK(j != NULL);
        json_t *doc = json_loadb(j + 2, (size_t)(out + n - j - 2), JSON_ALLOW_NUL, NULL);
        FZ_CHECK(doc != NULL);
        json_decref(doc);
    }
    int f = sw_syslog_frame(out, (size_t)n, frame, sizeof frame);
    FZ_CHECK(f > n);
    char hdr[16];
    int h = snprintf(hdr, sizeof hdr, "%d ", n);
    FZ_CHECK(f == n + h && memcmp(frame, hdr, (size_t)h) == 0 && memcmp(frame + h, out, (size_t)n) == 0);
    return 0;
}
