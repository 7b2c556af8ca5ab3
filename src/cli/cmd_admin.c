/* `sipwall admin`: the admin API's client (docs/admin-api.md), HTTPS with
 * libcurl.  The token comes from a file or the environment, never from
 * the command line (it would show in ps and shell histories). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define REPLY_MAX (64u << 20)
#define DEFAULT_URL "https://127.0.0.1:8443"

static const char admin_usage[] =
    "usage: sipwall admin [CONNECTION] status\n"
    "       sipwall admin [CONNECTION] reload\n"
    "       sipwall admin [CONNECTION] blocks [list] [--limit N]\n"
    "       sipwall admin [CONNECTION] block add KIND KEY --for DURATION [--reason TEXT]\n"
    "       sipwall admin [CONNECTION] unblock KIND KEY\n"
    "       sipwall admin [CONNECTION] events [--since T] [--until T] [--type T] [--src IP]\n"
    "                                         [--peer NAME] [--rule ID] [--after ID] [--limit N]\n"
    "       sipwall admin [CONNECTION] partners\n"
    "       sipwall admin [CONNECTION] intel [list] [--limit N] | intel show ID | intel revoke ID\n"
    "       sipwall admin [CONNECTION] exchange revoke ID\n"
    "\n"
    "Talks to sipwalld's admin API over HTTPS and prints its JSON answer.\n"
    "\n"
    "connection (options may stand anywhere):\n"
    "  --url URL          the API (default $SIPWALL_ADMIN_URL, else " DEFAULT_URL ")\n"
    "  --cacert FILE      CA of the server's certificate ($SIPWALL_ADMIN_CACERT; else the system's)\n"
    "  --cert FILE --key FILE  client certificate, when the API asks for one\n"
    "                     ($SIPWALL_ADMIN_CERT, $SIPWALL_ADMIN_KEY)\n"
    "  --token-file FILE  the bearer token ($SIPWALL_ADMIN_TOKEN_FILE, else $SIPWALL_ADMIN_TOKEN);\n"
    "                     never given on the command line\n"
    "  --timeout SECONDS  for the whole request (default 70: a reload may compile for a while)\n"
    "\n"
    "KIND: source, caller, caller_prefix, callee, user.  DURATION: seconds or 30s, 10m, 2h, 1d\n"
    "(at most 24 h).  Times: as `sipwall events` (RFC 3339, a date, now, -10m).\n"
    "\n"
    "exit status: 0 done; 1 the API refused or failed (its message on stderr); 2 usage, or the\n"
    "API could not be reached.\n";

typedef struct conn {
    const char *url, *cacert, *cert, *key, *token_file;
    long timeout_s;
} conn;

typedef struct reply {
    char *p;
    size_t len;
    int over;
} reply;

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t add = size * n;
    if (r->len + add + 1 > REPLY_MAX) {
        r->over = 1;
        return 0;
    }
    char *np = realloc(r->p, r->len + add + 1);
    if (!np)
        return 0;
    r->p = np;
    memcpy(r->p + r->len, ptr, add);
    r->len += add;
    r->p[r->len] = '\0';
    return add;
}

/* The token: the file's first line, or $SIPWALL_ADMIN_TOKEN.  0 or -1. */
static int load_token(const conn *c, char *tok, size_t len)
{
    const char *file = c->token_file ? c->token_file : getenv("SIPWALL_ADMIN_TOKEN_FILE");
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "sipwall admin: cannot read the token file %s\n", file);
            return -1;
        }
        char *ok = fgets(tok, (int)len, f);
        fclose(f);
        if (!ok) {
            fprintf(stderr, "sipwall admin: the token file %s is empty\n", file);
            return -1;
        }
    } else {
        const char *env = getenv("SIPWALL_ADMIN_TOKEN");
        if (!env) {
            fprintf(stderr, "sipwall admin: no token: give --token-file FILE or set SIPWALL_ADMIN_TOKEN_FILE "
                            "or SIPWALL_ADMIN_TOKEN\n");
            return -1;
        }
        snprintf(tok, len, "%s", env);
    }
    tok[strcspn(tok, "\r\n")] = '\0';
    /* ADMIN-TOKEN lines as sipwalld printed them are accepted as they are */
    if (strncmp(tok, "ADMIN-TOKEN ", 12) == 0)
        memmove(tok, tok + 12, strlen(tok + 12) + 1);
    if (!tok[0] || strpbrk(tok, " \t")) {
        fprintf(stderr, "sipwall admin: the token is empty or has blanks\n");
        return -1;
    }
    return 0;
}

