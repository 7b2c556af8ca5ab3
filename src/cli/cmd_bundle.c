/* sipwall keygen: an Ed25519 key pair for signing bundles.
 * sipwall bundle sign|verify|show: make, check and list signed bundles
 * (include/sipwall/bundle.h, docs/bundles.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "sipwall/bundle.h"

static const char keygen_usage[] =
    "usage: sipwall keygen NAME\n"
    "\n"
    "Makes an Ed25519 key pair for signing bundles: NAME.key, the private key\n"
    "(PEM, mode 0600, never overwritten: an existing file is an error) and\n"
    "NAME.pub, the public key that sipwalld trusts (`trust-key NAME.pub`).\n"
    "Prints the key id: the first 16 hex digits of SHA-256 over the raw public\n"
    "key, as bundles name their signer.\n"
    "\n"
    "exit status: 0 made, 2 usage error or a file that cannot be written.\n";

static const char bundle_usage[] =
    "usage: sipwall bundle sign --key FILE --version N --out FILE [-C DIR]\n"
    "                           --policy NAME [--policy NAME]... [--feed NAME] [NAME...]\n"
    "       sipwall bundle verify --trust-key FILE [--trust-key FILE]... [--state MARK] BUNDLE\n"
    "       sipwall bundle show BUNDLE\n"
    "\n"
    "sign packs the named files (read relative to DIR, default the working\n"
    "directory; their names inside the bundle are the NAMEs as given) into one\n"
    "bundle: --policy files are the top-level policies in order, --feed the\n"
    "location feed, the other NAMEs what the policies include or name (lists,\n"
    "partner files).  The manifest (each file's role, size and SHA-256, the\n"
    "version, the creation time and the signer's key id) is signed with the\n"
    "Ed25519 private key.  The version must grow with every bundle: sipwalld\n"
    "refuses an older one.\n"
    "\n"
    "verify checks the signature against the trust keys and every file's hash;\n"
    "with --state, also the version against sipwalld's mark of the last\n"
    "accepted bundle (rollback).  It prints \"ok\" or the reason of the refusal\n"
    "(unsigned, unknown_key, bad_signature, hash_mismatch, rollback, replay,\n"
    "format, too_big, bad_name).\n"
    "\n"
    "show lists the manifest without verifying anything.\n"
    "\n"
    "exit status: 0 ok, 1 the bundle is refused, 2 usage or I/O error.\n";

static int keygen_run(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(keygen_usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_bad_option("keygen", argv, longopts);
    }
    if (argc - optind != 1)
        return cli_usage("keygen", "give one NAME (NAME.key and NAME.pub are made)");
    const char *name = argv[optind];
    size_t n = strlen(name);
    char *priv = malloc(n + 5), *pub = malloc(n + 5);
    if (!priv || !pub) {
        free(priv);
        free(pub);
        return CLI_EXIT_USAGE;
    }
    snprintf(priv, n + 5, "%s.key", name);
    snprintf(pub, n + 5, "%s.pub", name);
    char id[SW_BUNDLE_KEYID_LEN + 1], err[512];
    int rc = sw_bundle_keygen(priv, pub, id, err, sizeof err);
    if (rc == SW_OK)
        printf("key id %s\nprivate key %s (keep it offline)\npublic key %s\n", id, priv, pub);
    else
        fprintf(stderr, "sipwall keygen: %s\n", err);
    free(priv);
    free(pub);
    return rc == SW_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

const cli_command cli_cmd_keygen = {"keygen", keygen_run, "make an Ed25519 key pair for signing bundles",
                                    keygen_usage};

static int read_in(const char *dir, const char *name, char **data, size_t *len)
{
    char path[4096];
    if (dir)
        snprintf(path, sizeof path, "%s/%s", dir, name);
    else
        snprintf(path, sizeof path, "%s", name);
    int e = cli_read_file(path, data, len);
    if (e)
        fprintf(stderr, "sipwall bundle: %s: %s\n", path, strerror(e));
    return e;
}

static int parse_version(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s[0] || s[0] == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int sign_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},        {"key", required_argument, NULL, 'k'},
        {"version", required_argument, NULL, 'V'}, {"out", required_argument, NULL, 'o'},
        {"policy", required_argument, NULL, 'p'}, {"feed", required_argument, NULL, 'f'},
        {"dir", required_argument, NULL, 'C'},     {NULL, 0, NULL, 0}};
    const char *key = NULL, *out = NULL, *dir = NULL;
    uint64_t version = 0;
    sw_bundle_input *in = calloc((size_t)argc + 1, sizeof *in);
    char **bufs = calloc((size_t)argc + 1, sizeof *bufs);
    size_t n = 0;
    int ret = CLI_EXIT_USAGE;
    if (!in || !bufs)
        goto done;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hk:V:o:p:f:C:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(bundle_usage, stdout); ret = CLI_EXIT_OK; goto done;
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'C': dir = optarg; break;
        case 'V':
            if (parse_version(optarg, &version) != 0) {
                ret = cli_usage("bundle", "--version: '%s' is not a number from 1", optarg);
                goto done;
            }
            break;
        case 'p':
        case 'f':
            in[n].name = optarg;
            in[n++].role = c == 'p' ? SW_BUNDLE_ROLE_POLICY : SW_BUNDLE_ROLE_FEED;
            break;
        default: ret = cli_bad_option("bundle", argv, longopts); goto done;
        }
    }
    for (int i = optind; i < argc; i++) {
        in[n].name = argv[i];
        in[n++].role = SW_BUNDLE_ROLE_DATA;
    }
    if (!key || !out || !version) {
        ret = cli_usage("bundle", "sign needs --key, --version and --out");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len;
        if (read_in(dir, in[i].name, &bufs[i], &len) != 0)
            goto done;
        in[i].data = (const uint8_t *)bufs[i];
        in[i].len = len;
    }
    char err[600];
    sw_bundle_key *k = NULL;
    if (sw_bundle_key_load_private(key, &k, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sipwall bundle: %s\n", err);
        goto done;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = sw_bundle_write(in, n, version, (int64_t)time(NULL), k, &data, &len, err, sizeof err);
    if (rc != SW_OK) {
        fprintf(stderr, "sipwall bundle: %s\n", err);
        sw_bundle_key_free(k);
        goto done;
    }
    if (sw_bundle_save_copy(out, data, len) != SW_OK || chmod(out, 0644) != 0) {
        fprintf(stderr, "sipwall bundle: %s: %s\n", out, strerror(errno));
    } else {
        printf("bundle %s: version %llu, %zu files, %zu bytes, signed by key %s\n", out,
               (unsigned long long)version, n, len, sw_bundle_key_id(k));
        ret = CLI_EXIT_OK;
    }
    free(data);
    sw_bundle_key_free(k);
done:
    for (size_t i = 0; bufs && i < n; i++)
        free(bufs[i]);
    free(bufs);
    free(in);
    return ret;
}

static int verify_run(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"trust-key", required_argument, NULL, 't'},
                                             {"state", required_argument, NULL, 's'},
                                             {NULL, 0, NULL, 0}};
    sw_bundle_key *keys[8] = {0};
    sw_bundle_trust trust[8];
    size_t nk = 0;
    const char *state = NULL;
    int ret = CLI_EXIT_USAGE;
    char err[600];
    sw_bundle *b = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+ht:s:", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(bundle_usage, stdout);
            ret = CLI_EXIT_OK;
            goto done;
        }
        if (c == 's') {
            state = optarg;
            continue;
        }
        if (c == 't') {
            if (nk == 8) {
                ret = cli_usage("bundle", "at most 8 trust keys");
                goto done;
            }
            if (sw_bundle_key_load_public(optarg, &keys[nk], err, sizeof err) != SW_OK) {
                fprintf(stderr, "sipwall bundle: %s\n", err);
                goto done;
            }
            trust[nk].key = keys[nk];
            trust[nk].retiring = 0;
            nk++;
            continue;
        }
        ret = cli_bad_option("bundle", argv, longopts);
        goto done;
    }
    if (argc - optind != 1 || nk == 0) {
        ret = cli_usage("bundle", "verify needs --trust-key and one BUNDLE");
        goto done;
    }
    sw_bundle_status st = sw_bundle_load(argv[optind], &b, err, sizeof err);
    if (st == SW_BUNDLE_OK)
        st = sw_bundle_verify(b, trust, nk, NULL, err, sizeof err);
    if (st == SW_BUNDLE_OK && state) {
        sw_bundle_mark m;
        int mr = sw_bundle_mark_read(state, &m);
        if (mr != SW_OK && mr != SW_ENOTFOUND) {
            fprintf(stderr, "sipwall bundle: %s: %s\n", state, sw_strerror(mr));
            goto done;
        }
        st = sw_bundle_check_version(b, mr == SW_OK ? &m : NULL, err, sizeof err);
    }
    if (st == SW_BUNDLE_IO || st == SW_BUNDLE_NOMEM) {
        fprintf(stderr, "sipwall bundle: %s\n", err);
        goto done;
    }
    if (st == SW_BUNDLE_OK) {
        printf("ok version %llu signer %s files %zu\n", (unsigned long long)sw_bundle_version(b),
               sw_bundle_signer(b), sw_bundle_nfiles(b));
        ret = CLI_EXIT_OK;
    } else {
        printf("refused %s: %s\n", sw_bundle_status_name(st), err);
        ret = CLI_EXIT_FINDING;
    }
done:
    sw_bundle_free(b);
    for (size_t i = 0; i < nk; i++)
        sw_bundle_key_free(keys[i]);
    return ret;
}

static int show_run(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
            fputs(bundle_usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_usage("bundle", "show needs one BUNDLE");
    }
    sw_bundle *b = NULL;
    char err[600];
    sw_bundle_status st = sw_bundle_load(argv[1], &b, err, sizeof err);
    if (st != SW_BUNDLE_OK) {
        printf("refused %s: %s\n", sw_bundle_status_name(st), err);
        return st == SW_BUNDLE_IO || st == SW_BUNDLE_NOMEM ? CLI_EXIT_USAGE : CLI_EXIT_FINDING;
    }
    time_t t = (time_t)sw_bundle_created(b);
    struct tm tm;
    char when[40] = "?";
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char hx[65];
    sw_bundle_hex(sw_bundle_sha256(b), 32, hx);
    printf("version %llu\ncreated %s\nsigner %s\nsha256 %s\nfiles %zu (not verified: see bundle "
           "verify)\n",
           (unsigned long long)sw_bundle_version(b), when,
           sw_bundle_signer(b)[0] ? sw_bundle_signer(b) : "none (unsigned)", hx, sw_bundle_nfiles(b));
    for (size_t i = 0; i < sw_bundle_nfiles(b); i++) {
        const sw_bundle_file *f = sw_bundle_file_at(b, i);
        sw_bundle_hex(f->sha256, 32, hx);
        printf("  %-6s %10zu %s %s\n", sw_bundle_role_name(f->role), f->len, hx, f->name);
    }
    sw_bundle_free(b);
    return CLI_EXIT_OK;
}

static int bundle_run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("bundle", "give sign, verify or show");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(bundle_usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(sub, "sign") == 0)
        return sign_run(argc - 1, argv + 1);
    if (strcmp(sub, "verify") == 0)
        return verify_run(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return show_run(argc - 1, argv + 1);
    return cli_usage("bundle", "unknown subcommand '%s' (sign, verify, show)", sub);
}

const cli_command cli_cmd_bundle = {"bundle", bundle_run, "sign, verify and list signed policy bundles",
                                    bundle_usage};
