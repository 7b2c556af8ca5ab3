/* The merged policy written back in the policy language (sw_policy_dump).
 *
 * The text is made from the builder (build.h): what the parser recorded
 * after later files replaced earlier definitions, with values as written.
 * It is one file that compiles to the same policy: definitions keep their
 * order (peer and rule indexes are positions), every setting the builder
 * holds is written (detector parameters and limits only where they differ
 * from the defaults), list files and the location feed are named by
 * absolute path, conditions are written fully parenthesised.  Reading the
 * dump and dumping again gives the same text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/build.h"

#define WRAP_COL 96 /* long value lists and conditions continue on the next line */

typedef struct dw {
    char *buf;
    size_t len, cap;
    size_t col; /* bytes since the last newline */
    int oom;
} dw;

static void put_n(dw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->oom = 1;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
    const char *nl = memchr(s, '\n', n);
    if (!nl) {
        w->col += n;
    } else {
        const char *last = nl;
        while ((nl = memchr(last + 1, '\n', (size_t)(s + n - last - 1))) != NULL)
            last = nl;
        w->col = (size_t)(s + n - last - 1);
    }
}

static void put(dw *w, const char *s)
{
    put_n(w, s, strlen(s));
}

static void putf(dw *w, const char *fmt, ...) SW_PRINTF(2, 3);
static void putf(dw *w, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        w->oom = 1; /* only short, fixed texts go through here */
        return;
    }
    put_n(w, tmp, (size_t)n);
}

static int word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("+-._:/*@%", c) != NULL);
}

/* A string token that reads back as s: '"' and a backslash before '"', '\'
 * or the end are escaped; other backslashes stay (regular expressions). */
static void put_quoted(dw *w, const char *s)
{
    put(w, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            put(w, "\\\"");
        else if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '\0'))
            put(w, "\\\\");
        else
            put_n(w, p, 1);
    }
    put(w, "\"");
}

/* A value: bare when it lexes as one word, else quoted. */
static void put_value(dw *w, const char *s)
{
    int bare = s[0] != '\0';
    for (const char *p = s; *p && bare; p++)
        bare = word_char((unsigned char)*p);
    if (bare)
        put(w, s);
    else
        put_quoted(w, s);
}

/* Starts the next element of a list: ", " and, past WRAP_COL, a new line
 * (a line ending with ',' continues; inside { } a newline is a separator). */
static void next_elem(dw *w, int first, const char *indent)
{
    if (first)
        return;
    if (w->col > WRAP_COL) {
        put(w, ",\n");
        put(w, indent);
    } else {
        put(w, ", ");
    }
}

static void put_items(dw *w, const pl_items *it, const char *indent)
{
    for (uint32_t i = 0; i < it->n; i++) {
        next_elem(w, i == 0, indent);
        put_value(w, it->v[i].text);
    }
}

static void setting_items(dw *w, const char *key, const pl_items *it)
{
    if (!it->n)
        return;
    putf(w, "    %s ", key);
    put_items(w, it, "        ");
    put(w, "\n");
}

static void put_headers(dw *w, const sw_hdr_mask *m, char *const *names, uint32_t nnames,
                        const char *indent)
{
    int first = 1;
    for (unsigned id = 1; id < SW_HDR__COUNT; id++)
        if (sw_hdr_mask_has(m, id)) {
            next_elem(w, first, indent);
            put_value(w, sw_hdr_name((sw_hdr_id)id));
            first = 0;
        }
    for (uint32_t i = 0; i < nnames; i++) {
        next_elem(w, first, indent);
        put_value(w, names[i]);
        first = 0;
    }
}

static int headers_any(const sw_hdr_mask *m, uint32_t nnames)
{
    return m->bits[0] || m->bits[1] || nnames;
}

static void setting_headers(dw *w, const char *key, const sw_hdr_mask *m, char *const *names,
                            uint32_t nnames)
{
    if (!headers_any(m, nnames))
        return;
    putf(w, "    %s ", key);
    put_headers(w, m, names, nnames, "        ");
    put(w, "\n");
}

static void setting_methods(dw *w, uint32_t mask)
{
    put(w, "    methods");
    for (unsigned m = 0; m < SW_METHOD__COUNT; m++)
        if (mask & (1u << m))
            putf(w, " %s", sw_method_name((sw_method)m));
    put(w, "\n");
}

