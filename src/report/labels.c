/* Ground-truth comparison: LABELS.tsv (and NAME.frames.tsv beside it), the
 * attribution of events to labelled episodes, and the verdict table
 * printed by `sipwall check --labels`. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getline */
#endif
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "report_int.h"

#define LB_MAX_FRAME (1ull << 28)   /* frame numbers beyond this are refused */
#define LB_MAX_FP 10000             /* false positives listed one by one */
#define LB_MAX_UNATTR 4096          /* distinct (src, rule) keys of unattributed events */
#define LB_MAX_OTHER 64             /* distinct (rule, type) of other findings per episode */
#define LB_MAX_RULES 4096
#define LB_REASON_MAX 160
#define LB_TIME_SLACK_NS 2000000000ll

typedef struct lb_ep {
    sw_addr a;
    uint8_t any_port;
} lb_ep;

typedef struct lb_numset {
    char **v;       /* sorted number keys */
    size_t n;
    int partial;    /* the list ended with "...(N distinct)" */
    uint64_t distinct;
} lb_numset;

typedef struct lb_other {
    const char *rule;
    int type;
    uint64_t n;
    uint64_t first_frame;
} lb_other;

typedef struct lb_label {
    char *name, *kind;
    int expected;   /* event type, -1 = none / any */
    int attack;
    lb_ep *src;
    size_t nsrc;
    uint64_t ff, lf;
    int64_t ft, lt; /* 0 = unknown */
    lb_numset calling, called;
    /* results */
    uint64_t events, matched;
    int detected;
    uint64_t detect_frame;
    int64_t detect_ts;
    const char *detect_rule;
    lb_other *other;
    size_t nother;
    uint64_t other_more;
} lb_label;

typedef struct lb_fp {
    uint32_t label;
    int type;
    uint64_t frame;
    int64_t ts;
    const char *rule;
    char *reason;
} lb_fp;

typedef struct lb_unattr {
    sw_addr src;
    const char *rule;
    uint64_t n;
} lb_unattr;

struct sw_labels {
    char *path;
    lb_label *v;
    size_t n, cap;
    int32_t *frame_label; /* by frame - 1; -1 = none */
    size_t nframes;
    int have_frames;
    sw__strtab rules;
    uint64_t events;
    lb_fp *fp;
    size_t nfp, capfp;
    uint64_t fp_total, fp_more;
    lb_unattr *un;
    size_t nun, capun;
    uint32_t *unidx;      /* open addressing over un: index + 1, 0 = empty */
    size_t unidx_cap;
    uint64_t un_total, un_other;
};

/* ---- small helpers ---------------------------------------------------------------- */

static const struct {
    const char *kind;
    sw_event_type type;
} kind_map[] = {
    {"scan", SW_EVT_SIP_SCAN},           {"enum", SW_EVT_SIP_SCAN},
    {"crack", SW_EVT_SIP_BRUTEFORCE},    {"flood", SW_EVT_SIP_FLOOD},
    {"irsf", SW_EVT_IRSF_CALL},          {"wangiri", SW_EVT_WANGIRI_CLI},
    {"cli-spoof", SW_EVT_CLI_SPOOFING},  {"malformed", SW_EVT_SIP_MALFORMED},
};

int sw_label_kind_event(const char *kind)
{
    if (!kind)
        return -1;
    for (size_t i = 0; i < sizeof kind_map / sizeof kind_map[0]; i++)
        if (strcmp(kind_map[i].kind, kind) == 0)
            return (int)kind_map[i].type;
    return -1;
}

/* Kinds outside the table are compared by name: "reg-hijack" expects
 * reg_hijack.  -1 when nothing matches (any event then detects it). */
static int kind_expected(const char *kind)
{
    int t = sw_label_kind_event(kind);
    if (t >= 0)
        return t;
    char buf[64];
    size_t n = strlen(kind);
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = kind[i] == '-' ? '_' : (char)tolower((unsigned char)kind[i]);
    sw_event_type et;
    if (sw_event_type_lookup(buf, &et) == SW_OK)
        return (int)et;
    return -1;
}

static int is_legit(const char *kind)
{
    return strcmp(kind, "legit") == 0;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (c)
        memcpy(c, s, n + 1);
    return c;
}

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int empty_value(const char *s)
{
    return s[0] == '\0' || strcmp(s, "-") == 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0]))
        return SW_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        return SW_EINVAL;
    *out = v;
    return SW_OK;
}

