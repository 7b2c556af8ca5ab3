/* The sipwall command-line program: shared declarations of src/cli/.
 * The program uses only the public API in include/; names here are local
 * to the program (cli_ prefix) and never part of libsipwall. */
#ifndef SIPWALL_CLI_H
#define SIPWALL_CLI_H

#include <stdio.h>

#include "sipwall/common.h"

#ifndef SW_VERSION
#define SW_VERSION "0.1.0" /* keep in step with project(VERSION) in CMakeLists.txt */
#endif

/* Exit statuses shared by every command (each command documents its own
 * meaning of 1 and 3). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FINDING = 1, /* parse: some file invalid */
    CLI_EXIT_USAGE = 2,   /* bad arguments, unreadable input, output errors */
    CLI_EXIT_DAMAGED = 3, /* check: a capture was damaged or truncated */
};

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;               /* one line for `sipwall --help` */
    const char *usage;                 /* full text for `sipwall help CMD` */
} cli_command;

extern const cli_command cli_cmd_parse;
extern const cli_command cli_cmd_check;
extern const cli_command cli_cmd_policy;
extern const cli_command cli_cmd_events;
extern const cli_command cli_cmd_assess;
extern const cli_command cli_cmd_admin;
extern const cli_command cli_cmd_exchange;
extern const cli_command cli_cmd_intel;
extern const cli_command cli_cmd_keygen;
extern const cli_command cli_cmd_bundle;

/* Prints "sipwall CMD: message" and a pointer to the help on stderr;
 * returns CLI_EXIT_USAGE so callers can `return cli_usage(...)`. */
int cli_usage(const char *cmd, const char *fmt, ...) SW_PRINTF(2, 3);

/* Reports the option getopt_long just refused (unknown, or missing its
 * value) as a usage error; returns CLI_EXIT_USAGE. */
struct option;
int cli_bad_option(const char *cmd, char **argv, const struct option *longopts);

/* Reads a whole file into a malloc'd buffer (*len bytes, plus a NUL that is
 * not counted so the buffer is never empty).  Returns 0, or an errno value. */
int cli_read_file(const char *path, char **out, size_t *len) SW_WUR SW_NONNULL(1, 2, 3);

/* Parses "max-size=N,max-headers=N,max-header-len=N,max-via=N" (any subset,
 * any order) over *lim.  Returns 0, or -1 with a message in err. */
struct sw_sip_limits;
int cli_parse_limits(const char *spec, struct sw_sip_limits *lim, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2, 3);

/* Prints policy diagnostics ("file:line:col: error: ...") to stderr, each
 * after "PREFIX: " when prefix is not NULL, and how many were not kept. */
struct sw_policy_diags;
void cli_print_policy_diags(const char *prefix, const struct sw_policy_diags *d);

/* sipwall policy explain ARGS (argv[0] is "explain"): policy_explain.c.
 * Returns the command's exit status. */
int cli_policy_explain(int argc, char **argv);

/* Monotonic clock in ns, for elapsed times. */
int64_t cli_now_ns(void);

#endif
