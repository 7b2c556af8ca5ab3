/* sipwall check --export-stix/--export-misp/--export-csv. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "export.h"

#define EXPORT_MAX_INDICATORS 20000 /* a bound on what one run shares */

int cli_export_wanted(const cli_export *x) { return x->stix || x->misp || x->csv || x->fse; }

int cli_export_option(cli_export *x, const char *name, const char *arg)
{
    const char **slot = NULL;
    if (!strcmp(name, "export-tlp1")) {
        x->tlp1 = 1;
        return 1;
    }
    if (!arg)
        return cli_usage("check", "--%s needs a value", name);
    if (!strcmp(name, "export-stix"))
        slot = &x->stix;
    else if (!strcmp(name, "export-misp"))
        slot = &x->misp;
    else if (!strcmp(name, "export-csv"))
        slot = &x->csv;
    else if (!strcmp(name, "export-fse"))
        slot = &x->fse;
    else if (!strcmp(name, "export-org"))
        slot = &x->org;
    else if (!strcmp(name, "export-policy"))
        slot = &x->policy_path;
    else if (!strcmp(name, "export-group"))
        slot = &x->group;
    else if (!strcmp(name, "sign-key"))
        slot = &x->key_path;
    else if (!strcmp(name, "sign-kid"))
        slot = &x->kid;
    else
        return cli_usage("check", "unknown option --%s", name);
    if (*slot)
        return cli_usage("check", "--%s given twice", name);
    if (!arg[0])
        return cli_usage("check", "--%s needs a value", name);
    if (slot == &x->org || slot == &x->kid || slot == &x->group) {
        size_t n = strlen(arg);
        for (size_t i = 0; i < n; i++)
            if (!((arg[i] >= 'A' && arg[i] <= 'Z') || (arg[i] >= 'a' && arg[i] <= 'z') ||
                  (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '-' || arg[i] == '_' || arg[i] == '.' || arg[i] == ':'))
                return cli_usage("check", "--%s: letters, digits, - _ . : only", name);
        if (n > 63)
            return cli_usage("check", "--%s: at most 63 characters", name);
    }
    *slot = arg;
    return 1;
}

sw_event_sink *cli_export_start(cli_export *x)
{
    char err[512] = "";
    if (x->policy_path && x->org) {
        cli_usage("check", "--export-org is for the built-in policy; the export policy names its producer");
        return NULL;
    }
    if (x->group && !x->policy_path) {
        cli_usage("check", "--export-group needs --export-policy");
        return NULL;
    }
    if (x->key_path && !x->kid && x->policy_path) {
        cli_usage("check", "--sign-key with --export-policy needs --sign-kid (the producer's key id)");
        return NULL;
    }
    if (x->kid && !x->key_path) {
        cli_usage("check", "--sign-kid needs --sign-key");
        return NULL;
    }
    if (x->policy_path && !(x->policy = sw_export_policy_load(x->policy_path, err, sizeof err))) {
        fprintf(stderr, "sipwall check: %s: %s\n", x->policy_path, err);
        return NULL;
    }
    if (x->group && !sw_export_policy_group(x->policy, 0)) {
        fprintf(stderr, "sipwall check: %s: exports to no trust group\n", x->policy_path);
        return NULL;
    }
    if (x->group) {
        int found = 0;
        for (size_t i = 0; sw_export_policy_group(x->policy, i); i++)
            found |= !strcmp(sw_export_policy_group(x->policy, i), x->group);
        if (!found) {
            fprintf(stderr, "sipwall check: %s: no export to trust group '%s'\n", x->policy_path, x->group);
            return NULL;
        }
    }
    if (x->key_path) {
        char kid[80];
        snprintf(kid, sizeof kid, "%s:1", x->org ? x->org : "local");
        if (!(x->key = sw_jws_key_load(x->key_path, x->kid ? x->kid : kid, err, sizeof err))) {
            fprintf(stderr, "sipwall check: --sign-key %s: %s\n", x->key_path, err);
            return NULL;
        }
    }
    x->set = sw_xo_set_new(x->org ? x->org : "local", x->policy, x->group, EXPORT_MAX_INDICATORS);
    if (!x->set) {
        fprintf(stderr, "sipwall check: export: out of memory or no trust group\n");
        return NULL;
    }
    return sw_xo_set_sink(x->set);
}

/* The FSE objects as one JSON array, one object a line. */
static int write_fse(const char *path, const sw_fse *v, size_t n)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!fp)
        return -1;
    int ok = fputs("[", fp) != EOF;
    for (size_t i = 0; i < n && ok; i++) {
        size_t len = 0;
        char *t = sw_fse_encode(&v[i], 1, &len);
        ok = t && fprintf(fp, "%s\n%s", i ? "," : "", t) > 0;
        free(t);
    }
    ok = ok && fputs("]\n", fp) != EOF;
    if (fp == stdout)
        ok = fflush(fp) == 0 && ok;
    else
        ok = fclose(fp) == 0 && ok;
    return ok ? 0 : -1;
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
    int status = CLI_EXIT_OK;
    if (x->key && sw_xo_set_sign(x->set, x->key, SW_JWS_EDDSA) != SW_OK) {
        fprintf(stderr, "sipwall check: --sign-key: signing failed\n");
        return CLI_EXIT_USAGE;
    }
    size_t n = 0, nf = 0;
    const sw_fse *f = sw_xo_set_fse(x->set, &nf);
    /* The producer is the policy's (every object carries it). */
    sw_xo_producer p = {.org = nf ? f[0].org : x->org ? x->org : "local", .tlp1 = (uint8_t)x->tlp1};
    const sw_xo_ind *v = sw_xo_set_items(x->set, &n);
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
    if (x->fse) {
        f = sw_xo_set_fse(x->set, &nf);
        if (write_fse(x->fse, f, nf) != 0) {
            fprintf(stderr, "sipwall check: %s: cannot write\n", x->fse);
            status = CLI_EXIT_USAGE;
        } else if (!quiet) {
            fprintf(out, "export        FSE v1, %zu objects%s, written to %s\n", nf, x->key ? ", signed" : "",
                    x->fse);
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
    sw_export_policy_free(x->policy);
    sw_jws_key_free(x->key);
    x->set = NULL;
    x->policy = NULL;
    x->key = NULL;
}
