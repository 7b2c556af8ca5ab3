/* sipwall check --export-stix/--export-misp/--export-csv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "export.h"

#define EXPORT_MAX_INDICATORS 100000 /* a bound on what one run shares */

int cli_export_wanted(const cli_export *x) { return x->stix || x->misp || x->csv; }

int cli_export_option(cli_export *x, const char *name, const char *arg)
{
    const char **slot = NULL;
    if (!strcmp(name, "export-stix"))
        slot = &x->stix;
    else if (!strcmp(name, "export-misp"))
        slot = &x->misp;
    else if (!strcmp(name, "export-csv"))
        slot = &x->csv;
    else if (!strcmp(name, "export-org"))
        slot = &x->org;
    else
        return 0;
    if (*slot)
        return cli_usage("check", "--%s given twice", name);
    if (!arg[0])
        return cli_usage("check", "--%s needs a value", name);
    if (slot == &x->org) {
        size_t n = strlen(arg);
        for (size_t i = 0; i < n; i++)
            if (!((arg[i] >= 'A' && arg[i] <= 'Z') || (arg[i] >= 'a' && arg[i] <= 'z') ||
                  (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '-' || arg[i] == '_' || arg[i] == '.'))
                return cli_usage("check", "--export-org: letters, digits, - _ . only");
        if (n > 64)
            return cli_usage("check", "--export-org: at most 64 characters");
    }
    *slot = arg;
    return 1;
}

sw_event_sink *cli_export_start(cli_export *x)
{
    sw_xo_producer p = {.org = x->org ? x->org : "local"};
    x->set = sw_xo_set_new(&p, EXPORT_MAX_INDICATORS);
    return x->set ? sw_xo_set_sink(x->set) : NULL;
}

static int write_text(const char *path, const char *text, size_t len)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!fp)
        return -1;
    size_t w = fwrite(text, 1, len, fp);
    int ok = w == len && fputc('\n', fp) != EOF;
    if (fp == stdout)
        ok = ok && fflush(fp) == 0;
    else
        ok = (fclose(fp) == 0) && ok;
    return ok ? 0 : -1;
}

int cli_export_finish(cli_export *x, FILE *out, int quiet)
{
    sw_xo_producer p = {.org = x->org ? x->org : "local"};
    size_t n = 0;
    const sw_xo_ind *v = sw_xo_set_items(x->set, &n);
    int status = CLI_EXIT_OK;
    if (sw_xo_set_dropped(x->set))
        fprintf(stderr, "sipwall check: export: %llu indicators over the limit of %d were not exported\n",
                (unsigned long long)sw_xo_set_dropped(x->set), EXPORT_MAX_INDICATORS);
    if (x->stix) {
        size_t len = 0, bad = 0;
        const char *why = NULL;
        char *text = sw_stix_bundle(&p, v, n, &len, &why, &bad);
        if (!text) {
            fprintf(stderr, "sipwall check: --export-stix: %s\n", why ? why : "failed");
            status = CLI_EXIT_USAGE;
        } else if (write_text(x->stix, text, len) != 0) {
            fprintf(stderr, "sipwall check: %s: %s\n", x->stix, strerror(errno ? errno : EIO));
            status = CLI_EXIT_USAGE;
        } else if (!quiet) {
            fprintf(out, "export        STIX 2.1 bundle, %zu indicators, written to %s\n", n, x->stix);
        }
        free(text);
    }
    if (x->misp) {
        char err[512] = "";
        if (mkdir(x->misp, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "sipwall check: %s: %s\n", x->misp, strerror(errno));
            status = CLI_EXIT_USAGE;
        } else if (sw_misp_feed_write(x->misp, &p, v, n, err, sizeof err) != SW_OK) {
            fprintf(stderr, "sipwall check: --export-misp: %s\n", err);
            status = CLI_EXIT_USAGE;
        } else if (!quiet) {
            fprintf(out, "export        MISP feed, %zu attributes, written to %s/\n", n, x->misp);
        }
    }
    if (x->csv) {
        FILE *fp = strcmp(x->csv, "-") == 0 ? stdout : fopen(x->csv, "w");
        int r = fp ? sw_xo_csv_write(fp, v, n) : SW_EIO;
        if (fp && fp != stdout && fclose(fp) != 0)
            r = SW_EIO;
        if (r != SW_OK) {
            fprintf(stderr, "sipwall check: %s: cannot write\n", x->csv);
            status = CLI_EXIT_USAGE;
        } else if (!quiet) {
            fprintf(out, "export        CSV, %zu indicators, written to %s\n", n, x->csv);
        }
    }
    return status;
}

void cli_export_free(cli_export *x)
{
    sw_xo_set_free(x->set);
    x->set = NULL;
}
