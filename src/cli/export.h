/* sipwall check --export-*: what a capture's detections would share with
 * partners (docs/exchange.md "Offline export"). */
#ifndef SIPWALL_CLI_EXPORT_H
#define SIPWALL_CLI_EXPORT_H

#include <stdio.h>

#include "sipwall/event.h"
#include "sipwall/exchange.h"
#include "sipwall/exchange_fmt.h"

typedef struct cli_export {
    const char *stix, *misp, *csv, *fse; /* output paths, NULL = not asked for */
    const char *org;                     /* --export-org (built-in policy), default "local" */
    const char *policy_path, *group;     /* --export-policy, --export-group */
    const char *key_path, *kid;          /* --sign-key, --sign-kid */
    int tlp1;                            /* --export-tlp1 */
    sw_export_policy *policy;
    sw_jws_key *key;
    sw_xo_set *set;
} cli_export;

/* 1 when any export was asked for. */
int cli_export_wanted(const cli_export *x);
/* Handles one --export-* / --sign-* option (its name without dashes and
 * optarg): 1 when taken, CLI_EXIT_USAGE (after a message) when misused. */
int cli_export_option(cli_export *x, const char *name, const char *arg);
/* Loads the policy and key and makes the indicator set; returns its sink
 * (to tee with the others), or NULL after a message on stderr. */
sw_event_sink *cli_export_start(cli_export *x);
/* Signs when asked, writes the asked-for files; a line per file on out
 * unless quiet.  CLI_EXIT_OK or CLI_EXIT_USAGE (a message on stderr). */
int cli_export_finish(cli_export *x, FILE *out, int quiet);
void cli_export_free(cli_export *x);

#endif