/* ---- a TSV reader: header by name, any line length, CRLF ----------------------- */

typedef struct tsv {
    FILE *fp;
    char *line;
    size_t cap;
    unsigned long lineno;
    char **f;
    size_t nf, capf;
    char **hdr;
    size_t nhdr;
} tsv;

static void tsv_close(tsv *t)
{
    if (t->fp)
        fclose(t->fp);
    free(t->line);
    free(t->f);
    for (size_t i = 0; i < t->nhdr; i++)
        free(t->hdr[i]);
    free(t->hdr);
    memset(t, 0, sizeof *t);
}

/* Next non-empty line split at tabs into t->f; 1, 0 at the end, or <0. */
static int tsv_next(tsv *t)
{
    for (;;) {
        errno = 0;
        ssize_t r = getline(&t->line, &t->cap, t->fp);
        if (r < 0)
            return ferror(t->fp) ? SW_EIO : 0;
        t->lineno++;
        size_t len = (size_t)r;
        while (len > 0 && (t->line[len - 1] == '\n' || t->line[len - 1] == '\r'))
            t->line[--len] = '\0';
        if (memchr(t->line, '\0', len))
            return SW_EFORMAT;
        char *p = t->line;
        if (t->lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
            p += 3;
        if (p[strspn(p, " \t")] == '\0') /* blank line */
            continue;
        t->nf = 0;
        for (;;) {
            if (t->nf == t->capf) {
                size_t nc = t->capf ? t->capf * 2 : 16;
                char **nf = realloc(t->f, nc * sizeof *nf);
                if (!nf)
                    return SW_ENOMEM;
                t->f = nf;
                t->capf = nc;
            }
            t->f[t->nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        return 1;
    }
}

static int tsv_open(tsv *t, const char *path, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->fp = fopen(path, "r");
    if (!t->fp) {
        sw_errf(err, errlen, "%s: %s", path, strerror(errno));
        return SW_EIO;
    }
    int r = tsv_next(t);
    if (r <= 0) {
        sw_errf(err, errlen, "%s: %s", path, r == 0 ? "empty file (no header line)" : sw_strerror(r));
        return r == 0 ? SW_EFORMAT : r;
    }
    t->hdr = calloc(t->nf, sizeof *t->hdr);
    if (!t->hdr) {
        sw_errf(err, errlen, "%s: out of memory", path);
        return SW_ENOMEM;
    }
    for (size_t i = 0; i < t->nf; i++) {
        char *h = trim(t->f[i]);
        for (char *c = h; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!(t->hdr[i] = xstrdup(h))) {
            sw_errf(err, errlen, "%s: out of memory", path);
            return SW_ENOMEM;
        }
        t->nhdr++;
    }
    return SW_OK;
}

static int tsv_col(const tsv *t, const char *name)
{
    for (size_t i = 0; i < t->nhdr; i++)
        if (strcmp(t->hdr[i], name) == 0)
            return (int)i;
    return -1;
}

/* The trimmed field of column c in the current row ("" when absent). */
static char *tsv_get(tsv *t, int c)
{
    static char empty[1] = "";
    if (c < 0 || (size_t)c >= t->nf)
        return empty;
    return trim(t->f[c]);
}

/* ---- field parsers ----------------------------------------------------------------- */

/* "ip:port", "[v6]:port", "ip:*(N ports)", "ip" (any port), comma lists. */
static int parse_endpoints(char *s, lb_ep **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (empty_value(s))
        return SW_OK;
    size_t cap = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (*tok == '\0')
            continue;
        lb_ep ep;
        memset(&ep, 0, sizeof ep);
        char host[80];
        const char *star = NULL;
        if (tok[0] == '[') {
            char *close = strchr(tok, ']');
            if (close && close[1] == ':' && close[2] == '*')
                star = close + 1;
        } else {
            char *colon = strchr(tok, ':');
            if (colon && !strchr(colon + 1, ':') && colon[1] == '*')
                star = colon;
        }
        if (star) {
            const char *rest = star + 2; /* after ":*" */
            if (*rest != '\0' && *rest != '(')
                goto bad;
            if (*rest == '(' && rest[strlen(rest) - 1] != ')')
                goto bad;
            size_t hl = (size_t)(star - tok);
            if (hl >= sizeof host)
                goto bad;
            memcpy(host, tok, hl);
            host[hl] = '\0';
            if (host[0] == '[') { /* "[v6]" without a port */
                size_t l = strlen(host);
                if (l < 2 || host[l - 1] != ']')
                    goto bad;
                memmove(host, host + 1, l - 2);
                host[l - 2] = '\0';
            }
            if (sw_addr_parse(host, &ep.a) != SW_OK)
                goto bad;
            ep.any_port = 1;
        } else {
            if (sw_addr_parse(tok, &ep.a) != SW_OK)
                goto bad;
            ep.any_port = ep.a.port == 0;
        }
        if (*nout == cap) {
            size_t nc = cap ? cap * 2 : 4;
            lb_ep *nv = realloc(*out, nc * sizeof *nv);
            if (!nv) {
                free(*out);
                *out = NULL;
                *nout = 0;
                return SW_ENOMEM;
            }
            *out = nv;
            cap = nc;
        }
        (*out)[(*nout)++] = ep;
    }
    return SW_OK;
bad:
    free(*out);
    *out = NULL;
    *nout = 0;
    return SW_EINVAL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void numset_free(lb_numset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* "n1,n2,...(1390 distinct)" */
static int parse_numbers(char *s, lb_numset *set)
{
    memset(set, 0, sizeof *set);
    if (empty_value(s))
        return SW_OK;
    size_t cap = 0;
    char *p = s;
    while (*p) {
        char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len > 0 && p[0] == ' ')
            p++, len--;
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len >= 3 && memcmp(p, "...", 3) == 0) {
            set->partial = 1;
            const char *q = p + 3;
            if (*q == '(')
                set->distinct = strtoull(q + 1, NULL, 10);
            if (comma) { /* nothing may follow the ellipsis */
                numset_free(set);
                return SW_EINVAL;
            }
            break;
        }
        if (len > 0) {
            if (set->n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                char **nv = realloc(set->v, nc * sizeof *nv);
                if (!nv) {
                    numset_free(set);
                    return SW_ENOMEM;
                }
                set->v = nv;
                cap = nc;
            }
            char *k = malloc(len + 1);
            if (!k) {
                numset_free(set);
                return SW_ENOMEM;
            }
            sw__number_key(p, len, k);
            set->v[set->n++] = k;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    if (set->n > 1)
        qsort(set->v, set->n, sizeof *set->v, cmp_str);
    return SW_OK;
}

static int numset_has(const lb_numset *set, sw_str num)
{
    if (set->n == 0 || num.len == 0 || num.len > 128)
        return 0;
    char key[130];
    sw__number_key(num.ptr, num.len, key);
    if (key[0] == '\0' || memchr(num.ptr, '\0', num.len))
        return 0;
    const char *k = key;
    return bsearch(&k, set->v, set->n, sizeof *set->v, cmp_str) != NULL;
}

/* ---- loading ------------------------------------------------------------------------ */

static void label_free(lb_label *lb)
{
    free(lb->name);
    free(lb->kind);
    free(lb->src);
    numset_free(&lb->calling);
    numset_free(&lb->called);
    free(lb->other);
}

void sw_labels_free(sw_labels *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        label_free(&l->v[i]);
    free(l->v);
    free(l->frame_label);
    for (size_t i = 0; i < l->nfp; i++)
        free(l->fp[i].reason);
    free(l->fp);
    free(l->un);
    free(l->unidx);
    sw__strtab_free(&l->rules);
    free(l->path);
    free(l);
}

static int find_label(const sw_labels *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int load_labels_file(sw_labels *l, const char *path, char *err, size_t errlen)
{
    tsv t;
    int r = tsv_open(&t, path, err, errlen);
    if (r != SW_OK) {
        tsv_close(&t);
        return r;
    }
    int c_label = tsv_col(&t, "label"), c_kind = tsv_col(&t, "kind"), c_src = tsv_col(&t, "src");
    int c_ff = tsv_col(&t, "first_frame"), c_lf = tsv_col(&t, "last_frame");
    int c_ft = tsv_col(&t, "first_time"), c_lt = tsv_col(&t, "last_time");
    int c_calling = tsv_col(&t, "calling"), c_called = tsv_col(&t, "called");
    if (c_label < 0 || c_kind < 0 || c_src < 0) {
        sw_errf(err, errlen, "%s:1: header lacks the column %s", path,
               c_label < 0 ? "label" : c_kind < 0 ? "kind" : "src");
        tsv_close(&t);
        return SW_EFORMAT;
    }
    int maxreq = c_label > c_kind ? c_label : c_kind;
    if (c_src > maxreq)
        maxreq = c_src;
    while ((r = tsv_next(&t)) > 0) {
        if (t.f[0][0] == '#')
            continue;
        unsigned long ln = t.lineno;
        if (t.nf <= (size_t)maxreq) {
            sw_errf(err, errlen, "%s:%lu: %zu fields, the header has %zu", path, ln, t.nf, t.nhdr);
            r = SW_EFORMAT;
            break;
        }
        if (l->n == l->cap) {
            size_t nc = l->cap ? l->cap * 2 : 16;
            lb_label *nv = realloc(l->v, nc * sizeof *nv);
            if (!nv) {
                r = SW_ENOMEM;
                sw_errf(err, errlen, "%s:%lu: out of memory", path, ln);
                break;
            }
            l->v = nv;
            l->cap = nc;
        }
        lb_label *lb = &l->v[l->n];
        memset(lb, 0, sizeof *lb);
        lb->lf = UINT64_MAX;
        const char *name = tsv_get(&t, c_label), *kind = tsv_get(&t, c_kind);
        if (*name == '\0' || *kind == '\0') {
            sw_errf(err, errlen, "%s:%lu: empty %s", path, ln, *name ? "kind" : "label");
            r = SW_EFORMAT;
            break;
        }
        if (find_label(l, name) >= 0) {
            sw_errf(err, errlen, "%s:%lu: label '%.64s' appears twice", path, ln, name);
            r = SW_EFORMAT;
            break;
        }
        lb->name = xstrdup(name);
        lb->kind = xstrdup(kind);
        l->n++; /* owned from here on: freed with l */
        if (!lb->name || !lb->kind) {
            r = SW_ENOMEM;
            sw_errf(err, errlen, "%s:%lu: out of memory", path, ln);
            break;
        }
        lb->attack = !is_legit(kind);
        lb->expected = lb->attack ? kind_expected(kind) : -1;
        char *src = tsv_get(&t, c_src);
        char srccopy[96];
        snprintf(srccopy, sizeof srccopy, "%s", src);
        r = parse_endpoints(src, &lb->src, &lb->nsrc);
        if (r != SW_OK) {
            sw_errf(err, errlen, "%s:%lu: bad src '%s'", path, ln, srccopy);
            break;
        }
        const char *ff = tsv_get(&t, c_ff), *lf = tsv_get(&t, c_lf);
        if ((!empty_value(ff) && parse_u64(ff, &lb->ff) != SW_OK) ||
            (!empty_value(lf) && parse_u64(lf, &lb->lf) != SW_OK) || lb->ff > lb->lf) {
            sw_errf(err, errlen, "%s:%lu: bad frame range '%.32s'..'%.32s'", path, ln, ff, lf);
            r = SW_EFORMAT;
            break;
        }
        const char *ft = tsv_get(&t, c_ft), *lt = tsv_get(&t, c_lt);
        if ((!empty_value(ft) && sw__parse_iso8601(ft, &lb->ft) != SW_OK) ||
            (!empty_value(lt) && sw__parse_iso8601(lt, &lb->lt) != SW_OK)) {
            sw_errf(err, errlen, "%s:%lu: bad time '%.40s'..'%.40s'", path, ln, ft, lt);
            r = SW_EFORMAT;
            break;
        }
        const char *which = "calling";
        r = parse_numbers(tsv_get(&t, c_calling), &lb->calling);
        if (r == SW_OK) {
            which = "called";
            r = parse_numbers(tsv_get(&t, c_called), &lb->called);
        }
        if (r != SW_OK) {
            sw_errf(err, errlen, "%s:%lu: bad %s list", path, ln, which);
            break;
        }
    }
    if (r < 0 && err && err[0] == '\0')
        sw_errf(err, errlen, "%s:%lu: %s", path, t.lineno, sw_strerror(r));
    tsv_close(&t);
    return r < 0 ? r : SW_OK;
}

static int load_frames_file(sw_labels *l, const char *path, char *err, size_t errlen)
{
    tsv t;
    int r = tsv_open(&t, path, err, errlen);
    if (r != SW_OK) {
        tsv_close(&t);
        return r;
    }
    int c_frame = tsv_col(&t, "frame"), c_label = tsv_col(&t, "label");
    if (c_frame < 0 || c_label < 0) {
        sw_errf(err, errlen, "%s:1: header lacks the column %s", path,
               c_frame < 0 ? "frame" : "label");
        tsv_close(&t);
        return SW_EFORMAT;
    }
    size_t cap = 0;
    int last = -1;
    while ((r = tsv_next(&t)) > 0) {
        unsigned long ln = t.lineno;
        uint64_t fr;
        const char *fs = tsv_get(&t, c_frame), *name = tsv_get(&t, c_label);
        if (parse_u64(fs, &fr) != SW_OK || fr == 0 || fr > LB_MAX_FRAME) {
            sw_errf(err, errlen, "%s:%lu: bad frame number '%.32s'", path, ln, fs);
            r = SW_EFORMAT;
            break;
        }
        int idx = -1;
        if (!empty_value(name)) {
            if (last >= 0 && strcmp(l->v[last].name, name) == 0)
                idx = last;
            else
                idx = find_label(l, name);
            if (idx < 0) {
                sw_errf(err, errlen, "%s:%lu: label '%.64s' is not in the labels file", path, ln,
                       name);
                r = SW_EFORMAT;
                break;
            }
            last = idx;
        }
        if (fr > cap) {
            size_t nc = cap ? cap : 1024;
            while (nc < fr)
                nc *= 2;
            int32_t *nv = realloc(l->frame_label, nc * sizeof *nv);
            if (!nv) {
                sw_errf(err, errlen, "%s:%lu: out of memory", path, ln);
                r = SW_ENOMEM;
                break;
            }
            for (size_t i = cap; i < nc; i++)
                nv[i] = -1;
            l->frame_label = nv;
            cap = nc;
        }
        l->frame_label[fr - 1] = idx;
        if (fr > l->nframes)
            l->nframes = (size_t)fr;
    }
    if (r < 0 && err && err[0] == '\0')
        sw_errf(err, errlen, "%s:%lu: %s", path, t.lineno, sw_strerror(r));
    tsv_close(&t);
    if (r < 0)
        return r;
    l->have_frames = 1;
    return SW_OK;
}

int sw_labels_load(const char *path, sw_labels **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    sw_labels *l = calloc(1, sizeof *l);
    if (!l || !(l->path = xstrdup(path))) {
        free(l);
        sw_errf(err, errlen, "%s: out of memory", path);
        return SW_ENOMEM;
    }
    sw__strtab_init(&l->rules, LB_MAX_RULES);
    int r = load_labels_file(l, path, err, errlen);
    if (r == SW_OK) {
        static const char sfx[] = ".labels.tsv";
        size_t n = strlen(path), sl = sizeof sfx - 1;
        if (n > sl && strcmp(path + n - sl, sfx) == 0) {
            char *fp = malloc(n + 16);
            if (!fp) {
                r = SW_ENOMEM;
                sw_errf(err, errlen, "%s: out of memory", path);
            } else {
                memcpy(fp, path, n - sl);
                strcpy(fp + n - sl, ".frames.tsv");
                FILE *probe = fopen(fp, "r");
                if (probe) {
                    fclose(probe);
                    r = load_frames_file(l, fp, err, errlen);
                }
                free(fp);
            }
        }
    }
    if (r != SW_OK) {
        sw_labels_free(l);
        return r;
    }
    *out = l;
    return SW_OK;
}

/* ---- attribution --------------------------------------------------------------------- */

static int ep_match(const lb_label *lb, const sw_addr *a)
{
    if (a->family == 0)
        return 0;
    size_t iplen = a->family == 4 ? 4 : 16;
    for (size_t i = 0; i < lb->nsrc; i++) {
        const lb_ep *e = &lb->src[i];
        if (e->a.family == a->family && memcmp(e->a.ip, a->ip, iplen) == 0 &&
            (e->any_port || e->a.port == a->port))
            return 1;
    }
    return 0;
}

/* How well the event's numbers fit the episode's lists. */
static int number_score(const lb_label *lb, const sw_event *ev)
{
    int s = 0;
    if (numset_has(&lb->calling, ev->pai))
        s += 4;
    else if (numset_has(&lb->calling, ev->from))
        s += 2;
    if (numset_has(&lb->called, ev->ruri) || numset_has(&lb->called, ev->to))
        s += 1;
    return s;
}

static int attribute(const sw_labels *l, const sw_event *ev)
{
    if (l->have_frames && ev->frame > 0) {
        if (ev->frame > l->nframes)
            return -1;
        return l->frame_label[ev->frame - 1];
    }
    int best = -1, best_score = -1;
    for (size_t i = 0; i < l->n; i++) {
        const lb_label *lb = &l->v[i];
        if (!ep_match(lb, &ev->src) && !ep_match(lb, &ev->dst))
            continue;
        if (ev->frame > 0) {
            if (ev->frame < lb->ff || ev->frame > lb->lf)
                continue;
        } else if (ev->ts_ns != 0 && lb->ft != 0 && lb->lt != 0) {
            if (ev->ts_ns < lb->ft - LB_TIME_SLACK_NS || ev->ts_ns > lb->lt + LB_TIME_SLACK_NS)
                continue;
        }
        int score = number_score(lb, ev) * 2 + (lb->expected >= 0 && lb->expected == (int)ev->type);
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

static void note_other(lb_label *lb, const sw_event *ev, const char *rule)
{
    for (size_t i = 0; i < lb->nother; i++) {
        if (lb->other[i].rule == rule && lb->other[i].type == (int)ev->type) {
            lb->other[i].n++;
            return;
        }
    }
    if (lb->nother >= LB_MAX_OTHER) {
        lb->other_more++;
        return;
    }
    lb_other *nv = realloc(lb->other, (lb->nother + 1) * sizeof *nv);
    if (!nv) {
        lb->other_more++;
        return;
    }
    lb->other = nv;
    lb->other[lb->nother++] = (lb_other){rule, (int)ev->type, 1, ev->frame};
}

static void note_fp(sw_labels *l, size_t li, const sw_event *ev, const char *rule)
{
    l->fp_total++;
    if (l->nfp >= LB_MAX_FP) {
        l->fp_more++;
        return;
    }
    if (l->nfp == l->capfp) {
        size_t nc = l->capfp ? l->capfp * 2 : 32;
        lb_fp *nv = realloc(l->fp, nc * sizeof *nv);
        if (!nv) {
            l->fp_more++;
            return;
        }
        l->fp = nv;
        l->capfp = nc;
    }
    char buf[4 * 3 * LB_REASON_MAX + 8];
    size_t n = sw__clean_text(ev->reason, LB_REASON_MAX, buf, sizeof buf);
    char *reason = malloc(n + 1);
    if (reason)
        memcpy(reason, buf, n + 1);
    l->fp[l->nfp++] = (lb_fp){(uint32_t)li, (int)ev->type, ev->frame, ev->ts_ns, rule, reason};
}

static size_t unattr_hash(const sw_addr *a, const char *rule)
{
    uint64_t h = 1469598103934665603ull ^ a->family ^ ((uint64_t)a->port << 8);
    for (size_t i = 0; i < 16; i++) {
        h ^= a->ip[i];
        h *= 1099511628211ull;
    }
    h ^= (uint64_t)(uintptr_t)rule;
    h *= 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static int unattr_same(const lb_unattr *u, const sw_addr *a, const char *rule)
{
    return u->rule == rule && u->src.family == a->family && sw_addr_eq(&u->src, a);
}

static int unidx_grow(sw_labels *l)
{
    size_t nc = l->unidx_cap ? l->unidx_cap * 2 : 64;
    uint32_t *nv = calloc(nc, sizeof *nv);
    if (!nv)
        return SW_ENOMEM;
    for (size_t i = 0; i < l->nun; i++) {
        size_t j = unattr_hash(&l->un[i].src, l->un[i].rule) & (nc - 1);
        while (nv[j])
            j = (j + 1) & (nc - 1);
        nv[j] = (uint32_t)(i + 1);
    }
    free(l->unidx);
    l->unidx = nv;
    l->unidx_cap = nc;
    return SW_OK;
}

static void note_unattributed(sw_labels *l, const sw_event *ev, const char *rule)
{
    sw_addr a = ev->src;
    if (a.family != 4 && a.family != 6)
        memset(&a, 0, sizeof a);
    else if (a.family == 4)
        memset(a.ip + 4, 0, 12);
    a.pad_ = 0;
    l->un_total++;
    if (l->unidx_cap) {
        size_t j = unattr_hash(&a, rule) & (l->unidx_cap - 1);
        while (l->unidx[j]) {
            lb_unattr *u = &l->un[l->unidx[j] - 1];
            if (unattr_same(u, &a, rule)) {
                u->n++;
                return;
            }
            j = (j + 1) & (l->unidx_cap - 1);
        }
    }
    if (l->nun >= LB_MAX_UNATTR) {
        l->un_other++;
        return;
    }
    if ((l->nun + 1) * 2 > l->unidx_cap && unidx_grow(l) != SW_OK) {
        l->un_other++;
        return;
    }
    if (l->nun == l->capun) {
        size_t nc = l->capun ? l->capun * 2 : 16;
        lb_unattr *nv = realloc(l->un, nc * sizeof *nv);
        if (!nv) {
            l->un_other++;
            return;
        }
        l->un = nv;
        l->capun = nc;
    }
    lb_unattr *u = &l->un[l->nun];
    memset(u, 0, sizeof *u);
    u->src = a;
    u->rule = rule;
    u->n = 1;
    size_t j = unattr_hash(&a, rule) & (l->unidx_cap - 1);
    while (l->unidx[j])
        j = (j + 1) & (l->unidx_cap - 1);
    l->unidx[j] = (uint32_t)(++l->nun);
}

static void labels_account(sw_labels *l, const sw_event *ev)
{
    l->events++;
    const char *r = ev->rule ? ev->rule : "";
    const char *rule = sw__strtab_intern(&l->rules, r, strlen(r));
    if (!rule)
        rule = "(other rules)";
    int li = attribute(l, ev);
    if (li < 0) {
        note_unattributed(l, ev, rule);
        return;
    }
    lb_label *lb = &l->v[li];
    lb->events++;
    if (!lb->attack) {
        note_fp(l, (size_t)li, ev, rule);
        return;
    }
    if (lb->expected < 0 || lb->expected == (int)ev->type) {
        lb->matched++;
        if (!lb->detected || (ev->frame && ev->frame < lb->detect_frame)) {
            lb->detected = 1;
            lb->detect_frame = ev->frame;
            lb->detect_ts = ev->ts_ns;
            lb->detect_rule = rule;
        }
        return;
    }
    note_other(lb, ev, rule);
}

/* ---- the sink --------------------------------------------------------------------------- */

typedef struct labels_sink {
    sw_event_sink base;
    sw_labels *l;
} labels_sink;

static int lsink_emit(sw_event_sink *s, const sw_event *ev)
{
    labels_account(((labels_sink *)s)->l, ev);
    return SW_OK;
}

static int lsink_flush(sw_event_sink *s)
{
    (void)s;
    return SW_OK;
}

static int lsink_close(sw_event_sink *s)
{
    free(s);
    return SW_OK;
}

static const sw_event_sink_ops labels_ops = {
    .name = "labels",
    .emit = lsink_emit,
    .flush = lsink_flush,
    .close = lsink_close,
};

sw_event_sink *sw_labels_sink(sw_labels *l)
{
    labels_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base.ops = &labels_ops;
    s->l = l;
    return &s->base;
}

/* ---- the report ------------------------------------------------------------------------- */

static const char *type_name(int t)
{
    const char *n = t >= 0 ? sw_event_type_name((sw_event_type)t) : NULL;
    return n ? n : "-";
}

typedef struct kind_row {
    const char *kind;
    int attack;
    unsigned episodes, detected, missed;
    uint64_t events, fp;
} kind_row;

static int cmp_unattr(const void *a, const void *b)
{
    const lb_unattr *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return 0;
}

void sw_labels_report(const sw_labels *l, FILE *out, sw_labels_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    kind_row *rows = calloc(l->n ? l->n : 1, sizeof *rows);
    size_t nrows = 0;
    for (size_t i = 0; i < l->n; i++) {
        const lb_label *lb = &l->v[i];
        size_t k;
        for (k = 0; rows && k < nrows; k++)
            if (strcmp(rows[k].kind, lb->kind) == 0)
                break;
        if (rows && k == nrows) {
            rows[nrows].kind = lb->kind;
            rows[nrows].attack = lb->attack;
            nrows++;
        }
        if (rows) {
            rows[k].episodes++;
            rows[k].events += lb->events;
        }
        if (lb->attack) {
            sum->attacks++;
            if (lb->detected)
                sum->detected++;
            else
                sum->missed++;
            if (rows) {
                rows[k].detected += lb->detected != 0;
                rows[k].missed += lb->detected == 0;
            }
        } else {
            sum->false_positives += (unsigned)lb->events;
            if (rows)
                rows[k].fp += lb->events;
        }
    }
    sum->unattributed = (unsigned)l->un_total;

    fprintf(out, "labels %s: %zu episodes, attribution by %s, %llu events\n", l->path, l->n,
            l->have_frames ? "frames.tsv" : "source/frame range/numbers",
            (unsigned long long)l->events);
    fprintf(out, "%-12s %8s %8s %8s %8s %8s\n", "kind", "episodes", "detected", "missed",
            "events", "false_pos");
    for (size_t k = 0; rows && k < nrows; k++) {
        const kind_row *r = &rows[k];
        if (r->attack)
            fprintf(out, "%-12s %8u %8u %8u %8llu %8s\n", r->kind, r->episodes, r->detected,
                    r->missed, (unsigned long long)r->events, "-");
        else
            fprintf(out, "%-12s %8u %8s %8s %8llu %8llu\n", r->kind, r->episodes, "-", "-",
                    (unsigned long long)r->events, (unsigned long long)r->fp);
    }
    free(rows);

    for (size_t i = 0; i < l->n; i++) {
        const lb_label *lb = &l->v[i];
        if (lb->attack) {
            fprintf(out, "episode %s kind=%s expect=%s events=%llu matched=%llu", lb->name,
                    lb->kind, lb->expected >= 0 ? type_name(lb->expected) : "any",
                    (unsigned long long)lb->events, (unsigned long long)lb->matched);
            if (lb->detected)
                fprintf(out, " first_frame=%llu rule=%s DETECTED\n",
                        (unsigned long long)lb->detect_frame, lb->detect_rule);
            else
                fprintf(out, " MISSED\n");
            for (size_t j = 0; j < lb->nother; j++)
                fprintf(out, "other %s rule=%s type=%s events=%llu first_frame=%llu\n", lb->name,
                        lb->other[j].rule, type_name(lb->other[j].type),
                        (unsigned long long)lb->other[j].n,
                        (unsigned long long)lb->other[j].first_frame);
            if (lb->other_more)
                fprintf(out, "other %s (%llu more events of further rules)\n", lb->name,
                        (unsigned long long)lb->other_more);
        } else {
            fprintf(out, "episode %s kind=%s events=%llu %s\n", lb->name, lb->kind,
                    (unsigned long long)lb->events, lb->events ? "FALSE-POSITIVES" : "clean");
        }
    }
    for (size_t i = 0; i < l->nfp; i++) {
        const lb_fp *f = &l->fp[i];
        fprintf(out, "fp %s frame=%llu rule=%s type=%s reason=\"%s\"\n", l->v[f->label].name,
                (unsigned long long)f->frame, f->rule, type_name(f->type),
                f->reason ? f->reason : "");
    }
    if (l->fp_more)
        fprintf(out, "fp (%llu more not listed)\n", (unsigned long long)l->fp_more);
    if (l->nun) {
        lb_unattr *un = malloc(l->nun * sizeof *un);
        const lb_unattr *list = l->un;
        if (un) {
            memcpy(un, l->un, l->nun * sizeof *un);
            qsort(un, l->nun, sizeof *un, cmp_unattr);
            list = un;
        }
        for (size_t i = 0; i < l->nun; i++) {
            char a[SW_ADDR_STRLEN];
            if (list[i].src.family == 0 || sw_addr_format(&list[i].src, a, sizeof a) < 0)
                snprintf(a, sizeof a, "-");
            fprintf(out, "unattributed src=%s rule=%s events=%llu\n", a, list[i].rule,
                    (unsigned long long)list[i].n);
        }
        free(un);
    }
    if (l->un_other)
        fprintf(out, "unattributed src=(other) events=%llu\n", (unsigned long long)l->un_other);
    fprintf(out,
            "summary attacks=%u detected=%u missed=%u false_positives=%u unattributed=%u\n",
            sum->attacks, sum->detected, sum->missed, sum->false_positives, sum->unattributed);
}