/* The duration in the largest unit that states it exactly. */
static void put_duration(dw *w, int64_t ns)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {{"d", 86400 * SW_NS_S}, {"h", 3600 * SW_NS_S}, {"m", 60 * SW_NS_S},
                 {"s", SW_NS_S},         {"ms", SW_NS_S / 1000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ns % units[i].ns == 0 || i + 1 == sizeof units / sizeof units[0]) {
            putf(w, "%lld%s", (long long)(ns / units[i].ns), units[i].unit);
            return;
        }
}

/* An absolute form of a path the parser joined (policy dir + name as
 * written), so the dump reads the same file from anywhere. */
static void put_path(dw *w, const char *path)
{
    char *real = realpath(path, NULL);
    if (real) {
        put_quoted(w, real);
        free(real);
        return;
    }
    if (path[0] == '/') {
        put_quoted(w, path);
        return;
    }
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) {
        put_quoted(w, path);
        return;
    }
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *abs = malloc(n);
    if (!abs) {
        w->oom = 1;
        return;
    }
    snprintf(abs, n, "%s/%s", cwd, path);
    put_quoted(w, abs);
    free(abs);
}

/* ---- sections ---------------------------------------------------------------------- */
static void dump_home(dw *w, const pl_home *h)
{
    put(w, "home {\n");
    if (h->plmn[0])
        putf(w, "    plmn %s\n", h->plmn);
    if (h->cc[0])
        putf(w, "    country-code %s\n", h->cc);
    if (h->np)
        putf(w, "    national-prefix %c\n", h->np);
    setting_items(w, "ranges", &h->ranges);
    setting_items(w, "domains", &h->domains);
    put(w, "}\n\n");
}

static void dump_role(dw *w, sw_peer_role r, const pl_role *ro)
{
    putf(w, "role %s {\n", sw_peer_role_name(r));
    if (ro->has_methods)
        setting_methods(w, ro->methods);
    if (ro->has_trust)
        putf(w, "    trust %s\n", ro->trusted ? "trusted" : "untrusted");
    put(w, "}\n\n");
}

static void dump_peer(dw *w, const pl_peer *p)
{
    put(w, p->is_zone ? "zone " : "partner ");
    put_value(w, p->name);
    put(w, " {\n");
    if (p->is_zone) {
        if (p->admit == SW_ADMIT_DROP)
            put(w, "    admit drop\n");
        if (p->admit_monitor)
            put(w, "    mode monitor\n");
    } else {
        putf(w, "    role %s\n", sw_peer_role_name(p->role));
    }
    if (p->has_trust)
        putf(w, "    trust %s\n", p->trusted ? "trusted" : "untrusted");
    setting_items(w, "address", &p->addresses);
    if (!p->is_zone) {
        setting_items(w, "tls-identity", &p->tls_ids);
        setting_items(w, "ranges", &p->ranges);
        setting_items(w, "domains", &p->domains);
        setting_items(w, "realms", &p->realms);
        if (p->plmn[0])
            putf(w, "    plmn %s\n", p->plmn);
        if (p->cps)
            putf(w, "    cps %u\n", p->cps);
        if (p->concurrency)
            putf(w, "    concurrency %u\n", p->concurrency);
        if (p->night_calls)
            put(w, "    night-calls yes\n");
        if (p->has_methods)
            setting_methods(w, p->methods);
        setting_headers(w, "agreed", &p->agreed, p->agreed_names, p->nagreed_names);
        setting_items(w, "register", &p->registers);
    }
    put(w, "}\n\n");
}

static const char *const list_kind_names[] = {"numbers", "addresses", "strings", "patterns"};

static void dump_list(dw *w, const pl_build *b, const pl_list *l)
{
    put(w, "list ");
    put_value(w, l->name);
    putf(w, " %s ", list_kind_names[l->kind]);
    /* entries read from a list file carry that file's index (and maybe labels) */
    if (l->entries.n && l->entries.v[0].loc.file != l->loc.file &&
        l->entries.v[0].loc.file < b->nfiles) {
        put(w, "file ");
        put_path(w, b->files[l->entries.v[0].loc.file]);
        put(w, "\n\n");
        return;
    }
    put(w, "{ ");
    put_items(w, &l->entries, "    ");
    put(w, l->entries.n ? " }\n\n" : "}\n\n");
}

static void dump_privacy(dw *w, const sw_privacy *p)
{
    put(w, "privacy {\n");
    setting_headers(w, "egress-strip", &p->egress_strip, p->egress_strip_names,
                    p->negress_strip_names);
    setting_headers(w, "ingress-strip", &p->ingress_strip, p->ingress_strip_names,
                    p->ningress_strip_names);
    setting_headers(w, "sanitize", &p->sanitize, p->sanitize_names, p->nsanitize_names);
    if (p->ingress_reject)
        put(w, "    ingress-action reject\n");
    if (p->monitor)
        put(w, "    mode monitor\n");
    put(w, "}\n\n");
}