static void print_body(const char *body)
{
    json_error_t je;
    json_t *o = json_loads(body, 0, &je);
    if (!o) {
        fputs(body, stdout);
        return;
    }
    json_t *msg = json_object_get(o, "message");
    if (json_is_true(json_object_get(o, "ok")) && json_is_string(msg) && json_object_size(o) == 2) {
        printf("%s\n", json_string_value(msg));
    } else {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
    }
    json_decref(o);
}

/* One request: prints the answer; the exit status. */
static int call(const conn *c, const char *method, const char *path, const char *body)
{
    char tok[512];
    if (load_token(c, tok, sizeof tok) != 0)
        return CLI_EXIT_USAGE;
    CURL *h = curl_easy_init();
    if (!h) {
        fprintf(stderr, "sipwall admin: libcurl does not initialise\n");
        return CLI_EXIT_USAGE;
    }
    char url[4096], auth[600];
    snprintf(url, sizeof url, "%s%s", c->url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
    memset(tok, 0, sizeof tok);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    memset(auth, 0, sizeof auth);
    if (body)
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    reply r = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    if (c->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    if (c->cert)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
    if (c->key)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "sipwall admin: %s: %s\n", c->url,
                r.over ? "the answer is too large" : errbuf[0] ? errbuf : curl_easy_strerror(rc));
        free(r.p);
        return CLI_EXIT_USAGE;
    }
    int exit_code = CLI_EXIT_OK;
    if (status / 100 != 2) {
        json_t *o = r.p ? json_loads(r.p, 0, NULL) : NULL;
        const char *m = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
        fprintf(stderr, "sipwall admin: %ld: %s\n", status, m ? m : r.p ? r.p : "(no answer)");
        json_decref(o);
        exit_code = CLI_EXIT_FINDING;
    } else if (r.p) {
        print_body(r.p);
    }
    free(r.p);
    return exit_code;
}

/* Appends "&name=VALUE" (escaped) to q. */
static int add_param(char *q, size_t len, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc)
        return -1;
    size_t at = strlen(q);
    int n = snprintf(q + at, len - at, "%s%s=%s", at ? "&" : "?", name, esc);
    curl_free(esc);
    return n < 0 || (size_t)n >= len - at ? -1 : 0;
}

