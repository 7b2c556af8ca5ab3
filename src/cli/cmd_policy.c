/* sipwall policy check: load policy files as one policy, print the
 * diagnostics, and a one-screen summary of what was compiled.
 * sipwall policy dump: the merged policy in the policy language. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sipwall/policy.h"

static const char policy_usage[] =
    "usage: sipwall policy check FILE...\n"
    "       sipwall policy dump [--policy FILE]... [FILE...]\n"
    "       sipwall policy explain [--policy FILE]... --src IP[:PORT] FILE.sip\n"
    "\n"
    "Reads, checks and compiles the FILEs as one policy (later files overlay\n"
    "earlier ones: a partner, zone, list, detector, role, rule with the same id,\n"
    "home, privacy or limits block defined again replaces the earlier one).  FILE\n"
    "builtin:default is the shipped default policy.  The language is described in\n"
    "docs/policy.md.\n"
    "\n"
    "Every problem is printed to stderr as FILE:LINE:COL: error: MESSAGE.  When\n"
    "there is none, a summary goes to stdout: the policy's name and version,\n"
    "partners by role with their address counts, zones, lists with their entry\n"
    "counts, rules per category and mode, detectors on / monitor / off, the\n"
    "patterns compiled, and the location feed (read now to count its numbers; a\n"
    "feed that cannot be read is reported but is not a policy error).\n"
    "\n"
    "policy dump writes the merged policy (FILEs and --policy files in the order\n"
    "given, default builtin:default) to stdout in the policy language: every\n"
    "definition once, as the later files left it, list files and the location\n"
    "feed by absolute path, detector parameters and limits where they differ\n"
    "from the defaults.  Loading the dump gives the same compiled policy, and\n"
    "dumping it again gives the same text.\n"
    "\n"
    "policy explain says what the policy does with one message from one source:\n"
    "partner or zone, the rules that match, the detectors that count it, the\n"
    "verdict and why (sipwall policy explain --help for its options).\n"
    "\n"
    "options:\n"
    "  -h, --help   this text\n"
    "\n"
    "exit status: 0 the policy is valid, 1 it has errors, 2 usage error or a file\n"
    "that cannot be read.\n";

void cli_print_policy_diags(const char *prefix, const sw_policy_diags *d)
{
    char line[1024];
    const char *sep = prefix ? ": " : "";
    if (!prefix)
        prefix = "";
    for (uint32_t i = 0; i < d->n; i++)
        if (sw_policy_diag_format(&d->d[i], line, sizeof line) > 0)
            fprintf(stderr, "%s%s%s\n", prefix, sep, line);
    uint32_t total = d->errors + d->warnings;
    if (total > d->n)
        fprintf(stderr, "%s%s... and %u more diagnostics (%u errors, %u warnings in all)\n", prefix, sep,
                total - d->n, d->errors, d->warnings);
}

static const char *const kind_names[] = {"numbers", "addresses", "strings", "patterns"};

static void print_summary(const sw_policy *p)
{
    printf("policy \"%s\"", p->name);
    if (p->version && p->version[0])
        printf(" version \"%s\"", p->version);
    printf("\n");
    printf("files:     ");
    for (uint32_t i = 0; i < p->nfiles; i++)
        printf("%s%s", i ? ", " : "", p->files[i]);
    printf("\n");
    if (p->monitor) /* only then: the usual summary stays as it was */
        printf("mode:      monitor (policy-wide: every rule, detector and zone below is monitor-only)\n");

    printf("home:      plmn %s, country code %s, %zu number prefixes, %zu domains\n",
           p->home.plmn[0] ? p->home.plmn : "-",
           p->home.country_code[0] ? p->home.country_code : "-",
           sw_prefix_set_count(p->home.ranges), sw_string_set_count(p->home.domains));

    /* partners by role */
    printf("partners:\n");
    int any = 0;
    for (int r = 1; r < SW_ROLE__COUNT; r++) {
        unsigned n = 0, addrs = 0, trusted = 0;
        for (uint32_t i = 0; i < p->npeers; i++) {
            const sw_peer *pe = p->peers[i];
            if (pe->is_zone || pe->role != (sw_peer_role)r)
                continue;
            n++;
            addrs += pe->naddresses;
            trusted += pe->trusted;
        }
        if (!n)
            continue;
        any = 1;
        printf("  %-13s %3u partners, %4u addresses, %u trusted:", sw_peer_role_name(r), n, addrs,
               trusted);
        unsigned shown = 0;
        for (uint32_t i = 0; i < p->npeers && shown < 6; i++) {
            const sw_peer *pe = p->peers[i];
            if (!pe->is_zone && pe->role == (sw_peer_role)r) {
                printf(" %s", pe->name);
                shown++;
            }
        }
        printf("%s\n", n > shown ? " ..." : "");
    }
    if (!any)
        printf("  (none)\n");
    for (uint32_t i = 0; i < p->npeers; i++) {
        const sw_peer *pe = p->peers[i];
        if (!pe->is_zone)
            continue;
        printf("  zone %-8s admit %s%s, %s, %u addresses\n", pe->name,
               pe->admit == SW_ADMIT_DROP ? "drop" : "screen",
               pe->admit == SW_ADMIT_DROP && pe->admit_monitor ? " (monitor)" : "",
               pe->trusted ? "trusted" : "untrusted", pe->naddresses);
    }

    unsigned named = 0, inline_sets = 0;
    for (uint32_t i = 0; i < p->nlists; i++)
        p->lists[i]->anonymous ? inline_sets++ : named++;
    printf("lists:     %u named, %u inline sets\n", named, inline_sets);
    for (uint32_t i = 0; i < p->nlists; i++) {
        const sw_list *l = p->lists[i];
        if (!l->anonymous)
            printf("  %-20s %-9s %6u entries\n", l->name, kind_names[l->kind], l->count);
    }

    unsigned per[SW_CAT__COUNT][2] = {{0}}, allow = 0;
    for (uint32_t i = 0; i < p->nrules; i++) {
        const sw_rule *r = &p->rules[i];
        if ((unsigned)r->category < SW_CAT__COUNT)
            per[r->category][r->monitor ? 1 : 0]++;
        allow += r->act.action == SW_ACTION_ALLOW;
    }
    printf("rules:     %u (%u allow)\n", p->nrules, allow);
    for (int c = 0; c < SW_CAT__COUNT; c++)
        if (per[c][0] + per[c][1])
            printf("  %-12s %3u enforce, %3u monitor\n", sw_category_name(c), per[c][0],
                   per[c][1]);

    printf("detectors:");
    static const char *const states[] = {"on", "monitor", "off"};
    for (int s = 0; s < 3; s++) {
        printf("%s %s:", s ? ";" : "", states[s]);
        int n = 0;
        for (int d = 0; d < SW_DET__COUNT; d++) {
            const sw_detector_conf *c = &p->detectors[d];
            int st = !c->enabled ? 2 : c->monitor ? 1 : 0;
            if (st == s) {
                printf(" %s", sw_detector_name((sw_detector_id)d));
                n++;
            }
        }
        if (!n)
            printf(" -");
    }
    printf("\n");

    /* patterns: each (field, list) pair used with `matches` once */
    size_t npat = 0;
    unsigned ndb = 0;
    for (int f = 0; f < SW_F__COUNT; f++)
        ndb += p->patterns[f] != NULL;
    for (uint32_t i = 0; i < p->nconds; i++) {
        const sw_cond *c = &p->conds[i];
        if (c->op != SW_COND_MATCHES)
            continue;
        int seen = 0;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = p->conds[j].op == SW_COND_MATCHES && p->conds[j].field == c->field &&
                   p->conds[j].list == c->list;
        if (!seen && c->list < p->nlists)
            npat += p->lists[c->list]->count;
    }
    printf("patterns:  %zu compiled into %u databases\n", npat, ndb);
    if (p->location_feed) {
        /* runtime data: a problem with it is reported, not a policy error */
        static sw_policy_diags fd;
        sw_location_feed *feed = NULL;
        if (sw_location_feed_load(p->location_feed, &feed, &fd) == SW_OK) {
            printf("location feed: %s (%zu numbers, %u bad lines skipped)\n", p->location_feed,
                   sw_location_feed_count(feed), fd.warnings);
            sw_location_feed_free(feed);
        } else {
            printf("location feed: %s (cannot be read now: %s)\n", p->location_feed,
                   fd.n ? fd.d[0].msg : "error");
        }
    }
    printf("limits:    sources %u, numbers %u, dialogs %u, blocks %u, events %u per key per "
           "%llds\n",
           p->limits.sources, p->limits.numbers, p->limits.dialogs, p->limits.blocks,
           p->limits.events_per_key, (long long)(p->limits.event_window_ns / 1000000000));
}