static void dump_limits(dw *w, const sw_engine_limits *l)
{
    sw_engine_limits d;
    sw__policy_limits_defaults(&d);
    put(w, "limits {\n");
    if (l->sources != d.sources)
        putf(w, "    sources %u\n", l->sources);
    if (l->numbers != d.numbers)
        putf(w, "    numbers %u\n", l->numbers);
    if (l->dialogs != d.dialogs)
        putf(w, "    dialogs %u\n", l->dialogs);
    if (l->blocks != d.blocks)
        putf(w, "    blocks %u\n", l->blocks);
    if (l->event_keys != d.event_keys)
        putf(w, "    event-keys %u\n", l->event_keys);
    if (l->events_per_key != d.events_per_key)
        putf(w, "    events-per-key %u\n", l->events_per_key);
    if (l->event_window_ns != d.event_window_ns) {
        put(w, "    event-window ");
        put_duration(w, l->event_window_ns);
        put(w, "\n");
    }
    put(w, "}\n\n");
}

static void put_action(dw *w, const sw_rule_action *a)
{
    switch (a->action) {
    case SW_ACTION_ALLOW: put(w, "allow"); break;
    case SW_ACTION_TAG: put(w, "tag"); break;
    case SW_ACTION_REJECT:
        putf(w, "reject %u", a->status);
        if (a->retry_after_s)
            putf(w, " retry-after %u", a->retry_after_s);
        break;
    case SW_ACTION_RATE_LIMIT: putf(w, "rate-limit %u/s burst %u", a->rate, a->burst); break;
    case SW_ACTION_STRIP:
        put(w, "strip ");
        put_headers(w, &a->strip, a->strip_names, a->nstrip_names, "        ");
        break;
    case SW_ACTION_DROP:
    default: put(w, "drop"); break;
    }
}

static void dump_detector(dw *w, const pl_build *b, sw_detector_id id)
{
    const pl_detector *pd = &b->detectors[id];
    const sw_detector_conf *c = &pd->conf;
    sw_detector_conf d;
    sw__policy_detector_defaults(&d, id);
    putf(w, "detector %s {\n", sw_detector_name(id));
    if (!c->enabled)
        put(w, "    off\n");
    if (c->monitor)
        put(w, "    mode monitor\n");
    if (c->exempt_peers != d.exempt_peers)
        putf(w, "    exempt-peers %s\n", c->exempt_peers ? "yes" : "no");
    if (c->confidence != d.confidence)
        putf(w, "    confidence %u\n", c->confidence);
    if (c->action != d.action || c->status || c->retry_after_s) {
        sw_rule_action a;
        memset(&a, 0, sizeof a);
        a.action = c->action;
        a.status = c->status;
        a.retry_after_s = c->retry_after_s;
        put(w, "    action ");
        put_action(w, &a);
        put(w, "\n");
    }
    if (pd->list_name) {
        put(w, "    list ");
        put(w, pd->list_name);
        put(w, "\n");
    }
    unsigned n;
    const sw_detector_param_spec *spec = sw_detector_params(&n);
    for (unsigned i = 0; i < n; i++) {
        if (spec[i].detector != id || spec[i].param >= SW_DP__COUNT)
            continue;
        int64_t v = c->params[spec[i].param];
        if (v == spec[i].def)
            continue;
        putf(w, "    %s ", spec[i].name);
        switch ((sw_param_kind)spec[i].kind) {
        case SW_PK_DURATION: put_duration(w, v); break;
        case SW_PK_PERCENT: putf(w, "%lld%%", (long long)v); break;
        case SW_PK_HOURS: putf(w, "%02lld-%02lld", (long long)(v / 100), (long long)(v % 100)); break;
        case SW_PK_DAYS:
            if (v >= 100 && (v - 100) / 10 < 7 && v % 10 < 7)
                putf(w, "%s-%s", sw_weekday_names[(v - 100) / 10], sw_weekday_names[v % 10]);
            else
                put(w, "none");
            break;
        case SW_PK_OFFSET:
            putf(w, "%c%02lld:%02lld", v < 0 ? '-' : '+', (long long)(llabs(v) / 60),
                 (long long)(llabs(v) % 60));
            break;
        case SW_PK_COUNT:
        case SW_PK_DIGITS:
        default: putf(w, "%lld", (long long)v); break;
        }
        put(w, "\n");
    }
    put(w, "}\n\n");
}

