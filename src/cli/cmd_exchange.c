/* sipwall exchange: FSE v1 keys, canonical JSON, signing and verification
 * from the shell (docs/exchange.md). */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sipwall/exchange.h"

static const char exchange_usage[] =
    "usage: sipwall exchange keygen --kid KID --key KEY.pem --jwks PUB.jwks\n"
    "       sipwall exchange jcs FILE\n"
    "       sipwall exchange sign --key KEY.pem --kid KID [--alg EdDSA|Ed25519]\n"
    "                             [--b64 true|false] FILE\n"
    "       sipwall exchange verify --partner ORG=JWKS [--partner ...] FILE\n"
    "       sipwall exchange jws-sign --key KEY.pem --kid KID [--alg A] [--b64 B] PAYLOAD\n"
    "       sipwall exchange jws-verify --jwks JWKS PAYLOAD JWS\n"
    "       sipwall exchange policy-check FILE\n"
    "       sipwall exchange taxii-hash < SECRET\n"
    "\n"
    "keygen writes a new Ed25519 private key (PKCS#8 PEM, mode 0600, never over\n"
    "an existing file) and its public JWKS, the file partners load.\n"
    "jcs prints the RFC 8785 canonical form of a JSON file.\n"
    "sign reads an FSE v1 object or a JSON array of them and prints a JSON array\n"
    "of the objects signed (detached JWS in \"sig\"; default alg EdDSA, b64 false).\n"
    "verify checks a JSON array of signed objects against the partners' JWKS:\n"
    "the verified objects go to stdout (one per line), each object that fails to\n"
    "stderr as \"quarantined: ORG ID: REASON\".\n"
    "jws-sign / jws-verify sign and verify raw payload bytes (interop checks).\n"
    "policy-check reads an export policy and prints its trust groups, or the\n"
    "first error as \"FILE: line N: reason\".\n"
    "taxii-hash reads a TAXII user's secret (one line, 12..256 bytes) on stdin and\n"
    "prints its Argon2id hash, what a `taxii user NAME secret HASH` line holds.\n"
    "\n"
    "exit status: 0 ok, 1 verification failed (verify: any object quarantined;\n"
    "policy-check: the policy has an error),\n"
    "2 usage error or unreadable input.\n";

#define CMD "exchange"

static int cmd_taxii_hash(int argc)
{
    if (argc)
        return cli_usage(CMD, "taxii-hash takes no operands (the secret comes on stdin)");
    char sec[300], hash[crypto_pwhash_STRBYTES];
    if (!fgets(sec, sizeof sec, stdin)) {
        fprintf(stderr, "sipwall exchange taxii-hash: no secret on stdin\n");
        return CLI_EXIT_USAGE;
    }
    sec[strcspn(sec, "\r\n")] = '\0';
    size_t n = strlen(sec);
    if (n < 12 || n > 256) {
        sodium_memzero(sec, sizeof sec);
        fprintf(stderr, "sipwall exchange taxii-hash: the secret must be 12..256 bytes\n");
        return CLI_EXIT_USAGE;
    }
    /* the admin credential's cost: opslimit 2, 19 MiB */
    int rc = sodium_init() < 0 || crypto_pwhash_str(hash, sec, n, 2, 19u * 1024 * 1024) != 0;
    sodium_memzero(sec, sizeof sec);
    if (rc) {
        fprintf(stderr, "sipwall exchange taxii-hash: out of memory for Argon2id\n");
        return CLI_EXIT_USAGE;
    }
    printf("%s\n", hash);
    return CLI_EXIT_OK;
}

static int opts_alg(const char *s, sw_jws_alg *alg)
{
    if (strcmp(s, "EdDSA") == 0)
        *alg = SW_JWS_EDDSA;
    else if (strcmp(s, "Ed25519") == 0)
        *alg = SW_JWS_ED25519;
    else
        return -1;
    return 0;
}

static int opts_bool(const char *s, int *b)
{
    if (strcmp(s, "true") == 0)
        *b = 1;
    else if (strcmp(s, "false") == 0)
        *b = 0;
    else
        return -1;
    return 0;
}

