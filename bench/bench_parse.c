/* bench_parse — SIP parser throughput, sipwall against its anchors.
 *
 * usage: bench_parse [-t SECONDS] [-r ROUNDS] [-a] [-p ROWS] DIR...
 *
 * Loads every SIP message file of the given directories into memory and
 * measures, on the same bytes in the same process, messages/s and MB/s for:
 *   sipwall        sw_sip_parse (datagram framing) plus the typed values a
 *                  proxy needs: top Via, From, To, Call-ID, CSeq, Contact,
 *                  Content-Length, Max-Forwards, Route and the request-URI;
 *   sipwall-index  sw_sip_parse alone (for information);
 *   libosip2       osip_message_init + osip_message_parse + osip_message_free;
 *   sofia-sip      msg_make(sip_default_mclass()) + msg_destroy;
 *   memchr         counting '\n' with memchr: the floor any parser sits on.
 * Each is timed by repeating the whole set until at least SECONDS (1.5) have
 * passed on CLOCK_MONOTONIC; the best of ROUNDS (3) rounds is kept.  Results
 * flow into a volatile sink so the compiler cannot drop the work.
 *
 * The messages a parser rejects are counted and named: a parser that gives
 * up early looks faster than it is.  -a keeps only the messages that every
 * parser accepts, for a like-for-like comparison.  -p times only the named
 * rows (e.g. -p sipwall under perf record).
 *
 * The figures are printed, never asserted: the exit status is 0 whenever the
 * measurement ran, whether or not the targets were met. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "sipwall/sip.h"

/* ---- the message set ------------------------------------------------------ */

typedef struct bench_msg {
    char *path; /* for the reject lists */
    char *buf;  /* exactly the file's bytes, plus a NUL nobody relies on */
    size_t len;
} bench_msg;

typedef struct bench_set {
    bench_msg *v;
    size_t n, cap;
    size_t bytes;
} bench_set;

/* Whether buf starts with a SIP start line: "SIP/x.y ddd ..." or
 * "TOKEN SP request-uri SP SIP/x.y".  Deliberately independent of the parser
 * under test, so that the set does not depend on what sipwall accepts. */
static int starts_like_sip(const char *buf, size_t len)
{
    size_t eol = 0;
    while (eol < len && buf[eol] != '\n' && buf[eol] != '\r')
        eol++;
    if (eol >= 12 && strncasecmp(buf, "SIP/", 4) == 0) {
        const char *sp = memchr(buf, ' ', eol);
        return sp != NULL && (size_t)(sp - buf) + 4 <= eol && sp[1] >= '0' && sp[1] <= '9' &&
               sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9';
    }
    size_t tok = 0;
    while (tok < eol && buf[tok] > ' ' && buf[tok] < 0x7f)
        tok++;
    if (tok == 0 || tok >= eol || buf[tok] != ' ')
        return 0;
    size_t last = eol;
    while (last > tok && buf[last - 1] != ' ')
        last--;
    /* last: first byte after the last SP; the request-URI lies in between. */
    return last > tok + 2 && eol - last >= 5 && strncasecmp(buf + last, "SIP/", 4) == 0;
}

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcasecmp(name + n - k, suffix) == 0;
}

/* Documentation and index files next to the messages. */
static int skip_name(const char *name)
{
    return name[0] == '.' || strncasecmp(name, "README", 6) == 0 ||
           strncasecmp(name, "manifest", 8) == 0 || strcmp(name, "SHA256SUMS") == 0 ||
           has_suffix(name, ".md") || has_suffix(name, ".tsv") || has_suffix(name, ".py");
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fprintf(stderr, "bench_parse: out of memory\n");
        exit(2);
    }
    return p;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xrealloc(NULL, cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        cap *= 2;
        buf = xrealloc(buf, cap);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void set_add(bench_set *s, char *path, char *buf, size_t len)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (bench_msg){path, buf, len};
    s->bytes += len;
}

/* Adds every message file of dir (sorted by name, not recursive).
 * Returns the number of files skipped as not SIP, or -1 when dir is unreadable. */
static long load_dir(bench_set *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "bench_parse: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (skip_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_names);

    long skipped = 0;
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = xrealloc(NULL, plen);
        snprintf(path, plen, "%s/%s", dir, names[i]);
        free(names[i]);
        struct stat st;
        size_t len = 0;
        char *buf = NULL;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            buf = read_file(path, &len);
        if (buf == NULL || !starts_like_sip(buf, len)) {
            skipped += buf != NULL;
            free(buf);
            free(path);
            continue;
        }
        set_add(s, path, buf, len);
    }
    free(names);
    return skipped;
}