static const char *const cmp_ops[] = {"==", "!=", "<", "<=", ">", ">="};

static const char *set_ref_name(unsigned set)
{
    switch ((sw_set_ref)set) {
    case SW_SET_PEER_RANGES: return "peer.ranges";
    case SW_SET_PEER_DOMAINS: return "peer.domains";
    case SW_SET_PEER_REALMS: return "peer.realms";
    case SW_SET_PEER_METHODS: return "peer.methods";
    case SW_SET_DST_RANGES: return "dst.ranges";
    case SW_SET_DST_DOMAINS: return "dst.domains";
    case SW_SET_HOME_RANGES: return "home.ranges";
    case SW_SET_HOME_DOMAINS: return "home.domains";
    case SW_SET_LIST:
    default: return NULL;
    }
}

static void put_field(dw *w, const pl_expr *e)
{
    if (e->field == SW_F_HEADER) {
        put(w, "header.");
        put(w, e->hdr_name ? e->hdr_name : "");
    } else {
        put(w, sw_field_name((sw_field)e->field));
    }
}

static void put_expr(dw *w, const pl_build *b, int32_t ei, int paren);

/* field [not] in … / field [not] matches …: the node after its field. */
static void put_test(dw *w, const pl_build *b, const pl_expr *e, int negate)
{
    (void)b;
    switch ((pl_xop)e->op) {
    case PX_IN:
        put(w, negate ? " not in " : " in ");
        if (e->inline_set) {
            put(w, "{ ");
            put_items(w, &e->items, "        ");
            put(w, e->items.n ? " }" : "}");
        } else if (e->set != SW_SET_LIST) {
            put(w, set_ref_name(e->set));
        } else {
            put(w, "list ");
            put(w, e->str ? e->str : "");
        }
        break;
    case PX_MATCH_RE:
        put(w, negate ? " not matches " : " matches ");
        put_quoted(w, e->str ? e->str : "");
        break;
    case PX_MATCH_LIST:
        put(w, negate ? " not matches list " : " matches list ");
        put(w, e->str ? e->str : "");
        break;
    default: w->oom = 1; break;
    }
}

/* A binary node's child: in parentheses unless it is the same operator on
 * the left (and/or group to the left) or not binary at all, so the text
 * reads back as the same tree. */
static void put_child(dw *w, const pl_build *b, const pl_expr *parent, int32_t ci, int left)
{
    int paren = 1;
    if (ci >= 0 && (uint32_t)ci < b->nexprs) {
        const pl_expr *c = &b->exprs[ci];
        int binary = c->op == PX_AND || c->op == PX_OR;
        paren = binary && !(left && c->op == parent->op);
    }
    put_expr(w, b, ci, paren);
}

static void put_expr(dw *w, const pl_build *b, int32_t ei, int paren)
{
    if (ei < 0 || (uint32_t)ei >= b->nexprs) {
        w->oom = 1;
        return;
    }
    const pl_expr *e = &b->exprs[ei];
    switch ((pl_xop)e->op) {
    case PX_AND:
    case PX_OR:
        if (paren)
            put(w, "(");
        put_child(w, b, e, e->a, 1);
        put(w, e->op == PX_AND ? " and" : " or");
        if (w->col > WRAP_COL)
            put(w, "\n       "); /* a line ending with and/or continues */
        put(w, " ");
        put_child(w, b, e, e->b, 0);
        if (paren)
            put(w, ")");
        break;
    case PX_NOT: {
        const pl_expr *c = e->a >= 0 && (uint32_t)e->a < b->nexprs ? &b->exprs[e->a] : NULL;
        if (c && (c->op == PX_IN || c->op == PX_MATCH_RE || c->op == PX_MATCH_LIST)) {
            put_field(w, c);
            put_test(w, b, c, 1);
            break;
        }
        put(w, "not ");
        put_expr(w, b, e->a, c && (c->op == PX_AND || c->op == PX_OR));
        break;
    }
    case PX_IS: put_field(w, e); break;
    case PX_CMP: {
        put_field(w, e);
        putf(w, " %s ", e->cmp < 6 ? cmp_ops[e->cmp] : "==");
        sw_field_type ft =
            e->field == SW_F_HEADER ? SW_FT_STR : sw_field_type_of((sw_field)e->field);
        if (ft == SW_FT_NUM)
            putf(w, "%lld", (long long)e->num);
        else if (ft == SW_FT_BOOL)
            put(w, e->num ? "true" : "false");
        else
            put_quoted(w, e->str ? e->str : "");
        break;
    }
    case PX_IN:
    case PX_MATCH_RE:
    case PX_MATCH_LIST:
        put_field(w, e);
        put_test(w, b, e, 0);
        break;
    case PX_CONTAINS:
        put_field(w, e);
        put(w, " contains ");
        put_quoted(w, e->str ? e->str : "");
        break;
    case PX_HAS:
        put(w, "has ");
        put_value(w, e->hdr_name ? e->hdr_name : "");
        break;
    default: w->oom = 1; break;
    }
}

