/* sipwall intel: what partners' intelligence would become here.  Reads FSE
 * v1 objects (one JSON object per line, as a partner publishes them) in
 * order through the same consumer sipwalld uses (include/sipwall/intel.h):
 * versions, trust-weighted scores, allowlists of a policy, withdrawal. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sipwall/engine.h"
#include "sipwall/event.h"
#include "sipwall/exchange.h"
#include "sipwall/intel.h"
#include "sipwall/policy.h"

static const char intel_usage[] =
    "usage: sipwall intel list|export [OPTIONS] FILE...\n"
    "       sipwall intel show ID [OPTIONS] FILE...\n"
    "       sipwall intel revoke ID [CONNECTION]\n"
    "\n"
    "Takes the FSE v1 objects in each FILE (one JSON object per line; blank lines\n"
    "and lines starting with '#' skipped) in order, as sipwalld's consumer would at\n"
    "time --at, and shows what they become: per (kind, value) the best score\n"
    "(confidence x the producer's trust / 100), and whether it is enforced (a block,\n"
    "origin feed), an alert, logged, allowlisted, unsupported or withdrawn.\n"
    "Signatures are checked only with --keys.\n"
    "\n"
    "  list     one line per indicator, tab-separated:\n"
    "           STATE SCORE PRODUCER ID KIND VALUE VALID_UNTIL\n"
    "  show ID  the indicator ID as JSON\n"
    "  export   the indicators in force (enforced) as JSON lines\n"
    "  revoke ID  in a running sipwalld: withdraw every producer's copy of the\n"
    "           indicator ID and lift its block, over the admin API (the same as\n"
    "           `sipwall admin intel revoke ID`; CONNECTION options as there)\n"
    "\n"
    "options:\n"
    "  --trust FILE     partners' trust, lines \"partner ORG trust N\" (0..100);\n"
    "                   required: a producer not listed contributes nothing\n"
    "  --policy FILE    its allowlists win over every indicator (default: none;\n"
    "                   emergency numbers always win)\n"
    "  --keys DIR       verify each object's signature with DIR/ORG.jwks (the\n"
    "                   partners' Ed25519 keys); a line that does not verify is\n"
    "                   refused, as sipwalld would quarantine it (default: not checked)\n"
    "  --at TIME        evaluate at TIME (RFC 3339, or \"-2h\"; default now)\n"
    "  --block-score N  score to enforce (default 70); --alert-score N (default 30)\n"
    "  -h, --help       this text\n"
    "\n"
    "exit status: 0 every object was taken, 1 some line was refused (printed on\n"
    "stderr as FILE:LINE: why) or show found nothing, 2 usage error.\n";

typedef struct intel_opts {
    const char *trust, *policy, *at, *keys;
    unsigned block_score, alert_score;
} intel_opts;

static int engine_allow(void *ctx, uint8_t kind, const char *key, char *why, size_t whylen)
{
    return ctx ? sw_engine_allowlisted(ctx, kind, key, why, whylen) : 0;
}

/* The partners' keys: every ORG.jwks in dir.  NULL with a message. */
static sw_fse_keyring *load_keys(const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "sipwall intel: --keys %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    sw_fse_keyring *kr = sw_fse_keyring_new();
    for (struct dirent *de; kr && (de = readdir(dp));) {
        size_t l = strlen(de->d_name);
        if (l <= 5 || l - 5 >= SW_INTEL_PRODUCER_MAX || strcmp(de->d_name + l - 5, ".jwks") != 0)
            continue;
        char org[SW_INTEL_PRODUCER_MAX], path[4096], why[200];
        memcpy(org, de->d_name, l - 5);
        org[l - 5] = '\0';
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        sw_jwks *k = sw_jwks_load(path, why, sizeof why);
        if (!k || sw_fse_keyring_set(kr, org, k) != SW_OK) {
            fprintf(stderr, "sipwall intel: %s: %s\n", path, k ? "too many partners" : why);
            sw_fse_keyring_free(kr);
            kr = NULL;
        }
    }
    closedir(dp);
    return kr;
}

