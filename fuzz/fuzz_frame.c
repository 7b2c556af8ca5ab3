/* libFuzzer target: the resumable stream framer (sw_sip_framer_*).
 *
 * Input: byte 0 picks the limits (size 0..3 → 80 B .. 65535 B, header
 * count), byte 1 seeds the chunking; the rest is a TCP byte stream.  The
 * stream is framed twice: one-shot (sw_sip_frame over what is left,
 * message after message) and as a connection would (bytes arriving in
 * pseudo-random chunks, one sw_sip_framer, keep-alives consumed or not,
 * the buffer copied to a fresh exact-size block at every call so a kept
 * pointer or a read past the end is an ASan report).  Both must give the
 * same messages and the same final answer, every framer call must answer
 * what sw_sip_frame answers on the same bytes, and the bytes examined
 * stay linear in the input. */
#include "fuzz_common.h"

static const sw_sip_limits fz_limits_set[4] = {
    {.max_msg_size = 80, .max_header_len = 700, .max_headers = 3, .max_via = 6},
    {.max_msg_size = 600, .max_header_len = 700, .max_headers = 8, .max_via = 6},
    {.max_msg_size = 6000, .max_header_len = 700, .max_headers = 40, .max_via = 6},
    {.max_msg_size = 65535, .max_header_len = 4096, .max_headers = 256, .max_via = 64},
};

#define FZ_MAX_ANSWERS 4096

typedef struct answer {
    long r;       /* > 0 message length, else the final code */
    size_t start; /* message start or absolute error offset */
} answer;

static answer fz_one[FZ_MAX_ANSWERS], fz_res[FZ_MAX_ANSWERS];

static int one_shot(const char *buf, size_t len, const sw_sip_limits *lim, answer *out)
{
    size_t pos = 0;
    int n = 0;
    while (n < FZ_MAX_ANSWERS) {
        size_t skip = 0;
        sw_sip_error err;
        fz_error_reset(&err);
        long r = sw_sip_frame(buf + pos, len - pos, lim, &skip, &err);
        FZ_CHECK(r != 0);
        if (r > 0) {
            FZ_CHECK(skip <= len - pos && (size_t)r <= len - pos - skip);
            out[n++] = (answer){r, pos + skip};
            pos += skip + (size_t)r;
            continue;
        }
        out[n++] = (answer){r, r == SW_EINCOMPLETE ? 0 : pos + err.offset};
        break;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const sw_sip_limits *lim = &fz_limits_set[data[0] & 3];
    int eat = (data[0] >> 2) & 1;
    uint32_t rng = 0x9e3779b9u ^ ((uint32_t)data[1] * 2654435761u);
    char *buf = fz_input(data + 2, size - 2);
    size_t len = size - 2;

    int n1 = one_shot(buf, len, lim, fz_one);

    sw_sip_framer f;
    sw_sip_framer_init(&f);
    size_t base = 0, have = 0;
    int n2 = 0, done = 0;
    while (!done && n2 < FZ_MAX_ANSWERS) {
        if (have < len) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            size_t c = (rng & 1) ? 1 + (rng >> 8) % 4 : 1 + (rng >> 8) % 300;
            have += c < len - have ? c : len - have;
        }
        for (;;) {
            size_t n = have - base;
            char *copy = malloc(n ? n : 1);
            if (!copy)
                abort();
            memcpy(copy, buf + base, n);
            size_t skip = 0, skip1 = 0;
            sw_sip_error err, err1;
            fz_error_reset(&err);
            fz_error_reset(&err1);
            long r = sw_sip_framer_next(&f, copy, n, lim, &skip, &err);
            long r1 = sw_sip_frame(copy, n, lim, &skip1, &err1);
            free(copy);
            FZ_CHECK(r == r1 && skip == skip1);
            if (r < 0) {
                FZ_CHECK(err.code == err1.code && err.offset == err1.offset);
                FZ_CHECK(err.reason && err1.reason && strcmp(err.reason, err1.reason) == 0);
            }
            if (r > 0) {
                fz_res[n2++] = (answer){r, base + skip};
                base += skip + (size_t)r;
                sw_sip_framer_consume(&f, skip + (size_t)r);
                if (n2 == FZ_MAX_ANSWERS)
                    break;
                continue;
            }
            if (r == SW_EINCOMPLETE) {
                if (eat && skip) {
                    base += skip;
                    sw_sip_framer_consume(&f, skip);
                }
                if (have == len) {
                    fz_res[n2++] = (answer){r, 0};
                    done = 1;
                }
            } else {
                fz_res[n2++] = (answer){r, base + err.offset};
                done = 1;
            }
            break;
        }
    }
    FZ_CHECK(n1 == n2);
    for (int i = 0; i < n1; i++)
        FZ_CHECK(fz_one[i].r == fz_res[i].r && fz_one[i].start == fz_res[i].start);
    /* linear: every byte searched, classified and (Content-Length) read a
     * bounded number of times, plus one look per call */
    FZ_CHECK(f.examined <= 4 * (uint64_t)len + 2 * (uint64_t)len + 16);
    free(buf);
    return 0;
}