static void dump_rule(dw *w, const pl_build *b, const pl_rule *r)
{
    putf(w, "rule %s {\n", r->id);
    putf(w, "    category %s\n", sw_category_name(r->category));
    putf(w, "    event %s\n", sw_event_type_name(r->event));
    if (r->monitor)
        put(w, "    mode monitor\n");
    if (r->confidence != 100)
        putf(w, "    confidence %u\n", r->confidence);
    if (!r->events_each)
        put(w, "    events summary\n");
    if (r->reason) {
        put(w, "    reason ");
        put_quoted(w, r->reason);
        put(w, "\n");
    }
    put(w, "    when ");
    put_expr(w, b, r->expr, 0);
    put(w, "\n    action ");
    put_action(w, &r->act);
    put(w, "\n");
    if (r->act.block_ns) {
        put(w, "    block ");
        put_duration(w, r->act.block_ns);
        put(w, "\n");
    }
    put(w, "}\n\n");
}

static void dump_build(dw *w, const pl_build *b)
{
    put(w, "# the merged policy, written by sipwall policy dump\n\n");
    if (b->name) {
        put(w, "policy ");
        put_quoted(w, b->name);
        if (b->version) {
            put(w, " version ");
            put_quoted(w, b->version);
        }
        put(w, "\n\n");
    }
    if (b->mode_present && b->monitor)
        put(w, "mode monitor   # policy-wide: every rule, detector, zone and block\n\n");
    if (b->location_feed) {
        put(w, "location-feed ");
        put_path(w, b->location_feed);
        put(w, "\n\n");
    }
    if (b->home.present)
        dump_home(w, &b->home);
    for (int r = 1; r < SW_ROLE__COUNT; r++)
        if (b->roles[r].present)
            dump_role(w, (sw_peer_role)r, &b->roles[r]);
    if (b->privacy.present)
        dump_privacy(w, &b->privacy.p);
    if (b->limits.present)
        dump_limits(w, &b->limits.l);
    for (uint32_t i = 0; i < b->nlists; i++)
        dump_list(w, b, b->lists[i]);
    for (uint32_t i = 0; i < b->npeers; i++)
        dump_peer(w, b->peers[i]);
    for (int d = 0; d < SW_DET__COUNT; d++)
        if (b->detectors[d].present)
            dump_detector(w, b, (sw_detector_id)d);
    for (uint32_t i = 0; i < b->nrules; i++)
        dump_rule(w, b, b->rules[i]);
}

int sw_policy_dump(const char *const *paths, size_t n, char **text, size_t *len,
                   sw_policy_diags *diags)
{
    memset(diags, 0, sizeof *diags);
    *text = NULL;
    if (len)
        *len = 0;
    if (n == 0) {
        sw__diag_add(diags, 0, "", 0, 0, "no policy files given");
        return SW_EINVAL;
    }
    pl_build b;
    pl_build_init(&b, diags);
    for (size_t i = 0; i < n && !b.oom; i++)
        pl_parse_file(&b, paths[i]);
    pl_lint(&b);
    int rc = SW_OK;
    dw w = {0};
    if (b.oom)
        rc = SW_ENOMEM;
    else if (diags->errors)
        rc = b.io_error ? SW_EIO : SW_EINVAL;
    if (rc == SW_OK) {
        /* written before compiling: the compiler takes some names over */
        dump_build(&w, &b);
        if (w.oom)
            rc = SW_ENOMEM;
    }
    if (rc == SW_OK) {
        /* the text is only good if the policy compiles (references, overlaps …) */
        sw_policy *p = NULL;
        rc = pl_compile(&b, &p);
        if (rc == SW_OK && b.oom)
            rc = SW_ENOMEM;
        if (rc == SW_OK)
            pl_lint_compiled(p, diags);
        sw_policy_free(p);
    }
    pl_build_free(&b);
    if (rc != SW_OK) {
        free(w.buf);
        return rc;
    }
    *text = w.buf;
    if (len)
        *len = w.len;
    return SW_OK;
}