typedef struct xopts {
    const char *key, *kid, *jwks;
    sw_jws_alg alg;
    int b64;
    const char *partners[SW_KEYRING_MAX_PARTNERS];
    size_t npartners;
} xopts;

static int parse_opts(int argc, char **argv, xopts *o)
{
    static const struct option lo[] = {
        {"key", required_argument, 0, 'k'},  {"kid", required_argument, 0, 'i'},
        {"jwks", required_argument, 0, 'j'}, {"alg", required_argument, 0, 'a'},
        {"b64", required_argument, 0, 'b'},  {"partner", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->alg = SW_JWS_EDDSA;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
        switch (c) {
        case 'k': o->key = optarg; break;
        case 'i': o->kid = optarg; break;
        case 'j': o->jwks = optarg; break;
        case 'a':
            if (opts_alg(optarg, &o->alg) != 0)
                return cli_usage(CMD, "--alg: EdDSA or Ed25519");
            break;
        case 'b':
            if (opts_bool(optarg, &o->b64) != 0)
                return cli_usage(CMD, "--b64: true or false");
            break;
        case 'p':
            if (o->npartners == SW_KEYRING_MAX_PARTNERS)
                return cli_usage(CMD, "too many --partner");
            o->partners[o->npartners++] = optarg;
            break;
        case 'h': fputs(exchange_usage, stdout); return -1;
        default: return cli_bad_option(CMD, argv, lo);
        }
    }
    return 0;
}

static int cmd_keygen(const xopts *o)
{
    char err[256];
    if (!o->kid || !o->key || !o->jwks)
        return cli_usage(CMD, "keygen needs --kid, --key and --jwks");
    sw_jws_key *k = sw_jws_key_generate(o->kid);
    if (!k)
        return cli_usage(CMD, "cannot generate a key (kid must be [A-Za-z0-9._:-]{1,63})");
    if (sw_jws_key_write_private(k, o->key, err, sizeof err) != SW_OK) {
        fprintf(stderr, "sipwall exchange: %s\n", err);
        sw_jws_key_free(k);
        return CLI_EXIT_USAGE;
    }
    char *jwks = sw_jws_key_public_jwks(k);
    FILE *f = jwks ? fopen(o->jwks, "wxe") : NULL;
    int rc = CLI_EXIT_OK;
    if (!f || fprintf(f, "%s\n", jwks) < 0 || fclose(f) != 0) {
        fprintf(stderr, "sipwall exchange: %s: cannot write the JWKS\n", o->jwks);
        rc = CLI_EXIT_USAGE;
    }
    free(jwks);
    sw_jws_key_free(k);
    return rc;
}

static int read_arg(const char *path, char **buf, size_t *len)
{
    if (cli_read_file(path, buf, len) != 0) {
        fprintf(stderr, "sipwall exchange: %s: cannot read\n", path);
        return -1;
    }
    return 0;
}

static int cmd_jcs(int argc, char **argv)
{
    if (argc != 1)
        return cli_usage(CMD, "jcs FILE");
    char *buf, err[256];
    size_t len, ol;
    if (read_arg(argv[0], &buf, &len) != 0)
        return CLI_EXIT_USAGE;
    char *out = sw_jcs(buf, len, &ol, err, sizeof err);
    free(buf);
    if (!out) {
        fprintf(stderr, "sipwall exchange: %s: %s\n", argv[0], err);
        return CLI_EXIT_FINDING;
    }
    fwrite(out, 1, ol, stdout);
    free(out);
    return CLI_EXIT_OK;
}

static sw_jws_key *load_key(const xopts *o)
{
    char err[256];
    if (!o->key || !o->kid) {
        cli_usage(CMD, "needs --key and --kid");
        return NULL;
    }
    sw_jws_key *k = sw_jws_key_load(o->key, o->kid, err, sizeof err);
    if (!k)
        fprintf(stderr, "sipwall exchange: %s\n", err);
    return k;
}

/* Splits a JSON array (or one object) into element texts via jansson. */
static int cmd_sign(const xopts *o, int argc, char **argv)
{
    if (argc != 1)
        return cli_usage(CMD, "sign FILE");
    sw_jws_key *k = load_key(o);
    if (!k)
        return CLI_EXIT_USAGE;
    char *buf, err[256];
    size_t len;
    if (read_arg(argv[0], &buf, &len) != 0) {
        sw_jws_key_free(k);
        return CLI_EXIT_USAGE;
    }
    /* Elements: decode each with the strict decoder. */
    char *canon;
    size_t cl;
    canon = sw_jcs(buf, len, &cl, err, sizeof err);
    free(buf);
    int rc = CLI_EXIT_OK;
    if (!canon) {
        fprintf(stderr, "sipwall exchange: %s: %s\n", argv[0], err);
        sw_jws_key_free(k);
        return CLI_EXIT_FINDING;
    }
    /* canon is compact JSON: an object, or an array of objects whose
     * elements are separated by "},{" at depth 1. */
    const char *p = canon, *end = canon + cl;
    int array = *p == '[';
    if (array)
        p++, end--;
    fputs("[", stdout);
    int first = 1;
    while (p < end) {
        const char *s = p;
        int depth = 0, in_str = 0;
        for (; p < end; p++) {
            if (in_str) {
                if (*p == '\\')
                    p++;
                else if (*p == '"')
                    in_str = 0;
            } else if (*p == '"')
                in_str = 1;
            else if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']')
                depth--;
            else if (*p == ',' && depth == 0)
                break;
        }
        sw_fse obj;
        if (sw_fse_decode(s, (size_t)(p - s), &obj, err, sizeof err) != SW_OK ||
            sw_fse_sign(&obj, k, o->alg, o->b64) != SW_OK) {
            fprintf(stderr, "sipwall exchange: %s: %s\n", argv[0], err);
            rc = CLI_EXIT_FINDING;
            break;
        }
        size_t el;
        char *enc = sw_fse_encode(&obj, 1, &el);
        if (!enc) {
            rc = CLI_EXIT_USAGE;
            break;
        }
        printf("%s\n%s", first ? "" : ",", enc);
        first = 0;
        free(enc);
        if (p < end)
            p++;
    }
    fputs("\n]\n", stdout);
    free(canon);
    sw_jws_key_free(k);
    return rc;
}