static int run_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(policy_usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_bad_option("policy", argv, longopts);
    }
    if (optind >= argc)
        return cli_usage("policy", "check needs at least one FILE");
    size_t n = (size_t)(argc - optind);
    const char **paths = (const char **)(argv + optind);
    static sw_policy_diags diags;
    sw_policy *p = NULL;
    int rc = sw_policy_load(paths, n, &p, &diags);
    cli_print_policy_diags(NULL, &diags);
    if (rc != SW_OK) {
        fprintf(stderr, "sipwall policy: %u error%s\n", diags.errors, diags.errors == 1 ? "" : "s");
        return rc == SW_EIO ? CLI_EXIT_USAGE : CLI_EXIT_FINDING;
    }
    print_summary(p);
    sw_policy_free(p);
    return CLI_EXIT_OK;
}

static int run_dump(int argc, char **argv)
{
    static const struct option longopts[] = {{"policy", required_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    if (!paths) {
        fprintf(stderr, "sipwall policy: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    size_t n = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hp:", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(policy_usage, stdout);
            free(paths);
            return CLI_EXIT_OK;
        }
        if (c == 'p') {
            paths[n++] = optarg;
            continue;
        }
        free(paths);
        return cli_bad_option("policy", argv, longopts);
    }
    for (int i = optind; i < argc; i++)
        paths[n++] = argv[i];
    if (n == 0)
        paths[n++] = "builtin:default";
    static sw_policy_diags diags;
    char *text = NULL;
    size_t len = 0;
    int rc = sw_policy_dump(paths, n, &text, &len, &diags);
    free(paths);
    cli_print_policy_diags(NULL, &diags);
    if (rc != SW_OK) {
        fprintf(stderr, "sipwall policy: %u error%s\n", diags.errors, diags.errors == 1 ? "" : "s");
        return rc == SW_EIO ? CLI_EXIT_USAGE : CLI_EXIT_FINDING;
    }
    int ok = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0;
    free(text);
    if (!ok) {
        fprintf(stderr, "sipwall policy: cannot write the dump\n");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int policy_run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("policy", "missing subcommand (check, dump, explain)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(policy_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return run_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "dump") == 0)
        return run_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "explain") == 0)
        return cli_policy_explain(argc - 1, argv + 1);
    return cli_usage("policy", "unknown subcommand '%s' (check, dump, explain)", argv[1]);
}

const cli_command cli_cmd_policy = {
    .name = "policy",
    .run = policy_run,
    .summary = "check policy files, dump the merged policy, explain a message "
               "(policy check|dump|explain ...)",
    .usage = policy_usage,
};