/* ---- the parsers, one message at a time ------------------------------------
 * Each returns 0 when the parser accepted the message, non-zero when it
 * rejected it, and adds something derived from its result to *acc. */

enum { BENCH_CAP = 256 };
static sw_sip_header g_hdrs[BENCH_CAP]; /* reused: no allocation per message */
static sw_sip_limits g_lim;

/* A typed accessor's result: absent optional headers are fine. */
#define TYPED_OK(rc, optional) ((rc) == SW_OK || ((optional) && (rc) == SW_EMISSING))

static inline int run_sipwall(const char *buf, size_t len, uint64_t *acc)
{
    sw_sip_msg m;
    sw_sip_error err;
    long n = sw_sip_parse(&m, g_hdrs, BENCH_CAP, buf, len, SW_SIP_DATAGRAM, &g_lim, &err);
    if (n < 0)
        return 1;
    uint64_t a = (uint64_t)n + (uint64_t)m.content_length;
    int bad = 0, rc;

    const sw_via *via;
    rc = sw_sip_top_via(&m, &via, &err);
    if (rc == SW_OK)
        a += via->branch.len + via->port;
    bad |= !TYPED_OK(rc, 0);

    const sw_nameaddr *na;
    rc = sw_sip_from(&m, &na, &err);
    if (rc == SW_OK)
        a += na->tag.len + na->uri.host.len;
    bad |= !TYPED_OK(rc, 0);
    rc = sw_sip_to(&m, &na, &err);
    if (rc == SW_OK)
        a += na->tag.len + na->uri.user.len;
    bad |= !TYPED_OK(rc, 0);

    sw_str cid;
    rc = sw_sip_call_id(&m, &cid);
    if (rc == SW_OK)
        a += cid.len;
    bad |= !TYPED_OK(rc, 0);

    const sw_cseq *cseq;
    rc = sw_sip_cseq(&m, &cseq, &err);
    if (rc == SW_OK)
        a += cseq->number + cseq->method;
    bad |= !TYPED_OK(rc, 0);

    rc = sw_sip_contact(&m, &na, &err);
    if (rc == SW_OK)
        a += na->uri.host.len + na->uri.port;
    bad |= !TYPED_OK(rc, 1);

    int64_t mf;
    rc = sw_sip_max_forwards(&m, &mf, &err);
    if (rc == SW_OK)
        a += (uint64_t)mf;
    bad |= !TYPED_OK(rc, !m.is_request);

    rc = sw_sip_route(&m, &na, &err);
    if (rc == SW_OK)
        a += na->uri.host.len;
    bad |= !TYPED_OK(rc, 1);

    if (m.is_request) {
        const sw_uri *ruri;
        rc = sw_sip_ruri(&m, &ruri, &err);
        if (rc == SW_OK)
            a += ruri->host.len + ruri->kind;
        bad |= !TYPED_OK(rc, 0);
    }
    *acc += a;
    return bad ? 2 : 0;
}

static inline int run_sipwall_index(const char *buf, size_t len, uint64_t *acc)
{
    sw_sip_msg m;
    sw_sip_error err;
    long n = sw_sip_parse(&m, g_hdrs, BENCH_CAP, buf, len, SW_SIP_DATAGRAM, &g_lim, &err);
    if (n < 0)
        return 1;
    *acc += (uint64_t)n + m.nhdrs;
    return 0;
}

static inline int run_osip(const char *buf, size_t len, uint64_t *acc)
{
    osip_message_t *sip;
    if (osip_message_init(&sip) != 0)
        return 1;
    int rc = osip_message_parse(sip, buf, len);
    *acc += (uint64_t)(uintptr_t)sip->call_id + (uint64_t)sip->status_code;
    osip_message_free(sip);
    return rc != 0;
}

static inline int run_sofia(const char *buf, size_t len, uint64_t *acc)
{
    msg_t *msg = msg_make(sip_default_mclass(), 0, buf, (ssize_t)len);
    if (msg == NULL)
        return 1;
    int bad = msg_has_error(msg) != 0;
    sip_t const *sip = sip_object(msg);
    if (sip == NULL || sip->sip_error != NULL)
        bad = 1;
    else
        *acc += (uint64_t)(uintptr_t)sip->sip_call_id + (uint64_t)(uintptr_t)sip->sip_via;
    msg_destroy(msg);
    return bad;
}

