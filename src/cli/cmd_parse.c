/* sipwall parse: validate SIP messages stored one per file (raw bytes). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "sipwall/sip.h"

static const char parse_usage[] =
    "usage: sipwall parse [--stream] [--limits SPEC] FILE...\n"
    "\n"
    "Parses each FILE as one raw SIP message (bytes as they were on the wire) and\n"
    "runs the full validation a proxy applies (sw_sip_parse + sw_sip_validate).\n"
    "Prints one line per file, tab-separated:\n"
    "  FILE<TAB>valid\n"
    "  FILE<TAB>invalid<TAB>offset N: REASON     (N = byte offset in the file)\n"
    "  FILE<TAB>error<TAB>STRERROR               (the file could not be read)\n"
    "\n"
    "options:\n"
    "  --stream         TCP/TLS framing: Content-Length is required; the file may hold\n"
    "                   several messages back to back (CRLF keep-alives between them\n"
    "                   are allowed) and every one must be valid.  Default: UDP\n"
    "                   framing, the file is one datagram (bytes past Content-Length\n"
    "                   are ignored, RFC 3261 18.3).\n"
    "  --limits SPEC    parser ceilings, comma-separated NAME=N:\n"
    "                   max-size (bytes, default 65535), max-headers (256),\n"
    "                   max-header-len (8192), max-via (32)\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 all files valid, 1 some file invalid, 2 usage error or a file\n"
    "could not be read.\n";

typedef struct parse_opts {
    sw_sip_framing framing;
    sw_sip_limits lim;
    sw_sip_header *hdrs;
    uint16_t cap;
} parse_opts;

/* Checks one message at buf[0..len); on failure fills *err (offset relative
 * to buf) and returns the error; else returns the bytes the message used. */
static long check_one(const parse_opts *o, const char *buf, size_t len, sw_sip_error *err)
{
    static sw_sip_msg m; /* large; one at a time */
    memset(err, 0, sizeof *err);
    long r = sw_sip_parse(&m, o->hdrs, o->cap, buf, len, o->framing, &o->lim, err);
    if (r < 0)
        return r;
    int v = sw_sip_validate(&m, err);
    if (v != SW_OK)
        return v;
    return r;
}

/* Prints the result line for one file; returns 0 valid, 1 invalid. */
static int check_buffer(const parse_opts *o, const char *path, const char *buf, size_t len)
{
    sw_sip_error err;
    size_t base = 0;
    long r;
    if (o->framing == SW_SIP_DATAGRAM) {
        r = check_one(o, buf, len, &err);
    } else {
        /* A stream: messages back to back, CRLF keep-alives (RFC 5626) allowed
         * between them; an empty stream is not a message. */
        r = SW_EINCOMPLETE;
        memset(&err, 0, sizeof err);
        err.code = SW_EINCOMPLETE;
        err.reason = "no SIP message";
        for (;;) {
            size_t at = base;
            while (at + 1 < len && buf[at] == '\r' && buf[at + 1] == '\n')
                at += 2;
            if (at >= len && base > 0)
                break; /* everything consumed */
            base = at;
            r = check_one(o, buf + base, len - base, &err);
            if (r <= 0) {
                if (r == 0) {
                    r = SW_EINVAL;
                    err.reason = "empty message";
                }
                break;
            }
            base += (size_t)r;
        }
    }
    if (r > 0) {
        printf("%s\tvalid\n", path);
        return 0;
    }
    const char *reason = err.reason ? err.reason : sw_strerror((int)r);
    printf("%s\tinvalid\toffset %zu: %s\n", path, base + err.offset, reason);
    return 1;
}

/* Long-only options get values outside the char range so that getopt's
 * optopt can never confuse them with a short option. */
enum { OPT_STREAM = 256, OPT_LIMITS };

static int run_parse(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stream", no_argument, NULL, OPT_STREAM},
        {"limits", required_argument, NULL, OPT_LIMITS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    parse_opts o = {.framing = SW_SIP_DATAGRAM};
    sw_sip_limits_default(&o.lim);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_STREAM:
            o.framing = SW_SIP_STREAM;
            break;
        case OPT_LIMITS: {
            char err[200];
            if (cli_parse_limits(optarg, &o.lim, err, sizeof err) < 0)
                return cli_usage("parse", "%s", err);
            break;
        }
        case 'h':
            fputs(parse_usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option("parse", argv, longopts);
        }
    }
    if (optind >= argc)
        return cli_usage("parse", "no FILE given");

    /* The header index is sized by the limit, so max-headers is what bounds
     * the count (the parser also checks it). */
    o.cap = o.lim.max_headers ? o.lim.max_headers : 1;
    o.hdrs = calloc(o.cap, sizeof *o.hdrs);
    if (!o.hdrs) {
        fprintf(stderr, "sipwall parse: out of memory\n");
        return CLI_EXIT_USAGE;
    }

    int any_invalid = 0, any_error = 0;
    for (int i = optind; i < argc; i++) {
        char *buf;
        size_t len;
        int e = cli_read_file(argv[i], &buf, &len);
        if (e) {
            printf("%s\terror\t%s\n", argv[i], strerror(e));
            any_error = 1;
            continue;
        }
        any_invalid |= check_buffer(&o, argv[i], buf, len);
        free(buf);
    }
    free(o.hdrs);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sipwall parse: writing the results: %s\n", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (any_error)
        return CLI_EXIT_USAGE;
    return any_invalid ? CLI_EXIT_FINDING : CLI_EXIT_OK;
}

const cli_command cli_cmd_parse = {
    .name = "parse",
    .run = run_parse,
    .summary = "validate SIP messages stored one per file",
    .usage = parse_usage,
};
