/* sipwall: command dispatch, global help and version, shared helpers. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "sipwall/sip.h"

static const cli_command *const commands[] = {&cli_cmd_parse, &cli_cmd_check, &cli_cmd_policy,
                                              &cli_cmd_events, &cli_cmd_assess, &cli_cmd_admin,
                                              &cli_cmd_exchange, &cli_cmd_intel, &cli_cmd_keygen,
                                              &cli_cmd_bundle};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_general_help(FILE *out)
{
    fprintf(out,
            "usage: sipwall COMMAND [OPTIONS] [ARGS]\n"
            "       sipwall help COMMAND | --help | --version\n"
            "\n"
            "sipwall screens SIP signalling at an operator's interconnect (GSMA FS.38).\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-8s %s\n", "help", "show the help of a command");
    fprintf(out, "\nexit status: 0 success, 2 usage or I/O error; see `sipwall help COMMAND`.\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sipwall%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        fprintf(stderr, "Try 'sipwall help %s'.\n", cmd);
    else
        fprintf(stderr, "Try 'sipwall --help'.\n");
    return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, char **argv, const struct option *longopts)
{
    /* getopt_long has already advanced optind past the offending word; for a
     * known long option optopt holds its val. */
    const char *word = optind > 0 ? argv[optind - 1] : "";
    if (optopt) {
        for (const struct option *o = longopts; o->name; o++) {
            if (o->val != optopt)
                continue;
            if (o->has_arg == required_argument)
                return cli_usage(cmd, "option --%s needs a value", o->name);
            return cli_usage(cmd, "option --%s takes no value", o->name);
        }
        if (strncmp(word, "--", 2) != 0 && optopt > ' ' && optopt < 127)
            return cli_usage(cmd, "unknown option '-%c'", optopt);
    }
    return cli_usage(cmd, "unknown option '%s'", word);
}

int cli_read_file(const char *path, char **out, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (!fp)
        return errno;
    for (;;) {
        if (cap - n < 4096) {
            /* Grow geometrically; files given to `parse` are messages, but
             * nothing stops a user from passing something large. */
            size_t ncap = cap ? cap * 2 : 8192;
            char *p = realloc(buf, ncap + 1);
            if (!p) {
                free(buf);
                fclose(fp);
                return ENOMEM;
            }
            buf = p;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0) {
            int e = ferror(fp) ? (errno ? errno : EIO) : 0;
            fclose(fp);
            if (e) {
                free(buf);
                return e;
            }
            break;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cli_parse_limits(const char *spec, sw_sip_limits *lim, char *err, size_t errlen)
{
    const char *p = spec;
    if (*p == '\0') {
        snprintf(err, errlen, "empty --limits");
        return -1;
    }
    while (*p) {
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if (!eq || eq > end) {
            snprintf(err, errlen, "--limits: expected NAME=N in '%.*s'", (int)(end - p), p);
            return -1;
        }
        sw_str name = sw_str_make(p, (size_t)(eq - p));
        const char *v = eq + 1;
        char *vend;
        errno = 0;
        unsigned long long n = (*v >= '0' && *v <= '9') ? strtoull(v, &vend, 10) : 0;
        if (!(*v >= '0' && *v <= '9') || vend != end || errno != 0 || n == 0) {
            snprintf(err, errlen, "--limits: '%.*s' needs a positive integer", (int)name.len,
                     name.ptr);
            return -1;
        }
        if (sw_str_eq(name, SW_STR_LIT("max-size"))) {
            lim->max_msg_size = (size_t)n;
        } else if (sw_str_eq(name, SW_STR_LIT("max-header-len"))) {
            lim->max_header_len = (size_t)n;
        } else if (sw_str_eq(name, SW_STR_LIT("max-headers"))) {
            if (n > 65534) {
                snprintf(err, errlen, "--limits: max-headers is at most 65534");
                return -1;
            }
            lim->max_headers = (uint16_t)n;
        } else if (sw_str_eq(name, SW_STR_LIT("max-via"))) {
            if (n > 65535) {
                snprintf(err, errlen, "--limits: max-via is at most 65535");
                return -1;
            }
            lim->max_via = (uint16_t)n;
        } else {
            snprintf(err, errlen,
                     "--limits: unknown limit '%.*s' (max-size, max-headers, max-header-len, "
                     "max-via)",
                     (int)name.len, name.ptr);
            return -1;
        }
        p = *end ? end + 1 : end;
        if (*end && *p == '\0') {
            snprintf(err, errlen, "--limits: trailing ','");
            return -1;
        }
    }
    return 0;
}

int64_t cli_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_general_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        print_general_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0 || strcmp(a, "version") == 0) {
        printf("sipwall %s\n", SW_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(a, "help") == 0) {
        if (argc == 2) {
            print_general_help(stdout);
            return CLI_EXIT_OK;
        }
        if (argc > 3)
            return cli_usage("help", "one command at a time");
        const cli_command *c = find_command(argv[2]);
        if (!c)
            return cli_usage(NULL, "unknown command '%s'", argv[2]);
        fputs(c->usage, stdout);
        return CLI_EXIT_OK;
    }
    if (a[0] == '-')
        return cli_usage(NULL, "unknown option '%s' (a command comes first)", a);
    const cli_command *c = find_command(a);
    if (!c)
        return cli_usage(NULL, "unknown command '%s'", a);
    return c->run(argc - 1, argv + 1);
}