static inline int run_memchr(const char *buf, size_t len, uint64_t *acc)
{
    const char *p = buf, *end = buf + len;
    uint64_t lines = 0;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    *acc += lines;
    return 0;
}

/* ---- timing ----------------------------------------------------------------- */

static volatile uint64_t g_sink;

typedef uint64_t (*pass_fn)(const bench_set *s);

/* One pass over the set per parser, with the per-message call inlined so
 * that the loop costs the same for everyone. */
#define DEFINE_PASS(name)                                                   \
    static uint64_t pass_##name(const bench_set *s)                         \
    {                                                                       \
        uint64_t acc = 0;                                                   \
        uint64_t ok = 0;                                                    \
        for (size_t i = 0; i < s->n; i++)                                   \
            ok += run_##name(s->v[i].buf, s->v[i].len, &acc) == 0;          \
        return acc + ok;                                                    \
    }
DEFINE_PASS(sipwall)
DEFINE_PASS(sipwall_index)
DEFINE_PASS(osip)
DEFINE_PASS(sofia)
DEFINE_PASS(memchr)

typedef int (*msg_fn)(const char *buf, size_t len, uint64_t *acc);

typedef struct parser {
    const char *name;
    const char *what;
    pass_fn pass;
    msg_fn one;
    size_t rejected;
    double msgs_s, mb_s;
} parser;

enum { P_SIPWALL, P_INDEX, P_OSIP, P_SOFIA, P_MEMCHR, P__COUNT };

static parser g_parsers[P__COUNT] = {
    {"sipwall", "parse + typed proxy headers", pass_sipwall, run_sipwall, 0, 0, 0},
    {"sipwall-index", "sw_sip_parse only (info)", pass_sipwall_index, run_sipwall_index, 0, 0, 0},
    {"libosip2", "osip_message_parse + free", pass_osip, run_osip, 0, 0, 0},
    {"sofia-sip", "msg_make + msg_destroy", pass_sofia, run_sofia, 0, 0, 0},
    {"memchr", "memchr '\\n' scan (floor)", pass_memchr, run_memchr, 0, 0, 0},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best rate (passes over the set per second) over `rounds` rounds of at
 * least min_s seconds each. */
static double measure(pass_fn pass, const bench_set *s, double min_s, int rounds)
{
    double best = 0;
    g_sink += pass(s); /* warm caches, allocator pools and branch predictors */
    for (int r = 0; r < rounds; r++) {
        uint64_t iters = 0;
        double t0 = now_s(), t;
        do {
            g_sink += pass(s);
            iters++;
            t = now_s();
        } while (t - t0 < min_s);
        double rate = (double)iters / (t - t0);
        if (rate > best)
            best = rate;
    }
    return best;
}

/* ---- report ------------------------------------------------------------------ */

/* Whether name is one of the comma-separated names in list. */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        p += k + (e != NULL);
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_parse [-t SECONDS] [-r ROUNDS] [-a] [-p NAMES] DIR...\n"
                    "  -t  minimum time per round (default 1.5)\n"
                    "  -r  rounds, the best is kept (default 3)\n"
                    "  -a  measure only the messages every parser accepts\n"
                    "  -p  time only these rows, comma-separated (e.g. -p sipwall, for perf)\n");
    exit(2);
}

static void print_ratio(const char *label, double ratio, const char *cmp, double target)
{
    int pass = cmp[0] == '>' ? ratio >= target : ratio <= target;
    char t[32];
    snprintf(t, sizeof t, "%s %gx", cmp, target);
    printf("  %-22s %7.2fx   target %-7s  %s\n", label, ratio, t, pass ? "PASS" : "MISS");
}