static int print_accepted(void *arg, const sw_fse *o)
{
    (void)arg;
    size_t len;
    char *enc = sw_fse_encode(o, 1, &len);
    if (enc)
        printf("%s\n", enc);
    free(enc);
    return 0;
}

static int cmd_verify(const xopts *o, int argc, char **argv)
{
    if (argc != 1 || o->npartners == 0)
        return cli_usage(CMD, "verify --partner ORG=JWKS... FILE");
    char err[256];
    sw_fse_keyring *kr = sw_fse_keyring_new();
    sw_quarantine *q = sw_quarantine_new(10000);
    int rc = CLI_EXIT_USAGE;
    char *buf = NULL;
    size_t len, nq = 0;
    if (!kr || !q)
        goto out;
    for (size_t i = 0; i < o->npartners; i++) {
        const char *eq = strchr(o->partners[i], '=');
        char org[SW_FSE_NAME_MAX];
        if (!eq || eq == o->partners[i] || (size_t)(eq - o->partners[i]) >= sizeof org) {
            rc = cli_usage(CMD, "--partner ORG=JWKS");
            goto out;
        }
        memcpy(org, o->partners[i], (size_t)(eq - o->partners[i]));
        org[eq - o->partners[i]] = '\0';
        sw_jwks *keys = sw_jwks_load(eq + 1, err, sizeof err);
        if (!keys) {
            fprintf(stderr, "sipwall exchange: %s\n", err);
            goto out;
        }
        if (sw_fse_keyring_set(kr, org, keys) != SW_OK)
            goto out;
    }
    if (read_arg(argv[0], &buf, &len) != 0)
        goto out;
    int n = sw_fse_verify_batch(kr, buf, len, q, 0, print_accepted, NULL, &nq, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "sipwall exchange: %s: %s\n", argv[0], err);
        goto out;
    }
    for (size_t i = 0; i < nq; i++) {
        const sw_quarantine_entry *e = sw_quarantine_get(q, i);
        fprintf(stderr, "quarantined: %s %s: %s\n", e->org[0] ? e->org : "-",
                e->id[0] ? e->id : "-", e->reason);
    }
    fprintf(stderr, "verified %d, quarantined %zu\n", n, nq);
    rc = nq ? CLI_EXIT_FINDING : CLI_EXIT_OK;