/* Applies the lines of one file; returns how many were refused. */
static unsigned take_file(sw_intel *in, const sw_fse_keyring *kr, const char *path, const char *buf, size_t len,
                          int64_t now)
{
    unsigned bad = 0, lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        const char *line = buf + pos;
        pos += ll + (nl ? 1 : 0);
        size_t s = 0;
        while (s < ll && (line[s] == ' ' || line[s] == '\t' || line[s] == '\r'))
            s++;
        if (s == ll || line[s] == '#')
            continue;
        sw_intel_ind ind;
        char err[200];
        if (kr) {
            sw_fse o;
            int rc = sw_fse_verify(kr, line, ll, &o, err, sizeof err);
            if (rc == SW_OK && (rc = sw_intel_from_fse(&o, &ind)) != SW_OK)
                snprintf(err, sizeof err, "indicator value does not fit an offender key");
            if (rc != SW_OK) {
                fprintf(stderr, "%s:%u: not verified: %s\n", path, lineno, err);
                bad++;
                continue;
            }
        } else if (sw_intel_decode(line, ll, &ind, err, sizeof err) != SW_OK) {
            fprintf(stderr, "%s:%u: %s\n", path, lineno, err);
            bad++;
            continue;
        }
        sw_intel_state st;
        if (sw_intel_apply(in, &ind, now, &st) != SW_OK) {
            fprintf(stderr, "%s:%u: indicator value cannot be a key: %s\n", path, lineno, ind.value);
            bad++;
        } else if (st == SW_INTEL_UNTRUSTED || st == SW_INTEL_REFUSED) {
            fprintf(stderr, "%s:%u: %s %s: %s\n", path, lineno, ind.producer, ind.id, sw_intel_state_name(st));
            bad++;
        }
    }
    return bad;
}

typedef struct collect_ctx {
    sw_intel_entry *v;
    size_t n, cap;
} collect_ctx;

static void collect(void *ctx, const sw_intel_entry *e)
{
    collect_ctx *c = ctx;
    if (c->n < c->cap)
        c->v[c->n++] = *e;
}

/* By producer, then id: the same input lists the same way. */
static int by_producer_id(const void *a, const void *b)
{
    const sw_intel_entry *x = a, *y = b;
    int k = strcmp(x->ind.producer, y->ind.producer);
    return k ? k : strcmp(x->ind.id, y->ind.id);
}

static void print_entry(int mode, const sw_intel_entry *e)
{
    if (mode == 1) {
        if (e->state != SW_INTEL_ENFORCED)
            return;
        json_t *o = sw_intel_entry_json(e);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        char v[SW_EVENT_TS_LEN];
        (void)sw_event_format_ts(e->ind.valid_until, v, sizeof v);
        printf("%s\t%u\t%s\t%s\t%s\t%s\t%s\n", sw_intel_state_name(e->state), e->score, e->ind.producer, e->ind.id,
               e->ind.kind, e->ind.value, v);
    }
}