int main(int argc, char **argv)
{
    double min_s = 1.5;
    int rounds = 3, common_only = 0, opt;
    const char *only = NULL;
    while ((opt = getopt(argc, argv, "t:r:ap:h")) != -1) {
        switch (opt) {
        case 't':
            min_s = atof(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'a':
            common_only = 1;
            break;
        case 'p':
            only = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind >= argc || min_s <= 0 || rounds < 1)
        usage();

    bench_set set = {0};
    long skipped = 0;
    for (int i = optind; i < argc; i++) {
        long k = load_dir(&set, argv[i]);
        if (k < 0)
            return 2;
        skipped += k;
    }
    if (set.n == 0) {
        fprintf(stderr, "bench_parse: no SIP message files found\n");
        return 2;
    }

    sw_sip_limits_default(&g_lim);
    parser_init();

    /* Accept/reject check: once per parser and message, before timing. */
    char *rejected_by = xrealloc(NULL, set.n);
    memset(rejected_by, 0, set.n);
    for (int p = 0; p < P__COUNT; p++) {
        for (size_t i = 0; i < set.n; i++) {
            uint64_t acc = 0;
            if (g_parsers[p].one(set.v[i].buf, set.v[i].len, &acc) != 0) {
                g_parsers[p].rejected++;
                rejected_by[i] |= (char)(1u << p);
            }
            g_sink += acc;
        }
    }

    printf("messages: %zu files, %zu bytes, %.0f bytes/message on average", set.n, set.bytes,
           (double)set.bytes / (double)set.n);
    if (skipped)
        printf(" (%ld non-SIP files skipped)", skipped);
    printf("\n");
    for (int p = 0; p < P__COUNT; p++) {
        if (g_parsers[p].rejected == 0)
            continue;
        printf("rejected by %s (%zu):", g_parsers[p].name, g_parsers[p].rejected);
        size_t shown = 0;
        for (size_t i = 0; i < set.n && shown < 8; i++) {
            if (rejected_by[i] & (1u << p)) {
                const char *base = strrchr(set.v[i].path, '/');
                printf(" %s", base ? base + 1 : set.v[i].path);
                shown++;
            }
        }
        printf("%s\n", g_parsers[p].rejected > shown ? " ..." : "");
    }

    if (common_only) {
        size_t keep = 0;
        set.bytes = 0;
        for (size_t i = 0; i < set.n; i++) {
            if (rejected_by[i] == 0) {
                set.v[keep++] = set.v[i];
                set.bytes += set.v[i].len;
            }
        }
        printf("-a: timing the %zu messages (%zu bytes) every parser accepts\n", keep, set.bytes);
        set.n = keep;
        if (keep == 0)
            return 2;
        for (int p = 0; p < P__COUNT; p++)
            g_parsers[p].rejected = 0;
    } else {
        int any = 0;
        for (int p = 0; p < P__COUNT; p++)
            any |= g_parsers[p].rejected != 0;
        if (any)
            printf("note: rejected messages stay in the timed set (they cost what rejecting "
                   "costs); -a times only the messages every parser accepts\n");
    }
    printf("timing: best of %d rounds of >= %.1f s each, CLOCK_MONOTONIC\n\n", rounds, min_s);

    printf("%-14s %-30s %12s %9s %9s %8s\n", "parser", "what", "messages/s", "MB/s", "ns/msg",
           "rejected");
    for (int p = 0; p < P__COUNT; p++) {
        parser *q = &g_parsers[p];
        if (only && !in_list(only, q->name))
            continue;
        double passes = measure(q->pass, &set, min_s, rounds);
        q->msgs_s = passes * (double)set.n;
        q->mb_s = passes * (double)set.bytes / 1e6;
        printf("%-14s %-30s %12.0f %9.1f %9.1f %8zu\n", q->name, q->what, q->msgs_s, q->mb_s,
               1e9 / q->msgs_s, q->rejected);
        fflush(stdout);
    }

    double sw = g_parsers[P_SIPWALL].msgs_s;
    printf("\nratios (messages/s, same bytes):\n");
    if (sw > 0 && g_parsers[P_OSIP].msgs_s > 0)
        print_ratio("sipwall / libosip2", sw / g_parsers[P_OSIP].msgs_s, ">=", 10);
    if (sw > 0 && g_parsers[P_SOFIA].msgs_s > 0)
        print_ratio("sipwall / sofia-sip", sw / g_parsers[P_SOFIA].msgs_s, ">=", 3);
    if (sw > 0 && g_parsers[P_MEMCHR].msgs_s > 0)
        print_ratio("memchr / sipwall", g_parsers[P_MEMCHR].msgs_s / sw, "<=", 4);

    for (size_t i = 0; i < set.n; i++) {
        free(set.v[i].path);
        free(set.v[i].buf);
    }
    free(set.v);
    free(rejected_by);
    return 0;
}