out:
    free(buf);
    sw_quarantine_free(q);
    sw_fse_keyring_free(kr);
    return rc;
}

static int cmd_jws_sign(const xopts *o, int argc, char **argv)
{
    if (argc != 1)
        return cli_usage(CMD, "jws-sign PAYLOAD");
    sw_jws_key *k = load_key(o);
    if (!k)
        return CLI_EXIT_USAGE;
    char *buf, out[SW_FSE_SIG_MAX];
    size_t len;
    int rc = CLI_EXIT_USAGE;
    if (read_arg(argv[0], &buf, &len) == 0) {
        if (sw_jws_sign_detached(k, o->alg, o->b64, buf, len, out) == SW_OK) {
            printf("%s\n", out);
            rc = CLI_EXIT_OK;
        }
        free(buf);
    }
    sw_jws_key_free(k);
    return rc;
}

static int cmd_jws_verify(const xopts *o, int argc, char **argv)
{
    if (argc != 2 || !o->jwks)
        return cli_usage(CMD, "jws-verify --jwks JWKS PAYLOAD JWS");
    char err[256], *buf;
    size_t len;
    sw_jwks *keys = sw_jwks_load(o->jwks, err, sizeof err);
    if (!keys) {
        fprintf(stderr, "sipwall exchange: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (read_arg(argv[0], &buf, &len) != 0) {
        sw_jwks_free(keys);
        return CLI_EXIT_USAGE;
    }
    const char *jws = argv[1];
    size_t jl = strlen(jws);
    while (jl && (jws[jl - 1] == '\n' || jws[jl - 1] == '\r'))
        jl--;
    int v = sw_jws_verify_detached(jws, jl, buf, len, keys, NULL, err, sizeof err);
    free(buf);
    sw_jwks_free(keys);
    if (v != SW_OK) {
        fprintf(stderr, "sipwall exchange: jws-verify: %s\n", err);
        return CLI_EXIT_FINDING;
    }
    printf("OK\n");
    return CLI_EXIT_OK;
}

static int cmd_policy_check(int argc, char **argv)
{
    if (argc != 1)
        return cli_usage(CMD, "policy-check FILE");
    char err[512];
    sw_export_policy *p = sw_export_policy_load(argv[0], err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_FINDING;
    }
    const char *g;
    for (size_t i = 0; (g = sw_export_policy_group(p, i)) != NULL; i++)
        printf("group %s\n", g);
    sw_export_policy_free(p);
    return CLI_EXIT_OK;
}

static int exchange_run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(exchange_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    xopts o;
    int r = parse_opts(argc - 1, argv + 1, &o);
    if (r < 0)
        return CLI_EXIT_OK; /* --help */
    if (r > 0)
        return r;
    int rest = argc - 1 - optind;
    char **rv = argv + 1 + optind;
    if (strcmp(sub, "keygen") == 0)
        return rest ? cli_usage(CMD, "keygen takes no operands") : cmd_keygen(&o);
    if (strcmp(sub, "jcs") == 0)
        return cmd_jcs(rest, rv);
    if (strcmp(sub, "sign") == 0)
        return cmd_sign(&o, rest, rv);
    if (strcmp(sub, "verify") == 0)
        return cmd_verify(&o, rest, rv);
    if (strcmp(sub, "jws-sign") == 0)
        return cmd_jws_sign(&o, rest, rv);
    if (strcmp(sub, "jws-verify") == 0)
        return cmd_jws_verify(&o, rest, rv);
    if (strcmp(sub, "policy-check") == 0)
        return cmd_policy_check(rest, rv);
    if (strcmp(sub, "taxii-hash") == 0)
        return cmd_taxii_hash(rest);
    return cli_usage(CMD, "unknown subcommand '%s'", sub);
}

const cli_command cli_cmd_exchange = {
    .name = "exchange",
    .run = exchange_run,
    .summary = "FSE v1 keys, canonical JSON, signing and verification "
               "(exchange keygen|jcs|sign|verify ...)",
    .usage = exchange_usage,
};
