/* bench_frame — stream framing of a message that arrives a few bytes at a
 * time: re-framing the buffer from byte 0 at every read (sw_sip_frame, what
 * sipwalld and the TCP reassembler did) against the resumable framer
 * (sw_sip_framer_next).
 *
 * usage: bench_frame [-s BYTES] [-c CHUNK] [-l] [-r ROUNDS]
 *   -s  size of the header section (default 61440: a 60 KB header)
 *   -c  bytes per read (default 1: the worst case an attacker can choose)
 *   -l  many short header lines instead of one long header field
 *   -r  rounds, the best one is kept (default 3)
 *
 * Prints, for each way, the CPU time (CLOCK_PROCESS_CPUTIME_ID) to frame
 * the one message, the bytes the resumable framer examined, and the ratio.
 * Nothing is asserted; the exit status is 0 whenever the measurement ran. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sipwall/sip.h"

static volatile long sink;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_message(size_t size, int lines, size_t *len)
{
    char *m = malloc(size + 256);
    if (!m)
        exit(2);
    size_t n = (size_t)snprintf(m, size + 256, "INVITE sip:b@example.net SIP/2.0\r\n");
    if (lines) {
        for (int i = 0; n + 40 < size; i++)
            n += (size_t)snprintf(m + n, size + 256 - n, "X-Filler-%05d: abcdefghijklmnopq\r\n", i);
    } else {
        memcpy(m + n, "X-Big: ", 7);
        n += 7;
        while (n < size)
            m[n++] = 'a';
        m[n++] = '\r';
        m[n++] = '\n';
    }
    n += (size_t)snprintf(m + n, size + 256 - n, "Content-Length: 0\r\n\r\n");
    *len = n;
    return m;
}

int main(int argc, char **argv)
{
    size_t size = 61440, chunk = 1;
    int lines = 0, rounds = 3, opt;
    while ((opt = getopt(argc, argv, "s:c:lr:")) != -1) {
        switch (opt) {
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'c': chunk = strtoul(optarg, NULL, 10); break;
        case 'l': lines = 1; break;
        case 'r': rounds = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: bench_frame [-s BYTES] [-c CHUNK] [-l] [-r ROUNDS]\n");
            return 2;
        }
    }
    if (size < 64 || size > 65000 || chunk == 0 || rounds < 1) {
        fprintf(stderr, "bench_frame: -s 64..65000, -c >= 1, -r >= 1\n");
        return 2;
    }
    size_t len;
    char *m = make_message(size, lines, &len);
    sw_sip_limits lim;
    sw_sip_limits_default(&lim);
    lim.max_headers = 65535;
    double best_old = 1e9, best_new = 1e9;
    uint64_t examined = 0;
    size_t reads = (len + chunk - 1) / chunk;
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_now();
        long got = 0;
        for (size_t have = chunk < len ? chunk : len;; have = have + chunk < len ? have + chunk : len) {
            size_t skip;
            sw_sip_error err;
            got = sw_sip_frame(m, have, &lim, &skip, &err);
            if (have == len)
                break;
        }
        double t1 = cpu_now();
        sink += got;
        if (got != (long)len) {
            fprintf(stderr, "bench_frame: one-shot framing gave %ld, want %zu\n", got, len);
            return 1;
        }
        sw_sip_framer f;
        sw_sip_framer_init(&f);
        double t2 = cpu_now();
        for (size_t have = chunk < len ? chunk : len;; have = have + chunk < len ? have + chunk : len) {
            size_t skip;
            sw_sip_error err;
            got = sw_sip_framer_next(&f, m, have, &lim, &skip, &err);
            if (have == len)
                break;
        }
        double t3 = cpu_now();
        sink += got;
        if (got != (long)len) {
            fprintf(stderr, "bench_frame: resumable framing gave %ld, want %zu\n", got, len);
            return 1;
        }
        examined = f.examined;
        if (t1 - t0 < best_old)
            best_old = t1 - t0;
        if (t3 - t2 < best_new)
            best_new = t3 - t2;
    }
    printf("message: %zu bytes (%s), %zu reads of %zu byte%s, best of %d\n", len,
           lines ? "short header lines" : "one long header field", reads, chunk, chunk == 1 ? "" : "s",
           rounds);
    printf("%-34s %12.3f ms CPU\n", "re-frame from byte 0 (sw_sip_frame)", best_old * 1e3);
    printf("%-34s %12.3f ms CPU  %llu bytes examined (%.2f per byte)\n", "resumable (sw_sip_framer_next)",
           best_new * 1e3, (unsigned long long)examined, (double)examined / (double)len);
    printf("%-34s %12.0fx\n", "ratio", best_new > 0 ? best_old / best_new : 0.0);
    free(m);
    return 0;
}