static int run_admin(int argc, char **argv)
{
    conn c = {.url = getenv("SIPWALL_ADMIN_URL"), .cacert = getenv("SIPWALL_ADMIN_CACERT"),
              .cert = getenv("SIPWALL_ADMIN_CERT"), .key = getenv("SIPWALL_ADMIN_KEY"), .timeout_s = 70};
    if (!c.url)
        c.url = DEFAULT_URL;
    const char *pos[8];
    int npos = 0;
    static const char *const filters[] = {"since", "until", "type", "src", "peer", "rule", "after", "limit"};
    const char *fval[8] = {0};
    const char *dur = NULL, *reason = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(admin_usage, stdout);
            return CLI_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (npos == 8)
                return cli_usage("admin", "too many arguments");
            pos[npos++] = a;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage("admin", "%s needs a value", a);
        const char *v = argv[++i];
        const char *o = a + 2;
        int k = -1;
        for (int f = 0; f < 8; f++)
            if (strcmp(o, filters[f]) == 0)
                k = f;
        if (k >= 0)
            fval[k] = v;
        else if (strcmp(o, "url") == 0)
            c.url = v;
        else if (strcmp(o, "cacert") == 0)
            c.cacert = v;
        else if (strcmp(o, "cert") == 0)
            c.cert = v;
        else if (strcmp(o, "key") == 0)
            c.key = v;
        else if (strcmp(o, "token-file") == 0)
            c.token_file = v;
        else if (strcmp(o, "for") == 0)
            dur = v;
        else if (strcmp(o, "reason") == 0)
            reason = v;
        else if (strcmp(o, "timeout") == 0) {
            char *end;
            c.timeout_s = strtol(v, &end, 10);
            if (*end || c.timeout_s < 1 || c.timeout_s > 3600)
                return cli_usage("admin", "--timeout: 1..3600 seconds");
        } else if (strcmp(o, "token") == 0) {
            return cli_usage("admin", "the token is never taken from the command line: use --token-file "
                                      "or SIPWALL_ADMIN_TOKEN_FILE");
        } else {
            return cli_usage("admin", "unknown option '%s'", a);
        }
    }
    if (npos == 0)
        return cli_usage("admin", "which operation? (status, reload, blocks, block add, unblock, events, "
                                  "partners, intel)");
    const char *op = pos[0];
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(op, "status") == 0 && npos == 1) {
        rc = call(&c, "GET", "/v1/status", NULL);
    } else if (strcmp(op, "reload") == 0 && npos == 1) {
        rc = call(&c, "POST", "/v1/reload", NULL);
    } else if (strcmp(op, "partners") == 0 && npos == 1) {
        rc = call(&c, "GET", "/v1/partners", NULL);
    } else if (strcmp(op, "blocks") == 0 && (npos == 1 || (npos == 2 && strcmp(pos[1], "list") == 0))) {
        char q[256] = "";
        if (fval[7] && add_param(q, sizeof q, "limit", fval[7]) != 0)
            rc = cli_usage("admin", "--limit too long");
        else {
            char path[300];
            snprintf(path, sizeof path, "/v1/blocks%s", q);
            rc = call(&c, "GET", path, NULL);
        }
    } else if (strcmp(op, "block") == 0 && npos == 4 && strcmp(pos[1], "add") == 0) {
        if (!dur) {
            rc = cli_usage("admin", "block add needs --for DURATION");
        } else {
            json_t *o = json_pack("{s:s,s:s,s:s,s:s?}", "kind", pos[2], "key", pos[3], "duration", dur,
                                  "reason", reason);
            char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
            json_decref(o);
            rc = body ? call(&c, "POST", "/v1/blocks", body) : cli_usage("admin", "arguments are not UTF-8");
            free(body);
        }
    } else if (strcmp(op, "unblock") == 0 && npos == 3) {
        char *k = curl_easy_escape(NULL, pos[1], 0), *v = curl_easy_escape(NULL, pos[2], 0);
        char path[600];
        snprintf(path, sizeof path, "/v1/blocks/%s/%s", k ? k : "", v ? v : "");
        curl_free(k);
        curl_free(v);
        rc = call(&c, "DELETE", path, NULL);
    } else if (strcmp(op, "intel") == 0 && (npos == 1 || (npos == 2 && strcmp(pos[1], "list") == 0))) {
        char q[256] = "";
        if (fval[7] && add_param(q, sizeof q, "limit", fval[7]) != 0)
            rc = cli_usage("admin", "--limit too long");
        else {
            char path[300];
            snprintf(path, sizeof path, "/v1/intel%s", q);
            rc = call(&c, "GET", path, NULL);
        }
    } else if (strcmp(op, "intel") == 0 && npos == 3 &&
               (strcmp(pos[1], "show") == 0 || strcmp(pos[1], "revoke") == 0)) {
        char *id = curl_easy_escape(NULL, pos[2], 0);
        char path[300];
        snprintf(path, sizeof path, "/v1/intel/%.200s%s", id ? id : "", pos[1][0] == 'r' ? "/revoke" : "");
        curl_free(id);
        rc = call(&c, pos[1][0] == 'r' ? "POST" : "GET", path, NULL);
    } else if (strcmp(op, "exchange") == 0 && npos == 3 && strcmp(pos[1], "revoke") == 0) {
        /* one of our published indicators: a revoked version goes out at once */
        char *id = curl_easy_escape(NULL, pos[2], 0);
        char path[300];
        snprintf(path, sizeof path, "/v1/exchange/%.200s/revoke", id ? id : "");
        curl_free(id);
        rc = call(&c, "POST", path, NULL);
    } else if (strcmp(op, "events") == 0 && npos == 1) {
        char q[2048] = "";
        rc = CLI_EXIT_OK;
        for (int f = 0; f < 8 && rc == CLI_EXIT_OK; f++)
            if (fval[f] && add_param(q, sizeof q, filters[f], fval[f]) != 0)
                rc = cli_usage("admin", "--%s too long", filters[f]);
        if (rc == CLI_EXIT_OK) {
            char path[2100];
            snprintf(path, sizeof path, "/v1/events%s", q);
            rc = call(&c, "GET", path, NULL);
        }
    } else {
        rc = cli_usage("admin", "unknown operation or wrong arguments: %s", op);
    }
    curl_global_cleanup();
    return rc;
}

const cli_command cli_cmd_admin = {"admin", run_admin, "manage a running sipwalld over its HTTPS admin API",
                                   admin_usage};
