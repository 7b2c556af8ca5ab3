/* fuzz_logsink — libFuzzer target for what LOG-SINK-01's collector reads
 * from the device under test: a syslog byte stream framed with
 * sw__syslog_frame_next (octet counting or LF), each message's RFC 5424
 * timestamp (sw__syslog_5424_time) and the address match
 * (sw__syslog_names).
 *
 * Byte 0 picks the message ceiling (16..8192), the rest is the stream in
 * an exactly sized heap block.  Contracts beyond ASan and UBSan: results
 * are a known code or a length within the input; every message view lies
 * inside its frame and within the ceiling; framing makes progress. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess/host_int.h"

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
    if (size < 1)
        return 0;
    size_t max = 16u << (data[0] % 10); /* 16 .. 8192 */
    if (max > SW__SYSLOG_MAX_MSG)
        max = SW__SYSLOG_MAX_MSG;
    size_t n = size - 1;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, n);
    size_t off = 0;
    for (unsigned frames = 0; off < n; frames++) {
        FZ_CHECK(frames <= n);
        sw_str msg;
        long k = sw__syslog_frame_next(buf + off, n - off, max, &msg);
        FZ_CHECK(k == SW_EINCOMPLETE || k == SW_EINVAL || k == SW_ELIMIT || (k > 0 && (size_t)k <= n - off));
        if (k <= 0)
            break;
        FZ_CHECK(msg.ptr >= buf + off && msg.ptr + msg.len <= buf + off + (size_t)k && msg.len <= max);
        int64_t t;
        int r = sw__syslog_5424_time(msg, &t);
        FZ_CHECK(r == SW_OK || r == SW_EINVAL);
        (void)sw__syslog_names(msg, "127.0.0.1");
        (void)sw__syslog_names(msg, "::1");
        off += (size_t)k;
    }
    free(buf);
    return 0;
}
