/* fuzz_events_query — libFuzzer target for what `sipwall events` reads:
 * the stored event JSON it filters and prints (written by sipwalld, but
 * built from bytes of hostile messages), and the times and arguments it
 * is given.
 *
 * Byte 0 picks the entry point, the rest is the input:
 *   0  cli_events_parse_time on the text (NUL-terminated copy)
 *   1  one stored row: cli_events_format_line and cli_events_match with
 *      every filter set
 *   2  cli_events_ip_of on the text
 *   3  an argument vector (words separated by NUL bytes) for
 *      cli_events_parse_args
 * Contracts beyond ASan/UBSan: a printed line is NUL-terminated, within its
 * buffer and free of control characters; an accepted time is within
 * 1970..10000 (relative times: at most a century before now); an
 * address found parses back as one; accepted arguments are consistent.
 *
 * The CLI's sources are not in sipwall_lib, so the file is compiled in. */
#include "cli/events_args.c"

#include <arpa/inet.h>
#include <stdint.h>

#define FZ_CHECK(cond)                                                                      \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz: contract broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define FZ_NOW (1796637600LL * 1000000000LL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_time(const char *s)
{
    char err[256];
    int64_t t = 0;
    err[0] = '\0';
    if (cli_events_parse_time(s, FZ_NOW, &t, err, sizeof err) == 0) {
        /* relative: at most a century back; absolute: from 1970 (less a day's
         * offset) to where ns since the epoch still fit in 64 bits */
        FZ_CHECK(t >= FZ_NOW - SW_EVENT_TIME_MAX_RELATIVE_S * NS);
        FZ_CHECK(t >= -86400LL * NS || s[0] == '-');
    } else {
        FZ_CHECK(err[0] != '\0');
    }
}

static void fz_row(const char *json, size_t len)
{
    char line[512];
    cli_events_format_line(42, json, len, line, sizeof line);
    size_t n = strnlen(line, sizeof line);
    FZ_CHECK(n < sizeof line);
    for (size_t i = 0; i < n; i++)
        FZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
    char tiny[8];
    cli_events_format_line(42, json, len, tiny, sizeof tiny);
    FZ_CHECK(strnlen(tiny, sizeof tiny) < sizeof tiny);
    cli_events_opts o;
    memset(&o, 0, sizeof o);
    o.type = "sip_scan";
    o.rule = "cat1.scanner-signature";
    o.peer = "alpha";
    snprintf(o.src, sizeof o.src, "192.0.2.7");
    o.has_since = o.has_until = 1;
    o.until_ns = FZ_NOW;
    (void)cli_events_match(&o, FZ_NOW - 1, json, len);
    memset(&o, 0, sizeof o);
    FZ_CHECK(cli_events_match(&o, 0, json, len) == 1); /* no filter: everything passes */
}

static void fz_ip(const char *s)
{
    char ip[CLI_EVENTS_IP_MAX];
    if (cli_events_ip_of(s, ip) == 0) {
        unsigned char bin[16];
        FZ_CHECK(strlen(ip) < sizeof ip);
        FZ_CHECK(inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1);
    }
}

static void fz_args(char *buf, size_t len)
{
    char *argv[34];
    int argc = 0;
    argv[argc++] = (char *)"events";
    for (size_t i = 0; i < len && argc < 33;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    cli_events_opts o;
    char err[256];
    err[0] = '\0';
    if (cli_events_parse_args(argc, argv, FZ_NOW, &o, err, sizeof err) == 0) {
        FZ_CHECK(o.db != NULL && o.db[0] != '\0');
        FZ_CHECK(!(o.has_since && o.has_until) || o.since_ns < o.until_ns);
        FZ_CHECK(o.limit <= 100000000ULL);
        if (o.src[0])
            fz_ip(o.src);
    } else {
        FZ_CHECK(err[0] != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    /* the text, NUL-terminated, in an exactly sized block (+1 for the NUL) */
    size_t n = size - 1;
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data + 1, n);
    s[n] = '\0';
    switch (data[0] & 3) {
    case 0: fz_time(s); break;
    case 1: {
        char *row = malloc(n ? n : 1); /* exact size: an over-read is an ASan report */
        if (row) {
            memcpy(row, data + 1, n);
            fz_row(row, n);
            free(row);
        }
        break;
    }
    case 2: fz_ip(s); break;
    case 3: fz_args(s, n); break;
    }
    free(s);
    return 0;
}