static int run_intel(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"trust", required_argument, NULL, 't'},       {"policy", required_argument, NULL, 'p'},
        {"at", required_argument, NULL, 'a'},          {"block-score", required_argument, NULL, 'b'},
        {"alert-score", required_argument, NULL, 'l'}, {"keys", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    if (argc < 2)
        return cli_usage("intel", "a subcommand is required (list, show, export, revoke)");
    const char *sub = argv[1];
    if (strcmp(sub, "revoke") == 0) {
        /* sipwalld holds the indicators: the admin API's client does it */
        char **av = calloc((size_t)argc + 2, sizeof *av);
        if (!av)
            return cli_usage("intel", "out of memory");
        av[0] = (char *)"admin";
        av[1] = (char *)"intel";
        for (int i = 1; i < argc; i++)
            av[i + 1] = argv[i];
        int rc = cli_cmd_admin.run(argc + 1, av);
        free(av);
        return rc;
    }
    int mode;
    if (strcmp(sub, "list") == 0)
        mode = 0;
    else if (strcmp(sub, "export") == 0)
        mode = 1;
    else if (strcmp(sub, "show") == 0)
        mode = 2;
    else if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(intel_usage, stdout);
        return CLI_EXIT_OK;
    } else
        return cli_usage("intel", "unknown subcommand '%s' (list, show, export, revoke)", sub);
    intel_opts o = {0};
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 't': o.trust = optarg; break;
        case 'p': o.policy = optarg; break;
        case 'a': o.at = optarg; break;
        case 'k': o.keys = optarg; break;
        case 'b':
        case 'l': {
            unsigned long n = strtoul(optarg, &end, 10);
            if (!*optarg || *end || n > 100)
                return cli_usage("intel", "--%s takes 0..100", c == 'b' ? "block-score" : "alert-score");
            if (c == 'b')
                o.block_score = (unsigned)n;
            else
                o.alert_score = (unsigned)n;
            break;
        }
        case 'h': fputs(intel_usage, stdout); return CLI_EXIT_OK;
        default: return cli_bad_option("intel", argv, longopts);
        }
    }
    const char *show_id = NULL;
    if (mode == 2) {
        if (optind >= argc)
            return cli_usage("intel", "show needs an indicator ID");
        show_id = argv[optind++];
    }
    if (optind >= argc)
        return cli_usage("intel", "no FILE given");
    if (!o.trust)
        return cli_usage("intel", "--trust FILE is required");
    struct timespec tsnow;
    clock_gettime(CLOCK_REALTIME, &tsnow);
    int64_t now = (int64_t)tsnow.tv_sec * 1000000000 + tsnow.tv_nsec;
    char err[256];
    if (o.at && sw_event_parse_time(o.at, now, &now, err, sizeof err) != SW_OK)
        return cli_usage("intel", "--at: %s", err);
    sw_policy *pol = NULL;
    sw_engine *eng = NULL;
    sw_state_store *store = sw_state_mem_new(SW_INTEL_DEFAULT_CAP);
    int rc = CLI_EXIT_USAGE;
    sw_intel *in = NULL;
    sw_fse_keyring *kr = NULL;
    char *buf = NULL;
    size_t len;
    if (!store)
        goto out;
    if (o.policy) {
        const char *paths[1] = {o.policy};
        sw_policy_diags d;
        if (sw_policy_load(paths, 1, &pol, &d) != SW_OK) {
            cli_print_policy_diags("sipwall intel", &d);
            goto out;
        }
        sw_engine_config ec = {.policy = pol, .state = store, .seed = 1};
        eng = sw_engine_new(&ec);
        if (!eng)
            goto out;
    }
    if (o.keys && !(kr = load_keys(o.keys)))
        goto out;
    sw_intel_config ic = {.state = store, .allowlisted = engine_allow, .allow_ctx = eng,
                          .block_score = o.block_score, .alert_score = o.alert_score};
    in = sw_intel_new(&ic);
    if (!in) {
        fprintf(stderr, "sipwall intel: --alert-score must not exceed --block-score\n");
        goto out;
    }
    int e = cli_read_file(o.trust, &buf, &len);
    if (e) {
        fprintf(stderr, "sipwall intel: %s: %s\n", o.trust, strerror(e));
        goto out;
    }
    if (sw_intel_trust_load(in, o.trust, buf, len, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sipwall intel: %s\n", err);
        goto out;
    }
    free(buf);
    buf = NULL;
    unsigned bad = 0;
    for (int i = optind; i < argc; i++) {
        e = cli_read_file(argv[i], &buf, &len);
        if (e) {
            fprintf(stderr, "sipwall intel: %s: %s\n", argv[i], strerror(e));
            goto out;
        }
        bad += take_file(in, kr, argv[i], buf, len, now);
        free(buf);
        buf = NULL;
    }
    (void)sw_intel_tick(in, now);
    rc = bad ? CLI_EXIT_FINDING : CLI_EXIT_OK;
    if (mode == 2) {
        sw_intel_entry ent;
        if (sw_intel_get(in, show_id, &ent) != SW_OK) {
            fprintf(stderr, "sipwall intel: %s: not found\n", show_id);
            rc = CLI_EXIT_FINDING;
        } else {
            json_t *j = sw_intel_entry_json(&ent);
            char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            json_decref(j);
            if (s)
                printf("%s\n", s);
            free(s);
        }
    } else {
        sw_intel_stats ist;
        sw_intel_stats_get(in, &ist);
        collect_ctx cc = {.v = calloc(ist.held ? ist.held : 1, sizeof(sw_intel_entry)), .cap = ist.held};
        if (!cc.v) {
            fprintf(stderr, "sipwall intel: out of memory\n");
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        sw_intel_foreach(in, collect, &cc);
        qsort(cc.v, cc.n, sizeof cc.v[0], by_producer_id);
        for (size_t i = 0; i < cc.n; i++)
            print_entry(mode, &cc.v[i]);
        free(cc.v);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sipwall intel: writing: %s\n", strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
out:
    free(buf);
    sw_fse_keyring_free(kr);
    sw_intel_free(in);
    sw_engine_free(eng);
    sw_state_free(store);
    sw_policy_free(pol);
    return rc;
}

const cli_command cli_cmd_intel = {
    .name = "intel",
    .run = run_intel,
    .summary = "show what partners' FSE indicators would become (scores, blocks)",
    .usage = intel_usage,
};
